// Package haclass knows which classes Home Assistant accepts for a value.
//
// Home Assistant keeps long-term statistics and converts units only for a
// sensor whose device_class, state_class and unit_of_measurement agree
// with each other: a "temperature" in "hPa" is refused with a warning in
// its log, and the entity then shows no graph. Sensor drivers declare the
// classes of their values and the config may override them per sensor
// (sensors[].device_class, sensors[].state_class); both are checked here,
// at config time, so that a wrong class is a config error naming the key
// rather than a warning in someone else's log. The MQTT adapter only
// copies what was checked into the discovery payloads.
//
// The lists follow Home Assistant's sensor and binary_sensor device
// classes (homeassistant.components.sensor.const, 2024-2025).
package haclass

import (
	"slices"
	"strings"

	"github.com/edgecron/edgecron/internal/cfgkey"
)

// State classes of a sensor value.
const (
	Measurement     = "measurement"
	Total           = "total"
	TotalIncreasing = "total_increasing"
)

// stateClasses are the state classes Home Assistant accepts.
var stateClasses = []string{Measurement, Total, TotalIncreasing}

// sensorClasses are the sensor device classes, sorted, each with the units
// Home Assistant accepts for it; nil accepts any unit (or none). A table,
// not a map: the linker lays a table out, where a map literal compiles
// into code that builds the map at start-up (docs/footprint.md).
var sensorClasses = []struct {
	name  string
	units []string
}{
	{"apparent_power", []string{"VA"}},
	{"aqi", nil},
	{"atmospheric_pressure", []string{"cbar", "bar", "hPa", "mmHg", "inHg", "kPa", "mbar", "Pa", "psi"}},
	{"battery", []string{"%"}},
	{"carbon_dioxide", []string{"ppm"}},
	{"carbon_monoxide", []string{"ppm"}},
	{"current", []string{"A", "mA"}},
	{"data_rate", nil},
	{"data_size", nil},
	{"distance", []string{"km", "m", "cm", "mm", "mi", "yd", "in", "ft"}},
	{"duration", []string{"d", "h", "min", "s", "ms"}},
	{"energy", []string{"Wh", "kWh", "MWh", "GWh", "MJ", "GJ"}},
	{"frequency", []string{"Hz", "kHz", "MHz", "GHz"}},
	{"gas", []string{"m³", "ft³", "CCF"}},
	{"humidity", []string{"%"}},
	{"illuminance", []string{"lx"}},
	{"irradiance", []string{"W/m²", "BTU/(h⋅ft²)"}},
	{"moisture", []string{"%"}},
	{"ph", nil},
	{"pm1", []string{"µg/m³"}},
	{"pm10", []string{"µg/m³"}},
	{"pm25", []string{"µg/m³"}},
	{"power", []string{"W", "kW", "MW", "GW", "TW"}},
	{"power_factor", []string{"%", ""}},
	{"precipitation", []string{"cm", "in", "mm"}},
	{"pressure", []string{"cbar", "bar", "hPa", "mmHg", "inHg", "kPa", "mbar", "Pa", "psi"}},
	{"signal_strength", []string{"dB", "dBm"}},
	{"sound_pressure", []string{"dB", "dBA"}},
	{"speed", nil},
	{"temperature", []string{"°C", "°F", "K"}},
	{"volatile_organic_compounds", []string{"µg/m³", "mg/m³"}},
	{"voltage", []string{"V", "mV", "µV", "kV", "MV"}},
	{"volume", nil},
	{"volume_flow_rate", []string{"m³/h", "ft³/min", "L/min", "gal/min", "mL/s"}},
	{"water", []string{"L", "gal", "m³", "ft³", "CCF"}},
	{"weight", []string{"kg", "g", "mg", "µg", "oz", "lb", "st"}},
	{"wind_speed", nil},
}

// binaryClasses are the binary_sensor device classes.
var binaryClasses = []string{
	"battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door", "garage_door",
	"gas", "heat", "light", "lock", "moisture", "motion", "moving", "occupancy", "opening", "plug",
	"power", "presence", "problem", "running", "safety", "smoke", "sound", "tamper", "update",
	"vibration", "window",
}

// Class says what a value is, in Home Assistant's terms. The zero Class
// is a plain number.
type Class struct {
	// Device is the device_class ("temperature"; for a binary value
	// "door"); empty: none.
	Device string
	// State is the state_class: measurement, total or total_increasing;
	// empty: none (Home Assistant keeps no statistics). Unused for a
	// binary value.
	State string
	// Binary marks an on/off value (1 is on): a binary_sensor.
	Binary bool
}

// Check reports, naming the key at fault ("device_class" or
// "state_class"), whether Home Assistant accepts c for a value in unit.
func (c Class) Check(unit string) error {
	if c.Binary {
		if c.State != "" {
			return cfgkey.Keyf("state_class", "applies to numbers, not to an on/off value")
		}
		if c.Device != "" && !slices.Contains(binaryClasses, c.Device) {
			return cfgkey.Keyf("device_class", "%q is not a Home Assistant binary_sensor class (%s)", c.Device, strings.Join(binaryClasses, ", "))
		}
		return nil
	}
	if c.State != "" && !slices.Contains(stateClasses, c.State) {
		return cfgkey.Keyf("state_class", "%q: must be %s", c.State, strings.Join(stateClasses, ", "))
	}
	if c.Device == "" {
		return nil
	}
	i := 0
	for i < len(sensorClasses) && sensorClasses[i].name != c.Device {
		i++
	}
	if i == len(sensorClasses) {
		return cfgkey.Keyf("device_class", "%q is not a Home Assistant sensor class (%s)", c.Device, strings.Join(SensorClasses(), ", "))
	}
	if units := sensorClasses[i].units; units != nil && !slices.Contains(units, unit) {
		return cfgkey.Keyf("device_class", "%s takes a unit of %s, not %q", c.Device, strings.Join(units, ", "), unit)
	}
	return nil
}

// SensorClasses returns the sensor device classes, sorted.
func SensorClasses() []string {
	out := make([]string, len(sensorClasses))
	for i, e := range sensorClasses {
		out[i] = e.name
	}
	return out
}

// ForUnit guesses the class of a measured value from its name and unit,
// for drivers whose quantity the config names (ads1115, i2c-register,
// sim): °C is a temperature, V a voltage, % a humidity only when the
// value is called humidity. A unit it cannot place gives a plain
// measurement.
func ForUnit(name, unit string) Class {
	c := Class{State: Measurement}
	switch unit {
	case "°C", "°F", "K":
		c.Device = "temperature"
	case "V", "mV":
		c.Device = "voltage"
	case "A", "mA":
		c.Device = "current"
	case "W", "kW":
		c.Device = "power"
	case "lx":
		c.Device = "illuminance"
	case "hPa", "Pa", "kPa", "mbar", "bar":
		c.Device = "pressure"
	case "ppm":
		if name == "co2" || name == "carbon_dioxide" {
			c.Device = "carbon_dioxide"
		}
	case "%":
		switch name {
		case "humidity", "moisture", "battery":
			c.Device = name
		}
	}
	return c
}
