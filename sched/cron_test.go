package sched_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

type cronCase struct {
	name  string
	spec  sched.TriggerSpec
	zone  string
	from  string // RFC 3339
	count int
	want  string // fire times, RFC 3339 in the zone, space separated
}

func cronSpec(f func(*sched.TriggerSpec)) sched.TriggerSpec {
	s := sched.TriggerSpec{Type: "cron"}
	f(&s)
	return s
}

func runCronCases(t *testing.T, cases []cronCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			zone := tc.zone
			if zone == "" {
				zone = "UTC"
			}
			loc := mustLoc(t, zone)
			count := tc.count
			if count == 0 {
				count = 3
			}
			got, err := sched.Preview(tc.spec, sched.Env{Location: loc}, rfc(t, tc.from), count)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, g := range got {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(g.Format(time.RFC3339))
				if tc.spec.Timezone == "" && g.Location() != loc {
					t.Errorf("fire time %s is not in %s", g, loc)
				}
			}
			if b.String() != tc.want {
				t.Errorf("%s from %s:\n got %s\nwant %s", zone, tc.from, b.String(), tc.want)
			}
		})
	}
}

// The field form, every expression APScheduler accepts (2026-01-01 is a
// Thursday).
func TestCronFieldForm(t *testing.T) {
	const jan1 = "2026-01-01T00:00:00Z"
	runCronCases(t, []cronCase{
		{"no fields: every second", cronSpec(func(s *sched.TriggerSpec) {}), "", jan1, 3,
			"2026-01-01T00:00:00Z 2026-01-01T00:00:01Z 2026-01-01T00:00:02Z"},
		{"*/n seconds", cronSpec(func(s *sched.TriggerSpec) { s.Second = "*/15" }), "", jan1, 3,
			"2026-01-01T00:00:00Z 2026-01-01T00:00:15Z 2026-01-01T00:00:30Z"},
		{"minute given: second 0, hour *", cronSpec(func(s *sched.TriggerSpec) { s.Minute = "5" }), "", jan1, 3,
			"2026-01-01T00:05:00Z 2026-01-01T01:05:00Z 2026-01-01T02:05:00Z"},
		{"daily", cronSpec(func(s *sched.TriggerSpec) { s.Hour = "6"; s.Minute = "30" }), "", jan1, 3,
			"2026-01-01T06:30:00Z 2026-01-02T06:30:00Z 2026-01-03T06:30:00Z"},
		{"weekdays", cronSpec(func(s *sched.TriggerSpec) { s.DayOfWeek = "mon-fri"; s.Hour = "6"; s.Minute = "30" }), "", jan1, 3,
			"2026-01-01T06:30:00Z 2026-01-02T06:30:00Z 2026-01-05T06:30:00Z"},
		{"step after weekday names is honoured", cronSpec(func(s *sched.TriggerSpec) { s.DayOfWeek = "mon-fri/2" }), "", jan1, 3,
			"2026-01-02T00:00:00Z 2026-01-05T00:00:00Z 2026-01-07T00:00:00Z"},
		{"step after month names is honoured", cronSpec(func(s *sched.TriggerSpec) { s.Month = "jan-dec/3" }), "", jan1, 3,
			"2026-01-01T00:00:00Z 2026-04-01T00:00:00Z 2026-07-01T00:00:00Z"},
		{"name with a step runs to the end", cronSpec(func(s *sched.TriggerSpec) { s.Month = "feb/5" }), "", jan1, 4,
			"2026-02-01T00:00:00Z 2026-07-01T00:00:00Z 2026-12-01T00:00:00Z 2027-02-01T00:00:00Z"},
		{"names in any case, lists", cronSpec(func(s *sched.TriggerSpec) { s.DayOfWeek = "SAT, Sun" }), "", jan1, 3,
			"2026-01-03T00:00:00Z 2026-01-04T00:00:00Z 2026-01-10T00:00:00Z"},
		{"weekday numbers: 0 is Monday, 6 Sunday", cronSpec(func(s *sched.TriggerSpec) { s.DayOfWeek = "6" }), "", jan1, 3,
			"2026-01-04T00:00:00Z 2026-01-11T00:00:00Z 2026-01-18T00:00:00Z"},
		{"weekday range with step", cronSpec(func(s *sched.TriggerSpec) { s.DayOfWeek = "0-6/3" }), "", jan1, 3,
			"2026-01-01T00:00:00Z 2026-01-04T00:00:00Z 2026-01-05T00:00:00Z"},
		{"last day of the month", cronSpec(func(s *sched.TriggerSpec) { s.Day = "last" }), "", jan1, 3,
			"2026-01-31T00:00:00Z 2026-02-28T00:00:00Z 2026-03-31T00:00:00Z"},
		{"last day of February, leap years", cronSpec(func(s *sched.TriggerSpec) { s.Month = "2"; s.Day = "last" }), "", jan1, 3,
			"2026-02-28T00:00:00Z 2027-02-28T00:00:00Z 2028-02-29T00:00:00Z"},
		{"last friday", cronSpec(func(s *sched.TriggerSpec) { s.Day = "last fri" }), "", jan1, 3,
			"2026-01-30T00:00:00Z 2026-02-27T00:00:00Z 2026-03-27T00:00:00Z"},
		{"first monday", cronSpec(func(s *sched.TriggerSpec) { s.Day = "1st mon" }), "", jan1, 3,
			"2026-01-05T00:00:00Z 2026-02-02T00:00:00Z 2026-03-02T00:00:00Z"},
		{"fifth friday, only where there is one", cronSpec(func(s *sched.TriggerSpec) { s.Day = "5th fri" }), "", jan1, 3,
			"2026-01-30T00:00:00Z 2026-05-29T00:00:00Z 2026-07-31T00:00:00Z"},
		{"2nd and 3rd", cronSpec(func(s *sched.TriggerSpec) { s.Day = "2nd tue,3rd  wed" }), "", jan1, 4,
			"2026-01-13T00:00:00Z 2026-01-21T00:00:00Z 2026-02-10T00:00:00Z 2026-02-18T00:00:00Z"},
		{"numbers and last in one list", cronSpec(func(s *sched.TriggerSpec) { s.Day = "1,15,last" }), "", jan1, 4,
			"2026-01-01T00:00:00Z 2026-01-15T00:00:00Z 2026-01-31T00:00:00Z 2026-02-01T00:00:00Z"},
		{"*/n days", cronSpec(func(s *sched.TriggerSpec) { s.Day = "*/10" }), "", jan1, 5,
			"2026-01-01T00:00:00Z 2026-01-11T00:00:00Z 2026-01-21T00:00:00Z 2026-01-31T00:00:00Z 2026-02-01T00:00:00Z"},
		{"a-b/n", cronSpec(func(s *sched.TriggerSpec) { s.Day = "10-20/5" }), "", jan1, 4,
			"2026-01-10T00:00:00Z 2026-01-15T00:00:00Z 2026-01-20T00:00:00Z 2026-02-10T00:00:00Z"},
		{"a/n runs to the month's end", cronSpec(func(s *sched.TriggerSpec) { s.Day = "25/3" }), "", jan1, 5,
			"2026-01-25T00:00:00Z 2026-01-28T00:00:00Z 2026-01-31T00:00:00Z 2026-02-25T00:00:00Z 2026-02-28T00:00:00Z"},
		{"day 31 skips short months", cronSpec(func(s *sched.TriggerSpec) { s.Day = "31" }), "", jan1, 3,
			"2026-01-31T00:00:00Z 2026-03-31T00:00:00Z 2026-05-31T00:00:00Z"},
		{"day and day_of_week are ANDed", cronSpec(func(s *sched.TriggerSpec) { s.Day = "1"; s.DayOfWeek = "mon" }), "", jan1, 3,
			"2026-06-01T00:00:00Z 2027-02-01T00:00:00Z 2027-03-01T00:00:00Z"},
		{"ISO weeks", cronSpec(func(s *sched.TriggerSpec) { s.Week = "*/2"; s.DayOfWeek = "mon" }), "", jan1, 3,
			"2026-01-12T00:00:00Z 2026-01-26T00:00:00Z 2026-02-09T00:00:00Z"},
		{"ISO week 1 across new year", cronSpec(func(s *sched.TriggerSpec) { s.Week = "1"; s.DayOfWeek = "mon" }), "", jan1, 4,
			"2027-01-04T00:00:00Z 2028-01-03T00:00:00Z 2029-01-01T00:00:00Z 2029-12-31T00:00:00Z"},
		{"ISO week 53", cronSpec(func(s *sched.TriggerSpec) { s.Week = "53"; s.DayOfWeek = "sun" }), "", jan1, 2,
			"2027-01-03T00:00:00Z 2033-01-02T00:00:00Z"},
		{"one year", cronSpec(func(s *sched.TriggerSpec) { s.Year = "2027"; s.Month = "3" }), "", jan1, 3,
			"2027-03-01T00:00:00Z"},
		{"years with a step", cronSpec(func(s *sched.TriggerSpec) { s.Year = "2026-2030/2"; s.Month = "jun"; s.Day = "15" }), "", jan1, 5,
			"2026-06-15T00:00:00Z 2028-06-15T00:00:00Z 2030-06-15T00:00:00Z"},
		{"leap day", cronSpec(func(s *sched.TriggerSpec) { s.Month = "2"; s.Day = "29"; s.Hour = "12" }), "", jan1, 3,
			"2028-02-29T12:00:00Z 2032-02-29T12:00:00Z 2036-02-29T12:00:00Z"},
		{"leap day across 2100 (not a leap year)", cronSpec(func(s *sched.TriggerSpec) { s.Month = "2"; s.Day = "29" }), "", "2096-03-01T00:00:00Z", 2,
			"2104-02-29T00:00:00Z 2108-02-29T00:00:00Z"},
		{"hour range with step", cronSpec(func(s *sched.TriggerSpec) { s.DayOfWeek = "sun"; s.Hour = "9-17/4" }), "", jan1, 4,
			"2026-01-04T09:00:00Z 2026-01-04T13:00:00Z 2026-01-04T17:00:00Z 2026-01-11T09:00:00Z"},
		{"end of day, month and year", cronSpec(func(s *sched.TriggerSpec) { s.Hour = "23"; s.Minute = "59"; s.Second = "59" }), "", "2026-12-31T23:59:59Z", 2,
			"2026-12-31T23:59:59Z 2027-01-01T23:59:59Z"},
		{"never before 1970", cronSpec(func(s *sched.TriggerSpec) { s.Month = "1" }), "", "1960-06-01T00:00:00Z", 1,
			"1970-01-01T00:00:00Z"},
		{"never after 9999", cronSpec(func(s *sched.TriggerSpec) { s.Month = "12"; s.Day = "31" }), "", "9998-12-31T00:00:01Z", 3,
			"9999-12-31T00:00:00Z"},
		{"start and end dates, end inclusive", cronSpec(func(s *sched.TriggerSpec) {
			s.Hour = "12"
			s.StartDate = "2026-01-03"
			s.EndDate = "2026-01-05 12:00:00"
		}), "", jan1, 5, "2026-01-03T12:00:00Z 2026-01-04T12:00:00Z 2026-01-05T12:00:00Z"},
		{"from after the end", cronSpec(func(s *sched.TriggerSpec) { s.Hour = "12"; s.EndDate = "2025-12-31" }), "", jan1, 5, ""},
		{"a fractional start rounds up", cronSpec(func(s *sched.TriggerSpec) { s.StartDate = "2026-01-01 00:00:00.5" }), "", jan1, 2,
			"2026-01-01T00:00:01Z 2026-01-01T00:00:02Z"},
		{"in the trigger's zone", cronSpec(func(s *sched.TriggerSpec) { s.Hour = "6"; s.Timezone = "Asia/Kolkata" }), "", jan1, 2,
			"2026-01-01T06:00:00+05:30 2026-01-02T06:00:00+05:30"},
	})
}

func TestCronCrontabForm(t *testing.T) {
	const jan1 = "2026-01-01T00:00:00Z"
	expr := func(e string) sched.TriggerSpec { return sched.TriggerSpec{Type: "cron", Expr: e} }
	runCronCases(t, []cronCase{
		{"weekdays 1-5", expr("30 6 * * 1-5"), "", jan1, 3, "2026-01-01T06:30:00Z 2026-01-02T06:30:00Z 2026-01-05T06:30:00Z"},
		{"0 is Sunday", expr("0 0 * * 0"), "", jan1, 3, "2026-01-04T00:00:00Z 2026-01-11T00:00:00Z 2026-01-18T00:00:00Z"},
		{"7 is Sunday", expr("0 0 * * 7"), "", jan1, 3, "2026-01-04T00:00:00Z 2026-01-11T00:00:00Z 2026-01-18T00:00:00Z"},
		{"names, sun ends a range", expr("0 0 * * fri-sun"), "", jan1, 3, "2026-01-02T00:00:00Z 2026-01-03T00:00:00Z 2026-01-04T00:00:00Z"},
		{"dow step in crontab numbering", expr("0 0 * * */2"), "", jan1, 3, "2026-01-01T00:00:00Z 2026-01-03T00:00:00Z 2026-01-04T00:00:00Z"},
		{"day OR weekday when both restricted", expr("0 0 13 * 5"), "", jan1, 4, "2026-01-02T00:00:00Z 2026-01-09T00:00:00Z 2026-01-13T00:00:00Z 2026-01-16T00:00:00Z"},
		{"day AND weekday when one starts with *", expr("0 0 */10 * 4"), "", jan1, 3, "2026-01-01T00:00:00Z 2026-05-21T00:00:00Z 2026-06-11T00:00:00Z"},
		{"day of month", expr("0 0 13 * *"), "", jan1, 3, "2026-01-13T00:00:00Z 2026-02-13T00:00:00Z 2026-03-13T00:00:00Z"},
		{"month names and lists", expr("0 12 * jan,JUL mon"), "", jan1, 3, "2026-01-05T12:00:00Z 2026-01-12T12:00:00Z 2026-01-19T12:00:00Z"},
		{"month names with a step", expr("0 0 1 JAN-MAR/2 *"), "", jan1, 3, "2026-01-01T00:00:00Z 2026-03-01T00:00:00Z 2027-01-01T00:00:00Z"},
		{"minute step within hours", expr("*/20 9-10 * * *"), "", jan1, 4, "2026-01-01T09:00:00Z 2026-01-01T09:20:00Z 2026-01-01T09:40:00Z 2026-01-01T10:00:00Z"},
		{"leap day", expr("0 0 29 2 *"), "", jan1, 3, "2028-02-29T00:00:00Z 2032-02-29T00:00:00Z 2036-02-29T00:00:00Z"},
		{"extra spaces", expr("  0\t0   1 1 *  "), "", jan1, 2, "2026-01-01T00:00:00Z 2027-01-01T00:00:00Z"},
		{"@hourly", expr("@hourly"), "", jan1, 3, "2026-01-01T00:00:00Z 2026-01-01T01:00:00Z 2026-01-01T02:00:00Z"},
		{"@daily", expr("@daily"), "", jan1, 3, "2026-01-01T00:00:00Z 2026-01-02T00:00:00Z 2026-01-03T00:00:00Z"},
		{"@midnight", expr("@midnight"), "", jan1, 2, "2026-01-01T00:00:00Z 2026-01-02T00:00:00Z"},
		{"@weekly", expr("@weekly"), "", jan1, 3, "2026-01-04T00:00:00Z 2026-01-11T00:00:00Z 2026-01-18T00:00:00Z"},
		{"@monthly", expr("@monthly"), "", jan1, 3, "2026-01-01T00:00:00Z 2026-02-01T00:00:00Z 2026-03-01T00:00:00Z"},
		{"@yearly", expr("@yearly"), "", jan1, 3, "2026-01-01T00:00:00Z 2027-01-01T00:00:00Z 2028-01-01T00:00:00Z"},
		{"@annually", expr("@ANNUALLY"), "", jan1, 2, "2026-01-01T00:00:00Z 2027-01-01T00:00:00Z"},
		{"with start, end and zone", sched.TriggerSpec{Type: "cron", Expr: "0 8 * * *", StartDate: "2026-01-02", EndDate: "2026-01-03 08:00:00", Timezone: "Europe/Berlin"},
			"", jan1, 5, "2026-01-02T08:00:00+01:00 2026-01-03T08:00:00+01:00"},
	})
}

// The DST policy (docs/triggers.md): no skipped day, no double fire of one
// scheduled wall time, gap times at their shifted instant, both passes of a
// repeated hour only when every hour matches, one fire per instant.
func TestCronDST(t *testing.T) {
	const (
		berlin = "Europe/Berlin"       // 2026-03-29 02:00 -> 03:00; 2026-10-25 03:00 -> 02:00
		ny     = "America/New_York"    // 2026-03-08 02:00 -> 03:00; 2026-11-01 02:00 -> 01:00
		lh     = "Australia/Lord_Howe" // 2026-10-04 02:00 -> 02:30; 2026-04-05 02:00 -> 01:30
	)
	f := cronSpec
	runCronCases(t, []cronCase{
		{"Berlin: fixed time in the gap fires shifted", f(func(s *sched.TriggerSpec) { s.Hour = "2"; s.Minute = "30" }), berlin, "2026-03-27T00:00:00Z", 4,
			"2026-03-27T02:30:00+01:00 2026-03-28T02:30:00+01:00 2026-03-29T03:30:00+02:00 2026-03-30T02:30:00+02:00"},
		{"Berlin: fixed time in the overlap fires once", f(func(s *sched.TriggerSpec) { s.Hour = "2"; s.Minute = "30" }), berlin, "2026-10-24T00:00:00Z", 3,
			"2026-10-24T02:30:00+02:00 2026-10-25T02:30:00+02:00 2026-10-26T02:30:00+01:00"},
		{"Berlin: hour * across the gap", f(func(s *sched.TriggerSpec) { s.Minute = "*/30" }), berlin, "2026-03-29T00:00:00Z", 5,
			"2026-03-29T01:00:00+01:00 2026-03-29T01:30:00+01:00 2026-03-29T03:00:00+02:00 2026-03-29T03:30:00+02:00 2026-03-29T04:00:00+02:00"},
		{"Berlin: hour * runs both passes", f(func(s *sched.TriggerSpec) { s.Minute = "*/30" }), berlin, "2026-10-25T00:00:00+02:00", 8,
			"2026-10-25T00:00:00+02:00 2026-10-25T00:30:00+02:00 2026-10-25T01:00:00+02:00 2026-10-25T01:30:00+02:00 " +
				"2026-10-25T02:00:00+02:00 2026-10-25T02:30:00+02:00 2026-10-25T02:00:00+01:00 2026-10-25T02:30:00+01:00"},
		{"Berlin: a restricted hour runs the first pass only", f(func(s *sched.TriggerSpec) { s.Hour = "2"; s.Minute = "*/30" }), berlin, "2026-10-24T23:00:00Z", 4,
			"2026-10-25T02:00:00+02:00 2026-10-25T02:30:00+02:00 2026-10-26T02:00:00+01:00 2026-10-26T02:30:00+01:00"},
		{"Berlin: gap time and real time on one instant fire once", f(func(s *sched.TriggerSpec) { s.Hour = "2-3" }), berlin, "2026-03-28T00:00:00Z", 5,
			"2026-03-28T02:00:00+01:00 2026-03-28T03:00:00+01:00 2026-03-29T03:00:00+02:00 2026-03-30T02:00:00+02:00 2026-03-30T03:00:00+02:00"},
		{"Berlin: a gap time after a later real time still fires", f(func(s *sched.TriggerSpec) { s.Hour = "2,3"; s.Minute = "45,10" }), berlin, "2026-03-29T00:30:00Z", 4,
			"2026-03-29T03:10:00+02:00 2026-03-29T03:45:00+02:00 2026-03-30T02:10:00+02:00 2026-03-30T02:45:00+02:00"},
		{"Berlin: midnight never skips a day", f(func(s *sched.TriggerSpec) { s.Hour = "0" }), berlin, "2026-03-27T12:00:00Z", 4,
			"2026-03-28T00:00:00+01:00 2026-03-29T00:00:00+01:00 2026-03-30T00:00:00+02:00 2026-03-31T00:00:00+02:00"},
		{"Berlin: the last day of March is the gap day (2024)", f(func(s *sched.TriggerSpec) { s.Day = "last"; s.Hour = "2"; s.Minute = "30" }), berlin, "2024-03-01T00:00:00Z", 2,
			"2024-03-31T03:30:00+02:00 2024-04-30T02:30:00+02:00"},
		{"Berlin: leap day", f(func(s *sched.TriggerSpec) { s.Month = "2"; s.Day = "last"; s.Hour = "23"; s.Minute = "59" }), berlin, "2027-01-01T00:00:00Z", 2,
			"2027-02-28T23:59:00+01:00 2028-02-29T23:59:00+01:00"},
		{"Berlin: crontab, fixed time", sched.TriggerSpec{Type: "cron", Expr: "30 2 * * *"}, berlin, "2026-10-24T12:00:00Z", 2,
			"2026-10-25T02:30:00+02:00 2026-10-26T02:30:00+01:00"},
		{"Berlin: crontab, every hour", sched.TriggerSpec{Type: "cron", Expr: "0 * * * *"}, berlin, "2026-10-24T23:00:00Z", 4,
			"2026-10-25T01:00:00+02:00 2026-10-25T02:00:00+02:00 2026-10-25T02:00:00+01:00 2026-10-25T03:00:00+01:00"},
		{"Berlin: every second through the gap", f(func(s *sched.TriggerSpec) { s.Second = "*/20" }), berlin, "2026-03-29T00:59:20Z", 4,
			"2026-03-29T01:59:20+01:00 2026-03-29T01:59:40+01:00 2026-03-29T03:00:00+02:00 2026-03-29T03:00:20+02:00"},
		{"New York: fixed time in the gap", f(func(s *sched.TriggerSpec) { s.Hour = "2"; s.Minute = "15" }), ny, "2026-03-07T00:00:00Z", 3,
			"2026-03-07T02:15:00-05:00 2026-03-08T03:15:00-04:00 2026-03-09T02:15:00-04:00"},
		{"New York: fixed time in the overlap", f(func(s *sched.TriggerSpec) { s.Hour = "1"; s.Minute = "30" }), ny, "2026-10-31T12:00:00Z", 2,
			"2026-11-01T01:30:00-04:00 2026-11-02T01:30:00-05:00"},
		{"New York: hour * in the overlap", f(func(s *sched.TriggerSpec) { s.Minute = "30" }), ny, "2026-11-01T04:00:00Z", 4,
			"2026-11-01T00:30:00-04:00 2026-11-01T01:30:00-04:00 2026-11-01T01:30:00-05:00 2026-11-01T02:30:00-05:00"},
		{"Lord Howe: hour * runs both half-hour passes", f(func(s *sched.TriggerSpec) { s.Minute = "*/15" }), lh, "2026-04-04T14:00:00Z", 7,
			"2026-04-05T01:00:00+11:00 2026-04-05T01:15:00+11:00 2026-04-05T01:30:00+11:00 2026-04-05T01:45:00+11:00 " +
				"2026-04-05T01:30:00+10:30 2026-04-05T01:45:00+10:30 2026-04-05T02:00:00+10:30"},
		{"Lord Howe: a restricted hour runs once", f(func(s *sched.TriggerSpec) { s.Hour = "1"; s.Minute = "*/15" }), lh, "2026-04-04T14:00:00Z", 5,
			"2026-04-05T01:00:00+11:00 2026-04-05T01:15:00+11:00 2026-04-05T01:30:00+11:00 2026-04-05T01:45:00+11:00 2026-04-06T01:00:00+10:30"},
		{"Lord Howe: half-hour gap, restricted hour", f(func(s *sched.TriggerSpec) { s.Hour = "2"; s.Minute = "*/15" }), lh, "2026-10-03T13:30:00Z", 3,
			"2026-10-04T02:30:00+11:00 2026-10-04T02:45:00+11:00 2026-10-05T02:00:00+11:00"},
		{"Lord Howe: half-hour gap, hour *", f(func(s *sched.TriggerSpec) { s.Minute = "*/15" }), lh, "2026-10-03T15:00:00Z", 5,
			"2026-10-04T01:30:00+10:30 2026-10-04T01:45:00+10:30 2026-10-04T02:30:00+11:00 2026-10-04T02:45:00+11:00 2026-10-04T03:00:00+11:00"},
		{"Berlin: a gap years ahead (TZ rule)", f(func(s *sched.TriggerSpec) {
			s.Year = "2040"
			s.Month = "3"
			s.Day = "25"
			s.Hour = "2"
			s.Minute = "30"
		}), berlin, "2026-01-01T00:00:00Z", 2,
			"2040-03-25T03:30:00+02:00"},
		{"Berlin: an overlap years ahead, hour *", f(func(s *sched.TriggerSpec) { s.Year = "2045"; s.Month = "10"; s.Day = "29"; s.Minute = "30" }), berlin, "2026-01-01T00:00:00Z", 4,
			"2045-10-29T00:30:00+02:00 2045-10-29T01:30:00+02:00 2045-10-29T02:30:00+02:00 2045-10-29T02:30:00+01:00"},
		{"Berlin: year 9999", f(func(s *sched.TriggerSpec) { s.Year = "9999"; s.Month = "7" }), berlin, "2026-01-01T00:00:00Z", 2,
			"9999-07-01T00:00:00+02:00"},
		{"Santiago: midnight gap never skips a day", f(func(s *sched.TriggerSpec) { s.Hour = "0" }), "America/Santiago", "2026-09-04T12:00:00Z", 3,
			"2026-09-05T00:00:00-04:00 2026-09-06T01:00:00-03:00 2026-09-07T00:00:00-03:00"},
	})
}

func TestCronNextWithoutPrev(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	tr, err := cronSpec(func(s *sched.TriggerSpec) { s.Minute = "30" }).Compile(berlin)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ now, want string }{
		{"2026-06-01T10:30:00Z", "2026-06-01T12:30:00+02:00"},           // at a fire time: it
		{"2026-06-01T10:30:00.000000001Z", "2026-06-01T13:30:00+02:00"}, // just after: the next
		{"2026-10-25T00:45:00Z", "2026-10-25T02:30:00+01:00"},           // in the second pass
	} {
		got, ok := tr.Next(time.Time{}, rfc(t, tc.now))
		if !ok || got.Format(time.RFC3339) != tc.want {
			t.Errorf("Next(zero, %s) = %s %v, want %s", tc.now, got.Format(time.RFC3339), ok, tc.want)
		}
	}
	// With prev: strictly after prev, whatever now says.
	got, ok := tr.Next(rfc(t, "2026-06-01T10:30:00Z"), rfc(t, "2026-06-01T08:00:00Z"))
	if !ok || got.Format(time.RFC3339) != "2026-06-01T13:30:00+02:00" {
		t.Errorf("Next(prev, earlier now) = %s %v", got, ok)
	}
}

func TestCronCompileErrors(t *testing.T) {
	f := cronSpec
	tests := []struct {
		spec       sched.TriggerSpec
		field, msg string
	}{
		{f(func(s *sched.TriggerSpec) { s.Hour = "25" }), "trigger.hour", "25 is out of range 0-23"},
		{f(func(s *sched.TriggerSpec) { s.Minute = "*/0" }), "trigger.minute", "step 0"},
		{f(func(s *sched.TriggerSpec) { s.Minute = "*/60" }), "trigger.minute", "step 60 is larger than the range 0-59"},
		{f(func(s *sched.TriggerSpec) { s.Minute = "*/x" }), "trigger.minute", `step "x" is not a number`},
		{f(func(s *sched.TriggerSpec) { s.Day = "5-1" }), "trigger.day", "range 5-1: the start is after the end"},
		{f(func(s *sched.TriggerSpec) { s.Day = "0" }), "trigger.day", "0 is out of range 1-31"},
		{f(func(s *sched.TriggerSpec) { s.Month = "foo" }), "trigger.month", `unknown name "foo"`},
		{f(func(s *sched.TriggerSpec) { s.Month = "13" }), "trigger.month", "13 is out of range 1-12"},
		{f(func(s *sched.TriggerSpec) { s.DayOfWeek = "mon-xyz" }), "trigger.day_of_week", `unknown name "xyz"`},
		{f(func(s *sched.TriggerSpec) { s.DayOfWeek = "sun-mon" }), "trigger.day_of_week", "start is after the end"},
		{f(func(s *sched.TriggerSpec) { s.DayOfWeek = "7" }), "trigger.day_of_week", "7 is out of range 0-6"},
		{f(func(s *sched.TriggerSpec) { s.DayOfWeek = "last" }), "trigger.day_of_week", `unknown name "last"`},
		{f(func(s *sched.TriggerSpec) { s.Day = "6th fri" }), "trigger.day", `unknown position "6th"`},
		{f(func(s *sched.TriggerSpec) { s.Day = "last xyz" }), "trigger.day", `unknown weekday "xyz"`},
		{f(func(s *sched.TriggerSpec) { s.Day = "jan" }), "trigger.day", `"jan" is not a number`},
		{f(func(s *sched.TriggerSpec) { s.Hour = "last" }), "trigger.hour", `"last" is not a number`},
		{f(func(s *sched.TriggerSpec) { s.Year = "1969" }), "trigger.year", "1969 is out of range 1970-9999"},
		{f(func(s *sched.TriggerSpec) { s.Week = "54" }), "trigger.week", "54 is out of range 1-53"},
		{f(func(s *sched.TriggerSpec) { s.Hour = "99999999999" }), "trigger.hour", "99999999999 is out of range 0-23"},
		{f(func(s *sched.TriggerSpec) { s.Second = "1,,2" }), "trigger.second", "empty term"},
		{f(func(s *sched.TriggerSpec) { s.Minute = "1-" }), "trigger.minute", "missing value"},
		{f(func(s *sched.TriggerSpec) { s.Minute = "-1" }), "trigger.minute", `"-1": values cannot be negative`},
		{f(func(s *sched.TriggerSpec) { s.Minute = " " }), "trigger.minute", "empty expression"},
		{f(func(s *sched.TriggerSpec) { s.Expr = "* * * * *"; s.Hour = "1" }), "trigger.expr", "cannot be combined with the field hour"},
		{f(func(s *sched.TriggerSpec) { s.Expr = "* * * *" }), "trigger.expr", "has 4 fields, want 5"},
		{f(func(s *sched.TriggerSpec) { s.Expr = "0 * * * * *" }), "trigger.expr", "has 6 fields, want 5"},
		{f(func(s *sched.TriggerSpec) { s.Expr = "@reboot" }), "trigger.expr", `unknown macro "@reboot"`},
		{f(func(s *sched.TriggerSpec) { s.Expr = "60 * * * *" }), "trigger.expr", "minute field: \"60\": 60 is out of range 0-59"},
		{f(func(s *sched.TriggerSpec) { s.Expr = "0 0 * * 8" }), "trigger.expr", "day-of-week field"},
		{f(func(s *sched.TriggerSpec) { s.Expr = "0 0 0 * *" }), "trigger.expr", "day-of-month field: \"0\": 0 is out of range 1-31"},
		{f(func(s *sched.TriggerSpec) { s.Expr = "0 0 L * *" }), "trigger.expr", "day-of-month field"},
		{f(func(s *sched.TriggerSpec) { s.Month = "feb"; s.Day = "30" }), "trigger.day", `"30" matches no date together with the other fields`},
		{f(func(s *sched.TriggerSpec) { s.Month = "apr,jun,sep,nov"; s.Day = "31" }), "trigger.day", "matches no date"},
		{f(func(s *sched.TriggerSpec) { s.Month = "1"; s.Week = "53"; s.DayOfWeek = "mon" }), "trigger.week", "matches no date"},
		{f(func(s *sched.TriggerSpec) { s.Expr = "0 0 31 2 *" }), "trigger.expr", `"0 0 31 2 *" matches no date`},
		{f(func(s *sched.TriggerSpec) { s.Hour = "1"; s.StartDate = "2026-02-01"; s.EndDate = "2026-01-01" }), "trigger.end_date", "before start_date"},
		{f(func(s *sched.TriggerSpec) { s.Hour = "1"; s.StartDate = "soon" }), "trigger.start_date", "invalid time"},
		{f(func(s *sched.TriggerSpec) { s.Hour = "1"; s.Timezone = "Europe/Atlantis" }), "trigger.timezone", "unknown time zone"},
		{f(func(s *sched.TriggerSpec) { s.Hour = "1"; s.Weeks = 1 }), "trigger.weeks", "not a field of a cron trigger"},
		{f(func(s *sched.TriggerSpec) { s.Hour = "1"; s.RunDate = "2026-01-01" }), "trigger.run_date", "not a field of a cron trigger"},
		{f(func(s *sched.TriggerSpec) { s.Hour = "1"; s.Jitter = -1 }), "trigger.jitter", "0 or more"},
	}
	for _, tc := range tests {
		_, err := tc.spec.Compile(time.UTC)
		var e *sched.Error
		if !errors.As(err, &e) {
			t.Errorf("%+v: error %v is not a *sched.Error", tc.spec, err)
			continue
		}
		if e.Field != tc.field || !strings.Contains(e.Error(), tc.msg) || e.Code != sched.CodeBadRequest {
			t.Errorf("%+v:\n got %q (field %q)\nwant field %q and %q", tc.spec, err, e.Field, tc.field, tc.msg)
		}
	}
}

func TestCronNextAllocatesNothing(t *testing.T) {
	for _, zone := range []string{"UTC", "Europe/Berlin", "Australia/Lord_Howe"} {
		loc := mustLoc(t, zone)
		for _, spec := range []sched.TriggerSpec{
			{Type: "cron", Expr: "30 6 * * 1-5"},
			{Type: "cron", Day: "last fri", Week: "*/2", Hour: "2", Minute: "*/7"},
			{Type: "cron", Year: "2026-2040/3", Month: "2", Day: "29"},
		} {
			tr, err := spec.Compile(loc)
			if err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 3, 28, 23, 0, 0, 0, loc)
			if n := testing.AllocsPerRun(200, func() {
				next, _ := tr.Next(at, at)
				at = next
			}); n != 0 {
				t.Errorf("%s %+v: %v allocations per Next", zone, spec, n)
			}
		}
	}
}

// A compiled trigger is shared by the scheduler's goroutines: Next must be
// safe for concurrent use (run with -race) and give every caller the same
// answer.
func TestTriggerConcurrentNext(t *testing.T) {
	loc := mustLoc(t, "Europe/Berlin")
	specs := []sched.TriggerSpec{
		{Type: "cron", Day: "last fri", Hour: "2", Minute: "*/10"},
		{Type: "interval", Minutes: 7, StartDate: "2026-01-01"},
		{Type: "date", RunDate: "2026-05-01 12:00:00"},
	}
	for _, spec := range specs {
		tr, err := spec.Compile(loc)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := sched.Preview(spec, sched.Env{Location: loc}, time.Date(2026, 3, 1, 0, 0, 0, 0, loc), 200)
		done := make(chan []time.Time)
		for g := 0; g < 4; g++ {
			go func() {
				var got []time.Time
				prev, now := time.Time{}, time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
				for len(got) < len(want) {
					n, ok := tr.Next(prev, now)
					if !ok {
						break
					}
					got = append(got, n)
					prev, now = n, n
				}
				done <- got
			}()
		}
		for g := 0; g < 4; g++ {
			if got := <-done; formatAll(got) != formatAll(want) {
				t.Errorf("%+v: a concurrent caller got a different schedule", spec)
			}
		}
	}
}
