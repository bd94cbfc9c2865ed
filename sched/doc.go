// Package sched is edgecron's core: jobs, triggers (date, interval, cron) and
// the scheduler that fires them.
//
// sched imports only the standard library. It declares what it consumes —
// a Store for durable jobs, a Clock for time, a Handler per action type — and
// the adapters (store/, mqtt/, sensors/, actuators/, cmd/agent) depend on it,
// never the reverse. deps_test.go keeps that true.
//
// Reading order for a newcomer: job.go (the job document), trigger.go (what a
// trigger is), scheduler.go (the engine), then store.go, clock.go and
// handler.go for the contracts adapters satisfy.
package sched
