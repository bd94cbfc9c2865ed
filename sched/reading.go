package sched

import (
	"math"
	"strconv"
	"time"
)

// readingTrigger fires on readings (docs/automations.md): the scheduler
// hands it each reading of its sensor through Scheduler.Observe. It has no
// fire times of its own: Next never returns one, so the job never enters
// the timer queue, and a preview says "fires on readings". Its state is
// the rule's and lives as long as the compiled trigger: a change to the
// job, a pause and resume, or a restart of the agent starts it afresh.
type readingTrigger struct {
	sensor, value string // value "": the sensor's first (primary) value
	rule          readingRule
	st            ruleState // guarded by the scheduler's mu
}

// Next implements Trigger: a reading trigger has no fire times.
func (*readingTrigger) Next(prev, now time.Time) (time.Time, bool) { return time.Time{}, false }

// maxReadingSpan is the longest `for` or `cooldown` a reading trigger takes.
const maxReadingSpan = 7 * 24 * time.Hour

// finiteNumber parses a number kept as written; field names it in errors.
func finiteNumber(field, v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, FieldError(field, "%q: want a finite number", v)
	}
	return f, nil
}

// readingSpan parses the for or cooldown field.
func readingSpan(field, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxReadingSpan {
		return 0, FieldError("trigger."+field, "%q: want a duration from 0 to 168h, such as \"90s\" or \"5m\"", v)
	}
	return d, nil
}

func compileReading(s TriggerSpec, _ Env, _ *time.Location) (Trigger, error) {
	if s.Sensor == "" {
		return nil, FieldError("trigger.sensor", "required: the name of the sensor whose readings fire the job")
	}
	t := &readingTrigger{sensor: s.Sensor, value: s.Value}
	r := &t.rule
	n := 0
	for _, set := range []bool{s.Above != "" || s.Below != "", s.Change != "", s.Edge != "", s.Level != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, FieldError("trigger", "a reading trigger takes one of above/below, change, edge or level (%d given)", n)
	}
	var err error
	switch {
	case s.Change != "":
		r.mode = modeChange
		if r.delta, err = finiteNumber("trigger.change", s.Change); err != nil {
			return nil, err
		}
		if r.delta < 0 {
			return nil, FieldError("trigger.change", "%s: want a change of 0 or more", s.Change)
		}
	case s.Edge != "":
		r.mode = modeEdge
		switch s.Edge {
		case "rising":
			r.rising = true
		case "falling":
			r.falling = true
		case "both":
			r.rising, r.falling = true, true
		default:
			return nil, FieldError("trigger.edge", "%q: want rising, falling or both", s.Edge)
		}
	case s.Level != "":
		r.mode = modeLevel
		switch s.Level {
		case "high":
			r.high = true
		case "low":
		default:
			return nil, FieldError("trigger.level", "%q: want high or low", s.Level)
		}
	default:
		r.mode = modeRange
		if s.Above != "" {
			if r.above, err = finiteNumber("trigger.above", s.Above); err != nil {
				return nil, err
			}
			r.hasAbove = true
		}
		if s.Below != "" {
			if r.below, err = finiteNumber("trigger.below", s.Below); err != nil {
				return nil, err
			}
			r.hasBelow = true
		}
		if r.hasAbove && r.hasBelow && r.above >= r.below {
			return nil, FieldError("trigger.below", "%s is not above %s: with both, the job fires inside (above, below)", s.Below, s.Above)
		}
	}
	if s.Hysteresis != "" {
		if r.mode != modeRange {
			return nil, FieldError("trigger.hysteresis", "only with above or below")
		}
		if r.hysteresis, err = finiteNumber("trigger.hysteresis", s.Hysteresis); err != nil {
			return nil, err
		}
		if r.hysteresis < 0 {
			return nil, FieldError("trigger.hysteresis", "%s: want 0 or more", s.Hysteresis)
		}
	}
	if s.For != "" && (r.mode == modeChange || r.mode == modeEdge) {
		return nil, FieldError("trigger.for", "only with above, below or level: a change or an edge is a moment")
	}
	if r.hold, err = readingSpan("for", s.For); err != nil {
		return nil, err
	}
	if r.cooldown, err = readingSpan("cooldown", s.Cooldown); err != nil {
		return nil, err
	}
	return t, nil
}

// ReadingSensor returns the sensor and value a reading trigger watches
// (value "": the sensor's primary value), and false for other types.
func (s TriggerSpec) ReadingSensor() (sensor, value string, ok bool) {
	if s.Type != TriggerReading {
		return "", "", false
	}
	return s.Sensor, s.Value, true
}
