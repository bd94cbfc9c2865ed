//go:build !linux

package clockstate

import (
	"errors"
	"time"
)

// adjtimexMaxError has no kernel to ask outside Linux.
func adjtimexMaxError() (time.Duration, error) { return 0, errors.ErrUnsupported }
