package mqtt_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
)

// liveInventory is an inventory a test changes, as a config reload
// changes the agent's sensors and actuators.
type liveInventory struct {
	mu        sync.Mutex
	sensors   []mqtt.SensorInfo
	actuators []mqtt.ActuatorInfo
}

func (i *liveInventory) Sensors() []mqtt.SensorInfo {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.Clone(i.sensors)
}

func (i *liveInventory) Actuators() []mqtt.ActuatorInfo {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.Clone(i.actuators)
}

func (i *liveInventory) set(s []mqtt.SensorInfo, a []mqtt.ActuatorInfo) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.sensors, i.actuators = s, a
}

// haDevice is a device id unique to the test, whose discovery configs
// (under the fixed prefix homeassistant/) are cleared at cleanup.
func haDevice(t *testing.T, url, prefix string) string {
	dev := strings.TrimPrefix(prefix, "edgecron-test-")
	t.Cleanup(func() { mqtttest.ClearRetained(t, url, "homeassistant/+/"+dev+"/#") })
	return dev
}

func haOn(c *mqtt.Config) { c.HomeAssistant = true }

// configTopics returns the retained discovery config topics of dev, sorted.
func configTopics(t *testing.T, url, dev string) []string {
	t.Helper()
	return slices.Sorted(maps.Keys(mqtttest.Retained(t, url, "homeassistant/+/"+dev+"/#")))
}

// TestHomeAssistantRediscover: after the inventory changed (a config
// reload), Rediscover announces the new and changed entities at once and
// clears those gone; an unchanged one is not announced again.
func TestHomeAssistantRediscover(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev := haDevice(t, url, prefix)
	cfg := func(component, object string) string {
		return "homeassistant/" + component + "/" + dev + "/" + object + "/config"
	}
	inv := &liveInventory{}
	inv.set([]mqtt.SensorInfo{{Name: "air", Values: []mqtt.ValueInfo{{Name: "temperature", Unit: "°C"}, {Name: "humidity", Unit: "%"}, {Name: "pressure", Unit: "hPa"}}}},
		[]mqtt.ActuatorInfo{{Name: "pump"}, {Name: "fan", PWM: true}})
	w := watch(t, url, "homeassistant/+/"+dev+"/#")
	dv := newDevice(t, url, prefix, dev).start(withInventory(inv), withConfig(haOn))
	for _, topic := range []string{cfg("sensor", "air_temperature"), cfg("sensor", "air_humidity"), cfg("switch", "pump"), cfg("light", "fan")} {
		w.waitFor(0, topic, func(m paho.Message) bool { return m.Topic() == topic && len(m.Payload()) > 0 })
	}

	// The reload: air loses its humidity, soil comes, the pump becomes
	// PWM (a light now), the fan goes.
	inv.set([]mqtt.SensorInfo{
		{Name: "air", Values: []mqtt.ValueInfo{{Name: "temperature", Unit: "°C"}, {Name: "pressure", Unit: "hPa"}}},
		{Name: "soil", Values: []mqtt.ValueInfo{{Name: "moisture", Unit: "%"}}},
	}, []mqtt.ActuatorInfo{{Name: "pump", PWM: true}})
	mark := len(w.all())
	dv.agent.Rediscover()
	for _, topic := range []string{cfg("sensor", "air_humidity"), cfg("light", "fan"), cfg("switch", "pump")} {
		w.waitFor(mark, topic+" cleared", func(m paho.Message) bool { return m.Topic() == topic && len(m.Payload()) == 0 })
	}
	w.waitFor(mark, "soil announced", func(m paho.Message) bool {
		return m.Topic() == cfg("sensor", "soil_moisture") && len(m.Payload()) > 0
	})
	w.waitFor(mark, "pump announced as a light", func(m paho.Message) bool {
		var c map[string]any
		return m.Topic() == cfg("light", "pump") && json.Unmarshal(m.Payload(), &c) == nil && c["brightness_template"] != nil
	})
	for _, m := range w.all()[mark:] {
		if m.Topic() == cfg("sensor", "air_temperature") {
			t.Errorf("the unchanged air_temperature was announced again")
		}
	}
	want := []string{cfg("light", "pump"), cfg("sensor", "air_pressure"), cfg("sensor", "air_temperature"), cfg("sensor", "soil_moisture")}
	if got := configTopics(t, url, dev); !slices.Equal(got, want) {
		t.Errorf("retained configs %v, want %v", got, want)
	}
}

// TestHomeAssistantClearedAcrossRestarts: the agent clears the retained
// discovery configs of entities it no longer has when it connects — an
// entity removed while it was stopped, or every one of its own once
// home_assistant is off — learning them from the broker, not from a list
// of its own. Another program's config of the same shape stays.
func TestHomeAssistantClearedAcrossRestarts(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev := haDevice(t, url, prefix)
	cfg := func(component, object string) string {
		return "homeassistant/" + component + "/" + dev + "/" + object + "/config"
	}
	foreign := cfg("sensor", "foreign")
	r := newRequester(t, url, prefix)
	r.publish(foreign, true, `{"name":"not ours","unique_id":"someone-else_foreign","state_topic":"x"}`)
	w := watch(t, url, "homeassistant/+/"+dev+"/#")
	inv := &liveInventory{}
	inv.set([]mqtt.SensorInfo{{Name: "air", Values: []mqtt.ValueInfo{{Name: "temperature", Unit: "°C"}, {Name: "humidity", Unit: "%"}}}},
		[]mqtt.ActuatorInfo{{Name: "pump"}, {Name: "fan"}})
	dv := newDevice(t, url, prefix, dev).start(withInventory(inv), withConfig(haOn))
	for _, topic := range []string{cfg("sensor", "air_humidity"), cfg("switch", "fan")} {
		w.waitFor(0, topic, func(m paho.Message) bool { return m.Topic() == topic && len(m.Payload()) > 0 })
	}
	dv.stop()

	// Restarted without the humidity value and the fan.
	inv.set([]mqtt.SensorInfo{{Name: "air", Values: []mqtt.ValueInfo{{Name: "temperature", Unit: "°C"}}}}, []mqtt.ActuatorInfo{{Name: "pump"}})
	mark := len(w.all())
	dv.start(withInventory(inv), withConfig(haOn))
	for _, topic := range []string{cfg("sensor", "air_humidity"), cfg("switch", "fan")} {
		w.waitFor(mark, topic+" cleared", func(m paho.Message) bool { return m.Topic() == topic && len(m.Payload()) == 0 })
	}
	want := []string{cfg("sensor", "air_temperature"), foreign, cfg("switch", "pump")}
	if got := configTopics(t, url, dev); !slices.Equal(got, want) {
		t.Errorf("retained configs after the restart %v, want %v", got, want)
	}
	dv.stop()

	// Home Assistant switched off, and nothing to announce anyway: what
	// the broker holds of this device's is cleared all the same.
	mark = len(w.all())
	dv.start(withConfig(func(c *mqtt.Config) { c.HomeAssistant = false }))
	for _, topic := range []string{cfg("sensor", "air_temperature"), cfg("switch", "pump")} {
		w.waitFor(mark, topic+" cleared", func(m paho.Message) bool { return m.Topic() == topic && len(m.Payload()) == 0 })
	}
	if got := configTopics(t, url, dev); !slices.Equal(got, []string{foreign}) {
		t.Errorf("retained configs with home_assistant off %v, want only %s", got, foreign)
	}
}
