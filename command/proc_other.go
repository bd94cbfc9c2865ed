//go:build !linux

package command

import (
	"context"
	"fmt"

	"github.com/edgecron/edgecron/sched"
)

// run refuses: process groups, waitid and the kill sequence of
// proc_linux.go are Linux-specific, and edgecron targets Linux devices.
func (h *Handler) run(ctx context.Context, sp *spec, args, env []string, res sched.Result) (sched.Result, error) {
	return res, fmt.Errorf("command %q: %w", sp.name, ErrUnsupported)
}
