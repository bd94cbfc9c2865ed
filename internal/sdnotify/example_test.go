package sdnotify_test

import (
	"log/slog"
	"time"

	"github.com/edgecron/edgecron/internal/sdnotify"
	"github.com/edgecron/edgecron/sched"
)

// How `edgecron run` uses the notifier: the scheduler's liveness hook feeds the
// watchdog, READY=1 follows restore and boot states, STOPPING=1 precedes the
// shutdown states. Outside systemd every call is a no-op.
func Example() {
	n, err := sdnotify.FromEnv()
	if err != nil {
		slog.Warn("systemd watchdog settings ignored", "err", err)
	}
	opts := sched.Options{Liveness: n.Alive}
	if wd := n.WatchdogInterval(); wd > 0 {
		// Alive reaches systemd within interval/4 + MaxWait.
		opts.MaxWait = min(time.Minute, wd/2)
	}
	_ = opts // sched.New(store, opts), Load, outputs to boot state, Start...

	_ = n.Ready("12 jobs, clock unsynced")
	// ... until SIGTERM:
	_ = n.Stopping("outputs to their shutdown state")
}
