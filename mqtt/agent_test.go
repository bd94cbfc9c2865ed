package mqtt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/api/apitest"
	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched"
)

func TestEveryOpAccepted(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	state := watch(t, url, dv.root()+"/jobs/+", dv.root()+"/events")

	rep := r.do(dev1, `{"id":"1","op":"add","job":`+jobDoc("pump", 60)+`}`)
	if rep.Status != "accepted" || rep.Code != "ok" {
		t.Fatalf("add: %+v", rep)
	}
	j := decodeJob(t, rep.Job)
	if j["id"] != "pump" || j["version"] != 1.0 || j["source"] != "mqtt" {
		t.Fatalf("add job = %v", j)
	}
	if len(rep.NextRunTimes) != 5 || rep.NextRunTimes[0] != "2026-11-21T09:01:00Z" || rep.NextRunTimes[1] != "2026-11-21T09:02:00Z" {
		t.Fatalf("next_run_times = %v", rep.NextRunTimes)
	}
	// The store committed before the reply.
	if got, ok := dv.store.Job("pump"); !ok || got.Version != 1 {
		t.Fatalf("store has %+v %v", got, ok)
	}

	steps := []struct {
		req     string
		version float64
		check   func(map[string]any) bool
	}{
		{`{"id":"2","op":"modify","job_id":"pump","changes":{"name":"Water"},"expected_version":1}`, 2,
			func(j map[string]any) bool { return j["name"] == "Water" }},
		{`{"id":"3","op":"reschedule","job_id":"pump","trigger":{"type":"date","run_date":"2026-11-22T06:30:00Z"}}`, 3,
			func(j map[string]any) bool { return j["next_run_time"] == "2026-11-22T06:30:00Z" }},
		{`{"id":"4","op":"pause","job_id":"pump"}`, 4,
			func(j map[string]any) bool { return j["paused"] == true && j["next_run_time"] == nil }},
		{`{"id":"5","op":"resume","job_id":"pump"}`, 5,
			func(j map[string]any) bool { return j["paused"] == false && j["next_run_time"] != nil }},
		{`{"id":"6","op":"get","job_id":"pump"}`, 5, func(j map[string]any) bool { return j["name"] == "Water" }},
		{`{"id":"7","op":"run","job_id":"pump"}`, 5, func(j map[string]any) bool { return true }},
		{`{"id":"8","op":"remove","job_id":"pump","expected_version":5}`, 5, func(j map[string]any) bool { return true }},
	}
	for _, s := range steps {
		rep := r.do(dev1, s.req)
		if rep.Status != "accepted" {
			t.Fatalf("%s: %+v", s.req, rep)
		}
		j := decodeJob(t, rep.Job)
		if j["version"] != s.version || !s.check(j) {
			t.Errorf("%s: job = %v", s.req, j)
		}
	}
	if _, ok := dv.store.Job("pump"); ok {
		t.Fatal("pump still stored after remove")
	}
	rep = r.do(dev1, `{"id":"9","op":"list"}`)
	if rep.Status != "accepted" || string(rep.Jobs) != "[]" {
		t.Fatalf("list after remove: %+v jobs=%s", rep, rep.Jobs)
	}

	// The retained document followed every change and was cleared at the end;
	// the events came in order.
	jobTopic := dv.root() + "/jobs/pump"
	state.waitFor(0, "cleared job document", func(m paho.Message) bool { return m.Topic() == jobTopic && len(m.Payload()) == 0 })
	var kinds []string
	for _, m := range state.all() {
		if m.Topic() == dv.root()+"/events" {
			var e map[string]any
			if err := json.Unmarshal(m.Payload(), &e); err != nil {
				t.Fatal(err)
			}
			kinds = append(kinds, e["event"].(string))
		}
	}
	want := "added modified modified paused resumed"
	if got := strings.Join(kinds, " "); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "removed") {
		t.Errorf("events = %s", got)
	}
	if got := mqtttest.Retained(t, url, dv.root()+"/jobs/+"); len(got) != 0 {
		t.Errorf("retained job documents left: %q", got)
	}
}

func TestEveryOpRejected(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1)
	// A job from the config file, protected from remote changes.
	cfgJob, err := sched.DecodeJob([]byte(jobDoc("fromfile", 60)), sched.ModeAdd)
	if err != nil {
		t.Fatal(err)
	}
	dv.startScheduler()
	if _, err := dv.s.SyncConfig(context.Background(), []sched.Patch{cfgJob}); err != nil {
		t.Fatal(err)
	}
	dv.start()
	r.waitOnline(dev1)
	if rep := r.do(dev1, `{"id":"setup","op":"add","job":`+jobDoc("pump", 60)+`}`); rep.Status != "accepted" {
		t.Fatalf("setup: %+v", rep)
	}
	commits := dv.store.Commits()

	tests := apitest.Rejections // shared with the HTTP API
	for i, tt := range tests {
		t.Run(tt.Name, func(t *testing.T) {
			id := fmt.Sprintf("rej-%d", i)
			rep := r.do(dev1, `{"id":"`+id+`",`+tt.Request[1:])
			if rep.Status != "rejected" || string(rep.Code) != tt.Code || !strings.Contains(rep.Error, tt.ErrHas) || rep.Error == "" {
				t.Errorf("reply %+v, want %s naming %q", rep, tt.Code, tt.ErrHas)
			}
		})
	}
	if n := dv.store.Commits(); n != commits {
		t.Errorf("rejected requests committed %d changes", n-commits)
	}
	if j, _ := dv.store.Job("pump"); j.Version != 1 || j.Name != "" {
		t.Errorf("pump changed: %+v", j)
	}
	if _, ok := dv.store.Job("late"); ok {
		t.Error("expired add was applied")
	}
}

// TestBadPayloads is the bad-payload table over the broker: each gets a
// rejected reply naming the problem when its id can be read, else it is
// counted; nothing changes and the agent keeps serving.
func TestBadPayloads(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	cmd := dv.root() + "/jobs/cmd"

	replied := []struct{ name, payload, field string }{
		{"unknown field", `{"id":"b1","op":"list","colour":1}`, "colour"},
		{"op wrong type", `{"id":"b2","op":5}`, "op"},
		{"unknown op", `{"id":"b3","op":"explode"}`, "op"},
		{"job wrong type", `{"id":"b4","op":"add","job":[1]}`, "job"},
		{"trigger wrong type", `{"id":"b5","op":"reschedule","job_id":"a","trigger":"daily"}`, "trigger"},
		{"invalid trigger", `{"id":"b6","op":"reschedule","job_id":"a","trigger":{"type":"interval","seconds":-5}}`, "trigger.seconds"},
		{"trigger unknown field", `{"id":"b7","op":"reschedule","job_id":"a","trigger":{"type":"interval","seconds":5,"sconds":1}}`, "trigger.sconds"},
		{"version wrong type", `{"id":"b8","op":"pause","job_id":"a","expected_version":"1"}`, "expected_version"},
		{"job field wrong type", `{"id":"b9","op":"add","job":{"id":"x","coalesce":"yes","trigger":{"type":"interval","seconds":5},"action":{"type":"test"}}}`, "job.coalesce"},
		{"trailing data", `{"id":"b10","op":"list"} {"id":"b10x"}`, "payload"},
		// Last-wins would have made this a remove.
		{"duplicate op", `{"id":"b11","op":"add","job":` + jobDoc("dup", 5) + `,"op":"remove"}`, "op"},
	}
	for _, tt := range replied {
		t.Run(tt.name, func(t *testing.T) {
			var head struct{ ID string }
			json.NewDecoder(strings.NewReader(tt.payload)).Decode(&head) // the first object only
			r.publish(cmd, false, tt.payload)
			rep := r.reply(dev1, head.ID)
			if rep.Status != "rejected" || rep.Code != "bad_request" || !strings.HasPrefix(rep.Error, tt.field) {
				t.Errorf("reply %+v, want bad_request naming %s", rep, tt.field)
			}
		})
	}
	unanswered := []string{
		`not json at all`,
		`{"op":"list"}`,
		`{"id":42,"op":"list"}`,
		`{"id":"trunc","op":"li`,
		`{"id":"big","op":"list","pad":"` + strings.Repeat("x", mqtt.MaxPayload) + `"}`,
		"\x00\xff\xfe",
		``,
		"{\"id\":\"u\xff\",\"op\":\"list\"}",
		"{\"id\":\"u\xfe\",\"op\":\"list\"}",
		`{"id":"two","op":"list","id":"ids"}`,
	}
	for _, p := range unanswered {
		r.publish(cmd, false, p)
	}
	// Requests are handled in order: once this one is answered, all the
	// above were handled.
	if rep := r.do(dev1, `{"id":"after","op":"list"}`); rep.Status != "accepted" {
		t.Fatalf("agent stopped serving: %+v", rep)
	}
	st := dv.agent.Stats()
	if st.Unreadable != 9 || st.Oversize != 1 {
		t.Errorf("stats = %+v, want 9 unreadable and 1 oversize", st)
	}
	if r.replies(dev1, "big") != 0 || r.replies(dev1, "trunc") != 0 {
		t.Error("an unreadable payload got a reply")
	}
	if dv.store.Len() != 0 {
		t.Error("a bad payload changed the store")
	}
}

func TestRetainedCommandIgnored(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	// Left retained on the command topic before the agent subscribes.
	r.publish(prefix+"/"+dev1+"/jobs/cmd", true, `{"id":"ret","op":"add","job":`+jobDoc("zombie", 5)+`}`)
	r.publish(prefix+"/"+dev1+"/actuators/pump/set", true, `ON`)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	if rep := r.do(dev1, `{"id":"live","op":"list"}`); rep.Status != "accepted" || string(rep.Jobs) != "[]" {
		t.Fatalf("list: %+v", rep)
	}
	if n := r.replies(dev1, "ret"); n != 0 {
		t.Errorf("retained command got %d replies", n)
	}
	if st := dv.agent.Stats(); st.RetainedIgnored != 2 {
		t.Errorf("retained ignored = %d, want 2", st.RetainedIgnored)
	}
	if _, ok := dv.store.Job("zombie"); ok {
		t.Error("retained command was applied")
	}
	select {
	case p := <-dv.applied:
		t.Errorf("retained set applied: %s", p)
	default:
	}
}

func TestRequestIDReplay(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	first := r.do(dev1, `{"id":"once","op":"add","job":`+jobDoc("pump", 60)+`}`)
	if first.Status != "accepted" {
		t.Fatalf("add: %+v", first)
	}
	commits := dv.store.Commits()
	// The same id again, even with another body: the first reply, nothing changed.
	r.publish(dv.root()+"/jobs/cmd", false, `{"id":"once","op":"remove","job_id":"pump"}`)
	if rep := r.do(dev1, `{"id":"sync","op":"list"}`); rep.Status != "accepted" {
		t.Fatal(rep)
	}
	if n := r.replies(dev1, "once"); n != 2 {
		t.Fatalf("replies to the repeated id = %d, want 2", n)
	}
	var second mqtt.Reply
	for _, m := range r.all() {
		var rep mqtt.Reply
		if json.Unmarshal(m.Payload(), &rep) == nil && rep.ID == "once" {
			second = rep
		}
	}
	if second.Status != first.Status || string(second.Job) != string(first.Job) {
		t.Errorf("second reply %+v differs from the first %+v", second, first)
	}
	if dv.store.Commits() != commits {
		t.Error("the repeated request changed the store")
	}
	if st := dv.agent.Stats(); st.Replayed != 1 {
		t.Errorf("replayed = %d", st.Replayed)
	}
	// A rejected reply is replayed too.
	a := r.do(dev1, `{"id":"bad","op":"get","job_id":"ghost"}`)
	r.publish(dv.root()+"/jobs/cmd", false, `{"id":"bad","op":"get","job_id":"pump"}`)
	r.do(dev1, `{"id":"sync2","op":"list"}`)
	if a.Code != "not_found" || r.replies(dev1, "bad") != 2 {
		t.Errorf("rejected replay: %+v, %d replies", a, r.replies(dev1, "bad"))
	}
}

// TestCommandWhileOffline: a QoS 1 command sent while the agent was away
// arrives through its persistent session when it comes back.
func TestCommandWhileOffline(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	_, seen := r.waitFor(0, "online", func(m paho.Message) bool { return string(m.Payload()) == "online" })
	dv.stop()
	r.waitFor(seen, "offline", func(m paho.Message) bool { return string(m.Payload()) == "offline" })

	r.publish(dv.root()+"/jobs/cmd", false, `{"id":"while-away","op":"add","job":`+jobDoc("pump", 60)+`}`)
	dv.start()
	rep := r.reply(dev1, "while-away")
	if rep.Status != "accepted" {
		t.Fatalf("reply: %+v", rep)
	}
	if _, ok := dv.store.Job("pump"); !ok {
		t.Fatal("command from the session not applied")
	}
}

func TestGroupCommands(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	r := newRequester(t, url, prefix)
	ids := []string{uid(prefix, "gh1"), uid(prefix, "gh2"), uid(prefix, "gh3")}
	var devs []*device
	for _, id := range ids {
		devs = append(devs, newDevice(t, url, prefix, id).start(withGroups("greenhouses")))
		r.waitOnline(id)
	}
	barn := uid(prefix, "barn")
	other := newDevice(t, url, prefix, barn).start(withGroups("barns"))
	r.waitOnline(barn)
	group := prefix + "/groups/greenhouses/jobs/cmd"

	r.publish(group, false, `{"id":"g1","op":"add","job":`+jobDoc("vent", 300)+`}`)
	for i, id := range ids {
		if rep := r.reply(id, "g1"); rep.Status != "accepted" {
			t.Errorf("%s: %+v", id, rep)
		}
		if _, ok := devs[i].store.Job("vent"); !ok {
			t.Errorf("%s has no job vent", id)
		}
	}
	r.publish(group, false, `{"id":"g2","op":"add","job":{"trigger":{"type":"interval","seconds":5},"action":{"type":"test"}}}`)
	for _, id := range ids {
		if rep := r.reply(id, "g2"); rep.Code != "bad_request" || !strings.HasPrefix(rep.Error, "job.id") {
			t.Errorf("%s: add without id: %+v", id, rep)
		}
	}
	r.publish(group, false, `{"id":"g3","op":"pause","job_id":"vent"}`)
	for _, id := range ids {
		if rep := r.reply(id, "g3"); rep.Status != "accepted" {
			t.Errorf("%s: pause: %+v", id, rep)
		}
	}
	if rep := r.do(barn, `{"id":"b","op":"list"}`); string(rep.Jobs) != "[]" {
		t.Errorf("a device of another group took the command: %s", rep.Jobs)
	}
	if n := r.replies(barn, "g1"); n != 0 {
		t.Errorf("barn replied to the greenhouses' command")
	}
	_ = other
}

func TestActuatorSet(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	r.publish(dv.root()+"/actuators/pump/set", false, "ON")
	r.publish(dv.root()+"/actuators/pump/set", false, "EXPLODE")
	r.publish(dv.root()+"/actuators/fan/set", false, `{"command":"pulse","duration":"5s"}`)
	for _, want := range []string{"pump=ON", `fan={"command":"pulse","duration":"5s"}`} {
		select {
		case got := <-dv.applied:
			if got != want {
				t.Errorf("applied %q, want %q", got, want)
			}
		case <-time.After(guard):
			t.Fatalf("set %s not applied", want)
		}
	}
	r.do(dev1, `{"id":"sync","op":"list"}`)
	if st := dv.agent.Stats(); st.SetErrors != 1 {
		t.Errorf("set errors = %d", st.SetErrors)
	}
	// State is retained, ON/OFF or JSON for PWM.
	v := 0.4
	dv.agent.ActuatorState("pump", true, nil)
	dv.agent.ActuatorState("fan", true, &v)
	w := watch(t, url, dv.root()+"/actuators/+/state")
	w.waitFor(0, "fan state", func(m paho.Message) bool { return string(m.Payload()) == `{"state":"ON","value":0.4}` })
	w.waitFor(0, "pump state", func(m paho.Message) bool { return string(m.Payload()) == `ON` })
	if got := mqtttest.Retained(t, url, dv.root()+"/actuators/+/state"); string(got[dv.root()+"/actuators/pump/state"]) != "ON" {
		t.Errorf("retained states: %q", got)
	}
}

func TestInfoAndStatus(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	w := watch(t, url, dv.root()+"/info")
	m, _ := w.waitFor(0, "info", func(m paho.Message) bool { return m.Retained() })
	var info mqtt.Info
	if err := json.Unmarshal(m.Payload(), &info); err != nil {
		t.Fatal(err)
	}
	if info.Version != "test" || info.BootID != "boot-1" || info.Clock != "synced" || info.StartedAt == "" {
		t.Errorf("info = %+v", info)
	}
	dv.stop()
	got := mqtttest.Retained(t, url, dv.root()+"/status")
	if string(got[dv.root()+"/status"]) != "offline" {
		t.Errorf("status after a clean stop = %q", got)
	}
}

// TestLastWillAndReconnect: when the agent's connection dies without a
// DISCONNECT, the broker publishes its will (offline); the agent
// reconnects on its own and announces itself online again.
func TestLastWillAndReconnect(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	p := newProxy(t, url)
	dv := newDevice(t, p.url, prefix, dev1).start()
	r.waitOnline(dev1)
	_, seen := r.waitFor(0, "online", func(m paho.Message) bool { return string(m.Payload()) == "online" })
	if n := dv.agent.Stats().Connects; n != 1 {
		t.Errorf("Connects = %d before the cut, want 1", n)
	}
	p.cut()
	_, seen = r.waitFor(seen+1, "will", func(m paho.Message) bool { return string(m.Payload()) == "offline" })
	p.resume()
	r.waitFor(seen+1, "online again", func(m paho.Message) bool { return string(m.Payload()) == "online" })
	if rep := r.do(dev1, `{"id":"after","op":"list"}`); rep.Status != "accepted" {
		t.Fatalf("after reconnect: %+v", rep)
	}
	if n := dv.agent.Stats().Connects; n != 2 {
		t.Errorf("Connects = %d after one reconnect, want 2", n)
	}
}

type inventory struct{}

func (inventory) Sensors() []mqtt.SensorInfo {
	return []mqtt.SensorInfo{{Name: "air", Values: []mqtt.ValueInfo{{Name: "temperature", Unit: "°C"}, {Name: "humidity", Unit: "%"}}}}
}

func (inventory) Actuators() []mqtt.ActuatorInfo {
	return []mqtt.ActuatorInfo{{Name: "pump"}, {Name: "fan", PWM: true}}
}

func TestHomeAssistantDiscovery(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev := strings.TrimPrefix(prefix, "edgecron-test-") // unique per test
	t.Cleanup(func() { mqtttest.ClearRetained(t, url, "homeassistant/+/"+dev+"/#") })
	r := newRequester(t, url, prefix)
	w := watch(t, url, "homeassistant/+/"+dev+"/#")
	dv := newDevice(t, url, prefix, dev).start(withInventory(inventory{}), withConfig(func(c *mqtt.Config) { c.HomeAssistant = true }))
	r.waitOnline(dev)
	topic := "homeassistant/sensor/" + dev + "/air_temperature/config"
	m, n := w.waitFor(0, "sensor config", func(m paho.Message) bool { return m.Topic() == topic })
	var c map[string]any
	if err := json.Unmarshal(m.Payload(), &c); err != nil {
		t.Fatal(err)
	}
	if c["state_topic"] != dv.root()+"/sensors/air" || c["availability_topic"] != dv.root()+"/status" || c["unit_of_measurement"] != "°C" {
		t.Errorf("sensor config = %v", c)
	}
	w.waitFor(0, "light config", func(m paho.Message) bool { return m.Topic() == "homeassistant/light/"+dev+"/fan/config" })
	// Home Assistant restarts: everything is announced again.
	r.publish("homeassistant/status", false, "online")
	_, n = w.waitFor(n+1, "sensor config again", func(m paho.Message) bool { return m.Topic() == topic })
	// Switched off: the agent clears what it announced.
	dv.stop()
	dv.start(withInventory(inventory{}), withConfig(func(c *mqtt.Config) { c.HomeAssistant = false }))
	// Every announcement is cleared (one publish each), then none is left.
	for _, cleared := range []string{topic, "homeassistant/sensor/" + dev + "/air_humidity/config",
		"homeassistant/switch/" + dev + "/pump/config", "homeassistant/light/" + dev + "/fan/config"} {
		w.waitFor(n+1, cleared+" cleared", func(m paho.Message) bool { return m.Topic() == cleared && len(m.Payload()) == 0 })
	}
	if got := mqtttest.Retained(t, url, "homeassistant/+/"+dev+"/#"); len(got) != 0 {
		t.Errorf("discovery configs left: %q", got)
	}
}

func TestCtlSend(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	cfg := mqtt.Config{Broker: url, Prefix: prefix}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	rep, err := mqtt.Send(ctx, cfg, dev1, mqtt.Request{Op: "add", Job: json.RawMessage(jobDoc("pump", 60))})
	if err != nil || rep.Status != "accepted" {
		t.Fatalf("add: %+v %v", rep, err)
	}
	rep, err = mqtt.Send(ctx, cfg, dev1, mqtt.Request{Op: "get", JobID: "ghost"})
	if err == nil || sched.ErrorCode(err) != sched.CodeNotFound || rep.Status != "rejected" {
		t.Fatalf("get ghost: %+v %v", rep, err)
	}
	// No agent behind the device id: the context ends the wait.
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if _, err := mqtt.Send(short, cfg, "nobody", mqtt.Request{Op: "list"}); err == nil {
		t.Fatal("a request to no agent returned a reply")
	}
	// A malformed request is refused before it is sent.
	if _, err := mqtt.Send(ctx, cfg, dev1, mqtt.Request{Op: "explode"}); sched.ErrorCode(err) != sched.CodeBadRequest {
		t.Fatalf("bad op: %v", err)
	}
}

func TestTLSAgent(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{TLS: true})
	prefix := "tls"
	dv := newDevice(t, b.URL, prefix, "dev1")
	dv.cfg.TLS = mqtt.TLSConfig{CA: b.CAFile, Cert: b.CertFile, Key: b.KeyFile}
	dv.start()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	cfg := dv.cfg
	// ctl retries until the agent is connected: the first request may
	// arrive before it subscribed.
	for {
		try, c := context.WithTimeout(ctx, 500*time.Millisecond)
		rep, err := mqtt.Send(try, cfg, "dev1", mqtt.Request{ID: "tls-1", Op: "list"})
		c()
		if err == nil {
			if rep.Status != "accepted" {
				t.Fatal(rep)
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no reply over TLS: %v", err)
		}
	}
}

// TestStaleJobDocumentCleared: a retained document of a job that was
// removed while the agent was away is cleared when it connects; those of
// existing jobs stay.
func TestStaleJobDocumentCleared(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	r.publish(prefix+"/"+dev1+"/jobs/ghost", true, `{"id":"ghost"}`)
	dv := newDevice(t, url, prefix, dev1)
	dv.startScheduler()
	p, err := sched.DecodeJob([]byte(jobDoc("kept", 60)), sched.ModeAdd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dv.s.Add(context.Background(), p, sched.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	w := watch(t, url, dv.root()+"/jobs/+")
	dv.start()
	w.waitFor(0, "ghost cleared", func(m paho.Message) bool {
		return m.Topic() == dv.root()+"/jobs/ghost" && len(m.Payload()) == 0
	})
	w.waitFor(0, "kept published", func(m paho.Message) bool {
		return m.Topic() == dv.root()+"/jobs/kept" && len(m.Payload()) > 0
	})
	got := mqtttest.Retained(t, url, dv.root()+"/jobs/+")
	if _, ok := got[dv.root()+"/jobs/ghost"]; ok || len(got) != 1 || got[dv.root()+"/jobs/kept"] == nil {
		t.Errorf("retained after connect: %q", got)
	}
}
