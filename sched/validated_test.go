package sched_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// TestLoadActionsValidated: with Options.ActionsValidated, Load asks no
// handler's Validate (the stored actions were validated before), and still
// compiles every trigger and looks up every action's handler; Revalidate
// and job changes validate as always.
func TestLoadActionsValidated(t *testing.T) {
	ctx := context.Background()
	next := t0.Add(time.Minute)
	job := func(id, trigger, action string) sched.Job {
		var tr sched.TriggerSpec
		if err := tr.UnmarshalJSON([]byte(trigger)); err != nil {
			t.Fatal(err)
		}
		a := sched.Action{Type: "count", Raw: []byte(action)}
		if strings.Contains(action, "vanished") {
			a.Type = "vanished"
		}
		return sched.Job{ID: id, Trigger: tr, Action: a, MaxInstances: 1, Version: 1, NextRunTime: &next, Source: sched.SourceMQTT}
	}
	interval := `{"type":"interval","minutes":1,"start_date":"2026-11-21T09:00:00Z"}`
	var stored []sched.Job
	for i := range 5 { // five distinct actions
		stored = append(stored, job(fmt.Sprintf("j%d", i), interval, fmt.Sprintf(`{"type":"count","n":%d}`, i)))
	}
	stored = append(stored,
		job("bad-trigger", `{"type":"cron","minute":"61"}`, `{"type":"count","n":9}`),
		job("no-handler", interval, `{"type":"vanished"}`),
		job("refused", interval, `{"type":"count","refuse":true}`))

	for _, tc := range []struct {
		name      string
		validated bool
		calls     int      // Validate calls by Load
		invalid   []string // jobs kept paused as invalid after Load
	}{
		// 6 distinct actions of type count behind valid triggers: each
		// validated once.
		{name: "validating", validated: false, calls: 6, invalid: []string{"bad-trigger", "no-handler", "refused"}},
		// Only what does not depend on Validate is found: a stamp is set
		// only when no job is invalid, so "refused" cannot be stored so.
		{name: "validated before", validated: true, calls: 0, invalid: []string{"bad-trigger", "no-handler"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := schedtest.NewMemStore()
			var changes []sched.Change
			for _, j := range stored {
				changes = append(changes, sched.Change{ID: j.ID, Job: j})
			}
			if err := store.Commit(ctx, changes); err != nil {
				t.Fatal(err)
			}
			calls := 0
			s := sched.New(store, sched.Options{Clock: schedtest.NewFakeClock(t0), Location: time.UTC,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ActionsValidated: tc.validated})
			err := s.Handle("count", sched.HandlerFunc{
				ValidateFunc: func(a sched.Action) error {
					calls++
					if strings.Contains(string(a.Raw), "refuse") {
						return sched.FieldError("action.refuse", "is refused")
					}
					return nil
				},
				RunFunc: func(context.Context, sched.Run) (sched.Result, error) { return nil, nil },
			}, sched.HandlerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Load(ctx); err != nil {
				t.Fatal(err)
			}
			if calls != tc.calls {
				t.Errorf("Load: %d Validate calls, want %d", calls, tc.calls)
			}
			if got := s.Invalid(); got != len(tc.invalid) {
				t.Errorf("Invalid() = %d, want %d", got, len(tc.invalid))
			}
			for _, id := range tc.invalid {
				if j, _ := s.Get(id); !j.Paused || !strings.HasPrefix(j.LastResult, "invalid: ") {
					t.Errorf("%s after Load: %s", id, jsonString(j))
				}
			}
			if j, err := s.Get("j3"); err != nil || j.Paused || j.NextRunTime == nil || !j.NextRunTime.Equal(next) {
				t.Errorf("j3 after Load: %s, %v", jsonString(j), err)
			}
			if j, _ := s.Get("bad-trigger"); !j.Paused || !strings.HasPrefix(j.LastResult, "invalid: trigger") {
				t.Errorf("bad-trigger after Load: %s", jsonString(j))
			}

			// Revalidate validates every action behind a valid trigger
			// again, whatever Load did.
			calls = 0
			changed := s.Revalidate()
			wantCalls, wantChanged := 6, ""
			if tc.validated {
				wantChanged = "refused" // held valid by Load
			}
			if calls != wantCalls || strings.Join(changed, ",") != wantChanged {
				t.Errorf("Revalidate: %d Validate calls, changed %v; want %d, %q", calls, changed, wantCalls, wantChanged)
			}
			// And a change validates its action.
			calls = 0
			_, err = s.Modify(ctx, "j1", sched.Patch{Job: sched.Job{Action: sched.Action{Type: "count", Raw: []byte(`{"type":"count","refuse":1}`)}}, Fields: sched.FieldAction}, sched.OpOptions{})
			wantCode(t, err, sched.CodeBadRequest)
			if calls != 1 {
				t.Errorf("Modify: %d Validate calls, want 1", calls)
			}
		})
	}
}
