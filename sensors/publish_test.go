package sensors_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/sensors"
)

func TestParseDeadband(t *testing.T) {
	tests := []struct {
		in   string
		want sensors.Deadband
		err  string
	}{
		{"0.5", sensors.Deadband{Amount: 0.5}, ""},
		{"0", sensors.Deadband{}, ""},
		{"2%", sensors.Deadband{Amount: 2, Relative: true}, ""},
		{" 2.5 % ", sensors.Deadband{Amount: 2.5, Relative: true}, ""},
		{"1e-3", sensors.Deadband{Amount: 0.001}, ""},
		{"-1", sensors.Deadband{}, "must not be negative"},
		{"-1%", sensors.Deadband{}, "must not be negative"},
		{"NaN", sensors.Deadband{}, "want a number"},
		{"inf%", sensors.Deadband{}, "want a number"},
		{"%", sensors.Deadband{}, "want a number"},
		{"half", sensors.Deadband{}, "want a number"},
		{"", sensors.Deadband{}, "want a number"},
	}
	for _, tt := range tests {
		got, err := sensors.ParseDeadband(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("ParseDeadband(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseDeadband(%q) error %v, want %q", tt.in, err, tt.err)
		}
	}
}

// FuzzParseDeadband: no input panics; an accepted deadband is finite and
// non-negative, and its String parses back to it.
func FuzzParseDeadband(f *testing.F) {
	for _, s := range []string{"0.5", "2%", "-1", "1e308%", "0x1p-2", " 3 % ", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := sensors.ParseDeadband(s)
		if err != nil {
			return
		}
		if d.Amount < 0 || math.IsNaN(d.Amount) || math.IsInf(d.Amount, 0) {
			t.Fatalf("ParseDeadband(%q) = %+v", s, d)
		}
		back, err := sensors.ParseDeadband(d.String())
		if err != nil || back != d {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, d, d.String(), back, err)
		}
	})
}

// TestPublishFilter drives the publish filter with readings at known
// times (the registry's clock is a fake one): which pass to MQTT.
func TestPublishFilter(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	type in struct {
		at    time.Duration // after t0
		vals  []float64     // temperature, humidity
		multi bool          // a third value appears
	}
	tests := []struct {
		name    string
		publish string
		reads   []in
		want    []bool
	}{
		{"default: every reading", `{}`,
			[]in{{0, []float64{20, 40}, false}, {time.Minute, []float64{20, 40}, false}, {2 * time.Minute, []float64{20, 40}, false}},
			[]bool{true, true, true}},
		{"on change: any change", `{on_change: true}`,
			[]in{{0, []float64{20, 40}, false}, {1, []float64{20, 40}, false}, {2, []float64{20.01, 40}, false}, {3, []float64{20.01, 40}, false}, {4, []float64{20.01, 39}, false}},
			[]bool{true, false, true, false, true}},
		{"absolute deadband: more than 0.5 from the last published", `{on_change: true, deadband: 0.5}`,
			[]in{{0, []float64{20, 40}, false}, {1, []float64{20.3, 40}, false}, {2, []float64{20.5, 40}, false}, {3, []float64{20.51, 40}, false}, {4, []float64{20.2, 40}, false}, {5, []float64{20.0, 40}, false}, {6, []float64{20.51, 40.6}, false}},
			[]bool{true, false, false, true, false, true, true}},
		{"relative deadband: 10% of the last published", `{on_change: true, deadband: 10%}`,
			[]in{{0, []float64{20, 40}, false}, {1, []float64{21.9, 43}, false}, {2, []float64{22.1, 40}, false}, {3, []float64{20, 40}, false}, {4, []float64{19.8, 40}, false}, {5, []float64{21.8, 40}, false}},
			[]bool{true, false, true, false, true, true}},
		{"relative deadband from zero: any change", `{on_change: true, deadband: 5%}`,
			[]in{{0, []float64{0, 0}, false}, {1, []float64{0, 0}, false}, {2, []float64{0.001, 0}, false}},
			[]bool{true, false, true}},
		{"heartbeat: at least every 10m", `{on_change: true, deadband: 1, heartbeat: 10m}`,
			[]in{{0, []float64{20, 40}, false}, {5 * time.Minute, []float64{20, 40}, false}, {10*time.Minute - 1, []float64{20, 40}, false}, {10 * time.Minute, []float64{20, 40}, false}, {15 * time.Minute, []float64{22, 40}, false}, {24 * time.Minute, []float64{22, 40}, false}, {25 * time.Minute, []float64{22, 40}, false}},
			[]bool{true, false, false, true, true, false, true}},
		{"heartbeat: the clock stepped back", `{on_change: true, heartbeat: 10m}`,
			[]in{{time.Hour, []float64{20, 40}, false}, {time.Hour + time.Minute, []float64{20, 40}, false}, {0, []float64{20, 40}, false}, {time.Minute, []float64{20, 40}, false}},
			[]bool{true, false, true, false}},
		{"a value that comes or goes is a change", `{on_change: true, deadband: 100}`,
			[]in{{0, []float64{20, 40}, false}, {1, []float64{20, 40}, true}, {2, []float64{20, 40}, true}, {3, []float64{20, 40}, false}},
			[]bool{true, true, false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p sensors.Publish
			if err := yaml.Unmarshal([]byte(tt.publish), &p); err != nil {
				t.Fatal(err)
			}
			reg := build(t, []sensors.Config{{Name: "gh", Driver: "test", Publish: p}}, map[string]*seq{"gh": {}})
			for i, r := range tt.reads {
				vals := []sensors.Value{{Name: "temperature", Value: r.vals[0]}, {Name: "humidity", Value: r.vals[1]}}
				if r.multi {
					vals = append(vals, sensors.Value{Name: "pressure", Value: 1000})
				}
				got := reg.Publishes(sensors.Reading{Sensor: "gh", Time: t0.Add(r.at), Values: vals})
				if got != tt.want[i] {
					t.Errorf("reading %d %+v: published %v, want %v", i, r, got, tt.want[i])
				}
			}
		})
	}
}

// A reload keeps a sensor's last published reading unless its publish keys
// changed; a sensor the registry does not know always publishes.
func TestPublishFilterReload(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	on := sensors.Publish{OnChange: true, Deadband: sensors.Deadband{Amount: 1}}
	cfg := []sensors.Config{{Name: "gh", Driver: "test", Publish: on}}
	reg := build(t, cfg, map[string]*seq{"gh": {}})
	rd := sensors.Reading{Sensor: "gh", Time: t0, Values: []sensors.Value{{Name: "temperature", Value: 20}}}
	if !reg.Publishes(rd) || reg.Publishes(rd) {
		t.Fatal("the first reading passes, the same again does not")
	}
	cfg[0].Interval = 60e9 // not a publish key
	if err := reg.Reload(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	if reg.Publishes(rd) {
		t.Error("a reload that kept the publish keys forgot the last published reading")
	}
	cfg[0].Publish.Deadband.Amount = 2
	if err := reg.Reload(context.Background(), cfg, nil); err != nil {
		t.Fatal(err)
	}
	if !reg.Publishes(rd) {
		t.Error("a reload with new publish keys did not start afresh")
	}
	if !reg.Publishes(sensors.Reading{Sensor: "gone", Time: t0}) {
		t.Error("a reading of an unknown sensor did not pass")
	}
}

// Smoothing feeds the reading; the publish filter only decides what goes
// to MQTT: the read handler hands every (smoothed) reading on, whatever the
// filter.
func TestSmoothingIsTheReading(t *testing.T) {
	reg := build(t, []sensors.Config{{Name: "sm", Driver: "test", Filter: sensors.Filter{Kind: "mean", Window: 2},
		Publish: sensors.Publish{OnChange: true, Deadband: sensors.Deadband{Amount: 30, Relative: true}}}}, map[string]*seq{"sm": {vals: temps(10, 14, 14)}})
	var got []float64
	var passed []bool
	for range 3 {
		r, err := reg.Read(context.Background(), "sm")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := r.Get("temperature")
		got = append(got, v)
		passed = append(passed, reg.Publishes(r))
	}
	if want := []float64{10, 12, 14}; !equal(got, want) {
		t.Errorf("readings %v, want the mean of the last two %v", got, want)
	}
	if want := []bool{true, false, true}; !equalB(passed, want) {
		t.Errorf("published %v, want %v (deadband 30%% on the smoothed values)", passed, want)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalB(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
