package mqtt_test

import (
	"encoding/json"
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
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
	b1 := mqtttest.Start(t, mqtttest.Options{})
	b2 := mqtttest.Start(t, mqtttest.Options{})
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
