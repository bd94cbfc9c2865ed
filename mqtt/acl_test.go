package mqtt_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
)

// TestMosquittoACLExample runs configs/mosquitto-acl.example on a
// Mosquitto: the device serves its own and its group's commands, and
// another device can neither read its commands nor command it.
func TestMosquittoACLExample(t *testing.T) {
	if _, err := exec.LookPath("mosquitto_passwd"); err != nil {
		t.Skip("mosquitto_passwd not installed")
	}
	acl, err := filepath.Abs("../configs/mosquitto-acl.example")
	if err != nil {
		t.Fatal(err)
	}
	passwd := filepath.Join(t.TempDir(), "passwd")
	for i, user := range []string{"greenhouse-1", "greenhouse-2", "fleet-admin"} {
		args := []string{"-b", passwd, user, "pw-" + user}
		if i == 0 {
			args = append([]string{"-c"}, args...)
		}
		if out, err := exec.Command("mosquitto_passwd", args...).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
		}
	}
	b := mqtttest.Start(t, mqtttest.Options{MosquittoConf: "password_file " + passwd + "\nacl_file " + acl})
	as := func(user string) *paho.ClientOptions {
		return paho.NewClientOptions().SetUsername(user).SetPassword("pw-" + user)
	}

	admin := &requester{watcher: &watcher{t: t, notify: make(chan struct{}, 1)}, prefix: "edgecron"}
	admin.c = mqtttest.Client(t, b.URL, as("fleet-admin"))
	mqtttest.Wait(t, admin.c.Subscribe("edgecron/+/jobs/res", 1, admin.add))
	mqtttest.Wait(t, admin.c.Subscribe("edgecron/+/status", 1, admin.add))
	// A discovery config greenhouse-1 announced before, of an entity it
	// no longer has.
	gone := "homeassistant/sensor/greenhouse-1/gone/config"
	admin.publish(gone, true, `{"name":"gone","unique_id":"edgecron-greenhouse-1_gone"}`)
	mqtttest.Wait(t, admin.c.Subscribe(gone, 1, admin.add))

	dv := newDevice(t, b.URL, "edgecron", "greenhouse-1")
	dv.cfg.Username = "greenhouse-1"
	dv.cfg.HomeAssistant = true
	t.Setenv(mqtt.PasswordEnv, "pw-greenhouse-1")
	dv.start(withGroups("greenhouses"))
	admin.waitOnline("greenhouse-1")
	admin.waitFor(0, "the stale discovery config cleared", func(m paho.Message) bool { return m.Topic() == gone && len(m.Payload()) == 0 })

	// Another device eavesdrops on greenhouse-1's commands and tries to
	// command it.
	spy := &watcher{t: t, notify: make(chan struct{}, 1)}
	spy.c = mqtttest.Client(t, b.URL, as("greenhouse-2"))
	mqtttest.Wait(t, spy.c.Subscribe("edgecron/greenhouse-1/#", 1, spy.add))
	mqtttest.Wait(t, spy.c.Publish("edgecron/greenhouse-1/jobs/cmd", 1, false, `{"id":"evil","op":"add","job":`+jobDoc("evil", 5)+`}`))

	if rep := admin.do("greenhouse-1", `{"id":"a1","op":"add","job":`+jobDoc("pump", 60)+`}`); rep.Status != "accepted" {
		t.Fatalf("admin add: %+v", rep)
	}
	// The roster: greenhouse-1 announces itself; greenhouse-2 cannot
	// write its member document.
	member := "edgecron/groups/greenhouses/members/greenhouse-1"
	mqtttest.Wait(t, admin.c.Subscribe(member, 1, admin.add))
	admin.waitFor(0, "greenhouse-1's member document", func(m paho.Message) bool { return m.Topic() == member && len(m.Payload()) > 0 })
	mqtttest.Wait(t, spy.c.Publish(member, 1, true, `{"device_id":"greenhouse-1","status":"forged"}`))
	admin.publish("edgecron/groups/greenhouses/jobs/cmd", false, `{"id":"g1","op":"pause","job_id":"pump"}`)
	if rep := admin.reply("greenhouse-1", "g1"); rep.Status != "accepted" {
		t.Fatalf("group pause: %+v", rep)
	}
	// Home Assistant (as the fleet manager) presses the job's run button;
	// another device cannot.
	mqtttest.Wait(t, spy.c.Publish("edgecron/greenhouse-1/ha/jobs/pump/enabled", 1, false, "OFF"))
	from := len(admin.all())
	admin.publish("edgecron/greenhouse-1/ha/jobs/pump/run", false, "PRESS")
	admin.waitFor(from, "the reply to Home Assistant's run", func(m paho.Message) bool {
		var rep mqtt.Reply
		return m.Topic() == "edgecron/greenhouse-1/jobs/res" && json.Unmarshal(m.Payload(), &rep) == nil &&
			strings.HasPrefix(rep.ID, "ha-") && rep.Status == "accepted"
	})
	if _, ok := dv.store.Job("evil"); ok || admin.replies("greenhouse-1", "evil") != 0 {
		t.Error("another device commanded greenhouse-1")
	}
	if st := dv.agent.Stats(); st.Requests != 3 {
		t.Errorf("greenhouse-1 saw %d requests, want 3 (two requests, one Home Assistant command)", st.Requests)
	}
	if got := mqtttest.RetainedAs(t, b.URL, as("fleet-admin"), "edgecron/groups/+/members/+"); len(got) != 1 ||
		string(got[member]) != `{"device_id":"greenhouse-1","status":"edgecron/greenhouse-1/status"}` {
		t.Errorf("roster = %q", got)
	}
	for _, m := range spy.all() {
		t.Errorf("greenhouse-2 read %s: %s", m.Topic(), m.Payload())
	}

	// agent ctl as the fleet manager.
	cfg := mqtt.Config{Broker: b.URL, Prefix: "edgecron", Username: "fleet-admin"}
	t.Setenv(mqtt.PasswordEnv, "pw-fleet-admin")
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if rep, err := mqtt.Send(ctx, cfg, "greenhouse-1", mqtt.Request{Op: "get", JobID: "pump"}); err != nil || rep.Status != "accepted" {
		t.Fatalf("ctl get: %+v %v", rep, err)
	}
}
