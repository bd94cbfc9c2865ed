package sched_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

func TestIntervalRunsOnItsGrid(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	j := h.add(intervalDoc("tick", 10, ""), sched.AddOptions{})
	if j.Trigger.StartDate != t0.Format(time.RFC3339Nano) {
		t.Fatalf("start_date = %q, want the moment it was added", j.Trigger.StartDate)
	}
	if j.NextRunTime == nil || !j.NextRunTime.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("next_run_time = %v, want one interval after the add", j.NextRunTime)
	}
	if j.Version != 1 || j.Source != sched.SourceCLI || j.MaxInstances != 1 || !j.Coalesce ||
		j.MisfireGraceTime == nil || *j.MisfireGraceTime != 300*time.Second {
		t.Fatalf("defaults not applied: %s", jsonString(j))
	}
	for i := 1; i <= 3; i++ {
		h.settle(10 * time.Second)
		h.clock.Advance(10 * time.Second)
		want := t0.Add(time.Duration(i) * 10 * time.Second)
		ev := h.event(sched.EventSubmitted)
		if !ev.ScheduledTime.Equal(want) {
			t.Fatalf("run %d scheduled %v, want %v", i, ev.ScheduledTime, want)
		}
		if r := h.run(); !r.ScheduledTime.Equal(want) || r.Job.ID != "tick" {
			t.Fatalf("handler got %+v", r)
		}
		ev = h.event(sched.EventExecuted)
		if ev.DurationMS == nil || ev.Result["ok"] != true {
			t.Fatalf("executed event %+v", ev)
		}
	}
	got, _ := h.s.Get("tick")
	if got.Version != 1 {
		t.Errorf("runs changed the version: %d", got.Version)
	}
	if got.LastResult != "ok" || got.LastRunTime == nil || !got.LastRunTime.Equal(t0.Add(30*time.Second)) {
		t.Errorf("run state %s", jsonString(got))
	}
}

// A change's event carries a snapshot of the job; a run's events carry
// only its action type and last_result (sched.Event).
func TestEventsCarryTheJobOnChangesOnly(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	if _, err := h.s.Add(context.Background(), patch(t, intervalDoc("tick", 10, "")), sched.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if ev := h.event(sched.EventAdded); ev.Job == nil || ev.Job.ID != "tick" || ev.Job.Version != 1 || ev.Action != "test" {
		t.Fatalf("added: %+v", ev)
	}
	h.settle(10 * time.Second)
	h.clock.Advance(10 * time.Second)
	if ev := h.event(sched.EventSubmitted); ev.Job != nil || ev.Action != "test" || ev.LastResult != "" {
		t.Fatalf("submitted: job %p, action %q, last result %q", ev.Job, ev.Action, ev.LastResult)
	}
	h.run()
	if ev := h.event(sched.EventExecuted); ev.Job != nil || ev.Action != "test" || ev.LastResult != "ok" {
		t.Fatalf("executed: job %p, action %q, last result %q", ev.Job, ev.Action, ev.LastResult)
	}
	if _, err := h.s.PauseJob(context.Background(), "tick", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	if ev := h.event(sched.EventPaused); ev.Job == nil || !ev.Job.Paused || ev.Job.LastResult != "ok" || ev.LastResult != "ok" {
		t.Fatalf("paused: %+v", ev)
	}
}

func TestChangesCommitBeforeTheyAreAnnounced(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	var problems []string
	h.s.Listen(func(ev sched.Event) {
		stored, ok := h.store.Job(ev.JobID)
		switch ev.Kind {
		case sched.EventRemoved:
			if ok {
				problems = append(problems, "removed announced before its commit")
			}
		case sched.EventAdded, sched.EventModified, sched.EventPaused, sched.EventResumed:
			if !ok || stored.Version != ev.Job.Version {
				problems = append(problems, fmt.Sprintf("%s announced before its commit", ev.Kind))
			}
		}
	})
	ctx := context.Background()
	h.add(intervalDoc("a", 10, ""), sched.AddOptions{})
	mustOK(t)(h.s.PauseJob(ctx, "a", sched.OpOptions{}))
	mustOK(t)(h.s.ResumeJob(ctx, "a", sched.OpOptions{}))
	mustOK(t)(h.s.Modify(ctx, "a", sched.Patch{Job: sched.Job{Name: "x"}, Fields: sched.FieldName}, sched.OpOptions{}))
	mustOK(t)(h.s.Remove(ctx, "a", sched.OpOptions{}))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if n := h.store.Commits(); n != 5 {
		t.Errorf("%d commits for 5 changes", n)
	}
}

func mustOK(t *testing.T) func(sched.Job, error) sched.Job {
	return func(j sched.Job, err error) sched.Job {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
}

func TestStoreFailureChangesNothing(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	ctx := context.Background()
	h.add(intervalDoc("a", 10, ""), sched.AddOptions{})
	h.store.Fail(errors.New("disk full"))
	_, err := h.s.Add(ctx, patch(t, intervalDoc("b", 10, "")), sched.AddOptions{})
	wantCode(t, err, sched.CodeInternal)
	_, err = h.s.Modify(ctx, "a", sched.Patch{Job: sched.Job{Name: "x"}, Fields: sched.FieldName}, sched.OpOptions{})
	wantCode(t, err, sched.CodeInternal)
	_, err = h.s.Remove(ctx, "a", sched.OpOptions{})
	wantCode(t, err, sched.CodeInternal)
	h.noEvent()
	if _, err := h.s.Get("b"); !errors.Is(err, sched.ErrNotFound) {
		t.Errorf("b exists after a failed add: %v", err)
	}
	if a, err := h.s.Get("a"); err != nil || a.Name != "" || a.Version != 1 {
		t.Errorf("a changed by failed operations: %s %v", jsonString(a), err)
	}
}

func TestVersionsAndPermissions(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	ctx := context.Background()
	h.add(intervalDoc("a", 10, ""), sched.AddOptions{})
	mqtt := sched.OpOptions{Source: sched.SourceMQTT}

	j := mustOK(t)(h.s.Modify(ctx, "a", sched.Patch{Job: sched.Job{Name: "n"}, Fields: sched.FieldName}, sched.OpOptions{ExpectedVersion: 1}))
	if j.Version != 2 {
		t.Fatalf("version %d after one modify", j.Version)
	}
	h.event(sched.EventModified)
	_, err := h.s.Modify(ctx, "a", sched.Patch{Job: sched.Job{Name: "m"}, Fields: sched.FieldName}, sched.OpOptions{ExpectedVersion: 1})
	wantCode(t, err, sched.CodeVersionConflict)
	_, err = h.s.Remove(ctx, "a", sched.OpOptions{ExpectedVersion: 7})
	wantCode(t, err, sched.CodeVersionConflict)
	_, err = h.s.Modify(ctx, "nope", sched.Patch{}, sched.OpOptions{})
	wantCode(t, err, sched.CodeNotFound)
	_, err = h.s.Add(ctx, patch(t, intervalDoc("a", 5, "")), sched.AddOptions{})
	wantCode(t, err, sched.CodeConflict)
	j = mustOK(t)(h.s.Add(ctx, patch(t, intervalDoc("a", 5, "")), sched.AddOptions{ReplaceExisting: true, OpOptions: sched.OpOptions{ExpectedVersion: 2}}))
	if j.Version != 3 || j.Trigger.Seconds != 5 {
		t.Fatalf("replace: %s", jsonString(j))
	}
	h.event(sched.EventModified)

	// A config job is closed to MQTT unless it says remote.
	if _, err := h.s.SyncConfig(ctx, []sched.Patch{patch(t, intervalDoc("file", 10, "")), patch(t, intervalDoc("open", 10, `,"remote":true`))}); err != nil {
		t.Fatal(err)
	}
	h.event(sched.EventAdded)
	h.event(sched.EventAdded)
	_, err = h.s.Modify(ctx, "file", sched.Patch{Job: sched.Job{Name: "x"}, Fields: sched.FieldName}, mqtt)
	wantCode(t, err, sched.CodeConflict)
	_, err = h.s.Remove(ctx, "file", mqtt)
	wantCode(t, err, sched.CodeConflict)
	_, err = h.s.PauseJob(ctx, "file", mqtt)
	wantCode(t, err, sched.CodeConflict)
	_, err = h.s.Add(ctx, patch(t, intervalDoc("file", 10, "")), sched.AddOptions{ReplaceExisting: true, OpOptions: mqtt})
	wantCode(t, err, sched.CodeConflict)
	mustOK(t)(h.s.PauseJob(ctx, "file", sched.OpOptions{Source: sched.SourceCLI}))
	h.event(sched.EventPaused)
	j = mustOK(t)(h.s.Modify(ctx, "open", sched.Patch{Job: sched.Job{Name: "x"}, Fields: sched.FieldName}, mqtt))
	if j.Source != sched.SourceConfig {
		t.Errorf("a remote change took the job from the config: source %s", j.Source)
	}
	h.event(sched.EventModified)
}

func TestAddValidates(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	ctx := context.Background()
	for doc, field := range map[string]string{
		`{"id":"a","trigger":{"type":"interval"},"action":{"type":"test"}}`:                          "trigger",
		`{"id":"a","trigger":{"type":"date","run_date":"2026-13-01"},"action":{"type":"test"}}`:      "trigger.run_date",
		`{"id":"a","trigger":{"type":"interval","seconds":1},"action":{"type":"nope"}}`:              "action.type",
		`{"id":"a","trigger":{"type":"interval","seconds":1},"action":{"type":"test","bad":true}}`:   "action.bad",
		`{"id":"a","trigger":{"type":"interval","seconds":1},"action":{"type":"test","colour":"x"}}`: "action.colour",
	} {
		_, err := h.s.Add(ctx, patch(t, doc), sched.AddOptions{})
		var e *sched.Error
		if !errors.As(err, &e) || e.Code != sched.CodeBadRequest || !strings.HasPrefix(e.Field, field) {
			t.Errorf("Add(%s) = %v, want bad_request on %s", doc, err, field)
		}
	}
	h.noEvent()
	if n := h.store.Commits(); n != 0 {
		t.Errorf("%d commits of invalid jobs", n)
	}
	// A generated id.
	j := mustOK(t)(h.s.Add(ctx, patch(t, `{"trigger":{"type":"interval","minutes":1},"action":{"type":"test"}}`), sched.AddOptions{}))
	if !sched.IDPattern.MatchString(j.ID) {
		t.Errorf("generated id %q", j.ID)
	}
}

func TestMisfireAndCoalesce(t *testing.T) {
	// An interval of 10s, due at +10s; the wall clock is stepped forward by
	// 65s before the timer fires, so at the wake-up (wall +75s) the runs of
	// +10s..+70s are due, +70s being 5s late and +10s 65s late.
	tests := []struct {
		name      string
		extra     string
		submit    []int // scheduled seconds of runs submitted
		missed    []int
		maxInst   int
		coalesced int
	}{
		{"coalesce, no limit", `,"coalesce":true,"misfire_grace_time":null`, []int{70}, nil, 0, 6},
		{"coalesce, last run in grace", `,"coalesce":true,"misfire_grace_time":10`, []int{70}, nil, 0, 6},
		{"coalesce, last run too late", `,"coalesce":true,"misfire_grace_time":1`, nil, []int{70}, 0, 0},
		{"each, no limit", `,"coalesce":false,"misfire_grace_time":null,"max_instances":10`, []int{10, 20, 30, 40, 50, 60, 70}, nil, 0, 0},
		{"each, grace 30s", `,"coalesce":false,"misfire_grace_time":30,"max_instances":10`, []int{50, 60, 70}, []int{10, 20, 30, 40}, 0, 0},
		{"each, one instance", `,"coalesce":false,"misfire_grace_time":null,"max_instances":1,"action":{"type":"test","block":true}`, []int{10}, nil, 6, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
			doc := intervalDoc("j", 10, tc.extra)
			if strings.Contains(tc.extra, `"action"`) {
				doc = `{"id":"j","trigger":{"type":"interval","seconds":10}` + tc.extra + `}`
			}
			h.add(doc, sched.AddOptions{})
			h.settle(10 * time.Second)
			h.clock.StepWall(65 * time.Second)
			h.clock.Advance(10 * time.Second)
			h.settle(5 * time.Second) // the next run, +80s, is 5s away
			var submitted, missed []int
			maxInst := 0
			for _, ev := range h.drain() {
				sec := int(ev.ScheduledTime.Sub(t0) / time.Second)
				switch ev.Kind {
				case sched.EventSubmitted:
					submitted = append(submitted, sec)
					if tc.coalesced > 0 && ev.Result["coalesced"] != tc.coalesced {
						t.Errorf("submitted event says %v coalesced, want %d", ev.Result["coalesced"], tc.coalesced)
					}
				case sched.EventMissed:
					missed = append(missed, sec)
					if !strings.Contains(ev.Error, "misfire_grace_time") {
						t.Errorf("missed event error %q", ev.Error)
					}
				case sched.EventMaxInstances:
					maxInst++
				}
			}
			if fmt.Sprint(submitted) != fmt.Sprint(tc.submit) || fmt.Sprint(missed) != fmt.Sprint(tc.missed) || maxInst != tc.maxInst {
				t.Fatalf("submitted %v missed %v max_instances %d; want %v %v %d", submitted, missed, maxInst, tc.submit, tc.missed, tc.maxInst)
			}
			j, _ := h.s.Get("j")
			if !j.NextRunTime.Equal(t0.Add(80 * time.Second)) {
				t.Errorf("next run %v, want the grid point +80s", j.NextRunTime)
			}
			close(h.release)
		})
	}
}

func TestWallClockStepBackDoesNotRepeat(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(intervalDoc("j", 10, ""), sched.AddOptions{})
	h.settle(10 * time.Second)
	h.clock.Advance(10 * time.Second)
	h.event(sched.EventSubmitted)
	h.event(sched.EventExecuted)
	h.settle(10 * time.Second)
	h.clock.StepWall(-time.Hour)
	// Until the wall clock is back at +20s, the loop wakes every MaxWait
	// (1m) and fires nothing.
	stepped := h.clock.Elapsed()
	for i := 0; ; i++ {
		h.clock.BlockUntil(1)
		select {
		case ev := <-h.events:
			if ev.Kind != sched.EventSubmitted || !ev.ScheduledTime.Equal(t0.Add(20*time.Second)) {
				t.Fatalf("after the step back: %s for %v, want the +20s run", ev.Kind, ev.ScheduledTime)
			}
			if waited := h.clock.Elapsed() - stepped; waited < time.Hour {
				t.Fatalf("the +20s run came %s after a 1h step back", waited)
			}
			if !h.clock.Now().Equal(t0.Add(20 * time.Second)) {
				t.Fatalf("fired at wall %v", h.clock.Now())
			}
			return
		default:
		}
		if i > 70 {
			t.Fatal("the run never came")
		}
		d := h.clock.Deadlines()
		if d[0] > time.Minute {
			t.Fatalf("a wait of %s: waits must be capped at MaxWait", d[0])
		}
		h.clock.Advance(d[0])
	}
}

func TestWaitsAreCappedAndFeedLiveness(t *testing.T) {
	h := newHarness(t, sched.Options{MaxWait: 30 * time.Second}, sched.HandlerOptions{}).start()
	h.settle(30 * time.Second) // nothing to run: only the capped wait
	h.mu.Lock()
	before := h.live
	h.mu.Unlock()
	for i := 0; i < 3; i++ {
		h.clock.Advance(30 * time.Second)
		h.settle(30 * time.Second)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.live < before+3 {
		t.Fatalf("liveness fed %d times over 3 capped waits", h.live-before)
	}
}

func TestDateJobIsRemovedBeforeItRuns(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(`{"id":"once","trigger":{"type":"date","run_date":"2026-11-21T09:00:05Z"},"action":{"type":"test"}}`, sched.AddOptions{})
	h.settle(5 * time.Second)
	h.clock.Advance(5 * time.Second)
	sub := h.event(sched.EventSubmitted)
	h.run()
	if _, ok := h.store.Job("once"); ok {
		t.Fatal("the one-shot job was still stored while it ran")
	}
	// Removed says the job as it was, as submitted left it; a run's
	// events carry no snapshot, only the action type and last_result.
	if rm := h.event(sched.EventRemoved); rm.Job == nil || rm.Job.LastRunTime == nil || !rm.Job.LastRunTime.Equal(*sub.ScheduledTime) {
		t.Errorf("removed's job %+v, submitted %+v", rm.Job, sub)
	}
	if sub.Job != nil || sub.Action != "test" || sub.LastResult != "" {
		t.Errorf("submitted carries job %p, action %q, last result %q", sub.Job, sub.Action, sub.LastResult)
	}
	h.event(sched.EventExecuted)
	if _, err := h.s.Get("once"); !errors.Is(err, sched.ErrNotFound) {
		t.Fatalf("Get after the run: %v", err)
	}
	// A store that cannot remove it means it does not run.
	h.add(`{"id":"twice","trigger":{"type":"date","run_date":"2026-11-21T09:00:10Z"},"action":{"type":"test"}}`, sched.AddOptions{})
	h.settle(5 * time.Second)
	h.store.Fail(errors.New("read-only file system"))
	h.clock.Advance(5 * time.Second)
	ev := h.event(sched.EventError)
	if !strings.Contains(ev.Error, "not run") {
		t.Fatalf("error event %q", ev.Error)
	}
	select {
	case r := <-h.runs:
		t.Fatalf("ran %s without committing its removal", r.Job.ID)
	default:
	}
}

func TestFailingAndPanickingHandlers(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(`{"id":"p","trigger":{"type":"interval","seconds":10},"action":{"type":"test","panic":true}}`, sched.AddOptions{})
	h.add(`{"id":"f","trigger":{"type":"interval","seconds":10},"action":{"type":"test","fail":"exit status 3"}}`, sched.AddOptions{})
	for round := 0; round < 2; round++ {
		h.settle(10 * time.Second)
		h.clock.Advance(10 * time.Second)
		errs := map[string]sched.Event{}
		for len(errs) < 2 {
			select {
			case ev := <-h.events:
				if ev.Kind == sched.EventError {
					errs[ev.JobID] = ev
				}
			case <-time.After(guard):
				t.Fatal("no error events")
			}
		}
		if !strings.Contains(errs["p"].Error, "panic: boom") || errs["f"].Error != "exit status 3" || errs["f"].Result["exit_code"] != 3 {
			t.Fatalf("error events %+v", errs)
		}
		h.run()
		h.run()
	}
	p, _ := h.s.Get("p")
	if p.LastResult != "error: panic: boom" {
		t.Errorf("last_result %q", p.LastResult)
	}
}

func TestMaxInstancesAndRunNow(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	ctx := context.Background()
	h.add(`{"id":"slow","trigger":{"type":"interval","hours":1},"action":{"type":"test","block":true},"max_instances":2}`, sched.AddOptions{})
	for i := 0; i < 2; i++ {
		if err := h.s.RunNow(ctx, "slow", sched.OpOptions{}); err != nil {
			t.Fatal(err)
		}
		h.event(sched.EventSubmitted)
		h.run()
	}
	err := h.s.RunNow(ctx, "slow", sched.OpOptions{})
	wantCode(t, err, sched.CodeConflict)
	h.event(sched.EventMaxInstances)
	h.release <- struct{}{}
	h.event(sched.EventExecuted)
	if err := h.s.RunNow(ctx, "slow", sched.OpOptions{}); err != nil {
		t.Fatalf("a slot freed, yet: %v", err)
	}
	j, _ := h.s.Get("slow")
	if !j.NextRunTime.Equal(t0.Add(time.Hour)) || j.Version != 1 {
		t.Errorf("run now moved the schedule: %s", jsonString(j))
	}
	close(h.release)
}

func TestRunNowTime(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	ctx := context.Background()
	h.add(`{"id":"b","trigger":{"type":"cron","hour":"6","timezone":"Europe/Berlin"},"action":{"type":"test"}}`, sched.AddOptions{})
	h.clock.Advance(1234567891 * time.Nanosecond)
	if err := h.s.RunNow(ctx, "b", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := h.event(sched.EventSubmitted)
	h.run()
	j, _ := h.s.Get("b")
	want := "2026-11-21T10:00:01.234567+01:00"
	if j.LastRunTime == nil || j.LastRunTime.Format(time.RFC3339Nano) != want || !ev.ScheduledTime.Equal(*j.LastRunTime) {
		t.Errorf("last_run_time %v, event's scheduled time %v; want both %s (now, in the trigger's zone, to the microsecond)",
			j.LastRunTime, ev.ScheduledTime, want)
	}
}

func TestWorkerLimitsAndTimeout(t *testing.T) {
	h := newHarness(t, sched.Options{Workers: 5}, sched.HandlerOptions{Workers: 1, Timeout: 30 * time.Second}).start()
	ctx := context.Background()
	h.add(`{"id":"a","trigger":{"type":"interval","hours":1},"action":{"type":"test","block":true}}`, sched.AddOptions{})
	h.add(`{"id":"b","trigger":{"type":"interval","hours":1},"action":{"type":"test","block":true}}`, sched.AddOptions{})
	if err := h.s.RunNow(ctx, "a", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	first := h.run()
	if err := h.s.RunNow(ctx, "b", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	h.event(sched.EventSubmitted)
	h.event(sched.EventSubmitted)
	select {
	case r := <-h.runs:
		t.Fatalf("%s started beside %s: the handler's limit is 1", r.Job.ID, first.Job.ID)
	default:
	}
	// The first run times out (its timer and the loop's are armed), then b gets the slot.
	h.clock.BlockUntil(2)
	h.clock.Advance(30 * time.Second)
	ev := h.event(sched.EventError)
	if ev.JobID != first.Job.ID || !strings.Contains(ev.Error, "timed out") {
		t.Fatalf("error event %+v", ev)
	}
	second := h.run()
	if second.Job.ID == first.Job.ID {
		t.Fatal("the same job ran twice")
	}
	h.release <- struct{}{}
	h.event(sched.EventExecuted)
}

func TestLoadKeepsInvalidJobsPaused(t *testing.T) {
	store := schedtest.NewMemStore()
	next := t0.Add(time.Minute)
	good := sched.Job{ID: "good", Trigger: sched.TriggerSpec{Type: "interval", Minutes: 1, StartDate: t0.Format(time.RFC3339)},
		Action: sched.Action{Type: "test", Raw: []byte(`{"type":"test"}`)}, MaxInstances: 1, Version: 2, NextRunTime: &next, Source: sched.SourceMQTT}
	gone := good
	gone.ID, gone.Action = "gone", sched.Action{Type: "vanished", Raw: []byte(`{"type":"vanished","x":1}`)}
	bad := good
	bad.ID, bad.Action = "bad", sched.Action{Type: "test", Raw: []byte(`{"type":"test","bad":true}`)}
	badToo := bad // the same action: validated once, refused for both
	badToo.ID = "bad-too"
	if err := store.Commit(context.Background(), []sched.Change{{ID: "good", Job: good}, {ID: "gone", Job: gone}, {ID: "bad", Job: bad}, {ID: "bad-too", Job: badToo}}); err != nil {
		t.Fatal(err)
	}
	h := newHarnessOn(t, schedtest.NewFakeClock(t0), store, sched.Options{}, sched.HandlerOptions{})
	if err := h.s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	errs := map[string]string{}
	for _, ev := range h.drain() {
		if ev.Kind == sched.EventError {
			errs[ev.JobID] = ev.Error
		}
	}
	if !strings.Contains(errs["gone"], "vanished") || !strings.Contains(errs["bad"], "action.bad") || errs["bad-too"] != errs["bad"] || len(errs) != 3 {
		t.Fatalf("error events %v", errs)
	}
	list := h.s.List()
	if len(list) != 4 || h.s.Len() != 4 || list[0].ID != "good" {
		t.Fatalf("List: %s", jsonString(list))
	}
	for _, j := range list[1:] {
		if !j.Paused || !strings.HasPrefix(j.LastResult, "invalid: ") || j.NextRunTime != nil {
			t.Errorf("invalid job %s", jsonString(j))
		}
	}
	// Fixing its action makes it valid; it stays paused until resumed.
	ctx := context.Background()
	_, err := h.s.ResumeJob(ctx, "gone", sched.OpOptions{})
	wantCode(t, err, sched.CodeBadRequest)
	j := mustOK(t)(h.s.Modify(ctx, "gone", sched.Patch{Job: sched.Job{Action: good.Action}, Fields: sched.FieldAction}, sched.OpOptions{}))
	if j.LastResult != "" && strings.HasPrefix(j.LastResult, "invalid") {
		t.Errorf("still invalid: %s", jsonString(j))
	}
}

func TestRestartHandlesRunsMissedWhileDown(t *testing.T) {
	// A job every 10 minutes on a grid from 08:00; the agent was down from
	// before 08:30 until 09:00:00 + 2m.
	tests := []struct {
		name     string
		grace    string
		coalesce bool
		submit   []string
		missed   []string
	}{
		{"coalesce within grace", `300`, true, []string{"09:00"}, nil},
		{"coalesce beyond grace", `60`, true, nil, []string{"09:00"}},
		{"each, grace 20m", `1200`, false, []string{"08:50", "09:00"}, []string{"08:30", "08:40"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := schedtest.NewMemStore()
			next := time.Date(2026, 11, 21, 8, 30, 0, 0, time.UTC)
			grace := mustSeconds(t, tc.grace)
			j := sched.Job{ID: "j", Trigger: sched.TriggerSpec{Type: "interval", Minutes: 10, StartDate: "2026-11-21T08:00:00Z"},
				Action: sched.Action{Type: "test", Raw: []byte(`{"type":"test"}`)}, MaxInstances: 5, Coalesce: tc.coalesce,
				MisfireGraceTime: &grace, Version: 1, NextRunTime: &next, Source: sched.SourceMQTT}
			if err := store.Commit(context.Background(), []sched.Change{{ID: "j", Job: j}}); err != nil {
				t.Fatal(err)
			}
			h := newHarnessOn(t, schedtest.NewFakeClock(t0.Add(2*time.Minute)), store, sched.Options{}, sched.HandlerOptions{}).start()
			h.settle(time.Minute) // the next run, 09:10, is 8m away: the wait is capped
			var submitted, missed []string
			for _, ev := range h.drain() {
				switch ev.Kind {
				case sched.EventSubmitted:
					submitted = append(submitted, ev.ScheduledTime.Format("15:04"))
				case sched.EventMissed:
					missed = append(missed, ev.ScheduledTime.Format("15:04"))
				}
			}
			if fmt.Sprint(submitted) != fmt.Sprint(tc.submit) || fmt.Sprint(missed) != fmt.Sprint(tc.missed) {
				t.Fatalf("submitted %v missed %v, want %v %v", submitted, missed, tc.submit, tc.missed)
			}
			got, _ := h.s.Get("j")
			if !got.NextRunTime.Equal(time.Date(2026, 11, 21, 9, 10, 0, 0, time.UTC)) {
				t.Errorf("next run %v: the grid from 08:00 is lost", got.NextRunTime)
			}
		})
	}
}

func mustSeconds(t *testing.T, s string) time.Duration {
	d, err := time.ParseDuration(s + "s")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRunStateIsCheckpointed(t *testing.T) {
	// 20 jobs every second for 10 simulated minutes: one run-state write per
	// checkpoint interval, one commit per job change.
	h := newHarness(t, sched.Options{CheckpointInterval: time.Minute}, sched.HandlerOptions{}).start()
	for i := 0; i < 20; i++ {
		h.add(intervalDoc(fmt.Sprintf("j%02d", i), 1, ""), sched.AddOptions{})
	}
	runs := 0
	for s := 0; s < 600; s++ {
		h.settle(time.Second)
		h.clock.Advance(time.Second)
		// Each run must finish before the next second, or max_instances refuses it.
		for done := 0; done < 20; {
			switch ev := <-h.events; ev.Kind {
			case sched.EventExecuted:
				done++
				runs++
			case sched.EventSubmitted:
			default:
				t.Fatalf("second %d: %s event for %s: %s", s, ev.Kind, ev.JobID, ev.Error)
			}
		}
	}
	if runs != 12000 {
		t.Fatalf("%d runs", runs)
	}
	if c := h.store.Commits(); c != 20 {
		t.Errorf("%d commits, want 20 (the adds)", c)
	}
	if s := h.store.RunStateSaves(); s < 9 || s > 10 {
		t.Errorf("%d run-state saves in 10 minutes at a 1m interval", s)
	}
	if err := h.s.Shutdown(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	j, _ := h.store.Job("j07")
	if j.LastRunTime == nil || !j.LastRunTime.Equal(t0.Add(600*time.Second)) || j.LastResult != "ok" {
		t.Errorf("after shutdown, stored run state %s", jsonString(j))
	}
}

func TestImportIsAllOrNothing(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	ctx := context.Background()
	h.add(intervalDoc("a", 10, ""), sched.AddOptions{})
	decode := func(s string) []sched.Patch {
		ps, err := sched.DecodeJobs([]byte(s), sched.ModeImport)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	_, err := h.s.Import(ctx, decode(`[`+intervalDoc("b", 10, "")+`,`+
		`{"id":"c","trigger":{"type":"interval","seconds":0},"action":{"type":"test"}}]`), sched.OpOptions{})
	var e *sched.Error
	if !errors.As(err, &e) || !strings.HasPrefix(e.Field, "[1].trigger") {
		t.Fatalf("import with a bad trigger: %v", err)
	}
	dup := []sched.Patch{patch(t, intervalDoc("b", 10, "")), patch(t, intervalDoc("b", 20, ""))}
	_, err = h.s.Import(ctx, dup, sched.OpOptions{})
	if !errors.As(err, &e) || e.Field != "[1].id" {
		t.Fatalf("import with a duplicate: %v", err)
	}
	if h.store.Len() != 1 || h.store.Commits() != 1 {
		t.Fatalf("a failed import changed the store")
	}
	jobs, err := h.s.Import(ctx, decode(`[`+intervalDoc("a", 30, "")+`,`+intervalDoc("b", 10, "")+`]`), sched.OpOptions{})
	if err != nil || len(jobs) != 2 || jobs[0].Version != 2 || jobs[1].Version != 1 {
		t.Fatalf("import: %v %s", err, jsonString(jobs))
	}
	if h.store.Commits() != 2 {
		t.Errorf("import took %d commits", h.store.Commits()-1)
	}
}

func TestSyncConfig(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	ctx := context.Background()
	h.add(intervalDoc("remote", 10, ""), sched.AddOptions{OpOptions: sched.OpOptions{Source: sched.SourceMQTT}})
	file := []sched.Patch{patch(t, intervalDoc("f1", 60, "")), patch(t, intervalDoc("f2", 60, ""))}
	if _, err := h.s.SyncConfig(ctx, file); err != nil {
		t.Fatal(err)
	}
	f1, _ := h.s.Get("f1")
	h.clock.Advance(90 * time.Second)
	h.drain()
	// Same file again, later: nothing changes, the grid is kept.
	commits := h.store.Commits()
	if _, err := h.s.SyncConfig(ctx, file); err != nil {
		t.Fatal(err)
	}
	if h.store.Commits() != commits {
		t.Error("an unchanged file was committed again")
	}
	again, _ := h.s.Get("f1")
	if again.Version != f1.Version || again.Trigger.StartDate != f1.Trigger.StartDate {
		t.Errorf("unchanged file job changed: %s -> %s", jsonString(f1), jsonString(again))
	}
	// f2 leaves the file, f1 changes; the remote job is untouched.
	if _, err := h.s.SyncConfig(ctx, []sched.Patch{patch(t, intervalDoc("f1", 60, `,"name":"renamed"`))}); err != nil {
		t.Fatal(err)
	}
	got := map[string]sched.Job{}
	for _, j := range h.s.List() {
		got[j.ID] = j
	}
	if _, ok := got["f2"]; ok || got["f1"].Name != "renamed" || got["f1"].Version != f1.Version+1 || got["remote"].Version != 1 {
		t.Fatalf("after sync: %s", jsonString(h.s.List()))
	}
	if got["f1"].Trigger.StartDate != f1.Trigger.StartDate {
		t.Error("a changed name moved the interval's grid")
	}
	// A file job cannot take a remote job's id: it is skipped and reported,
	// the rest of the file applies, and the remote job stays as it was.
	skipped, err := h.s.SyncConfig(ctx, []sched.Patch{
		patch(t, intervalDoc("f1", 60, `,"name":"renamed"`)),
		patch(t, intervalDoc("remote", 5, "")),
		patch(t, intervalDoc("f3", 60, "")),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 {
		t.Fatalf("skipped %v, want the one file job whose id the remote job holds", skipped)
	}
	wantCode(t, skipped[0], sched.CodeConflict)
	var se *sched.Error
	if !errors.As(skipped[0], &se) || se.Field != "[1].id" || !strings.Contains(se.Message, `"remote"`) {
		t.Errorf("skipped: %v, want it to name [1].id and the job", skipped[0])
	}
	rem, _ := h.s.Get("remote")
	if rem.Source != sched.SourceMQTT || rem.Version != 1 || rem.Trigger.Seconds != 10 {
		t.Errorf("the remote job changed: %s", jsonString(rem))
	}
	if _, err := h.s.Get("f3"); err != nil {
		t.Error("the file job after the skipped one was not added")
	}
	// A broken file job still refuses the whole sync: nothing changes.
	_, err = h.s.SyncConfig(ctx, []sched.Patch{patch(t, intervalDoc("f4", 60, "")),
		patch(t, `{"id":"f5","trigger":{"type":"interval","seconds":5},"action":{"type":"nope"}}`)})
	if err == nil {
		t.Fatal("a sync with a job of an unknown action type was accepted")
	}
	if _, err := h.s.Get("f4"); err == nil {
		t.Error("a refused sync added f4")
	}
	if _, err := h.s.Get("f3"); err != nil {
		t.Error("a refused sync removed f3")
	}
}

// TestRevalidate: what a handler accepts changes (a sensor leaves the
// config on reload, then comes back); Revalidate keeps the jobs, invalid
// and not running, then runs them again.
func TestRevalidate(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(intervalDoc("r", 10, ""), sched.AddOptions{})
	h.add(intervalDoc("p", 10, `,"paused":true`), sched.AddOptions{})
	if got := h.s.Revalidate(); len(got) != 0 {
		t.Fatalf("nothing changed, yet Revalidate reports %v", got)
	}
	h.refuse.Store(true)
	if got := h.s.Revalidate(); strings.Join(got, ",") != "p,r" {
		t.Fatalf("Revalidate reports %v, want p,r", got)
	}
	for _, id := range []string{"p", "r"} {
		if ev := h.event(sched.EventError); ev.JobID != id || !strings.Contains(ev.Error, "is refused now") {
			t.Fatalf("event %+v", ev)
		}
	}
	r, _ := h.s.Get("r")
	if !r.Paused || r.LastResult != "invalid: action: is refused now" || r.NextRunTime != nil {
		t.Fatalf("invalid job: %s", jsonString(r))
	}
	wantCode(t, h.s.RunNow(context.Background(), "r", sched.OpOptions{}), sched.CodeConflict)
	h.settle(time.Minute)             // nothing queued: the loop sleeps its longest wait
	h.clock.Advance(35 * time.Second) // r would have run at 10, 20 and 30 s
	h.noEvent()
	if got := h.s.Revalidate(); len(got) != 0 {
		t.Fatalf("still refused, yet Revalidate reports %v", got)
	}

	h.refuse.Store(false)
	if got := h.s.Revalidate(); strings.Join(got, ",") != "p,r" {
		t.Fatalf("Revalidate reports %v, want p,r", got)
	}
	h.event(sched.EventPaused) // p: valid again, still paused by its user
	h.event(sched.EventResumed)
	p, _ := h.s.Get("p")
	r, _ = h.s.Get("r")
	if !p.Paused || p.LastResult != "" || r.Paused || r.LastResult != "" || !r.NextRunTime.Equal(t0.Add(40*time.Second)) {
		t.Fatalf("valid again: %s %s", jsonString(p), jsonString(r))
	}
	h.clock.Advance(5 * time.Second)
	if ev := h.event(sched.EventSubmitted); ev.JobID != "r" || !ev.ScheduledTime.Equal(t0.Add(40*time.Second)) {
		t.Fatalf("first run after: %+v", ev)
	}
	h.run()
}

func TestPauseSchedulerAndJobs(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	ctx := context.Background()
	h.add(intervalDoc("j", 10, `,"misfire_grace_time":null,"coalesce":true`), sched.AddOptions{})
	h.s.Pause()
	h.settle(time.Minute)
	h.clock.Advance(time.Minute)
	h.settle(time.Minute)
	h.noEvent()
	h.s.Resume()
	ev := h.event(sched.EventSubmitted)
	if !ev.ScheduledTime.Equal(t0.Add(60*time.Second)) || ev.Result["coalesced"] != 5 {
		t.Fatalf("after resume: %+v", ev)
	}
	h.event(sched.EventExecuted)
	j := mustOK(t)(h.s.PauseJob(ctx, "j", sched.OpOptions{}))
	h.event(sched.EventPaused)
	if !j.Paused || j.NextRunTime != nil {
		t.Fatalf("paused job %s", jsonString(j))
	}
	if again := mustOK(t)(h.s.PauseJob(ctx, "j", sched.OpOptions{})); again.Version != j.Version {
		t.Error("pausing a paused job bumped its version")
	}
	h.settle(time.Minute)
	h.clock.Advance(time.Minute)
	h.settle(time.Minute)
	h.noEvent()
	j = mustOK(t)(h.s.ResumeJob(ctx, "j", sched.OpOptions{}))
	h.event(sched.EventResumed)
	if j.NextRunTime == nil || !j.NextRunTime.Equal(t0.Add(120*time.Second)) {
		t.Fatalf("resumed job next run %v, want the grid point at or after now", j.NextRunTime)
	}
}

func TestShutdownCancelsAndWaits(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(`{"id":"slow","trigger":{"type":"interval","hours":1},"action":{"type":"test","block":true}}`, sched.AddOptions{})
	if err := h.s.RunNow(context.Background(), "slow", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	h.run()
	if err := h.s.Shutdown(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	var kinds []sched.EventKind
	for _, ev := range h.drain() {
		kinds = append(kinds, ev.Kind)
	}
	if fmt.Sprint(kinds) != "[submitted error]" {
		t.Fatalf("events %v: the cancelled run must be reported", kinds)
	}
	j, _ := h.store.Job("slow")
	if !strings.HasPrefix(j.LastResult, "error: ") {
		t.Errorf("stored last_result %q after shutdown", j.LastResult)
	}
	_, err := h.s.Add(context.Background(), patch(t, intervalDoc("late", 1, "")), sched.AddOptions{})
	if !errors.Is(err, sched.ErrStopped) {
		t.Errorf("Add after Shutdown: %v", err)
	}
}

func TestUntrustedClockHoldsWallClockJobs(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.s.SetClockTrusted(false)
	h.add(`{"id":"once","trigger":{"type":"date","run_date":"2026-11-21T09:00:05Z"},"action":{"type":"test"}}`, sched.AddOptions{})
	h.add(intervalDoc("tick", 10, ""), sched.AddOptions{})
	h.settle(5 * time.Second)
	h.clock.Advance(5 * time.Second)
	h.settle(5 * time.Second) // held: the loop now waits for the interval job
	h.noEvent()
	h.clock.Advance(5 * time.Second)
	ev := h.event(sched.EventSubmitted)
	if ev.JobID != "tick" {
		t.Fatalf("%s ran while the clock was untrusted", ev.JobID)
	}
	h.event(sched.EventExecuted)
	h.settle(10 * time.Second)
	h.s.SetClockTrusted(true)
	ev = h.event(sched.EventSubmitted)
	if ev.JobID != "once" || !ev.ScheduledTime.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("after trust: %s for %v", ev.JobID, ev.ScheduledTime)
	}
}

func TestListenerMayReadTheScheduler(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.s.Listen(func(ev sched.Event) {
		_, _ = h.s.Get(ev.JobID)
		_ = h.s.List()
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 25; i++ {
					id := fmt.Sprintf("g%d-%d", g, i)
					if _, err := h.s.Add(context.Background(), patch(t, intervalDoc(id, 1, "")), sched.AddOptions{}); err != nil {
						t.Error(err)
					}
					if _, err := h.s.Remove(context.Background(), id, sched.OpOptions{}); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatal("deadlock: a listener reading the scheduler blocked the changes")
	}
	// Events arrive in the order of the changes: for each job, added then removed.
	order := map[string][]sched.EventKind{}
	for _, ev := range h.drain() {
		order[ev.JobID] = append(order[ev.JobID], ev.Kind)
	}
	for id, kinds := range order {
		if fmt.Sprint(kinds) != "[added removed]" {
			t.Errorf("%s: events %v", id, kinds)
		}
	}
	if len(order) != 100 {
		t.Errorf("events for %d jobs, want 100", len(order))
	}
}

func TestReplaceKeepsRunHistory(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(intervalDoc("j", 10, ""), sched.AddOptions{})
	h.settle(10 * time.Second)
	h.clock.Advance(10 * time.Second)
	h.event(sched.EventSubmitted)
	h.event(sched.EventExecuted)
	j, err := h.s.Add(context.Background(), patch(t, intervalDoc("j", 20, "")), sched.AddOptions{ReplaceExisting: true})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := h.store.Job("j")
	for _, got := range []sched.Job{j, stored} {
		if got.LastResult != "ok" || got.LastRunTime == nil || !got.LastRunTime.Equal(t0.Add(10*time.Second)) || got.Version != 2 {
			t.Errorf("replaced job lost its history: %s", jsonString(got))
		}
	}
}

func TestModifyChangesOnlyWhatIsGiven(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	ctx := context.Background()
	h.add(intervalDoc("j", 10, `,"name":"n","max_instances":3`), sched.AddOptions{})
	changes := func(doc string) sched.Patch {
		p, err := sched.DecodeJob([]byte(doc), sched.ModeChanges)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	j := mustOK(t)(h.s.Modify(ctx, "j", changes(`{"misfire_grace_time":null,"coalesce":false}`), sched.OpOptions{}))
	if j.MisfireGraceTime != nil || j.Coalesce || j.Name != "n" || j.MaxInstances != 3 || !j.NextRunTime.Equal(t0.Add(10*time.Second)) {
		t.Fatalf("after modify: %s", jsonString(j))
	}
	h.clock.Advance(5 * time.Second)
	j = mustOK(t)(h.s.Modify(ctx, "j", changes(`{"trigger":{"type":"interval","minutes":1}}`), sched.OpOptions{}))
	if !j.NextRunTime.Equal(t0.Add(65*time.Second)) || j.Trigger.StartDate == "" {
		t.Fatalf("a new trigger must give a new next run from now: %s", jsonString(j))
	}
	_, err := h.s.Modify(ctx, "j", changes(`{"action":{"type":"test","bad":true}}`), sched.OpOptions{})
	wantCode(t, err, sched.CodeBadRequest)
	if got, _ := h.s.Get("j"); got.Version != 3 {
		t.Errorf("a refused modify changed the version: %d", got.Version)
	}
}

func TestTriggerThatEndsKeepsItsJob(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(`{"id":"j","trigger":{"type":"interval","seconds":10,"start_date":"2026-11-21T09:00:00Z","end_date":"2026-11-21T09:00:25Z"},"action":{"type":"test"}}`, sched.AddOptions{})
	for _, at := range []int{0, 10, 20} {
		if at > 0 { // the first grid point is the start_date: due at once
			h.settle(10 * time.Second)
			h.clock.Advance(10 * time.Second)
		}
		if ev := h.event(sched.EventSubmitted); !ev.ScheduledTime.Equal(t0.Add(time.Duration(at) * time.Second)) {
			t.Fatalf("run for %v", ev.ScheduledTime)
		}
		h.event(sched.EventExecuted)
	}
	h.clock.BlockUntil(1)
	j, err := h.s.Get("j")
	if err != nil || j.NextRunTime != nil || j.LastResult != "ok" {
		t.Fatalf("after its end: %s %v", jsonString(j), err)
	}
}

// Load compiles a trigger spec that many stored jobs share once: jobs with
// the same spec get the same fire times, and specs that differ in one field
// (the zone, the minutes) are never taken for one another.
func TestLoadSharesOnlyIdenticalTriggers(t *testing.T) {
	clock, store := schedtest.NewFakeClock(t0), schedtest.NewMemStore()
	cron := sched.TriggerSpec{Type: "cron", Hour: "6", Minute: "0"}
	berlin := cron
	berlin.Timezone = "Europe/Berlin"
	every := func(m float64) sched.TriggerSpec {
		return sched.TriggerSpec{Type: "interval", Minutes: m, StartDate: "2026-11-21T08:59:00Z"}
	}
	act, err := sched.NewAction("test", map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{ // t0 is 2026-11-21 09:00 UTC
		"cron-a":   time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC),
		"cron-b":   time.Date(2026, 11, 22, 5, 0, 0, 0, time.UTC),
		"cron-c":   time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC),
		"every-1":  time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC),
		"every-2":  time.Date(2026, 11, 21, 9, 1, 0, 0, time.UTC),
		"every-1b": time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC),
	}
	specs := map[string]sched.TriggerSpec{"cron-a": cron, "cron-b": berlin, "cron-c": cron,
		"every-1": every(1), "every-2": every(2), "every-1b": every(1)}
	var cs []sched.Change
	for id, spec := range specs { // stored without a next run time: Load computes it
		cs = append(cs, sched.Change{ID: id, Job: sched.Job{ID: id, Trigger: spec, Action: act, MaxInstances: 1, Version: 1}})
	}
	if err := store.Commit(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
	h := newHarnessOn(t, clock, store, sched.Options{}, sched.HandlerOptions{})
	if err := h.s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	for id, w := range want {
		j, err := h.s.Get(id)
		if err != nil || j.NextRunTime == nil || !j.NextRunTime.Equal(w) {
			t.Errorf("%s: next run %v (%v), want %v", id, j.NextRunTime, err, w)
		}
	}
}
