package sched

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Trigger types.
const (
	TriggerDate             = "date"
	TriggerInterval         = "interval"
	TriggerCron             = "cron"
	TriggerCalendarInterval = "calendarinterval"
	TriggerAnd              = "and"
	TriggerOr               = "or"
	TriggerSolar            = "solar"
	TriggerBoot             = "boot"
	TriggerReading          = "reading"
)

// typeMask says which trigger types a field belongs to: bit i is
// triggerKinds[i].
type typeMask uint16

const (
	forDate typeMask = 1 << iota
	forInterval
	forCron
	forCalendar
	forAnd
	forOr
	forSolar
	forBoot
	forReading
	forAll typeMask = 0xffff

	forBounded = forInterval | forCron | forCalendar | forSolar // start_date, end_date
)

// valueKind is the JSON shape a field takes.
type valueKind uint8

const (
	kindString  valueKind = iota // a JSON string
	kindNumber                   // a JSON number
	kindCron                     // a JSON string or integer
	kindNumText                  // a JSON number, kept as written
	kindMembers                  // a JSON array of trigger documents
)

// specField describes one key of the trigger document: its JSON name, the
// types it belongs to, its shape, and where it lives in a TriggerSpec.
type specField struct {
	name  string
	types typeMask
	kind  valueKind
	str   func(*TriggerSpec) *string
	num   func(*TriggerSpec) *float64
	cron  func(*TriggerSpec) *CronField
}

// specFields is in document order: MarshalJSON writes keys in this order.
var specFields = []specField{
	{name: "type", types: forAll, kind: kindString, str: func(s *TriggerSpec) *string { return &s.Type }},
	{name: "run_date", types: forDate, kind: kindString, str: func(s *TriggerSpec) *string { return &s.RunDate }},
	{name: "event", types: forSolar, kind: kindString, str: func(s *TriggerSpec) *string { return &s.Event }},
	{name: "twilight", types: forSolar, kind: kindString, str: func(s *TriggerSpec) *string { return &s.Twilight }},
	{name: "offset", types: forSolar, kind: kindString, str: func(s *TriggerSpec) *string { return &s.Offset }},
	{name: "latitude", types: forSolar, kind: kindNumText, str: func(s *TriggerSpec) *string { return &s.Latitude }},
	{name: "longitude", types: forSolar, kind: kindNumText, str: func(s *TriggerSpec) *string { return &s.Longitude }},
	{name: "delay", types: forBoot, kind: kindString, str: func(s *TriggerSpec) *string { return &s.Delay }},
	{name: "last_boot_id", types: forBoot, kind: kindString, str: func(s *TriggerSpec) *string { return &s.LastBootID }},
	{name: "sensor", types: forReading, kind: kindString, str: func(s *TriggerSpec) *string { return &s.Sensor }},
	{name: "value", types: forReading, kind: kindString, str: func(s *TriggerSpec) *string { return &s.Value }},
	{name: "above", types: forReading, kind: kindNumText, str: func(s *TriggerSpec) *string { return &s.Above }},
	{name: "below", types: forReading, kind: kindNumText, str: func(s *TriggerSpec) *string { return &s.Below }},
	{name: "hysteresis", types: forReading, kind: kindNumText, str: func(s *TriggerSpec) *string { return &s.Hysteresis }},
	{name: "change", types: forReading, kind: kindNumText, str: func(s *TriggerSpec) *string { return &s.Change }},
	{name: "edge", types: forReading, kind: kindString, str: func(s *TriggerSpec) *string { return &s.Edge }},
	{name: "level", types: forReading, kind: kindString, str: func(s *TriggerSpec) *string { return &s.Level }},
	{name: "for", types: forReading, kind: kindString, str: func(s *TriggerSpec) *string { return &s.For }},
	{name: "cooldown", types: forReading, kind: kindString, str: func(s *TriggerSpec) *string { return &s.Cooldown }},
	{name: "triggers", types: forAnd | forOr, kind: kindMembers},
	{name: "years", types: forCalendar, kind: kindNumber, num: func(s *TriggerSpec) *float64 { return &s.Years }},
	{name: "months", types: forCalendar, kind: kindNumber, num: func(s *TriggerSpec) *float64 { return &s.Months }},
	{name: "weeks", types: forInterval | forCalendar, kind: kindNumber, num: func(s *TriggerSpec) *float64 { return &s.Weeks }},
	{name: "days", types: forInterval | forCalendar, kind: kindNumber, num: func(s *TriggerSpec) *float64 { return &s.Days }},
	{name: "hours", types: forInterval, kind: kindNumber, num: func(s *TriggerSpec) *float64 { return &s.Hours }},
	{name: "minutes", types: forInterval, kind: kindNumber, num: func(s *TriggerSpec) *float64 { return &s.Minutes }},
	{name: "seconds", types: forInterval, kind: kindNumber, num: func(s *TriggerSpec) *float64 { return &s.Seconds }},
	{name: "year", types: forCron, kind: kindCron, cron: func(s *TriggerSpec) *CronField { return &s.Year }},
	{name: "month", types: forCron, kind: kindCron, cron: func(s *TriggerSpec) *CronField { return &s.Month }},
	{name: "day", types: forCron, kind: kindCron, cron: func(s *TriggerSpec) *CronField { return &s.Day }},
	{name: "week", types: forCron, kind: kindCron, cron: func(s *TriggerSpec) *CronField { return &s.Week }},
	{name: "day_of_week", types: forCron | forSolar, kind: kindCron, cron: func(s *TriggerSpec) *CronField { return &s.DayOfWeek }},
	{name: "hour", types: forCron | forCalendar, kind: kindCron, cron: func(s *TriggerSpec) *CronField { return &s.Hour }},
	{name: "minute", types: forCron | forCalendar, kind: kindCron, cron: func(s *TriggerSpec) *CronField { return &s.Minute }},
	{name: "second", types: forCron | forCalendar, kind: kindCron, cron: func(s *TriggerSpec) *CronField { return &s.Second }},
	{name: "expr", types: forCron, kind: kindString, str: func(s *TriggerSpec) *string { return &s.Expr }},
	{name: "start_date", types: forBounded, kind: kindString, str: func(s *TriggerSpec) *string { return &s.StartDate }},
	{name: "end_date", types: forBounded, kind: kindString, str: func(s *TriggerSpec) *string { return &s.EndDate }},
	{name: "jitter", types: forInterval | forCron | forCalendar | forAnd | forOr | forSolar, kind: kindNumber, num: func(s *TriggerSpec) *float64 { return &s.Jitter }},
	{name: "timezone", types: forAll, kind: kindString, str: func(s *TriggerSpec) *string { return &s.Timezone }},
}

// lookupSpecField returns the index of the field with the JSON name, or -1.
func lookupSpecField(name string) int {
	for i := range specFields {
		if specFields[i].name == name {
			return i
		}
	}
	return -1
}

// isSet reports whether the field has a value in s.
func (f *specField) isSet(s *TriggerSpec) bool {
	switch f.kind {
	case kindString, kindNumText:
		return *f.str(s) != ""
	case kindNumber:
		return *f.num(s) != 0
	case kindMembers:
		return s.Triggers != Members{}
	default:
		return *f.cron(s) != ""
	}
}

// UnmarshalJSON decodes a trigger document strictly: type is required, and
// an unknown key, a key given twice, a key that does not belong to the type
// or a value of the wrong JSON type is a bad_request *Error naming
// "trigger.<key>". It checks shape only; Compile checks values. A null value
// leaves an optional field unset.
func (s *TriggerSpec) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return FieldError("trigger", "must be a JSON object")
	}
	type member struct {
		f   *specField
		raw json.RawMessage
	}
	var members []member
	var seen uint64 // bit i: specFields[i] was given
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return FieldError("trigger", "invalid JSON: %v", err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return FieldError("trigger."+key, "invalid JSON: %v", err)
		}
		i := lookupSpecField(key)
		if i < 0 {
			return FieldError("trigger."+key, "unknown field")
		}
		if seen&(1<<i) != 0 {
			return FieldError("trigger."+key, "given more than once")
		}
		seen |= 1 << i
		members = append(members, member{&specFields[i], raw})
	}
	if _, err := dec.Token(); err != nil {
		return FieldError("trigger", "invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return FieldError("trigger", "unexpected data after the object")
	}

	var out TriggerSpec
	// The type first: it decides which other keys belong.
	for _, m := range members {
		if m.f.name == "type" {
			if err := decodeSpecValue(&out, m.f, m.raw); err != nil {
				return err
			}
		}
	}
	if out.Type == "" {
		return FieldError("trigger.type", "required: %s", typeList())
	}
	bit := typeBit(out.Type)
	if bit == 0 {
		return FieldError("trigger.type", "unknown trigger type %q: want %s", out.Type, typeList())
	}
	for _, m := range members {
		if m.f.name == "type" {
			continue
		}
		if m.f.types&bit == 0 {
			return FieldError("trigger."+m.f.name, "not a field of %s trigger", article(out.Type))
		}
		if err := decodeSpecValue(&out, m.f, m.raw); err != nil {
			return err
		}
	}
	*s = out
	return nil
}

func decodeSpecValue(s *TriggerSpec, f *specField, raw json.RawMessage) error {
	field := "trigger." + f.name
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		if f.name == "type" {
			return FieldError(field, "required: %s", typeList())
		}
		return nil
	}
	switch f.kind {
	case kindString:
		if len(raw) == 0 || raw[0] != '"' {
			return FieldError(field, "must be a string, not %s", jsonKind(raw))
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil {
			return FieldError(field, "invalid string: %v", err)
		}
		if v == "" {
			if f.name == "type" {
				return FieldError(field, "required: %s", typeList())
			}
			return FieldError(field, "empty: leave the field out instead")
		}
		*f.str(s) = v
	case kindNumber:
		if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
			return FieldError(field, "must be a number of %s, not %s", numberUnit(f.name), jsonKind(raw))
		}
		v, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return FieldError(field, "number %s out of range", raw)
		}
		*f.num(s) = v
	case kindNumText:
		if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
			return FieldError(field, "must be a number%s, not %s", textUnit(f.name), jsonKind(raw))
		}
		if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
			return FieldError(field, "number %s out of range", raw)
		}
		*f.str(s) = string(raw)
	case kindMembers:
		return decodeMembers(s, raw)
	case kindCron:
		if err := f.cron(s).UnmarshalJSON(raw); err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Field = field
				return e
			}
			return FieldError(field, "%v", err)
		}
	}
	return nil
}

// article returns "a cron", "an interval"...
func article(typ string) string {
	if typ == TriggerInterval || typ == TriggerAnd || typ == TriggerOr {
		return "an " + typ
	}
	return "a " + typ
}

// textUnit is the unit of a number kept as written, for errors.
func textUnit(name string) string {
	if name == "latitude" || name == "longitude" {
		return " of degrees"
	}
	return ""
}

func numberUnit(name string) string {
	if name == "jitter" {
		return "seconds"
	}
	return name
}

// jsonKind names the JSON type of a raw value for error messages.
func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// UnmarshalJSON accepts a JSON string ("*/5", "mon-fri") or an integer (6).
// The empty string is refused: leave the field out instead.
func (c *CronField) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return FieldError("", "must be a string or an integer")
	}
	switch {
	case b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return FieldError("", "invalid string: %v", err)
		}
		if strings.TrimSpace(v) == "" {
			return FieldError("", "empty expression: leave the field out instead")
		}
		*c = CronField(v)
		return nil
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		n, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return FieldError("", "must be a string or an integer, not the number %s", b)
		}
		*c = CronField(strconv.FormatInt(n, 10))
		return nil
	}
	return FieldError("", "must be a string or an integer, not %s", jsonKind(b))
}

// MarshalJSON writes the fields that are set, in document order, so a decoded
// spec encodes back to an equivalent document.
func (s TriggerSpec) MarshalJSON() ([]byte, error) { return s.appendJSON(nil) }

// appendJSON appends the document MarshalJSON returns.
func (s TriggerSpec) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	first := true
	for i := range specFields {
		f := &specFields[i]
		if !f.isSet(&s) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, f.name...)
		b = append(b, `":`...)
		var err error
		switch f.kind {
		case kindString:
			b = appendString(b, *f.str(&s))
		case kindNumText:
			b = append(b, *f.str(&s)...)
		case kindMembers:
			b = append(b, '[')
			for k, m := range s.Triggers.Specs() {
				if k > 0 {
					b = append(b, ',')
				}
				if b, err = m.appendJSON(b); err != nil {
					break
				}
			}
			b = append(b, ']')
		case kindNumber:
			b, err = appendNumber(b, *f.num(&s))
		default:
			b = appendString(b, string(*f.cron(&s)))
		}
		if err != nil {
			return nil, fmt.Errorf("trigger.%s: %w", f.name, err)
		}
	}
	return append(b, '}'), nil
}

// decodeMembers decodes the triggers array of an and/or trigger: at least
// two trigger documents, each decoded strictly; an error names its place
// ("trigger.triggers[1].hour").
func decodeMembers(s *TriggerSpec, raw json.RawMessage) error {
	const field = "trigger.triggers"
	if len(raw) == 0 || raw[0] != '[' {
		return FieldError(field, "must be an array of trigger documents, not %s", jsonKind(raw))
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return FieldError(field, "invalid JSON: %v", err)
	}
	if len(items) < 2 {
		return FieldError(field, "give at least two triggers to combine, not %d", len(items))
	}
	if len(items) > MaxMembers {
		return FieldError(field, "%d triggers: at most %d", len(items), MaxMembers)
	}
	specs := make([]TriggerSpec, len(items))
	for i, it := range items {
		if err := specs[i].UnmarshalJSON(it); err != nil {
			return asFieldError(fmt.Sprintf("%s[%d]", field, i), stripTrigger(err))
		}
	}
	s.Triggers = NewMembers(specs...)
	return nil
}

// stripTrigger drops the leading "trigger" of a member's error field, so
// asFieldError can put it under its place in the array.
func stripTrigger(err error) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		switch {
		case c.Field == "trigger":
			c.Field = ""
		case strings.HasPrefix(c.Field, "trigger."):
			c.Field = c.Field[len("trigger."):]
		}
		return &c
	}
	return err
}
