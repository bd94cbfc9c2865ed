package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/board"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sensors"
)

// extensions wires the parts around the scheduler: the board with its
// sensors and actuators, and MQTT.
type extensions struct {
	board   board.Hardware
	sensors *sensors.Registry
	outputs *actuators.Set
	sink    sensors.Sink
}

// openHardware opens the board the config names and builds the sensors and
// the actuators on it; the actuators are driven to their boot state.
func openHardware(c *Config, clk sched.Clock, log *slog.Logger) (board.Hardware, *sensors.Registry, *actuators.Set, error) {
	hw, err := board.Open(c.Hardware.Board, board.Options{Clock: clk})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("hardware.board %s: %w", c.Hardware.Board, err)
	}
	reg, err := sensors.Build(c.Sensors, hw, clk)
	if err != nil {
		hw.Close()
		return nil, nil, nil, fmt.Errorf("sensors: %w", err)
	}
	set, err := actuators.Build(c.Actuators, hw, clk, log.With("component", "actuators"))
	if err != nil {
		reg.Close()
		hw.Close()
		return nil, nil, nil, fmt.Errorf("actuators: %w", err)
	}
	return hw, reg, set, nil
}

func (e *extensions) setup(ctx context.Context, a *agent) error {
	var err error
	e.board, e.sensors, e.outputs, err = openHardware(a.cfg, sched.NewSystemClock(), a.log)
	if err != nil {
		return err
	}
	a.log.Info("hardware ready", "board", e.board.String(), "sensors", len(e.sensors.Names()), "actuators", len(e.outputs.Names()))
	e.sink = sensors.LogSink{Logger: a.log.With("component", "readings")}
	return nil
}

func (e *extensions) handlerDeps(clk sched.Clock) handlerDeps {
	return handlerDeps{clock: clk, sensors: e.sensors, outputs: e.outputs, sink: e.sink}
}

func (e *extensions) start(ctx context.Context, a *agent) error { return nil }

// stop runs after the scheduler stopped: nothing more will command the
// outputs.
func (e *extensions) stop(a *agent) {}

// close puts every output in its shutdown state (a running pulse is cut
// short) and releases the board.
func (e *extensions) close(a *agent) {
	if e.outputs != nil {
		if err := e.outputs.Halt(); err != nil {
			a.log.Error("outputs to their shutdown state", "err", err)
		}
		e.outputs.Close()
	}
	if e.sensors != nil {
		e.sensors.Close()
	}
	if e.board != nil {
		e.board.Close()
	}
}

// reload applies a new config's actuators without cycling those whose
// definition did not change.
func (e *extensions) reload(ctx context.Context, a *agent, c *Config) error {
	if err := e.outputs.Reload(c.Actuators, e.board); err != nil {
		return fmt.Errorf("actuators: %w", err)
	}
	return nil
}

// sensorJobs turns each sensor's interval into a read job of source
// config, with the id "sensor-<name>".
func (e *extensions) sensorJobs(c *Config) []sched.Patch {
	var ps []sched.Patch
	for _, s := range c.Sensors {
		if s.Interval.D() <= 0 {
			continue
		}
		act, err := sched.NewAction("read", map[string]string{"sensor": s.Name})
		if err != nil {
			continue
		}
		ps = append(ps, sched.Patch{
			Job: sched.Job{
				ID:      "sensor-" + s.Name,
				Name:    "read " + s.Name + " every " + s.Interval.String(),
				Trigger: sched.TriggerSpec{Type: "interval", Seconds: s.Interval.D().Seconds()},
				Action:  act,
			},
			Fields: sched.FieldID | sched.FieldName | sched.FieldTrigger | sched.FieldAction,
		})
	}
	return ps
}

func applyBrokerFlag(c *Config, broker string) error { return nil }
