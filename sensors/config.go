package sensors

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/edgecron/edgecron/internal/cfgkey"
	"github.com/edgecron/edgecron/internal/units"
)

// Config is one entry of the config's sensors list (docs/hardware.md lists
// every key and the drivers that read it).
type Config struct {
	Name   string `yaml:"name"`
	Driver string `yaml:"driver"`
	// Interval, when set, makes the agent read the sensor on this period
	// (a read job of source config).
	Interval units.Duration `yaml:"interval,omitempty"`
	// Timeout bounds one read; default 10s. A job's own timeout also applies.
	Timeout     units.Duration `yaml:"timeout,omitempty"`
	Calibration Calibration    `yaml:"calibration,omitempty"`
	// Round is the number of decimals kept (nil: no rounding).
	Round  *int   `yaml:"round,omitempty"`
	Filter Filter `yaml:"filter,omitempty"`
	// Publish decides which readings go to MQTT (on change, deadband,
	// heartbeat); every reading still reaches jobs and automations.
	Publish Publish `yaml:"publish,omitempty"`
	// DeviceClass and StateClass override what the driver declares for
	// the primary value (the first) in Home Assistant: device_class
	// "moisture", state_class "total_increasing"; for an on/off value
	// (gpio level) a binary_sensor class such as "door". "none" removes
	// the driver's class.
	DeviceClass string `yaml:"device_class,omitempty"`
	StateClass  string `yaml:"state_class,omitempty"`

	// Driver-specific keys.
	Bus        string  `yaml:"bus,omitempty"`         // I2C bus ("1", "/dev/i2c-1"), or the 1-Wire bus (a DS2482 on that I2C bus)
	Address    uint64  `yaml:"address,omitempty"`     // I2C address (0x76) or 1-Wire ROM address
	Pin        string  `yaml:"pin,omitempty"`         // GPIO name (GPIO17)
	Pull       string  `yaml:"pull,omitempty"`        // gpio: up | down | none (default none)
	ActiveLow  bool    `yaml:"active_low,omitempty"`  // gpio level: low reads as 1
	Mode       string  `yaml:"mode,omitempty"`        // gpio: level | counter
	Edge       string  `yaml:"edge,omitempty"`        // gpio counter: rising | falling | both
	Device     string  `yaml:"device,omitempty"`      // ds18b20 w1 id: 28-0123456789ab
	Resolution int     `yaml:"resolution,omitempty"`  // ds18b20 bits 9..12
	Channel    string  `yaml:"channel,omitempty"`     // ads1115: 0..3, or 0-1, 0-3, 1-3, 2-3
	MaxVoltage float64 `yaml:"max_voltage,omitempty"` // ads1115 full-scale volts
	Register   *int    `yaml:"register,omitempty"`    // i2c-register: register address
	Format     string  `yaml:"format,omitempty"`      // i2c-register: u8 s8 u16 s16 u32 s32
	ByteOrder  string  `yaml:"byte_order,omitempty"`  // i2c-register: big | little
	Path       string  `yaml:"path,omitempty"`        // cpu-temp / ds18b20 sysfs file
	Quantity   string  `yaml:"quantity,omitempty"`    // value name for ads1115, i2c-register, gpio, sim
	Unit       string  `yaml:"unit,omitempty"`        // unit of that value
	Script     *Script `yaml:"script,omitempty"`      // sim: a scripted curve instead of plausible noise
}

// Script is the sim driver's scripted curve (docs/hardware.md, "Scripted
// simulated sensors"): either Values, one per read, or a waveform of the
// time since the sensor was opened. The sim driver validates it.
type Script struct {
	// Values are returned one per read, in order; after the last, Then
	// says what comes: loop (default, back to the first) or hold (the
	// last one again).
	Values []float64 `yaml:"values,omitempty,flow"`
	Then   string    `yaml:"then,omitempty"`
	// Wave is sine, triangle or square: it starts at Min when the sensor
	// is opened, reaches Max half a Period later and is back at Min after
	// a whole Period (a square wave is Min for the first half, Max for
	// the second).
	Wave   string         `yaml:"wave,omitempty"`
	Period units.Duration `yaml:"period,omitempty"`
	Min    *float64       `yaml:"min,omitempty"`
	Max    *float64       `yaml:"max,omitempty"`
}

// Calibration corrects the value named Value (default: the driver's primary
// value, e.g. temperature): v*scale + offset.
type Calibration struct {
	Value  string   `yaml:"value,omitempty"`
	Offset float64  `yaml:"offset,omitempty"`
	Scale  *float64 `yaml:"scale,omitempty"` // default 1
}

// Filter smooths every value over the last Window reads.
type Filter struct {
	Kind   string `yaml:"kind,omitempty"` // median | mean
	Window int    `yaml:"window,omitempty"`
}

// DefaultTimeout bounds a read when the config sets none.
const DefaultTimeout = 10 * time.Second

// MaxFilterWindow bounds filter.window.
const MaxFilterWindow = 100

// ReadTimeout returns the configured timeout or DefaultTimeout.
func (c Config) ReadTimeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout.D()
	}
	return DefaultTimeout
}

// driverKeys is every driver-specific key with a test of whether it is set.
var driverKeys = []struct {
	key string
	set func(c *Config) bool
}{
	{"bus", func(c *Config) bool { return c.Bus != "" }},
	{"address", func(c *Config) bool { return c.Address != 0 }},
	{"pin", func(c *Config) bool { return c.Pin != "" }},
	{"pull", func(c *Config) bool { return c.Pull != "" }},
	{"active_low", func(c *Config) bool { return c.ActiveLow }},
	{"mode", func(c *Config) bool { return c.Mode != "" }},
	{"edge", func(c *Config) bool { return c.Edge != "" }},
	{"device", func(c *Config) bool { return c.Device != "" }},
	{"resolution", func(c *Config) bool { return c.Resolution != 0 }},
	{"channel", func(c *Config) bool { return c.Channel != "" }},
	{"max_voltage", func(c *Config) bool { return c.MaxVoltage != 0 }},
	{"register", func(c *Config) bool { return c.Register != nil }},
	{"format", func(c *Config) bool { return c.Format != "" }},
	{"byte_order", func(c *Config) bool { return c.ByteOrder != "" }},
	{"path", func(c *Config) bool { return c.Path != "" }},
	{"quantity", func(c *Config) bool { return c.Quantity != "" }},
	{"unit", func(c *Config) bool { return c.Unit != "" }},
	{"script", func(c *Config) bool { return c.Script != nil }},
}

// Validate checks the entry and fills driver defaults. prefix is the
// entry's config path, e.g. "sensors[2]"; errors name the key under it
// ("sensors[2].address: ...").
func (c *Config) Validate(prefix string) error {
	return cfgkey.At(prefix, c.validate())
}

func (c *Config) validate() error {
	d, ok := Lookup(c.Driver)
	if err := cfgkey.CheckEntry(c.Name, c.Driver, ok, drivers.Known()); err != nil {
		return err
	}
	if c.Timeout < 0 {
		return Keyf("timeout", "must not be negative")
	}
	if s := c.Calibration.Scale; s != nil && (*s == 0 || math.IsNaN(*s) || math.IsInf(*s, 0)) {
		return Keyf("calibration.scale", "must be a finite non-zero number")
	}
	if o := c.Calibration.Offset; math.IsNaN(o) || math.IsInf(o, 0) {
		return Keyf("calibration.offset", "must be a finite number")
	}
	if c.Round != nil && (*c.Round < 0 || *c.Round > 10) {
		return Keyf("round", "must be 0..10 decimals, got %d", *c.Round)
	}
	switch c.Filter.Kind {
	case "":
		if c.Filter.Window != 0 {
			return Keyf("filter.kind", "is required with filter.window (median or mean)")
		}
	case "median", "mean":
		if c.Filter.Window < 1 || c.Filter.Window > MaxFilterWindow {
			return Keyf("filter.window", "must be 1..%d, got %d", MaxFilterWindow, c.Filter.Window)
		}
	default:
		return Keyf("filter.kind", "must be median or mean, got %q", c.Filter.Kind)
	}
	if err := c.Publish.check(); err != nil {
		return err
	}
	for _, k := range driverKeys {
		if k.set(c) && !slices.Contains(d.Keys, k.key) {
			return Keyf(k.key, "is not used by driver %s", c.Driver)
		}
	}
	if d.Check != nil {
		if err := d.Check(c); err != nil {
			return err
		}
	}
	for i, v := range c.describe(d) {
		if err := v.Class.Check(v.Unit); err != nil {
			if i > 0 { // the driver's own declaration: a bug, not the config's
				return fmt.Errorf("driver %s declares value %s: %w", c.Driver, v.Name, err)
			}
			return err
		}
	}
	return nil
}

// Values returns the values a reading of the sensor carries, with their
// classes: the driver's declaration (Driver.Values) with device_class and
// state_class applied to the primary value. c must be valid.
func (c Config) Values() []Value {
	d, ok := Lookup(c.Driver)
	if !ok {
		return nil
	}
	return c.describe(d)
}

func (c Config) describe(d Driver) []Value {
	vs := d.Values(c)
	if len(vs) == 0 {
		return vs
	}
	p := &vs[0]
	switch c.DeviceClass {
	case "":
	case "none":
		p.Class.Device = ""
	default:
		p.Class.Device = c.DeviceClass
	}
	switch c.StateClass {
	case "":
	case "none":
		p.Class.State = ""
	default:
		p.Class.State = c.StateClass
	}
	return vs
}

// ValidateAll validates every entry (prefix "sensors[i]") and refuses
// duplicate names.
func ValidateAll(cfgs []Config) error {
	seen := map[string]int{}
	for i := range cfgs {
		p := fmt.Sprintf("sensors[%d]", i)
		if err := cfgs[i].Validate(p); err != nil {
			return err
		}
		if j, dup := seen[cfgs[i].Name]; dup {
			return fmt.Errorf("%s.name: %q is already the name of sensors[%d]", p, cfgs[i].Name, j)
		}
		seen[cfgs[i].Name] = i
	}
	return nil
}
