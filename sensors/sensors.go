// Package sensors reads the sensors declared in the config: a Registry of
// named sensors built from Config entries and a Hardware source, each read
// post-processed (calibration, smoothing filter, rounding) into a Reading,
// and the scheduler's "read" action handler that publishes Readings to a
// Sink.
//
// Drivers live in subpackages (gpio, bme280, ds18b20, ads1115, i2creg,
// cputemp, sim) and register themselves by name; import
// github.com/edgecron/edgecron/sensors/drivers to link them all. Drivers see
// hardware only through periph.io conn contracts (i2c.Bus, gpio.PinIO,
// onewire.Bus) and sysfs paths, never periph's host packages.
package sensors

import (
	"context"
	"encoding/json"
	"time"

	"github.com/edgecron/edgecron/internal/haclass"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/onewire"
)

// Value is one named quantity of a reading, e.g. temperature in °C.
type Value struct {
	Name  string
	Value float64
	Unit  string
	// Class is what Home Assistant is told the value is (device and state
	// class, or an on/off value). Drivers declare it in Driver.Values;
	// readings leave it empty.
	Class haclass.Class
}

// Reading is one read of one sensor, after calibration, filtering and
// rounding.
type Reading struct {
	Sensor string
	Time   time.Time
	Values []Value // in the driver's order; the first is the primary value
}

// Get returns the value with the given name.
func (r Reading) Get(name string) (float64, bool) {
	for _, v := range r.Values {
		if v.Name == name {
			return v.Value, true
		}
	}
	return 0, false
}

// ValueMap returns the values by name.
func (r Reading) ValueMap() map[string]float64 {
	m := make(map[string]float64, len(r.Values))
	for _, v := range r.Values {
		m[v.Name] = v.Value
	}
	return m
}

// UnitMap returns the units by value name (values without a unit are
// left out).
func (r Reading) UnitMap() map[string]string {
	m := make(map[string]string, len(r.Values))
	for _, v := range r.Values {
		if v.Unit != "" {
			m[v.Name] = v.Unit
		}
	}
	return m
}

// readingJSON is the MQTT telemetry payload of a reading (docs/mqtt.md):
// {"ts":"RFC3339 UTC","values":{...},"units":{...}}.
type readingJSON struct {
	TS     string             `json:"ts"`
	Values map[string]float64 `json:"values"`
	Units  map[string]string  `json:"units"`
}

// MarshalJSON writes the telemetry payload; the sensor name is not part of
// it (it is the topic's last level).
func (r Reading) MarshalJSON() ([]byte, error) {
	return json.Marshal(readingJSON{TS: r.Time.UTC().Format(time.RFC3339Nano), Values: r.ValueMap(), Units: r.UnitMap()})
}

// Sensor is what a driver provides. Read may block (a DS18B20 conversion
// takes up to 750 ms) and may ignore ctx: the Registry runs it in its own
// goroutine and gives up at ctx's deadline. A Sensor that also implements
// io.Closer is closed with the Registry.
type Sensor interface {
	Read(ctx context.Context) ([]Value, error)
}

// Hardware is what drivers open: buses and pins by their config name, and
// the root of the sysfs tree ("/sys" on a real board, a testdata directory
// in tests). A name that does not exist is an error naming it.
type Hardware interface {
	I2C(bus string) (i2c.Bus, error)
	Pin(name string) (gpio.PinIO, error)
	OneWire(bus string) (onewire.Bus, error)
	SysfsRoot() string
}

// Simulator is a Hardware that serves every sensor itself, whatever its
// driver (the simulated board): Build asks it for each configured sensor
// after the driver validated the entry.
type Simulator interface {
	SimulateSensor(c Config) (Sensor, error)
}
