package sched_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// TestOneShotBurstIsOneCommit: 40 date jobs due at the same moment are
// removed in one commit, not one fsync each under the scheduler lock, and
// a recurring job due at that moment starts without waiting for it. Each
// one-shot still runs once, after its removal is committed.
func TestOneShotBurstIsOneCommit(t *testing.T) {
	h := newHarness(t, sched.Options{Workers: 50}, sched.HandlerOptions{}).start()
	h.add(intervalDoc("tick", 5, ""), sched.AddOptions{})
	const n = 40
	for i := range n {
		h.add(fmt.Sprintf(`{"id":"once-%02d","trigger":{"type":"date","run_date":"2026-11-21T09:00:05Z"},"action":{"type":"test"}}`, i), sched.AddOptions{})
	}
	h.settle(5 * time.Second)
	commits := h.store.Commits()
	started := make(chan string, n+1)
	var removals [][]sched.Change
	h.store.OnCommit(func(cs []sched.Change) {
		removals = append(removals, cs)
		// The recurring run due with them has started already.
		select {
		case r := <-h.runs:
			started <- r.Job.ID
		case <-time.After(guard):
			started <- "none"
		}
	})
	h.clock.Advance(5 * time.Second)
	if id := <-started; id != "tick" {
		t.Fatalf("during the one-shots' commit, the run started was %q, want tick", id)
	}
	ran := map[string]int{}
	for range n {
		r := h.run()
		if _, stored := h.store.Job(r.Job.ID); stored {
			t.Fatalf("%s ran while still stored", r.Job.ID)
		}
		ran[r.Job.ID]++
	}
	if len(ran) != n {
		t.Fatalf("%d distinct one-shots ran, want %d: %v", len(ran), n, ran)
	}
	if got := h.store.Commits() - commits; got != 1 || len(removals) != 1 || len(removals[0]) != n {
		t.Fatalf("%d commits (%d changes in the first), want 1 of %d removals", got, len(removals[0]), n)
	}
	if jobs := h.s.List(); len(jobs) != 1 || jobs[0].ID != "tick" {
		t.Fatalf("jobs left: %s", jsonString(jobs))
	}
}
