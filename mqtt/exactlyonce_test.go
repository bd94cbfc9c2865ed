package mqtt_test

import (
	"encoding/json"
	"testing"
	"time"

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
