// Package cfgkey is what the config sections of registered drivers share:
// an error naming the key at fault within an entry, and the pattern of the
// names that become MQTT topic levels.
package cfgkey

import (
	"errors"
	"fmt"

	"github.com/edgecron/edgecron/sched"
)

// NamePattern is what the name of a sensor, an actuator or an interlock
// group must match: it becomes an MQTT topic level, as a job id does.
var NamePattern = sched.IDPattern

// KeyError is a config error in one key of one entry; At prefixes Key with
// the entry's path ("sensors[2].address").
type KeyError struct {
	Key string
	Msg string
	// Err is the cause Keyf's format wrapped with %w, if any: a bus error
	// behind "no chip at 0x40" stays reachable with errors.Is.
	Err error
}

// Unwrap returns the wrapped cause.
func (e *KeyError) Unwrap() error { return e.Err }

func (e *KeyError) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return e.Key + ": " + e.Msg
}

// Keyf returns a *KeyError for key; a %w in format wraps its argument, as
// with fmt.Errorf.
func Keyf(key, format string, args ...any) *KeyError {
	err := fmt.Errorf(format, args...)
	ke := &KeyError{Key: key, Msg: err.Error()}
	if errors.Unwrap(err) != nil {
		ke.Err = err
	}
	return ke
}

// At places err, an error of the entry at prefix ("actuators[1]"), in the
// config: a KeyError becomes "actuators[1].pin: ...", any other error
// "actuators[1]: ...". nil stays nil.
func At(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var ke *KeyError
	if errors.As(err, &ke) && ke.Key != "" {
		return &placed{msg: prefix + "." + ke.Key + ": " + ke.Msg, err: err}
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// placed is a KeyError's message under its entry's path, wrapping it.
type placed struct {
	msg string
	err error
}

func (p *placed) Error() string { return p.msg }
func (p *placed) Unwrap() error { return p.err }

// CheckEntry checks the keys every sensor and actuator entry has: a name
// that can be an MQTT topic level, and a driver; registered says whether
// the driver is one, known lists those that are.
func CheckEntry(name, driver string, registered bool, known string) error {
	switch {
	case !NamePattern.MatchString(name):
		return Keyf("name", "%q must match [A-Za-z0-9_.-]{1,64} (it becomes an MQTT topic level)", name)
	case driver == "":
		return Keyf("driver", "is required (one of: %s)", known)
	case !registered:
		return Keyf("driver", "unknown driver %q (known: %s)", driver, known)
	}
	return nil
}

// Entry places err, from opening entry i of a config section ("sensors")
// named name: a KeyError as "sensors[2].pin: ...", any other error as
// "sensors[2] (soil): ...". The cause stays reachable with errors.Is.
func Entry(section string, i int, name string, err error) error {
	if err == nil {
		return nil
	}
	prefix := fmt.Sprintf("%s[%d]", section, i)
	var ke *KeyError
	if errors.As(err, &ke) && ke.Key != "" {
		return At(prefix, err)
	}
	return fmt.Errorf("%s (%s): %w", prefix, name, err)
}
