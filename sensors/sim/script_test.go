package sim

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/onewire"

	"github.com/edgecron/edgecron/sched/schedtest"
	"github.com/edgecron/edgecron/sensors"
	_ "github.com/edgecron/edgecron/sensors/ds18b20" // a driver without script
)

func TestWaveAt(t *testing.T) {
	const p = time.Minute
	tests := []struct {
		wave    string
		elapsed time.Duration
		want    float64
	}{
		{"sine", 0, 10},
		{"sine", 15 * time.Second, 20},
		{"sine", 30 * time.Second, 30},
		{"sine", 45 * time.Second, 20},
		{"sine", 60 * time.Second, 10},
		{"sine", 90 * time.Second, 30},
		{"sine", -15 * time.Second, 20},
		{"triangle", 0, 10},
		{"triangle", 15 * time.Second, 20},
		{"triangle", 30 * time.Second, 30},
		{"triangle", 40 * time.Second, 10 + 20*2.0/3},
		{"triangle", 2 * time.Minute, 10},
		{"triangle", -45 * time.Second, 20},
		{"square", 0, 10},
		{"square", 29 * time.Second, 10},
		{"square", 30 * time.Second, 30},
		{"square", 59 * time.Second, 30},
		{"square", 60 * time.Second, 10},
		{"square", -10 * time.Second, 30},
	}
	for _, tt := range tests {
		got := waveAt(tt.wave, p, 10, 30, tt.elapsed)
		if math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s at %v = %v, want %v", tt.wave, tt.elapsed, got, tt.want)
		}
	}
}

func TestStepAt(t *testing.T) {
	vals := []float64{1, 2, 3}
	tests := []struct {
		then string
		want []float64
	}{
		{"", []float64{1, 2, 3, 1, 2, 3, 1}},
		{"loop", []float64{1, 2, 3, 1, 2, 3, 1}},
		{"hold", []float64{1, 2, 3, 3, 3, 3, 3}},
	}
	for _, tt := range tests {
		for n, want := range tt.want {
			if got := stepAt(vals, tt.then, n); got != want {
				t.Errorf("then %q read %d = %v, want %v", tt.then, n, got, want)
			}
		}
	}
}

// parse decodes one sensors entry as the config file gives it.
func parse(t *testing.T, src string) sensors.Config {
	t.Helper()
	var c sensors.Config
	dec := yaml.NewDecoder(strings.NewReader(src))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("decode %q: %v", src, err)
	}
	return c
}

func TestScriptValidation(t *testing.T) {
	tests := []struct {
		src, err string
	}{
		{`{name: a, driver: sim, script: {values: [1, 2.5, -3]}}`, ""},
		{`{name: a, driver: sim, script: {values: [1], then: hold}}`, ""},
		{`{name: a, driver: sim, script: {wave: sine, period: 1m, min: 0, max: 40}}`, ""},
		{`{name: a, driver: sim, quantity: moisture, unit: "%", script: {wave: square, period: 30s, min: 20, max: 60}}`, ""},
		{`{name: a, driver: sim, script: {}}`, "sensors[0].script: needs values"},
		{`{name: a, driver: sim, script: {values: [1], wave: sine}}`, "sensors[0].script: set either values or wave, not both"},
		{`{name: a, driver: sim, script: {values: [1, .nan]}}`, "sensors[0].script.values[1]: must be a finite number, got NaN"},
		{`{name: a, driver: sim, script: {values: [.inf]}}`, "sensors[0].script.values[0]: must be a finite number"},
		{`{name: a, driver: sim, script: {values: [1], then: stop}}`, `sensors[0].script.then: must be loop or hold, got "stop"`},
		{`{name: a, driver: sim, script: {values: [1], period: 1m}}`, "sensors[0].script.period: is a key of wave scripts"},
		{`{name: a, driver: sim, script: {values: [1], min: 1}}`, "sensors[0].script.min: is a key of wave scripts"},
		{`{name: a, driver: sim, script: {wave: saw, period: 1m, min: 0, max: 1}}`, `sensors[0].script.wave: must be sine, triangle or square, got "saw"`},
		{`{name: a, driver: sim, script: {wave: sine, min: 0, max: 1}}`, "sensors[0].script.period: is required with wave"},
		{`{name: a, driver: sim, script: {wave: sine, period: 0s, min: 0, max: 1}}`, "sensors[0].script.period: is required with wave and must be positive"},
		{`{name: a, driver: sim, script: {wave: sine, period: 1m, max: 1}}`, "sensors[0].script.min: is required with wave"},
		{`{name: a, driver: sim, script: {wave: sine, period: 1m, min: 0}}`, "sensors[0].script.max: is required with wave"},
		{`{name: a, driver: sim, script: {wave: sine, period: 1m, min: 0, max: .inf}}`, "sensors[0].script.max: is required with wave and must be a finite number"},
		{`{name: a, driver: sim, script: {wave: sine, period: 1m, min: 5, max: 5}}`, "sensors[0].script.max: must be greater than script.min (5), got 5"},
		{`{name: a, driver: sim, script: {wave: sine, period: 1m, min: 0, max: 1, then: hold}}`, "sensors[0].script.then: is a key of values scripts"},
		{`{name: a, driver: ds18b20, device: 28-0123456789ab, script: {values: [1]}}`, "sensors[0].script: is not used by driver ds18b20"},
	}
	for _, tt := range tests {
		c := parse(t, tt.src)
		err := c.Validate("sensors[0]")
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.src, err)
		case tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want %q", tt.src, err, tt.err)
		}
	}
	long := sensors.Config{Name: "a", Driver: "sim", Script: &sensors.Script{Values: make([]float64, MaxScriptValues+1)}}
	if err := long.Validate("sensors[0]"); err == nil || !strings.Contains(err.Error(), "script.values: at most 1000 values") {
		t.Errorf("%d values: %v", MaxScriptValues+1, err)
	}
}

// A scripted sensor follows its script exactly, through the registry on the
// simulated-board path (Simulator) as on the driver's own: values step per
// read, waves follow the injected clock from the moment the sensor opened.
func TestScriptedReads(t *testing.T) {
	clk := schedtest.NewFakeClock(time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC))
	cfgs := []sensors.Config{
		parse(t, `{name: steps, driver: sim, script: {values: [18, 25, 31], then: hold}}`),
		parse(t, `{name: wave, driver: sim, quantity: moisture, unit: "%", script: {wave: triangle, period: 40s, min: 20, max: 60}}`),
	}
	for _, hw := range []struct {
		name string
		hw   sensors.Hardware
	}{{"driver", nil}, {"simulated board", simulator{clk}}} {
		reg, err := sensors.Build(cfgs, hw.hw, clk)
		if err != nil {
			t.Fatal(err)
		}
		read := func(name string) sensors.Value {
			t.Helper()
			r, err := reg.Read(context.Background(), name)
			if err != nil {
				t.Fatal(err)
			}
			return r.Values[0]
		}
		for _, want := range []float64{18, 25, 31, 31, 31} {
			if v := read("steps"); v.Value != want || v.Name != "temperature" || v.Unit != "°C" {
				t.Errorf("%s: steps read %+v, want temperature %v °C", hw.name, v, want)
			}
		}
		if hw.hw == nil {
			// The driver opens with the system clock: only the board path
			// follows the injected one.
			reg.Close()
			continue
		}
		for _, step := range []struct {
			advance time.Duration
			want    float64
		}{{0, 20}, {10 * time.Second, 40}, {10 * time.Second, 60}, {5 * time.Second, 50}, {15 * time.Second, 20}} {
			clk.Advance(step.advance)
			if v := read("wave"); math.Abs(v.Value-step.want) > 1e-9 || v.Name != "moisture" || v.Unit != "%" {
				t.Errorf("%s: wave read %+v, want moisture %v %%", hw.name, v, step.want)
			}
		}
		reg.Close()
	}
}

var errNone = errors.New("no hardware in this test")

// simulator serves every sensor with New on an injected clock, as
// board/sim does.
type simulator struct{ clk *schedtest.FakeClock }

func (s simulator) SimulateSensor(c sensors.Config) (sensors.Sensor, error) {
	return New(c, 1, s.clk.Now), nil
}
func (simulator) I2C(string) (i2c.Bus, error)         { return nil, errNone }
func (simulator) Pin(string) (gpio.PinIO, error)      { return nil, errNone }
func (simulator) OneWire(string) (onewire.Bus, error) { return nil, errNone }
func (simulator) SysfsRoot() string                   { return "" }
