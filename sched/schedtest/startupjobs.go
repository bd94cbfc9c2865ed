package schedtest

import (
	"context"
	"fmt"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// StartupJobs returns n jobs as a busy device holds them, the mix that the
// start-up benchmarks load (cmd/agent's BenchmarkStartup10k, sched's
// BenchmarkLoad10k): interval jobs in a zone and, every fifth, a date job,
// each pulsing one of eight relays for 30 s, or for 1..n s when distinct
// (no two actions alike). Their next runs are a second apart from next.
func StartupJobs(n int, next time.Time, distinct bool) ([]sched.Job, error) {
	jobs := make([]sched.Job, n)
	for i := range jobs {
		d := "30s"
		if distinct {
			d = fmt.Sprintf("%ds", 1+i)
		}
		act, err := sched.NewAction("actuate", map[string]any{"actuator": fmt.Sprintf("relay-%d", i%8), "command": "pulse", "duration": d})
		if err != nil {
			return nil, err
		}
		nt := next.Add(time.Duration(i) * time.Second)
		j := sched.Job{ID: fmt.Sprintf("job-%05d", i), Name: fmt.Sprintf("Water bed %d", i), Action: act,
			Coalesce: true, MaxInstances: 1, Version: 1, NextRunTime: &nt, Source: sched.SourceMQTT}
		if i%5 == 0 {
			j.Trigger = sched.TriggerSpec{Type: "date", RunDate: nt.UTC().Format(time.RFC3339)}
		} else {
			j.Trigger = sched.TriggerSpec{Type: "interval", Minutes: float64(1 + i%60), StartDate: "2026-01-01T06:00:00+01:00", Timezone: "Europe/Berlin"}
		}
		jobs[i] = j
	}
	return jobs, nil
}

// CommitStartupJobs commits StartupJobs(n, next, distinct) to st in one
// commit: the store the start-up benchmarks load.
func CommitStartupJobs(ctx context.Context, st sched.Store, n int, next time.Time, distinct bool) error {
	jobs, err := StartupJobs(n, next, distinct)
	if err != nil {
		return err
	}
	changes := make([]sched.Change, n)
	for i, j := range jobs {
		changes[i] = sched.Change{ID: j.ID, Job: j}
	}
	return st.Commit(ctx, changes)
}
