// Package publish is the handler of the "publish" action: a job that
// publishes one MQTT message on its schedule, to trigger another device or
// an automation.
//
// A job may publish only to topics that match a pattern of the config's
// publish.allow list (MQTT topic filters with + and #); this is checked when
// the job is added. The package does not talk MQTT itself: it declares the
// one-method Publisher it needs, which the MQTT adapter satisfies (queueing
// through its outbox while the broker is away).
//
// Reading order: topic.go (topic names, filters, Match), publish.go (Config,
// Handler).
package publish
