package relay

import (
	"errors"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// failPin is a gpiotest.Pin whose output fails (a hardware fault).
type failPin struct{ gpiotest.Pin }

func (p *failPin) Out(gpio.Level) error { return errors.New("bus error") }

func TestRelayOnGpiotest(t *testing.T) {
	for _, tc := range []struct {
		activeLow bool
		set       float64
		want      gpio.Level
	}{
		{false, 1, gpio.High},
		{false, 0, gpio.Low},
		{false, 0.4, gpio.High}, // any v > 0 is on
		{true, 1, gpio.Low},
		{true, 0, gpio.High},
	} {
		p := &gpiotest.Pin{N: "GPIO17", Num: 17, L: !tc.want}
		r := New(p, tc.activeLow)
		if err := r.Set(tc.set); err != nil {
			t.Fatal(err)
		}
		p.Lock()
		got := p.L
		p.Unlock()
		if got != tc.want {
			t.Errorf("active_low %v, Set(%v): pin %v, want %v", tc.activeLow, tc.set, got, tc.want)
		}
	}
	fp := &failPin{gpiotest.Pin{N: "GPIO18", Num: 18}}
	if err := New(fp, false).Set(1); err == nil {
		t.Error("a failed write was not reported")
	}
}
