package sched

import (
	"math"
	"time"
)

// Compile is CompileEnv with loc as the default zone and nothing else
// known of the machine (no site, no boot).
func (s TriggerSpec) Compile(loc *time.Location) (Trigger, error) {
	return s.CompileEnv(Env{Location: loc})
}

// CompileEnv validates the spec and returns its Trigger. Errors are
// bad_request *Errors naming the field ("trigger.hour") and the bad value.
// env gives the zone used when the spec has no timezone, the site of solar
// triggers and the boot of boot triggers.
func (s TriggerSpec) CompileEnv(env Env) (Trigger, error) { return compileEnv(&s, env) }

// compileEnv is CompileEnv on a spec the caller holds: the field checks
// keep a pointer to it, so CompileEnv's copy goes to the heap, and a spec
// already there (a loaded job's) need not be copied.
func compileEnv(s *TriggerSpec, env Env) (Trigger, error) {
	i := kindIndex(s.Type)
	if i < 0 {
		if s.Type == "" {
			return nil, FieldError("trigger.type", "required: %s", typeList())
		}
		return nil, FieldError("trigger.type", "unknown trigger type %q: want %s", s.Type, typeList())
	}
	k, bit := &triggerKinds[i], typeMask(1)<<i
	for i := range specFields {
		f := &specFields[i]
		if f.types&bit == 0 && f.isSet(s) {
			return nil, FieldError("trigger."+f.name, "not a field of %s trigger", article(s.Type))
		}
	}
	zone, err := s.Location(env.Location)
	if err != nil {
		return nil, err
	}
	if k.jitter {
		if err := checkJitter(s.Jitter); err != nil {
			return nil, err
		}
	}
	return k.compile(*s, env, zone)
}

func checkJitter(j float64) error {
	if math.IsNaN(j) || math.IsInf(j, 0) || j < 0 {
		return FieldError("trigger.jitter", "%v: must be a number of seconds, 0 or more", j)
	}
	if j > maxSeconds {
		return FieldError("trigger.jitter", "%v seconds is too long", j)
	}
	return nil
}

// maxSeconds is the longest span a time.Duration holds, in seconds.
const maxSeconds = float64(math.MaxInt64 / int64(time.Second))

// JitterDuration returns the spec's jitter as a Duration: the scheduler
// delays each run by a random amount in [0, jitter). Invalid values (which
// Compile refuses) give 0.
func (s TriggerSpec) JitterDuration() time.Duration {
	if checkJitter(s.Jitter) != nil {
		return 0
	}
	return time.Duration(math.Round(s.Jitter * float64(time.Second)))
}

// parseSpecTime parses a start_date, end_date or run_date in zone.
func parseSpecTime(field, v string, zone *time.Location) (time.Time, error) {
	t, err := ParseTime(v, zone)
	if err != nil {
		return time.Time{}, &Error{Code: CodeBadRequest, Field: "trigger." + field, Message: err.Error(), Err: err}
	}
	return t, nil
}

// parseBounds parses start_date and end_date (either may be empty: zero
// Times) and checks their order.
func parseBounds(s TriggerSpec, zone *time.Location) (start, end time.Time, err error) {
	if s.StartDate != "" {
		if start, err = parseSpecTime("start_date", s.StartDate, zone); err != nil {
			return start, end, err
		}
	}
	if s.EndDate != "" {
		if end, err = parseSpecTime("end_date", s.EndDate, zone); err != nil {
			return start, end, err
		}
		if !start.IsZero() && end.Before(start) {
			return start, end, FieldError("trigger.end_date", "%s is before start_date %s",
				end.Format(time.RFC3339Nano), start.Format(time.RFC3339Nano))
		}
	}
	return start, end, nil
}

// PreviewMax is the largest count Preview accepts.
const PreviewMax = 10000

// Preview returns up to count fire times as `edgecron next` prints them:
// the first at or after from (a date trigger's run_date even when earlier),
// each next one after the previous; no jitter; fewer when the trigger ends.
// A trigger whose search gives up (an and whose members never agree) is an
// error naming the trigger.
func Preview(s TriggerSpec, env Env, from time.Time, count int) ([]time.Time, error) {
	if count < 0 || count > PreviewMax {
		return nil, FieldError("count", "%d out of range 0-%d", count, PreviewMax)
	}
	tr, err := s.CompileEnv(env)
	if err != nil {
		return nil, err
	}
	out := make([]time.Time, 0, count)
	var prev time.Time
	for len(out) < count {
		now := from
		if !prev.IsZero() {
			now = prev
		}
		next, ok, err := nextOf(tr, prev, now)
		if err != nil {
			return out, err
		}
		if !ok {
			break
		}
		out = append(out, next)
		prev = next
	}
	return out, nil
}

// FormatTime writes a fire time as previews and job documents show it:
// RFC 3339, with the fraction of a second only when there is one.
func FormatTime(t time.Time) string { return string(appendTime(nil, t)) }

// appendTime appends t as FormatTime writes it.
func appendTime(b []byte, t time.Time) []byte { return t.AppendFormat(b, time.RFC3339Nano) }
