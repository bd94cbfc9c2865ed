package clockstate

import (
	"syscall"
	"time"
)

// adjtimexMaxError reads the kernel's maximum clock error; modes 0 only
// reads, which needs no capability.
func adjtimexMaxError() (time.Duration, error) {
	var tx syscall.Timex
	if _, err := syscall.Adjtimex(&tx); err != nil {
		return 0, err
	}
	return time.Duration(tx.Maxerror) * time.Microsecond, nil
}
