// Package sim is the simulated board (hardware: sim, or --hardware sim):
// it serves every configured sensor and actuator, whatever its driver,
// under the same name, so a Raspberry Pi's config runs on any machine.
// Sensors give plausible values in the shape of their driver (a bme280
// gives temperature, pressure and humidity) that depend only on the seed,
// the sensor's name, the sequence of reads and the clock; outputs record
// the values they are driven to.
//
// Driver-specific config keys are still validated as on a real board; no
// bus, pin or sysfs file is touched.
package sim

import (
	"fmt"
	"sync"

	"github.com/edgecron/edgecron/actuators"
	simout "github.com/edgecron/edgecron/actuators/sim"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sensors"
	simsensor "github.com/edgecron/edgecron/sensors/sim"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/onewire"

	_ "github.com/edgecron/edgecron/actuators/drivers" // validate every driver's keys
	_ "github.com/edgecron/edgecron/sensors/drivers"
)

// Board is the simulated board.
type Board struct {
	seed  uint64
	clock sched.Clock

	mu      sync.Mutex
	outputs map[string]*simout.Output
}

// New returns a simulated board; clock drives the sensors' daily cycle
// (nil: the system clock).
func New(seed uint64, clock sched.Clock) *Board {
	if clock == nil {
		clock = sched.NewSystemClock()
	}
	return &Board{seed: seed, clock: clock, outputs: map[string]*simout.Output{}}
}

// SimulateSensor returns the simulated sensor for c.
func (b *Board) SimulateSensor(c sensors.Config) (sensors.Sensor, error) {
	return simsensor.New(c, b.seed, b.clock.Now), nil
}

// SimulateOutput returns a recording output for c.
func (b *Board) SimulateOutput(c actuators.Config) (actuators.Output, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o := &simout.Output{}
	b.outputs[c.Name] = o
	return o, nil
}

// Output returns the recording output of the named actuator.
func (b *Board) Output(name string) (*simout.Output, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.outputs[name]
	return o, ok
}

var errSim = fmt.Errorf("the simulated board has no real hardware")

// Pin is never called: the board simulates every sensor and actuator.
func (b *Board) Pin(name string) (gpio.PinIO, error) {
	return nil, fmt.Errorf("pin %s: %w", name, errSim)
}

// I2C is never called: the board simulates every sensor and actuator.
func (b *Board) I2C(name string) (i2c.Bus, error) {
	return nil, fmt.Errorf("I2C bus %s: %w", name, errSim)
}

// OneWire is never called: the board simulates every sensor.
func (b *Board) OneWire(name string) (onewire.Bus, error) {
	return nil, fmt.Errorf("1-Wire bus %s: %w", name, errSim)
}

// SysfsRoot returns "": no sysfs file is read.
func (b *Board) SysfsRoot() string { return "" }

// String describes the board for logs.
func (b *Board) String() string { return fmt.Sprintf("simulated board (seed %d)", b.seed) }

// Close releases nothing.
func (b *Board) Close() error { return nil }
