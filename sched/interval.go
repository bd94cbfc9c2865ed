package sched

import (
	"math"
	"math/big"
	"time"
)

// intervalTrigger fires on the grid start + k*every (k >= 0) in elapsed
// time, up to end inclusive. Without a start (the scheduler stores one when
// a job is added, so only a bare preview lacks it) it starts from the first
// time it is asked, as APScheduler: first one interval after now, then one
// interval after each previous fire time.
type intervalTrigger struct {
	every time.Duration
	start time.Time // zero: none
	// end is end_date in unix microseconds, APScheduler's resolution (a
	// time.Time would cost every interval job 16 bytes more); noEnd: none.
	end int64
	loc *time.Location
}

const noEnd = math.MaxInt64

func compileInterval(s TriggerSpec, _ Env, zone *time.Location) (Trigger, error) {
	every, err := intervalSpan(s)
	if err != nil {
		return nil, err
	}
	start, end, err := parseBounds(s, zone)
	if err != nil {
		return nil, err
	}
	t := &intervalTrigger{every: every, start: start, end: noEnd, loc: zone}
	if !end.IsZero() {
		t.end = end.UnixMicro()
	}
	return t, nil
}

// intervalSpan returns the length of an interval trigger's period, at
// APScheduler's microsecond resolution.
func intervalSpan(s TriggerSpec) (time.Duration, error) {
	amounts := []struct {
		field string
		v     float64
		unit  float64 // seconds
	}{
		{"weeks", s.Weeks, 7 * 86400},
		{"days", s.Days, 86400},
		{"hours", s.Hours, 3600},
		{"minutes", s.Minutes, 60},
		{"seconds", s.Seconds, 1},
	}
	total := 0.0 // seconds
	for _, a := range amounts {
		if math.IsNaN(a.v) || math.IsInf(a.v, 0) || a.v < 0 {
			return 0, FieldError("trigger."+a.field, "%v: must be a number of %s, 0 or more", a.v, a.field)
		}
		total += a.v * a.unit
		if total > maxSeconds {
			return 0, FieldError("trigger."+a.field, "%v %s makes the interval too long (at most about 292 years)", a.v, a.field)
		}
	}
	// Microsecond resolution, as APScheduler's timedelta.
	us := math.Round(total * 1e6)
	if us < 1 {
		return 0, FieldError("trigger", "the interval is zero: give weeks, days, hours, minutes or seconds (at least 1µs in all)")
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Next returns, without prev, the first grid point at or after now (start
// when now is earlier); with prev, the first grid point after prev.
func (t *intervalTrigger) Next(prev, now time.Time) (time.Time, bool) {
	var next time.Time
	switch {
	case t.start.IsZero() && prev.IsZero():
		next = now.Round(0).Add(t.every)
	case t.start.IsZero():
		next = gridAfter(prev, prev, t.every, true)
	case prev.IsZero():
		next = gridAfter(t.start, now, t.every, false)
	default:
		next = gridAfter(t.start, prev, t.every, true)
	}
	if t.end != noEnd && next.UnixMicro() > t.end {
		return time.Time{}, false
	}
	return next.In(t.loc), true
}

// gridAfter returns the first point start + k*every (k >= 0) at or after
// at, or strictly after it when strict.
func gridAfter(start, at time.Time, every time.Duration, strict bool) time.Time {
	if at.Before(start) || (!strict && at.Equal(start)) {
		return start
	}
	d := at.Sub(start) // > 0, or == 0 with strict
	if d < math.MaxInt64-every {
		k := d / every
		if strict || d%every != 0 {
			k++
		}
		return start.Add(k * every)
	}
	// More than ~292 years apart: time.Duration saturates; use big numbers.
	ns := new(big.Int).SetInt64(at.Unix() - start.Unix())
	ns.Mul(ns, big.NewInt(int64(time.Second)))
	ns.Add(ns, big.NewInt(int64(at.Nanosecond()-start.Nanosecond())))
	ev := big.NewInt(int64(every))
	k, rem := new(big.Int).QuoRem(ns, ev, new(big.Int))
	if strict || rem.Sign() != 0 {
		k.Add(k, big.NewInt(1))
	}
	off := k.Mul(k, ev)
	sec, nsec := new(big.Int).QuoRem(off, big.NewInt(int64(time.Second)), new(big.Int))
	return time.Unix(start.Unix()+sec.Int64(), int64(start.Nanosecond())+nsec.Int64()).In(start.Location())
}
