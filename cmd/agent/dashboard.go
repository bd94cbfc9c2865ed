package main

import (
	"github.com/edgecron/edgecron/httpapi"
	"github.com/edgecron/edgecron/httpapi/ui"
)

// dashboardRoutes mounts the dashboard (docs/http.md, "Dashboard"): the
// page, and the sensor histories its charts draw, which the reading sink
// keeps while the listener is on.
func (a *agent) dashboardRoutes(srv *httpapi.Server) {
	var h *ui.History
	if a.ext.hist != nil { // made whenever http.enabled is on
		h = &ui.History{Store: a.ext.hist, Sensors: a.ext.sensors}
	}
	ui.Register(srv.Handle, h)
}

// retainHistory drops the charts of sensors a reload removed.
func (e *extensions) retainHistory() {
	if e.hist != nil {
		e.hist.Retain(e.sensors.Names())
	}
}
