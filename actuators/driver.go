package actuators

import (
	"github.com/edgecron/edgecron/internal/cfgkey"
	"github.com/edgecron/edgecron/internal/registry"
)

// Driver is an actuator driver registered by name.
type Driver struct {
	Name string
	// PWM: the output takes fractional values (the set command).
	PWM bool
	// Keys lists the driver-specific config keys the driver reads (beyond
	// name, driver and safety); another key set is a config error.
	Keys []string
	// Check validates the driver-specific keys and may fill defaults;
	// return a KeyError naming the key at fault.
	Check func(c *Config) error
	// Open builds the output on the hardware. It must not change the
	// output's level: the Set drives the boot state next.
	Open func(c Config, hw Hardware) (Output, error)
}

// drivers holds pointers: registries of pointers share one copy of the
// registry's code (internal/registry).
var drivers = registry.New[*Driver]("actuators", "github.com/edgecron/edgecron/actuators/drivers")

// Register makes a driver available by name; it panics on a duplicate.
func Register(d Driver) {
	if d.Open == nil {
		panic("actuators: Register of a driver without Open")
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

// KeyError is a config error in one key of an actuator entry; Validate
// prefixes Key with the entry's path ("actuators[1].pin").
type KeyError = cfgkey.KeyError

// Keyf returns a *KeyError for key. It is not inlined: it only builds
// errors, at many call sites (docs/footprint.md).
//
//go:noinline
func Keyf(key, format string, args ...any) *KeyError { return cfgkey.Keyf(key, format, args...) }
