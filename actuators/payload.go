package actuators

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// MaxPayload bounds a set payload.
const MaxPayload = 1024

// MaxPulse bounds a pulse's duration.
const MaxPulse = 24 * time.Hour

// badRequest builds a bad_request error. It is not inlined: it only builds
// errors, at 15 call sites (docs/footprint.md).
//
//go:noinline
func badRequest(field, format string, args ...any) *sched.Error {
	return &sched.Error{Code: sched.CodeBadRequest, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Validate checks a command on its own: a known name, a value 0..1 for set
// only, a positive duration for pulse only. Errors are bad_request
// *sched.Error naming "command", "value" or "duration".
func (c Command) Validate() error {
	switch c.Name {
	case On, Off, Toggle, SetTo, Pulse:
	case "":
		return badRequest("command", "is required (on, off, toggle, set or pulse)")
	default:
		return badRequest("command", "%q: must be on, off, toggle, set or pulse", c.Name)
	}
	if c.Name == SetTo {
		if math.IsNaN(c.Value) || c.Value < 0 || c.Value > 1 {
			return badRequest("value", "must be 0..1, got %v", c.Value)
		}
	} else if c.Value != 0 {
		return badRequest("value", "applies only to set")
	}
	if c.Name == Pulse {
		if c.Duration <= 0 || c.Duration > MaxPulse {
			return badRequest("duration", "must be a positive duration up to %s, got %s", MaxPulse, c.Duration)
		}
	} else if c.Duration != 0 {
		return badRequest("duration", "applies only to pulse")
	}
	return nil
}

// setJSON is the JSON form of a set payload.
type setJSON struct {
	Command  string   `json:"command"`
	Value    *float64 `json:"value"`
	Duration *string  `json:"duration"`
}

// ParseSetPayload parses a payload of the MQTT topic
// <root>/actuators/<name>/set: ON, OFF or TOGGLE in any case, or a JSON
// object {"command":"pulse","duration":"5s"} / {"command":"set","value":0.4}
// (command in any case; duration a Go duration string). It returns a
// bad_request *sched.Error naming the field at fault.
func ParseSetPayload(b []byte) (Command, error) {
	if len(b) > MaxPayload {
		return Command{}, badRequest("", "payload of %d bytes is over %d", len(b), MaxPayload)
	}
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return Command{}, badRequest("", "empty payload: want ON, OFF, TOGGLE or a JSON command")
	}
	if t[0] != '{' {
		var c Command
		switch strings.ToLower(string(t)) {
		case "on":
			c.Name = On
		case "off":
			c.Name = Off
		case "toggle":
			c.Name = Toggle
		default:
			return Command{}, badRequest("", "payload %q: want ON, OFF, TOGGLE or a JSON command", truncate(string(t)))
		}
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	dec.DisallowUnknownFields()
	var j setJSON
	if err := dec.Decode(&j); err != nil {
		return Command{}, badRequest("", "payload is not a valid command object: %v", err)
	}
	if dec.More() {
		return Command{}, badRequest("", "payload has data after the command object")
	}
	c := Command{Name: strings.ToLower(j.Command)}
	if j.Value != nil {
		c.Value = *j.Value
	} else if c.Name == SetTo {
		return Command{}, badRequest("value", "is required with set (0..1)")
	}
	if j.Duration != nil {
		d, err := time.ParseDuration(*j.Duration)
		if err != nil {
			return Command{}, badRequest("duration", "%q is not a duration like 30s or 5m", truncate(*j.Duration))
		}
		if d == 0 {
			return Command{}, badRequest("duration", "must be positive")
		}
		c.Duration = d
	} else if c.Name == Pulse {
		return Command{}, badRequest("duration", "is required with pulse (e.g. \"30s\")")
	}
	if err := c.Validate(); err != nil {
		return Command{}, err
	}
	return c, nil
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Payloads applies the payloads of the MQTT set topic to a Set: Apply
// parses with ParseSetPayload and applies the command without waiting for
// a pulse to end. It fits the mqtt package's Actuators interface.
type Payloads struct{ Set *Set }

// Apply parses payload and applies it to the named actuator. Errors are
// *sched.Error: bad_request for a bad payload, not_found for an unknown
// actuator, unsafe for a command the safety profile refuses.
func (p Payloads) Apply(_ context.Context, name string, payload []byte) error {
	cmd, err := ParseSetPayload(payload)
	if err != nil {
		return err
	}
	_, err = p.Set.Apply(name, cmd)
	return err
}
