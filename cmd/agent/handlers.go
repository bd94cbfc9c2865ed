package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/command"
	"github.com/edgecron/edgecron/publish"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sensors"
)

// handlerDeps are what the action handlers need from the running agent.
// offline: built only to validate jobs (agent jobs import without an
// agent), never to run them.
type handlerDeps struct {
	offline   bool
	clock     sched.Clock
	publisher publish.Publisher
	sensors   *sensors.Registry
	outputs   *actuators.Set
	sink      sensors.Sink
	obs       observer // nil: reads are not observed (offline)
}

// handlers are the action handlers built from a config.
type handlers struct {
	inputs  *extensions // the sensors and outputs the handlers use, as sched.Inputs
	exec    *command.Handler
	publish *publish.Handler
	list    []registered
	closers []func()
}

type registered struct {
	typ string
	h   sched.Handler
	o   sched.HandlerOptions
}

// errNoBroker is what a publish run reports when no broker is configured.
var errNoBroker = errors.New("no MQTT broker is configured (mqtt.broker)")

type noPublisher struct{}

func (noPublisher) Publish(context.Context, string, byte, bool, []byte) error { return errNoBroker }

// buildHandlers builds the handler of every action type from the config.
func buildHandlers(c *Config, log *slog.Logger, d handlerDeps) (*handlers, error) {
	hs := &handlers{}
	var err error
	hs.exec, err = command.NewHandler(c.Commands, command.Options{MaxProcs: c.Scheduler.MaxProcesses, Clock: d.clock, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("commands: %w", err)
	}
	// A run waits for a process slot before it takes a scheduler worker;
	// each command's own timeout bounds it.
	hs.list = append(hs.list, registered{command.ActionType, hs.exec, sched.HandlerOptions{Workers: hs.exec.MaxProcs()}})
	pub := d.publisher
	if pub == nil {
		pub = noPublisher{}
	}
	hs.publish, err = publish.NewHandler(c.Publish, pub)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	hs.list = append(hs.list, registered{publish.ActionType, hs.publish, sched.HandlerOptions{}})

	if d.offline {
		// Validate jobs against the config's sensors and outputs without
		// touching hardware: the simulated board serves them all.
		sim := *c
		sim.Hardware.Board = "sim"
		hw, reg, set, err := openHardware(&sim, d.clock, log)
		if err != nil {
			return nil, err
		}
		hs.closers = append(hs.closers, func() { set.Close(); reg.Close(); hw.Close() })
		d.sensors, d.outputs = reg, set
	}
	hs.inputs = &extensions{sensors: d.sensors, outputs: d.outputs}
	var read sched.Handler = sensors.NewReadHandler(d.sensors, d.sink, log.With("component", "read"))
	if d.obs != nil {
		read = observedRead{read.(*sensors.ReadHandler), d.obs}
	}
	hs.list = append(hs.list,
		registered{"read", read, sched.HandlerOptions{}},
		registered{"actuate", actuators.NewHandler(d.outputs, log.With("component", "actuate")), sched.HandlerOptions{}})
	return hs, nil
}

// register hands every handler to the scheduler.
func (hs *handlers) register(s *sched.Scheduler) error {
	for _, r := range hs.list {
		if err := s.Handle(r.typ, r.h, r.o); err != nil {
			return fmt.Errorf("register %s handler: %w", r.typ, err)
		}
	}
	return nil
}

// close releases what the handlers hold (outputs to their safe state).
func (hs *handlers) close() {
	for i := len(hs.closers) - 1; i >= 0; i-- {
		hs.closers[i]()
	}
}

// update applies a reloaded config to the handlers; on error nothing
// changed: both parts are checked before either is applied, so that a
// rejected commands section does not leave the publish rules applied.
func (hs *handlers) update(c *Config) error {
	if err := c.Publish.Validate(); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := c.Commands.Validate(); err != nil {
		return fmt.Errorf("commands: %w", err)
	}
	if err := hs.publish.Update(c.Publish); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := hs.exec.Update(c.Commands); err != nil {
		return fmt.Errorf("commands: %w", err) // checked above: not reached
	}
	return nil
}
