package sched_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

func req(id string) sched.OpOptions {
	return sched.OpOptions{Source: sched.SourceMQTT, RequestID: id}
}

// TestReceiptPerOp: every change made for a request stores its receipt
// with the change; the same id is refused afterwards and changes nothing,
// also after a restart on the same store.
func TestReceiptPerOp(t *testing.T) {
	ctx := context.Background()
	store := schedtest.NewMemStore()
	clock := schedtest.NewFakeClock(t0)
	h := newHarnessOn(t, clock, store, sched.Options{}, sched.HandlerOptions{}).start()
	// The grid starts 30s on: the resume below, at t0, must not find a
	// run due now beside the one r-run asks for.
	h.add(`{"id":"a","trigger":{"type":"interval","seconds":60,"start_date":"2026-11-21T09:00:30Z"},"action":{"type":"test"}}`, sched.AddOptions{OpOptions: req("r-add")})
	commits := store.Commits()
	steps := []struct {
		id      string
		kind    sched.EventKind
		version int64
		do      func(o sched.OpOptions) error
	}{
		{"r-modify", sched.EventModified, 2, func(o sched.OpOptions) error {
			_, err := h.s.Modify(ctx, "a", sched.Patch{Job: sched.Job{Name: "n"}, Fields: sched.FieldName}, o)
			return err
		}},
		{"r-pause", sched.EventPaused, 3, func(o sched.OpOptions) error { _, err := h.s.PauseJob(ctx, "a", o); return err }},
		{"r-resume", sched.EventResumed, 4, func(o sched.OpOptions) error { _, err := h.s.ResumeJob(ctx, "a", o); return err }},
		{"r-run", sched.EventSubmitted, 4, func(o sched.OpOptions) error { return h.s.RunNow(ctx, "a", o) }},
		{"r-remove", sched.EventRemoved, 4, func(o sched.OpOptions) error { _, err := h.s.Remove(ctx, "a", o); return err }},
	}
	for _, st := range steps {
		if err := st.do(req(st.id)); err != nil {
			t.Fatalf("%s: %v", st.id, err)
		}
		r, ok := h.s.Receipt(st.id)
		if !ok || r.Kind != string(st.kind) || r.JobID != "a" || r.Version != st.version || !r.At.Equal(t0) {
			t.Fatalf("receipt of %s = %+v (%v), want %s version %d", st.id, r, ok, st.kind, st.version)
		}
	}
	h.run() // the run asked by r-run
	if got := store.Commits() - commits; got != len(steps) {
		t.Errorf("%d commits for %d requests: the receipt must share the change's commit", got, len(steps))
	}
	// Again, under the same ids: refused, nothing changes. The run's end
	// (executed) and the removal, in either order, come first, so that the
	// add below sees its own event.
	for executed, removed := false, false; !executed || !removed; {
		select {
		case ev := <-h.events:
			executed = executed || ev.Kind == sched.EventExecuted
			removed = removed || ev.Kind == sched.EventRemoved
		case <-time.After(guard):
			t.Fatal("the run asked by r-run did not end, or the removal was not announced")
		}
	}
	h.add(intervalDoc("a", 60, ""), sched.AddOptions{})
	commits = store.Commits()
	_, err := h.s.Add(ctx, patch(t, intervalDoc("b", 60, "")), sched.AddOptions{OpOptions: req("r-add")})
	wantCode(t, err, sched.CodeConflict)
	for _, st := range steps {
		wantCode(t, st.do(req(st.id)), sched.CodeConflict)
	}
	if store.Commits() != commits {
		t.Error("a repeated request id committed something")
	}
	if j, _ := h.s.Get("a"); j.Version != 1 || j.Paused {
		t.Errorf("a repeated request changed the job: %+v", j)
	}
	select {
	case r := <-h.runs:
		t.Fatalf("a repeated run request ran %s", r.Job.ID)
	default:
	}

	// A new scheduler on the same store (a restart) knows every id.
	h.s.Shutdown(ctx, true)
	h2 := newHarnessOn(t, clock, store, sched.Options{}, sched.HandlerOptions{}).start()
	for _, id := range []string{"r-add", "r-modify", "r-run", "r-remove"} {
		if _, ok := h2.s.Receipt(id); !ok {
			t.Errorf("receipt of %s lost at restart", id)
		}
	}
	wantCode(t, h2.s.RunNow(ctx, "a", req("r-run")), sched.CodeConflict)
	select {
	case r := <-h2.runs:
		t.Fatalf("a run re-sent after a restart ran %s", r.Job.ID)
	default:
	}
}

// TestReceiptRunRefused: a run that cannot start leaves no receipt, so the
// request may be sent again.
func TestReceiptRunRefused(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(`{"id":"a","trigger":{"type":"interval","seconds":60},"action":{"type":"test","block":true}}`, sched.AddOptions{})
	if err := h.s.RunNow(ctx, "a", req("first")); err != nil {
		t.Fatal(err)
	}
	h.run()
	wantCode(t, h.s.RunNow(ctx, "a", req("second")), sched.CodeConflict) // max_instances 1
	if _, ok := h.s.Receipt("second"); ok {
		t.Error("a run that did not start kept its receipt")
	}
	if h.store.Receipts() != 1 {
		t.Errorf("store holds %d receipts, want 1", h.store.Receipts())
	}
	close(h.release)
}

// TestReceiptBadID: a malformed request id is refused before anything is
// committed.
func TestReceiptBadID(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	for _, id := range []string{strings.Repeat("x", sched.MaxRequestID+1), "bad\xff", "\ufffd"} {
		_, err := h.s.Add(context.Background(), patch(t, intervalDoc("a", 60, "")), sched.AddOptions{OpOptions: req(id)})
		wantCode(t, err, sched.CodeBadRequest)
	}
	if h.store.Len() != 0 || h.store.Receipts() != 0 {
		t.Error("a malformed request id committed something")
	}
}

// TestReceiptWindow: receipts go once beyond MinCount and older than
// MinAge, or when over MaxBytes, in memory and in the store alike; a
// restart with a smaller window deletes the surplus at the next commit.
func TestReceiptWindow(t *testing.T) {
	ctx := context.Background()
	store := schedtest.NewMemStore()
	clock := schedtest.NewFakeClock(t0)
	w := sched.ReceiptWindow{MinCount: 3, MinAge: time.Hour, MaxBytes: 1 << 20}
	h := newHarnessOn(t, clock, store, sched.Options{Receipts: w}, sched.HandlerOptions{}).start()
	h.add(intervalDoc("a", 3600, ""), sched.AddOptions{})
	pause := func(h *harness, id string) {
		t.Helper()
		if _, err := h.s.PauseJob(ctx, "a", req(id)); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	for _, id := range []string{"r1", "r2", "r3", "r4", "r5"} {
		pause(h, id)
	}
	// Young: all kept, beyond MinCount or not.
	if store.Receipts() != 5 {
		t.Fatalf("store holds %d receipts, want 5", store.Receipts())
	}
	clock.Advance(time.Hour + time.Second)
	pause(h, "r6") // r1..r5 are old now; 3 are kept by count: r4, r5, r6
	for id, want := range map[string]bool{"r1": false, "r3": false, "r4": true, "r5": true, "r6": true} {
		if _, ok := h.s.Receipt(id); ok != want {
			t.Errorf("receipt %s present = %v, want %v", id, ok, want)
		}
	}
	if store.Receipts() != 3 {
		t.Errorf("store holds %d receipts, want 3 (the same as in memory)", store.Receipts())
	}

	// The byte cap holds whatever the age: each receipt here costs about
	// 96 bytes plus its strings.
	size := sched.Receipt{RequestID: "b-00", Kind: string(sched.EventPaused), JobID: "a"}.Size()
	h.s.Shutdown(ctx, true)
	w = sched.ReceiptWindow{MinCount: 1, MinAge: 24 * time.Hour, MaxBytes: 4 * size}
	h = newHarnessOn(t, clock, store, sched.Options{Receipts: w}, sched.HandlerOptions{}).start()
	for i := 0; i < 10; i++ {
		pause(h, "b-0"+string(rune('0'+i)))
	}
	if n := store.Receipts(); n != 4 {
		t.Errorf("store holds %d receipts under a %d-byte cap, want 4", n, 4*size)
	}
	for id, want := range map[string]bool{"r6": false, "b-05": false, "b-06": true, "b-09": true} {
		if _, ok := h.s.Receipt(id); ok != want {
			t.Errorf("receipt %s present = %v, want %v", id, ok, want)
		}
	}
}

// TestRecordAndForget: a request the scheduler does not carry out (an
// actuator command) is recorded once; Forget lets it be sent again.
func TestRecordAndForget(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	if err := h.s.Record(ctx, "act-1", "actuated", "pump"); err != nil {
		t.Fatal(err)
	}
	if r, ok := h.s.Receipt("act-1"); !ok || r.Kind != "actuated" || r.JobID != "pump" {
		t.Fatalf("receipt %+v %v", r, ok)
	}
	wantCode(t, h.s.Record(ctx, "act-1", "actuated", "pump"), sched.CodeConflict)
	if err := h.s.Forget(ctx, "act-1"); err != nil {
		t.Fatal(err)
	}
	if h.store.Receipts() != 0 {
		t.Fatal("Forget left the receipt in the store")
	}
	if err := h.s.Record(ctx, "act-1", "actuated", "pump"); err != nil {
		t.Fatalf("after Forget: %v", err)
	}
	if err := h.s.Record(ctx, "act-2", "", "pump"); err == nil {
		t.Fatal("a receipt without a kind was recorded")
	}
}
