package mqtt

import (
	"log/slog"
	"time"

	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/sched"
)

// Scheduler is the part of *sched.Scheduler the agent uses: what the
// request pipeline uses (api.Scheduler), and its events.
type Scheduler interface {
	api.Scheduler
	Listen(l sched.Listener) (cancel func())
	// Len is how many jobs there are, without the copies List makes.
	Len() int
}

// Outbox keeps telemetry while the broker is away (store/outbox satisfies
// it). Append buffers in memory; Flush commits what was appended; Peek
// flushes and returns the oldest records with their sequence numbers;
// Delete removes records up to and including a sequence number; Stats
// reports the records queued and dropped; CountDropped adds records the
// agent dropped before they reached the outbox to the count Flush commits.
type Outbox interface {
	Append(ts time.Time, rec []byte)
	CountDropped(n uint64)
	Flush() error
	Peek(n int) (seqs []uint64, recs [][]byte, err error)
	Delete(through uint64) error
	Stats() (queued int, dropped uint64)
}

// Actuators applies a payload received on <root>/actuators/<name>/set
// (ON, OFF, TOGGLE or a JSON command; see actuators.ParseSetPayload).
type Actuators = api.Actuators

// Inventory lists what Home Assistant discovery announces besides the
// jobs (which come from the Scheduler).
type Inventory interface {
	Sensors() []SensorInfo
	Actuators() []ActuatorInfo
}

// SensorInfo is one sensor and the values its readings carry.
type SensorInfo struct {
	Name   string
	Values []ValueInfo
}

// ValueInfo is one value of a reading ("temperature", "°C") and what Home
// Assistant is told it is. The classes were checked at config time
// (internal/haclass); the agent copies them.
type ValueInfo struct {
	Name        string
	Unit        string
	DeviceClass string // "temperature"; for a Binary value a binary_sensor class ("door")
	StateClass  string // measurement, total, total_increasing; "" keeps no statistics
	Binary      bool   // 0 is off, anything else on: a binary_sensor
}

// ActuatorInfo is one actuator; PWM ones report {"state","value"}.
type ActuatorInfo struct {
	Name string
	PWM  bool
	// Entity is the Home Assistant entity: switch, light, fan, or for a
	// PWM output number; "" is a switch, or a light for a PWM output.
	Entity string
}

// Backoff bounds the waits between reconnect attempts: Min doubles per
// failed attempt up to Max, each wait drawn from [d/2, d].
type Backoff struct {
	Min, Max time.Duration
}

// Deps are what the agent is wired to. DeviceID, Scheduler and Outbox are
// required.
type Deps struct {
	DeviceID  string
	Groups    []string // groups whose commands this device takes
	Scheduler Scheduler
	Outbox    Outbox
	// Actuators applies set commands, through the pipeline the agent builds
	// when API is nil (nil: set commands are refused and counted).
	Actuators Actuators
	// API is the request pipeline the agent answers requests and set
	// commands through, shared with the other transports (HTTP) so that a
	// request id is answered once whichever way it comes; nil: one of its
	// own, built from Scheduler, Actuators, Clock, Location and Site.
	API       *api.Service
	Inventory Inventory // nil: nothing to announce to Home Assistant
	// Clock gives wall time (expires_at, timestamps) and monotonic time
	// (replay cache); default the system clock.
	Clock sched.Clock
	// Location is the zone of next_run_times for triggers without one;
	// default time.Local.
	Location *time.Location
	// Site is where solar triggers without coordinates of their own
	// compute the sun in next_run_times (config location); nil: none.
	Site    *sched.Site
	Logger  *slog.Logger
	Version string
	// Model is the device's model in Home Assistant (the board, say);
	// default "edgecron agent".
	Model string
	// BootID defaults to /proc/sys/kernel/random/boot_id.
	BootID string
	// ClockSynced reports whether wall time is synchronised; default: the
	// file /run/systemd/timesync/synchronized exists.
	ClockSynced func() bool
	// Backoff defaults to 1s..2m.
	Backoff Backoff
	// OnConnection, when set, is told of each change of the connection:
	// true once the agent is connected (subscribed, before it says
	// online), false when that connection is lost. The agent starts
	// disconnected, and a clean stop is not a loss. Calls come one at a
	// time, in the order of the changes; it must not block.
	OnConnection func(connected bool)
}
