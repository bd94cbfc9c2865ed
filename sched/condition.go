package sched

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Condition is one of a job's conditions (docs/automations.md): when the
// job fires, every condition must hold or the run is skipped, with a
// skipped event naming the first that failed. Exactly one kind per
// condition:
//
//   - a sensor value: Sensor, Value ("": the primary value), Above and/or
//     Below (numbers, kept as written), MaxAge (a duration; default 15m): the
//     last good reading must be at most MaxAge old;
//   - an output's state: Output and State ("on" or "off");
//   - a window of the week: Time ("08:00-18:00", may span midnight) and/or
//     Days (cron day_of_week: "mon-fri"), in the job's zone;
//   - the wall clock: Clock "trusted".
type Condition struct {
	Sensor, Value, Above, Below, MaxAge string
	Output, State                       string
	Time, Days                          string
	Clock                               string
}

// DefaultMaxAge is the max_age of a sensor condition that gives none.
const DefaultMaxAge = 15 * time.Minute

// Inputs is what the agent tells the scheduler about its sensors and
// outputs, for conditions and reading triggers. Its methods are called with
// the scheduler's lock held: they must be quick and must not call the
// scheduler.
type Inputs interface {
	// CheckSensor returns an error saying what is wrong when the config has
	// no sensor of that name, or the sensor no value of that name ("": its
	// primary value).
	CheckSensor(sensor, value string) error
	// Output returns whether the output is on; ok is false when the config
	// has no output of that name.
	Output(name string) (on, ok bool)
}

// condKind is what a condition compares.
type condKind uint8

const (
	condSensor condKind = iota
	condOutput
	condWindow
	condClock
)

// condCheck is a compiled condition.
type condCheck struct {
	kind               condKind
	name, value        string // sensor and value, or output
	above, below       float64
	hasAbove, hasBelow bool
	maxAge             time.Duration
	on                 bool   // condOutput: the state wanted
	from, to           int    // condWindow: minutes of the day; from == to: all day
	hasTime            bool   // condWindow: a time of day is given
	days               uint8  // condWindow: weekdays, bit 0 Monday; 0x7f: every day
	text               string // the condition as written, for skipped events
}

// conditionFields are the JSON keys of a condition, in document order.
var conditionFields = []struct {
	name string
	num  bool
	str  func(c *Condition) *string
}{
	{"sensor", false, func(c *Condition) *string { return &c.Sensor }},
	{"value", false, func(c *Condition) *string { return &c.Value }},
	{"above", true, func(c *Condition) *string { return &c.Above }},
	{"below", true, func(c *Condition) *string { return &c.Below }},
	{"max_age", false, func(c *Condition) *string { return &c.MaxAge }},
	{"output", false, func(c *Condition) *string { return &c.Output }},
	{"state", false, func(c *Condition) *string { return &c.State }},
	{"time", false, func(c *Condition) *string { return &c.Time }},
	{"days", false, func(c *Condition) *string { return &c.Days }},
	{"clock", false, func(c *Condition) *string { return &c.Clock }},
}

// MarshalJSON writes the condition's set keys; numbers as written.
func (c Condition) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for _, f := range conditionFields {
		v := *f.str(&c)
		if v == "" {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:", f.name)
		if f.num {
			b.WriteString(v)
		} else {
			s, _ := json.Marshal(v)
			b.Write(s)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON decodes one condition strictly: an unknown key, a key
// given twice or a value of the wrong JSON type is a bad_request *Error
// naming the key. Values are checked by compileConditions.
func (c *Condition) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return FieldError("", "must be a JSON object")
	}
	var out Condition
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return FieldError("", "malformed JSON: %v", err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return FieldError(key, "malformed JSON: %v", err)
		}
		if seen[key] {
			return FieldError(key, "appears twice")
		}
		seen[key] = true
		i := -1
		for k, f := range conditionFields {
			if f.name == key {
				i = k
			}
		}
		if i < 0 {
			return FieldError(key, "unknown field (a condition takes sensor, output, time/days or clock)")
		}
		f := conditionFields[i]
		switch {
		case string(raw) == "null":
		case f.num:
			if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
				return FieldError(key, "must be a number")
			}
			if _, err := strconv.ParseFloat(string(raw), 64); err != nil {
				return FieldError(key, "number %s out of range", raw)
			}
			*f.str(&out) = string(raw)
		default:
			var s string
			if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
				return FieldError(key, "must be a string")
			}
			if s == "" {
				return FieldError(key, "empty: leave the field out instead")
			}
			*f.str(&out) = s
		}
	}
	if _, err := dec.Token(); err != nil {
		return FieldError("", "malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return FieldError("", "unexpected data after the condition")
	}
	*c = out
	return nil
}

// String is the condition as its JSON document.
func (c Condition) String() string {
	b, _ := c.MarshalJSON()
	return string(b)
}

// MaxConditions is the most conditions a job takes.
const MaxConditions = 16

// compileConditions checks cs and compiles them. Errors name the field:
// "conditions[1].max_age".
func compileConditions(cs []Condition) ([]condCheck, error) {
	if len(cs) > MaxConditions {
		return nil, FieldError("conditions", "%d conditions: at most %d", len(cs), MaxConditions)
	}
	out := make([]condCheck, 0, len(cs))
	for i, c := range cs {
		field := fmt.Sprintf("conditions[%d]", i)
		k, err := compileCondition(c, field)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

func compileCondition(c Condition, field string) (condCheck, error) {
	k := condCheck{text: c.String()}
	n := 0
	for _, set := range []bool{c.Sensor != "", c.Output != "", c.Time != "" || c.Days != "", c.Clock != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return k, FieldError(field, "a condition takes one of sensor, output, time/days or clock (%d given)", n)
	}
	only := func(kind string, allowed ...string) error {
		for _, f := range conditionFields {
			if *f.str(&c) == "" {
				continue
			}
			ok := false
			for _, a := range allowed {
				ok = ok || a == f.name
			}
			if !ok {
				return FieldError(field+"."+f.name, "not a field of %s condition", kind)
			}
		}
		return nil
	}
	switch {
	case c.Sensor != "":
		if err := only("a sensor", "sensor", "value", "above", "below", "max_age"); err != nil {
			return k, err
		}
		k.kind, k.name, k.value = condSensor, c.Sensor, c.Value
		if c.Above == "" && c.Below == "" {
			return k, FieldError(field, "a sensor condition takes above and/or below")
		}
		var err error
		if c.Above != "" {
			if k.above, err = finiteNumber(field+".above", c.Above); err != nil {
				return k, err
			}
			k.hasAbove = true
		}
		if c.Below != "" {
			if k.below, err = finiteNumber(field+".below", c.Below); err != nil {
				return k, err
			}
			k.hasBelow = true
		}
		if k.hasAbove && k.hasBelow && k.above >= k.below {
			return k, FieldError(field+".below", "%s is not above %s: with both, the value must be inside (above, below)", c.Below, c.Above)
		}
		k.maxAge = DefaultMaxAge
		if c.MaxAge != "" {
			d, err := time.ParseDuration(c.MaxAge)
			if err != nil || d <= 0 || d > maxReadingSpan {
				return k, FieldError(field+".max_age", "%q: want a duration above 0 and at most 168h, such as \"10m\"", c.MaxAge)
			}
			k.maxAge = d
		}
	case c.Output != "":
		if err := only("an output", "output", "state"); err != nil {
			return k, err
		}
		k.kind, k.name = condOutput, c.Output
		switch c.State {
		case "on":
			k.on = true
		case "off":
		default:
			return k, FieldError(field+".state", "%q: want on or off", c.State)
		}
	case c.Clock != "":
		if err := only("a clock", "clock"); err != nil {
			return k, err
		}
		if c.Clock != "trusted" {
			return k, FieldError(field+".clock", "%q: want trusted", c.Clock)
		}
		k.kind = condClock
	default:
		if err := only("a time", "time", "days"); err != nil {
			return k, err
		}
		k.kind, k.days = condWindow, 0x7f
		if c.Time != "" {
			from, to, err := parseWindow(c.Time)
			if err != nil {
				return k, FieldError(field+".time", "%q: %v", c.Time, err)
			}
			k.from, k.to, k.hasTime = from, to, true
		}
		if c.Days != "" {
			p, err := parseCronField(&cronFieldDefs[fDow], c.Days)
			if err != nil {
				return k, FieldError(field+".days", "%v", err)
			}
			k.days = uint8(p.mask() & 0x7f)
		}
	}
	return k, nil
}

// parseWindow parses "HH:MM-HH:MM" into minutes of the day.
func parseWindow(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("want a window such as 08:00-18:00")
	}
	if from, err = parseClock(strings.TrimSpace(a)); err != nil {
		return 0, 0, err
	}
	if to, err = parseClock(strings.TrimSpace(b)); err != nil {
		return 0, 0, err
	}
	if from == to {
		return 0, 0, fmt.Errorf("an empty window: leave time out for the whole day")
	}
	return from, to, nil
}

func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		if s == "24:00" {
			return 24 * 60, nil
		}
		return 0, fmt.Errorf("%q is not a time of day HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// condEnv is what conditions are checked against when a job fires.
type condEnv struct {
	now       time.Time // in the job's zone
	el        time.Duration
	untrusted bool
	last      map[string]*lastReading
	inputs    Inputs
}

// check returns "" when the condition holds, else why not.
func (k *condCheck) check(env *condEnv) string {
	switch k.kind {
	case condSensor:
		lr := env.last[k.name]
		switch {
		case lr == nil:
			return fmt.Sprintf("%s: no reading of %s yet", k.text, k.name)
		case lr.failed:
			return fmt.Sprintf("%s: the last read of %s failed", k.text, k.name)
		case env.el-lr.el > k.maxAge:
			return fmt.Sprintf("%s: the last reading of %s is %s old (max_age %s)", k.text, k.name, (env.el - lr.el).Round(time.Second), k.maxAge)
		}
		v, ok := lr.get(k.value)
		if !ok {
			return fmt.Sprintf("%s: the reading of %s has no value %s", k.text, k.name, k.value)
		}
		if (k.hasAbove && !(v > k.above)) || (k.hasBelow && !(v < k.below)) {
			return fmt.Sprintf("%s: %s is %s", k.text, k.name, strconv.FormatFloat(v, 'g', -1, 64))
		}
	case condOutput:
		if env.inputs == nil {
			return fmt.Sprintf("%s: outputs are not known here", k.text)
		}
		on, ok := env.inputs.Output(k.name)
		switch {
		case !ok:
			return fmt.Sprintf("%s: no output %s", k.text, k.name)
		case on != k.on:
			return fmt.Sprintf("%s: %s is %s", k.text, k.name, onOff(on))
		}
	case condClock:
		if env.untrusted {
			return fmt.Sprintf("%s: the wall clock is not trusted yet", k.text)
		}
	case condWindow:
		if env.untrusted {
			return fmt.Sprintf("%s: the wall clock is not trusted yet, so the time of day is not known", k.text)
		}
		if !k.inWindow(env.now) {
			return fmt.Sprintf("%s: it is %s", k.text, env.now.Format("Mon 15:04"))
		}
	}
	return ""
}

// inWindow reports whether t is inside the window. A window that spans
// midnight belongs to the day it starts on.
func (k *condCheck) inWindow(t time.Time) bool {
	wd := (int(t.Weekday()) + 6) % 7 // 0 Monday
	day := func(d int) bool { return k.days&(1<<((d+7)%7)) != 0 }
	if !k.hasTime {
		return day(wd)
	}
	m := t.Hour()*60 + t.Minute()
	if k.from < k.to {
		return m >= k.from && m < k.to && day(wd)
	}
	// Spans midnight: the evening part is today's, the morning part yesterday's.
	return (m >= k.from && day(wd)) || (m < k.to && day(wd-1))
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// sameConditions reports whether two condition lists are the same.
func sameConditions(a, b []Condition) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// jobConditions are a job's conditions as written and compiled. Never
// written through: a change replaces it.
type jobConditions struct {
	specs  []Condition
	checks []condCheck // nil when they do not compile (the job is invalid)
}

func newJobConditions(cs []Condition) *jobConditions {
	checks, _ := compileConditions(cs)
	return &jobConditions{specs: cs, checks: checks}
}

// checkInputs is CheckInputs with the scheduler's Inputs. Called with
// s.mu held.
func (s *Scheduler) checkInputs(spec TriggerSpec, cs []Condition) error {
	return CheckInputs(s.opts.Inputs, spec, cs)
}

// CheckInputs checks a job's trigger and conditions as the scheduler does
// when the job is added or loaded: that its conditions compile and, when
// in is not nil, that the sensors and outputs they and a reading trigger
// name exist. Errors are bad_request *Errors naming the field
// ("conditions[1].output"). The config check calls it too.
func CheckInputs(in Inputs, spec TriggerSpec, cs []Condition) error {
	checks, err := compileConditions(cs)
	if err != nil {
		return err
	}
	if in == nil {
		return nil
	}
	if sensor, value, ok := spec.ReadingSensor(); ok && sensor != "" {
		if err := in.CheckSensor(sensor, value); err != nil {
			return FieldError("trigger.sensor", "%v", err)
		}
	}
	for i, k := range checks {
		switch k.kind {
		case condSensor:
			if err := in.CheckSensor(k.name, k.value); err != nil {
				return FieldError(fmt.Sprintf("conditions[%d].sensor", i), "%v", err)
			}
		case condOutput:
			if _, ok := in.Output(k.name); !ok {
				return FieldError(fmt.Sprintf("conditions[%d].output", i), "no output %q in the config", k.name)
			}
		}
	}
	return nil
}

// skipOnConditions checks e's conditions for a run scheduled at at; when
// one fails it emits a skipped event saying why and reports true: the run
// does not happen and does not count (last_run_time is unchanged). Called
// with s.mu held.
func (s *Scheduler) skipOnConditions(e *entry, at, now time.Time, evs *[]Event) bool {
	if e.cold == nil || e.cold.conds == nil {
		return false
	}
	env := condEnv{now: now, el: s.clock.Elapsed(), untrusted: s.untrusted, last: s.obs.last, inputs: s.opts.Inputs}
	if loc, err := e.trigger().Location(s.loc); err == nil {
		env.now = now.In(loc)
	}
	for i := range e.cold.conds.checks {
		if why := e.cold.conds.checks[i].check(&env); why != "" {
			sched := at
			s.log.Debug("run skipped: a condition failed", "job", e.job.ID, "scheduled", at, "why", why)
			*evs = append(*evs, s.event(now, EventSkipped, e, &sched, why))
			return true
		}
	}
	return false
}
