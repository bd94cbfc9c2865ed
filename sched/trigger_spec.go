package sched

import "time"

// Compile validates the spec and returns its Trigger. Errors are bad_request
// *Errors naming the field ("trigger.hour") and the bad value. loc is the
// zone used when the spec has no timezone.
func (s TriggerSpec) Compile(loc *time.Location) (Trigger, error) { return nil, errNotImplemented }

// Preview returns up to count fire times as `agent next` prints them: the
// first at or after from (a date trigger's run_date even when earlier), each
// next one after the previous; no jitter; fewer when the trigger ends.
func Preview(s TriggerSpec, loc *time.Location, from time.Time, count int) ([]time.Time, error) {
	return nil, errNotImplemented
}
