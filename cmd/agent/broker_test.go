package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// retainedIs waits until topic's retained (or latest live) payload
// contains want, on a client of its own: the broker may have restarted
// since the last look.
func retainedIs(t *testing.T, url, topic, want string) {
	t.Helper()
	c := mqtttest.Client(t, url, nil)
	defer c.Disconnect(0)
	got := make(chan string, 64)
	mqtttest.Wait(t, c.Subscribe(topic, 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }))
	deadline := time.After(30 * time.Second)
	for {
		select {
		case p := <-got:
			if strings.Contains(p, want) {
				return
			}
		case <-deadline:
			t.Fatalf("%s never became %q", topic, want)
		}
	}
}

// TestBrokerLostFollowsTheConnection: the outputs' broker_lost timer is
// armed when the MQTT connection is lost and cancelled when it is back, by
// the MQTT agent's connection changes; nothing polls. The outputs run on
// a fake clock, MQTT on a broker the test stops and restarts.
func TestBrokerLostFollowsTheConnection(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	prefix := mqtttest.Prefix(t, b.URL)
	dir := t.TempDir()
	cfg, err := ParseConfig(filepath.Join(dir, "agent.yaml"), []byte(fmt.Sprintf(`device_id: lost
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %[1]s/agent.db}
control: {socket: %[1]s/agent.sock}
mqtt: {broker: %[2]q, prefix: %[3]q}
actuators:
  - {name: pump, driver: sim, safety: {boot: "on", broker_lost: {after: 10m, state: "off"}}}
`, dir, b.URL, prefix)))
	if err != nil {
		t.Fatal(err)
	}
	const after = 10 * time.Minute
	clk := schedtest.NewFakeClock(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	a := &agent{cfg: cfg, log: newLogger(LogConfig{Level: "warn"}, &syncBuffer{}), hwClock: clk}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("agent did not stop")
		}
	}()
	root := prefix + "/lost"
	state, set := root+"/actuators/pump/state", root+"/actuators/pump/set"
	command := func(payload string) {
		t.Helper()
		c := mqtttest.Client(t, b.URL, nil)
		defer c.Disconnect(0)
		mqtttest.Wait(t, c.Publish(set, 1, false, payload))
	}
	armed := func(want int) {
		t.Helper()
		if n := clk.Armed(); n != want {
			t.Fatalf("%d timers armed on the outputs' clock, want %d", n, want)
		}
	}

	// Until the first connection the broker counts as lost; connected
	// (online follows the change), nothing is pending.
	retainedIs(t, b.URL, root+"/status", "online")
	armed(0)

	// Lost: the timer is armed at once, for after; when it runs out the
	// pump goes to its broker_lost state, which the broker learns once it
	// is back (from the outbox, after the reconnection was told).
	b.Stop()
	clk.WaitForTimer(after)
	armed(1)
	clk.Advance(after)
	b.Restart(t)
	retainedIs(t, b.URL, state, `"state":"OFF"`)
	armed(0)

	// Lost again, back before after: the timer is cancelled.
	command("ON")
	retainedIs(t, b.URL, state, `"state":"ON"`)
	b.Stop()
	clk.WaitForTimer(after)
	clk.Advance(after / 2)
	b.Restart(t)
	// The command waits in the agent's session; its state can reach the
	// broker only after the reconnection was told. (It carries expires_at:
	// a plain OFF that waited in the session is refused as sent while
	// the device was away, docs/mqtt.md "Actuator commands".)
	command(`{"command":"off","expires_at":"2099-01-01T00:00:00Z"}`)
	retainedIs(t, b.URL, state, `"state":"OFF"`)
	armed(0)
}
