package sched_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// The loop fires the jobs due in one wake-up one at a time, each in its
// own hold of the scheduler's lock: a run starts while later jobs of the
// same second are still to be fired, and a change made meanwhile is seen
// by the rest of the pass. These tests pin what that may and may not
// change. Run them with -race.

// addDue adds jobs with the given ids, all due 10s from now.
func (h *harness) addDue(ids ...string) {
	h.t.Helper()
	for _, id := range ids {
		h.add(intervalDoc(id, 10, ""), sched.AddOptions{})
	}
	h.settle(10 * time.Second)
}

// onSubmitted calls f, from the listener, when job id's run is submitted.
// The firing loop delivers that event before it fires the next job due.
func (h *harness) onSubmitted(id string, f func()) {
	h.s.Listen(func(ev sched.Event) {
		if ev.Kind == sched.EventSubmitted && ev.JobID == id {
			f()
		}
	})
}

// waitFor polls cond, through the scheduler's API, until it holds.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Errorf("never: %s", what)
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// The first job's run starts before the second job due with it is fired.
func TestCrowdedRunStartsBeforeThePassEnds(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.addDue("a", "b")
	checked := make(chan struct{})
	h.onSubmitted("b", func() {
		defer close(checked)
		// b is being fired; a's run must have started already.
		select {
		case r := <-h.runs:
			if r.Job.ID != "a" {
				t.Errorf("ran %s first", r.Job.ID)
			}
		case <-time.After(guard):
			t.Error("a's run did not start before b was fired")
		}
	})
	h.clock.Advance(10 * time.Second)
	<-checked
	if r := h.run(); r.Job.ID != "b" {
		t.Fatalf("ran %s, want b", r.Job.ID)
	}
}

// A job removed while its second is being fired is not fired after its
// removal; one paused meanwhile neither, and the scheduler paused
// meanwhile fires nothing more until it resumes.
func TestCrowdedChangesDuringThePass(t *testing.T) {
	ctx := context.Background()
	gone := func(h *harness, id string) func() bool {
		return func() bool { _, err := h.s.Get(id); return errors.Is(err, sched.ErrNotFound) }
	}
	paused := func(h *harness, id string) func() bool {
		return func() bool { j, _ := h.s.Get(id); return j.Paused }
	}
	tests := []struct {
		name   string
		change func(h *harness) // called while a's submitted event is delivered
		ran    string           // the runs of the pass
		after  func(h *harness) // then
	}{
		{"remove", func(h *harness) {
			go func() { _, _ = h.s.Remove(ctx, "b", sched.OpOptions{}) }()
			h.waitFor("b removed", gone(h, "b"))
		}, "[a c]", nil},
		{"pause job", func(h *harness) {
			go func() { _, _ = h.s.PauseJob(ctx, "b", sched.OpOptions{}) }()
			h.waitFor("b paused", paused(h, "b"))
		}, "[a c]", nil},
		{"pause scheduler", func(h *harness) { h.s.Pause() }, "[a]", func(h *harness) {
			h.s.Resume()
			if r := h.run(); r.Job.ID != "b" {
				t.Errorf("after resume ran %s, want b", r.Job.ID)
			}
			if r := h.run(); r.Job.ID != "c" {
				t.Errorf("after resume ran %s, want c", r.Job.ID)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, sched.Options{Workers: 1}, sched.HandlerOptions{}).start()
			h.addDue("a", "b", "c")
			h.onSubmitted("a", func() { tc.change(h) })
			h.clock.Advance(10 * time.Second)
			var ran []string
			for range strings.Count(tc.ran, " ") + 1 {
				ran = append(ran, h.run().Job.ID)
			}
			if fmt.Sprint(ran) != tc.ran {
				t.Fatalf("ran %v, want %s", ran, tc.ran)
			}
			if tc.after != nil {
				tc.after(h)
			}
			h.settle(10 * time.Second)
			for _, ev := range h.drain() {
				if ev.JobID == "b" && ev.Kind == sched.EventSubmitted && tc.after == nil {
					t.Errorf("b was submitted after it was changed")
				}
			}
			select {
			case r := <-h.runs:
				t.Fatalf("%s ran too", r.Job.ID)
			default:
			}
		})
	}
}

// A date job's removal, made when the pass takes it out of the queue, is
// of the job as it was then: a change committed before the one-shots'
// removal commit keeps the job (the removal fails its version check).
func TestCrowdedOneShotChangedDuringThePass(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(`{"id":"once","trigger":{"type":"date","run_date":"2026-11-21T09:00:10Z"},"action":{"type":"test"}}`, sched.AddOptions{})
	h.addDue("a")
	h.onSubmitted("a", func() {
		go func() {
			p, err := sched.DecodeJob([]byte(`{"trigger":{"type":"date","run_date":"2026-11-21T10:00:00Z"}}`), sched.ModeChanges)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := h.s.Modify(ctx, "once", p, sched.OpOptions{}); err != nil {
				t.Error(err)
			}
		}()
		h.waitFor("once modified", func() bool { j, _ := h.s.Get("once"); return j.Version == 2 })
	})
	h.clock.Advance(10 * time.Second)
	if r := h.run(); r.Job.ID != "a" {
		t.Fatalf("ran %s", r.Job.ID)
	}
	h.settle(10 * time.Second)
	select {
	case r := <-h.runs:
		t.Fatalf("%s ran", r.Job.ID)
	default:
	}
	j, ok := h.store.Job("once")
	if !ok || j.Version != 2 {
		t.Fatalf("stored once: %v %+v, want version 2", ok, j)
	}
	if j, err := h.s.Get("once"); err != nil || !j.NextRunTime.Equal(t0.Add(time.Hour)) {
		t.Fatalf("once: %+v %v", j, err)
	}
}

// A crowded second keeps every run's order and every limit: each run's
// submitted event reaches the listeners before its handler starts and its
// executed event after; no more handlers run at once than the pool and the
// handler type allow; runs beyond max_pending_runs are skipped, counting
// only the runs that wait, not those that started.
func TestCrowdedSecondKeepsOrderAndLimits(t *testing.T) {
	const jobs, workers, typeWorkers, maxPending = 300, 4, 3, 200
	clock := schedtest.NewFakeClock(t0)
	s := sched.New(schedtest.NewMemStore(), sched.Options{
		Clock: clock, Location: time.UTC, Logger: quiet, Workers: workers,
		Limits: sched.Limits{MaxPendingRuns: maxPending},
	})
	var (
		mu       sync.Mutex
		seen     = map[string]string{} // job → its events so far, and "run" for its handler
		running  atomic.Int32
		most     atomic.Int32
		release  = make(chan struct{})
		started  = make(chan string, jobs)
		executed = make(chan string, jobs)
		skipped  atomic.Int32
	)
	note := func(id, what string) {
		mu.Lock()
		seen[id] += what + " "
		mu.Unlock()
	}
	err := s.Handle("test", sched.HandlerFunc{RunFunc: func(_ context.Context, r sched.Run) (sched.Result, error) {
		mu.Lock()
		if !strings.HasSuffix(seen[r.Job.ID], "submitted ") {
			t.Errorf("%s started after events %q", r.Job.ID, seen[r.Job.ID])
		}
		mu.Unlock()
		note(r.Job.ID, "run")
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		started <- r.Job.ID
		<-release
		running.Add(-1)
		return nil, nil
	}}, sched.HandlerOptions{Workers: typeWorkers})
	if err != nil {
		t.Fatal(err)
	}
	s.Listen(func(ev sched.Event) {
		switch ev.Kind {
		case sched.EventSubmitted:
			note(ev.JobID, "submitted")
		case sched.EventExecuted:
			note(ev.JobID, "executed")
			executed <- ev.JobID
		case sched.EventError:
			if strings.Contains(ev.Error, "max_pending_runs") {
				skipped.Add(1)
			}
		}
	})
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(ctx, true) })
	clock.BlockUntil(1)
	var ps []sched.Patch
	for i := range jobs {
		ps = append(ps, patch(t, intervalDoc(fmt.Sprintf("j%03d", i), 10, "")))
	}
	if _, err := s.Import(ctx, ps, sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	clock.WaitForTimer(10 * time.Second)
	clock.Advance(10 * time.Second)
	// typeWorkers runs start; maxPending wait; the rest are skipped.
	for range typeWorkers {
		<-started
	}
	clock.WaitForTimer(10 * time.Second) // the pass is over
	if got := skipped.Load(); got != jobs-typeWorkers-maxPending {
		t.Errorf("%d runs skipped, want %d", got, jobs-typeWorkers-maxPending)
	}
	close(release)
	for range typeWorkers + maxPending {
		select {
		case <-executed:
		case <-time.After(guard):
			t.Fatal("runs did not finish")
		}
	}
	if m := most.Load(); m > typeWorkers {
		t.Errorf("%d handlers ran at once, the handler type allows %d", m, typeWorkers)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, evs := range seen {
		if evs != "submitted run executed " {
			t.Errorf("%s: %q", id, evs)
		}
	}
	if len(seen) != typeWorkers+maxPending {
		t.Errorf("%d jobs ran, want %d", len(seen), typeWorkers+maxPending)
	}
}
