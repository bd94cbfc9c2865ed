package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/api/apitest"
	"github.com/edgecron/edgecron/httpapi"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// guard bounds a wait for something the test caused: a deadlock guard,
// never a way to let things happen.
const guard = 15 * time.Second

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// device is the REST API over the real scheduler (a memory store, a fake
// clock) and the real pipeline, with fake outputs.
type device struct {
	t       testing.TB
	clock   *schedtest.FakeClock
	store   *schedtest.MemStore
	s       *sched.Scheduler
	svc     *api.Service
	outs    *outputs
	ran     chan struct{}
	url     string
	sensors []httpapi.SensorReading
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newDevice(t testing.TB) *device {
	t.Helper()
	d := &device{t: t, clock: schedtest.NewFakeClock(t0), store: schedtest.NewMemStore(), outs: &outputs{state: map[string]bool{"pump": false, "fan": false}},
		ran: make(chan struct{}, 100)}
	d.s = sched.New(d.store, sched.Options{Clock: d.clock, Location: time.UTC, Logger: quiet()})
	h := sched.HandlerFunc{RunFunc: func(context.Context, sched.Run) (sched.Result, error) {
		select {
		case d.ran <- struct{}{}:
		default: // a fuzz test runs jobs by the thousand
		}
		return nil, nil
	}}
	if err := d.s.Handle("test", h, sched.HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := d.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.s.Shutdown(context.Background(), true) })
	d.svc = api.New(api.Deps{Scheduler: d.s, Actuators: d.outs, Clock: d.clock, Location: time.UTC, Logger: quiet()})
	d.sensors = []httpapi.SensorReading{{Sensor: "air", TS: "2026-11-21T08:59:50Z", Values: map[string]float64{"temperature": 21.5}, Units: map[string]string{"temperature": "°C"}},
		{Sensor: "soil"}}
	srv, err := httpapi.New(httpapi.Config{Enabled: true, Listen: "127.0.0.1:0", MaxBody: 4 << 10}, httpapi.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	srv.MountAPI(httpapi.Deps{
		API: d.svc,
		Status: func() httpapi.Status {
			return httpapi.Status{State: "running", Device: "pi-1", Version: "test", Jobs: d.s.Len(), Clock: httpapi.ClockStatus{Trusted: true}}
		},
		Sensors:   func() []httpapi.SensorReading { return d.sensors },
		Actuators: d.outs.list,
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	d.url = "http://" + srv.Addr()
	return d
}

// outputs are actuators that switch on and off, and refuse "explode" as
// unsafe.
type outputs struct {
	mu      sync.Mutex
	state   map[string]bool
	applied []string
}

func (o *outputs) Apply(_ context.Context, name string, payload []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if strings.Contains(string(payload), "explode") {
		return &sched.Error{Code: sched.CodeUnsafe, Field: "command", Message: "interlock: the pump runs"}
	}
	if _, ok := o.state[name]; !ok {
		return &sched.Error{Code: sched.CodeNotFound, Field: "actuator", Message: "no actuator " + name}
	}
	o.applied = append(o.applied, name+"="+string(payload))
	p := strings.ToLower(string(payload))
	o.state[name] = strings.Contains(p, "on")
	return nil
}

func (o *outputs) list() []httpapi.ActuatorState {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []httpapi.ActuatorState
	for _, n := range []string{"fan", "pump"} {
		st := "OFF"
		if o.state[n] {
			st = "ON"
		}
		out = append(out, httpapi.ActuatorState{Actuator: n, State: st})
	}
	return out
}

func (o *outputs) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.applied)
}

// call sends a request; hdr are header name, value pairs. A body is sent
// as JSON unless a Content-Type is among hdr.
func (d *device) call(method, path, body string, hdr ...string) (*http.Response, []byte) {
	d.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, d.url+path, rd)
	if err != nil {
		d.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		d.t.Fatal(err)
	}
	return res, b
}

// job decodes a job document.
func job(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var j map[string]any
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatalf("job document %s: %v", b, err)
	}
	return j
}

// rejected checks an error answer.
func rejected(t *testing.T, res *http.Response, b []byte, status int, code, errHas string) {
	t.Helper()
	var e httpapi.ErrorBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%d %s: %v", res.StatusCode, b, err)
	}
	if res.StatusCode != status || string(e.Code) != code || e.Status != "rejected" || !strings.Contains(e.Error, errHas) {
		t.Errorf("got %d %s, want %d %s naming %q", res.StatusCode, b, status, code, errHas)
	}
}

func TestJobRoutes(t *testing.T) {
	d := newDevice(t)
	res, b := d.call("GET", "/scheduler/jobs", "")
	if res.StatusCode != 200 || strings.TrimSpace(string(b)) != "[]" {
		t.Fatalf("empty list: %d %s", res.StatusCode, b)
	}
	res, b = d.call("POST", "/scheduler/jobs", apitest.JobDoc("pump", 60))
	if j := job(t, b); res.StatusCode != 201 || j["version"] != 1.0 || j["source"] != "http" ||
		res.Header.Get("ETag") != `"1"` || res.Header.Get("Location") != "/scheduler/jobs/pump" {
		t.Fatalf("add: %d %v %v", res.StatusCode, res.Header, j)
	}
	if j, ok := d.store.Job("pump"); !ok || j.Version != 1 {
		t.Fatal("the add was answered before the store committed it")
	}
	// An add with no id gets one generated.
	res, b = d.call("POST", "/scheduler/jobs", `{"trigger":{"type":"interval","seconds":5},"action":{"type":"test"}}`)
	if j := job(t, b); res.StatusCode != 201 || !strings.HasPrefix(j["id"].(string), "job-") {
		t.Fatalf("add without id: %d %s", res.StatusCode, b)
	}
	res, b = d.call("GET", "/scheduler/jobs", "")
	var list []map[string]any
	if err := json.Unmarshal(b, &list); err != nil || res.StatusCode != 200 || len(list) != 2 {
		t.Fatalf("list: %d %s", res.StatusCode, b)
	}
	res, b = d.call("GET", "/scheduler/jobs/pump", "")
	if j := job(t, b); res.StatusCode != 200 || j["id"] != "pump" || res.Header.Get("ETag") != `"1"` {
		t.Fatalf("get: %d %s", res.StatusCode, b)
	}
	res, b = d.call("PATCH", "/scheduler/jobs/pump", `{"name":"Water"}`, "If-Match", `"1"`)
	if j := job(t, b); res.StatusCode != 200 || j["name"] != "Water" || j["version"] != 2.0 || res.Header.Get("ETag") != `"2"` {
		t.Fatalf("modify: %d %s", res.StatusCode, b)
	}
	// A stale version: 412 with If-Match, 409 with expected_version;
	// nothing changes.
	commits := d.store.Commits()
	res, b = d.call("PATCH", "/scheduler/jobs/pump", `{"name":"Late"}`, "If-Match", `"1"`)
	rejected(t, res, b, 412, "version_conflict", "at version 2, not 1")
	res, b = d.call("PATCH", "/scheduler/jobs/pump?expected_version=1", `{"name":"Late"}`)
	rejected(t, res, b, 409, "version_conflict", "at version 2, not 1")
	res, b = d.call("DELETE", "/scheduler/jobs/pump", "", "If-Match", `W/"1"`)
	rejected(t, res, b, 412, "version_conflict", "")
	if d.store.Commits() != commits {
		t.Error("a version conflict committed a change")
	}
	// Off the interval's start: a resume exactly at it runs the job at
	// once (the scheduler's rule, not this test's subject).
	d.clock.Advance(time.Second)
	res, b = d.call("POST", "/scheduler/jobs/pump/pause", "", "If-Match", `"2"`)
	if j := job(t, b); res.StatusCode != 200 || j["paused"] != true || j["next_run_time"] != nil {
		t.Fatalf("pause: %d %s", res.StatusCode, b)
	}
	res, b = d.call("POST", "/scheduler/jobs/pump/resume?expected_version=3", "")
	if j := job(t, b); res.StatusCode != 200 || j["paused"] != false || j["version"] != 4.0 {
		t.Fatalf("resume: %d %s", res.StatusCode, b)
	}
	res, b = d.call("POST", "/scheduler/jobs/pump/run", "")
	if res.StatusCode != 200 || job(t, b)["id"] != "pump" {
		t.Fatalf("run: %d %s", res.StatusCode, b)
	}
	select {
	case <-d.ran:
	case <-time.After(guard):
		t.Fatal("the run did not run")
	}
	res, b = d.call("DELETE", "/scheduler/jobs/pump", "", "If-Match", `"4"`)
	if res.StatusCode != 204 || len(b) != 0 {
		t.Fatalf("remove: %d %s", res.StatusCode, b)
	}
	res, b = d.call("GET", "/scheduler/jobs/pump", "")
	rejected(t, res, b, 404, "not_found", "pump")
}

// httpOf is the HTTP request that means the same as an MQTT request of
// the shared table, or ok false when HTTP has no such request (reschedule,
// expires_at).
func httpOf(t *testing.T, mq string) (method, path, body string, ok bool) {
	var r api.Request
	if err := json.Unmarshal([]byte(mq), &r); err != nil {
		t.Fatal(err)
	}
	if r.ExpiresAt != nil {
		return "", "", "", false
	}
	path = "/scheduler/jobs/" + url.PathEscape(r.JobID)
	if r.ExpectedVersion != 0 {
		defer func() { path += fmt.Sprintf("?expected_version=%d", r.ExpectedVersion) }()
	}
	switch r.Op {
	case api.OpAdd:
		return "POST", "/scheduler/jobs", string(r.Job), true
	case api.OpModify:
		return "PATCH", path, string(r.Changes), true
	case api.OpPause, api.OpResume, api.OpRun:
		return "POST", path + "/" + r.Op, "", true
	case api.OpRemove:
		return "DELETE", path, "", true
	case api.OpGet:
		return "GET", path, "", true
	case api.OpList:
		return "GET", "/scheduler/jobs", "", true
	}
	return "", "", "", false
}

// TestSharedRejections runs the MQTT API's table of refused requests
// (api/apitest) over HTTP: the same codes and words, nothing changed.
func TestSharedRejections(t *testing.T) {
	d := newDevice(t)
	cfgJob, err := sched.DecodeJob([]byte(apitest.JobDoc("fromfile", 60)), sched.ModeAdd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.s.SyncConfig(context.Background(), []sched.Patch{cfgJob}); err != nil {
		t.Fatal(err)
	}
	if res, b := d.call("POST", "/scheduler/jobs", apitest.JobDoc("pump", 60)); res.StatusCode != 201 {
		t.Fatalf("setup: %d %s", res.StatusCode, b)
	}
	commits := d.store.Commits()
	used := 0
	for _, tt := range apitest.Rejections {
		method, path, body, ok := httpOf(t, tt.Request)
		if !ok {
			continue
		}
		used++
		t.Run(tt.Name, func(t *testing.T) {
			res, b := d.call(method, path, body)
			rejected(t, res, b, httpapi.StatusOf(sched.Code(tt.Code)), tt.Code, tt.ErrHas)
		})
	}
	if used < len(apitest.Rejections)-5 {
		t.Errorf("only %d of the %d shared rejections have an HTTP form", used, len(apitest.Rejections))
	}
	if d.store.Commits() != commits {
		t.Errorf("rejected requests committed %d changes", d.store.Commits()-commits)
	}
	if j, _ := d.store.Job("pump"); j.Version != 1 || j.Name != "" {
		t.Errorf("pump changed: %+v", j)
	}
}

// TestHTTPBadInput is the bad input only HTTP can send: media types,
// bodies where none is taken, query parameters, entity tags, keys.
func TestHTTPBadInput(t *testing.T) {
	d := newDevice(t)
	if res, b := d.call("POST", "/scheduler/jobs", apitest.JobDoc("pump", 60)); res.StatusCode != 201 {
		t.Fatalf("setup: %d %s", res.StatusCode, b)
	}
	commits := d.store.Commits()
	big := `{"id":"big","name":"` + strings.Repeat("x", 4<<10) + `","trigger":{"type":"interval","seconds":5},"action":{"type":"test"}}`
	for _, tt := range []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		code, errHas             string
	}{
		{"form body", "POST", "/scheduler/jobs", "id=x", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", "application/json"},
		{"no content type", "POST", "/scheduler/jobs", apitest.JobDoc("x", 5), []string{"Content-Type", ""}, 415, "unsupported_media_type", ""},
		{"not JSON", "POST", "/scheduler/jobs", `{"id":`, nil, 400, "bad_request", "body: not valid JSON"},
		{"empty add", "POST", "/scheduler/jobs", "", []string{"Content-Type", "application/json"}, 400, "bad_request", "body"},
		{"too large", "POST", "/scheduler/jobs", big, nil, 413, "too_large", "max_body"},
		{"trailing data", "POST", "/scheduler/jobs", apitest.JobDoc("x", 5) + " {}", nil, 400, "bad_request", "body"},
		{"duplicate key", "PATCH", "/scheduler/jobs/pump", `{"name":"a","name":"b"}`, nil, 400, "bad_request", "name"},
		{"body on pause", "POST", "/scheduler/jobs/pump/pause", `{"x":1}`, nil, 400, "bad_request", "takes no body"},
		{"unknown query", "GET", "/scheduler/jobs?limit=5", "", nil, 400, "bad_request", "limit: unknown query parameter"},
		{"version on run", "POST", "/scheduler/jobs/pump/run?expected_version=1", "", nil, 400, "bad_request", "expected_version"},
		{"version twice", "POST", "/scheduler/jobs/pump/pause?expected_version=1&expected_version=2", "", nil, 400, "bad_request", "appears twice"},
		{"version not a number", "POST", "/scheduler/jobs/pump/pause?expected_version=one", "", nil, 400, "bad_request", "expected_version"},
		{"replace not a bool", "POST", "/scheduler/jobs?replace_existing=sure", apitest.JobDoc("pump", 5), nil, 400, "bad_request", "replace_existing"},
		{"If-Match list", "PATCH", "/scheduler/jobs/pump", `{"name":"a"}`, []string{"If-Match", `"1", "2"`}, 400, "bad_request", "If-Match"},
		{"If-Match not a version", "PATCH", "/scheduler/jobs/pump", `{"name":"a"}`, []string{"If-Match", `"abc"`}, 400, "bad_request", "If-Match"},
		{"If-Match on get", "GET", "/scheduler/jobs/pump", "", []string{"If-Match", `"1"`}, 400, "bad_request", "If-Match"},
		{"If-Match against query", "PATCH", "/scheduler/jobs/pump?expected_version=2", `{"name":"a"}`, []string{"If-Match", `"1"`}, 400, "bad_request", "contradicts"},
		{"key too long", "POST", "/scheduler/jobs/pump/pause", "", []string{"Idempotency-Key", strings.Repeat("k", 129)}, 400, "bad_request", "Idempotency-Key"},
		{"no such route", "GET", "/scheduler/jobs/pump/history", "", nil, 404, "not_found", "no such path"},
		{"wrong method", "PUT", "/scheduler/jobs/pump", "{}", nil, 405, "method_not_allowed", "PATCH"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, b := d.call(tt.method, tt.path, tt.body, tt.hdr...)
			rejected(t, res, b, tt.status, tt.code, tt.errHas)
		})
	}
	if d.store.Commits() != commits {
		t.Errorf("bad input committed %d changes", d.store.Commits()-commits)
	}
	// replace_existing=true replaces: the same check MQTT's flag passes.
	res, b := d.call("POST", "/scheduler/jobs?replace_existing=true", apitest.JobDoc("pump", 5))
	if j := job(t, b); res.StatusCode != 201 || j["version"] != 2.0 {
		t.Errorf("replace: %d %s", res.StatusCode, b)
	}
}

// TestIdempotencyKey: a change with a request id is applied once; the
// same id again gets the first answer, even for another route, and even
// after a restart of the pipeline (from the durable receipt).
func TestIdempotencyKey(t *testing.T) {
	d := newDevice(t)
	res, first := d.call("POST", "/scheduler/jobs", apitest.JobDoc("pump", 60), "Idempotency-Key", "k-1")
	if res.StatusCode != 201 || res.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %s", res.StatusCode, first)
	}
	commits := d.store.Commits()
	res, again := d.call("POST", "/scheduler/jobs", apitest.JobDoc("pump", 60), "Idempotency-Key", "k-1")
	if res.StatusCode != 200 || res.Header.Get("Idempotent-Replayed") != "true" || string(again) != string(first) {
		t.Fatalf("again: %d %v %s", res.StatusCode, res.Header, again)
	}
	// Without the key the same add is a new request: refused, it exists.
	res, b := d.call("POST", "/scheduler/jobs", apitest.JobDoc("pump", 60))
	rejected(t, res, b, 409, "conflict", "pump")
	// The same id on another route is the same request.
	res, b = d.call("POST", "/scheduler/jobs/pump/pause", "", "Idempotency-Key", "k-1")
	if res.StatusCode != 200 || res.Header.Get("Idempotent-Replayed") != "true" || job(t, b)["paused"] != false {
		t.Fatalf("pause with a used key: %d %s", res.StatusCode, b)
	}
	if d.store.Commits() != commits {
		t.Fatalf("a repeated id committed %d changes", d.store.Commits()-commits)
	}
	// A refusal is final for its id too.
	res, b = d.call("POST", "/scheduler/jobs/ghost/pause", "", "Idempotency-Key", "k-2")
	rejected(t, res, b, 404, "not_found", "ghost")
	d.call("POST", "/scheduler/jobs", apitest.JobDoc("ghost", 60))
	res, b = d.call("POST", "/scheduler/jobs/ghost/pause", "", "Idempotency-Key", "k-2")
	rejected(t, res, b, 404, "not_found", "ghost")
	if !strings.Contains(string(b), `"id":"k-2"`) {
		t.Errorf("the error does not name its request id: %s", b)
	}

	// A restart: a new pipeline on the same scheduler knows the id from
	// its receipt.
	res, b = d.call("POST", "/scheduler/jobs/pump/run", "", "Idempotency-Key", "k-3")
	if res.StatusCode != 200 {
		t.Fatalf("run: %d %s", res.StatusCode, b)
	}
	<-d.ran
	svc := api.New(api.Deps{Scheduler: d.s, Clock: d.clock, Logger: quiet()})
	req := api.Request{ID: "k-3", Op: api.OpRun, JobID: "pump"}
	out := svc.Answer(context.Background(), req, nil, api.Options{Source: sched.SourceHTTP})
	if !out.Replayed || out.Reply.Status != "accepted" || out.Reply.JobID != "pump" {
		t.Fatalf("after a restart: %+v", out)
	}
	select {
	case <-d.ran:
		t.Fatal("the run ran again")
	default:
	}
}

// Requests of one id that come at once are answered one at a time: one
// applies, the others get its answer.
func TestIdempotencyKeyConcurrent(t *testing.T) {
	d := newDevice(t)
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _ := d.call("POST", "/scheduler/jobs", apitest.JobDoc("pump", 60), "Idempotency-Key", "same")
			statuses <- res.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	created := 0
	for s := range statuses {
		switch s {
		case 201:
			created++
		case 200:
		default:
			t.Errorf("status %d", s)
		}
	}
	if created != 1 {
		t.Errorf("%d requests of one id applied", created)
	}
}

func TestSensorAndStatusRoutes(t *testing.T) {
	d := newDevice(t)
	res, b := d.call("GET", "/sensors", "")
	var all []httpapi.SensorReading
	if err := json.Unmarshal(b, &all); err != nil || res.StatusCode != 200 || len(all) != 2 {
		t.Fatalf("sensors: %d %s", res.StatusCode, b)
	}
	res, b = d.call("GET", "/sensors/air", "")
	if res.StatusCode != 200 || !strings.Contains(string(b), `"values":{"temperature":21.5}`) || !strings.Contains(string(b), `"ts":"2026-11-21T08:59:50Z"`) {
		t.Fatalf("air: %d %s", res.StatusCode, b)
	}
	res, b = d.call("GET", "/sensors/soil", "")
	if res.StatusCode != 200 || !strings.Contains(string(b), `"values":null`) || strings.Contains(string(b), `"ts"`) {
		t.Fatalf("soil, never read: %d %s", res.StatusCode, b)
	}
	res, b = d.call("GET", "/sensors/ghost", "")
	rejected(t, res, b, 404, "not_found", "ghost")
	res, b = d.call("GET", "/scheduler", "")
	var st httpapi.Status
	if err := json.Unmarshal(b, &st); err != nil || res.StatusCode != 200 || st.Device != "pi-1" || st.State != "running" {
		t.Fatalf("status: %d %s", res.StatusCode, b)
	}
}

func TestActuatorRoutes(t *testing.T) {
	d := newDevice(t)
	res, b := d.call("GET", "/actuators", "")
	if res.StatusCode != 200 || !strings.Contains(string(b), `{"actuator":"pump","state":"OFF"}`) {
		t.Fatalf("list: %d %s", res.StatusCode, b)
	}
	res, b = d.call("POST", "/actuators/pump", "ON", "Content-Type", "text/plain")
	if res.StatusCode != 200 || !strings.Contains(string(b), `"state":"ON"`) {
		t.Fatalf("ON: %d %s", res.StatusCode, b)
	}
	res, b = d.call("GET", "/actuators/pump", "")
	if res.StatusCode != 200 || !strings.Contains(string(b), `"state":"ON"`) {
		t.Fatalf("state: %d %s", res.StatusCode, b)
	}
	// With an id (in the command or the header): applied once.
	for range 2 {
		res, b = d.call("POST", "/actuators/fan", `{"id":"c-1","command":"on"}`)
		if res.StatusCode != 200 {
			t.Fatalf("command with id: %d %s", res.StatusCode, b)
		}
	}
	if res.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("the repeated command is not marked replayed")
	}
	d.call("POST", "/actuators/fan", `{"command":"off"}`, "Idempotency-Key", "c-2")
	d.call("POST", "/actuators/fan", `{"command":"off"}`, "Idempotency-Key", "c-2")
	if n := d.outs.count(); n != 3 {
		t.Errorf("%d commands applied, want 3 (ON, c-1, c-2)", n)
	}
	applied := d.outs.count()
	for _, tt := range []struct {
		name, path, body, ct string
		hdr                  []string
		status               int
		code, errHas         string
	}{
		{"unsafe", "/actuators/pump", `{"command":"explode"}`, "application/json", nil, 409, "unsafe", "interlock"},
		{"unsafe with id", "/actuators/pump", `{"id":"c-3","command":"explode"}`, "application/json", nil, 409, "unsafe", "interlock"},
		{"no such actuator", "/actuators/ghost", "ON", "text/plain", nil, 404, "not_found", "ghost"},
		{"form", "/actuators/pump", "ON", "application/x-www-form-urlencoded", nil, 415, "unsupported_media_type", ""},
		{"JSON as text", "/actuators/pump", `{"command":"on"}`, "text/plain", nil, 415, "unsupported_media_type", "application/json"},
		{"JSON not an object", "/actuators/pump", `"ON"`, "application/json", nil, 400, "bad_request", "body"},
		{"ids differ", "/actuators/pump", `{"id":"a","command":"on"}`, "application/json", []string{"Idempotency-Key", "b"}, 400, "bad_request", "differs"},
		{"duplicate key", "/actuators/pump", `{"command":"on","command":"off"}`, "application/json", nil, 400, "bad_request", "command: appears twice"},
		{"expired", "/actuators/pump", `{"command":"on","expires_at":"2026-11-21T08:00:00Z"}`, "application/json", nil, 410, "expired", "expires_at"},
		{"query", "/actuators/pump?force=1", "ON", "text/plain", nil, 400, "bad_request", "force"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, b := d.call("POST", tt.path, tt.body, append([]string{"Content-Type", tt.ct}, tt.hdr...)...)
			rejected(t, res, b, tt.status, tt.code, tt.errHas)
		})
	}
	if d.outs.count() != applied {
		t.Errorf("refused commands were applied: %v", d.outs.applied)
	}
}
