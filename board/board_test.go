package board_test

import (
	"context"
	"math"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/board"
	"github.com/edgecron/edgecron/board/sim"
	"github.com/edgecron/edgecron/sched/schedtest"
	"github.com/edgecron/edgecron/sensors"
	"gopkg.in/yaml.v3"
)

// TestHostWithoutHardware runs on machines without GPIO or I2C (CI): host
// initialisation succeeds and every missing pin or bus is an error naming
// it, also through sensors.Build and actuators.Build.
func TestHostWithoutHardware(t *testing.T) {
	hw, err := board.Open(board.Auto, board.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hw.Close()
	t.Log(hw)
	if _, err := hw.Pin("GPIO9999"); err == nil || !strings.Contains(err.Error(), `"GPIO9999"`) {
		t.Fatalf("pin: %v", err)
	}
	if _, err := hw.I2C("97"); err == nil || !strings.Contains(err.Error(), `"97"`) {
		t.Fatalf("i2c: %v", err)
	}
	if _, err := hw.OneWire("97:0x18"); err == nil || !strings.Contains(err.Error(), `"97:0x18"`) {
		t.Fatalf("onewire: %v", err)
	}
	if _, err := hw.OneWire("1:bad"); err == nil {
		t.Fatal("bad 1-Wire name accepted")
	}
	_, err = sensors.Build([]sensors.Config{{Name: "door", Driver: "gpio", Pin: "GPIO9999"}}, hw, nil)
	if err == nil || !strings.HasPrefix(err.Error(), `sensors[0].pin: no GPIO pin "GPIO9999"`) {
		t.Fatalf("sensor: %v", err)
	}
	_, err = sensors.Build([]sensors.Config{{Name: "air", Driver: "bme280", Bus: "97"}}, hw, nil)
	if err == nil || !strings.HasPrefix(err.Error(), `sensors[0].bus: no I2C bus "97"`) {
		t.Fatalf("sensor: %v", err)
	}
	_, err = actuators.Build([]actuators.Config{{Name: "pump", Driver: "gpio", Pin: "GPIO9999"}}, hw, nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), `actuators[0].pin: no GPIO pin "GPIO9999"`) {
		t.Fatalf("actuator: %v", err)
	}
	if _, err := board.Open("pi5", board.Options{}); err == nil || !strings.Contains(err.Error(), "hardware.board") {
		t.Fatalf("bad kind: %v", err)
	}
}

const piConfig = `
sensors:
  - {name: air, driver: bme280, bus: "1", address: 0x76, round: 1}
  - {name: probe, driver: ds18b20, device: 28-0123456789ab}
  - {name: soil, driver: ads1115, channel: 1, quantity: moisture, unit: "%", calibration: {scale: 30}}
  - {name: rain, driver: gpio, pin: GPIO6, mode: counter, pull: up}
  - {name: cpu, driver: cpu-temp}
  - {name: door, driver: gpio, pin: GPIO5, active_low: true}
  - {name: lux, driver: i2c-register, address: 0x23, register: 0x10, quantity: light, unit: lx}
  - {name: bench, driver: sim}
actuators:
  - {name: pump, driver: gpio, pin: GPIO17, active_low: true, safety: {max_on: 15m}}
  - {name: fan, driver: pwm, channel: 0, frequency: 25000}
  - {name: led, driver: pca9685, channel: 0}
`

// TestSimServesARealConfig: with the simulated board, a Pi's config runs
// on any machine, every sensor and actuator under its own name.
func TestSimServesARealConfig(t *testing.T) {
	var cfg struct {
		Sensors   []sensors.Config   `yaml:"sensors"`
		Actuators []actuators.Config `yaml:"actuators"`
	}
	if err := yaml.Unmarshal([]byte(piConfig), &cfg); err != nil {
		t.Fatal(err)
	}
	clock := schedtest.NewFakeClock(time.Date(2026, 7, 1, 14, 0, 0, 0, time.UTC))
	read := func() map[string]sensors.Reading {
		hw, err := board.Open(board.Sim, board.Options{Seed: 7, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		reg, err := sensors.Build(cfg.Sensors, hw, clock)
		if err != nil {
			t.Fatal(err)
		}
		defer reg.Close()
		out := map[string]sensors.Reading{}
		for _, n := range reg.Names() {
			rd, err := reg.Read(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			desc := reg.Describe(n)
			if len(desc) != len(rd.Values) {
				t.Fatalf("%s: reading %+v, driver declares %+v", n, rd.Values, desc)
			}
			for i, d := range desc {
				if d.Name != rd.Values[i].Name || d.Unit != rd.Values[i].Unit {
					t.Errorf("%s: simulated value %+v, driver declares %+v", n, rd.Values[i], d)
				}
			}
			out[n] = rd
		}
		return out
	}
	a, b := read(), read()
	shapes := map[string][]string{
		"air": {"temperature", "pressure", "humidity"}, "probe": {"temperature"}, "soil": {"moisture"},
		"rain": {"pulses", "pulses_total"}, "cpu": {"temperature"},
		"door": {"state"}, "lux": {"light"}, "bench": {"temperature"},
	}
	for name, want := range shapes {
		rd := a[name]
		if len(rd.Values) != len(want) {
			t.Fatalf("%s: %+v", name, rd)
		}
		for i, w := range want {
			if rd.Values[i].Name != w || rd.Values[i] != b[name].Values[i] {
				t.Errorf("%s value %d: %+v vs %+v, want name %s", name, i, rd.Values[i], b[name].Values[i], w)
			}
		}
	}
	if v := a["air"].Values[0].Value; math.Abs(v*10-math.Round(v*10)) > 1e-9 {
		t.Errorf("round: 1 not applied to %v", v)
	}

	hw, _ := board.Open(board.Sim, board.Options{Seed: 7, Clock: clock})
	set, err := actuators.Build(cfg.Actuators, hw, clock, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Apply("fan", actuators.Command{Name: actuators.SetTo, Value: 0.3}); err != nil {
		t.Fatal(err)
	}
	if _, err := set.Apply("pump", actuators.Command{Name: actuators.SetTo, Value: 0.3}); err == nil {
		t.Fatal("a simulated gpio relay took set: the driver's capabilities must hold under sim")
	}
	if err := set.Close(); err != nil {
		t.Fatal(err)
	}
	out, _ := hw.(*sim.Board).Output("fan")
	if h := out.History(); len(h) != 3 || h[1] != 0.3 || h[2] != 0 {
		t.Fatalf("fan history %v (boot, set, shutdown)", h)
	}
}

// TestOnlyBoardImportsHost keeps periph's host drivers out of sensors and
// actuators: they take periph's conn contracts only.
func TestOnlyBoardImportsHost(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../sensors/...", "../actuators/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, imp := range strings.Fields(string(out)) {
		if strings.HasPrefix(imp, "periph.io/x/host/") || strings.HasPrefix(imp, "github.com/edgecron/edgecron/board") && !strings.HasPrefix(imp, "github.com/edgecron/edgecron/board/boardtest") {
			t.Errorf("sensors or actuators depend on %s", imp)
		}
	}
}
