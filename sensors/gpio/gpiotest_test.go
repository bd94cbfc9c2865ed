package gpio

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// The drivers against periph's own GPIO double, gpiotest.Pin.

func TestLevelOnGpiotest(t *testing.T) {
	for _, tc := range []struct {
		level     gpio.Level
		activeLow bool
		want      float64
	}{
		{gpio.High, false, 1},
		{gpio.Low, false, 0},
		{gpio.High, true, 0},
		{gpio.Low, true, 1},
	} {
		p := &gpiotest.Pin{N: "GPIO5", Num: 5, Clock: clockwork.NewRealClock()}
		l, err := NewLevel(p, gpio.PullUp, tc.activeLow, "door", "")
		if err != nil {
			t.Fatal(err)
		}
		if p.Pull() != gpio.PullUp {
			t.Errorf("pull %v, want the configured pull-up", p.Pull())
		}
		// Nothing drives the pin yet: the pull-up holds it high.
		if v, _ := l.Read(context.Background()); v[0].Value != map[bool]float64{false: 1, true: 0}[tc.activeLow] {
			t.Errorf("undriven pin with pull-up, active_low %v: read %+v", tc.activeLow, v)
		}
		p.Lock()
		p.L = tc.level // the switch drives it
		p.Unlock()
		v, err := l.Read(context.Background())
		if err != nil || len(v) != 1 || v[0].Name != "door" || v[0].Value != tc.want {
			t.Errorf("level %v active_low %v: read %+v, %v; want %v", tc.level, tc.activeLow, v, err, tc.want)
		}
	}
}

func TestCounterOnGpiotest(t *testing.T) {
	p := &gpiotest.Pin{N: "GPIO6", Num: 6, EdgesChan: make(chan gpio.Level), Clock: clockwork.NewRealClock()}
	c, err := NewCounter(p, gpio.PullUp, gpio.FallingEdge, "flow", "L", 5*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	counted := make(chan struct{})
	c.mu.Lock()
	c.onEdge = func() { counted <- struct{}{} }
	c.mu.Unlock()
	for range 4 {
		p.EdgesChan <- gpio.Low // received inside WaitForEdge
		<-counted
	}
	v, _ := c.Read(context.Background())
	if v[0].Value != 4 || v[1].Value != 4 || v[1].Name != "flow_total" {
		t.Fatalf("read %+v, want 4 pulses", v)
	}
	if v, _ = c.Read(context.Background()); v[0].Value != 0 || v[1].Value != 4 {
		t.Fatalf("second read %+v, want 0 new of 4", v)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}
