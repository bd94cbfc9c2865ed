package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
)

// discoveryWatch follows a device's Home Assistant discovery configs:
// the latest payload of each topic.
type discoveryWatch struct {
	mu      sync.Mutex
	latest  map[string]string
	changed chan struct{}
}

func watchDiscovery(t *testing.T, url, dev string) *discoveryWatch {
	t.Helper()
	w := &discoveryWatch{latest: map[string]string{}, changed: make(chan struct{}, 1)}
	c := mqtttest.Client(t, url, nil)
	mqtttest.Wait(t, c.Subscribe("homeassistant/+/"+dev+"/+/config", 1, func(_ paho.Client, m paho.Message) {
		w.mu.Lock()
		w.latest[m.Topic()] = string(m.Payload())
		w.mu.Unlock()
		select {
		case w.changed <- struct{}{}:
		default:
		}
	}))
	return w
}

// waitAnnounced waits until exactly the objects given (component/object)
// have a config, every other topic seen having been cleared.
func (w *discoveryWatch) waitAnnounced(t *testing.T, dev string, objects ...string) {
	t.Helper()
	var want []string
	for _, o := range objects {
		component, object, _ := strings.Cut(o, "/")
		want = append(want, "homeassistant/"+component+"/"+dev+"/"+object+"/config")
	}
	slices.Sort(want)
	deadline := time.After(30 * time.Second)
	for {
		w.mu.Lock()
		var got []string
		for topic, p := range w.latest {
			if p != "" {
				got = append(got, topic)
			}
		}
		w.mu.Unlock()
		slices.Sort(got)
		if slices.Equal(got, want) {
			return
		}
		select {
		case <-w.changed:
		case <-deadline:
			t.Fatalf("discovery configs %v, want %v", got, want)
		}
	}
}

// TestReloadRediscovers: with mqtt.home_assistant on, a SIGHUP that
// changes the sensors and actuators brings Home Assistant's discovery up
// to date at once — new entities announced, removed ones cleared — and an
// actuator removed while the agent was stopped is cleared when it starts.
func TestReloadRediscovers(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev := "ha-" + prefix[len(prefix)-6:]
	t.Cleanup(func() {
		mqtttest.ClearRetained(t, url, "homeassistant/+/"+dev+"/#")
		// The agent's persistent session goes too.
		o := paho.NewClientOptions().SetClientID(mqtt.ClientID(dev)).SetCleanSession(true)
		mqtttest.Client(t, url, o).Disconnect(0)
	})
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.yaml")
	write := func(sensors, actuators string) {
		t.Helper()
		cfg := fmt.Sprintf(`device_id: %[1]s
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %[2]s/agent.db}
control: {socket: %[2]s/agent.sock}
mqtt: {broker: %[3]q, prefix: %[4]q, home_assistant: true}
sensors: %[5]s
actuators: %[6]s
`, dev, dir, url, prefix, sensors, actuators)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w := watchDiscovery(t, url, dev)
	write("[{name: air, driver: sim}]", "[{name: pump, driver: sim, entity: switch}]")
	notify := notifySocket(t)
	var stderr syncBuffer
	stop := startAgent(t, cfgPath, notify, &stderr)
	running := true
	defer func() { // a failed check leaves no agent publishing
		if running {
			stop()
		}
	}()
	w.waitAnnounced(t, dev, "sensor/air_temperature", "switch/pump")

	// air replaced by soil, a fan added (a PWM output: a light).
	write("[{name: soil, driver: sim, quantity: moisture, unit: '%'}]", "[{name: pump, driver: sim, entity: switch}, {name: fan, driver: sim}]")
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitNotify(t, notify, "RELOADING=1", &stderr)
	waitNotify(t, notify, "READY=1", &stderr)
	w.waitAnnounced(t, dev, "sensor/soil_moisture", "light/fan", "switch/pump")
	running = false
	stop()

	// The fan leaves the file while the agent is stopped.
	write("[{name: soil, driver: sim, quantity: moisture, unit: '%'}]", "[{name: pump, driver: sim, entity: switch}]")
	stderr = syncBuffer{}
	stop = startAgent(t, cfgPath, notify, &stderr)
	running = true
	w.waitAnnounced(t, dev, "sensor/soil_moisture", "switch/pump")
}
