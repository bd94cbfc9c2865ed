package sched

import (
	"math/rand/v2"
	"time"
)

// triggerLocation is the zone spec's times are in: its own, or def.
func triggerLocation(spec TriggerSpec, def *time.Location) (*time.Location, error) {
	if spec.Timezone == "" {
		return def, nil
	}
	loc, err := cachedLocation(spec.Timezone)
	if err != nil {
		return nil, FieldError("trigger.timezone", "unknown time zone %q", spec.Timezone)
	}
	return loc, nil
}

// triggerJitter is the largest random delay added to each fire time.
func triggerJitter(spec TriggerSpec) time.Duration {
	if spec.Jitter <= 0 {
		return 0
	}
	return time.Duration(spec.Jitter * float64(time.Second))
}

// jitterOffset draws a delay in [0, max].
func jitterOffset(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max) + 1))
}
