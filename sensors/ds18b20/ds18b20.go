// Package ds18b20 is the ds18b20 sensor driver: a Dallas/Maxim DS18B20
// 1-Wire thermometer, read either through the kernel's w1 sysfs file
// (/sys/bus/w1/devices/28-*/w1_slave, how most Raspberry Pis expose it,
// with dtoverlay=w1-gpio) or through periph's driver on a 1-Wire bus
// (a DS2482 bridge on I2C).
//
// Config keys: device (the w1 id, "28-0123456789ab") or path (a w1_slave
// file) for sysfs; bus (the 1-Wire bus) and address (the 64-bit ROM code)
// and resolution (9..12 bits, default 12) for periph's driver.
package ds18b20

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/edgecron/edgecron/internal/haclass"
	"github.com/edgecron/edgecron/internal/lazyre"
	"github.com/edgecron/edgecron/sensors"
	"periph.io/x/conn/v3/onewire"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/devices/v3/ds18b20"
)

var deviceRE = lazyre.New(`^[0-9a-f]{2}-[0-9a-f]{12}$`)

func init() {
	sensors.Register(sensors.Driver{
		Name:  "ds18b20",
		Keys:  []string{"device", "path", "bus", "address", "resolution"},
		Check: check,
		Values: func(sensors.Config) []sensors.Value {
			return []sensors.Value{{Name: "temperature", Unit: "°C", Class: haclass.Class{Device: "temperature", State: haclass.Measurement}}}
		},
		Open: open,
	})
}

func check(c *sensors.Config) error {
	if c.Bus != "" || c.Address != 0 {
		if c.Device != "" || c.Path != "" {
			return sensors.Keyf("device", "give device/path (kernel w1 sysfs) or bus/address (1-Wire bus), not both")
		}
		if c.Address == 0 {
			return sensors.Keyf("address", "the sensor's 64-bit ROM code is required with bus")
		}
		if c.Resolution == 0 {
			c.Resolution = 12
		}
		if c.Resolution < 9 || c.Resolution > 12 {
			return sensors.Keyf("resolution", "must be 9..12 bits, got %d", c.Resolution)
		}
		return nil
	}
	if c.Resolution != 0 {
		return sensors.Keyf("resolution", "is set by the kernel's w1 driver; it applies only with bus")
	}
	if c.Device == "" && c.Path == "" {
		return sensors.Keyf("device", "is required: the w1 id under /sys/bus/w1/devices, e.g. 28-0123456789ab (or set bus and address)")
	}
	if c.Device != "" && !deviceRE.MatchString(c.Device) {
		return sensors.Keyf("device", "%q is not a w1 id like 28-0123456789ab", c.Device)
	}
	return nil
}

func open(c sensors.Config, hw sensors.Hardware) (sensors.Sensor, error) {
	if c.Bus != "" {
		bus, err := hw.OneWire(c.Bus)
		if err != nil {
			return nil, sensors.Keyf("bus", "%w", err)
		}
		return NewOneWire(bus, onewire.Address(c.Address), c.Resolution)
	}
	p := c.Path
	if p == "" {
		p = filepath.Join(hw.SysfsRoot(), "bus/w1/devices", c.Device, "w1_slave")
	}
	return NewSysfs(p)
}

// Sysfs reads a w1_slave file of the kernel's w1_therm driver. Reading the
// file triggers the conversion (up to 750 ms).
type Sysfs struct{ path string }

// NewSysfs checks that the file exists.
func NewSysfs(path string) (*Sysfs, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, sensors.Keyf("device", "%w (is dtoverlay=w1-gpio enabled and the sensor wired?)", err)
	}
	return &Sysfs{path: path}, nil
}

// Read returns the temperature in °C.
func (s *Sysfs) Read(context.Context) ([]sensors.Value, error) {
	b, err := os.ReadFile(s.path)
	if err != nil {
		return nil, err
	}
	t, err := ParseW1Slave(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	return []sensors.Value{{Name: "temperature", Value: t, Unit: "°C"}}, nil
}

// Errors of ParseW1Slave.
var (
	ErrCRC       = errors.New("w1_slave: CRC check failed (bad wiring or a missing pull-up?)")
	ErrPowerOn   = errors.New("w1_slave: 85 °C power-on value: the conversion did not run (parasite power?)")
	ErrMalformed = errors.New("w1_slave: malformed")
)

// ParseW1Slave parses the two lines of a w1_therm w1_slave file:
//
//	72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
//	72 01 4b 46 7f ff 0e 10 57 t=23125
//
// and returns the temperature in °C. A failed CRC and the 85 °C power-on
// reset value (scratchpad 50 05) are errors.
func ParseW1Slave(b []byte) (float64, error) {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) < 2 {
		return 0, fmt.Errorf("%w: want 2 lines, got %d", ErrMalformed, len(lines))
	}
	l1, l2 := bytes.TrimSpace(lines[0]), bytes.TrimSpace(lines[1])
	switch {
	case bytes.HasSuffix(l1, []byte(" YES")):
	case bytes.HasSuffix(l1, []byte(" NO")):
		return 0, ErrCRC
	default:
		return 0, fmt.Errorf("%w: first line has no crc=.. YES/NO", ErrMalformed)
	}
	i := bytes.LastIndex(l2, []byte("t="))
	if i < 0 {
		return 0, fmt.Errorf("%w: no t= on the second line", ErrMalformed)
	}
	milli, err := strconv.ParseInt(string(l2[i+2:]), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: t=%q", ErrMalformed, l2[i+2:])
	}
	if milli < -55000 || milli > 125000 {
		return 0, fmt.Errorf("%w: %d m°C is outside the sensor's -55..125 °C", ErrMalformed, milli)
	}
	if milli == 85000 && bytes.HasPrefix(l2, []byte("50 05 ")) {
		return 0, ErrPowerOn
	}
	return float64(milli) / 1000, nil
}

// OneWire reads a DS18B20 through periph's driver.
type OneWire struct{ dev *ds18b20.Dev }

// NewOneWire opens the sensor at addr and sets its resolution.
func NewOneWire(bus onewire.Bus, addr onewire.Address, resolution int) (*OneWire, error) {
	d, err := ds18b20.New(bus, addr, resolution)
	if err != nil {
		return nil, fmt.Errorf("ds18b20 %#016x: %w", uint64(addr), err)
	}
	return &OneWire{dev: d}, nil
}

// Read starts a conversion, waits for it and returns °C.
func (s *OneWire) Read(context.Context) ([]sensors.Value, error) {
	var e physic.Env
	if err := s.dev.Sense(&e); err != nil {
		return nil, err
	}
	return []sensors.Value{{Name: "temperature", Value: e.Temperature.Celsius(), Unit: "°C"}}, nil
}
