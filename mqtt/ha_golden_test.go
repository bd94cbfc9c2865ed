package mqtt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched"
)

// haGoldenDir holds what the agent publishes for Home Assistant, captured
// from the broker: discovery.json (every config), states.json (the
// payloads its templates read) and, written by hand, expect.json (what
// each template must render to; scripts/ha-render.py checks it).
const haGoldenDir = "testdata/ha"

// goldenInventory has one entity of every kind the agent announces.
var goldenInventory = &liveInventory{
	sensors: []mqtt.SensorInfo{
		{Name: "air", Values: []mqtt.ValueInfo{
			{Name: "temperature", Unit: "°C", DeviceClass: "temperature", StateClass: "measurement"},
			{Name: "pressure", Unit: "hPa", DeviceClass: "atmospheric_pressure", StateClass: "measurement"},
			{Name: "humidity", Unit: "%", DeviceClass: "humidity", StateClass: "measurement"},
		}},
		{Name: "cpu", Values: []mqtt.ValueInfo{{Name: "temperature", Unit: "°C", DeviceClass: "temperature", StateClass: "measurement"}}},
		{Name: "door", Values: []mqtt.ValueInfo{{Name: "state", DeviceClass: "door", Binary: true}}},
		{Name: "rain", Values: []mqtt.ValueInfo{
			{Name: "rain", Unit: "mm", DeviceClass: "precipitation", StateClass: "measurement"},
			{Name: "rain_total", Unit: "mm", StateClass: "total_increasing"},
		}},
	},
	actuators: []mqtt.ActuatorInfo{
		{Name: "pump"},
		{Name: "lamp", Entity: "light"},
		{Name: "dimmer", PWM: true},
		{Name: "fan", PWM: true, Entity: "fan"},
		{Name: "valve", PWM: true, Entity: "number"},
		{Name: "heater", PWM: true, Entity: "switch"},
	},
}

// goldenDevice is the device id the golden files show; the test runs
// under a unique one (the broker is shared) and rewrites it.
const goldenDevice = "greenhouse.1"

// TestHomeAssistantGolden captures, from the broker, every discovery
// config the agent announces for an inventory with one entity of each
// kind and two exposed jobs (a third is not exposed), and the state
// payloads those configs read; it compares both with testdata/ha (-update
// rewrites them). The device id has a '.': the node id in the topics is
// made safe.
func TestHomeAssistantGolden(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	suffix := strings.TrimPrefix(prefix, "edgecron-test-")
	disc := "ha-" + suffix
	dev := "gh." + suffix
	t.Cleanup(func() { mqtttest.ClearRetained(t, url, disc+"/#") })
	t.Cleanup(func() { mqtttest.ClearRetained(t, url, prefix+"/#") })

	dv := newDevice(t, url, prefix, dev)
	dv.startScheduler()
	ctx := context.Background()
	addJob(t, dv, `{"id":"water","name":"Water the beds","trigger":{"type":"interval","seconds":3600},"action":{"type":"test"}}`)
	addJob(t, dv, `{"id":"night-backup","trigger":{"type":"cron","hour":"3","minute":"0"},"action":{"type":"test"}}`)
	addJob(t, dv, `{"id":"internal","trigger":{"type":"interval","seconds":60},"action":{"type":"test"}}`)
	if _, err := dv.s.PauseJob(ctx, "night-backup", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}

	w := watch(t, url, disc+"/#", prefix+"/#")
	dv.start(withInventory(goldenInventory), withConfig(func(c *mqtt.Config) {
		c.HomeAssistant = true
		c.DiscoveryPrefix = disc
		c.HomeAssistantJobs = mqtt.OnlyJobs("water", "night-backup")
		c.ConfigurationURL = "https://wiki.example/greenhouse-1"
	}), func(_ *device, d *mqtt.Deps) {
		d.Version = "1.2.3"
		d.Model = "Raspberry Pi 4 Model B Rev 1.4"
	})
	const entities = 7 + 6 + 2*4 // sensor values, actuators, 4 per exposed job
	configs := map[string][]byte{}
	w.waitFor(0, "every discovery config", func(m paho.Message) bool {
		if strings.HasPrefix(m.Topic(), disc+"/") && len(m.Payload()) > 0 {
			configs[m.Topic()] = m.Payload()
		}
		return len(configs) == entities
	})

	// The payloads the templates read, as the agent sends them: readings,
	// actuator states, the job documents (after a run of water). First
	// wait until telemetry goes out live: until then it goes through the
	// outbox and is replayed marked "historical".
	a := dv.agent
	for i := 0; ; i++ {
		a.Reading("probe", t0, map[string]float64{"n": float64(i)}, nil)
		m, _ := w.waitFor(0, "probe "+strconv.Itoa(i), func(m paho.Message) bool {
			return m.Topic() == dv.root()+"/sensors/probe" && bytes.Contains(m.Payload(), []byte(`"n":`+strconv.Itoa(i)+`}`))
		})
		if !bytes.Contains(m.Payload(), []byte(`"historical"`)) {
			break
		}
	}
	ts := t0.Add(90 * time.Second)
	a.Reading("air", ts, map[string]float64{"temperature": 21.5, "pressure": 1013.2, "humidity": 55.4},
		map[string]string{"temperature": "°C", "pressure": "hPa", "humidity": "%"})
	a.Reading("cpu", ts, map[string]float64{"temperature": 48.3}, map[string]string{"temperature": "°C"})
	a.Reading("door", ts, map[string]float64{"state": 1}, nil)
	a.Reading("rain", ts, map[string]float64{"rain": 0.4, "rain_total": 12.8}, map[string]string{"rain": "mm", "rain_total": "mm"})
	a.ActuatorState("pump", true, nil)
	a.ActuatorState("lamp", false, nil)
	half, most, third, off := 0.5, 0.8, 0.37, 0.0
	a.ActuatorState("dimmer", true, &half)
	a.ActuatorState("fan", true, &most)
	a.ActuatorState("valve", true, &third)
	a.ActuatorState("heater", false, &off)
	if err := dv.s.RunNow(ctx, "water", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	w.waitFor(0, "water's document after its run", func(m paho.Message) bool {
		return m.Topic() == dv.root()+"/jobs/water" && bytes.Contains(m.Payload(), []byte(`"last_result":"ok"`))
	})
	w.waitFor(0, "heater's state", func(m paho.Message) bool { return m.Topic() == dv.root()+"/actuators/heater/state" })
	// The broker's retained copies: what Home Assistant gets when it
	// (re)starts. Readings are retained too.
	states := mqtttest.Retained(t, url, prefix+"/#")
	delete(states, dv.root()+"/status")
	delete(states, dv.root()+"/info")
	delete(states, dv.root()+"/jobs/internal")
	delete(states, dv.root()+"/sensors/probe")
	if len(states) != 4+6+2 {
		t.Errorf("retained states %d, want 12 (4 readings, 6 actuators, 2 jobs): %q", len(states), states)
	}

	// Make the capture independent of the run's unique names.
	node := ""
	for topic := range configs {
		node = strings.Split(topic, "/")[2]
	}
	if !strings.HasPrefix(node, "gh_"+suffix+"_") {
		t.Fatalf("node id %q: want the device id with its '.' made safe and a hash appended", node)
	}
	norm := strings.NewReplacer(disc+"/", "homeassistant/", prefix+"/"+dev+"/", "edgecron/"+goldenDevice+"/",
		`"`+dev+`"`, `"`+goldenDevice+`"`, `"edgecron-`+dev, `"edgecron-`+goldenDevice,
		node, "greenhouse_1_hash")
	discovery := map[string]json.RawMessage{}
	for topic, p := range configs {
		discovery[norm.Replace(topic)] = json.RawMessage(norm.Replace(string(p)))
	}
	statePayloads := map[string]string{}
	for topic, p := range states {
		statePayloads[norm.Replace(topic)] = string(p)
	}
	golden(t, "discovery.json", discovery)
	golden(t, "states.json", statePayloads)
}

func addJob(t *testing.T, dv *device, doc string) {
	t.Helper()
	p, err := sched.DecodeJob([]byte(doc), sched.ModeAdd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dv.s.Add(context.Background(), p, sched.AddOptions{}); err != nil {
		t.Fatal(err)
	}
}

// golden compares v, indented, with testdata/ha/name; -update (see
// examples_test.go) writes it.
func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join(haGoldenDir, name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what the agent published (go test ./mqtt -run TestHomeAssistantGolden -update rewrites it); got:\n%s", path, got)
	}
}

// TestHomeAssistantTemplatesRender renders every template of the golden
// configs with Jinja2's sandbox, as Home Assistant does, against the
// captured states (scripts/ha-render.py). It needs python3 with jinja2
// (Debian: python3-jinja2); without it the test is skipped and make test
// says so. CI runs the same check in scripts/ci-ha.sh, which installs
// python3-jinja2 and fails when it cannot.
func TestHomeAssistantTemplatesRender(t *testing.T) {
	script := filepath.Join("..", "scripts", "ha-render.py")
	py, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(py, "-c", "import jinja2").Run()
	}
	if err != nil {
		t.Skip("Home Assistant template render check NOT run: no python3 with jinja2 (apt-get install python3-jinja2; scripts/ci-ha.sh runs it in CI)")
	}
	out, err := exec.Command(py, script, haGoldenDir).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	t.Logf("%s", out)
}

// TestHomeAssistantCommandsParse: what the command templates render to
// (testdata/ha/expect.json, checked against the templates by
// scripts/ha-render.py) is a payload the set topic takes, with the value
// meant: Home Assistant's 37 % is the command set 0.37.
func TestHomeAssistantCommandsParse(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(haGoldenDir, "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var expect map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &expect); err != nil {
		t.Fatal(err)
	}
	n := 0
	for entity, keys := range expect {
		for key, raw := range keys {
			if !strings.HasPrefix(key, "command_") && !strings.HasPrefix(key, "percentage_command_") {
				continue
			}
			var cases []map[string]any
			if err := json.Unmarshal(raw, &cases); err != nil {
				t.Fatalf("%s %s: %v", entity, key, err)
			}
			for _, c := range cases {
				payload, _ := c["want"].(string)
				cmd, err := actuators.ParseSetPayload([]byte(payload))
				if err != nil {
					t.Errorf("%s %s renders %q, which the set topic refuses: %v", entity, key, payload, err)
					continue
				}
				n++
				in, scale := c["value"], 100.0
				if in == nil {
					in, scale = c["brightness"], 255
				}
				if v, ok := in.(float64); ok && (cmd.Name != actuators.SetTo || math.Abs(cmd.Value-v/scale) > 0.001) {
					t.Errorf("%s %s with %v renders %q: want set %.3f", entity, key, v, payload, v/scale)
				}
			}
		}
	}
	if n < 8 {
		t.Errorf("only %d command cases in expect.json", n)
	}
}
