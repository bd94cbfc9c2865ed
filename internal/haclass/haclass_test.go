package haclass

import (
	"strings"
	"testing"
)

// TestForUnit: a unit names its class only where it cannot mean anything
// else; % needs the value's name.
func TestForUnit(t *testing.T) {
	tests := []struct{ name, unit, want string }{
		{"temperature", "°C", "temperature"},
		{"water", "K", "temperature"},
		{"voltage", "V", "voltage"},
		{"humidity", "%", "humidity"},
		{"moisture", "%", "moisture"},
		{"level", "%", ""},
		{"co2", "ppm", "carbon_dioxide"},
		{"tvoc", "ppm", ""},
		{"value", "", ""},
	}
	for _, tt := range tests {
		c := ForUnit(tt.name, tt.unit)
		if c.Device != tt.want || c.State != Measurement {
			t.Errorf("ForUnit(%q, %q) = %+v, want device %q, measurement", tt.name, tt.unit, c, tt.want)
		}
		if err := c.Check(tt.unit); err != nil {
			t.Errorf("ForUnit(%q, %q) guessed a class Check refuses: %v", tt.name, tt.unit, err)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		c    Class
		unit string
		want string // "" is accepted
	}{
		{Class{Device: "temperature", State: Measurement}, "°F", ""},
		{Class{Device: "temperature"}, "V", "device_class: temperature takes a unit of °C, °F, K"},
		{Class{Device: "speed"}, "m/s", ""},
		{Class{State: "sum"}, "", "state_class: \"sum\""},
		{Class{Device: "wind"}, "", "device_class: \"wind\" is not a Home Assistant sensor class"},
		{Class{Binary: true, Device: "motion"}, "", ""},
		{Class{Binary: true, Device: "humidity"}, "", "is not a Home Assistant binary_sensor class"},
		{Class{Binary: true, State: Measurement}, "", "state_class: applies to numbers"},
	}
	for _, tt := range tests {
		err := tt.c.Check(tt.unit)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v in %q: %v", tt.c, tt.unit, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%+v in %q: got %v, want %q", tt.c, tt.unit, err, tt.want)
		}
	}
}

// TestSensorClassesSorted: the table is looked up by a scan that stops at
// the first match, and SensorClasses promises sorted names.
func TestSensorClassesSorted(t *testing.T) {
	names := SensorClasses()
	if len(names) != len(sensorClasses) || len(names) == 0 {
		t.Fatalf("SensorClasses: %d names for %d classes", len(names), len(sensorClasses))
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("sensor classes not sorted or repeated: %q before %q", names[i-1], names[i])
		}
	}
}
