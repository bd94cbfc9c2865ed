package main

import (
	"context"
	"fmt"

	"github.com/edgecron/edgecron/httpapi"
)

// startHTTP opens the HTTP listener when http.enabled is set (docs/http.md):
// the REST API and whatever else httpRoutes mounts. Its secrets and TLS
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
