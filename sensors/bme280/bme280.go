// Package bme280 is the bme280 and bmp280 sensor driver (Bosch
// environmental sensors on I2C, through periph's bmxx80 driver): temperature
// (°C), pressure (hPa) and, on a BME280, relative humidity (%).
//
// Config keys: bus (I2C bus, default the first), address (0x76 or 0x77,
// default 0x76).
package bme280

import (
	"context"
	"fmt"
	"strings"

	"github.com/edgecron/edgecron/internal/haclass"
	"github.com/edgecron/edgecron/sensors"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/bmxx80"
)

func init() {
	for _, name := range []string{"bme280", "bmp280"} {
		sensors.Register(sensors.Driver{
			Name:  name,
			Keys:  []string{"bus", "address"},
			Check: check,
			Values: func(c sensors.Config) []sensors.Value {
				v := []sensors.Value{
					{Name: "temperature", Unit: "°C", Class: haclass.Class{Device: "temperature", State: haclass.Measurement}},
					{Name: "pressure", Unit: "hPa", Class: haclass.Class{Device: "atmospheric_pressure", State: haclass.Measurement}},
				}
				if c.Driver == "bme280" {
					v = append(v, sensors.Value{Name: "humidity", Unit: "%", Class: haclass.Class{Device: "humidity", State: haclass.Measurement}})
				}
				return v
			},
			Open: open,
		})
	}
}

func check(c *sensors.Config) error {
	switch c.Address {
	case 0:
		c.Address = 0x76
	case 0x76, 0x77:
	default:
		return sensors.Keyf("address", "%#x: a BME280/BMP280 answers at 0x76 or 0x77", c.Address)
	}
	return nil
}

func open(c sensors.Config, hw sensors.Hardware) (sensors.Sensor, error) {
	bus, err := hw.I2C(c.Bus)
	if err != nil {
		return nil, sensors.Keyf("bus", "%w", err)
	}
	d, err := bmxx80.NewI2C(bus, uint16(c.Address), &bmxx80.DefaultOpts)
	if err != nil {
		return nil, sensors.Keyf("address", "no %s at %#x on bus %q: %w", c.Driver, c.Address, c.Bus, err)
	}
	isBME := strings.HasPrefix(d.String(), "BME280")
	if c.Driver == "bme280" && !isBME {
		return nil, sensors.Keyf("driver", "the chip at %#x is a %s, not a BME280: use driver bmp280", c.Address, d)
	}
	return &Sensor{dev: d, humidity: isBME}, nil
}

// Sensor reads one BME280 or BMP280.
type Sensor struct {
	dev      *bmxx80.Dev
	humidity bool
}

// Read takes one forced-mode measurement.
func (s *Sensor) Read(context.Context) ([]sensors.Value, error) {
	var e physic.Env
	if err := s.dev.Sense(&e); err != nil {
		return nil, fmt.Errorf("%s: %w", s.dev, err)
	}
	v := []sensors.Value{
		{Name: "temperature", Value: e.Temperature.Celsius(), Unit: "°C"},
		{Name: "pressure", Value: float64(e.Pressure) / float64(physic.Pascal) / 100, Unit: "hPa"},
	}
	if s.humidity {
		v = append(v, sensors.Value{Name: "humidity", Value: float64(e.Humidity) / float64(physic.PercentRH), Unit: "%"})
	}
	return v, nil
}

// Close puts the chip to sleep.
func (s *Sensor) Close() error { return s.dev.Halt() }
