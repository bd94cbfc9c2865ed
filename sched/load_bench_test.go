//go:build unix

package sched_test

import (
	"context"
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

func (s loadStore) Load(_ context.Context, fn func(*sched.Job) error) error {
	for i := range s.jobs {
		if err := fn(&s.jobs[i]); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkLoad10k times the scheduler's own share of an agent's start:
// Load of 10,000 stored jobs (schedtest.StartupJobs, the mix that
// cmd/agent's BenchmarkStartup10k starts the agent on), after a clean stop
// (the actions validated then). The store's decoding
// is not in it: BenchmarkStartup10k times the whole start.
func BenchmarkLoad10k(b *testing.B) {
	const n = 10000
	next := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	jobs, err := schedtest.StartupJobs(n, next, false)
	if err != nil {
		b.Fatal(err)
	}
	clock := schedtest.NewFakeClock(next)
	b.ReportAllocs()
	for b.Loop() {
		s := sched.New(loadStore{jobs: jobs}, sched.Options{Clock: clock, Location: time.UTC, Logger: quiet, ActionsValidated: true})
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
