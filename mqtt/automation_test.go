package mqtt_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched"
)

// TestReadingJobsOverMQTT: an automation is a job — added, modified,
// paused, resumed and removed over MQTT with versions and replies; its
// runs and skipped runs are events (docs/automations.md).
func TestReadingJobsOverMQTT(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	id := uid(prefix, "auto")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, id).start()
	r.waitOnline(id)
	events := watch(t, url, dv.root()+"/events")
	air := func(v float64) {
		dv.s.Observe("air", dv.clock.Now(), []sched.Sample{{Name: "temperature", Value: v}})
	}
	ran := func() {
		t.Helper()
		select {
		case <-dv.ran:
		case <-time.After(10 * time.Second):
			t.Fatal("the automation did not run")
		}
	}
	event := func(from int, kind string) int {
		t.Helper()
		_, n := events.waitFor(from, kind+" event", func(m paho.Message) bool {
			var e map[string]any
			return json.Unmarshal(m.Payload(), &e) == nil && e["event"] == kind && e["job_id"] == "fan-on"
		})
		return n
	}

	// A bad trigger is refused, naming the field.
	rep := r.do(id, `{"id":"1","op":"add","job":{"id":"fan-on","trigger":{"type":"reading","sensor":"air","change":1,"hysteresis":2},"action":{"type":"test"}}}`)
	if rep.Status != "rejected" || rep.Code != sched.CodeBadRequest || !strings.Contains(rep.Error, "trigger.hysteresis") {
		t.Fatalf("bad add: %+v", rep)
	}
	rep = r.do(id, `{"id":"2","op":"add","job":{"id":"fan-on","trigger":{"type":"reading","sensor":"air","above":30,"hysteresis":2},
		"conditions":[{"clock":"trusted"}],"action":{"type":"test"}}}`)
	if rep.Status != "accepted" || len(rep.NextRunTimes) != 0 {
		t.Fatalf("add: %+v", rep)
	}
	j := decodeJob(t, rep.Job)
	if j["version"] != 1.0 || j["next_run_time"] != nil || j["trigger"].(map[string]any)["above"] != 30.0 || len(j["conditions"].([]any)) != 1 {
		t.Fatalf("add: job = %v", j)
	}
	if got, ok := dv.store.Job("fan-on"); !ok || got.Trigger.Above != "30" || len(got.Conditions) != 1 {
		t.Fatalf("stored %+v %v", got, ok)
	}

	air(31)
	ran()
	n := event(0, "executed")

	// Raise the threshold, on the version read.
	rep = r.do(id, `{"id":"3","op":"modify","job_id":"fan-on","changes":{"trigger":{"type":"reading","sensor":"air","above":35}},"expected_version":1}`)
	if rep.Status != "accepted" || decodeJob(t, rep.Job)["version"] != 2.0 {
		t.Fatalf("modify: %+v", rep)
	}
	air(33) // below the new threshold
	rep = r.do(id, `{"id":"4","op":"pause","job_id":"fan-on","expected_version":2}`)
	if rep.Status != "accepted" {
		t.Fatalf("pause: %+v", rep)
	}
	air(36) // paused: takes no reading
	rep = r.do(id, `{"id":"5","op":"resume","job_id":"fan-on"}`)
	if rep.Status != "accepted" {
		t.Fatalf("resume: %+v", rep)
	}
	// The clock condition fails: skipped, published with the reason.
	dv.s.SetClockTrusted(false)
	air(36)
	m, _ := events.waitFor(n, "skipped event", func(m paho.Message) bool {
		var e map[string]any
		return json.Unmarshal(m.Payload(), &e) == nil && e["event"] == "skipped"
	})
	if !strings.Contains(string(m.Payload()), "not trusted") {
		t.Fatalf("skipped event %s", m.Payload())
	}
	dv.s.SetClockTrusted(true)
	air(30) // re-arms (35 - 0)
	air(36)
	ran()
	if dv.runs.Load() != 2 {
		t.Fatalf("%d runs, want 2", dv.runs.Load())
	}
	rep = r.do(id, `{"id":"6","op":"remove","job_id":"fan-on","expected_version":4}`)
	if rep.Status != "accepted" {
		t.Fatalf("remove: %+v", rep)
	}
	air(20)
	air(40)
	if _, ok := dv.store.Job("fan-on"); ok {
		t.Fatal("still stored after remove")
	}
}
