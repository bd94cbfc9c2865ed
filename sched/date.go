package sched

import "time"

// dateTrigger fires once, at its run date.
type dateTrigger struct {
	at time.Time
}

func compileDate(s TriggerSpec, _ Env, zone *time.Location) (Trigger, error) {
	if s.RunDate == "" {
		return nil, FieldError("trigger.run_date", "required for a date trigger")
	}
	at, err := parseSpecTime("run_date", s.RunDate, zone)
	if err != nil {
		return nil, err
	}
	return dateTrigger{at: at}, nil
}

// Next returns the run date until the trigger has fired, even when the run
// date is past: the scheduler's misfire rules decide what happens then.
func (d dateTrigger) Next(prev, now time.Time) (time.Time, bool) {
	if !prev.IsZero() {
		return time.Time{}, false
	}
	return d.at, true
}
