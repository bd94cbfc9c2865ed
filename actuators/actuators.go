// Package actuators drives the outputs declared in the config (relays,
// PWM channels) under a safety profile: the state at boot and at shutdown
// (Halt), the state once the MQTT broker has been unreachable for a while,
// a maximum on-time, a minimum time between switches and interlock groups.
// A command that would break the profile is refused with a reason (a
// sched.Error of code unsafe) and changes nothing.
//
// A Set holds the actuators by name; NewHandler is the scheduler's
// "actuate" action handler; ParseSetPayload reads the MQTT set topic's
// payloads. Drivers live in subpackages (relay, pwm, pca9685, sim) and
// register by name; import github.com/edgecron/edgecron/actuators/drivers
// to link them all.
package actuators

import (
	"encoding/json"
	"fmt"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
)

// Output is what a driver provides: a physical output driven to a level.
type Output interface {
	// Set drives the output: 0 is off, 1 fully on; a value in between is a
	// duty cycle, asked only of drivers registered with PWM.
	Set(v float64) error
}

// Hardware is what actuator drivers open (see sensors.Hardware).
type Hardware interface {
	Pin(name string) (gpio.PinIO, error)
	I2C(bus string) (i2c.Bus, error)
	SysfsRoot() string
}

// Simulator is a Hardware that serves every actuator itself, whatever its
// driver (the simulated board).
type Simulator interface {
	SimulateOutput(c Config) (Output, error)
}

// Command names.
const (
	On     = "on"
	Off    = "off"
	Toggle = "toggle"
	SetTo  = "set"
	Pulse  = "pulse"
)

// Command is one order for an actuator.
type Command struct {
	Name     string        // on, off, toggle, set, pulse
	Value    float64       // set: 0..1
	Duration time.Duration // pulse: how long on
}

// State is an actuator's output state.
type State struct {
	On    bool
	Value float64 // 0..1: 1 when on and 0 when off for a plain output
	PWM   bool    // the output takes set; its state payload carries the value
}

// Payload is the MQTT state payload: ON or OFF, or for a PWM output
// {"state":"ON","value":0.4}.
func (s State) Payload() []byte {
	word := "OFF"
	if s.On {
		word = "ON"
	}
	if !s.PWM {
		return []byte(word)
	}
	b, _ := json.Marshal(struct {
		State string  `json:"state"`
		Value float64 `json:"value"`
	}{word, s.Value})
	return b
}

func (s State) String() string {
	if s.PWM {
		return fmt.Sprintf("%s %.3g", string(State{On: s.On}.Payload()), s.Value)
	}
	return string(s.Payload())
}

// Causes of a Change.
const (
	CauseBoot       = "boot"
	CauseCommand    = "command"
	CausePulseEnd   = "pulse_end"
	CauseMaxOn      = "max_on"
	CauseBrokerLost = "broker_lost"
	CauseShutdown   = "shutdown"
	// CauseSnapshot marks the current states delivered on Subscribe.
	CauseSnapshot = "snapshot"
)

// Change is a state change of one actuator, delivered to listeners.
type Change struct {
	Actuator string
	State    State
	Cause    string
}
