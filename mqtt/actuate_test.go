package mqtt_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched"
)

// waitApplied returns the next set command the device applied.
func waitApplied(t *testing.T, dv *device) string {
	t.Helper()
	select {
	case got := <-dv.applied:
		return got
	case <-time.After(guard):
		t.Fatal("no set command applied")
	}
	return ""
}

// noneApplied checks that nothing more was applied, once a request sent
// after everything else is answered (requests are handled in order).
func noneApplied(t *testing.T, r *requester, dv *device, sync string) {
	t.Helper()
	r.do(dv.id, `{"id":"`+sync+`","op":"list"}`)
	select {
	case got := <-dv.applied:
		t.Fatalf("applied %s", got)
	default:
	}
}

// TestActuatorRequest is issue 13's fifth gap: a JSON command with an id
// gets a reply with the jobs API's codes, its id is applied once, and a
// refusal is visible: reply, event with the reason, retained state
// published again.
func TestActuatorRequest(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	dv.agent.ActuatorState("pump", false, nil)
	w := watch(t, url, dv.root()+"/events", dv.root()+"/actuators/+/state")
	w.waitFor(0, "pump state", func(m paho.Message) bool { return string(m.Payload()) == "OFF" })
	set := dv.root() + "/actuators/pump/set"

	r.publish(set, false, `{"id":"a-on","command":"on","expires_at":"2099-01-01T00:00:00Z"}`)
	if rep := r.reply(dev1, "a-on"); rep.Status != "accepted" || rep.Code != "ok" || rep.Actuator != "pump" {
		t.Fatalf("reply: %+v", rep)
	}
	if got := waitApplied(t, dv); got != `pump={"command":"on"}` {
		t.Fatalf("applied %s", got)
	}
	// The same id again: the first reply, not applied again.
	r.publish(set, false, `{"id":"a-on","command":"off"}`)
	noneApplied(t, r, dv, "s1")
	if n := r.replies(dev1, "a-on"); n != 2 {
		t.Fatalf("%d replies to the repeated id", n)
	}

	tests := []struct{ name, payload, id, code string }{
		{"refused by the actuator", `{"id":"a-x","command":"explode"}`, "a-x", "unsafe"},
		{"expired", `{"id":"a-old","command":"on","expires_at":"2020-01-01T00:00:00Z"}`, "a-old", "expired"},
		{"key twice", `{"id":"a-dup","command":"on","command":"off"}`, "a-dup", "bad_request"},
		{"trailing data", `{"id":"a-tr","command":"on"} x`, "a-tr", "bad_request"},
		{"bad expires_at", `{"id":"a-exp","command":"on","expires_at":"soon"}`, "a-exp", "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := len(w.all())
			r.publish(set, false, tt.payload)
			rep := r.reply(dev1, tt.id)
			if rep.Status != "rejected" || string(rep.Code) != tt.code || rep.Actuator != "pump" {
				t.Fatalf("reply %+v, want rejected %s", rep, tt.code)
			}
			w.waitFor(from, "the refusal event", func(m paho.Message) bool {
				var ev mqtt.ActuatorEvent
				return m.Topic() == dv.root()+"/events" && json.Unmarshal(m.Payload(), &ev) == nil &&
					ev.Event == "actuator_refused" && ev.RequestID == tt.id && string(ev.Code) == tt.code && ev.Error != ""
			})
			w.waitFor(from, "the state published again", func(m paho.Message) bool {
				return m.Topic() == dv.root()+"/actuators/pump/state" && string(m.Payload()) == "OFF"
			})
		})
	}
	noneApplied(t, r, dv, "s2")

	// Home Assistant's plain command, refused: no reply (no id), but the
	// event and the state flip back.
	from := len(w.all())
	r.publish(set, false, "EXPLODE")
	w.waitFor(from, "the refusal event of a plain command", func(m paho.Message) bool {
		var ev mqtt.ActuatorEvent
		return json.Unmarshal(m.Payload(), &ev) == nil && ev.Event == "actuator_refused" && ev.Command == "EXPLODE"
	})
	w.waitFor(from, "the state published again", func(m paho.Message) bool {
		return m.Topic() == dv.root()+"/actuators/pump/state" && string(m.Payload()) == "OFF"
	})
}

// TestActuatorRequestDurable: an actuator command's id is recorded before
// it is applied, so a re-send after a restart is answered and not
// applied; a refused command's id is not kept.
func TestActuatorRequestDurable(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	set := dv.root() + "/actuators/pump/set"
	r.publish(set, false, `{"id":"k-on","command":"on"}`)
	if rep := r.reply(dev1, "k-on"); rep.Status != "accepted" {
		t.Fatal(rep)
	}
	waitApplied(t, dv)
	r.publish(set, false, `{"id":"k-x","command":"explode"}`)
	r.reply(dev1, "k-x")
	dv.stop()
	dv.s.Shutdown(t.Context(), true)

	dv2 := newDeviceOn(t, url, prefix, dev1, dv.store).start()
	r.publish(set, false, `{"id":"k-on","command":"on"}`)
	noneApplied(t, r, dv2, "k-sync")
	var last mqtt.Reply
	for _, m := range r.all() {
		var rep mqtt.Reply
		if json.Unmarshal(m.Payload(), &rep) == nil && rep.ID == "k-on" {
			last = rep
		}
	}
	if last.Status != "accepted" || !last.Replayed || last.Actuator != "pump" || last.JobID != "" {
		t.Errorf("k-on after a restart: %+v, want accepted, replayed", last)
	}
	if _, ok := dv2.s.Receipt("k-x"); ok {
		t.Error("a refused command's id was kept")
	}
}

// TestPlainCommandWhileOffline: a plain ON sent while the device was away
// is never applied (it waits in the persistent session and arrives at
// the next connection, before the barrier); a JSON command with a future
// expires_at sent meanwhile is. On Mosquitto and the in-process broker.
func TestPlainCommandWhileOffline(t *testing.T) {
	for _, inProcess := range []bool{false, true} {
		name := "shared"
		if inProcess {
			name = "in-process"
		}
		t.Run(name, func(t *testing.T) {
			url := mqtttest.Shared(t)
			if inProcess {
				url = mqtttest.Start(t, mqtttest.Options{InProcess: true}).URL
			}
			prefix := mqtttest.Prefix(t, url)
			dev1 := uid(prefix, "dev1")
			r := newRequester(t, url, prefix)
			w := watch(t, url, prefix+"/+/events")
			dv := newDevice(t, url, prefix, dev1).start()
			r.waitOnline(dev1)
			_, seen := r.waitFor(0, "online", func(m paho.Message) bool { return string(m.Payload()) == "online" })
			dv.stop()
			r.waitFor(seen, "offline", func(m paho.Message) bool { return string(m.Payload()) == "offline" })

			set := dv.root() + "/actuators/pump/set"
			r.publish(set, false, "ON")
			r.publish(set, false, `{"command":"off"}`)
			r.publish(set, false, `{"id":"o-late","command":"toggle","expires_at":"2099-01-01T00:00:00Z"}`)
			r.publish(set, false, `{"id":"o-noexp","command":"on"}`)
			dv.start()
			if rep := r.reply(dev1, "o-late"); rep.Status != "accepted" {
				t.Fatalf("o-late: %+v", rep)
			}
			if rep := r.reply(dev1, "o-noexp"); rep.Code != "expired" {
				t.Fatalf("o-noexp: %+v, want expired", rep)
			}
			if got := waitApplied(t, dv); got != `pump={"command":"toggle"}` {
				t.Fatalf("applied %s, want only the toggle", got)
			}
			// Each stale command is refused visibly (the in-process broker
			// delivers a session's queue in no particular order).
			for _, cmd := range []string{"ON", `{"command":"off"}`, `{"id":"o-noexp","command":"on"}`} {
				w.waitFor(0, "the refusal of "+cmd, func(m paho.Message) bool {
					var ev mqtt.ActuatorEvent
					return json.Unmarshal(m.Payload(), &ev) == nil && ev.Event == "actuator_refused" && ev.Code == "expired" && ev.Command == cmd
				})
			}
			// Live plain commands work.
			r.publish(set, false, "ON")
			if got := waitApplied(t, dv); got != "pump=ON" {
				t.Fatalf("live ON: applied %s", got)
			}
			noneApplied(t, r, dv, "o-sync")
		})
	}
}

// TestActuatorStatesRepublished is issue 13's sixth gap: the retained
// actuator states are published again at every connection (0 of 300 were
// after a broker restart).
func TestActuatorStatesRepublished(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	prefix := mqtttest.Prefix(t, b.URL)
	dev1 := uid(prefix, "dev1")
	dv := newDevice(t, b.URL, prefix, dev1).start()
	r := newRequester(t, b.URL, prefix)
	r.waitOnline(dev1)
	v := 0.25
	dv.agent.ActuatorState("pump", true, nil)
	dv.agent.ActuatorState("fan", true, &v)
	w := watch(t, b.URL, dv.root()+"/actuators/+/state")
	w.waitCount(dv.root()+"/actuators/fan/state", 1)
	// The broker loses them (as one restarted without persistence would).
	r.publish(dv.root()+"/actuators/pump/state", true, "")
	r.publish(dv.root()+"/actuators/fan/state", true, "")
	if got := mqtttest.Retained(t, b.URL, dv.root()+"/actuators/+/state"); len(got) != 0 {
		t.Fatalf("retained states left: %q", got)
	}
	b.Stop()
	b.Restart(t)
	r2 := newRequester(t, b.URL, prefix)
	r2.waitOnline(dev1)
	// Live or retained, whichever way they come: both states are back.
	w2 := watch(t, b.URL, dv.root()+"/actuators/+/state")
	w2.waitFor(0, "pump state", func(m paho.Message) bool {
		return m.Topic() == dv.root()+"/actuators/pump/state" && string(m.Payload()) == "ON"
	})
	w2.waitFor(0, "fan state", func(m paho.Message) bool {
		return m.Topic() == dv.root()+"/actuators/fan/state" && string(m.Payload()) == `{"state":"ON","value":0.25}`
	})
	if got := mqtttest.Retained(t, b.URL, dv.root()+"/actuators/+/state"); len(got) != 2 {
		t.Errorf("retained states after the reconnection: %q", got)
	}
}

// TestSendActuator: ctl's actuator command carries an id and an
// expires_at at its deadline, and returns the device's reply.
func TestSendActuator(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	dv := newDevice(t, url, prefix, dev1).start()
	r.waitOnline(dev1)
	w := watch(t, url, dv.root()+"/actuators/pump/set")
	cfg := mqtt.Config{Broker: url, Prefix: prefix}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	rep, err := mqtt.SendActuator(ctx, cfg, dev1, "pump", "sa-1", []byte(`{"command":"on"}`), nil)
	if err != nil || rep.Status != "accepted" || rep.Actuator != "pump" || rep.ID != "sa-1" {
		t.Fatalf("SendActuator: %+v %v", rep, err)
	}
	if got := waitApplied(t, dv); got != `pump={"command":"on"}` {
		t.Fatalf("applied %s", got)
	}
	m, _ := w.waitFor(0, "the command", func(m paho.Message) bool { return true })
	var sent struct {
		ID        string    `json:"id"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	deadline, _ := ctx.Deadline()
	if json.Unmarshal(m.Payload(), &sent) != nil || sent.ID != "sa-1" || !sent.ExpiresAt.Equal(deadline) {
		t.Errorf("sent %s, want id sa-1 and expires_at %s", m.Payload(), deadline.UTC().Format(time.RFC3339Nano))
	}
	rep, err = mqtt.SendActuator(ctx, cfg, dev1, "pump", "", []byte(`{"command":"explode"}`), nil)
	if sched.ErrorCode(err) != sched.CodeUnsafe || rep.Status != "rejected" {
		t.Errorf("refused command: %+v %v", rep, err)
	}
	if _, err := mqtt.SendActuator(ctx, cfg, dev1, "pump", "", []byte(`{"command":"on","id":"x"}`), nil); err == nil {
		t.Error("a command carrying its own id was sent")
	}
}
