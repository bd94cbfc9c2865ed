// Package cputemp is the cpu-temp sensor driver: the SoC temperature the
// kernel exposes in /sys/class/thermal (present on every Raspberry Pi).
//
// Config keys: path (default <sysfs>/class/thermal/thermal_zone0/temp).
package cputemp

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/edgecron/edgecron/internal/haclass"
	"github.com/edgecron/edgecron/sensors"
)

// DefaultZone is the thermal zone file read when no path is set, relative
// to the sysfs root.
const DefaultZone = "class/thermal/thermal_zone0/temp"

func init() {
	sensors.Register(sensors.Driver{
		Name: "cpu-temp",
		Keys: []string{"path"},
		Values: func(sensors.Config) []sensors.Value {
			return []sensors.Value{{Name: "temperature", Unit: "°C", Class: haclass.Class{Device: "temperature", State: haclass.Measurement}}}
		},
		Open: func(c sensors.Config, hw sensors.Hardware) (sensors.Sensor, error) {
			p := c.Path
			if p == "" {
				p = filepath.Join(hw.SysfsRoot(), DefaultZone)
			}
			return New(p)
		},
	})
}

// Sensor reads one thermal zone file.
type Sensor struct{ path string }

// New checks that the file can be read now and returns the sensor.
func New(path string) (*Sensor, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, sensors.Keyf("path", "thermal zone file: %w", err)
	}
	return &Sensor{path: path}, nil
}

// Read returns the temperature in °C.
func (s *Sensor) Read(context.Context) ([]sensors.Value, error) {
	b, err := os.ReadFile(s.path)
	if err != nil {
		return nil, err
	}
	t, err := ParseMilli(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.path, err)
	}
	return []sensors.Value{{Name: "temperature", Value: t, Unit: "°C"}}, nil
}

// ParseMilli parses a thermal zone file: an integer in millidegrees
// Celsius and a newline ("48312\n" is 48.312 °C).
func ParseMilli(b []byte) (float64, error) {
	s := strings.TrimSpace(string(b))
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("thermal zone value %q is not an integer of millidegrees", truncate(s))
	}
	return float64(n) / 1000, nil
}

func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
