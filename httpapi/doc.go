// Package httpapi is the agent's optional HTTP listener: a REST API in
// Flask-APScheduler's shape over the same request pipeline as MQTT
// (package api), and the place where /metrics and the dashboard are
// mounted.
//
// It is off by default. When on, it listens on loopback unless told
// otherwise, and then refuses to start without credentials: a device on a
// home network must not take commands from whoever finds its port. The
// credentials (a bearer token, or basic auth) are read from files and
// never logged. Every request is bounded: its headers and body by size,
// its reading and writing by time, so a slow or stalled client holds a
// connection for a few seconds, not forever. Every error is a JSON object
// with the MQTT API's codes (docs/http.md).
package httpapi
