package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// MaxPayload is the largest request the agent reads; a larger one is
// refused unread (over MQTT logged and counted with no reply, its id never
// parsed).
const MaxPayload = 64 << 10

// maxRequestID bounds a request id.
const maxRequestID = sched.MaxRequestID

// Ops of a request.
const (
	OpAdd        = "add"
	OpModify     = "modify"
	OpReschedule = "reschedule"
	OpPause      = "pause"
	OpResume     = "resume"
	OpRemove     = "remove"
	OpGet        = "get"
	OpList       = "list"
	OpRun        = "run"
)

// Reply statuses.
const (
	StatusAccepted = "accepted"
	StatusRejected = "rejected"
)

// Request is a job request: the payload of <root>/jobs/cmd or a group's
// jobs/cmd (docs/mqtt.md), or what an HTTP route says (docs/http.md). Job,
// Changes and Trigger stay raw here; the pipeline decodes them strictly
// with the scheduler's decoders.
type Request struct {
	ID              string          `json:"id"`
	Op              string          `json:"op"`
	Job             json.RawMessage `json:"job,omitempty"`
	JobID           string          `json:"job_id,omitempty"`
	Changes         json.RawMessage `json:"changes,omitempty"`
	Trigger         json.RawMessage `json:"trigger,omitempty"`
	ReplaceExisting bool            `json:"replace_existing,omitempty"`
	ExpectedVersion int64           `json:"expected_version,omitempty"`
	ExpiresAt       *time.Time      `json:"expires_at,omitempty"`
}

// Reply answers a Request (on <root>/jobs/res over MQTT). Job and Jobs are
// job documents as the scheduler marshals them.
type Reply struct {
	ID           string          `json:"id"`
	Status       string          `json:"status"`
	Code         sched.Code      `json:"code"`
	Error        string          `json:"error,omitempty"`
	Job          json.RawMessage `json:"job,omitempty"`
	Jobs         json.RawMessage `json:"jobs,omitempty"`
	NextRunTimes []string        `json:"next_run_times,omitempty"`
	// A reply sent again for a repeated id, when the first one is not kept
	// whole (too large, or sent before a restart), says so with Replayed
	// and carries the job's id and version after the change instead.
	JobID    string `json:"job_id,omitempty"`
	Version  int64  `json:"version,omitempty"`
	Replayed bool   `json:"replayed,omitempty"`
	// Actuator names the actuator of a reply to an actuator command.
	Actuator string `json:"actuator,omitempty"`
}

// opFields says, per op, which optional fields it takes beside id and op
// and which of them are required. (A table, not a map: a map literal is
// code that builds the map at start-up, 2 KB of the armv6 binary; a
// table is data the linker lays out, and nine ops are scanned as fast as
// a map is hashed.)
var opFields = [...]opField{
	{OpAdd, []string{"job"}, []string{"replace_existing", "expected_version", "expires_at"}},
	{OpModify, []string{"job_id", "changes"}, []string{"expected_version", "expires_at"}},
	{OpReschedule, []string{"job_id", "trigger"}, []string{"expected_version", "expires_at"}},
	{OpPause, []string{"job_id"}, []string{"expected_version", "expires_at"}},
	{OpResume, []string{"job_id"}, []string{"expected_version", "expires_at"}},
	{OpRemove, []string{"job_id"}, []string{"expected_version", "expires_at"}},
	{OpRun, []string{"job_id"}, []string{"expires_at"}},
	{OpGet, []string{"job_id"}, []string{"expires_at"}},
	{OpList, nil, []string{"expires_at"}},
}

type opField struct {
	op                string
	required, allowed []string
}

// opSpec returns op's entry in opFields, nil for an unknown op.
func opSpec(op string) *opField {
	for i := range opFields {
		if opFields[i].op == op {
			return &opFields[i]
		}
	}
	return nil
}

// Ops lists the ops in the order docs/mqtt.md gives them.
var Ops = []string{OpAdd, OpModify, OpReschedule, OpPause, OpResume, OpRemove, OpGet, OpList, OpRun}

// ErrNoID marks a payload whose request id could not be read: over MQTT it
// gets no reply, only a log line and a count.
var ErrNoID = errors.New("request id unreadable")

// DecodeRequest strictly decodes a request payload. Any error is a
// bad_request *sched.Error naming the field. When the error wraps ErrNoID
// the id could not be read; otherwise the returned Request carries the id
// so that the caller can reply.
func DecodeRequest(b []byte) (Request, error) {
	var req Request
	if len(b) > MaxPayload {
		return req, noID(sched.FieldError("payload", "larger than %d bytes", MaxPayload))
	}
	m, dup, trailing, err := decodeEnvelope(b)
	if err != nil {
		return req, noID(sched.FieldError("payload", "not a JSON object"))
	}
	rawID, ok := m["id"]
	if !ok || isNull(rawID) {
		return req, noID(sched.FieldError("id", "is required"))
	}
	if req.ID, err = readID(rawID, dup == "id"); err != nil {
		return req, err
	}
	if dup != "" {
		return req, sched.FieldError(dup, "appears twice")
	}
	if trailing {
		return req, sched.FieldError("payload", "data after the JSON object")
	}
	// From here on the id is known: every error gets a reply.
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// The op first: a request refused for a later field still says what
	// it asked for (the agent's "request rejected" log line shows it).
	if i := slices.Index(keys, "op"); i > 0 {
		copy(keys[1:i+1], keys[:i])
		keys[0] = "op"
	}
	present := map[string]bool{}
	for _, k := range keys {
		v := m[k]
		if isNull(v) || k == "id" {
			continue
		}
		present[k] = true
		var err error
		switch k {
		case "op":
			err = decodeString(v, &req.Op)
		case "job_id":
			err = decodeString(v, &req.JobID)
		case "job":
			req.Job, err = decodeObject(v)
		case "changes":
			req.Changes, err = decodeObject(v)
		case "trigger":
			req.Trigger, err = decodeObject(v)
		case "replace_existing":
			if json.Unmarshal(v, &req.ReplaceExisting) != nil {
				err = errors.New("must be true or false")
			}
		case "expected_version":
			req.ExpectedVersion, err = decodeVersion(v)
		case "expires_at":
			var s string
			if err = decodeString(v, &s); err == nil {
				var t time.Time
				if t, err = time.Parse(time.RFC3339, s); err != nil {
					err = fmt.Errorf("must be an RFC3339 time, got %q", s)
				} else {
					req.ExpiresAt = &t
				}
			}
		default:
			return req, sched.FieldError(k, "unknown field")
		}
		if err != nil {
			return req, sched.FieldError(k, "%v", err)
		}
	}
	spec := opSpec(req.Op)
	switch {
	case !present["op"]:
		return req, sched.FieldError("op", "is required (one of %s)", strings.Join(Ops, ", "))
	case spec == nil:
		return req, sched.FieldError("op", "unknown op %q (one of %s)", req.Op, strings.Join(Ops, ", "))
	}
	for _, f := range spec.required {
		if !present[f] {
			return req, sched.FieldError(f, "is required for op %s", req.Op)
		}
	}
	for _, k := range keys {
		if present[k] && k != "op" && !contains(spec.required, k) && !contains(spec.allowed, k) {
			return req, sched.FieldError(k, "not allowed with op %s", req.Op)
		}
	}
	if present["job_id"] && !sched.IDPattern.MatchString(req.JobID) {
		return req, sched.FieldError("job_id", "%q does not match %s", req.JobID, sched.IDPattern)
	}
	return req, nil
}

// decodeEnvelope reads the top-level object of a request: its members,
// the first key that appears twice (encoding/json would keep the last one
// silently: {"op":"get",...,"op":"remove"} must not remove), and whether
// anything but white space follows the object. err is set when b does not
// start with a JSON object.
func decodeEnvelope(b []byte) (m map[string]json.RawMessage, dup string, trailing bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, "", false, errors.New("not a JSON object")
	}
	m = map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, "", false, err
		}
		k, _ := tok.(string) // object keys are always strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, "", false, err
		}
		if _, seen := m[k]; seen && dup == "" {
			dup = k
		}
		m[k] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, "", false, err
	}
	_, err = dec.Token()
	return m, dup, err != io.EOF, nil
}

// noID marks err as a request without a usable id. It is not inlined:
// it only builds errors (docs/footprint.md).
//
//go:noinline
func noID(err error) error { return fmt.Errorf("%w: %w", ErrNoID, err) }

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func decodeString(v json.RawMessage, s *string) error {
	if json.Unmarshal(v, s) != nil {
		return errors.New("must be a string")
	}
	return nil
}

func decodeObject(v json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil {
		return nil, errors.New("must be a JSON object")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeVersion(v json.RawMessage) (int64, error) {
	var n json.Number
	if t := bytes.TrimSpace(v); len(t) == 0 || t[0] == '"' || json.Unmarshal(t, &n) != nil {
		return 0, errors.New("must be a non-negative integer")
	}
	i, err := n.Int64()
	if err != nil || i < 0 {
		return 0, fmt.Errorf("must be a non-negative integer, got %s", n)
	}
	return i, nil
}

// command is a decoded request with its job parts decoded by the
// scheduler's own decoders.
type command struct {
	Request
	patch   sched.Patch
	trigger sched.TriggerSpec
}

// decodeCommand decodes the job, changes or trigger of req. Field names in
// errors are prefixed with the request field ("job.trigger.hour").
func decodeCommand(req Request) (command, error) {
	c := command{Request: req}
	var err error
	switch req.Op {
	case OpAdd:
		c.patch, err = sched.DecodeJob(req.Job, sched.ModeAdd)
		err = prefixField("job", err)
	case OpModify:
		c.patch, err = sched.DecodeJob(req.Changes, sched.ModeChanges)
		err = prefixField("changes", err)
	case OpReschedule:
		// Into a variable of its own: &c.trigger would move all of c,
		// a whole job's patch, to the heap for every request.
		var t sched.TriggerSpec
		err = json.Unmarshal(req.Trigger, &t)
		if err == nil {
			_, err = t.Compile(time.UTC)
		}
		c.trigger = t
		err = prefixField("trigger", err)
	}
	return c, err
}

// prefixField makes a scheduler decoding error name its field from the
// request's top ("job.trigger.hour"). Errors without a code become
// bad_request: they come from decoding user input.
func prefixField(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var se *sched.Error
	if !errors.As(err, &se) {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return sched.FieldError(prefix+"."+ute.Field, "must be %s", ute.Type)
		}
		return sched.FieldError(prefix, "%v", err)
	}
	out := *se
	switch {
	case out.Field == "":
		out.Field = prefix
	case out.Field != prefix && !strings.HasPrefix(out.Field, prefix+"."):
		out.Field = prefix + "." + out.Field
	}
	return &out
}

// Rejected returns the reply for err.
func Rejected(id string, err error) Reply {
	return Reply{ID: id, Status: StatusRejected, Code: sched.ErrorCode(err), Error: err.Error()}
}
