// Package mqtt is edgecron's MQTT adapter (paho.mqtt.golang, MQTT 3.1.1):
// remote job control with request/reply on <root>/jobs/cmd and
// <root>/jobs/res, retained job documents, status and info, events,
// sensor readings and actuator state, Home Assistant discovery, and an
// outbox that keeps telemetry while the broker is away. docs/mqtt.md is
// the protocol.
//
// Reading order: topics.go (the topic tree), agent.go (the connection and
// its goroutines), commands.go (requests handed to the shared pipeline of
// package api, which decodes them, replays repeated ids and calls the
// scheduler; replies published here), actuate.go (set commands and the
// connection barrier), telemetry.go (publishing through the outbox),
// ctl.go (the client behind `edgecron ctl`).
//
// The package declares what it consumes — Scheduler, Outbox, Actuators,
// Inventory — and never imports the store or the hardware packages;
// cmd/agent wires them.
package mqtt
