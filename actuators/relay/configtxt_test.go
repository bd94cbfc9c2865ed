package relay

import (
	"reflect"
	"testing"

	"github.com/edgecron/edgecron/actuators"
	"periph.io/x/conn/v3/gpio"
)

func TestHolds(t *testing.T) {
	cfgs := []actuators.Config{
		{Name: "pump", Driver: "gpio", Pin: "GPIO17", ActiveLow: true},
		{Name: "fan", Driver: "pwm"},
		{Name: "heater", Driver: "gpio", Pin: "GPIO18", Safety: actuators.Safety{Boot: "on"}},
		{Name: "vent", Driver: "gpio", Pin: "GPIO23", Safety: actuators.Safety{Shutdown: "on"}},
		{Name: "door", Driver: "gpio", Pin: "GPIO5", ActiveLow: true, Safety: actuators.Safety{Boot: "on", Shutdown: "on"}},
		{Name: "led", Driver: "gpio", Pin: "P1_11"},
	}
	want := []Hold{
		{Name: "pump", Pin: "GPIO17", Safe: gpio.High, Boot: gpio.High, Bias: gpio.PullUp, ConfigTxt: "gpio=17=op,dh"},
		{Name: "heater", Pin: "GPIO18", Safe: gpio.Low, Boot: gpio.High, Bias: gpio.PullDown, ConfigTxt: "gpio=18=op,dl"},
		{Name: "vent", Pin: "GPIO23", Safe: gpio.High, Boot: gpio.Low, Bias: gpio.PullUp, ConfigTxt: "gpio=23=op,dh"},
		{Name: "door", Pin: "GPIO5", Safe: gpio.Low, Boot: gpio.Low, Bias: gpio.PullDown, ConfigTxt: "gpio=5=op,dl"},
		{Name: "led", Pin: "P1_11", Safe: gpio.Low, Boot: gpio.Low, Bias: gpio.PullDown,
			Note: `pin "P1_11" is not named GPIO<n>: find its GPIO number for config.txt`},
	}
	if got := Holds(cfgs); !reflect.DeepEqual(got, want) {
		t.Errorf("Holds:\n got %+v\nwant %+v", got, want)
	}
}

func TestBCMNumber(t *testing.T) {
	for _, tc := range []struct {
		pin string
		n   int
		ok  bool
	}{
		{"GPIO17", 17, true}, {"GPIO0", 0, true}, {"GPIO", 0, false}, {"GPIO017", 0, false},
		{"GPIO-1", 0, false}, {"gpio17", 0, false}, {"P1_11", 0, false}, {"GPIO1000", 0, false},
	} {
		if n, ok := bcmNumber(tc.pin); n != tc.n || ok != tc.ok {
			t.Errorf("bcmNumber(%q) = %d, %v; want %d, %v", tc.pin, n, ok, tc.n, tc.ok)
		}
	}
}
