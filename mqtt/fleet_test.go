package mqtt_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched"
)

// The roster: a member document per group, retained, kept while the
// device is offline (its status says so), cleared for a group it left.
func TestRosterMembership(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	id := uid(prefix, "pi")
	members := watch(t, url, prefix+"/groups/+/members/+", prefix+"/+/status")
	dv := newDevice(t, url, prefix, id).start(withGroups("north", "all"))
	want := mqtt.Member{DeviceID: id, Status: prefix + "/" + id + "/status"}
	for _, g := range []string{"north", "all"} {
		topic := prefix + "/groups/" + g + "/members/" + id
		m, _ := members.waitFor(0, "member of "+g, func(m paho.Message) bool { return m.Topic() == topic && len(m.Payload()) > 0 })
		var got mqtt.Member
		if err := json.Unmarshal(m.Payload(), &got); err != nil || got != want {
			t.Fatalf("%s = %s (%v), want %+v", topic, m.Payload(), err, want)
		}
	}
	dv.stop()
	members.waitFor(0, "status offline", func(m paho.Message) bool {
		return m.Topic() == want.Status && string(m.Payload()) == "offline"
	})
	if got := mqtttest.Retained(t, url, prefix+"/groups/+/members/+"); len(got) != 2 {
		t.Fatalf("members while offline: %q, want both kept", got)
	}

	// Restarted with "north" removed from its groups: that document goes.
	from := len(members.all())
	newDeviceOn(t, url, prefix, id, dv.store).start(withGroups("all"))
	north := prefix + "/groups/north/members/" + id
	members.waitFor(from, "north cleared", func(m paho.Message) bool { return m.Topic() == north && len(m.Payload()) == 0 })
	got := mqtttest.Retained(t, url, prefix+"/groups/+/members/+")
	if len(got) != 1 || got[prefix+"/groups/all/members/"+id] == nil {
		t.Fatalf("members after leaving north: %q", got)
	}
}

// With several brokers the agent connects to one that answers, fails over
// when it goes away, and says in <root>/info which one it is on.
func TestBrokerFailover(t *testing.T) {
	b1 := mqtttest.Start(t, mqtttest.Options{InProcess: true})
	b2 := mqtttest.Start(t, mqtttest.Options{InProcess: true})
	b1.Stop()
	prefix := mqtttest.Prefix(t, b1.URL) // b1 is up again at the end
	id := uid(prefix, "pi")
	w2 := watch(t, b2.URL, prefix+"/+/info")
	dv := newDevice(t, b1.URL, prefix, id)
	dv.cfg.Broker, dv.cfg.Brokers = "", []string{b1.URL, b2.URL}
	dv.start()
	onBroker := func(w *watcher, url string) {
		t.Helper()
		w.waitFor(0, "info naming "+url, func(m paho.Message) bool {
			var info mqtt.Info
			return json.Unmarshal(m.Payload(), &info) == nil && info.Broker == url
		})
	}
	onBroker(w2, b2.URL)
	if got := dv.agent.Broker(); got != b2.URL {
		t.Fatalf("Broker() = %q, want %q", got, b2.URL)
	}

	b1.Restart(t)
	w1 := watch(t, b1.URL, prefix+"/+/info")
	b2.Stop()
	onBroker(w1, b1.URL)
	r := newRequester(t, b1.URL, prefix)
	if rep := r.do(id, `{"id":"after-failover","op":"list"}`); rep.Status != mqtt.StatusAccepted {
		t.Fatalf("reply on the second broker: %+v", rep)
	}
}

// A group command: one reply per member of the roster, accepted, rejected
// with its code, or no answer from a member that is offline; a member
// that comes back after the sender gave up never applies it (it expired).
func TestSendGroup(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	a, b, c, other := uid(prefix, "a"), uid(prefix, "b"), uid(prefix, "c"), uid(prefix, "other")
	r := newRequester(t, url, prefix)
	da := newDevice(t, url, prefix, a).start(withGroups("g"))
	newDevice(t, url, prefix, b).start(withGroups("g"))
	dc := newDevice(t, url, prefix, c).start(withGroups("g", "h"))
	newDevice(t, url, prefix, other).start(withGroups("h"))
	for _, id := range []string{a, b, c, other} {
		r.waitOnline(id)
	}
	if rep := r.do(a, `{"id":"add-pump","op":"add","job":`+jobDoc("pump", 60)+`}`); rep.Status != mqtt.StatusAccepted {
		t.Fatalf("add: %+v", rep)
	}
	// c's member document is in the roster before it goes.
	members := watch(t, url, prefix+"/groups/g/members/+")
	members.waitFor(0, "c's member document", func(m paho.Message) bool { return m.Topic() == prefix+"/groups/g/members/"+c })
	dc.stop()
	r.waitFor(0, "c offline", func(m paho.Message) bool {
		return m.Topic() == prefix+"/"+c+"/status" && string(m.Payload()) == "offline"
	})

	cfg := mqtt.Config{Broker: url, Prefix: prefix}
	sent := watch(t, url, prefix+"/groups/g/jobs/cmd")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	got, err := mqtt.SendGroup(ctx, cfg, "g", mqtt.Request{ID: "g-pause", Op: "pause", JobID: "pump"}, mqtt.GroupOptions{})
	if err == nil {
		t.Fatal("SendGroup: no error although b rejected and c did not answer")
	}
	want := map[string]struct{ outcome, status, code string }{
		a: {mqtt.OutcomeAccepted, "online", "ok"},
		b: {mqtt.OutcomeRejected, "online", "not_found"},
		c: {mqtt.OutcomeNoAnswer, "offline", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("replies = %+v, want one per member of g", got)
	}
	for _, g := range got {
		w := want[g.DeviceID]
		code := ""
		if g.Reply != nil {
			code = string(g.Reply.Code)
		}
		if g.Outcome != w.outcome || g.Status != w.status || code != w.code || !g.Member {
			t.Errorf("%s: %+v, want %+v", g.DeviceID, g, w)
		}
	}
	m, _ := sent.waitFor(0, "the group request", func(paho.Message) bool { return true })
	var req mqtt.Request
	if err := json.Unmarshal(m.Payload(), &req); err != nil || req.ExpiresAt == nil {
		t.Fatalf("group request %s carries no expires_at (%v)", m.Payload(), err)
	}

	// c comes back after the deadline (its clock says so): the queued
	// request expired, c answers so and changes nothing.
	dc2 := newDeviceOn(t, url, prefix, c, dc.store)
	dc2.clock.StepWall(req.ExpiresAt.Sub(t0) + time.Minute)
	dc2.start(withGroups("g", "h"))
	if rep := r.reply(c, "g-pause"); rep.Code != "expired" {
		t.Fatalf("c's reply after coming back: %+v, want expired", rep)
	}

	// Everyone online accepts: no error; without expiry, no expires_at.
	sentH := watch(t, url, prefix+"/groups/h/jobs/cmd")
	ctx2, cancel2 := context.WithTimeout(context.Background(), guard)
	defer cancel2()
	got, err = mqtt.SendGroup(ctx2, cfg, "h", mqtt.Request{ID: "h-list", Op: "list"}, mqtt.GroupOptions{NoExpiry: true})
	if err != nil || len(got) != 2 {
		t.Fatalf("SendGroup h: %+v, %v", got, err)
	}
	m, _ = sentH.waitFor(0, "the group request to h", func(paho.Message) bool { return true })
	if req := (mqtt.Request{}); json.Unmarshal(m.Payload(), &req) != nil || req.ExpiresAt != nil {
		t.Fatalf("group request with NoExpiry: %s", m.Payload())
	}
	if job, ok := dc2.store.Job("pump"); ok {
		t.Fatalf("c has a job it was never given: %+v", job)
	}
	if job, _ := da.store.Job("pump"); !job.Paused {
		t.Fatalf("a's pump is not paused: %+v", job)
	}
}

// fleet status: every device of a prefix or of a group, from the retained
// status and info, with the job count and the last failed run.
func TestFleet(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	a, b := uid(prefix, "a"), uid(prefix, "b")
	r := newRequester(t, url, prefix)
	infos := watch(t, url, prefix+"/+/info")
	da := newDevice(t, url, prefix, a)
	fail := sched.HandlerFunc{RunFunc: func(context.Context, sched.Run) (sched.Result, error) {
		return nil, errors.New("sensor unplugged")
	}}
	if err := da.s.Handle("fail", fail, sched.HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	da.start(withGroups("g"))
	db := newDevice(t, url, prefix, b).start()
	r.waitOnline(a)
	r.waitOnline(b)
	add := `{"id":"add-f","op":"add","job":{"id":"f","trigger":{"type":"interval","seconds":60},"action":{"type":"fail"}}}`
	if rep := r.do(a, add); rep.Status != mqtt.StatusAccepted {
		t.Fatalf("add: %+v", rep)
	}
	if rep := r.do(a, `{"id":"run-f","op":"run","job_id":"f"}`); rep.Status != mqtt.StatusAccepted {
		t.Fatalf("run: %+v", rep)
	}
	infos.waitFor(0, "a's info with the job and its error", func(m paho.Message) bool {
		var info mqtt.Info
		return m.Topic() == prefix+"/"+a+"/info" && json.Unmarshal(m.Payload(), &info) == nil &&
			info.Jobs == 1 && info.LastError != nil
	})
	db.stop()
	r.waitFor(0, "b offline", func(m paho.Message) bool {
		return m.Topic() == prefix+"/"+b+"/status" && string(m.Payload()) == "offline"
	})

	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	cfg := mqtt.Config{Broker: url, Prefix: prefix}
	all, err := mqtt.Fleet(ctx, cfg, "")
	if err != nil || len(all) != 2 {
		t.Fatalf("Fleet(prefix) = %+v, %v", all, err)
	}
	ia := all[0].Info
	if all[0].DeviceID != a || !all[0].Online() || ia == nil || ia.Jobs != 1 || ia.Version != "test" || ia.Clock != "synced" ||
		ia.Broker != url || len(ia.Groups) != 1 || ia.LastError.JobID != "f" || ia.LastError.Error != "sensor unplugged" {
		t.Errorf("a = %+v (info %+v)", all[0], ia)
	}
	if all[1].DeviceID != b || all[1].Status != "offline" || all[1].Member {
		t.Errorf("b = %+v", all[1])
	}
	g, err := mqtt.Fleet(ctx, cfg, "g")
	if err != nil || len(g) != 1 || g[0].DeviceID != a || !g[0].Member {
		t.Fatalf("Fleet(g) = %+v, %v", g, err)
	}
	if _, err := mqtt.Fleet(ctx, cfg, "a/b"); err == nil {
		t.Error("Fleet with a group that is no topic level: no error")
	}
}

// A reload's new groups apply at once: the member document of a group
// left is cleared and its commands no longer reach the device; a group
// joined lists it and its commands do.
func TestSetGroups(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	id := uid(prefix, "pi")
	r := newRequester(t, url, prefix)
	members := watch(t, url, prefix+"/groups/+/members/+")
	dv := newDevice(t, url, prefix, id).start(withGroups("a", "b"))
	r.waitOnline(id)
	member := func(g string) string { return prefix + "/groups/" + g + "/members/" + id }
	members.waitFor(0, "member of a", func(m paho.Message) bool { return m.Topic() == member("a") && len(m.Payload()) > 0 })

	if err := dv.agent.SetGroups([]string{"b", "c"}); err != nil {
		t.Fatal(err)
	}
	members.waitFor(0, "a cleared", func(m paho.Message) bool { return m.Topic() == member("a") && len(m.Payload()) == 0 })
	members.waitFor(0, "member of c", func(m paho.Message) bool { return m.Topic() == member("c") && len(m.Payload()) > 0 })
	// The subscription to c is not waited for by SetGroups: wait for the
	// info that lists c, published after it.
	infos := watch(t, url, prefix+"/+/info")
	infos.waitFor(0, "info listing b and c", func(m paho.Message) bool {
		var info mqtt.Info
		return json.Unmarshal(m.Payload(), &info) == nil && strings.Join(info.Groups, ",") == "b,c"
	})
	r.publish(prefix+"/groups/a/jobs/cmd", false, `{"id":"to-a","op":"list"}`)
	r.publish(prefix+"/groups/c/jobs/cmd", false, `{"id":"to-c","op":"list"}`)
	if rep := r.reply(id, "to-c"); rep.Status != mqtt.StatusAccepted {
		t.Fatalf("group c: %+v", rep)
	}
	if n := r.replies(id, "to-a"); n != 0 {
		t.Fatalf("a command of a group left was answered %d times", n)
	}
	if got := dv.agent.Groups(); strings.Join(got, ",") != "b,c" {
		t.Fatalf("Groups() = %q", got)
	}
	if err := dv.agent.SetGroups([]string{"x/y"}); err == nil {
		t.Fatal("SetGroups with a group that is no topic level: no error")
	}
}
