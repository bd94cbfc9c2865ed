package actuators

import "errors"

// Sentinel errors, for errors.Is; the *sched.Error values returned wrap
// them.
var (
	ErrUnknown = errors.New("actuators: unknown actuator")
	ErrUnsafe  = errors.New("actuators: refused by the safety profile")
	ErrHalted  = errors.New("actuators: halted")
)
