package sched_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// What `edgecron next` prints for a weekday-morning job.
func ExamplePreview() {
	var spec sched.TriggerSpec
	doc := `{"type":"cron","day_of_week":"mon-fri","hour":6,"minute":"30","timezone":"Europe/Berlin"}`
	if err := json.Unmarshal([]byte(doc), &spec); err != nil {
		fmt.Println(err)
		return
	}
	from := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) // a Friday
	times, err := sched.Preview(spec, sched.Env{Location: time.UTC}, from, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range times {
		fmt.Println(t.Format(time.RFC3339))
	}
	// Output:
	// 2026-11-23T06:30:00+01:00
	// 2026-11-24T06:30:00+01:00
	// 2026-11-25T06:30:00+01:00
}

// A crontab line keeps its crontab meaning: 0 is Sunday, and a restricted
// day of month is ORed with a restricted day of week.
func ExampleTriggerSpec_Compile() {
	spec := sched.TriggerSpec{Type: "cron", Expr: "0 12 13 * 0"}
	tr, err := spec.Compile(time.UTC)
	if err != nil {
		fmt.Println(err)
		return
	}
	t := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var prev time.Time
	for i := 0; i < 4; i++ {
		t, _ = tr.Next(prev, t)
		prev = t
		fmt.Println(t.Format("Mon 2006-01-02 15:04"))
	}

	_, err = sched.TriggerSpec{Type: "cron", Hour: "6", Minute: "*/0"}.Compile(time.UTC)
	fmt.Println(err)
	// Output:
	// Sun 2026-10-04 12:00
	// Sun 2026-10-11 12:00
	// Tue 2026-10-13 12:00
	// Sun 2026-10-18 12:00
	// trigger.minute: "*/0": step 0: the step must be 1 or more
}

// Wall time without an offset is read in the zone; a time in a DST gap
// moves forward by the gap.
func ExampleParseTime() {
	berlin, _ := sched.LoadLocation("Europe/Berlin")
	for _, s := range []string{"2026-11-23", "2026-03-29 02:30:00", "2026-06-01T10:00:00Z"} {
		t, err := sched.ParseTime(s, berlin)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(t.Format(time.RFC3339))
	}
	// Output:
	// 2026-11-23T00:00:00+01:00
	// 2026-03-29T03:30:00+02:00
	// 2026-06-01T12:00:00+02:00
}
