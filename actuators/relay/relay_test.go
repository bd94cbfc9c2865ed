package relay

import (
	"errors"
	"testing"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/board/boardtest"
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

// pinnerHW is a board whose outputs are opened through OutputPin.
type pinnerHW struct {
	boardtest.Hardware
	bias map[string]gpio.Pull
}

func (h *pinnerHW) OutputPin(name string, bias gpio.Pull) (gpio.PinOut, error) {
	h.bias[name] = bias
	p, err := h.Pin(name)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Through actuators.Build, an output is opened with the bias of its
// shutdown level, and its first and only write at start is its boot
// level: no other level is ever shown first.
func TestOpenSafeAndBootLevels(t *testing.T) {
	for _, tc := range []struct {
		activeLow      bool
		boot, shutdown string
		bias           gpio.Pull
		first          gpio.Level
	}{
		{false, "", "", gpio.PullDown, gpio.Low},
		{true, "", "", gpio.PullUp, gpio.High},
		{true, "on", "off", gpio.PullUp, gpio.Low},
		{false, "on", "off", gpio.PullDown, gpio.High},
		{false, "off", "on", gpio.PullUp, gpio.Low},
		{true, "off", "on", gpio.PullDown, gpio.High},
	} {
		pin := &boardtest.Pin{N: "GPIO17"}
		hw := &pinnerHW{Hardware: boardtest.Hardware{Pins: map[string]*boardtest.Pin{"GPIO17": pin}}, bias: map[string]gpio.Pull{}}
		c := actuators.Config{Name: "pump", Driver: "gpio", Pin: "GPIO17", ActiveLow: tc.activeLow,
			Safety: actuators.Safety{Boot: tc.boot, Shutdown: tc.shutdown}}
		if Bias(c) != tc.bias || BootLevel(c) != tc.first {
			t.Errorf("%+v: Bias %v BootLevel %v", tc, Bias(c), BootLevel(c))
		}
		s, err := actuators.Build([]actuators.Config{c}, hw, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := hw.bias["GPIO17"]; got != tc.bias {
			t.Errorf("%+v: opened with bias %v, want %v", tc, got, tc.bias)
		}
		if pin.Outs() != 1 || pin.Read() != tc.first {
			t.Errorf("%+v: %d writes, level %v; want one write of %v", tc, pin.Outs(), pin.Read(), tc.first)
		}
		_ = s.Close()
	}
}
