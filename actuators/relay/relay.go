// Package relay is the gpio actuator driver: a relay, MOSFET or LED on a
// GPIO output, on or off. Many relay boards switch on a low level: set
// active_low.
//
// Config keys: pin (GPIO17, required), active_low.
//
// On a board that offers it (board.Host), the pin is opened through
// OutputPin: the first write requests the line as an output already at
// the boot level (no glitch through the other level), with a bias toward
// the shutdown level that holds the line there once the agent has exited.
package relay

import (
	"fmt"

	"github.com/edgecron/edgecron/actuators"
	"periph.io/x/conn/v3/gpio"
)

func init() {
	actuators.Register(actuators.Driver{
		Name: "gpio",
		Keys: []string{"pin", "active_low"},
		Check: func(c *actuators.Config) error {
			if c.Pin == "" {
				return actuators.Keyf("pin", "is required (e.g. GPIO17)")
			}
			return nil
		},
		Open: func(c actuators.Config, hw actuators.Hardware) (actuators.Output, error) {
			p, err := openPin(c, hw)
			if err != nil {
				return nil, actuators.Keyf("pin", "%w", err)
			}
			return New(p, c.ActiveLow), nil
		},
	})
}

// outputPinner is a Hardware that opens a pin as an output requested with
// a bias (board.Host).
type outputPinner interface {
	OutputPin(name string, bias gpio.Pull) (gpio.PinOut, error)
}

func openPin(c actuators.Config, hw actuators.Hardware) (gpio.PinOut, error) {
	if o, ok := hw.(outputPinner); ok {
		return o.OutputPin(c.Pin, Bias(c))
	}
	return hw.Pin(c.Pin)
}

// Bias is the pull toward the output's safe level.
func Bias(c actuators.Config) gpio.Pull {
	if SafeLevel(c) {
		return gpio.PullUp
	}
	return gpio.PullDown
}

// SafeLevel is the pin level of the output's shutdown state: the level
// its bias and the board's power-on settings should hold while the agent
// is not running.
func SafeLevel(c actuators.Config) gpio.Level {
	return gpio.Level((c.Safety.Shutdown == "on") != c.ActiveLow)
}

// BootLevel is the pin level of the output's boot state.
func BootLevel(c actuators.Config) gpio.Level {
	return gpio.Level((c.Safety.Boot == "on") != c.ActiveLow)
}

// Relay drives one GPIO output.
type Relay struct {
	pin       gpio.PinOut
	activeLow bool
}

// New returns the relay; the pin is not driven until Set.
func New(p gpio.PinOut, activeLow bool) *Relay { return &Relay{pin: p, activeLow: activeLow} }

// Set drives the pin: any v > 0 is on.
func (r *Relay) Set(v float64) error {
	l := gpio.Level(v > 0)
	if r.activeLow {
		l = !l
	}
	if err := r.pin.Out(l); err != nil {
		return fmt.Errorf("%s: %w", r.pin, err)
	}
	return nil
}
