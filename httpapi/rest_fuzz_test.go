package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/edgecron/edgecron/api/apitest"
	"github.com/edgecron/edgecron/httpapi"
	"github.com/edgecron/edgecron/sched"
)

// FuzzREST: no request panics the API; every answer is JSON (or an empty
// 204), and an error's status is its code's (412 only for If-Match).
func FuzzREST(f *testing.F) {
	for _, s := range [][4]string{
		{"POST", "/scheduler/jobs", apitest.JobDoc("pump", 60), ""},
		{"PATCH", "/scheduler/jobs/pump?expected_version=1", `{"name":"x"}`, `"1"`},
		{"POST", "/scheduler/jobs/pump/run", "", ""},
		{"DELETE", "/scheduler/jobs/pump", "", `W/"2"`},
		{"GET", "/scheduler/jobs?x=1&x=2", "", ""},
		{"POST", "/actuators/fan", `{"id":"a","command":"on","expires_at":"2030-01-01T00:00:00Z"}`, ""},
		{"POST", "/scheduler/jobs?replace_existing=1", `{"id":"a","trigger":{"type":"cron","hour":"*/5"},"action":{"type":"test"}}`, "*"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	d := newDevice(f)
	srv, err := httpapi.New(httpapi.Config{Enabled: true, Listen: "127.0.0.1:0"}, httpapi.Options{Logger: quiet()})
	if err != nil {
		f.Fatal(err)
	}
	srv.MountAPI(httpapi.Deps{API: d.svc, Actuators: d.outs.list})
	f.Fuzz(func(t *testing.T, method, target, body, ifMatch string) {
		if !strings.HasPrefix(target, "/") {
			return
		}
		req, err := http.NewRequest(method, target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		if ifMatch != "" {
			req.Header.Set("If-Match", ifMatch)
		}
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code == http.StatusNoContent {
			return
		}
		b := w.Body.Bytes()
		if !json.Valid(b) {
			t.Fatalf("%s %s: %d %q is not JSON", method, target, w.Code, b)
		}
		if w.Code < 400 {
			return
		}
		var e httpapi.ErrorBody
		if err := json.Unmarshal(b, &e); err != nil || e.Status != "rejected" || e.Code == "" {
			t.Fatalf("%s %s: %d %s", method, target, w.Code, b)
		}
		want := httpapi.StatusOf(e.Code)
		if w.Code != want && !(w.Code == 412 && e.Code == sched.CodeVersionConflict) {
			t.Fatalf("%s %s: status %d for code %s (want %d)", method, target, w.Code, e.Code, want)
		}
	})
}
