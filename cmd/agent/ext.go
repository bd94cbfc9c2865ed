package main

import (
	"context"

	"github.com/edgecron/edgecron/sched"
)

// extensions wires the parts around the scheduler: hardware (sensors and
// actuators) and MQTT.
type extensions struct{}

func (e *extensions) setup(ctx context.Context, a *agent) error { return nil }

func (e *extensions) handlerDeps(clk sched.Clock) handlerDeps { return handlerDeps{clock: clk} }

func (e *extensions) start(ctx context.Context, a *agent) error { return nil }

func (e *extensions) stop(a *agent) {}

func (e *extensions) close(a *agent) {}

func (e *extensions) reload(ctx context.Context, a *agent, c *Config) error { return nil }

func (e *extensions) sensorJobs(c *Config) []sched.Patch { return nil }

func applyBrokerFlag(c *Config, broker string) error { return nil }
