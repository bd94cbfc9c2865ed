//go:build unix

package sched_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// loadStore hands Load its jobs, as the bbolt store hands over the jobs
// its Open decoded.
type loadStore struct {
	nopStore
	jobs []sched.Job
}

func (s loadStore) Load(context.Context) ([]sched.Job, error) { return s.jobs, nil }

// BenchmarkLoad10k times the scheduler's own share of an agent's start:
// Load of 10,000 stored jobs (the mix of cmd/agent's BenchmarkStartup10k:
// interval jobs in a zone and date jobs, each pulsing one of eight relays),
// after a clean stop (the actions validated then). The store's decoding
// is not in it: BenchmarkStartup10k times the whole start.
func BenchmarkLoad10k(b *testing.B) {
	const n = 10000
	next := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	jobs := make([]sched.Job, n)
	for i := range jobs {
		act, err := sched.NewAction("actuate", map[string]any{"actuator": fmt.Sprintf("relay-%d", i%8), "command": "pulse", "duration": "30s"})
		if err != nil {
			b.Fatal(err)
		}
		nt := next.Add(time.Duration(i) * time.Second)
		j := sched.Job{ID: fmt.Sprintf("job-%05d", i), Name: fmt.Sprintf("Water bed %d", i), Action: act,
			Coalesce: true, MaxInstances: 1, Version: 1, NextRunTime: &nt, Source: sched.SourceMQTT}
		if i%5 == 0 {
			j.Trigger = sched.TriggerSpec{Type: "date", RunDate: nt.Format(time.RFC3339)}
		} else {
			j.Trigger = sched.TriggerSpec{Type: "interval", Minutes: float64(1 + i%60), StartDate: "2026-01-01T06:00:00+01:00", Timezone: "Europe/Berlin"}
		}
		jobs[i] = j
	}
	clock := schedtest.NewFakeClock(next)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		stored := append([]sched.Job(nil), jobs...) // Load may sort them
		b.StartTimer()
		s := sched.New(loadStore{jobs: stored}, sched.Options{Clock: clock, Location: time.UTC, Logger: quiet, ActionsValidated: true})
		if err := s.Handle("actuate", sched.HandlerFunc{RunFunc: noop}, sched.HandlerOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := s.Load(context.Background()); err != nil {
			b.Fatal(err)
		}
		if s.Len() != n || s.Invalid() != 0 {
			b.Fatalf("%d jobs, %d invalid", s.Len(), s.Invalid())
		}
	}
}
