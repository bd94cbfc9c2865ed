package actuators

import (
	"fmt"
	"sort"
	"strings"
	"sync"
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

var (
	driversMu sync.RWMutex
	drivers   = map[string]Driver{}
)

// Register makes a driver available by name; it panics on a duplicate.
func Register(d Driver) {
	driversMu.Lock()
	defer driversMu.Unlock()
	if d.Name == "" || d.Open == nil {
		panic("actuators: Register of a driver without name or Open")
	}
	if _, dup := drivers[d.Name]; dup {
		panic("actuators: driver " + d.Name + " registered twice")
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
	n := make([]string, 0, len(drivers))
	for k := range drivers {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func knownDrivers() string {
	n := DriverNames()
	if len(n) == 0 {
		return "none registered: import github.com/edgecron/edgecron/actuators/drivers"
	}
	return strings.Join(n, ", ")
}

// KeyError is a config error in one key of an actuator entry; Validate
// prefixes Key with the entry's path ("actuators[1].pin").
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
