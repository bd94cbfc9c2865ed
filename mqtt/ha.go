package mqtt

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// haDiscoveryPrefix is Home Assistant's default discovery prefix.
const haDiscoveryPrefix = "homeassistant"

// discovery returns Home Assistant's retained config topics and payloads:
// a sensor per reading value, a switch per actuator, all available while
// <root>/status is online.
func (a *Agent) discovery() map[string][]byte {
	out := map[string][]byte{}
	if a.deps.Inventory == nil {
		return out
	}
	dev := a.deps.DeviceID
	device := map[string]any{
		"identifiers":  []string{ClientID(dev)},
		"name":         dev,
		"manufacturer": "edgecron",
		"sw_version":   a.deps.Version,
	}
	base := func(name, uid string) map[string]any {
		return map[string]any{
			"name":                  name,
			"unique_id":             uid,
			"availability_topic":    a.topics.Status(),
			"payload_available":     "online",
			"payload_not_available": "offline",
			"device":                device,
		}
	}
	for _, s := range a.deps.Inventory.Sensors() {
		for _, v := range s.Values {
			obj := haObject(s.Name + "_" + v.Name)
			c := base(s.Name+" "+v.Name, ClientID(dev)+"_"+obj)
			c["state_topic"] = a.topics.Sensor(s.Name)
			c["value_template"] = "{{ value_json.values['" + v.Name + "'] }}"
			if v.Unit != "" {
				c["unit_of_measurement"] = v.Unit
			}
			b, _ := json.Marshal(c)
			out[haDiscoveryPrefix+"/sensor/"+dev+"/"+obj+"/config"] = b
		}
	}
	for _, act := range a.deps.Inventory.Actuators() {
		obj := haObject(act.Name)
		c := base(act.Name, ClientID(dev)+"_"+obj)
		c["command_topic"] = a.topics.ActuatorSet(act.Name)
		c["state_topic"] = a.topics.ActuatorState(act.Name)
		c["payload_on"], c["payload_off"] = "ON", "OFF"
		if act.PWM {
			c["value_template"] = "{{ value_json.state }}"
		}
		b, _ := json.Marshal(c)
		out[haDiscoveryPrefix+"/switch/"+dev+"/"+obj+"/config"] = b
	}
	return out
}

// haObject makes a Home Assistant object id: letters, digits, _ and -.
func haObject(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// haConfigFilter subscribes to the device's own retained discovery
// configs: those of entities it no longer has are cleared (see
// clearUnannounced).
func (a *Agent) haConfigFilter() string {
	return haDiscoveryPrefix + "/+/" + a.deps.DeviceID + "/+/config"
}

// isHAConfig reports whether topic is one of the device's discovery
// config topics: homeassistant/<component>/<device_id>/<object>/config.
func (a *Agent) isHAConfig(topic string) bool {
	parts := strings.Split(topic, "/")
	return len(parts) == 5 && parts[0] == haDiscoveryPrefix && parts[2] == a.deps.DeviceID && parts[4] == "config" &&
		parts[1] != "" && parts[3] != ""
}

// ownHAConfig reports whether a discovery config is one this device
// announced: its unique_id is edgecron-<device_id>_<object>. Another
// program's config on a topic of the same shape is left alone.
func (a *Agent) ownHAConfig(payload []byte) bool {
	var c struct {
		UniqueID string `json:"unique_id"`
	}
	return json.Unmarshal(payload, &c) == nil && strings.HasPrefix(c.UniqueID, ClientID(a.deps.DeviceID)+"_")
}

// Rediscover brings Home Assistant's discovery up to date after the
// sensors or actuators changed (a config reload): the configs of new and
// changed entities are published, those of entities gone are cleared. It
// returns at once; the agent's worker publishes, in order with everything
// else it announces. Without a connection, the next one does it. It does
// nothing with home_assistant off.
func (a *Agent) Rediscover() {
	if a.cfg.HomeAssistant {
		a.signal(a.haDiff)
	}
}

// publishDiscovery publishes the discovery configs (retained) when
// home_assistant is on, and clears them when it is off. full announces
// every config (at connection, when Home Assistant restarts); otherwise
// only those that changed since the last announcement are. Either way the
// configs announced before and gone since are cleared. Only the worker
// calls it.
func (a *Agent) publishDiscovery(full bool) {
	if !a.Connected() {
		return
	}
	c := a.cur()
	want := map[string][]byte{}
	if a.cfg.HomeAssistant {
		want = a.discovery()
	} else {
		for topic := range a.discovery() {
			c.Publish(topic, 1, true, []byte{})
		}
	}
	var announced, cleared []string
	for _, topic := range slices.Sorted(maps.Keys(want)) {
		if full || !bytes.Equal(a.announced[topic], want[topic]) {
			c.Publish(topic, 1, true, want[topic])
			announced = append(announced, topic)
		}
	}
	for _, topic := range slices.Sorted(maps.Keys(a.announced)) {
		if _, ok := want[topic]; !ok {
			c.Publish(topic, 1, true, []byte{})
			cleared = append(cleared, topic)
		}
	}
	a.announced = want
	if !full && len(announced)+len(cleared) > 0 {
		a.log.Info("Home Assistant discovery updated", "announced", announced, "cleared", cleared)
	}
}

// clearUnannounced clears a retained discovery config of this device that
// it does not announce now: an entity removed while the agent was stopped
// or away, or all of them once home_assistant is off. The broker sends
// these at each connection, so what the device announced is known across
// restarts without keeping a list of it.
func (a *Agent) clearUnannounced(topic string, payload []byte) {
	if a.cfg.HomeAssistant {
		if _, ok := a.discovery()[topic]; ok {
			return
		}
	}
	if !a.ownHAConfig(payload) || !a.Connected() {
		return
	}
	a.log.Info("clearing the Home Assistant discovery config of an entity this device no longer has", "topic", topic)
	a.cur().Publish(topic, 1, true, []byte{})
	delete(a.announced, topic)
}
