package sched_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

const bootJob = `{"id":"up","trigger":{"type":"boot","delay":"30s"},"action":{"type":"test"}}`

// A boot job runs once per boot: delay after the scheduler starts in a
// boot, never again on a restart of the agent in the same boot (nor after
// a config sync or a change of its trigger), and again after the next boot.
func TestBootRunsOncePerBoot(t *testing.T) {
	store := schedtest.NewMemStore()
	clock := schedtest.NewFakeClock(t0)
	h := newHarnessOn(t, clock, store, sched.Options{Boot: sched.Boot{ID: "boot-1"}}, sched.HandlerOptions{}).start()
	j := h.add(bootJob, sched.AddOptions{OpOptions: sched.OpOptions{Source: sched.SourceConfig}})
	if j.NextRunTime == nil || !j.NextRunTime.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("next run %v, want the start + 30s", j.NextRunTime)
	}
	h.settle(30 * time.Second)
	clock.Advance(30 * time.Second)
	h.event(sched.EventSubmitted)
	h.run()
	// Its boot is durable before the run starts.
	if st, _ := store.Job("up"); st.Trigger.LastBootID != "boot-1" {
		t.Fatalf("stored trigger %+v: the boot is not recorded", st.Trigger)
	}
	h.event(sched.EventExecuted)
	got, _ := h.s.Get("up")
	if got.NextRunTime != nil || got.Trigger.LastBootID != "boot-1" || got.Version != j.Version {
		t.Fatalf("after the run: %+v", got)
	}
	// Changing the delay, or the config file syncing the job as written,
	// does not run it again in this boot.
	if _, err := h.s.Reschedule(context.Background(), "up", sched.TriggerSpec{Type: "boot", Delay: "1m"}, sched.OpOptions{Source: sched.SourceConfig}); err != nil {
		t.Fatal(err)
	}
	h.event(sched.EventModified)
	if got, _ := h.s.Get("up"); got.NextRunTime != nil || got.Trigger.LastBootID != "boot-1" {
		t.Fatalf("after a reschedule: %+v", got)
	}
	if err := h.s.Shutdown(context.Background(), true); err != nil {
		t.Fatal(err)
	}

	// The agent restarts in the same boot: nothing runs.
	clock.Advance(time.Hour)
	h2 := newHarnessOn(t, clock, store, sched.Options{Boot: sched.Boot{ID: "boot-1"}}, sched.HandlerOptions{}).start()
	if got, _ := h2.s.Get("up"); got.NextRunTime != nil {
		t.Fatalf("a restart in the same boot schedules it again: %+v", got)
	}
	cfg := patch(t, `{"id":"up","trigger":{"type":"boot","delay":"1m"},"action":{"type":"test"}}`)
	if skipped, err := h2.s.SyncConfig(context.Background(), []sched.Patch{cfg}); err != nil || len(skipped) != 0 {
		t.Fatal(skipped, err)
	}
	if got, _ := h2.s.Get("up"); got.NextRunTime != nil {
		t.Fatalf("a config sync in the same boot schedules it again: %+v", got)
	}
	if err := h2.s.Shutdown(context.Background(), true); err != nil {
		t.Fatal(err)
	}

	// The next boot: it runs a minute after the start.
	clock.Advance(time.Hour)
	start := clock.Now()
	h3 := newHarnessOn(t, clock, store, sched.Options{Boot: sched.Boot{ID: "boot-2"}}, sched.HandlerOptions{}).start()
	if got, _ := h3.s.Get("up"); got.NextRunTime == nil || !got.NextRunTime.Equal(start.Add(time.Minute)) {
		t.Fatalf("after a boot: next %v, want %v", got.NextRunTime, start.Add(time.Minute))
	}
	h3.settle(time.Minute)
	clock.Advance(time.Minute)
	h3.event(sched.EventSubmitted)
	h3.run()
}

// A boot job whose boot cannot be recorded does not run (it could run
// again after a restart otherwise); one without a known boot never runs.
func TestBootNotRecordedNotRun(t *testing.T) {
	h := newHarness(t, sched.Options{Boot: sched.Boot{ID: "boot-1"}}, sched.HandlerOptions{}).start()
	h.add(bootJob, sched.AddOptions{})
	h.settle(30 * time.Second)
	h.store.Fail(errors.New("read-only file system"))
	h.clock.Advance(30 * time.Second)
	ev := h.event(sched.EventError)
	if !strings.Contains(ev.Error, "not run") {
		t.Fatalf("error event %q", ev.Error)
	}
	select {
	case r := <-h.runs:
		t.Fatalf("ran %s without recording its boot", r.Job.ID)
	default:
	}

	h2 := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	if j := h2.add(bootJob, sched.AddOptions{}); j.NextRunTime != nil {
		t.Fatalf("with no boot known: next run %v", j.NextRunTime)
	}
}

func TestBootTrigger(t *testing.T) {
	at := time.Date(2026, 6, 1, 6, 0, 0, 0, time.UTC)
	env := sched.Env{Location: time.UTC, Boot: sched.Boot{ID: "b", At: at}}
	tests := []struct {
		doc  string
		want string // first fire time; "" none; "error: ..." prefix of the error
	}{
		{`{"type":"boot"}`, "2026-06-01T06:00:00Z"},
		{`{"type":"boot","delay":"90s"}`, "2026-06-01T06:01:30Z"},
		{`{"type":"boot","delay":"2m","timezone":"Europe/Berlin"}`, "2026-06-01T08:02:00+02:00"},
		{`{"type":"boot","last_boot_id":"a"}`, "2026-06-01T06:00:00Z"},
		{`{"type":"boot","last_boot_id":"b"}`, ""},
		{`{"type":"boot","delay":"-1s"}`, `error: trigger.delay: "-1s": want a duration from 0 to 24h`},
		{`{"type":"boot","delay":"25h"}`, `error: trigger.delay: "25h"`},
		{`{"type":"boot","jitter":5}`, "error: trigger.jitter: not a field of a boot trigger"},
		{`{"type":"or","triggers":[{"type":"boot"},{"type":"cron"}]}`, "error: trigger.triggers[0].type: a boot trigger cannot be a member of an or"},
	}
	for _, tc := range tests {
		var spec sched.TriggerSpec
		err := json.Unmarshal([]byte(tc.doc), &spec)
		var got []time.Time
		if err == nil {
			got, err = sched.Preview(spec, env, at.Add(time.Hour), 3)
		}
		switch {
		case strings.HasPrefix(tc.want, "error: "):
			if err == nil || !strings.HasPrefix(err.Error(), tc.want[len("error: "):]) {
				t.Errorf("%s: error %v, want %s", tc.doc, err, tc.want)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.doc, err)
		case tc.want == "" && len(got) != 0, tc.want != "" && (len(got) != 1 || got[0].Format(time.RFC3339) != tc.want):
			t.Errorf("%s: %v, want %s once", tc.doc, got, tc.want)
		}
	}
}
