package httpapi_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	bolt "go.etcd.io/bbolt"

	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/api/apitest"
	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/store/outbox"
)

// TestRequestIDAcrossTransports: MQTT and HTTP share one pipeline, so a
// request id is answered once whichever way it comes: sent over MQTT,
// then again over HTTP (or the other way round), it is applied once and
// the second gets the first answer.
func TestRequestIDAcrossTransports(t *testing.T) {
	d := newDevice(t)
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev := prefix + "-dev"
	db, err := bolt.Open(filepath.Join(t.TempDir(), "agent.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ob, err := outbox.Open(db, outbox.Options{MaxBytes: 1 << 20, MaxAge: time.Hour, Now: d.clock.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := mqtt.Config{Broker: url, Prefix: prefix}
	agent, err := mqtt.New(cfg, mqtt.Deps{DeviceID: dev, Scheduler: d.s, Outbox: ob, API: d.svc, Actuators: d.outs,
		Clock: d.clock, Location: time.UTC, Logger: quiet(), Version: "test", BootID: "boot-1",
		ClockSynced: func() bool { return true }, Backoff: mqtt.Backoff{Min: 5 * time.Millisecond, Max: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		// The agent's persistent session goes with the test: a clean
		// session under its client id discards it.
		o := paho.NewClientOptions().AddBroker(url).SetClientID(mqtt.ClientID(dev)).SetCleanSession(true)
		c := paho.NewClient(o)
		if tok := c.Connect(); tok.WaitTimeout(guard) && tok.Error() == nil {
			c.Disconnect(0)
		}
	})
	for deadline := time.Now().Add(guard); !agent.Connected(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the agent did not connect")
		}
	}
	send := func(req mqtt.Request) mqtt.Reply {
		t.Helper()
		sctx, scancel := context.WithTimeout(context.Background(), guard)
		defer scancel()
		rep, err := mqtt.Send(sctx, cfg, dev, req)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	// MQTT first, then HTTP.
	rep := send(mqtt.Request{ID: "x-1", Op: api.OpAdd, Job: json.RawMessage(apitest.JobDoc("pump", 60))})
	if rep.Status != "accepted" {
		t.Fatalf("MQTT add: %+v", rep)
	}
	commits := d.store.Commits()
	res, b := d.call("POST", "/scheduler/jobs", apitest.JobDoc("pump", 60), "Idempotency-Key", "x-1")
	if res.StatusCode != 200 || res.Header.Get("Idempotent-Replayed") != "true" || job(t, b)["version"] != 1.0 {
		t.Fatalf("HTTP after MQTT: %d %s", res.StatusCode, b)
	}
	if string(b[:len(b)-1]) != string(rep.Job) {
		t.Errorf("HTTP got %s, MQTT %s", b, rep.Job)
	}

	// HTTP first, then MQTT.
	res, b = d.call("POST", "/scheduler/jobs/pump/pause", "", "Idempotency-Key", "x-2")
	if res.StatusCode != 200 || job(t, b)["version"] != 2.0 {
		t.Fatalf("HTTP pause: %d %s", res.StatusCode, b)
	}
	commits++
	rep = send(mqtt.Request{ID: "x-2", Op: api.OpPause, JobID: "pump"})
	if rep.Status != "accepted" || string(rep.Job) != string(b[:len(b)-1]) {
		t.Fatalf("MQTT after HTTP: %+v", rep)
	}
	// An actuator command, HTTP then MQTT.
	res, b = d.call("POST", "/actuators/fan", `{"command":"on"}`, "Idempotency-Key", "x-3")
	if res.StatusCode != 200 {
		t.Fatalf("HTTP command: %d %s", res.StatusCode, b)
	}
	sctx, scancel := context.WithTimeout(context.Background(), guard)
	defer scancel()
	arep, err := mqtt.SendActuator(sctx, cfg, dev, "fan", "x-3", []byte(`{"command":"on"}`), nil)
	if err != nil || arep.Status != "accepted" || arep.Actuator != "fan" {
		t.Fatalf("MQTT command after HTTP: %+v %v", arep, err)
	}
	if d.store.Commits() != commits+1 { // the add, the pause, the command's receipt
		t.Errorf("%d commits, want %d", d.store.Commits(), commits+1)
	}
	if n := d.outs.count(); n != 1 {
		t.Errorf("the command was applied %d times", n)
	}
	if st := agent.Stats(); st.Replayed != 2 {
		t.Errorf("MQTT counted %d replayed, want 2", st.Replayed)
	}
}
