package main

import (
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// TestJobState: the STATE column of `edgecron jobs list`. A boot job that
// ran in this boot has no next run but is not over: it runs again at the
// next boot.
func TestJobState(t *testing.T) {
	next := time.Date(2026, 12, 4, 19, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		job  sched.Job
		want string
	}{
		{"cron with a next run", sched.Job{Trigger: sched.TriggerSpec{Type: "cron"}, NextRunTime: &next}, "scheduled"},
		{"date that ran", sched.Job{Trigger: sched.TriggerSpec{Type: "date"}}, "ended"},
		{"paused", sched.Job{Trigger: sched.TriggerSpec{Type: "cron"}, Paused: true}, "paused"},
		{"reading", sched.Job{Trigger: sched.TriggerSpec{Type: sched.TriggerReading}}, "on readings"},
		{"boot, due in this boot", sched.Job{Trigger: sched.TriggerSpec{Type: sched.TriggerBoot}, NextRunTime: &next}, "scheduled"},
		{"boot, ran in this boot", sched.Job{Trigger: sched.TriggerSpec{Type: sched.TriggerBoot}}, "next boot"},
		{"boot, paused", sched.Job{Trigger: sched.TriggerSpec{Type: sched.TriggerBoot}, Paused: true}, "paused"},
		{"invalid", sched.Job{Trigger: sched.TriggerSpec{Type: "cron"}, LastResult: "invalid: no sensor"}, "invalid: no sensor"},
	}
	for _, tt := range tests {
		if got := jobState(tt.job); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
