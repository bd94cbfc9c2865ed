package gpio

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/board/boardtest"
	"github.com/edgecron/edgecron/sensors"
	"periph.io/x/conn/v3/gpio"
)

func build(t *testing.T, c sensors.Config, p *boardtest.Pin) sensors.Sensor {
	t.Helper()
	c.Name, c.Driver = "in", "gpio"
	if err := c.Validate("sensors[0]"); err != nil {
		t.Fatal(err)
	}
	d, _ := sensors.Lookup("gpio")
	s, err := d.Open(c, &boardtest.Hardware{Pins: map[string]*boardtest.Pin{"GPIO5": p}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLevel(t *testing.T) {
	tests := []struct {
		pull      string
		activeLow bool
		set       *gpio.Level
		want      float64
	}{
		{"up", false, nil, 1},
		{"up", true, nil, 0},
		{"down", false, nil, 0},
		{"down", true, nil, 1},
		{"", false, &[]gpio.Level{gpio.High}[0], 1},
		{"none", true, &[]gpio.Level{gpio.Low}[0], 1},
	}
	for _, tt := range tests {
		p := &boardtest.Pin{N: "GPIO5"}
		s := build(t, sensors.Config{Pin: "GPIO5", Pull: tt.pull, ActiveLow: tt.activeLow, Quantity: "door"}, p)
		if tt.set != nil {
			p.SetLevel(*tt.set)
		}
		v, err := s.Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if v[0].Name != "door" || v[0].Value != tt.want {
			t.Errorf("pull %q active_low %v: got %+v, want %v", tt.pull, tt.activeLow, v, tt.want)
		}
	}
}

func TestCounter(t *testing.T) {
	p := &boardtest.Pin{N: "GPIO5", Edges: make(chan gpio.Level)}
	c, err := NewCounter(p, gpio.PullUp, gpio.FallingEdge, "rain", "mm", time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	counted := make(chan struct{})
	c.mu.Lock()
	c.onEdge = func() { counted <- struct{}{} }
	c.mu.Unlock()
	edges := func(n int) {
		for range n {
			p.Edges <- gpio.Low
			<-counted
		}
	}
	edges(3)
	v, _ := c.Read(context.Background())
	if v[0].Value != 3 || v[1].Value != 3 || v[1].Name != "rain_total" || v[0].Unit != "mm" {
		t.Fatalf("first read %+v", v)
	}
	edges(2)
	v, _ = c.Read(context.Background())
	if v[0].Value != 2 || v[1].Value != 5 {
		t.Fatalf("second read %+v", v)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if p.Edge() != gpio.NoEdge {
		t.Fatal("edge detection left on after Close")
	}
	if err := c.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		c    sensors.Config
		want string
	}{
		{sensors.Config{}, "sensors[1].pin: is required"},
		{sensors.Config{Pin: "GPIO5", Pull: "sideways"}, "sensors[1].pull: must be up, down or none"},
		{sensors.Config{Pin: "GPIO5", Mode: "pwm"}, "sensors[1].mode: must be level or counter"},
		{sensors.Config{Pin: "GPIO5", Edge: "rising"}, "sensors[1].edge: applies only to mode counter"},
		{sensors.Config{Pin: "GPIO5", Mode: "counter", Edge: "up"}, "sensors[1].edge: must be rising"},
		{sensors.Config{Pin: "GPIO5", Mode: "counter", ActiveLow: true}, "sensors[1].active_low"},
		{sensors.Config{Pin: "GPIO5", Bus: "1"}, "sensors[1].bus: is not used by driver gpio"},
	}
	for _, tt := range tests {
		c := tt.c
		c.Name, c.Driver = "in", "gpio"
		if err := c.Validate("sensors[1]"); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want %q", tt.c, err, tt.want)
		}
	}
}

func TestMissingPinIsAConfigError(t *testing.T) {
	_, err := sensors.Build([]sensors.Config{{Name: "in", Driver: "gpio", Pin: "GPIO99"}}, &boardtest.Hardware{}, nil)
	if err == nil || !strings.HasPrefix(err.Error(), `sensors[0].pin: no GPIO pin "GPIO99"`) {
		t.Fatalf("got %v", err)
	}
}
