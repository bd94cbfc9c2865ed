package relay

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/edgecron/edgecron/actuators"
	"periph.io/x/conn/v3/gpio"
)

// Hold is what keeps one gpio output at its safe level while the agent is
// not running (docs/hardware.md, "Power-on, run and exit").
type Hold struct {
	Name string // the actuator
	Pin  string // as configured, e.g. GPIO17
	// Safe is the pin level of the shutdown state; Boot that of the boot
	// state, which the agent requests the line at.
	Safe, Boot gpio.Level
	// Bias is the pull the agent requests with the line, toward Safe: it
	// holds the released line after the agent exits, where the GPIO
	// controller applies pulls.
	Bias gpio.Pull
	// ConfigTxt is the Raspberry Pi config.txt line that has the firmware
	// drive the pin to Safe from power-on ("gpio=17=op,dh"), or "" when the
	// pin is not named GPIO<n>; Note then says why.
	ConfigTxt string
	Note      string
}

// Holds returns the Hold of every gpio output among cfgs, in config order.
// cfgs are validated configs.
func Holds(cfgs []actuators.Config) []Hold {
	var hs []Hold
	for _, c := range cfgs {
		if c.Driver != "gpio" {
			continue
		}
		h := Hold{Name: c.Name, Pin: c.Pin, Safe: SafeLevel(c), Boot: BootLevel(c), Bias: Bias(c)}
		if n, ok := bcmNumber(c.Pin); ok {
			drive := "dl"
			if h.Safe {
				drive = "dh"
			}
			h.ConfigTxt = fmt.Sprintf("gpio=%d=op,%s", n, drive)
		} else {
			h.Note = fmt.Sprintf("pin %q is not named GPIO<n>: find its GPIO number for config.txt", c.Pin)
		}
		hs = append(hs, h)
	}
	return hs
}

// bcmNumber returns n of a pin named GPIO<n>.
func bcmNumber(pin string) (int, bool) {
	s, ok := strings.CutPrefix(pin, "GPIO")
	if !ok || s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 999 {
		return 0, false
	}
	return n, true
}
