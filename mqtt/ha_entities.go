package mqtt

import (
	"strings"

	"github.com/edgecron/edgecron/sched"
)

// The entities of each kind. Every template here reads a payload the
// agent publishes (docs/mqtt.md) the way Home Assistant renders it: with
// Jinja2's sandbox, value the payload and value_json the payload decoded.
// In Jinja2 value_json.values is the dict's values method, not the
// "values" key: keys are always read with [...]. testdata/ha holds what
// these produce, captured from the broker, and scripts/ha-render.py
// renders every template against captured payloads.

// sensorEntities announces each value of a sensor: a sensor, or a
// binary_sensor for an on/off value.
func (a *Agent) sensorEntities(s SensorInfo) []haEntity {
	var out []haEntity
	for _, v := range s.Values {
		read := "value_json['values'][" + jinjaString(v.Name) + "]"
		c := haConfig{
			"name":        a.entityName(valueLabel(s, v)),
			"state_topic": a.topics.Sensor(s.Name),
		}
		component := "sensor"
		if v.Binary {
			component = "binary_sensor"
			c["value_template"] = "{{ 'ON' if " + read + " else 'OFF' }}"
			c["payload_on"], c["payload_off"] = "ON", "OFF"
		} else {
			c["value_template"] = "{{ " + read + " }}"
			if v.Unit != "" {
				c["unit_of_measurement"] = v.Unit
			}
			if v.StateClass != "" {
				c["state_class"] = v.StateClass
			}
		}
		if v.DeviceClass != "" {
			c["device_class"] = v.DeviceClass
		}
		out = append(out, haEntity{component, haObject(s.Name + "_" + v.Name), c, "sensor " + s.Name + " value " + v.Name})
	}
	return out
}

// valueLabel names a sensor's value: the sensor's name alone when it has
// one value or the value is named like the sensor ("rain", never "rain
// rain"), else "<sensor> <value>", a value "<sensor>_total" being "<sensor>
// total".
func valueLabel(s SensorInfo, v ValueInfo) string {
	if len(s.Values) == 1 || v.Name == s.Name {
		return s.Name
	}
	rest := strings.TrimPrefix(v.Name, s.Name+"_")
	return s.Name + " " + strings.ReplaceAll(rest, "_", " ")
}

// entityName is an entity's name under has_entity_name: Home Assistant
// shows it after the device's name, so a name that starts with the device
// name drops it, and a name equal to it is the device's main feature
// (null).
func (a *Agent) entityName(label string) any {
	dev := a.deps.DeviceID
	switch {
	case label == dev:
		return nil
	case strings.HasPrefix(label, dev+" "):
		return strings.TrimPrefix(label, dev+" ")
	}
	return label
}

// PWM templates: the state is {"state":"ON","value":0.4}; commands are the
// set topic's payloads (ON, OFF, {"command":"set","value":0.4}).
const (
	pwmState        = "{{ value_json.state }}"
	pwmPercent      = "{{ (value_json.value * 100) | round(0) | int }}"
	pwmSetPercent   = `{"command":"set","value":{{ (value / 100) | round(3) }}}`
	lightOn         = `{%- if brightness is defined -%}{"command":"set","value":{{ (brightness / 255) | round(3) }}}{%- else -%}ON{%- endif -%}`
	lightState      = "{{ value_json.state | lower }}"
	lightBrightness = "{{ (value_json.value * 255) | round(0) | int }}"
)

// actuatorEntity announces an actuator as its config's entity: a switch
// (ON/OFF), a light (with brightness when PWM), a fan (with a speed when
// PWM) or, for PWM, a number 0..100 %.
func (a *Agent) actuatorEntity(act ActuatorInfo) haEntity {
	set, state := a.topics.ActuatorSet(act.Name), a.topics.ActuatorState(act.Name)
	c := haConfig{
		"name":          a.entityName(act.Name),
		"command_topic": set,
		"state_topic":   state,
	}
	entity := act.Entity
	if entity == "" {
		entity = "switch"
		if act.PWM {
			entity = "light"
		}
	}
	onOff := func() {
		c["payload_on"], c["payload_off"] = "ON", "OFF"
		if act.PWM {
			key := "value_template"
			if entity != "switch" {
				key = "state_value_template"
			}
			c[key] = pwmState
		}
	}
	switch entity {
	case "light":
		if act.PWM {
			// The template schema: one command topic for on, off and
			// brightness, as the set topic takes them.
			c["schema"] = "template"
			c["command_on_template"] = lightOn
			c["command_off_template"] = "OFF"
			c["state_template"] = lightState
			c["brightness_template"] = lightBrightness
		} else {
			onOff()
		}
	case "fan":
		onOff()
		if act.PWM {
			c["percentage_command_topic"] = set
			c["percentage_command_template"] = pwmSetPercent
			c["percentage_state_topic"] = state
			c["percentage_value_template"] = pwmPercent
		}
	case "number":
		c["command_template"] = pwmSetPercent
		c["value_template"] = pwmPercent
		c["min"], c["max"], c["step"] = 0, 100, 1
		c["unit_of_measurement"] = "%"
		c["mode"] = "slider"
	default:
		entity = "switch"
		onOff()
	}
	return haEntity{entity, haObject(act.Name), c, "actuator " + act.Name}
}

// Job entity templates read the retained job document <root>/jobs/<id>.
const (
	jobEnabled    = "{{ 'OFF' if value_json.paused else 'ON' }}"
	jobNextRun    = "{{ value_json.next_run_time or 'None' }}"
	jobLastResult = "{{ (value_json.last_result or 'None')[:255] }}"
)

// jobEntities announces a job: a button that runs it now, a switch that
// is on while it is not paused, its next run time and its last result.
// "None" is Home Assistant's payload for an unknown sensor state.
func (a *Agent) jobEntities(j sched.Job) []haEntity {
	label := "job " + j.ID
	if j.Name != "" {
		label = j.Name
	}
	doc := a.topics.Job(j.ID)
	obj := haObject("job_" + j.ID)
	return []haEntity{
		{"button", obj + "_run", haConfig{
			"name":          a.entityName("Run " + label),
			"command_topic": a.haJobTopic(j.ID, "run"),
			"payload_press": "PRESS",
			"icon":          "mdi:play",
		}, "job " + j.ID + " run"},
		{"switch", obj, haConfig{
			"name":           a.entityName(label),
			"command_topic":  a.haJobTopic(j.ID, "enabled"),
			"state_topic":    doc,
			"value_template": jobEnabled,
			"payload_on":     "ON",
			"payload_off":    "OFF",
			"icon":           "mdi:calendar-clock",
		}, "job " + j.ID + " enabled"},
		{"sensor", obj + "_next_run", haConfig{
			"name":           a.entityName(label + " next run"),
			"state_topic":    doc,
			"value_template": jobNextRun,
			"device_class":   "timestamp",
		}, "job " + j.ID + " next run"},
		{"sensor", obj + "_last_result", haConfig{
			"name":            a.entityName(label + " last result"),
			"state_topic":     doc,
			"value_template":  jobLastResult,
			"entity_category": "diagnostic",
		}, "job " + j.ID + " last result"},
	}
}

// jinjaString quotes s as a Jinja2 string literal.
func jinjaString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}
