//go:build unix

package sched_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// failingStore hands over its jobs, then fails: a store whose file turns
// out unreadable part way through.
type failingStore struct {
	loadStore
	err error
}

func (s failingStore) Load(ctx context.Context, fn func(*sched.Job) error) error {
	if err := s.loadStore.Load(ctx, fn); err != nil {
		return err
	}
	return s.err
}

// TestLoadFailingPartWayChangesNothing: the store hands its jobs over one
// by one, so a Load can fail after some of them; the scheduler then holds
// none of them, and a later Load takes them all.
func TestLoadFailingPartWayChangesNothing(t *testing.T) {
	next := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	jobs, err := schedtest.StartupJobs(3, next, true)
	if err != nil {
		t.Fatal(err)
	}
	broken := errors.New("page 7 unreadable")
	st := &failingStore{loadStore: loadStore{jobs: jobs}, err: broken}
	s := sched.New(st, sched.Options{Clock: schedtest.NewFakeClock(next.Add(-time.Hour)), Location: time.UTC, Logger: quiet})
	if err := s.Handle("actuate", sched.HandlerFunc{RunFunc: noop}, sched.HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(context.Background()); !errors.Is(err, broken) {
		t.Fatalf("Load = %v, want %v", err, broken)
	}
	if n, got := s.Len(), s.List(); n != 0 || len(got) != 0 {
		t.Fatalf("after a failed Load: Len %d, List %d jobs; want none", n, len(got))
	}
	st.err = nil
	if err := s.Load(context.Background()); err != nil {
		t.Fatalf("Load again: %v", err)
	}
	got := s.List()
	if len(got) != len(jobs) {
		t.Fatalf("after Load: %d jobs, want %d", len(got), len(jobs))
	}
	for i := range got {
		if got[i].ID != jobs[i].ID || !got[i].NextRunTime.Equal(*jobs[i].NextRunTime) {
			t.Errorf("job %d: %s next %v, want %s next %v", i, got[i].ID, got[i].NextRunTime, jobs[i].ID, jobs[i].NextRunTime)
		}
	}
}
