// Package board opens the real hardware of a Raspberry Pi-class board
// through periph.io's host drivers (GPIO through the Linux GPIO character
// device, I2C through /dev/i2c-N, 1-Wire through a DS2482 bridge on I2C)
// and is the only package that imports periph.io/x/host. Sensors and
// actuators see it through the small Hardware interfaces they declare.
//
// Open("auto") returns the real board, Open("sim") the simulated one
// (board/sim); both are ready for sensors.Build and actuators.Build, and
// importing board links every sensor and actuator driver.
//
// On a machine without GPIO, host initialisation succeeds and finds
// nothing: a pin or bus named in the config that does not exist is an
// error naming it, never a nil pointer.
package board

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/edgecron/edgecron/actuators"
	_ "github.com/edgecron/edgecron/actuators/drivers" // every actuator driver
	"github.com/edgecron/edgecron/board/sim"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sensors"
	_ "github.com/edgecron/edgecron/sensors/drivers" // every sensor driver
	"periph.io/x/conn/v3/driver/driverreg"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2creg"
	"periph.io/x/conn/v3/onewire"
	"periph.io/x/devices/v3/ds248x"
	// Only the generic Linux drivers: GPIO through the character device,
	// I2C through /dev/i2c-N, 1-Wire over netlink. The umbrella package
	// periph.io/x/host/v3 also links every SoC and board driver on ARM
	// (allwinner, bcm283x, beagle, chip...), 1.5 MiB the agent never uses.
	_ "periph.io/x/host/v3/gpioioctl"
	_ "periph.io/x/host/v3/netlink"
	_ "periph.io/x/host/v3/sysfs"
)

// Hardware is what the agent builds its sensors and actuators on.
type Hardware interface {
	sensors.Hardware
	actuators.Hardware
	String() string
	Close() error
}

// Kinds of board (config hardware.board, flag --hardware).
const (
	Auto = "auto"
	Sim  = "sim"
)

// Options tune Open.
type Options struct {
	// Seed makes the simulated board's values reproducible.
	Seed uint64
	// Clock drives the simulated sensors' daily cycle (nil: system clock).
	Clock sched.Clock
	// SysfsRoot replaces /sys (tests).
	SysfsRoot string
}

// Open returns the board of the given kind: auto (the real board) or sim.
func Open(kind string, opts Options) (Hardware, error) {
	switch kind {
	case Sim:
		return sim.New(opts.Seed, opts.Clock), nil
	case Auto, "":
		return OpenHost(opts.SysfsRoot)
	}
	return nil, fmt.Errorf("hardware.board: %q must be auto or sim", kind)
}

// Host is the real board.
type Host struct {
	root   string
	failed []string // host drivers that failed to load

	mu       sync.Mutex
	buses    map[string]i2c.BusCloser
	onewires map[string]onewire.Bus
	outputs  map[string]*lineOutput // by chip:offset
}

// OpenHost initialises periph's host drivers. sysfsRoot "" means /sys.
func OpenHost(sysfsRoot string) (*Host, error) {
	st, err := driverreg.Init()
	if err != nil {
		return nil, fmt.Errorf("periph host init: %w", err)
	}
	if sysfsRoot == "" {
		sysfsRoot = "/sys"
	}
	h := &Host{root: sysfsRoot, buses: map[string]i2c.BusCloser{}, onewires: map[string]onewire.Bus{}, outputs: map[string]*lineOutput{}}
	for _, f := range st.Failed {
		h.failed = append(h.failed, f.String())
	}
	return h, nil
}

// Pin returns the GPIO of that name (GPIO17, or a header name such as
// P1_11 where periph knows the board).
func (h *Host) Pin(name string) (gpio.PinIO, error) {
	if name == "" {
		return nil, errors.New("no pin named")
	}
	p := gpioreg.ByName(name)
	if p == nil {
		n := len(gpioreg.All())
		if n == 0 {
			return nil, fmt.Errorf("no GPIO pin %q: this machine has no GPIO (no /dev/gpiochip* readable)", name)
		}
		return nil, fmt.Errorf("no GPIO pin %q on this board (it has %d GPIO pins, e.g. %s)", name, n, gpioreg.All()[0].Name())
	}
	return p, nil
}

// I2C opens an I2C bus by number or name ("1", "/dev/i2c-1", "I2C1"); ""
// opens the first one. A bus is opened once and shared.
func (h *Host) I2C(name string) (i2c.Bus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.i2c(name)
}

func (h *Host) i2c(name string) (i2c.Bus, error) {
	key := strings.TrimPrefix(name, "/dev/i2c-")
	if b, ok := h.buses[key]; ok {
		return b, nil
	}
	b, err := i2creg.Open(key)
	if err != nil {
		have := make([]string, 0)
		for _, r := range i2creg.All() {
			have = append(have, r.Name)
		}
		sort.Strings(have)
		if len(have) == 0 {
			return nil, fmt.Errorf("no I2C bus %q: this machine has none (enable it: dtparam=i2c_arm=on, /dev/i2c-1)", name)
		}
		return nil, fmt.Errorf("no I2C bus %q (buses: %s): %v", name, strings.Join(have, ", "), err)
	}
	h.buses[key] = b
	return b, nil
}

// OneWire opens a 1-Wire bus through a DS2482 bridge: "1" is the bridge at
// its default address 0x18 on I2C bus 1, "1:0x19" one at 0x19.
func (h *Host) OneWire(name string) (onewire.Bus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if b, ok := h.onewires[name]; ok {
		return b, nil
	}
	busName, addr := name, uint64(0x18)
	if i := strings.IndexByte(name, ':'); i >= 0 {
		a, err := strconv.ParseUint(name[i+1:], 0, 16)
		if err != nil {
			return nil, fmt.Errorf("1-Wire bus %q: want <i2c bus>[:<DS2482 address>], e.g. 1:0x18", name)
		}
		busName, addr = name[:i], a
	}
	bus, err := h.i2c(busName)
	if err != nil {
		return nil, fmt.Errorf("1-Wire bus %q: %w", name, err)
	}
	d, err := ds248x.New(bus, uint16(addr), &ds248x.DefaultOpts)
	if err != nil {
		return nil, fmt.Errorf("1-Wire bus %q: no DS2482 at %#x: %w", name, addr, err)
	}
	h.onewires[name] = d
	return d, nil
}

// SysfsRoot returns the sysfs root (/sys).
func (h *Host) SysfsRoot() string { return h.root }

// String describes the board for logs: pins and buses found.
func (h *Host) String() string {
	s := fmt.Sprintf("host board: %d GPIO pins, %d I2C buses", len(gpioreg.All()), len(i2creg.All()))
	if len(h.failed) > 0 {
		s += "; host drivers failed: " + strings.Join(h.failed, "; ")
	}
	return s
}

// Close closes the buses it opened. Outputs are left as the actuators'
// Halt drove them.
func (h *Host) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var errs []error
	for n, b := range h.buses {
		if err := b.Close(); err != nil {
			errs = append(errs, fmt.Errorf("i2c %s: %w", n, err))
		}
	}
	h.buses, h.onewires = map[string]i2c.BusCloser{}, map[string]onewire.Bus{}
	return errors.Join(errs...)
}
