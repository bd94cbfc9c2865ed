// Package cfgkey is what the config sections of registered drivers share:
// an error naming the key at fault within an entry, and the pattern of the
// names that become MQTT topic levels.
package cfgkey

import (
	"errors"
	"fmt"
	"regexp"
)

// NamePattern is what the name of a sensor, an actuator or an interlock
// group must match: it becomes an MQTT topic level.
var NamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// KeyError is a config error in one key of one entry; At prefixes Key with
// the entry's path ("sensors[2].address").
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

// At places err, an error of the entry at prefix ("actuators[1]"), in the
// config: a KeyError becomes "actuators[1].pin: ...", any other error
// "actuators[1]: ...". nil stays nil.
func At(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var ke *KeyError
	if errors.As(err, &ke) && ke.Key != "" {
		return fmt.Errorf("%s.%s: %s", prefix, ke.Key, ke.Msg)
	}
	return fmt.Errorf("%s: %w", prefix, err)
}
