// Package ads1115 is the ads1115 sensor driver: one channel of a TI
// ADS1115 16-bit ADC on I2C (periph's ads1x15 driver), read in volts.
// Turn volts into a quantity with quantity, unit and calibration (scale,
// offset): a soil probe giving 0..3 V for 0..100 % is quantity: moisture,
// unit: "%", calibration: {scale: 33.33}.
//
// Config keys: bus, address (0x48..0x4b, default 0x48), channel (0, 1, 2,
// 3 single-ended, or 0-1, 0-3, 1-3, 2-3 differential; default 0),
// max_voltage (the full-scale range to pick the gain: 0.256 .. 6.144,
// default 4.096), quantity (default voltage), unit (default V).
package ads1115

import (
	"context"
	"fmt"
	"sync"

	"github.com/edgecron/edgecron/internal/haclass"
	"github.com/edgecron/edgecron/sensors"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/ads1x15"
)

// SampleRate is the conversion rate asked of the ADC (about 8 ms a read).
const SampleRate = 128 * physic.Hertz

var channels = map[string]ads1x15.Channel{
	"0": ads1x15.Channel0, "1": ads1x15.Channel1, "2": ads1x15.Channel2, "3": ads1x15.Channel3,
	"0-1": ads1x15.Channel0Minus1, "0-3": ads1x15.Channel0Minus3,
	"1-3": ads1x15.Channel1Minus3, "2-3": ads1x15.Channel2Minus3,
}

func init() {
	sensors.Register(sensors.Driver{
		Name:  "ads1115",
		Keys:  []string{"bus", "address", "channel", "max_voltage", "quantity", "unit"},
		Check: check,
		Values: func(c sensors.Config) []sensors.Value {
			return []sensors.Value{{Name: c.Quantity, Unit: c.Unit, Class: haclass.ForUnit(c.Quantity, c.Unit)}}
		},
		Open: open,
	})
}

func check(c *sensors.Config) error {
	switch {
	case c.Address == 0:
		c.Address = 0x48
	case c.Address < 0x48 || c.Address > 0x4b:
		return sensors.Keyf("address", "%#x: an ADS1115 answers at 0x48..0x4b", c.Address)
	}
	if c.Channel == "" {
		c.Channel = "0"
	}
	if _, ok := channels[c.Channel]; !ok {
		return sensors.Keyf("channel", "%q: must be 0, 1, 2, 3, 0-1, 0-3, 1-3 or 2-3", c.Channel)
	}
	if c.MaxVoltage == 0 {
		c.MaxVoltage = 4.096
	}
	if c.MaxVoltage < 0 || c.MaxVoltage > 6.144 {
		return sensors.Keyf("max_voltage", "must be in (0, 6.144] volts, got %v", c.MaxVoltage)
	}
	if c.Quantity == "" {
		c.Quantity = "voltage"
		if c.Unit == "" {
			c.Unit = "V"
		}
	}
	return nil
}

// devices shares one ADC between the sensors reading its channels.
var (
	devMu   sync.Mutex
	devices = map[devKey]*ads1x15.Dev{}
)

type devKey struct {
	bus  i2c.Bus
	addr uint16
}

func open(c sensors.Config, hw sensors.Hardware) (sensors.Sensor, error) {
	bus, err := hw.I2C(c.Bus)
	if err != nil {
		return nil, sensors.Keyf("bus", "%w", err)
	}
	devMu.Lock()
	k := devKey{bus, uint16(c.Address)}
	d, ok := devices[k]
	if !ok {
		d, err = ads1x15.NewADS1115(bus, &ads1x15.Opts{I2cAddress: uint16(c.Address)})
		if err != nil {
			devMu.Unlock()
			return nil, sensors.Keyf("address", "%w", err)
		}
		devices[k] = d
	}
	devMu.Unlock()
	maxV := physic.ElectricPotential(c.MaxVoltage * float64(physic.Volt))
	p, err := d.PinForChannel(channels[c.Channel], maxV, SampleRate, ads1x15.BestQuality)
	if err != nil {
		return nil, sensors.Keyf("max_voltage", "%w", err)
	}
	return &Sensor{pin: p, name: c.Quantity, unit: c.Unit}, nil
}

// Sensor reads one ADC channel.
type Sensor struct {
	pin  ads1x15.PinADC
	name string
	unit string
}

// Read converts once and returns volts (before calibration).
func (s *Sensor) Read(context.Context) ([]sensors.Value, error) {
	smp, err := s.pin.Read()
	if err != nil {
		return nil, fmt.Errorf("ads1115 %s: %w", s.pin, err)
	}
	return []sensors.Value{{Name: s.name, Value: float64(smp.V) / float64(physic.Volt), Unit: s.unit}}, nil
}
