package main

import "github.com/edgecron/edgecron/sched"

// triggerEnv is what the config's triggers are compiled against: the
// scheduler's zone. The scheduler, `edgecron next --config` and the config
// check all use it, so they agree.
func (c *Config) triggerEnv() sched.Env {
	return sched.Env{Location: c.location}
}
