package actuators

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/edgecron/edgecron/internal/cfgkey"
	"github.com/edgecron/edgecron/internal/units"
)

// Config is one entry of the config's actuators list (docs/hardware.md).
type Config struct {
	Name   string `yaml:"name"`
	Driver string `yaml:"driver"`

	// Driver-specific keys.
	Pin       string  `yaml:"pin,omitempty"`        // gpio: GPIO17
	ActiveLow bool    `yaml:"active_low,omitempty"` // gpio, pwm, pca9685: on is low / inverted duty
	Bus       string  `yaml:"bus,omitempty"`        // pca9685: I2C bus
	Address   uint16  `yaml:"address,omitempty"`    // pca9685: default 0x40
	Chip      *int    `yaml:"chip,omitempty"`       // pwm: /sys/class/pwm/pwmchipN, default 0
	Channel   *int    `yaml:"channel,omitempty"`    // pwm: pwmN (default 0); pca9685: 0..15 (required)
	Frequency float64 `yaml:"frequency,omitempty"`  // pwm, pca9685: Hz

	Safety Safety `yaml:"safety,omitempty"`

	// Entity is what Home Assistant shows the output as: switch (default
	// for on/off outputs), light or fan; a PWM output is a light with
	// brightness (default), a number (0..100 %), a fan with a speed or an
	// on/off switch.
	Entity string `yaml:"entity,omitempty"`
}

// Home Assistant entities of an output (Config.Entity).
const (
	EntitySwitch = "switch"
	EntityLight  = "light"
	EntityNumber = "number"
	EntityFan    = "fan"
)

// HAEntity returns the Home Assistant entity of the output: Entity, or
// the default for its driver (light for PWM, else switch). c must be
// valid.
func (c Config) HAEntity() string {
	if c.Entity != "" {
		return c.Entity
	}
	if d, ok := Lookup(c.Driver); ok && d.PWM {
		return EntityLight
	}
	return EntitySwitch
}

// Safety is an output's safety profile.
type Safety struct {
	// Boot is the state driven when the agent starts: off (default) or on.
	Boot string `yaml:"boot,omitempty"`
	// Shutdown is the state driven by Halt when the agent stops: off
	// (default) or on.
	Shutdown string `yaml:"shutdown,omitempty"`
	// BrokerLost is the state driven once the MQTT broker has been
	// unreachable for After.
	BrokerLost *BrokerLost `yaml:"broker_lost,omitempty"`
	// MaxOn turns the output off after it has been on this long (0: no
	// limit); a pulse longer than it is refused.
	MaxOn units.Duration `yaml:"max_on,omitempty"`
	// MinSwitchInterval refuses a command that would switch the output
	// on or off sooner than this after its previous switch.
	MinSwitchInterval units.Duration `yaml:"min_switch_interval,omitempty"`
	// Interlock names a group of which at most one output is on.
	Interlock string `yaml:"interlock,omitempty"`
}

// BrokerLost is the broker_lost safety key.
type BrokerLost struct {
	After units.Duration `yaml:"after"`
	State string         `yaml:"state"`
}

var driverKeys = []struct {
	key string
	set func(c *Config) bool
}{
	{"pin", func(c *Config) bool { return c.Pin != "" }},
	{"active_low", func(c *Config) bool { return c.ActiveLow }},
	{"bus", func(c *Config) bool { return c.Bus != "" }},
	{"address", func(c *Config) bool { return c.Address != 0 }},
	{"chip", func(c *Config) bool { return c.Chip != nil }},
	{"channel", func(c *Config) bool { return c.Channel != nil }},
	{"frequency", func(c *Config) bool { return c.Frequency != 0 }},
}

func onOff(key, v string, def bool) (bool, error) {
	switch v {
	case "":
		return def, nil
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, Keyf(key, "must be on or off, got %q", v)
}

// Validate checks the entry and fills driver defaults. prefix is the
// entry's config path ("actuators[1]"); errors name the key under it.
func (c *Config) Validate(prefix string) error {
	return cfgkey.At(prefix, c.validate())
}

func (c *Config) validate() error {
	d, ok := Lookup(c.Driver)
	if err := cfgkey.CheckEntry(c.Name, c.Driver, ok, drivers.Known()); err != nil {
		return err
	}
	s := c.Safety
	if _, err := onOff("safety.boot", s.Boot, false); err != nil {
		return err
	}
	if _, err := onOff("safety.shutdown", s.Shutdown, false); err != nil {
		return err
	}
	if s.BrokerLost != nil {
		if s.BrokerLost.State == "" {
			return Keyf("safety.broker_lost.state", "is required (on or off)")
		}
		if _, err := onOff("safety.broker_lost.state", s.BrokerLost.State, false); err != nil {
			return err
		}
		if s.BrokerLost.After < 0 {
			return Keyf("safety.broker_lost.after", "must not be negative")
		}
	}
	if s.MaxOn < 0 {
		return Keyf("safety.max_on", "must not be negative")
	}
	if s.MinSwitchInterval < 0 {
		return Keyf("safety.min_switch_interval", "must not be negative")
	}
	if s.MaxOn > 0 && s.MinSwitchInterval > s.MaxOn {
		return Keyf("safety.min_switch_interval", "%s is longer than max_on %s: the output could not be turned off in time", s.MinSwitchInterval, s.MaxOn)
	}
	if s.Interlock != "" && !cfgkey.NamePattern.MatchString(s.Interlock) {
		return Keyf("safety.interlock", "%q must match [A-Za-z0-9_.-]{1,64}", s.Interlock)
	}
	if math.IsNaN(c.Frequency) || math.IsInf(c.Frequency, 0) || c.Frequency < 0 {
		return Keyf("frequency", "must be a positive number of Hz")
	}
	for _, k := range driverKeys {
		if k.set(c) && !slices.Contains(d.Keys, k.key) {
			return Keyf(k.key, "is not used by driver %s", c.Driver)
		}
	}
	if c.Entity != "" {
		ok := []string{EntitySwitch, EntityLight, EntityFan}
		if d.PWM {
			ok = []string{EntityLight, EntityNumber, EntityFan, EntitySwitch}
		}
		if !slices.Contains(ok, c.Entity) {
			kind := "an on/off output"
			if d.PWM {
				kind = "a PWM output"
			}
			return Keyf("entity", "%q: %s (driver %s) is shown in Home Assistant as %s", c.Entity, kind, c.Driver, strings.Join(ok, ", "))
		}
	}
	if d.Check != nil {
		return d.Check(c)
	}
	return nil
}

// ValidateAll validates every entry (prefix "actuators[i]"), refuses
// duplicate names and more than one output of an interlock group on at
// boot, at shutdown or after a broker loss.
func ValidateAll(cfgs []Config) error {
	seen := map[string]int{}
	type groupKey struct{ group, key string }
	onIn := map[groupKey]int{}
	for i := range cfgs {
		p := fmt.Sprintf("actuators[%d]", i)
		c := &cfgs[i]
		if err := c.Validate(p); err != nil {
			return err
		}
		if j, dup := seen[c.Name]; dup {
			return fmt.Errorf("%s.name: %q is already the name of actuators[%d]", p, c.Name, j)
		}
		seen[c.Name] = i
		g := c.Safety.Interlock
		if g == "" {
			continue
		}
		states := []struct{ key, v string }{{"safety.boot", c.Safety.Boot}, {"safety.shutdown", c.Safety.Shutdown}}
		if bl := c.Safety.BrokerLost; bl != nil {
			states = append(states, struct{ key, v string }{"safety.broker_lost.state", bl.State})
		}
		for _, st := range states {
			if st.v != "on" {
				continue
			}
			k := groupKey{g, st.key}
			if j, two := onIn[k]; two {
				return fmt.Errorf("%s.%s: on, as is actuators[%d] of the same interlock group %q: at most one may be on", p, st.key, j, g)
			}
			onIn[k] = i
		}
	}
	return nil
}
