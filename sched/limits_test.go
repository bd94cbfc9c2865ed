package sched_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

func TestLimitsCheck(t *testing.T) {
	interval := func(sec float64) sched.Job {
		return sched.Job{MaxInstances: 1, Trigger: sched.TriggerSpec{Type: sched.TriggerInterval, Seconds: sec}}
	}
	tests := []struct {
		name   string
		limits sched.Limits
		job    sched.Job
		field  string // "" when accepted
		msg    string
	}{
		{"1µs interval, default floor", sched.Limits{}, interval(0.000001), "trigger", "the interval is 1µs: at least 1s"},
		{"999ms interval, default floor", sched.Limits{}, interval(0.999), "trigger", "at least 1s on this device (scheduler.min_interval)"},
		{"1s interval, default floor", sched.Limits{}, interval(1), "", ""},
		{"minutes count", sched.Limits{MinInterval: time.Hour}, sched.Job{MaxInstances: 1, Trigger: sched.TriggerSpec{Type: "interval", Minutes: 59, Seconds: 59}}, "trigger", "59m59s"},
		{"floor lowered", sched.Limits{MinInterval: 10 * time.Millisecond}, interval(0.01), "", ""},
		{"an interval inside an or", sched.Limits{}, sched.Job{MaxInstances: 1, Trigger: sched.TriggerSpec{Type: "or", Triggers: sched.NewMembers(
			sched.TriggerSpec{Type: "cron", Hour: "6"}, sched.TriggerSpec{Type: "interval", Seconds: 0.5, StartDate: "2026-01-01"})}},
			"trigger.triggers[1]", "the interval is 500ms: at least 1s"},
		{"cron is not an interval", sched.Limits{MinInterval: time.Hour}, sched.Job{MaxInstances: 1, Trigger: sched.TriggerSpec{Type: "cron", Second: "*"}}, "", ""},
		{"max_instances over the default cap", sched.Limits{}, sched.Job{MaxInstances: 10000, Trigger: sched.TriggerSpec{Type: "date"}}, "max_instances", "10000 is over this device's limit of 100 (scheduler.max_instances)"},
		{"max_instances at the cap", sched.Limits{MaxInstances: 5}, sched.Job{MaxInstances: 5, Trigger: sched.TriggerSpec{Type: "date"}}, "", ""},
		{"malformed interval is Compile's", sched.Limits{}, interval(-1), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.limits.Check(tt.job)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var se *sched.Error
			if !errors.As(err, &se) || se.Code != sched.CodeBadRequest || se.Field != tt.field || !strings.Contains(se.Message, tt.msg) {
				t.Fatalf("Check = %v; want bad_request on %s saying %q", err, tt.field, tt.msg)
			}
		})
	}
}

// A remote request cannot add, modify or import a job beyond the limits,
// and a stored one beyond them (the limits were lowered) is kept paused.
func TestLimitsRefuseEveryWayIn(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	if _, err := h.s.Add(ctx, patch(t, `{"id":"fast","trigger":{"type":"interval","seconds":0.000001},"action":{"type":"test"}}`), sched.AddOptions{}); sched.ErrorCode(err) != sched.CodeBadRequest || !strings.Contains(err.Error(), "trigger: the interval is 1µs") {
		t.Fatalf("add a 1µs interval: %v", err)
	}
	if _, err := h.s.Add(ctx, patch(t, intervalDoc("many", 60, `,"max_instances":10000,"coalesce":false`)), sched.AddOptions{}); sched.ErrorCode(err) != sched.CodeBadRequest || !strings.Contains(err.Error(), "max_instances: 10000 is over") {
		t.Fatalf("add max_instances 10000: %v", err)
	}
	h.add(intervalDoc("ok", 60, ""), sched.AddOptions{})
	ch, err := sched.DecodeJob([]byte(`{"trigger":{"type":"interval","seconds":0.5}}`), sched.ModeChanges)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Modify(ctx, "ok", ch, sched.OpOptions{Source: sched.SourceMQTT}); sched.ErrorCode(err) != sched.CodeBadRequest {
		t.Fatalf("modify to 0.5s: %v", err)
	}
	if _, err := h.s.Import(ctx, []sched.Patch{patch(t, intervalDoc("x", 60, "")), patch(t, intervalDoc("y", 60, `,"max_instances":101`))}, sched.OpOptions{}); err == nil || !strings.Contains(err.Error(), "[1].max_instances") {
		t.Fatalf("import: %v", err)
	}
	if _, err := h.s.SyncConfig(ctx, []sched.Patch{patch(t, `{"id":"cfg","trigger":{"type":"interval","seconds":0.1},"action":{"type":"test"}}`)}); err == nil || !strings.Contains(err.Error(), "[0].trigger") {
		t.Fatalf("sync config: %v", err)
	}
	if jobs := h.s.List(); len(jobs) != 1 || jobs[0].ID != "ok" || jobs[0].Trigger.Seconds != 60 {
		t.Fatalf("a refused change changed the jobs: %s", jsonString(jobs))
	}
	h.noEvent()

	// Stored under looser limits, loaded under tighter ones.
	store := schedtest.NewMemStore()
	next := t0.Add(time.Second)
	fast := sched.Job{ID: "fast", Trigger: sched.TriggerSpec{Type: "interval", Seconds: 0.01, StartDate: t0.Format(time.RFC3339)},
		Action: sched.Action{Type: "test", Raw: []byte(`{"type":"test"}`)}, MaxInstances: 1, Version: 1, NextRunTime: &next, Source: sched.SourceMQTT}
	if err := store.Commit(ctx, []sched.Change{{ID: "fast", Job: fast}}); err != nil {
		t.Fatal(err)
	}
	h2 := newHarnessOn(t, schedtest.NewFakeClock(t0), store, sched.Options{}, sched.HandlerOptions{})
	if err := h2.s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if ev := h2.event(sched.EventError); !strings.Contains(ev.Error, "scheduler.min_interval") {
		t.Fatalf("load event %q", ev.Error)
	}
	if j, _ := h2.s.Get("fast"); !j.Paused || j.NextRunTime != nil || !strings.Contains(j.LastResult, "invalid: trigger: the interval is 10ms") {
		t.Fatalf("loaded job %s", jsonString(j))
	}
}

// Runs beyond max_pending_runs are skipped with an error event, and a
// removed or paused job's queued runs are dropped with an event each,
// never run afterwards.
func TestPendingRunsAreBoundedAndDroppedWithTheirJob(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, sched.Options{Workers: 1, Limits: sched.Limits{MaxPendingRuns: 3}}, sched.HandlerOptions{}).start()
	h.add(`{"id":"busy","trigger":{"type":"interval","hours":1},"action":{"type":"test","block":true}}`, sched.AddOptions{})
	h.add(`{"id":"many","trigger":{"type":"interval","hours":1},"action":{"type":"test"},"max_instances":10}`, sched.AddOptions{})
	h.add(`{"id":"other","trigger":{"type":"interval","hours":1},"action":{"type":"test"},"max_instances":10}`, sched.AddOptions{})
	if err := h.s.RunNow(ctx, "busy", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	h.event(sched.EventSubmitted)
	h.run() // the only worker is taken: what follows waits
	for i := 0; i < 2; i++ {
		if err := h.s.RunNow(ctx, "many", sched.OpOptions{}); err != nil {
			t.Fatal(err)
		}
		h.event(sched.EventSubmitted)
	}
	if err := h.s.RunNow(ctx, "other", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	h.event(sched.EventSubmitted)
	err := h.s.RunNow(ctx, "many", sched.OpOptions{})
	if sched.ErrorCode(err) != sched.CodeConflict || !strings.Contains(err.Error(), "3 runs already wait for a worker (scheduler.max_pending_runs)") {
		t.Fatalf("run-now over the pending limit: %v", err)
	}
	if ev := h.event(sched.EventError); ev.JobID != "many" || !strings.Contains(ev.Error, "run skipped") {
		t.Fatalf("event %+v", ev)
	}

	if _, err := h.s.Remove(ctx, "many", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	h.event(sched.EventRemoved)
	var drops []sched.Event
	for i := 0; i < 2; i++ {
		ev := h.event(sched.EventError)
		if ev.JobID != "many" || ev.Error != "not started: the job was removed" || ev.ScheduledTime == nil {
			t.Fatalf("drop event %+v", ev)
		}
		drops = append(drops, ev)
	}
	// A run's events carry no snapshot of the job, only its action type.
	for _, ev := range drops {
		if ev.Job != nil || ev.Action == "" {
			t.Errorf("drop event's job %p, action %q", ev.Job, ev.Action)
		}
	}
	if _, err := h.s.PauseJob(ctx, "other", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	h.event(sched.EventPaused)
	if ev := h.event(sched.EventError); ev.JobID != "other" || ev.Error != "not started: the job was paused" {
		t.Fatalf("drop event %+v", ev)
	}
	// The queue is empty again: resumed, other's run due now is taken, and
	// once the worker is free only it runs.
	if _, err := h.s.ResumeJob(ctx, "other", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	h.event(sched.EventResumed)
	h.event(sched.EventSubmitted)
	h.release <- struct{}{}
	h.event(sched.EventExecuted)
	if r := h.run(); r.Job.ID != "other" {
		t.Fatalf("ran %s", r.Job.ID)
	}
	if ev := h.event(sched.EventExecuted); ev.JobID != "other" {
		t.Fatalf("executed %s", ev.JobID)
	}
	select {
	case r := <-h.runs:
		t.Fatalf("a dropped run of %s ran", r.Job.ID)
	default:
	}
	if j, _ := h.s.Get("other"); j.LastResult != "ok" {
		t.Errorf("other's last_result %q", j.LastResult)
	}
}
