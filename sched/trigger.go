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

// CronField is the value of one cron field: JSON accepts a string or an
// integer ("*/5", "mon-fri", 6). The empty string means "not given".
type CronField string

// TriggerSpec is the trigger document a user writes (docs/triggers.md). It
// is kept as written, so a job reads back the way it was sent, except that
// an interval without start_date gets the time it was added.
type TriggerSpec struct {
	Type string // "date", "interval" or "cron"

	// date
	RunDate string

	// interval: amounts of elapsed time, in their units
	Weeks, Days, Hours, Minutes, Seconds float64

	// cron, field form
	Year, Month, Day, Week, DayOfWeek, Hour, Minute, Second CronField
	// cron, crontab form ("30 6 * * 1-5", "@daily"); not combined with fields
	Expr string

	// interval and cron
	StartDate, EndDate string
	Jitter             float64 // seconds

	// all; empty means the scheduler's zone
	Timezone string
}
