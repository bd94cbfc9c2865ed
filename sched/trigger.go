package sched

import "time"

// Trigger computes fire times. Implementations are pure: no I/O, no clock.
type Trigger interface {
	// Next returns the next fire time. prev is the previous fire time, or
	// the zero Time when the trigger has not fired yet; now is the current
	// time. ok is false when the trigger will never fire again.
	//
	// As APScheduler's get_next_fire_time: without prev, the first fire time
	// at or after now (a date trigger returns its run_date even when it is
	// past); with prev, the first fire time after prev.
	Next(prev, now time.Time) (next time.Time, ok bool)
}

// searcher is a Trigger whose search for the next time is bounded and can
// give up (an and whose members never agree): nextErr is Next that says why.
type searcher interface {
	nextErr(prev, now time.Time) (time.Time, bool, error)
}

// nextOf is t.Next, with the reason when a bounded search gave up.
func nextOf(t Trigger, prev, now time.Time) (time.Time, bool, error) {
	if s, ok := t.(searcher); ok {
		return s.nextErr(prev, now)
	}
	next, ok := t.Next(prev, now)
	return next, ok, nil
}

// CronField is the value of one cron field: JSON accepts a string or an
// integer ("*/5", "mon-fri", 6). The empty string means "not given".
type CronField string

// TriggerSpec is the trigger document a user writes (docs/triggers.md). It
// is kept as written, so a job reads back the way it was sent, except that
// an interval without start_date gets the time it was added.
type TriggerSpec struct {
	Type string // a registered type: date, interval, cron, calendarinterval, and, or, solar, boot, reading

	// date
	RunDate string

	// interval: amounts of elapsed time, in their units; calendarinterval:
	// whole calendar units (Years, Months, Weeks, Days)
	Years, Months                        float64
	Weeks, Days, Hours, Minutes, Seconds float64

	// cron, field form
	Year, Month, Day, Week, DayOfWeek, Hour, Minute, Second CronField
	// cron, crontab form ("30 6 * * 1-5", "@daily"); not combined with fields
	Expr string

	// and, or: the member triggers
	Triggers Members

	// solar: the event, the twilight of dawn and dusk, an offset from the
	// event (a duration: "-30m"), and a site of its own (JSON numbers as
	// written; empty: the Env's Site). DayOfWeek limits the days.
	Event, Twilight, Offset string
	Latitude, Longitude     string

	// boot: how long after the boot (a duration: "2m"), and the boot id of
	// the boot it last fired in, which the scheduler writes
	Delay, LastBootID string

	// reading: the sensor and its value ("": the primary one), what fires
	// (numbers kept as written), how long it must hold and the least time
	// between two fires (durations: "5m"). docs/automations.md.
	Sensor, Value                    string
	Above, Below, Hysteresis, Change string
	Edge, Level, For, Cooldown       string

	// interval, cron, calendarinterval
	StartDate, EndDate string
	Jitter             float64 // seconds; also solar, and, or

	// all; empty means the scheduler's zone
	Timezone string
}

// Members are the member triggers of an and/or trigger. They are held
// packed, so a TriggerSpec stays comparable with ==.
type Members struct{ p string }

// NewMembers returns the members specs.
func NewMembers(specs ...TriggerSpec) Members {
	if len(specs) == 0 {
		return Members{}
	}
	var b []byte
	for _, s := range specs {
		p := packSpec(s)
		b = appendUvarintString(b, p)
	}
	return Members{string(b)}
}

// Len returns the number of members.
func (m Members) Len() int {
	n := 0
	for p := m.p; p != ""; n++ {
		l, k := uvarint(p)
		p = p[k+int(l):]
	}
	return n
}

// Specs returns the member specs, in order.
func (m Members) Specs() []TriggerSpec {
	var out []TriggerSpec
	for p := m.p; p != ""; {
		l, k := uvarint(p)
		out = append(out, unpackSpec(p[k:k+int(l)]))
		p = p[k+int(l):]
	}
	return out
}
