package mqtt

import (
	"encoding/json"
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

// publishDiscovery publishes the discovery configs (retained) when
// home_assistant is on, and clears them when it is off.
func (a *Agent) publishDiscovery() {
	if !a.Connected() {
		return
	}
	for topic, b := range a.discovery() {
		if !a.cfg.HomeAssistant {
			b = []byte{}
		}
		a.cur().Publish(topic, 1, true, b)
	}
}
