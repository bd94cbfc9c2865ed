package sched

import (
	"fmt"
	"time"
)

// Limits of and/or triggers: members of one, and depth of and/or triggers
// inside each other.
const (
	MaxMembers = 16
	MaxNesting = 3
)

// andMaxRounds bounds the search of an and trigger: each round moves the
// candidate to the latest of the members' next times. Members that agree
// at all agree within a few rounds (a leap day that is a Monday: a few
// dozen); members that never do (an hour-6 and an hour-7 cron) give up
// here, in well under a millisecond, with an error. An and never contains
// another (it would be the same as one and of all their members), so the
// searches do not multiply.
const andMaxRounds = 1000

// combineTrigger is APScheduler's AndTrigger (all: the earliest time every
// member agrees on; finished when any member is) or OrTrigger (the
// earliest time of any member; finished when all are).
//
// Members are asked for their first fire time at or after a time, never
// given a previous fire time (which would be the combination's, not
// theirs): a member's times before that are not considered, so a date
// member already past, or past the combination's previous run, is
// finished. Jitter belongs to the combination, not to members.
type combineTrigger struct {
	all     bool
	members []Trigger
}

func compileAnd(s TriggerSpec, env Env, zone *time.Location) (Trigger, error) {
	return compileCombine(s, env, zone, true)
}

func compileOr(s TriggerSpec, env Env, zone *time.Location) (Trigger, error) {
	return compileCombine(s, env, zone, false)
}

func compileCombine(s TriggerSpec, env Env, zone *time.Location, all bool) (Trigger, error) {
	specs := s.Triggers.Specs()
	if len(specs) < 2 || len(specs) > MaxMembers {
		return nil, FieldError("trigger.triggers", "give 2 to %d triggers to combine, not %d", MaxMembers, len(specs))
	}
	if env.depth >= MaxNesting {
		return nil, FieldError("trigger.type", "and/or triggers nested more than %d deep", MaxNesting)
	}
	if all && env.inAnd {
		return nil, FieldError("trigger.type", "an and inside an and: list all the triggers in one and")
	}
	env.depth++
	env.inAnd = env.inAnd || all
	env.Location = zone // members without a zone take the combination's
	c := &combineTrigger{all: all, members: make([]Trigger, len(specs))}
	for i, m := range specs {
		field := fmt.Sprintf("trigger.triggers[%d]", i)
		if i := kindIndex(m.Type); i >= 0 && !triggerKinds[i].member {
			return nil, FieldError(field+".type", "%s trigger cannot be a member of %s", article(m.Type), article(s.Type))
		}
		if m.Jitter != 0 {
			return nil, FieldError(field+".jitter", "jitter belongs on the %s trigger, not on its members", s.Type)
		}
		if k := kindOf(m.Type); k.anchor != nil && m.StartDate == "" {
			return nil, FieldError(field+".start_date", "required for %s trigger inside %s: its schedule counts from it", article(m.Type), article(s.Type))
		}
		t, err := m.CompileEnv(env)
		if err != nil {
			return nil, asFieldError(field, stripTrigger(err))
		}
		c.members[i] = t
	}
	return c, nil
}

// firstFrom returns t's first fire time at or after x; ok is false when
// there is none at or after x.
func firstFrom(t Trigger, x time.Time) (time.Time, bool) {
	next, ok := t.Next(time.Time{}, x)
	if !ok || next.Before(x) {
		return time.Time{}, false
	}
	return next, true
}

// Next implements Trigger.
func (c *combineTrigger) Next(prev, now time.Time) (time.Time, bool) {
	next, ok, _ := c.nextErr(prev, now)
	return next, ok
}

func (c *combineTrigger) nextErr(prev, now time.Time) (time.Time, bool, error) {
	x := now
	if !prev.IsZero() {
		x = prev.Add(time.Nanosecond) // strictly after prev
	}
	if !c.all {
		var best time.Time
		found := false
		for _, m := range c.members {
			if t, ok := firstFrom(m, x); ok && (!found || t.Before(best)) {
				best, found = t, true
			}
		}
		return best, found, nil
	}
	from := x
	for round := 0; round < andMaxRounds; round++ {
		var lo, hi time.Time
		for i, m := range c.members {
			t, ok := firstFrom(m, x)
			if !ok {
				return time.Time{}, false, nil
			}
			if i == 0 || t.Before(lo) {
				lo = t
			}
			if i == 0 || t.After(hi) {
				hi = t
			}
		}
		if lo.Equal(hi) {
			return lo, true, nil
		}
		x = hi
	}
	return time.Time{}, false, FieldError("trigger.triggers",
		"the triggers of the and found no time they all agree on from %s to %s (%d tries): they may never agree",
		FormatTime(from), FormatTime(x), andMaxRounds)
}

// shortestInterval returns the shortest period of the interval triggers in
// s, members of and/or triggers included, and the field naming it
// ("trigger.triggers[1]"); ok is false when there is none.
func shortestInterval(s *TriggerSpec, field string) (every time.Duration, at string, ok bool) {
	if s.Type == TriggerInterval {
		if d, err := intervalSpan(*s); err == nil {
			return d, field, true
		}
		return 0, "", false
	}
	for i, m := range s.Triggers.Specs() {
		if d, f, found := shortestInterval(&m, fmt.Sprintf("%s.triggers[%d]", field, i)); found && (!ok || d < every) {
			every, at, ok = d, f, true
		}
	}
	return every, at, ok
}
