package sensors

import "errors"

// Sentinel errors, for errors.Is.
var (
	ErrUnknown = errors.New("sensors: unknown sensor")
	ErrBusy    = errors.New("sensors: busy: the previous read has not returned yet")
	ErrTimeout = errors.New("sensors: read timed out")
	ErrClosed  = errors.New("sensors: registry closed")
)
