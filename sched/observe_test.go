package sched_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

func readingDoc(id, trigger, extra string) string {
	return `{"id":"` + id + `","trigger":{"type":"reading",` + trigger + `},"action":{"type":"test"}` + extra + `}`
}

func temp(v float64) []sched.Sample {
	return []sched.Sample{{Name: "temperature", Value: v}, {Name: "humidity", Value: 50}}
}

func TestObserveFiresReadingJob(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	j := h.add(readingDoc("fan-on", `"sensor":"air","above":30,"hysteresis":2`, ""), sched.AddOptions{})
	if j.NextRunTime != nil {
		t.Fatalf("a reading job has next_run_time %v, want null", j.NextRunTime)
	}
	h.s.Observe("air", h.clock.Now(), temp(29))
	h.noEvent()
	at := h.clock.Now()
	h.s.Observe("air", at, temp(31))
	ev := h.event(sched.EventSubmitted)
	if !ev.ScheduledTime.Equal(at) {
		t.Fatalf("scheduled_time %v, want the reading's time %v", ev.ScheduledTime, at)
	}
	r := h.run()
	if r.Job.ID != "fan-on" {
		t.Fatalf("ran %s", r.Job.ID)
	}
	h.event(sched.EventExecuted)
	h.s.Observe("air", at, temp(32)) // still above: fired once, not re-armed
	h.s.Observe("air", at, temp(28.5))
	h.s.Observe("air", at, temp(31))
	h.noEvent()
	h.s.Observe("air", at, temp(28)) // re-arms
	h.s.Observe("air", at, temp(30.5))
	h.event(sched.EventSubmitted)
	h.run()
	h.event(sched.EventExecuted)
	got, _ := h.s.Get("fan-on")
	if got.LastRunTime == nil || !got.LastRunTime.Equal(at) {
		t.Fatalf("last_run_time %v, want %v", got.LastRunTime, at)
	}
	// Another sensor, and a value the trigger does not watch, do nothing.
	h.s.Observe("soil", at, temp(99))
	h.noEvent()
}

func TestObserveNamedValueAndForWindow(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(readingDoc("dry", `"sensor":"air","value":"humidity","below":40,"for":"10m"`, ""), sched.AddOptions{})
	hum := func(v float64) []sched.Sample {
		return []sched.Sample{{Name: "temperature", Value: 20}, {Name: "humidity", Value: v}}
	}
	h.s.Observe("air", h.clock.Now(), hum(35))
	h.clock.Advance(5 * time.Minute)
	h.s.Observe("air", h.clock.Now(), hum(35))
	h.s.ObserveFailure("air") // a failed read closes the window
	h.clock.Advance(5 * time.Minute)
	h.s.Observe("air", h.clock.Now(), hum(35))
	h.noEvent()
	h.clock.Advance(10 * time.Minute)
	h.s.Observe("air", h.clock.Now(), hum(30))
	h.event(sched.EventSubmitted)
	h.run()
	h.event(sched.EventExecuted)
}

func TestObservePausedAndStopped(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{})
	if err := h.s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.add(readingDoc("r", `"sensor":"air","above":30`, ""), sched.AddOptions{})
	h.s.Observe("air", h.clock.Now(), temp(31)) // not started: no run, no state
	h.noEvent()
	h.start()
	h.s.Pause()
	h.s.Observe("air", h.clock.Now(), temp(31))
	h.noEvent()
	h.s.Resume()
	if _, err := h.s.PauseJob(context.Background(), "r", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	h.event(sched.EventPaused)
	h.s.Observe("air", h.clock.Now(), temp(31))
	h.noEvent()
	if _, err := h.s.ResumeJob(context.Background(), "r", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	h.event(sched.EventResumed)
	h.s.Observe("air", h.clock.Now(), temp(31))
	h.event(sched.EventSubmitted)
	h.run()
	h.event(sched.EventExecuted)
}

func TestObserveMaxInstances(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(`{"id":"slow","trigger":{"type":"reading","sensor":"door","edge":"both"},"action":{"type":"test","block":true}}`, sched.AddOptions{})
	door := func(v float64) []sched.Sample { return []sched.Sample{{Name: "state", Value: v}} }
	h.s.Observe("door", h.clock.Now(), door(0))
	h.s.Observe("door", h.clock.Now(), door(1))
	h.event(sched.EventSubmitted)
	h.run()
	h.s.Observe("door", h.clock.Now(), door(0))
	ev := h.event(sched.EventMaxInstances)
	if ev.JobID != "slow" {
		t.Fatalf("max_instances for %s", ev.JobID)
	}
	close(h.release)
	h.event(sched.EventExecuted)
}

func TestObserveUntrustedClockStillFires(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.s.SetClockTrusted(false)
	h.add(readingDoc("heater", `"sensor":"air","below":2`, ""), sched.AddOptions{})
	h.s.Observe("air", h.clock.Now(), temp(1))
	h.event(sched.EventSubmitted)
	h.run()
	h.event(sched.EventExecuted)
}

// A restart in the middle of a `for` window starts the window again at the
// first reading after it: the trigger's state is not stored.
func TestObserveRestartInsideForWindow(t *testing.T) {
	clock, store := schedtest.NewFakeClock(t0), schedtest.NewMemStore()
	h := newHarnessOn(t, clock, store, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(readingDoc("fan", `"sensor":"air","above":30,"for":"10m"`, ""), sched.AddOptions{})
	h.s.Observe("air", clock.Now(), temp(31))
	clock.Advance(8 * time.Minute)
	h.s.Observe("air", clock.Now(), temp(31))
	if err := h.s.Shutdown(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	h2 := newHarnessOn(t, clock, store, sched.Options{}, sched.HandlerOptions{}).start()
	clock.Advance(2 * time.Minute) // 10 minutes since the window opened, 0 since the restart
	h2.s.Observe("air", clock.Now(), temp(31))
	h2.noEvent()
	clock.Advance(10 * time.Minute)
	h2.s.Observe("air", clock.Now(), temp(31))
	h2.event(sched.EventSubmitted)
	h2.run()
	h2.event(sched.EventExecuted)
}

func TestObserveModifiedAndRemoved(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	h.add(readingDoc("r", `"sensor":"air","above":30`, ""), sched.AddOptions{})
	ch, err := sched.DecodeJob([]byte(`{"trigger":{"type":"reading","sensor":"soil","below":10}}`), sched.ModeChanges)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.s.Modify(context.Background(), "r", ch, sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	h.event(sched.EventModified)
	h.s.Observe("air", h.clock.Now(), temp(31))
	h.noEvent()
	h.s.Observe("soil", h.clock.Now(), temp(5))
	h.event(sched.EventSubmitted)
	h.run()
	h.event(sched.EventExecuted)
	if _, err := h.s.Remove(context.Background(), "r", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	h.event(sched.EventRemoved)
	h.s.Observe("soil", h.clock.Now(), temp(20))
	h.s.Observe("soil", h.clock.Now(), temp(5))
	h.noEvent()
}

type inputs struct{ outputs map[string]bool }

func (in inputs) CheckSensor(sensor, value string) error {
	if sensor != "soil" && sensor != "air" {
		return sched.FieldError("", "no sensor %q in the config", sensor)
	}
	return nil
}

func (in inputs) Output(name string) (on, ok bool) { on, ok = in.outputs[name]; return on, ok }

// Water at 6:30 unless the soil is already wet: a cron job with a sensor
// condition, skipped while the reading says wet or is stale.
func TestConditionsSkipRuns(t *testing.T) {
	h := newHarness(t, sched.Options{MaxWait: 48 * time.Hour, CheckpointInterval: 1000 * time.Hour,
		Inputs: inputs{outputs: map[string]bool{"pump": false}}}, sched.HandlerOptions{}).start()
	// t0 is 09:00 UTC; the job fires at 09:30 every day.
	h.add(`{"id":"water","trigger":{"type":"cron","hour":9,"minute":30,"timezone":"UTC"},
		"conditions":[{"sensor":"soil","value":"moisture","below":40,"max_age":"10m"},{"output":"pump","state":"off"}],
		"action":{"type":"test"}}`, sched.AddOptions{})
	soil := func(v float64) []sched.Sample { return []sched.Sample{{Name: "moisture", Value: v}} }
	h.settle(30 * time.Minute)

	// Wet soil: skipped, with the reason; not a run.
	h.clock.Advance(25 * time.Minute)
	h.s.Observe("soil", h.clock.Now(), soil(55))
	h.settle(5 * time.Minute)
	h.clock.Advance(5 * time.Minute)
	ev := h.event(sched.EventSkipped)
	if !strings.Contains(ev.Error, "soil is 55") || ev.ScheduledTime == nil {
		t.Fatalf("skipped event %+v", ev)
	}
	if j, _ := h.s.Get("water"); j.LastRunTime != nil {
		t.Fatalf("a skipped run set last_run_time %v", j.LastRunTime)
	}
	h.settle(24 * time.Hour)

	// Dry, but the reading is 20 minutes old: stale fails the condition.
	h.clock.Advance(24*time.Hour - 20*time.Minute)
	h.s.Observe("soil", h.clock.Now(), soil(30))
	h.settle(20 * time.Minute)
	h.clock.Advance(20 * time.Minute)
	ev = h.event(sched.EventSkipped)
	if !strings.Contains(ev.Error, "20m0s old") {
		t.Fatalf("skipped event %+v", ev)
	}
	h.settle(24 * time.Hour)

	// Dry and fresh: it runs.
	h.clock.Advance(24*time.Hour - time.Minute)
	h.s.Observe("soil", h.clock.Now(), soil(30))
	h.settle(time.Minute)
	h.clock.Advance(time.Minute)
	h.event(sched.EventSubmitted)
	h.run()
	h.event(sched.EventExecuted)
}

func TestConditionsOnReadingJobAndNames(t *testing.T) {
	h := newHarness(t, sched.Options{Inputs: inputs{outputs: map[string]bool{"fan": true}}}, sched.HandlerOptions{}).start()
	// Unknown names are refused when the job is added, naming the field.
	for doc, field := range map[string]string{
		readingDoc("x", `"sensor":"cellar","above":1`, ""):                                           "trigger.sensor",
		readingDoc("x", `"sensor":"air","above":1`, `,"conditions":[{"sensor":"moon","above":1}]`):   "conditions[0].sensor",
		readingDoc("x", `"sensor":"air","above":1`, `,"conditions":[{"output":"tap","state":"on"}]`): "conditions[0].output",
	} {
		_, err := h.s.Add(context.Background(), patch(t, doc), sched.AddOptions{})
		if e, ok := err.(*sched.Error); !ok || e.Field != field {
			t.Fatalf("Add(%s) = %v, want an error on %s", doc, err, field)
		}
	}
	// Fan on above 30 only while it is off: the fan is on, so skipped.
	h.add(readingDoc("fan-on", `"sensor":"air","above":30`, `,"conditions":[{"output":"fan","state":"off"}]`), sched.AddOptions{})
	h.s.Observe("air", h.clock.Now(), temp(31))
	ev := h.event(sched.EventSkipped)
	if !strings.Contains(ev.Error, "fan is on") {
		t.Fatalf("skipped: %q", ev.Error)
	}
	// A clock condition while the clock is untrusted.
	h.add(readingDoc("heat", `"sensor":"air","below":2`, `,"conditions":[{"clock":"trusted"}]`), sched.AddOptions{})
	h.s.SetClockTrusted(false)
	h.s.Observe("air", h.clock.Now(), temp(1))
	ev = h.event(sched.EventSkipped)
	if ev.JobID != "heat" || !strings.Contains(ev.Error, "not trusted") {
		t.Fatalf("skipped %s: %q", ev.JobID, ev.Error)
	}
}

// Jobs loaded with the same reading trigger each keep their own state:
// Load compiles a trigger spec that many jobs share once, but not a
// reading trigger's, whose compiled rule holds the state between readings.
func TestLoadedReadingJobsKeepTheirOwnState(t *testing.T) {
	clock, store := schedtest.NewFakeClock(t0), schedtest.NewMemStore()
	h := newHarnessOn(t, clock, store, sched.Options{}, sched.HandlerOptions{}).start()
	spec := `"sensor":"air","above":30,"hysteresis":2`
	h.add(readingDoc("fan-1", spec, ""), sched.AddOptions{})
	h.add(readingDoc("fan-2", spec, ""), sched.AddOptions{})
	if err := h.s.Shutdown(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	h2 := newHarnessOn(t, clock, store, sched.Options{}, sched.HandlerOptions{}).start()
	h2.s.Observe("air", clock.Now(), temp(31))
	fired := map[string]bool{}
	for range 2 {
		fired[h2.event(sched.EventSubmitted).JobID] = true
	}
	if !fired["fan-1"] || !fired["fan-2"] {
		t.Fatalf("fired %v, want both jobs", fired)
	}
}

// LastReading is the last good reading as Observe got it, a copy: a failed
// read since does not hide it, and changing what it returned changes
// nothing inside.
func TestLastReading(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	if _, _, ok := h.s.LastReading("air"); ok {
		t.Fatal("a reading before the first one")
	}
	at := h.clock.Now()
	h.s.Observe("air", at, temp(21.5))
	h.s.ObserveFailure("air")
	got, vals, ok := h.s.LastReading("air")
	if !ok || !got.Equal(at) || len(vals) != 2 || vals[0] != (sched.Sample{Name: "temperature", Value: 21.5}) {
		t.Fatalf("got %v %v %v", got, vals, ok)
	}
	vals[0].Value = 99
	if _, again, _ := h.s.LastReading("air"); again[0].Value != 21.5 {
		t.Fatalf("the returned values alias the scheduler's: %v", again)
	}
}
