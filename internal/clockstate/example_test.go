package clockstate_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/edgecron/edgecron/internal/clockstate"
)

// The agent asks once at start, publishes the state in <root>/info, and
// holds cron and date jobs back until Synced is closed.
func Example() {
	w, err := clockstate.New(clockstate.Options{
		Source: clockstate.SourceAuto,
		// Production leaves Probes nil: DefaultProbes("/").
		Probes: []clockstate.Probe{clockstate.TimesyncdProbe("testdata/timesyncd")},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	go w.Run(ctx) // polls until trusted, then returns
	<-w.Synced()
	fmt.Println(w.State(), "-", w.Reason())
	// Output: synced - ntp synchronized (timesyncd)
}
