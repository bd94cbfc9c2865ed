package sensors

import "errors"

// Sentinel errors, for errors.Is.
var (
	ErrUnknown = errors.New("sensors: unknown sensor")
	ErrTimeout = errors.New("sensors: read timed out")
	ErrClosed  = errors.New("sensors: registry closed")
	// ErrReplaced is a read of a sensor that a Reload closed: being
	// replaced (read again once the reload returned), or left closed
	// because reopening it after a failed reload failed too.
	ErrReplaced = errors.New("sensors: sensor closed by a config reload")
	// ErrNotClosed is returned by a Reload that was applied but could not
	// close a sensor it dropped cleanly (a log line, not a failed reload).
	ErrNotClosed = errors.New("sensors: a replaced sensor did not close cleanly")
)
