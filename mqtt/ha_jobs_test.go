package mqtt_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"
	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched"
)

// TestHomeAssistantJobs: a job's entities appear when it is added (here
// over MQTT), change when it is renamed (here by the scheduler directly)
// and disappear when it is removed; its button runs it and its
// switch pauses it through the same execution as a request, whose reply
// goes to jobs/res; a refused command is answered there and the job's
// document re-published so the switch flips back; a job not selected by
// home_assistant_jobs gets no entities and its commands are refused. Home
// Assistant's online on <discovery_prefix>/status announces again.
func TestHomeAssistantJobs(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	disc := "ha-" + strings.TrimPrefix(prefix, "edgecron-test-")
	dev := "jobs"
	t.Cleanup(func() { mqtttest.ClearRetained(t, url, disc+"/#") })
	cfg := func(component, object string) string {
		return disc + "/" + component + "/" + dev + "/" + object + "/config"
	}
	entities := func(id string) []string {
		o := "job_" + id
		return []string{cfg("button", o+"_run"), cfg("switch", o), cfg("sensor", o+"_next_run"), cfg("sensor", o+"_last_result")}
	}
	r := newRequester(t, url, prefix)
	w := watch(t, url, disc+"/#", prefix+"/"+dev+"/#")
	dv := newDevice(t, url, prefix, dev).start(withConfig(func(c *mqtt.Config) {
		c.HomeAssistant = true
		c.DiscoveryPrefix = disc
		c.HomeAssistantJobs = mqtt.OnlyJobs("water")
	}))
	r.waitOnline(dev)
	root := dv.root()

	mark := len(w.all())
	if rep := r.do(dev, `{"id":"add-water","op":"add","job":`+jobDoc("water", 3600)+`}`); rep.Status != "accepted" {
		t.Fatalf("add: %+v", rep)
	}
	if rep := r.do(dev, `{"id":"add-other","op":"add","job":`+jobDoc("other", 3600)+`}`); rep.Status != "accepted" {
		t.Fatalf("add: %+v", rep)
	}
	for _, topic := range entities("water") {
		w.waitFor(mark, topic, func(m paho.Message) bool { return m.Topic() == topic && len(m.Payload()) > 0 })
	}

	haReply := func(from int, what string, ok func(mqtt.Reply) bool) mqtt.Reply {
		t.Helper()
		var rep mqtt.Reply
		r.waitFor(from, what, func(m paho.Message) bool {
			return m.Topic() == root+"/jobs/res" && json.Unmarshal(m.Payload(), &rep) == nil &&
				strings.HasPrefix(rep.ID, "ha-") && ok(rep)
		})
		return rep
	}
	from := len(r.all())
	r.publish(root+"/ha/jobs/water/run", false, "PRESS")
	rep := haReply(from, "the run's reply", func(mqtt.Reply) bool { return true })
	if rep.Status != "accepted" || decodeJob(t, rep.Job)["id"] != "water" {
		t.Errorf("run from Home Assistant: %+v", rep)
	}

	from, mark = len(r.all()), len(w.all())
	r.publish(root+"/ha/jobs/water/enabled", false, "OFF")
	rep = haReply(from, "the pause's reply", func(mqtt.Reply) bool { return true })
	if rep.Status != "accepted" || decodeJob(t, rep.Job)["paused"] != true {
		t.Errorf("switch off from Home Assistant: %+v", rep)
	}
	w.waitFor(mark, "the paused document", func(m paho.Message) bool {
		return m.Topic() == root+"/jobs/water" && strings.Contains(string(m.Payload()), `"paused":true`)
	})

	// A payload the switch never sends: refused, answered, and the
	// document sent again.
	from, mark = len(r.all()), len(w.all())
	r.publish(root+"/ha/jobs/water/enabled", false, "MAYBE")
	rep = haReply(from, "the refusal", func(mqtt.Reply) bool { return true })
	if rep.Status != "rejected" || rep.Code != "bad_request" || !strings.Contains(rep.Error, "ON or OFF") {
		t.Errorf("bad payload: %+v", rep)
	}
	w.waitFor(mark, "the document re-published", func(m paho.Message) bool {
		return m.Topic() == root+"/jobs/water" && strings.Contains(string(m.Payload()), `"paused":true`)
	})

	// other is not exposed: no entities, its commands refused.
	from = len(r.all())
	r.publish(root+"/ha/jobs/other/run", false, "PRESS")
	rep = haReply(from, "the refusal of other", func(mqtt.Reply) bool { return true })
	if rep.Status != "rejected" || !strings.Contains(rep.Error, "not exposed") {
		t.Errorf("command for a job not exposed: %+v", rep)
	}
	for _, m := range w.all() {
		if strings.Contains(m.Topic(), "job_other") {
			t.Errorf("entity of a job not exposed announced: %s", m.Topic())
		}
	}

	// Renamed by another path than MQTT (the config, the CLI: the
	// scheduler itself): the entities follow its event.
	mark = len(w.all())
	if _, err := dv.s.Modify(context.Background(), "water", sched.Patch{Job: sched.Job{Name: "Water the beds"}, Fields: sched.FieldName}, sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	w.waitFor(mark, "the switch renamed", func(m paho.Message) bool {
		var c map[string]any
		return m.Topic() == entities("water")[1] && json.Unmarshal(m.Payload(), &c) == nil && c["name"] == "Water the beds"
	})

	// Home Assistant restarts: announced again.
	mark = len(w.all())
	r.publish(disc+"/status", false, "online")
	w.waitFor(mark, "announced again", func(m paho.Message) bool { return m.Topic() == entities("water")[0] && len(m.Payload()) > 0 })

	mark = len(w.all())
	if rep := r.do(dev, `{"id":"rm-water","op":"remove","job_id":"water"}`); rep.Status != "accepted" {
		t.Fatalf("remove: %+v", rep)
	}
	for _, topic := range entities("water") {
		w.waitFor(mark, topic+" cleared", func(m paho.Message) bool { return m.Topic() == topic && len(m.Payload()) == 0 })
	}
	if got := mqtttest.Retained(t, url, disc+"/#"); len(got) != 0 {
		t.Errorf("configs left after the job's removal: %q", got)
	}
}

// TestJobSelectionYAML: home_assistant_jobs is all, none or a list.
func TestJobSelectionYAML(t *testing.T) {
	tests := []struct {
		yaml    string
		want    mqtt.JobSelection
		has, no string
		err     string
	}{
		{"home_assistant_jobs: all", mqtt.AllJobs, "any", "", ""},
		{"home_assistant_jobs: none", mqtt.NoJobs, "", "any", ""},
		{"home_assistant_jobs: [water, vent]", mqtt.OnlyJobs("water", "vent"), "vent", "any", ""},
		{"{}", mqtt.AllJobs, "any", "", ""},
		{"home_assistant_jobs: some", mqtt.AllJobs, "", "", "want all, none or a list of job ids"},
		{"home_assistant_jobs: ['a b']", mqtt.AllJobs, "", "", `mqtt.home_assistant_jobs: [0]: "a b" is not a job id`},
		{"home_assistant_jobs: [a, a]", mqtt.AllJobs, "", "", `mqtt.home_assistant_jobs: [1]: "a" is listed twice`},
		{"discovery_prefix: 'home/assistant'", mqtt.AllJobs, "", "", "mqtt.discovery_prefix:"},
		{"configuration_url: 'ftp://x'", mqtt.AllJobs, "", "", "mqtt.configuration_url:"},
	}
	for _, tt := range tests {
		var c mqtt.Config
		err := yaml.Unmarshal([]byte(tt.yaml), &c)
		if err == nil {
			err = c.WithDefaults().Validate()
		}
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: got %v, want %q", tt.yaml, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tt.yaml, err)
			continue
		}
		if tt.has != "" && !c.HomeAssistantJobs.Has(tt.has) || tt.no != "" && c.HomeAssistantJobs.Has(tt.no) {
			t.Errorf("%s: %+v selects wrongly", tt.yaml, c.HomeAssistantJobs)
		}
		if c.WithDefaults().DiscoveryPrefix != "homeassistant" {
			t.Errorf("%s: default discovery prefix %q", tt.yaml, c.WithDefaults().DiscoveryPrefix)
		}
	}
}

// TestHomeAssistantJobCommandWhileOffline: Home Assistant's plain job
// commands follow the actuators' rule: one that waited in the session
// while the device was away is never applied late.
func TestHomeAssistantJobCommandWhileOffline(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	disc := "ha-" + strings.TrimPrefix(prefix, "edgecron-test-")
	t.Cleanup(func() { mqtttest.ClearRetained(t, url, disc+"/#") })
	dev := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	opt := withConfig(func(c *mqtt.Config) { c.HomeAssistant = true; c.DiscoveryPrefix = disc })
	dv := newDevice(t, url, prefix, dev).start(opt)
	r.waitOnline(dev)
	if rep := r.do(dev, `{"id":"add-water","op":"add","job":`+jobDoc("water", 3600)+`}`); rep.Status != "accepted" {
		t.Fatalf("add: %+v", rep)
	}
	_, seen := r.waitFor(0, "online", func(m paho.Message) bool { return string(m.Payload()) == "online" })
	dv.stop()
	r.waitFor(seen, "offline", func(m paho.Message) bool { return string(m.Payload()) == "offline" })
	r.publish(dv.root()+"/ha/jobs/water/enabled", false, "OFF")
	r.publish(dv.root()+"/ha/jobs/water/run", false, "PRESS")
	dv.start(opt)
	if rep := r.do(dev, `{"id":"sync","op":"get","job_id":"water"}`); rep.Status != "accepted" || decodeJob(t, rep.Job)["paused"] != false {
		t.Fatalf("water after the stale switch-off: %+v", rep)
	}
	if n := dv.runs.Load(); n != 0 {
		t.Errorf("the stale button press ran the job %d times", n)
	}
	if st := dv.agent.Stats(); st.Rejected < 2 {
		t.Errorf("rejected = %d, want the two stale commands counted", st.Rejected)
	}
}
