package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sensors"
	"github.com/edgecron/edgecron/sensors/history"
)

// The running agent as the control socket sees it (control.Agent):
// reload, and the hardware by hand.

// reloadRequest asks the agent's main loop for a reload; the outcome
// comes back on done.
type reloadRequest struct{ done chan reloadOutcome }

type reloadOutcome struct {
	notes []string // applied: what waits for a restart
	err   error    // rejected
}

// Reload hands a reload to the main loop, which runs it exactly as it runs
// one for SIGHUP, and waits for the outcome: when applied, the changes
// that wait for a restart; when rejected, every problem.
func (a *agent) Reload(ctx context.Context) ([]string, error) {
	req := reloadRequest{done: make(chan reloadOutcome, 1)}
	select {
	case a.reloads <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case o := <-req.done:
		if o.err != nil {
			return reloadProblems(o.err), o.err
		}
		return o.notes, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// restartNeeded names the keys whose change a reload does not apply: the
// agent was built with them (connection, store, board, socket, logger,
// scheduler options).
func restartNeeded(old, c *Config) []string {
	var keys []string
	for _, k := range []struct {
		key  string
		same bool
	}{
		{"device_id", old.DeviceID == c.DeviceID},
		{"timezone", old.location.String() == c.location.String()},
		{"location", reflect.DeepEqual(old.site(), c.site())},
		{"mqtt", reflect.DeepEqual(old.MQTT, c.MQTT)},
		{"http", old.HTTP == c.HTTP},
		{"store", old.Store == c.Store},
		{"hardware", old.Hardware == c.Hardware},
		{"control", old.Control == c.Control},
		{"scheduler.workers", old.Scheduler.Workers == c.Scheduler.Workers},
		{"scheduler.max_processes", old.Scheduler.MaxProcesses == c.Scheduler.MaxProcesses},
		{"scheduler.job_defaults", reflect.DeepEqual(old.defaults, c.defaults)},
		{"log", old.Log == c.Log},
		{"clock", old.Clock == c.Clock},
	} {
		if !k.same {
			keys = append(keys, k.key)
		}
	}
	return keys
}

// reloadProblems lists what a rejected reload found wrong: every problem of
// an invalid file, else the one error of the step that refused it.
func reloadProblems(err error) []string {
	if err == nil {
		return nil
	}
	var ce *ConfigError
	if errors.As(err, &ce) {
		out := make([]string, len(ce.Problems))
		for i, p := range ce.Problems {
			out[i] = p.String()
		}
		return out
	}
	return []string{err.Error()}
}

// reloadError classifies a rejected reload for the control socket: a file
// with problems is bad input (bad_request), anything else (a sensor that
// cannot be opened, a failed job sync) keeps its code.
func reloadError(err error) error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return &sched.Error{Code: sched.CodeBadRequest, Message: fmt.Sprintf("config %s rejected: %d problem(s); the agent keeps running on the previous one", ce.File, len(ce.Problems)), Err: err}
	}
	if sched.ErrorCode(err) != sched.CodeInternal {
		return err
	}
	return &sched.Error{Code: sched.CodeBadRequest, Message: "config rejected, the agent keeps running on the previous one: " + err.Error(), Err: err}
}

// Read takes one reading of a sensor and logs it at debug level, as a
// read job's reading is.
func (a *agent) Read(ctx context.Context, sensor string) (json.RawMessage, error) {
	r, err := readSensor(ctx, a.ext.sensors, sensor)
	if err != nil {
		return nil, err
	}
	logReading(a.log.With("component", "readings"), r)
	return json.Marshal(readingDoc(r))
}

// Set applies a set payload to an actuator through its safety profile.
func (a *agent) Set(_ context.Context, name string, payload []byte) (json.RawMessage, error) {
	st, err := applySet(a.ext.outputs, name, payload)
	if err != nil {
		return nil, err
	}
	a.log.Info("actuator set from the command line", "actuator", name, "on", st.On, "value", st.Value)
	return json.Marshal(stateDoc(name, st))
}

func readSensor(ctx context.Context, reg *sensors.Registry, name string) (sensors.Reading, error) {
	r, err := reg.Read(ctx, name)
	if errors.Is(err, sensors.ErrUnknown) {
		return r, &sched.Error{Code: sched.CodeNotFound, Field: "sensor", Message: fmt.Sprintf("no sensor %q in the config (configured: %v)", name, reg.Names()), Err: err}
	}
	return r, err
}

// applySet parses a set payload (a JSON string such as "ON", or an object
// {"command":"pulse","duration":"5s"}) and applies it.
func applySet(set *actuators.Set, name string, payload []byte) (actuators.State, error) {
	var text string
	if json.Unmarshal(payload, &text) == nil {
		payload = []byte(text)
	}
	cmd, err := actuators.ParseSetPayload(payload)
	if err != nil {
		return actuators.State{}, err
	}
	return set.Apply(name, cmd)
}

// readingJSON is a reading as `edgecron read --json` prints it.
type readingJSON struct {
	Sensor string             `json:"sensor"`
	TS     string             `json:"ts"`
	Values map[string]float64 `json:"values"`
	Units  map[string]string  `json:"units"`
}

func readingDoc(r sensors.Reading) readingJSON {
	return readingJSON{Sensor: r.Sensor, TS: r.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00"), Values: r.ValueMap(), Units: r.UnitMap()}
}

// stateJSON is an actuator's state as `edgecron set --json` prints it.
type stateJSON struct {
	Actuator string   `json:"actuator"`
	On       bool     `json:"on"`
	Value    *float64 `json:"value,omitempty"`
}

func stateDoc(name string, st actuators.State) stateJSON {
	d := stateJSON{Actuator: name, On: st.On}
	if st.PWM {
		v := st.Value
		d.Value = &v
	}
	return d
}

// logReading logs a reading at debug level: whatever the broker, a
// reading can be followed in the journal with log.level debug.
func logReading(log *slog.Logger, r sensors.Reading) {
	attrs := make([]any, 0, 2+len(r.Values))
	attrs = append(attrs, slog.String("sensor", r.Sensor), slog.Time("ts", r.Time))
	for _, v := range r.Values {
		s := strconv.FormatFloat(v.Value, 'g', -1, 64)
		if v.Unit != "" {
			s += " " + v.Unit
		}
		attrs = append(attrs, slog.String(v.Name, s))
	}
	log.Debug("reading", attrs...)
}

// readingSink logs every reading at debug level, keeps its values for the
// dashboard's charts when the HTTP listener is on, and hands it on to MQTT
// when a broker is configured.
type readingSink struct {
	log  *slog.Logger
	obs  observer       // the scheduler: reading triggers and conditions
	hist *history.Store // nil while http is off
	next sensors.Sink   // nil without a broker
}

func (s readingSink) Publish(ctx context.Context, r sensors.Reading) error {
	logReading(s.log, r)
	if s.obs != nil {
		observe(s.obs, r)
	}
	if s.hist != nil {
		for _, v := range r.Values {
			s.hist.Add(r.Sensor, v.Name, v.Unit, r.Time, v.Value)
		}
	}
	if s.next == nil {
		return nil
	}
	return s.next.Publish(ctx, r)
}
