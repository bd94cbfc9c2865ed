package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sensors"
)

// CheckSensor implements sched.Inputs: the config has the sensor, and the
// sensor the value ("": its primary value).
func (e *extensions) CheckSensor(sensor, value string) error {
	if e.sensors == nil || !e.sensors.Has(sensor) {
		var names []string
		if e.sensors != nil {
			names = e.sensors.Names()
		}
		return fmt.Errorf("no sensor %q in the config (configured: %s)", sensor, strings.Join(names, ", "))
	}
	if value == "" {
		return nil
	}
	vals := e.sensors.Describe(sensor)
	names := make([]string, len(vals))
	for i, v := range vals {
		if v.Name == value {
			return nil
		}
		names[i] = v.Name
	}
	return fmt.Errorf("sensor %q has no value %q (its values: %s)", sensor, value, strings.Join(names, ", "))
}

// Output implements sched.Inputs: whether the output is on now.
func (e *extensions) Output(name string) (on, ok bool) {
	if e.outputs == nil {
		return false, false
	}
	st, ok := e.outputs.State(name)
	return st.On, ok
}

// observer is what readings are handed to: the scheduler's reading
// triggers and conditions (docs/automations.md).
type observer interface {
	Observe(sensor string, at time.Time, values []sched.Sample)
	ObserveFailure(sensor string)
}

// observe hands a reading to o.
func observe(o observer, r sensors.Reading) {
	vals := make([]sched.Sample, len(r.Values))
	for i, v := range r.Values {
		vals[i] = sched.Sample{Name: v.Name, Value: v.Value}
	}
	o.Observe(r.Sensor, r.Time, vals)
}

// observedRead is the read action's handler that also tells the
// scheduler when a read fails: a failed read is no reading, and the
// `for` windows and conditions on the sensor must know (the rule of
// docs/automations.md). Good readings reach the scheduler through the
// sink.
type observedRead struct {
	*sensors.ReadHandler
	obs observer
}

func (h observedRead) Run(ctx context.Context, r sched.Run) (sched.Result, error) {
	res, err := h.ReadHandler.Run(ctx, r)
	if err != nil && ctx.Err() == nil && res == nil {
		var p sensors.ReadParams
		if derr := r.Job.Action.Decode(&p); derr == nil && p.Sensor != "" {
			var se *sched.Error
			if !errors.As(err, &se) { // a bad action is not a failed read
				h.obs.ObserveFailure(p.Sensor)
			}
		}
	}
	return res, err
}
