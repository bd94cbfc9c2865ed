package sensors

import (
	"github.com/edgecron/edgecron/internal/cfgkey"
	"github.com/edgecron/edgecron/internal/registry"
)

// Driver is a sensor driver registered by name.
type Driver struct {
	// Name is the config's driver value, e.g. "bme280".
	Name string
	// Keys lists the driver-specific config keys the driver reads (beyond
	// name, driver, interval, timeout, calibration, round, filter); a key
	// set for a driver that does not read it is a config error.
	Keys []string
	// Check validates the driver-specific keys; return a KeyError naming
	// the key at fault. It may fill defaults into c.
	Check func(c *Config) error
	// Values declares the values a reading of a sensor configured by c
	// (validated) carries, in order: names and units, Value unused. Home
	// Assistant discovery announces them before any read.
	Values func(c Config) []Value
	// Open builds the sensor on the hardware.
	Open func(c Config, hw Hardware) (Sensor, error)
}

// drivers holds pointers: registries of pointers share one copy of the
// registry's code (internal/registry).
var drivers = registry.New[*Driver]("sensors", "github.com/edgecron/edgecron/sensors/drivers")

// Register makes a driver available by name. It panics on a duplicate or
// incomplete registration: that is a programming error caught at start.
func Register(d Driver) {
	if d.Open == nil || d.Values == nil {
		panic("sensors: Register of a driver without Values or Open")
	}
	drivers.Register(d.Name, &d)
}

// Lookup returns the driver registered under name.
func Lookup(name string) (Driver, bool) {
	d, ok := drivers.Lookup(name)
	if !ok {
		return Driver{}, false
	}
	return *d, true
}

// DriverNames returns the registered driver names, sorted.
func DriverNames() []string { return drivers.Names() }

// KeyError is a config error in one key of one sensor entry; Config.Validate
// prefixes Key with the entry's path ("sensors[2].address").
type KeyError = cfgkey.KeyError

// Keyf returns a *KeyError for key. It is not inlined: it only builds
// errors, at many call sites (docs/footprint.md).
//
//go:noinline
func Keyf(key, format string, args ...any) *KeyError { return cfgkey.Keyf(key, format, args...) }
