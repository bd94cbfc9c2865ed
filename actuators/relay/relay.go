// Package relay is the gpio actuator driver: a relay, MOSFET or LED on a
// GPIO output, on or off. Many relay boards switch on a low level: set
// active_low.
//
// Config keys: pin (GPIO17, required), active_low.
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
			p, err := hw.Pin(c.Pin)
			if err != nil {
				return nil, actuators.Keyf("pin", "%w", err)
			}
			return New(p, c.ActiveLow), nil
		},
	})
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
