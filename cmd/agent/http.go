package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/httpapi"
)

// startHTTP opens the HTTP listener when http.enabled is set (docs/http.md):
// the REST API and whatever else httpRoutes mounts. Its secrets
// files are read here, as check-config read them.
func (a *agent) startHTTP() error {
	if !a.cfg.HTTP.Enabled {
		return nil
	}
	srv, err := httpapi.New(a.cfg.HTTP, httpapi.Options{Logger: a.log})
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	a.httpRoutes(srv)
	if err := srv.Start(); err != nil {
		return err
	}
	a.http = srv
	return nil
}

// httpRoutes mounts every handler the listener serves. Each sits behind
// the server's authentication, body limit and JSON errors.
func (a *agent) httpRoutes(srv *httpapi.Server) {
	started := time.Now()
	c := a.cfg // device_id and timezone change only with a restart; a.cfg is the main loop's
	srv.MountAPI(httpapi.Deps{
		API:       a.ext.api,
		Status:    func() httpapi.Status { return a.httpStatus(c, started) },
		Sensors:   a.httpSensors,
		Actuators: a.ext.httpActuators,
	})
	if a.ext.metrics != nil {
		srv.Handle("GET /metrics", a.ext.metrics)
	}
	a.dashboardRoutes(srv)
}

// stopHTTP stops the listener, letting the requests being served finish
// within ctx.
func (a *agent) stopHTTP(ctx context.Context) {
	if a.http == nil {
		return
	}
	if err := a.http.Shutdown(ctx); err != nil {
		a.log.Warn("http: requests cut off at shutdown", "err", err)
	}
	a.http = nil
}

// httpStatus is GET /scheduler.
func (a *agent) httpStatus(c *Config, started time.Time) httpapi.Status {
	now := time.Now()
	zone, _, _ := strings.Cut(zoneName(c.location), " (") // the name, without "(the host's)"
	st := httpapi.Status{
		State: "running", Device: c.DeviceID, Version: version,
		Started: started.UTC().Format(time.RFC3339), UptimeSeconds: int64(now.Sub(started) / time.Second),
		Clock: httpapi.ClockStatus{Now: now.In(c.location).Format(time.RFC3339), Zone: zone, Trusted: a.clock.Trusted()},
		Jobs:  a.sched.Len(),
	}
	if e := &a.ext; e.mq != nil {
		q, d := e.ob.Stats()
		st.MQTT = &httpapi.MQTTStatus{Connected: e.mq.Connected(), OutboxQueued: q, OutboxDropped: d}
	}
	return st
}

// httpSensors lists every sensor with its last good reading, as the
// scheduler keeps it for conditions, and the units the config gives its
// values.
func (a *agent) httpSensors() []httpapi.SensorReading {
	names := a.ext.sensors.Names()
	out := make([]httpapi.SensorReading, len(names))
	for i, n := range names {
		out[i].Sensor = n
		at, vals, ok := a.sched.LastReading(n)
		if !ok {
			continue
		}
		out[i].TS = at.UTC().Format(time.RFC3339Nano)
		out[i].Values = make(map[string]float64, len(vals))
		for _, v := range vals {
			out[i].Values[v.Name] = v.Value
		}
		for _, v := range a.ext.sensors.Describe(n) {
			if _, read := out[i].Values[v.Name]; read && v.Unit != "" {
				if out[i].Units == nil {
					out[i].Units = map[string]string{}
				}
				out[i].Units[v.Name] = v.Unit
			}
		}
	}
	return out
}

// httpActuators lists every actuator with its state.
func (e *extensions) httpActuators() []httpapi.ActuatorState {
	names := e.outputs.Names()
	out := make([]httpapi.ActuatorState, 0, len(names))
	for _, n := range names {
		st, ok := e.outputs.State(n)
		if !ok {
			continue
		}
		as := httpapi.ActuatorState{Actuator: n, State: "OFF"}
		if st.On {
			as.State = "ON"
		}
		// A dimmable output shown as a switch (entity: switch, as Home
		// Assistant shows it) is on or off to the page too.
		if c, _ := e.outputs.Config(n); st.PWM && c.HAEntity() != actuators.EntitySwitch {
			v := st.Value
			as.Value = &v
		}
		out = append(out, as)
	}
	return out
}
