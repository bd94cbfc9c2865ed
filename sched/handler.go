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
// "action.<field>". It decodes Raw once, with its "type" members cut out
// of the bytes: this runs for every job at every start (handlers validate
// through it), so it avoids a round trip through a map.
func (a Action) Decode(v any) error {
	params, ok := withoutType(a.Raw)
	if !ok {
		return FieldError("action", "must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(params))
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

// withoutType returns a copy of the JSON object obj without its top-level
// members named "type" (however the name is escaped), the other members
// unchanged and in order. It checks the object's outline (braces, member
// names, commas); the values are left to the decoder that reads the copy.
// ok is false when obj is not an object.
func withoutType(obj []byte) (params []byte, ok bool) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false
	}
	out := make([]byte, 1, len(obj))
	out[0] = '{'
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return append(out, '}'), skipSpace(obj, i+1) == len(obj)
	}
	for {
		start := i
		if i >= len(obj) || obj[i] != '"' {
			return nil, false
		}
		keyEnd := endOfString(obj, i)
		if keyEnd < 0 {
			return nil, false
		}
		i = skipSpace(obj, keyEnd)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false
		}
		value := skipSpace(obj, i+1)
		end := endOfValue(obj, value)
		if end < 0 {
			return nil, false
		}
		if isTypeName(obj[start:keyEnd]) {
			if !json.Valid(obj[value:end]) { // the copy keeps no trace of it
				return nil, false
			}
		} else {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, obj[start:end]...)
		}
		i = skipSpace(obj, end)
		if i >= len(obj) {
			return nil, false
		}
		switch obj[i] {
		case ',':
			i = skipSpace(obj, i+1)
		case '}':
			return append(out, '}'), skipSpace(obj, i+1) == len(obj)
		default:
			return nil, false
		}
	}
}

// isTypeName reports whether the quoted member name q is "type".
func isTypeName(q []byte) bool {
	if string(q) == `"type"` {
		return true
	}
	if bytes.IndexByte(q, '\\') < 0 {
		return false
	}
	var name string
	return json.Unmarshal(q, &name) == nil && name == "type"
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endOfString returns the index just past the JSON string starting at
// b[i] (a '"'), or -1 when it does not end.
func endOfString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// endOfValue returns the index just past the JSON value starting at b[i],
// or -1 when it does not end. Strings, objects and arrays are skipped
// whole; anything else (a number, true, false, null) runs to the next
// delimiter and is checked by the decoder later.
func endOfValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return endOfString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = endOfString(b, i)
				if i < 0 {
					return -1
				}
				i-- // the loop steps past the closing quote
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	start := i
	for i < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[i])) {
		i++
	}
	if i == start {
		return -1
	}
	return i
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
