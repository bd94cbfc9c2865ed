package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/sched"
)

// IdempotencyKey is the header that carries a request id: the same id as
// an MQTT request's "id", answered once whichever way it comes.
const IdempotencyKey = "Idempotency-Key"

// Status is the answer to GET /scheduler.
type Status struct {
	State         string      `json:"state"` // running
	Device        string      `json:"device"`
	Version       string      `json:"version"`
	Started       string      `json:"started"`
	UptimeSeconds int64       `json:"uptime_seconds"`
	Clock         ClockStatus `json:"clock"`
	Jobs          int         `json:"jobs"`
	MQTT          *MQTTStatus `json:"mqtt"` // null without a broker
}

// ClockStatus is the device's clock as the scheduler sees it.
type ClockStatus struct {
	Now     string `json:"now"`
	Zone    string `json:"zone"`
	Trusted bool   `json:"trusted"` // cron and date jobs fire only when trusted
}

// MQTTStatus is the broker connection and the telemetry waiting for it.
type MQTTStatus struct {
	Connected     bool   `json:"connected"`
	OutboxQueued  int    `json:"outbox_queued"`
	OutboxDropped uint64 `json:"outbox_dropped"`
}

// SensorReading is a sensor's last reading, as MQTT publishes it on
// <root>/sensors/<name> with the sensor's name; before its first reading
// it has no ts and null values.
type SensorReading struct {
	Sensor string             `json:"sensor"`
	TS     string             `json:"ts,omitempty"`
	Values map[string]float64 `json:"values"`
	Units  map[string]string  `json:"units,omitempty"`
}

// ActuatorState is an actuator's state, as MQTT publishes it on
// <root>/actuators/<name>/state.
type ActuatorState struct {
	Actuator string   `json:"actuator"`
	State    string   `json:"state"`           // ON or OFF
	Value    *float64 `json:"value,omitempty"` // PWM outputs: 0..1
}

// Deps are what the REST API serves. API is required; a nil function
// serves an empty list (and GET /scheduler a 500).
type Deps struct {
	API       *api.Service
	Status    func() Status
	Sensors   func() []SensorReading
	Actuators func() []ActuatorState
}

// MountAPI registers the REST API's routes (docs/http.md). Every change
// goes through d.API, the pipeline MQTT requests take.
func (s *Server) MountAPI(d Deps) {
	h := &rest{d: d, log: s.log, start: time.Now().Unix()}
	s.HandleFunc("GET /scheduler", h.status)
	s.Handle("GET /scheduler/jobs", jobRoute{h, api.OpList})
	s.Handle("POST /scheduler/jobs", jobRoute{h, api.OpAdd})
	s.Handle("GET /scheduler/jobs/{id}", jobRoute{h, api.OpGet})
	s.Handle("PATCH /scheduler/jobs/{id}", jobRoute{h, api.OpModify})
	s.Handle("DELETE /scheduler/jobs/{id}", jobRoute{h, api.OpRemove})
	s.Handle("POST /scheduler/jobs/{id}/pause", jobRoute{h, api.OpPause})
	s.Handle("POST /scheduler/jobs/{id}/resume", jobRoute{h, api.OpResume})
	s.Handle("POST /scheduler/jobs/{id}/run", jobRoute{h, api.OpRun})
	s.HandleFunc("GET /sensors", h.sensors)
	s.HandleFunc("GET /sensors/{name}", h.sensors)
	s.HandleFunc("GET /actuators", h.actuators)
	s.HandleFunc("GET /actuators/{name}", h.actuators)
	s.HandleFunc("POST /actuators/{name}", h.actuate)
}

type rest struct {
	d     Deps
	log   *slog.Logger
	start int64         // numbers the ids of requests without a request id
	seq   atomic.Uint64 // with this count
}

func (h *rest) status(w http.ResponseWriter, r *http.Request) {
	if h.d.Status == nil {
		WriteError(w, "", &sched.Error{Code: sched.CodeInternal, Message: "no status source"})
		return
	}
	WriteJSON(w, http.StatusOK, h.d.Status())
}

// query reads the query parameters of r: only the names in allowed, each
// at most once.
func query(r *http.Request, allowed ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, sched.FieldError("query", "%v", err)
	}
	for k, v := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		switch {
		case !ok && len(allowed) == 0:
			return nil, sched.FieldError(k, "unknown query parameter (this route takes none)")
		case !ok:
			return nil, sched.FieldError(k, "unknown query parameter (this route takes %s)", strings.Join(allowed, ", "))
		case len(v) > 1:
			return nil, sched.FieldError(k, "appears twice")
		}
	}
	return q, nil
}

// jobRoute serves the route of op: it builds the request MQTT would
// receive for the same change and hands it to the pipeline. (A type
// rather than a closure: one copy of the code for the eight routes.)
type jobRoute struct {
	h  *rest
	op string
}

func (j jobRoute) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, op := j.h, j.op
	key := r.Header.Get(IdempotencyKey)
	req, ifMatch, err := h.request(r, op, key)
	if err != nil {
		h.log.Info("request rejected", "id", key, "op", op, "code", sched.ErrorCode(err), "err", err)
		WriteError(w, key, err)
		return
	}
	var out api.Outcome
	if key != "" && op != api.OpGet && op != api.OpList {
		out = h.d.API.Answer(r.Context(), req, nil, api.Options{Source: sched.SourceHTTP})
	} else {
		out.Reply = h.d.API.Execute(r.Context(), req, api.Options{Source: sched.SourceHTTP})
	}
	if rep := out.Reply; rep.Status == api.StatusRejected && !out.Replayed {
		h.log.Info("request rejected", "id", key, "op", op, "code", rep.Code, "err", rep.Error)
	}
	answer(w, op, key, out, ifMatch)
}

// request builds the job request for r, checked by the decoder of MQTT
// requests: the path, the query and the body become the request's
// fields. ifMatch says the expected version came from If-Match.
func (h *rest) request(r *http.Request, op, key string) (req api.Request, ifMatch bool, err error) {
	if key != "" {
		if err := api.CheckID(key); err != nil {
			return req, false, sched.FieldError(IdempotencyKey, "%s", strings.TrimPrefix(err.Error(), "id: "))
		}
	}
	var allowed []string
	switch op {
	case api.OpAdd:
		allowed = []string{"replace_existing"}
	case api.OpModify, api.OpRemove, api.OpPause, api.OpResume:
		allowed = []string{"expected_version"}
	}
	q, err := query(r, allowed...)
	if err != nil {
		return req, false, err
	}
	req = api.Request{ID: key, Op: op, JobID: r.PathValue("id")}
	if req.ID == "" {
		req.ID = fmt.Sprintf("http-%d-%d", h.start, h.seq.Add(1))
	}
	if v := q.Get("replace_existing"); v != "" {
		if req.ReplaceExisting, err = strconv.ParseBool(v); err != nil {
			return req, false, sched.FieldError("replace_existing", "must be true or false, got %q", v)
		}
	}
	if v := q.Get("expected_version"); v != "" {
		if req.ExpectedVersion, err = parseVersion(v); err != nil {
			return req, false, sched.FieldError("expected_version", "%v", err)
		}
	}
	if m := r.Header.Values("If-Match"); len(m) > 0 {
		if op != api.OpModify && op != api.OpRemove && op != api.OpPause && op != api.OpResume {
			return req, false, sched.FieldError("If-Match", "not taken by this route")
		}
		v, err := parseETag(strings.Join(m, ","))
		if err != nil {
			return req, false, sched.FieldError("If-Match", "%v", err)
		}
		if v != 0 && req.ExpectedVersion != 0 && v != req.ExpectedVersion {
			return req, false, sched.FieldError("If-Match", "version %d contradicts expected_version %d", v, req.ExpectedVersion)
		}
		if v != 0 {
			req.ExpectedVersion, ifMatch = v, true
		}
	}
	switch op {
	case api.OpAdd, api.OpModify:
		body, err := jsonBody(r)
		if err != nil {
			return req, false, err
		}
		if op == api.OpAdd {
			req.Job = body
		} else {
			req.Changes = body
		}
	default:
		if err := noBody(r); err != nil {
			return req, false, err
		}
	}
	// Through the decoder of MQTT requests: the same checks, in the same
	// words.
	env, err := json.Marshal(req)
	if err != nil {
		return req, false, sched.FieldError("body", "not JSON")
	}
	req, err = api.DecodeRequest(env)
	return req, ifMatch, err
}

// parseVersion reads a job version: a positive integer.
func parseVersion(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("must be a positive integer, got %q", s)
	}
	return n, nil
}

// parseETag reads If-Match: one entity tag, the job's version ("3", W/"3"
// or 3), or * (any version: 0).
func parseETag(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return 0, nil
	}
	if strings.Contains(s, ",") {
		return 0, errors.New("one entity tag only (the job's version)")
	}
	s = strings.TrimPrefix(s, "W/")
	s = strings.TrimSuffix(strings.TrimPrefix(s, `"`), `"`)
	return parseVersion(s)
}

// jsonBody reads a JSON body: Content-Type application/json.
func jsonBody(r *http.Request) (json.RawMessage, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, &sched.Error{Code: CodeUnsupportedMedia, Message: fmt.Sprintf(
			"the body must be a JSON object with Content-Type: application/json, not %q", r.Header.Get("Content-Type"))}
	}
	b, err := ReadBody(r)
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, sched.FieldError("body", "not valid JSON")
	}
	return b, nil
}

// noBody refuses a body where the route takes none.
func noBody(r *http.Request) error {
	b, err := ReadBody(r)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(b))) > 0 {
		return sched.FieldError("body", "this route takes no body")
	}
	return nil
}

// answer writes the reply to a job request: the job document (with its
// version as ETag), the list of jobs, or for a remove 204; an error as
// JSON with its status (412 for a version conflict of If-Match).
func answer(w http.ResponseWriter, op, key string, out api.Outcome, ifMatch bool) {
	rep := out.Reply
	if out.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if rep.Status != api.StatusAccepted {
		status := StatusOf(rep.Code)
		if rep.Code == sched.CodeVersionConflict && ifMatch {
			status = http.StatusPreconditionFailed
		}
		WriteJSON(w, status, ErrorBody{ID: key, Status: api.StatusRejected, Code: rep.Code, Error: rep.Error})
		return
	}
	switch {
	case op == api.OpList:
		writeRaw(w, http.StatusOK, rep.Jobs)
	case len(rep.Job) > 0:
		var head struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
		}
		if json.Unmarshal(rep.Job, &head) == nil && head.Version > 0 {
			w.Header().Set("ETag", `"`+strconv.FormatInt(head.Version, 10)+`"`)
		}
		status := http.StatusOK
		switch {
		case op == api.OpRemove:
			w.WriteHeader(http.StatusNoContent)
			return
		case op == api.OpAdd && !out.Replayed:
			w.Header().Set("Location", "/scheduler/jobs/"+head.ID)
			status = http.StatusCreated
		}
		writeRaw(w, status, rep.Job)
	case op == api.OpRemove:
		w.WriteHeader(http.StatusNoContent)
	default:
		// A replay that kept only the job's id and version.
		WriteJSON(w, http.StatusOK, struct {
			JobID    string `json:"job_id,omitempty"`
			Version  int64  `json:"version,omitempty"`
			Replayed bool   `json:"replayed"`
		}{rep.JobID, rep.Version, true})
	}
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func (h *rest) sensors(w http.ResponseWriter, r *http.Request) {
	var all []SensorReading
	if h.d.Sensors != nil {
		all = h.d.Sensors()
	}
	name := r.PathValue("name")
	if name == "" {
		if all == nil {
			all = []SensorReading{}
		}
		WriteJSON(w, http.StatusOK, all)
		return
	}
	for _, s := range all {
		if s.Sensor == name {
			WriteJSON(w, http.StatusOK, s)
			return
		}
	}
	WriteError(w, "", &sched.Error{Code: sched.CodeNotFound, Field: "sensor", Message: fmt.Sprintf("no sensor %q", name)})
}

func (h *rest) actuators(w http.ResponseWriter, r *http.Request) {
	var all []ActuatorState
	if h.d.Actuators != nil {
		all = h.d.Actuators()
	}
	name := r.PathValue("name")
	if name == "" {
		if all == nil {
			all = []ActuatorState{}
		}
		WriteJSON(w, http.StatusOK, all)
		return
	}
	if st, ok := findActuator(all, name); ok {
		WriteJSON(w, http.StatusOK, st)
		return
	}
	WriteError(w, "", &sched.Error{Code: sched.CodeNotFound, Field: "actuator", Message: fmt.Sprintf("no actuator %q", name)})
}

func findActuator(all []ActuatorState, name string) (ActuatorState, bool) {
	for _, a := range all {
		if a.Actuator == name {
			return a, true
		}
	}
	return ActuatorState{}, false
}

// actuate applies a command to an actuator: the payloads of MQTT's
// <root>/actuators/<name>/set, through the same pipeline. The request id
// is the Idempotency-Key header or the command's "id" (not both, unless
// equal). The answer is the actuator's state after the command.
func (h *rest) actuate(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get(IdempotencyKey)
	name := r.PathValue("name")
	fail := func(err error) { WriteError(w, key, err) }
	if _, err := query(r); err != nil {
		fail(err)
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && mt != "text/plain") {
		fail(&sched.Error{Code: CodeUnsupportedMedia, Message: fmt.Sprintf(
			"the body must be ON, OFF or TOGGLE as text/plain, or a JSON command as application/json, not %q", r.Header.Get("Content-Type"))})
		return
	}
	body, err := ReadBody(r)
	if err != nil {
		fail(err)
		return
	}
	if mt == "application/json" && !strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
		fail(sched.FieldError("body", "a JSON command is an object, e.g. {\"command\":\"on\"}"))
		return
	}
	if mt == "text/plain" && strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
		fail(&sched.Error{Code: CodeUnsupportedMedia, Message: "a JSON command needs Content-Type: application/json"})
		return
	}
	if h.d.Actuators != nil {
		if _, ok := findActuator(h.d.Actuators(), name); !ok {
			fail(&sched.Error{Code: sched.CodeNotFound, Field: "actuator", Message: fmt.Sprintf("no actuator %q", name)})
			return
		}
	}
	sr, err := api.DecodeSetRequest(body)
	switch {
	case err != nil && sr.ID == "":
		fail(err)
		return
	case key != "" && sr.ID != "" && key != sr.ID:
		fail(sched.FieldError("id", "%q differs from the %s header %q", sr.ID, IdempotencyKey, key))
		return
	case key != "":
		if cerr := api.CheckID(key); cerr != nil {
			fail(sched.FieldError(IdempotencyKey, "%s", strings.TrimPrefix(cerr.Error(), "id: ")))
			return
		}
		sr.ID = key
	}
	if sr.ID != "" {
		key = sr.ID
	}
	out, refused := h.d.API.Actuate(r.Context(), name, sr, err)
	if out.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	rep := out.Reply
	switch {
	case refused != nil: // logged, and reported on MQTT, by the pipeline
		fail(refused)
		return
	case out.Bytes != nil && rep.Status != api.StatusAccepted:
		WriteJSON(w, StatusOf(rep.Code), ErrorBody{ID: key, Status: api.StatusRejected, Code: rep.Code, Error: rep.Error})
		return
	}
	var st ActuatorState
	if h.d.Actuators != nil {
		st, _ = findActuator(h.d.Actuators(), name)
	}
	st.Actuator = name
	WriteJSON(w, http.StatusOK, st)
}
