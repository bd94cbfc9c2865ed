package mqtt_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
)

// TestRequestIDDurable is issue 13's first gap: a request id applied
// before a restart is applied again after it. Every change op and a run
// are sent, the device restarts on the same store (the reply lost, as
// when the power goes before the PUBACK: the broker redelivers), and
// every id is sent again: each gets an accepted reply marked replayed,
// with the job's id and version, and nothing changes or runs.
func TestRequestIDDurable(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	sent := []struct{ id, payload, job string }{
		{"d-add", `{"id":"d-add","op":"add","job":` + jobDoc("pump", 3600) + `}`, "pump"},
		{"d-add2", `{"id":"d-add2","op":"add","job":` + jobDoc("fan", 3600) + `}`, "fan"},
		{"d-modify", `{"id":"d-modify","op":"modify","job_id":"pump","changes":{"name":"n"}}`, "pump"},
		{"d-resched", `{"id":"d-resched","op":"reschedule","job_id":"pump","trigger":{"type":"interval","seconds":7200}}`, "pump"},
		{"d-pause", `{"id":"d-pause","op":"pause","job_id":"pump"}`, "pump"},
		{"d-resume", `{"id":"d-resume","op":"resume","job_id":"pump"}`, "pump"},
		{"d-run", `{"id":"d-run","op":"run","job_id":"pump"}`, "pump"},
		{"d-remove", `{"id":"d-remove","op":"remove","job_id":"fan"}`, "fan"},
	}
	versions := map[string]int64{}
	for _, s := range sent {
		rep := r.do(dev1, s.payload)
		if rep.Status != "accepted" {
			t.Fatalf("%s: %+v", s.id, rep)
		}
		versions[s.id] = int64(decodeJob(t, rep.Job)["version"].(float64))
	}
	waitRuns(t, dv, 1)
	commits := dv.store.Commits()
	dv.stop()
	dv.s.Shutdown(t.Context(), true)

	dv2 := newDeviceOn(t, url, prefix, dev1, dv.store).start()
	for _, s := range sent {
		r.publish(dv2.root()+"/jobs/cmd", false, s.payload)
	}
	r.do(dev1, `{"id":"d-sync","op":"list"}`)
	for _, s := range sent {
		if n := r.replies(dev1, s.id); n != 2 {
			t.Errorf("%s: %d replies, want 2", s.id, n)
		}
		var last map[string]any
		for _, m := range r.all() {
			if rep := decodeReply(m.Payload()); rep != nil && rep["id"] == s.id {
				last = rep
			}
		}
		if last["status"] != "accepted" || last["replayed"] != true || last["job_id"] != s.job ||
			int64(last["version"].(float64)) != versions[s.id] {
			t.Errorf("%s again after a restart: %v, want accepted, replayed, %s version %d", s.id, last, s.job, versions[s.id])
		}
	}
	if dv2.store.Commits() != commits {
		t.Errorf("the re-sent requests made %d commits", dv2.store.Commits()-commits)
	}
	if j, _ := dv2.s.Get("pump"); j.Version != 5 || j.Paused {
		t.Errorf("pump after the re-sends: version %d paused %v, want 5, running", j.Version, j.Paused)
	}
	if _, err := dv2.s.Get("fan"); err == nil {
		t.Error("the re-sent add brought back a removed job")
	}
	if n := dv2.runs.Load(); n != 0 {
		t.Errorf("the re-sent run ran %d times after the restart", n)
	}
}

// waitRuns waits for n runs of the device's handler.
func waitRuns(t *testing.T, dv *device, n int) {
	t.Helper()
	for range n {
		select {
		case <-dv.ran:
		case <-time.After(guard):
			t.Fatalf("%d runs, want %d", dv.runs.Load(), n)
		}
	}
}

func decodeReply(b []byte) map[string]any {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

// TestOneShotDocumentStaysCleared is issue 13's sixth gap, second half: a
// date job's retained document is cleared when it runs and stays so (it
// was cleared, then published again by the run's event).
func TestOneShotDocumentStaysCleared(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	w := watch(t, url, dv.root()+"/jobs/once", dv.root()+"/events")
	rep := r.do(dev1, `{"id":"o1","op":"add","job":{"id":"once","trigger":{"type":"date","run_date":"2026-11-21T09:00:10Z"},"action":{"type":"test"}}}`)
	if rep.Status != "accepted" {
		t.Fatal(rep)
	}
	w.waitFor(0, "the document", func(m paho.Message) bool { return m.Topic() == dv.root()+"/jobs/once" && len(m.Payload()) > 0 })
	dv.clock.Advance(10 * time.Second)
	waitRuns(t, dv, 1)
	_, at := w.waitFor(0, "the executed event", func(m paho.Message) bool {
		ev := decodeReply(m.Payload())
		return m.Topic() == dv.root()+"/events" && ev["event"] == "executed" && ev["job_id"] == "once"
	})
	// Events reach the agent one at a time, and what it publishes for
	// them goes out in order: once the next event is out, whatever the
	// executed event made the agent publish is out too.
	r.do(dev1, `{"id":"o-next","op":"add","job":`+jobDoc("next", 3600)+`}`)
	w.waitFor(at, "the next event", func(m paho.Message) bool {
		ev := decodeReply(m.Payload())
		return m.Topic() == dv.root()+"/events" && ev["event"] == "added" && ev["job_id"] == "next"
	})
	var last []byte
	cleared := false
	for _, m := range w.all() {
		if m.Topic() == dv.root()+"/jobs/once" {
			last = m.Payload()
			cleared = cleared || len(last) == 0
		}
	}
	if !cleared || len(last) != 0 {
		t.Errorf("the one-shot job's document: cleared %v, last %q (event at %d)", cleared, last, at)
	}
	if got := mqtttest.Retained(t, url, dv.root()+"/jobs/once"); len(got) != 0 {
		t.Errorf("retained after the run: %q", got)
	}
}

// TestCtlGaveUp is issue 13's fifth gap, last part: `ctl` reported "no
// reply" and the queued request still ran when the device came back. Send
// now gives every request an expires_at at its own deadline.
func TestCtlGaveUp(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	_, seen := r.waitFor(0, "online", func(m paho.Message) bool { return string(m.Payload()) == "online" })
	dv.stop()
	r.waitFor(seen, "offline", func(m paho.Message) bool { return string(m.Payload()) == "offline" })

	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := mqtt.Send(short, mqtt.Config{Broker: url, Prefix: prefix}, dev1,
		mqtt.Request{ID: "gave-up", Op: "add", Job: json.RawMessage(jobDoc("late", 60))})
	if err == nil {
		t.Fatal("a request to an offline device got a reply")
	}
	// The device comes back later, its clock past ctl's deadline.
	deadline, _ := short.Deadline()
	dv.clock.Advance(deadline.Sub(dv.clock.Now()) + time.Second)
	dv.start()
	if rep := r.reply(dev1, "gave-up"); rep.Code != "expired" {
		t.Fatalf("reply %+v, want expired", rep)
	}
	if _, ok := dv.store.Job("late"); ok {
		t.Fatal("a request ctl gave up on was executed")
	}
}

// TestCommandNotHandledComesAgain: a command is acknowledged to the
// broker only once handled, so one that was delivered but not yet handled
// when the agent stopped (or died) comes again at the next start and is
// executed then; it was lost before (acknowledged on arrival).
func TestCommandNotHandledComesAgain(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	queued := logWatch{want: "command queued", ch: make(chan string, 10)}
	dv := newDevice(t, url, prefix, dev1).start(func(_ *device, d *mqtt.Deps) { d.Logger = slog.New(queued) })
	r.waitOnline(dev1)
	// The worker is held by this command until the agent stops...
	r.publish(dv.root()+"/actuators/pump/set", false, `{"id":"hold","command":"block"}`)
	// ...so this one is delivered and waits in the queue.
	r.publish(dv.root()+"/jobs/cmd", false, `{"id":"queued","op":"add","job":`+jobDoc("pump", 60)+`}`)
	r.publish(dv.root()+"/jobs/cmd", false, `{"id":"queued-too","op":"add","job":`+jobDoc("fan", 60)+`}`)
	for range 3 {
		receive(t, queued.ch, "a command queued on the device")
	}
	dv.stop()
	dv.s.Shutdown(t.Context(), true)
	if _, ok := dv.store.Job("pump"); ok {
		t.Fatal("the queued request was handled before the stop: the test proves nothing")
	}
	dv2 := newDeviceOn(t, url, prefix, dev1, dv.store).start()
	for _, id := range []string{"queued", "queued-too"} {
		if rep := r.reply(dev1, id); rep.Status != "accepted" {
			t.Fatalf("%s after the restart: %+v", id, rep)
		}
	}
	if _, ok := dv2.store.Job("fan"); !ok {
		t.Fatal("the second queued request was not executed")
	}
}
