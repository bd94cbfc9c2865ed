// Package pca9685 is the pca9685 actuator driver: one channel of an NXP
// PCA9685 16-channel PWM controller on I2C (periph's pca9685 driver), as on
// most servo/LED HATs. Channels of one chip share its frequency.
//
// Config keys: bus, address (default 0x40), channel (0..15, required),
// frequency (24..1526 Hz, default 1000), active_low (inverts the duty
// cycle).
package pca9685

import (
	"fmt"
	"math"
	"sync"

	"github.com/edgecron/edgecron/actuators"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/pca9685"
)

func init() {
	actuators.Register(actuators.Driver{
		Name: "pca9685",
		PWM:  true,
		Keys: []string{"bus", "address", "channel", "frequency", "active_low"},
		Check: func(c *actuators.Config) error {
			if c.Address == 0 {
				c.Address = 0x40
			}
			if c.Address < 0x03 || c.Address > 0x7f {
				return actuators.Keyf("address", "%#x is not a 7-bit I2C address", c.Address)
			}
			if c.Channel == nil {
				return actuators.Keyf("channel", "is required (0..15)")
			}
			if *c.Channel < 0 || *c.Channel > 15 {
				return actuators.Keyf("channel", "must be 0..15, got %d", *c.Channel)
			}
			if c.Frequency == 0 {
				c.Frequency = 1000
			}
			if c.Frequency < 24 || c.Frequency > 1526 {
				return actuators.Keyf("frequency", "a PCA9685 runs at 24..1526 Hz, got %v", c.Frequency)
			}
			return nil
		},
		Open: open,
	})
}

// chips shares one driver per chip among its channels: opening the chip
// resets all its outputs, which must happen once.
var (
	chipsMu sync.Mutex
	chips   = map[chipKey]*chip{}
)

type chipKey struct {
	bus  i2c.Bus
	addr uint16
}

type chip struct {
	mu   sync.Mutex
	dev  *pca9685.Dev
	freq float64
}

func open(c actuators.Config, hw actuators.Hardware) (actuators.Output, error) {
	bus, err := hw.I2C(c.Bus)
	if err != nil {
		return nil, actuators.Keyf("bus", "%w", err)
	}
	chipsMu.Lock()
	defer chipsMu.Unlock()
	k := chipKey{bus, c.Address}
	ch, ok := chips[k]
	if !ok {
		d, err := pca9685.NewI2C(bus, c.Address)
		if err != nil {
			return nil, actuators.Keyf("address", "no PCA9685 at %#x on bus %q: %w", c.Address, c.Bus, err)
		}
		// The frequency is in range (checked above): an error here is the
		// bus's, so it names the chip, not the frequency.
		if err := d.SetPwmFreq(physic.Frequency(c.Frequency * float64(physic.Hertz))); err != nil {
			return nil, actuators.Keyf("address", "PCA9685 at %#x on bus %q: set %v Hz: %w", c.Address, c.Bus, c.Frequency, err)
		}
		ch = &chip{dev: d, freq: c.Frequency}
		chips[k] = ch
	} else if ch.freq != c.Frequency {
		return nil, actuators.Keyf("frequency", "%v Hz, but another channel of the PCA9685 at %#x runs it at %v Hz (one frequency per chip)", c.Frequency, c.Address, ch.freq)
	}
	return &Channel{chip: ch, n: *c.Channel, invert: c.ActiveLow}, nil
}

// Channel is one output of a PCA9685.
type Channel struct {
	chip   *chip
	n      int
	invert bool
}

// Set sets the duty cycle 0..1 (fully off and fully on use the chip's
// full-off and full-on bits).
func (c *Channel) Set(v float64) error {
	if v < 0 || v > 1 || math.IsNaN(v) {
		return fmt.Errorf("pca9685 duty %v outside 0..1", v)
	}
	if c.invert {
		v = 1 - v
	}
	c.chip.mu.Lock()
	defer c.chip.mu.Unlock()
	var err error
	switch count := math.Round(v * 4095); count {
	case 0:
		err = c.chip.dev.SetFullOff(c.n)
	case 4095:
		err = c.chip.dev.SetFullOn(c.n)
	default:
		err = c.chip.dev.SetPwm(c.n, 0, gpio.Duty(count))
	}
	if err != nil {
		return fmt.Errorf("pca9685 channel %d: %w", c.n, err)
	}
	return nil
}
