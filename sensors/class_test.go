package sensors_test

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/internal/haclass"
	"github.com/edgecron/edgecron/sensors"
)

// TestValueClasses: each driver declares the Home Assistant classes of its
// values, and device_class / state_class in the config override those of
// the primary value.
func TestValueClasses(t *testing.T) {
	m := haclass.Measurement
	tests := []struct {
		yaml string
		want map[string]haclass.Class // by value name
	}{
		{"{name: a, driver: bme280, bus: '1'}", map[string]haclass.Class{
			"temperature": {Device: "temperature", State: m},
			"pressure":    {Device: "atmospheric_pressure", State: m},
			"humidity":    {Device: "humidity", State: m},
		}},
		{"{name: a, driver: ds18b20, device: 28-0123456789ab}", map[string]haclass.Class{"temperature": {Device: "temperature", State: m}}},
		{"{name: a, driver: cpu-temp}", map[string]haclass.Class{"temperature": {Device: "temperature", State: m}}},
		{"{name: a, driver: ads1115, bus: '1', channel: '0'}", map[string]haclass.Class{"voltage": {Device: "voltage", State: m}}},
		{"{name: a, driver: ads1115, bus: '1', channel: '0', quantity: moisture, unit: '%'}", map[string]haclass.Class{"moisture": {Device: "moisture", State: m}}},
		{"{name: a, driver: sim}", map[string]haclass.Class{"temperature": {Device: "temperature", State: m}}},
		{"{name: a, driver: sim, quantity: level, unit: cm}", map[string]haclass.Class{"level": {State: m}}},
		{"{name: a, driver: i2c-register, bus: '1', address: 0x40, register: 1, format: u8}", map[string]haclass.Class{"value": {State: m}}},
		{"{name: a, driver: gpio, pin: GPIO4}", map[string]haclass.Class{"state": {Binary: true}}},
		{"{name: a, driver: gpio, pin: GPIO4, device_class: door}", map[string]haclass.Class{"state": {Binary: true, Device: "door"}}},
		{"{name: a, driver: gpio, pin: GPIO4, mode: counter}", map[string]haclass.Class{
			"pulses": {State: m}, "pulses_total": {State: haclass.TotalIncreasing},
		}},
		{"{name: a, driver: gpio, pin: GPIO4, mode: counter, quantity: rain, unit: mm, device_class: precipitation, state_class: total}",
			map[string]haclass.Class{"rain": {Device: "precipitation", State: haclass.Total}, "rain_total": {State: haclass.TotalIncreasing}}},
		{"{name: a, driver: sim, device_class: none, state_class: none}", map[string]haclass.Class{"temperature": {}}},
	}
	for _, tt := range tests {
		var c sensors.Config
		if err := yaml.Unmarshal([]byte(tt.yaml), &c); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate("sensors[0]"); err != nil {
			t.Errorf("%s: %v", tt.yaml, err)
			continue
		}
		got := map[string]haclass.Class{}
		for _, v := range c.Values() {
			got[v.Name] = v.Class
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: values %v, want %v", tt.yaml, got, tt.want)
		}
		for name, w := range tt.want {
			if got[name] != w {
				t.Errorf("%s: value %s has class %+v, want %+v", tt.yaml, name, got[name], w)
			}
		}
	}
}

// TestValueClassErrors: a class Home Assistant would refuse is a config
// error naming the key.
func TestValueClassErrors(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"{name: a, driver: sim, device_class: temprature}", `sensors[0].device_class: "temprature" is not a Home Assistant sensor class`},
		{"{name: a, driver: sim, device_class: humidity}", `sensors[0].device_class: humidity takes a unit of %, not "°C"`},
		{"{name: a, driver: sim, state_class: increasing}", `sensors[0].state_class: "increasing": must be measurement, total, total_increasing`},
		{"{name: a, driver: gpio, pin: GPIO4, device_class: temperature}", `sensors[0].device_class: "temperature" is not a Home Assistant binary_sensor class`},
		{"{name: a, driver: gpio, pin: GPIO4, state_class: measurement}", "sensors[0].state_class: applies to numbers, not to an on/off value"},
	}
	for _, tt := range tests {
		var c sensors.Config
		if err := yaml.Unmarshal([]byte(tt.yaml), &c); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate("sensors[0]"); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.yaml, err, tt.want)
		}
	}
}
