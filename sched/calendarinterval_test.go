package sched_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// APScheduler 3.11's own cases for CalendarIntervalTrigger
// (tests/triggers/test_calendarinterval.py at tag 3.11.2 of
// agronholm/apscheduler; its timezone fixture is Europe/Berlin), as
// first-next or next-after-prev pairs. APScheduler's "now" is the test's
// wall clock, so its start dates are past; here now is the start date's
// midnight, which asks the same question ("the first fire time from the
// start"). One case differs by our DST policy, marked.
func TestCalendarIntervalAPScheduler(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	tests := []struct {
		name      string
		doc       string
		prev, now string
		want      string // "" = no fire
	}{
		// test_end_date: start = end = 2020-12-31: one fire, then none.
		{"end_date first", `{"type":"calendarinterval","days":1,"start_date":"2020-12-31","end_date":"2020-12-31"}`,
			"", "2020-12-31T00:00:00+01:00", "2020-12-31T00:00:00+01:00"},
		{"end_date then none", `{"type":"calendarinterval","days":1,"start_date":"2020-12-31","end_date":"2020-12-31"}`,
			"2020-12-31T00:00:00+01:00", "2020-12-31T00:00:00+01:00", ""},
		// test_missing_time: 02:30 does not exist on 2016-03-27 in Berlin.
		// APScheduler skips the day (2016-03-28 02:30); our policy fires at
		// the shifted instant, 03:30 CEST the same day (docs/triggers.md).
		{"missing_time (DST policy: shifted, not skipped)", `{"type":"calendarinterval","days":1,"hour":2,"minute":30,"start_date":"2016-03-27"}`,
			"", "2016-03-27T00:00:00+01:00", "2016-03-27T03:30:00+02:00"},
		{"missing_time, the day after is as APScheduler", `{"type":"calendarinterval","days":1,"hour":2,"minute":30,"start_date":"2016-03-27"}`,
			"2016-03-27T03:30:00+02:00", "2016-03-27T03:30:00+02:00", "2016-03-28T02:30:00+02:00"},
		// test_repeated_time: 02:30 twice on 2016-10-30: the first (CEST).
		{"repeated_time", `{"type":"calendarinterval","days":2,"hour":2,"minute":30,"start_date":"2016-10-30"}`,
			"", "2016-10-30T00:00:00+02:00", "2016-10-30T02:30:00+02:00"},
		// test_nonexistent_days: monthly from 03-31 skips April.
		{"nonexistent_days first", `{"type":"calendarinterval","months":1,"start_date":"2016-03-31"}`,
			"", "2016-03-31T00:00:00+02:00", "2016-03-31T00:00:00+02:00"},
		{"nonexistent_days next", `{"type":"calendarinterval","months":1,"start_date":"2016-03-31"}`,
			"2016-03-31T00:00:00+02:00", "2016-03-31T00:00:00+02:00", "2016-05-31T00:00:00+02:00"},
		// test_utc_timezone
		{"utc_timezone", `{"type":"calendarinterval","days":1,"hour":1,"start_date":"2016-03-31","timezone":"UTC"}`,
			"", "2016-03-31T00:00:00Z", "2016-03-31T01:00:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkNext(t, tc.doc, berlin, tc.prev, tc.now, tc.want)
		})
	}
}

// checkNext compiles doc and compares Next(prev, now) with want.
func checkNext(t *testing.T, doc string, loc *time.Location, prev, now, want string) {
	t.Helper()
	var spec sched.TriggerSpec
	if err := json.Unmarshal([]byte(doc), &spec); err != nil {
		t.Fatal(err)
	}
	tr, err := spec.Compile(loc)
	if err != nil {
		t.Fatal(err)
	}
	var p time.Time
	if prev != "" {
		p = rfc(t, prev)
	}
	got, ok := tr.Next(p, rfc(t, now))
	switch {
	case want == "" && ok:
		t.Errorf("%s: Next(%s, %s) = %s, want none", doc, prev, now, got.Format(time.RFC3339))
	case want != "" && !ok:
		t.Errorf("%s: Next(%s, %s) = none, want %s", doc, prev, now, want)
	case want != "" && !got.Equal(rfc(t, want)):
		t.Errorf("%s: Next(%s, %s) = %s, want %s", doc, prev, now, got.Format(time.RFC3339), want)
	case want != "" && got.Format(time.RFC3339) != want:
		t.Errorf("%s: Next = %s: right instant, wrong zone (want %s)", doc, got.Format(time.RFC3339), want)
	}
}

func TestCalendarIntervalNext(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	tests := []struct {
		name      string
		doc       string
		prev, now string
		want      string
	}{
		{"today, time not yet passed", `{"type":"calendarinterval","days":1,"hour":6,"start_date":"2026-01-01"}`,
			"", "2026-06-10T05:00:00+02:00", "2026-06-10T06:00:00+02:00"},
		{"today, time passed: tomorrow", `{"type":"calendarinterval","days":1,"hour":6,"start_date":"2026-01-01"}`,
			"", "2026-06-10T06:00:01+02:00", "2026-06-11T06:00:00+02:00"},
		{"at the time exactly: it", `{"type":"calendarinterval","days":3,"hour":6,"start_date":"2026-06-01"}`,
			"", "2026-06-10T06:00:00+02:00", "2026-06-10T06:00:00+02:00"},
		{"every 3 days on the grid from start", `{"type":"calendarinterval","days":3,"hour":6,"start_date":"2026-06-01"}`,
			"", "2026-06-08T07:00:00+02:00", "2026-06-10T06:00:00+02:00"},
		{"weeks", `{"type":"calendarinterval","weeks":2,"hour":6,"start_date":"2026-06-01"}`,
			"", "2026-06-02T00:00:00+02:00", "2026-06-15T06:00:00+02:00"},
		{"monthly on the 31st from far ahead", `{"type":"calendarinterval","months":1,"hour":8,"start_date":"2016-01-31"}`,
			"", "2026-04-05T00:00:00+02:00", "2026-05-31T08:00:00+02:00"},
		{"quarterly", `{"type":"calendarinterval","months":3,"start_date":"2026-01-15"}`,
			"", "2026-05-01T00:00:00+02:00", "2026-07-15T00:00:00+02:00"},
		{"leap day yearly skips to the next leap year", `{"type":"calendarinterval","years":1,"start_date":"2024-02-29"}`,
			"2024-02-29T00:00:00+01:00", "2024-02-29T00:00:00+01:00", "2028-02-29T00:00:00+01:00"},
		{"leap day yearly from now", `{"type":"calendarinterval","years":1,"start_date":"2024-02-29"}`,
			"", "2025-01-01T00:00:00+01:00", "2028-02-29T00:00:00+01:00"},
		{"months and days: the day drifts as in APScheduler", `{"type":"calendarinterval","months":1,"days":1,"start_date":"2026-01-31"}`,
			"2026-01-31T00:00:00+01:00", "2026-01-31T00:00:00+01:00", "2026-04-01T00:00:00+02:00"},
		{"months and days from now", `{"type":"calendarinterval","months":1,"days":1,"start_date":"2026-01-31"}`,
			"", "2026-04-02T00:00:00+02:00", "2026-05-02T00:00:00+02:00"},
		{"before start: start", `{"type":"calendarinterval","days":1,"second":5,"start_date":"2027-01-01"}`,
			"", "2026-06-01T00:00:00+02:00", "2027-01-01T00:00:05+01:00"},
		{"repeated time every day: first pass", `{"type":"calendarinterval","days":1,"hour":2,"minute":30,"start_date":"2026-10-01"}`,
			"2026-10-24T02:30:00+02:00", "2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00"},
		{"the day after an overlap", `{"type":"calendarinterval","days":1,"hour":2,"minute":30,"start_date":"2026-10-01"}`,
			"2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"},
		{"end_date inclusive by date", `{"type":"calendarinterval","days":1,"hour":23,"start_date":"2026-01-01","end_date":"2026-01-03"}`,
			"2026-01-02T23:00:00+01:00", "2026-01-02T23:00:00+01:00", "2026-01-03T23:00:00+01:00"},
		{"past end_date", `{"type":"calendarinterval","days":1,"hour":23,"start_date":"2026-01-01","end_date":"2026-01-03"}`,
			"2026-01-03T23:00:00+01:00", "2026-01-03T23:00:00+01:00", ""},
		{"never after 9999", `{"type":"calendarinterval","years":5000,"start_date":"5000-01-01"}`,
			"5000-01-01T00:00:00+01:00", "5000-01-01T00:00:00+01:00", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkNext(t, tc.doc, berlin, tc.prev, tc.now, tc.want)
		})
	}
}

// TestCalendarIntervalFirstMatchesWalk checks the closed forms of the first
// fire time against walking the schedule from its start.
func TestCalendarIntervalFirstMatchesWalk(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	docs := []string{
		`{"type":"calendarinterval","days":1,"hour":2,"minute":30,"start_date":"2026-01-01"}`,
		`{"type":"calendarinterval","days":10,"hour":23,"start_date":"2026-01-05"}`,
		`{"type":"calendarinterval","months":1,"start_date":"2026-01-31"}`,
		`{"type":"calendarinterval","months":5,"hour":12,"start_date":"2025-08-30"}`,
		`{"type":"calendarinterval","years":1,"months":1,"weeks":1,"start_date":"2025-12-31"}`,
	}
	for _, doc := range docs {
		var spec sched.TriggerSpec
		if err := json.Unmarshal([]byte(doc), &spec); err != nil {
			t.Fatal(err)
		}
		tr, err := spec.Compile(berlin)
		if err != nil {
			t.Fatal(err)
		}
		// The walk: every fire time from the start to 2029.
		var walk []time.Time
		prev := time.Time{}
		for {
			n, ok := tr.Next(prev, time.Date(2025, 1, 1, 0, 0, 0, 0, berlin))
			if !ok || n.Year() >= 2029 {
				break
			}
			walk = append(walk, n)
			prev = n
		}
		if len(walk) < 3 {
			t.Fatalf("%s: only %d fire times", doc, len(walk))
		}
		// From any instant, the first fire time is the first of the walk
		// at or after it.
		for now := time.Date(2026, 1, 1, 0, 0, 0, 0, berlin); now.Year() < 2028; now = now.Add(7*time.Hour + 13*time.Minute) {
			want := time.Time{}
			for _, w := range walk {
				if !w.Before(now) {
					want = w
					break
				}
			}
			got, ok := tr.Next(time.Time{}, now)
			if !ok || !got.Equal(want) {
				t.Fatalf("%s: Next(none, %s) = %s %v, want %s", doc, now, got, ok, want)
			}
		}
	}
}

func TestCalendarIntervalErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"type":"calendarinterval"}`, "trigger: the interval is zero"},
		{`{"type":"calendarinterval","days":1.5}`, "trigger.days: 1.5: must be a whole number of days"},
		{`{"type":"calendarinterval","months":-1}`, "trigger.months: -1: must be a whole number"},
		{`{"type":"calendarinterval","days":1,"hour":24}`, `trigger.hour: "24": must be a whole number from 0 to 23`},
		{`{"type":"calendarinterval","days":1,"minute":"*/5"}`, `trigger.minute: "*/5": must be a whole number from 0 to 59`},
		{`{"type":"calendarinterval","days":1,"hours":1}`, "trigger.hours: not a field of a calendarinterval trigger"},
		{`{"type":"calendarinterval","days":1,"start_date":"2016-03-04","end_date":"2016-03-03"}`, "trigger.end_date: "},
		{`{"type":"calendarinterval","years":20000}`, "trigger.years: 20000 years is too long"},
	}
	for _, tc := range tests {
		var spec sched.TriggerSpec
		err := json.Unmarshal([]byte(tc.doc), &spec)
		if err == nil {
			_, err = spec.Compile(time.UTC)
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.doc, err, tc.want)
		}
	}
}

// A calendarinterval added without start_date gets the day it was added
// (in its zone), and its first run is the first at or after the add; the
// config file's job, written without one, stays the same job.
func TestCalendarIntervalAddedWithoutStart(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start() // t0: 2026-11-21 09:00 UTC
	doc := `{"id":"c","trigger":{"type":"calendarinterval","days":2,"hour":10,"timezone":"Europe/Berlin"},"action":{"type":"test"}}`
	j := h.add(doc, sched.AddOptions{OpOptions: sched.OpOptions{Source: sched.SourceConfig}})
	if j.Trigger.StartDate != "2026-11-21" {
		t.Errorf("start_date %q, want the day of the add", j.Trigger.StartDate)
	}
	if want := "2026-11-21T10:00:00+01:00"; j.NextRunTime == nil || j.NextRunTime.Format(time.RFC3339) != want {
		t.Errorf("next run %v, want %s", j.NextRunTime, want)
	}
	h.clock.Advance(50 * time.Hour)
	if skipped, err := h.s.SyncConfig(context.Background(), []sched.Patch{patch(t, doc)}); err != nil || len(skipped) != 0 {
		t.Fatal(skipped, err)
	}
	if got, _ := h.s.Get("c"); got.Trigger.StartDate != "2026-11-21" || got.Version != j.Version {
		t.Errorf("after the sync: start_date %q version %d, want the same job", got.Trigger.StartDate, got.Version)
	}
}
