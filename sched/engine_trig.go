package sched

import (
	"math/rand/v2"
	"time"
)

// triggerJitter is the largest random delay added to each fire time.
func triggerJitter(spec TriggerSpec) time.Duration { return spec.JitterDuration() }

// jitterOffset draws a delay in [0, max).
func jitterOffset(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(max)))
}
