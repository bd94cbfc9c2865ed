package sensors_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgecron/edgecron/board/boardtest"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sensors"
	_ "github.com/edgecron/edgecron/sensors/drivers"
	"gopkg.in/yaml.v3"
)

// seq is a test driver returning its values one read at a time.
type seq struct {
	mu    sync.Mutex
	vals  [][]sensors.Value
	reads int
}

func (s *seq) Read(ctx context.Context) ([]sensors.Value, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reads >= len(s.vals) {
		return nil, errors.New("no more values")
	}
	s.reads++
	return s.vals[s.reads-1], nil
}

var (
	testMu      sync.Mutex
	testSensors = map[string]*seq{}
)

func init() {
	sensors.Register(sensors.Driver{
		Name: "test",
		Values: func(sensors.Config) []sensors.Value {
			return []sensors.Value{{Name: "temperature", Unit: "°C"}, {Name: "humidity", Unit: "%"}}
		},
		Open: func(c sensors.Config, _ sensors.Hardware) (sensors.Sensor, error) {
			testMu.Lock()
			defer testMu.Unlock()
			s, ok := testSensors[c.Name]
			if !ok {
				return nil, errors.New("no test sensor " + c.Name)
			}
			return s, nil
		},
	})
}

func build(t *testing.T, cfgs []sensors.Config, ss map[string]*seq) *sensors.Registry {
	t.Helper()
	testMu.Lock()
	for n, s := range ss {
		testSensors[n] = s
	}
	testMu.Unlock()
	r, err := sensors.Build(cfgs, &boardtest.Hardware{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func temps(vs ...float64) [][]sensors.Value {
	var out [][]sensors.Value
	for _, v := range vs {
		out = append(out, []sensors.Value{{Name: "temperature", Value: v, Unit: "°C"}, {Name: "humidity", Value: v * 2, Unit: "%"}})
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func TestProcessing(t *testing.T) {
	tests := []struct {
		name string
		cfg  sensors.Config
		in   []float64
		want []float64 // temperature after processing, one per read
	}{
		{"raw", sensors.Config{}, []float64{20.123, 21}, []float64{20.123, 21}},
		{"offset", sensors.Config{Calibration: sensors.Calibration{Offset: -0.5}}, []float64{20, 21}, []float64{19.5, 20.5}},
		{"scale then offset", sensors.Config{Calibration: sensors.Calibration{Scale: ptr(2.0), Offset: 1}}, []float64{10}, []float64{21}},
		{"round", sensors.Config{Round: ptr(1)}, []float64{20.16, 20.14}, []float64{20.2, 20.1}},
		{"median", sensors.Config{Filter: sensors.Filter{Kind: "median", Window: 3}}, []float64{20, 90, 21, 22, 23}, []float64{20, 55, 21, 22, 22}},
		{"mean", sensors.Config{Filter: sensors.Filter{Kind: "mean", Window: 2}}, []float64{20, 22, 30}, []float64{20, 21, 26}},
		{"all", sensors.Config{Calibration: sensors.Calibration{Offset: 1}, Filter: sensors.Filter{Kind: "mean", Window: 2}, Round: ptr(0)},
			[]float64{20, 21.2}, []float64{21, 22}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			c.Name, c.Driver = "s-"+strings.ReplaceAll(tt.name, " ", "-"), "test"
			r := build(t, []sensors.Config{c}, map[string]*seq{c.Name: {vals: temps(tt.in...)}})
			for i, w := range tt.want {
				rd, err := r.Read(context.Background(), c.Name)
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := rd.Get("temperature"); got != w {
					t.Fatalf("read %d: temperature %v, want %v", i, got, w)
				}
			}
		})
	}
}

func TestCalibrationOfANamedValue(t *testing.T) {
	c := sensors.Config{Name: "cal-hum", Driver: "test", Calibration: sensors.Calibration{Value: "humidity", Offset: 5}}
	r := build(t, []sensors.Config{c}, map[string]*seq{c.Name: {vals: temps(10)}})
	rd, err := r.Read(context.Background(), c.Name)
	if err != nil {
		t.Fatal(err)
	}
	if tv, _ := rd.Get("temperature"); tv != 10 {
		t.Errorf("temperature %v", tv)
	}
	if hv, _ := rd.Get("humidity"); hv != 25 {
		t.Errorf("humidity %v", hv)
	}

	c = sensors.Config{Name: "cal-bad", Driver: "test", Calibration: sensors.Calibration{Value: "lux", Offset: 5}}
	r = build(t, []sensors.Config{c}, map[string]*seq{c.Name: {vals: temps(10)}})
	if _, err := r.Read(context.Background(), c.Name); err == nil || !strings.Contains(err.Error(), `calibration.value "lux"`) {
		t.Fatalf("got %v", err)
	}
}

func TestUnknownSensor(t *testing.T) {
	r := build(t, nil, nil)
	if _, err := r.Read(context.Background(), "nope"); !errors.Is(err, sensors.ErrUnknown) {
		t.Fatalf("got %v", err)
	}
	r = build(t, []sensors.Config{{Name: "closed", Driver: "test"}}, map[string]*seq{"closed": {vals: temps(1)}})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(context.Background(), "closed"); !errors.Is(err, sensors.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
}

func TestReadingJSON(t *testing.T) {
	rd := sensors.Reading{Sensor: "air", Time: time.Date(2026, 11, 21, 9, 0, 0, 0, time.FixedZone("x", 3600)),
		Values: []sensors.Value{{Name: "temperature", Value: 21.5, Unit: "°C"}, {Name: "count", Value: 3}}}
	b, err := json.Marshal(rd)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ts":"2026-11-21T08:00:00Z","values":{"count":3,"temperature":21.5},"units":{"temperature":"°C"}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

type memSink struct {
	mu  sync.Mutex
	got []sensors.Reading
	err error
}

func (m *memSink) Publish(_ context.Context, r sensors.Reading) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, r)
	return m.err
}

func action(t *testing.T, js string) sched.Action {
	t.Helper()
	var a sched.Action
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestReadHandler(t *testing.T) {
	r := build(t, []sensors.Config{{Name: "greenhouse", Driver: "test"}}, map[string]*seq{"greenhouse": {vals: temps(20, 21)}})
	sink := &memSink{}
	h := sensors.NewReadHandler(r, sink, slog.New(slog.DiscardHandler))

	for _, tt := range []struct{ js, field string }{
		{`{"type":"read","sensor":"greenhouse"}`, ""},
		{`{"type":"read","sensor":"cellar"}`, "action.sensor"},
		{`{"type":"read"}`, "action.sensor"},
		{`{"type":"read","sensor":"greenhouse","extra":1}`, "action.extra"},
		{`{"type":"read","sensor":5}`, "action.sensor"},
	} {
		err := h.Validate(action(t, tt.js))
		var se *sched.Error
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: %v", tt.js, err)
		case tt.field != "" && (!errors.As(err, &se) || se.Field != tt.field || se.Code != sched.CodeBadRequest):
			t.Errorf("%s: got %v, want a bad_request on %s", tt.js, err, tt.field)
		}
	}

	res, err := h.Run(context.Background(), sched.Run{Job: sched.Job{Action: action(t, `{"type":"read","sensor":"greenhouse"}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if res["sensor"] != "greenhouse" || res["values"].(map[string]any)["temperature"] != 20.0 {
		t.Fatalf("result %v", res)
	}
	if len(sink.got) != 1 || sink.got[0].Sensor != "greenhouse" {
		t.Fatalf("sink got %+v", sink.got)
	}
	sink.err = errors.New("broker down")
	if _, err := h.Run(context.Background(), sched.Run{Job: sched.Job{Action: action(t, `{"type":"read","sensor":"greenhouse"}`)}}); err == nil {
		t.Fatal("sink error lost")
	}
}

func TestLogSink(t *testing.T) {
	var buf bytes.Buffer
	s := sensors.LogSink{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	_ = s.Publish(context.Background(), sensors.Reading{Sensor: "air", Values: []sensors.Value{{Name: "temperature", Value: 21.5, Unit: "°C"}}})
	if !strings.Contains(buf.String(), `sensor=air`) || !strings.Contains(buf.String(), `temperature="21.5 °C"`) {
		t.Fatalf("logged %s", buf.String())
	}
}

const sampleYAML = `
- name: air
  driver: bme280
  bus: 1
  address: 0x77
  interval: 60s
  calibration: {offset: -0.5}
  round: 1
  filter: {kind: median, window: 5}
- name: soil
  driver: ads1115
  channel: 2
  calibration: {scale: 33.3, value: voltage}
- name: probe
  driver: ds18b20
  device: 28-0123456789ab
  timeout: 2s
- name: cpu
  driver: cpu-temp
  interval: 5m
- name: rain
  driver: gpio
  pin: GPIO6
  pull: up
  mode: counter
  quantity: rain
  unit: mm
- name: lux
  driver: i2c-register
  address: 0x23
  register: 0x10
  format: u16
`

func TestYAMLConfig(t *testing.T) {
	var cfgs []sensors.Config
	dec := yaml.NewDecoder(strings.NewReader(sampleYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&cfgs); err != nil {
		t.Fatal(err)
	}
	if err := sensors.ValidateAll(cfgs); err != nil {
		t.Fatal(err)
	}
	if c := cfgs[0]; c.Bus != "1" || c.Address != 0x77 || c.Interval.D() != time.Minute || c.Calibration.Offset != -0.5 || *c.Round != 1 || c.Filter.Window != 5 {
		t.Errorf("air: %+v", c)
	}
	if c := cfgs[1]; c.Channel != "2" || *c.Calibration.Scale != 33.3 || c.Address != 0x48 {
		t.Errorf("soil: %+v", c)
	}
	if c := cfgs[2]; c.ReadTimeout() != 2*time.Second {
		t.Errorf("probe: %+v", c)
	}
	if c := cfgs[5]; *c.Register != 0x10 {
		t.Errorf("lux: %+v", c)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		yaml string
		want string
	}{
		{"- {name: a, driver: nope}", `sensors[0].driver: unknown driver "nope"`},
		{"- {name: a}", "sensors[0].driver: is required"},
		{"- {name: 'a b', driver: sim}", "sensors[0].name:"},
		{"- {name: a, driver: sim}\n- {name: a, driver: sim}", `sensors[1].name: "a" is already the name of sensors[0]`},
		{"- {name: a, driver: sim, filter: {kind: max, window: 3}}", "sensors[0].filter.kind: must be median or mean"},
		{"- {name: a, driver: sim, filter: {kind: mean}}", "sensors[0].filter.window: must be 1..100"},
		{"- {name: a, driver: sim, filter: {window: 3}}", "sensors[0].filter.kind: is required"},
		{"- {name: a, driver: sim, round: -1}", "sensors[0].round: must be 0..10"},
		{"- {name: a, driver: sim, calibration: {scale: 0}}", "sensors[0].calibration.scale"},
		{"- {name: a, driver: sim, pin: GPIO4}", "sensors[0].pin: is not used by driver sim"},
		{"- {name: a, driver: cpu-temp, address: 0x40}", "sensors[0].address: is not used by driver cpu-temp"},
		{"- {name: a, driver: sim, publish: {deadband: 0.5}}", "sensors[0].publish.deadband: applies only with publish.on_change: true"},
		{"- {name: a, driver: sim, publish: {on_change: false, heartbeat: 10m}}", "sensors[0].publish.heartbeat: applies only with publish.on_change: true"},
	}
	for _, tt := range tests {
		var cfgs []sensors.Config
		if err := yaml.Unmarshal([]byte(tt.yaml), &cfgs); err != nil {
			t.Fatalf("%s: %v", tt.yaml, err)
		}
		err := sensors.ValidateAll(cfgs)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.yaml, err, tt.want)
		}
	}
}

func FuzzConfig(f *testing.F) {
	f.Add(sampleYAML)
	f.Add("- {name: a, driver: sim, filter: {kind: mean, window: 3}, round: 2}")
	f.Add("- {name: a, driver: i2c-register, address: 0x40, register: 300}")
	f.Add("- {name: a, driver: sim, publish: {on_change: true, deadband: 2%, heartbeat: 10m}}")
	f.Add("- {name: a, driver: sim, script: {wave: sine, period: 1m, min: 0, max: 1}}")
	f.Fuzz(func(t *testing.T, s string) {
		var cfgs []sensors.Config
		if yaml.Unmarshal([]byte(s), &cfgs) != nil {
			return
		}
		if err := sensors.ValidateAll(cfgs); err != nil {
			if !strings.HasPrefix(err.Error(), "sensors[") {
				t.Fatalf("error does not name the entry: %v", err)
			}
			return
		}
		// A valid config validates again to the same result.
		if err := sensors.ValidateAll(cfgs); err != nil {
			t.Fatalf("valid config invalid on second pass: %v", err)
		}
	})
}
