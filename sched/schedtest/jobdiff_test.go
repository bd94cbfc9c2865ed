package schedtest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// TestJobDiffSeesEveryField keeps the conformance suite able to fail: a
// store that loses or changes any one field must be caught by JobDiff.
func TestJobDiffSeesEveryField(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	grace := 5 * time.Minute
	next := time.Date(2026, 11, 23, 6, 30, 0, 0, berlin)
	last := time.Date(2026, 11, 20, 6, 30, 0, 5, berlin)
	base := sched.Job{
		ID: "a", Name: "n", Trigger: sched.TriggerSpec{Type: "cron", Hour: "6", Timezone: "Europe/Berlin"},
		Conditions:       []sched.Condition{{Sensor: "soil", Below: "40"}, {Time: "08:00-18:00"}},
		Action:           sched.Action{Type: "read", Raw: []byte(`{"type":"read","sensor":"air"}`)},
		MisfireGraceTime: &grace, Coalesce: true, MaxInstances: 2, Paused: true, Remote: true,
		Version: 3, NextRunTime: &next, LastRunTime: &last, LastResult: "ok", Source: sched.SourceConfig,
	}
	if d := schedtest.JobDiff(base, schedtest.CopyJob(base)); d != "" {
		t.Fatalf("a copy differs: %s", d)
	}
	// The same instant in another zone, and the same action JSON written differently, are equal.
	same := schedtest.CopyJob(base)
	*same.NextRunTime = next.UTC()
	same.Action.Raw = []byte(`{ "sensor": "\u0061ir", "type": "read" }`)
	if d := schedtest.JobDiff(base, same); d != "" {
		t.Fatalf("equal jobs differ: %s", d)
	}
	zero := time.Duration(0)
	tests := []struct {
		field  string
		mutate func(j *sched.Job)
	}{
		{"ID", func(j *sched.Job) { j.ID = "b" }},
		{"Name", func(j *sched.Job) { j.Name = "" }},
		{"Trigger", func(j *sched.Job) { j.Trigger.Timezone = "" }},
		{"Trigger", func(j *sched.Job) { j.Trigger.Seconds = 0.5 }},
		{"Conditions", func(j *sched.Job) { j.Conditions = nil }},
		{"Conditions", func(j *sched.Job) { j.Conditions[0].Below = "41" }},
		{"Action.Type", func(j *sched.Job) { j.Action.Type = "exec" }},
		{"Action.Raw", func(j *sched.Job) { j.Action.Raw = []byte(`{"type":"read","sensor":"air2"}`) }},
		{"MisfireGraceTime", func(j *sched.Job) { j.MisfireGraceTime = nil }},
		{"MisfireGraceTime", func(j *sched.Job) { j.MisfireGraceTime = &zero }},
		{"Coalesce", func(j *sched.Job) { j.Coalesce = false }},
		{"MaxInstances", func(j *sched.Job) { j.MaxInstances = 1 }},
		{"Paused", func(j *sched.Job) { j.Paused = false }},
		{"Remote", func(j *sched.Job) { j.Remote = false }},
		{"Version", func(j *sched.Job) { j.Version = 4 }},
		{"NextRunTime", func(j *sched.Job) { j.NextRunTime = nil }},
		{"NextRunTime", func(j *sched.Job) { *j.NextRunTime = next.Add(time.Nanosecond) }},
		{"LastRunTime", func(j *sched.Job) { *j.LastRunTime = last.Truncate(time.Second) }},
		{"LastResult", func(j *sched.Job) { j.LastResult = "" }},
		{"Source", func(j *sched.Job) { j.Source = sched.SourceMQTT }},
	}
	for _, tc := range tests {
		j := schedtest.CopyJob(base)
		tc.mutate(&j)
		d := schedtest.JobDiff(base, j)
		if !strings.Contains(d, "\t"+tc.field+":") {
			t.Errorf("changing %s: diff %q does not name it", tc.field, d)
		}
	}
}
