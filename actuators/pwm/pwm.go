// Package pwm is the pwm actuator driver: a hardware PWM channel through
// the kernel's /sys/class/pwm interface (periph's GPIO character-device
// path has no PWM). On a Raspberry Pi enable it with
// dtoverlay=pwm (one channel) or dtoverlay=pwm-2chan in config.txt.
//
// Config keys: chip (pwmchipN, default 0), channel (pwmN, default 0),
// frequency (Hz, default 1000), active_low (inverts the duty cycle).
package pwm

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/edgecron/edgecron/actuators"
)

// DefaultFrequency is the PWM frequency when the config sets none.
const DefaultFrequency = 1000.0

func init() {
	actuators.Register(actuators.Driver{
		Name: "pwm",
		PWM:  true,
		Keys: []string{"chip", "channel", "frequency", "active_low"},
		Check: func(c *actuators.Config) error {
			zero := 0
			if c.Chip == nil {
				c.Chip = &zero
			}
			if *c.Chip < 0 {
				return actuators.Keyf("chip", "must not be negative")
			}
			if c.Channel == nil {
				c.Channel = new(int)
			}
			if *c.Channel < 0 {
				return actuators.Keyf("channel", "must not be negative")
			}
			if c.Frequency == 0 {
				c.Frequency = DefaultFrequency
			}
			if c.Frequency < 0.1 || c.Frequency > 1e8 {
				return actuators.Keyf("frequency", "must be 0.1 Hz .. 100 MHz, got %v", c.Frequency)
			}
			return nil
		},
		Open: func(c actuators.Config, hw actuators.Hardware) (actuators.Output, error) {
			return Open(filepath.Join(hw.SysfsRoot(), "class/pwm"), *c.Chip, *c.Channel, c.Frequency, c.ActiveLow)
		},
	})
}

// Channel is one exported sysfs PWM channel.
type Channel struct {
	dir      string
	periodNS int64
	invert   bool
}

// Open exports channel n of pwmchip<chip> under root (/sys/class/pwm) if
// needed, sets its period for freq Hz with a zero duty cycle and enables
// it.
func Open(root string, chip, n int, freq float64, invert bool) (*Channel, error) {
	chipDir := filepath.Join(root, "pwmchip"+strconv.Itoa(chip))
	if _, err := os.Stat(chipDir); err != nil {
		return nil, actuators.Keyf("chip", "%s: no such PWM chip (enable dtoverlay=pwm or pwm-2chan)", chipDir)
	}
	if npwm, err := readInt(filepath.Join(chipDir, "npwm")); err == nil && int64(n) >= npwm {
		return nil, actuators.Keyf("channel", "pwmchip%d has %d channels, no channel %d", chip, npwm, n)
	}
	dir := filepath.Join(chipDir, "pwm"+strconv.Itoa(n))
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := writeFile(filepath.Join(chipDir, "export"), strconv.Itoa(n)); err != nil {
			return nil, fmt.Errorf("export pwm%d: %w", n, err)
		}
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("pwm%d did not appear after export: %w", n, err)
		}
	}
	period := int64(math.Round(1e9 / freq))
	if period < 1 {
		return nil, actuators.Keyf("frequency", "%v Hz is too high", freq)
	}
	c := &Channel{dir: dir, periodNS: period, invert: invert}
	// The kernel refuses a period shorter than the current duty cycle:
	// zero the duty cycle first. Right after an export, udev may not yet
	// have given the gpio group access to the new files: retry a while.
	for _, s := range []struct{ file, v string }{
		{"duty_cycle", "0"}, {"period", strconv.FormatInt(period, 10)},
	} {
		var err error
		for try := 0; ; try++ {
			err = writeFile(filepath.Join(dir, s.file), s.v)
			if !errors.Is(err, os.ErrPermission) || try == udevRetries {
				break
			}
			sleep(udevWait)
		}
		if err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Waiting for udev after an export: up to udevRetries waits of udevWait.
const (
	udevRetries = 20
	udevWait    = 50 * time.Millisecond
)

// Replaced in tests.
var (
	writeFile = write
	sleep     = time.Sleep
)

// Set sets the duty cycle (0..1) and enables the channel.
func (c *Channel) Set(v float64) error {
	if v < 0 || v > 1 || math.IsNaN(v) {
		return fmt.Errorf("pwm duty %v outside 0..1", v)
	}
	if c.invert {
		v = 1 - v
	}
	duty := int64(math.Round(v * float64(c.periodNS)))
	if err := writeFile(filepath.Join(c.dir, "duty_cycle"), strconv.FormatInt(duty, 10)); err != nil {
		return err
	}
	return writeFile(filepath.Join(c.dir, "enable"), "1")
}

func write(path, v string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(v); err != nil {
		f.Close()
		return fmt.Errorf("write %s to %s: %w", v, path, err)
	}
	return f.Close()
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}
