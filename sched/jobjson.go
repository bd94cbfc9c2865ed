package sched

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Field is a bit set of the writable fields of a job document.
type Field uint16

// Writable fields.
const (
	FieldID Field = 1 << iota
	FieldName
	FieldTrigger
	FieldAction
	FieldMisfireGraceTime
	FieldCoalesce
	FieldMaxInstances
	FieldPaused
	FieldRemote
	FieldConditions
)

// Patch is a job as a user submitted it: Job holds the values, Fields says
// which of them were given (so Add fills the rest with defaults and Modify
// changes only those).
type Patch struct {
	Job    Job
	Fields Field
}

// Has reports whether every field of f was given.
func (p Patch) Has(f Field) bool { return p.Fields&f == f }

// DecodeMode selects how DecodeJob treats its input.
type DecodeMode int

// Decode modes.
const (
	// ModeAdd: a job document for add or for the config file; read-only
	// fields are refused.
	ModeAdd DecodeMode = iota
	// ModeChanges: the changes of a modify; read-only fields and id are
	// refused; null sets a field's null value.
	ModeChanges
	// ModeImport: a job document from an export; read-only fields are
	// ignored (they are recomputed).
	ModeImport
)

// Limits of the job document.
const (
	// MaxMisfireGraceTime is the largest misfire_grace_time accepted.
	MaxMisfireGraceTime = 100 * 365 * 24 * time.Hour
	// MaxMaxInstances is the largest max_instances accepted.
	MaxMaxInstances = 10000
)

// readOnly reports whether key is a field the agent produces. (A switch,
// not a map literal: that is code that builds the map at start-up.)
func readOnly(key string) bool {
	switch key {
	case "version", "next_run_time", "last_run_time", "last_result", "source":
		return true
	}
	return false
}

// DecodeJob strictly decodes one job document: an unknown field or a value
// of the wrong type is a bad_request *Error naming the field.
//
// In every mode: "trigger" and "action" must be objects (their contents are
// checked when the job is added, by Compile and the action's Handler), a
// field may appear once, and null is accepted where a field has a null value:
// misfire_grace_time (no limit), name (""), coalesce, paused and remote
// (false). ModeAdd and ModeImport require trigger and action.
func DecodeJob(data []byte, mode DecodeMode) (Patch, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p, err := decodeJob(dec, mode, "")
	if err != nil {
		return Patch{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return Patch{}, FieldError("", "unexpected data after the job document")
	}
	return p, nil
}

// DecodeJobs decodes a JSON array of job documents (jobs import). Errors name
// the element: "[2].trigger". Two documents with the same id are an error.
func DecodeJobs(data []byte, mode DecodeMode) ([]Patch, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return nil, FieldError("", "must be a JSON array of job documents")
	}
	ps := []Patch{}
	seen := map[string]int{}
	for dec.More() {
		i := len(ps)
		p, err := decodeJob(dec, mode, fmt.Sprintf("[%d]", i))
		if err != nil {
			return nil, err
		}
		if p.Has(FieldID) {
			if first, dup := seen[p.Job.ID]; dup {
				return nil, FieldError(fmt.Sprintf("[%d].id", i), "%q is also the id of [%d]", p.Job.ID, first)
			}
			seen[p.Job.ID] = i
		}
		ps = append(ps, p)
	}
	if _, err := dec.Token(); err != nil {
		return nil, FieldError("", "malformed JSON array: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, FieldError("", "unexpected data after the array")
	}
	return ps, nil
}

// decodeJob reads one object from dec. prefix ("[2]") is put before field
// names in errors.
func decodeJob(dec *json.Decoder, mode DecodeMode, prefix string) (Patch, error) {
	name := func(f string) string {
		switch {
		case prefix == "":
			return f
		case f == "":
			return prefix
		}
		return prefix + "." + f
	}
	var p Patch
	tok, err := dec.Token()
	if err != nil {
		return p, FieldError(name(""), "malformed JSON: %v", err)
	}
	if tok != json.Delim('{') {
		return p, FieldError(name(""), "must be a JSON object (a job document)")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return p, FieldError(name(""), "malformed JSON: %v", err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return p, FieldError(name(key), "malformed JSON: %v", err)
		}
		if seen[key] {
			return p, FieldError(name(key), "appears twice")
		}
		seen[key] = true
		if err := decodeField(&p, key, raw, mode); err != nil {
			var e *Error
			if errors.As(err, &e) && prefix != "" {
				c := *e
				c.Field = name(e.Field)
				return p, &c
			}
			return p, err
		}
	}
	if _, err := dec.Token(); err != nil {
		return p, FieldError(name(""), "malformed JSON: %v", err)
	}
	if mode != ModeChanges {
		for _, req := range []struct {
			f    Field
			name string
		}{{FieldTrigger, "trigger"}, {FieldAction, "action"}} {
			if !p.Has(req.f) {
				return p, FieldError(name(req.name), "is required")
			}
		}
	}
	return p, nil
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

func decodeField(p *Patch, key string, raw json.RawMessage, mode DecodeMode) error {
	j := &p.Job
	if readOnly(key) {
		if mode == ModeImport {
			return nil
		}
		return FieldError(key, "is read-only: the agent sets it")
	}
	switch key {
	case "id":
		if mode == ModeChanges {
			return FieldError("id", "cannot be changed: remove the job and add it under the new id")
		}
		s, err := decodeString(key, raw)
		if err != nil {
			return err
		}
		if err := CheckID(s); err != nil {
			return err
		}
		j.ID = s
		p.Fields |= FieldID
	case "name":
		if !isNull(raw) {
			s, err := decodeString(key, raw)
			if err != nil {
				return err
			}
			j.Name = s
		}
		p.Fields |= FieldName
	case "trigger":
		if err := decodeTrigger(raw, &j.Trigger); err != nil {
			return err
		}
		p.Fields |= FieldTrigger
	case "conditions":
		j.Conditions = nil
		if !isNull(raw) {
			if len(raw) == 0 || raw[0] != '[' {
				return FieldError("conditions", "must be a JSON array of conditions")
			}
			var cs []json.RawMessage
			if err := json.Unmarshal(raw, &cs); err != nil {
				return FieldError("conditions", "malformed JSON: %v", err)
			}
			for i, c := range cs {
				var cond Condition
				if err := json.Unmarshal(c, &cond); err != nil {
					return asFieldError(fmt.Sprintf("conditions[%d]", i), err)
				}
				j.Conditions = append(j.Conditions, cond)
			}
		}
		p.Fields |= FieldConditions
	case "action":
		if isNull(raw) || len(raw) == 0 || raw[0] != '{' {
			return FieldError("action", "must be a JSON object with a type")
		}
		if err := json.Unmarshal(raw, &j.Action); err != nil {
			return asFieldError("action", err)
		}
		p.Fields |= FieldAction
	case "misfire_grace_time":
		if isNull(raw) {
			j.MisfireGraceTime = nil
		} else {
			d, err := decodeSeconds(key, raw)
			if err != nil {
				return err
			}
			if d <= 0 || d > MaxMisfireGraceTime {
				return FieldError(key, "must be a number of seconds > 0 and at most %d, or null for no limit", int64(MaxMisfireGraceTime/time.Second))
			}
			j.MisfireGraceTime = &d
		}
		p.Fields |= FieldMisfireGraceTime
	case "coalesce":
		b, err := decodeBool(key, raw)
		if err != nil {
			return err
		}
		j.Coalesce = b
		p.Fields |= FieldCoalesce
	case "paused":
		b, err := decodeBool(key, raw)
		if err != nil {
			return err
		}
		j.Paused = b
		p.Fields |= FieldPaused
	case "remote":
		b, err := decodeBool(key, raw)
		if err != nil {
			return err
		}
		j.Remote = b
		p.Fields |= FieldRemote
	case "max_instances":
		n, ok := decodeInt(raw)
		if !ok || n < 1 || n > MaxMaxInstances {
			return FieldError(key, "must be an integer from 1 to %d", MaxMaxInstances)
		}
		j.MaxInstances = int(n)
		p.Fields |= FieldMaxInstances
	default:
		return FieldError(key, "unknown field")
	}
	return nil
}

func decodeTrigger(raw json.RawMessage, t *TriggerSpec) error {
	if isNull(raw) || len(raw) == 0 || raw[0] != '{' {
		return FieldError("trigger", "must be a JSON object with a type")
	}
	var spec TriggerSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return asFieldError("trigger", err)
	}
	*t = spec
	return nil
}

// asFieldError makes err a *Error whose field is under parent.
func asFieldError(parent string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		switch {
		case c.Field == "":
			c.Field = parent
		case c.Field != parent && !strings.HasPrefix(c.Field, parent+"."):
			c.Field = parent + "." + c.Field
		}
		if c.Code == "" {
			c.Code = CodeBadRequest
		}
		return &c
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return &Error{Code: CodeBadRequest, Field: parent + "." + te.Field, Message: "must be " + te.Type.String(), Err: err}
	}
	return &Error{Code: CodeBadRequest, Field: parent, Message: err.Error(), Err: err}
}

func decodeString(key string, raw json.RawMessage) (string, error) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", FieldError(key, "must be a string")
	}
	return s, nil
}

func decodeBool(key string, raw json.RawMessage) (bool, error) {
	switch string(raw) {
	case "true":
		return true, nil
	case "false", "null":
		return false, nil
	}
	return false, FieldError(key, "must be true or false")
}

// decodeRat reads a JSON number exactly.
func decodeRat(raw json.RawMessage) (*big.Rat, bool) {
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return nil, false
	}
	if len(raw) > 64 {
		return nil, false // no duration or count needs more digits
	}
	r, ok := new(big.Rat).SetString(string(raw))
	return r, ok
}

func decodeInt(raw json.RawMessage) (int64, bool) {
	r, ok := decodeRat(raw)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// decodeSeconds reads a number of seconds, exactly, to the nanosecond.
func decodeSeconds(key string, raw json.RawMessage) (time.Duration, error) {
	r, ok := decodeRat(raw)
	if !ok {
		return 0, FieldError(key, "must be a number of seconds")
	}
	ns := new(big.Rat).Mul(r, big.NewRat(int64(time.Second), 1))
	if !ns.IsInt() {
		return 0, FieldError(key, "must be a whole number of nanoseconds")
	}
	if !ns.Num().IsInt64() {
		return 0, FieldError(key, "is out of range")
	}
	return time.Duration(ns.Num().Int64()), nil
}

// formatSeconds writes d as a decimal number of seconds, exactly.
func formatSeconds(d time.Duration) string {
	neg := d < 0
	if neg {
		d = -d
	}
	s := strconv.FormatInt(int64(d/time.Second), 10)
	if frac := int64(d % time.Second); frac != 0 {
		f := strings.TrimRight(fmt.Sprintf("%09d", frac), "0")
		s += "." + f
	}
	if neg {
		s = "-" + s
	}
	return s
}

// MarshalJSON returns the job document of docs/jobs.md: writable fields,
// then the read-only ones. Times are RFC3339 in the trigger's zone (in their
// own zone when the trigger has none); misfire_grace_time is seconds or null;
// remote appears only when true.
func (j Job) MarshalJSON() ([]byte, error) { return j.appendJSON(make([]byte, 0, 512)) }

// appendJSON appends the document MarshalJSON returns.
func (j Job) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = appendString(b, j.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, j.Name)
	b = append(b, `,"trigger":`...)
	b, err := j.Trigger.appendJSON(b)
	if err != nil {
		return nil, fmt.Errorf("job %s: trigger: %w", j.ID, err)
	}
	if len(j.Conditions) > 0 {
		b = append(b, `,"conditions":[`...)
		for i, c := range j.Conditions {
			if i > 0 {
				b = append(b, ',')
			}
			cb, _ := c.MarshalJSON()
			b = append(b, cb...)
		}
		b = append(b, ']')
	}
	b = append(b, `,"action":`...)
	if len(j.Action.Raw) == 0 && j.Action.Type == "" {
		b = append(b, "null"...)
	} else {
		// Compact rather than Marshal: Marshal would HTML-escape the
		// user's parameters ("&" as "\u0026").
		ac, err := j.Action.MarshalJSON()
		if err == nil {
			buf := bytes.NewBuffer(b)
			err = json.Compact(buf, ac)
			b = buf.Bytes()
		}
		if err != nil {
			return nil, fmt.Errorf("job %s: action: %w", j.ID, err)
		}
	}
	b = append(b, `,"misfire_grace_time":`...)
	if j.MisfireGraceTime == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, formatSeconds(*j.MisfireGraceTime)...)
	}
	b = append(b, `,"coalesce":`...)
	b = strconv.AppendBool(b, j.Coalesce)
	b = append(b, `,"max_instances":`...)
	b = strconv.AppendInt(b, int64(j.MaxInstances), 10)
	b = append(b, `,"paused":`...)
	b = strconv.AppendBool(b, j.Paused)
	if j.Remote {
		b = append(b, `,"remote":true`...)
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, j.Version, 10)
	loc := jobLocation(j)
	tm := func(t *time.Time) {
		if t == nil {
			b = append(b, "null"...)
			return
		}
		v := *t
		if loc != nil {
			v = v.In(loc)
		}
		b = append(b, '"')
		b = appendTime(b, v) // RFC 3339 needs no escape
		b = append(b, '"')
	}
	b = append(b, `,"next_run_time":`...)
	tm(j.NextRunTime)
	b = append(b, `,"last_run_time":`...)
	tm(j.LastRunTime)
	b = append(b, `,"last_result":`...)
	b = appendString(b, j.LastResult)
	b = append(b, `,"source":`...)
	b = appendString(b, j.Source)
	return append(b, '}'), nil
}

// jobLocation is the zone a job's times are shown in: its trigger's, or nil
// (each time's own) when the trigger names none or an unknown one.
func jobLocation(j Job) *time.Location {
	if j.Trigger.Timezone == "" {
		return nil
	}
	loc, err := LoadLocation(j.Trigger.Timezone)
	if err != nil {
		return nil
	}
	return loc
}
