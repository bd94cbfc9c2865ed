package sched_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

func rfc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func formatAll(ts []time.Time) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Format(time.RFC3339Nano))
	}
	return b.String()
}

func TestIntervalNext(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	tests := []struct {
		name      string
		spec      sched.TriggerSpec
		prev, now string
		want      string // "" = no fire
	}{
		{"before start: start", sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-06-01 12:00:00"},
			"", "2026-06-01T08:00:00Z", "2026-06-01T12:00:00+02:00"},
		{"at start: start", sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-06-01 12:00:00"},
			"", "2026-06-01T10:00:00Z", "2026-06-01T12:00:00+02:00"},
		{"between grid points: the next", sched.TriggerSpec{Type: "interval", Minutes: 25, StartDate: "2026-06-01 12:00:00"},
			"", "2026-06-01T11:00:00Z", "2026-06-01T13:15:00+02:00"},
		{"on a grid point: it", sched.TriggerSpec{Type: "interval", Minutes: 25, StartDate: "2026-06-01 12:00:00"},
			"", "2026-06-01T11:15:00Z", "2026-06-01T13:15:00+02:00"},
		{"with prev: strictly after", sched.TriggerSpec{Type: "interval", Minutes: 25, StartDate: "2026-06-01 12:00:00"},
			"2026-06-01T11:15:00Z", "2026-06-01T11:15:00Z", "2026-06-01T13:40:00+02:00"},
		{"prev off the grid: back on it", sched.TriggerSpec{Type: "interval", Minutes: 25, StartDate: "2026-06-01 12:00:00"},
			"2026-06-01T11:16:00Z", "2026-06-01T09:00:00Z", "2026-06-01T13:40:00+02:00"},
		{"end inclusive", sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-06-01 12:00:00", EndDate: "2026-06-01 14:00:00"},
			"2026-06-01T11:00:00Z", "2026-06-01T11:00:00Z", "2026-06-01T14:00:00+02:00"},
		{"past the end", sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-06-01 12:00:00", EndDate: "2026-06-01 14:00:00"},
			"2026-06-01T12:00:00Z", "2026-06-01T12:00:00Z", ""},
		{"end a microsecond short of a grid point", sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-06-01 12:00:00", EndDate: "2026-06-01 13:59:59.999999"},
			"2026-06-01T11:00:00Z", "2026-06-01T11:00:00Z", ""},
		{"end centuries ahead", sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-06-01 12:00:00", EndDate: "2999-12-31"},
			"2026-06-01T11:00:00Z", "2026-06-01T11:00:00Z", "2026-06-01T14:00:00+02:00"},
		{"elapsed time across spring forward", sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-03-29 00:30:00"},
			"2026-03-29T01:30:00+01:00", "2026-03-29T00:30:00Z", "2026-03-29T03:30:00+02:00"},
		{"elapsed time across fall back", sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-10-25 00:30:00"},
			"2026-10-25T02:30:00+02:00", "2026-10-25T00:30:00Z", "2026-10-25T02:30:00+01:00"},
		{"fractions", sched.TriggerSpec{Type: "interval", Seconds: 0.25, StartDate: "2026-06-01T00:00:00Z"},
			"", "2026-06-01T00:00:00.3Z", "2026-06-01T02:00:00.5+02:00"},
		{"weeks and days add up", sched.TriggerSpec{Type: "interval", Weeks: 1, Days: 1, StartDate: "2026-06-01T00:00:00Z"},
			"2026-06-01T00:00:00Z", "2026-06-01T00:00:00Z", "2026-06-09T02:00:00+02:00"},
		{"start centuries ago", sched.TriggerSpec{Type: "interval", Days: 1, StartDate: "1600-01-01T00:00:00Z"},
			"", "2026-06-01T00:00:01Z", "2026-06-02T02:00:00+02:00"},
		{"no start: one interval after now", sched.TriggerSpec{Type: "interval", Minutes: 5},
			"", "2026-06-01T00:00:01Z", "2026-06-01T02:05:01+02:00"},
		{"no start: steps from prev", sched.TriggerSpec{Type: "interval", Minutes: 5},
			"2026-06-01T00:00:01Z", "2026-06-01T00:07:00Z", "2026-06-01T02:05:01+02:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := tc.spec.Compile(berlin)
			if err != nil {
				t.Fatal(err)
			}
			var prev time.Time
			if tc.prev != "" {
				prev = rfc(t, tc.prev)
			}
			got, ok := tr.Next(prev, rfc(t, tc.now))
			if tc.want == "" {
				if ok {
					t.Fatalf("got %s, want no fire", got.Format(time.RFC3339Nano))
				}
				return
			}
			if !ok || got.Format(time.RFC3339Nano) != tc.want || got.Location() != berlin {
				t.Fatalf("got %s (%v, %s), want %s", got.Format(time.RFC3339Nano), ok, got.Location(), tc.want)
			}
		})
	}
}

func TestDateNext(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	tr, err := sched.TriggerSpec{Type: "date", RunDate: "2026-03-08 02:30:00"}.Compile(ny)
	if err != nil {
		t.Fatal(err)
	}
	// A past run date is still returned.
	got, ok := tr.Next(time.Time{}, rfc(t, "2027-01-01T00:00:00Z"))
	if !ok || got.Format(time.RFC3339) != "2026-03-08T03:30:00-04:00" {
		t.Fatalf("got %s %v", got, ok)
	}
	if _, ok := tr.Next(got, got); ok {
		t.Fatal("a date trigger fired twice")
	}
}

func TestPreview(t *testing.T) {
	utc := time.UTC
	tests := []struct {
		spec  sched.TriggerSpec
		from  string
		count int
		want  string
	}{
		{sched.TriggerSpec{Type: "date", RunDate: "2020-01-01T10:00:00Z"}, "2026-01-01T00:00:00Z", 3, "2020-01-01T10:00:00Z"},
		{sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-01-01 00:00:00", EndDate: "2026-01-01 03:00:00"},
			"2026-01-01T01:30:00Z", 5, "2026-01-01T02:00:00Z 2026-01-01T03:00:00Z"},
		{sched.TriggerSpec{Type: "interval", Minutes: 30, StartDate: "2026-01-01 00:00:00"},
			"2026-01-01T00:00:00Z", 3, "2026-01-01T00:00:00Z 2026-01-01T00:30:00Z 2026-01-01T01:00:00Z"},
		{sched.TriggerSpec{Type: "interval", Minutes: 30}, "2026-01-01T00:00:00Z", 0, ""},
		// No start_date: as if added at from, the first run one interval later.
		{sched.TriggerSpec{Type: "interval", Minutes: 30}, "2026-01-01T00:00:00Z", 2, "2026-01-01T00:30:00Z 2026-01-01T01:00:00Z"},
	}
	for _, tc := range tests {
		got, err := sched.Preview(tc.spec, sched.Env{Location: utc}, rfc(t, tc.from), tc.count)
		if err != nil {
			t.Errorf("%+v: %v", tc.spec, err)
			continue
		}
		if s := formatAll(got); s != tc.want {
			t.Errorf("%+v from %s:\n got %s\nwant %s", tc.spec, tc.from, s, tc.want)
		}
	}
	if _, err := sched.Preview(sched.TriggerSpec{Type: "interval", Hours: 1}, sched.Env{Location: utc}, time.Now(), -1); err == nil {
		t.Error("a negative count was accepted")
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		spec       sched.TriggerSpec
		field, msg string
	}{
		{sched.TriggerSpec{}, "trigger.type", "required"},
		{sched.TriggerSpec{Type: "Date"}, "trigger.type", "unknown"},
		{sched.TriggerSpec{Type: "date"}, "trigger.run_date", "required"},
		{sched.TriggerSpec{Type: "date", RunDate: "tomorrow"}, "trigger.run_date", `invalid time "tomorrow"`},
		{sched.TriggerSpec{Type: "date", RunDate: "2026-01-01", Hours: 1}, "trigger.hours", "not a field of a date trigger"},
		{sched.TriggerSpec{Type: "date", RunDate: "2026-01-01", Timezone: "Mars/Base"}, "trigger.timezone", `unknown time zone "Mars/Base"`},
		{sched.TriggerSpec{Type: "interval"}, "trigger", "interval is zero"},
		{sched.TriggerSpec{Type: "interval", Seconds: 1e-9}, "trigger", "interval is zero"},
		{sched.TriggerSpec{Type: "interval", Hours: -1}, "trigger.hours", "-1"},
		{sched.TriggerSpec{Type: "interval", Weeks: 1e9}, "trigger.weeks", "too long"},
		{sched.TriggerSpec{Type: "interval", Hours: 1, Jitter: -2}, "trigger.jitter", "-2"},
		{sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-02-30"}, "trigger.start_date", "day 30"},
		{sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-02-01", EndDate: "2026-01-01"}, "trigger.end_date", "before start_date"},
		{sched.TriggerSpec{Type: "interval", Hours: 1, Hour: "5"}, "trigger.hour", "not a field of an interval trigger"},
		{sched.TriggerSpec{Type: "interval", Hours: 1, RunDate: "2026-01-01"}, "trigger.run_date", "not a field"},
	}
	for _, tc := range tests {
		_, err := tc.spec.Compile(time.UTC)
		var e *sched.Error
		if !errors.As(err, &e) {
			t.Errorf("%+v: error %v is not a *sched.Error", tc.spec, err)
			continue
		}
		if e.Field != tc.field || !strings.Contains(e.Error(), tc.msg) || e.Code != sched.CodeBadRequest {
			t.Errorf("%+v: got %q (field %q), want field %q and %q", tc.spec, err, e.Field, tc.field, tc.msg)
		}
	}
}

func TestJitterDuration(t *testing.T) {
	if d := (sched.TriggerSpec{Jitter: 1.5}).JitterDuration(); d != 1500*time.Millisecond {
		t.Errorf("got %v", d)
	}
	if d := (sched.TriggerSpec{Jitter: -1}).JitterDuration(); d != 0 {
		t.Errorf("got %v", d)
	}
}

func TestLocation(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	if loc, err := (sched.TriggerSpec{}).Location(berlin); err != nil || loc != berlin {
		t.Errorf("got %v %v", loc, err)
	}
	if loc, err := (sched.TriggerSpec{Timezone: "America/New_York"}).Location(berlin); err != nil || loc.String() != "America/New_York" {
		t.Errorf("got %v %v", loc, err)
	}
	if _, err := (sched.TriggerSpec{Timezone: "Nowhere"}).Location(berlin); sched.ErrorCode(err) != sched.CodeBadRequest {
		t.Errorf("got %v", err)
	}
}
