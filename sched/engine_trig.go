package sched

import (
	"math/rand/v2"
	"time"
)

// triggerLocation is the zone spec's times are in: its own, or def.
func triggerLocation(spec TriggerSpec, def *time.Location) (*time.Location, error) {
	if spec.Timezone == "" {
		return spec.Location(def)
	}
	if loc, err := LoadLocation(spec.Timezone); err == nil {
		return loc, nil
	}
	return spec.Location(def) // for its error
}

// triggerJitter is the largest random delay added to each fire time.
func triggerJitter(spec TriggerSpec) time.Duration { return spec.JitterDuration() }

// jitterOffset draws a delay in [0, max).
func jitterOffset(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max)))
}
