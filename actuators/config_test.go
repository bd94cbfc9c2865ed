package actuators_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/actuators"
	"gopkg.in/yaml.v3"
)

const sampleYAML = `
- name: pump
  driver: gpio
  pin: GPIO17
  active_low: true
  safety: {boot: off, shutdown: off, broker_lost: {after: 10m, state: off}, max_on: 15m,
           min_switch_interval: 30s, interlock: pumps}
- name: fan
  driver: pwm
  chip: 0
  channel: 1
  frequency: 25000
  entity: number
- name: led
  driver: pca9685
  bus: 1
  address: 0x41
  channel: 3
  safety: {boot: on}
`

func TestYAMLConfig(t *testing.T) {
	var cfgs []actuators.Config
	dec := yaml.NewDecoder(strings.NewReader(sampleYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&cfgs); err != nil {
		t.Fatal(err)
	}
	if err := actuators.ValidateAll(cfgs); err != nil {
		t.Fatal(err)
	}
	p := cfgs[0]
	if !p.ActiveLow || p.Safety.MaxOn.D() != 15*time.Minute || p.Safety.MinSwitchInterval.D() != 30*time.Second ||
		p.Safety.BrokerLost.After.D() != 10*time.Minute || p.Safety.BrokerLost.State != "off" || p.Safety.Interlock != "pumps" || p.Safety.Boot != "off" {
		t.Errorf("pump %+v", p)
	}
	if f := cfgs[1]; *f.Chip != 0 || *f.Channel != 1 || f.Frequency != 25000 {
		t.Errorf("fan %+v", f)
	}
	if l := cfgs[2]; l.Address != 0x41 || *l.Channel != 3 || l.Frequency != 1000 || l.Bus != "1" {
		t.Errorf("led %+v", l)
	}
	for i, want := range []string{"switch", "number", "light"} {
		if got := cfgs[i].HAEntity(); got != want {
			t.Errorf("%s is a Home Assistant %s, want %s", cfgs[i].Name, got, want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		yaml string
		want string
	}{
		{"- {name: a, driver: relay}", `actuators[0].driver: unknown driver "relay"`},
		{"- {name: a}", "actuators[0].driver: is required"},
		{"- {name: a/b, driver: sim}", "actuators[0].name:"},
		{"- {name: a, driver: gpio}", "actuators[0].pin: is required"},
		{"- {name: a, driver: sim}\n- {name: a, driver: sim}", `actuators[1].name: "a" is already the name of actuators[0]`},
		{"- {name: a, driver: sim, safety: {boot: maybe}}", `actuators[0].safety.boot: must be on or off, got "maybe"`},
		{"- {name: a, driver: sim, safety: {shutdown: true}}", `actuators[0].safety.shutdown: must be on or off`},
		{"- {name: a, driver: sim, safety: {broker_lost: {after: 1m}}}", "actuators[0].safety.broker_lost.state: is required"},
		{"- {name: a, driver: sim, safety: {max_on: 1m, min_switch_interval: 2m}}", "actuators[0].safety.min_switch_interval: 2m0s is longer than max_on"},
		{"- {name: a, driver: sim, safety: {interlock: 'a b'}}", "actuators[0].safety.interlock"},
		{"- {name: a, driver: sim, pin: GPIO4}", "actuators[0].pin: is not used by driver sim"},
		{"- {name: a, driver: pca9685, channel: 16}", "actuators[0].channel: must be 0..15"},
		{"- {name: a, driver: pca9685}", "actuators[0].channel: is required"},
		{"- {name: a, driver: pca9685, channel: 1, frequency: 5000}", "actuators[0].frequency: a PCA9685 runs at 24..1526 Hz"},
		{"- {name: a, driver: pwm, chip: -1}", "actuators[0].chip: must not be negative"},
		{"- {name: a, driver: gpio, pin: GPIO4, entity: number}", `actuators[0].entity: "number": an on/off output (driver gpio) is shown in Home Assistant as switch, light, fan`},
		{"- {name: a, driver: pwm, entity: dimmer}", `actuators[0].entity: "dimmer": a PWM output (driver pwm) is shown in Home Assistant as light, number, fan, switch`},
		{"- {name: a, driver: sim, safety: {boot: on, interlock: g}}\n- {name: b, driver: sim, safety: {boot: on, interlock: g}}",
			`actuators[1].safety.boot: on, as is actuators[0] of the same interlock group "g"`},
	}
	for _, tt := range tests {
		var cfgs []actuators.Config
		if err := yaml.Unmarshal([]byte(tt.yaml), &cfgs); err != nil {
			t.Fatalf("%s: %v", tt.yaml, err)
		}
		err := actuators.ValidateAll(cfgs)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s:\n got %v\nwant %q", tt.yaml, err, tt.want)
		}
	}
}

func FuzzConfig(f *testing.F) {
	f.Add(sampleYAML)
	f.Add("- {name: a, driver: sim, safety: {broker_lost: {after: 0s, state: on}}}")
	f.Add("- {name: a, driver: pwm, frequency: -1}")
	f.Fuzz(func(t *testing.T, s string) {
		var cfgs []actuators.Config
		if yaml.Unmarshal([]byte(s), &cfgs) != nil {
			return
		}
		if err := actuators.ValidateAll(cfgs); err != nil {
			if !strings.HasPrefix(err.Error(), "actuators[") {
				t.Fatalf("error does not name the entry: %v", err)
			}
			return
		}
		if err := actuators.ValidateAll(cfgs); err != nil {
			t.Fatalf("valid config invalid on second pass: %v", err)
		}
	})
}
