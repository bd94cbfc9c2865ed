package sensors

import (
	"fmt"
	"sort"
	"strings"
	"sync"
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

var (
	driversMu sync.RWMutex
	drivers   = map[string]Driver{}
)

// Register makes a driver available by name. It panics on a duplicate or
// incomplete registration: that is a programming error caught at start.
func Register(d Driver) {
	driversMu.Lock()
	defer driversMu.Unlock()
	if d.Name == "" || d.Open == nil || d.Values == nil {
		panic("sensors: Register of a driver without name, Values or Open")
	}
	if _, dup := drivers[d.Name]; dup {
		panic("sensors: driver " + d.Name + " registered twice")
	}
	drivers[d.Name] = d
}

// Lookup returns the driver registered under name.
func Lookup(name string) (Driver, bool) {
	driversMu.RLock()
	defer driversMu.RUnlock()
	d, ok := drivers[name]
	return d, ok
}

// DriverNames returns the registered driver names, sorted.
func DriverNames() []string {
	driversMu.RLock()
	defer driversMu.RUnlock()
	names := make([]string, 0, len(drivers))
	for n := range drivers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// KeyError is a config error in one key of one sensor entry; Config.Validate
// prefixes Key with the entry's path ("sensors[2].address").
type KeyError struct {
	Key string
	Msg string
}

func (e *KeyError) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return e.Key + ": " + e.Msg
}

// Keyf returns a *KeyError for key.
func Keyf(key, format string, args ...any) *KeyError {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

func knownDrivers() string {
	n := DriverNames()
	if len(n) == 0 {
		return "none registered: import github.com/edgecron/edgecron/sensors/drivers"
	}
	return strings.Join(n, ", ")
}
