package sched

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Action is what a job does: a type naming its Handler, plus parameters the
// scheduler does not interpret. Its JSON form is flat:
// {"type":"actuate","actuator":"pump","command":"pulse","duration":"30s"}.
type Action struct {
	Type string
	// Raw is the whole JSON object, "type" included.
	Raw json.RawMessage
}

// NewAction builds an Action of the given type from a parameter struct or map.
func NewAction(typ string, params any) (Action, error) {
	b, err := json.Marshal(params)
	if err != nil {
		return Action{}, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return Action{}, fmt.Errorf("action params must be a JSON object: %w", err)
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	t, _ := json.Marshal(typ)
	m["type"] = t
	raw, _ := json.Marshal(m)
	return Action{Type: typ, Raw: raw}, nil
}

// MarshalJSON returns the flat action object.
func (a Action) MarshalJSON() ([]byte, error) {
	if len(a.Raw) == 0 {
		return json.Marshal(map[string]string{"type": a.Type})
	}
	return a.Raw, nil
}

// UnmarshalJSON reads a flat action object; "type" is required.
func (a *Action) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return FieldError("action", "must be a JSON object")
	}
	t, ok := m["type"]
	if !ok {
		return FieldError("action.type", "is required")
	}
	var typ string
	if err := json.Unmarshal(t, &typ); err != nil || typ == "" {
		return FieldError("action.type", "must be a non-empty string")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return FieldError("action", "%v", err)
	}
	a.Type, a.Raw = typ, buf.Bytes()
	return nil
}

// Decode strictly decodes the action's parameters (all fields but "type")
// into v: an unknown field or a wrong type is a bad_request *Error naming
// "action.<field>".
func (a Action) Decode(v any) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(a.Raw, &m); err != nil {
		return FieldError("action", "must be a JSON object")
	}
	delete(m, "type")
	b, _ := json.Marshal(m)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case asType(err, &te):
			return FieldError("action."+te.Field, "must be %s", te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return FieldError("action."+f, "unknown field")
		default:
			return FieldError("action", "%v", err)
		}
	}
	return nil
}

func asType(err error, te **json.UnmarshalTypeError) bool {
	e, ok := err.(*json.UnmarshalTypeError)
	if ok {
		*te = e
	}
	return ok
}

// Handler runs the actions of one type. The scheduler calls Validate when a
// job is added or changed (a job that would fail for its configuration is
// refused then, not when it first fires) and Run for each run.
type Handler interface {
	// Validate checks an action's parameters against the configuration.
	// Return a *Error (FieldError) naming the field at fault.
	Validate(a Action) error
	// Run performs one run. ctx is cancelled at the run's timeout or at
	// shutdown. The Result goes into the executed or error event.
	Run(ctx context.Context, r Run) (Result, error)
}

// Run describes one run of a job handed to a Handler.
type Run struct {
	Job           Job
	ScheduledTime time.Time // the fire time this run is for (jitter excluded)
}

// Result is what a run reports beside its error: exit code, output tail,
// a reading... Keys are snake_case; values must marshal to JSON.
type Result map[string]any

// HandlerOptions tune how the runs of one action type are executed.
type HandlerOptions struct {
	// Workers bounds the runs of this type at once, on top of the
	// scheduler's pool and each job's max_instances; 0 means no own limit.
	Workers int
	// Timeout bounds one run (ctx deadline); 0 means none.
	Timeout time.Duration
}

// HandlerFunc pairs a validation and a run function into a Handler.
type HandlerFunc struct {
	ValidateFunc func(Action) error
	RunFunc      func(context.Context, Run) (Result, error)
}

// Validate calls ValidateFunc when set.
func (h HandlerFunc) Validate(a Action) error {
	if h.ValidateFunc == nil {
		return nil
	}
	return h.ValidateFunc(a)
}

// Run calls RunFunc.
func (h HandlerFunc) Run(ctx context.Context, r Run) (Result, error) { return h.RunFunc(ctx, r) }
