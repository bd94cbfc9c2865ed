package sched_test

import (
	"context"
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
