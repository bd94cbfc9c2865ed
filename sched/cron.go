package sched

import "time"

func compileCron(s TriggerSpec, zone *time.Location) (Trigger, error) {
	return nil, FieldError("trigger.type", "cron triggers are not implemented yet")
}
