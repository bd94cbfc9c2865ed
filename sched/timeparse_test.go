package sched_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := sched.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseTime(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	ny := mustLoc(t, "America/New_York")
	lh := mustLoc(t, "Australia/Lord_Howe")
	tests := []struct {
		in   string
		loc  *time.Location
		want string // RFC3339Nano in loc
	}{
		{"2026-11-23", berlin, "2026-11-23T00:00:00+01:00"},
		{"2026-11-23 06:30:00", berlin, "2026-11-23T06:30:00+01:00"},
		{"2026-11-23T06:30:00", berlin, "2026-11-23T06:30:00+01:00"},
		{"2026-1-2 6:3:4", berlin, "2026-01-02T06:03:04+01:00"},
		{"2026-06-01 12:00:00.5", berlin, "2026-06-01T12:00:00.5+02:00"},
		{"2026-06-01 12:00:00.123456789", berlin, "2026-06-01T12:00:00.123456789+02:00"},
		{"2026-06-01T10:00:00Z", berlin, "2026-06-01T12:00:00+02:00"},
		{"2026-06-01T10:00:00z", berlin, "2026-06-01T12:00:00+02:00"},
		{"2026-06-01T10:00:00+05:30", time.UTC, "2026-06-01T04:30:00Z"},
		{"2026-06-01T10:00:00-0300", time.UTC, "2026-06-01T13:00:00Z"},
		{"2028-02-29 23:59:59", time.UTC, "2028-02-29T23:59:59Z"},
		// spring-forward gap: moved forward by the gap
		{"2026-03-29 02:30:00", berlin, "2026-03-29T03:30:00+02:00"},
		{"2026-03-29 02:00:00", berlin, "2026-03-29T03:00:00+02:00"},
		{"2026-03-29 03:00:00", berlin, "2026-03-29T03:00:00+02:00"},
		{"2026-03-08 02:15:00", ny, "2026-03-08T03:15:00-04:00"},
		{"2026-10-04 02:10:00", lh, "2026-10-04T02:40:00+11:00"},
		// fall-back overlap: first occurrence
		{"2026-10-25 02:30:00", berlin, "2026-10-25T02:30:00+02:00"},
		{"2026-10-25 01:59:59", berlin, "2026-10-25T01:59:59+02:00"},
		{"2026-10-25 03:00:00", berlin, "2026-10-25T03:00:00+01:00"},
		{"2026-11-01 01:30:00", ny, "2026-11-01T01:30:00-04:00"},
		{"2026-04-05 01:45:00", lh, "2026-04-05T01:45:00+11:00"},
		{"2026-04-05 02:00:00", lh, "2026-04-05T02:00:00+10:30"},
	}
	for _, tc := range tests {
		got, err := sched.ParseTime(tc.in, tc.loc)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", tc.in, err)
			continue
		}
		if s := got.Format(time.RFC3339Nano); s != tc.want {
			t.Errorf("ParseTime(%q, %s) = %s, want %s", tc.in, tc.loc, s, tc.want)
		}
		if got.Location() != tc.loc {
			t.Errorf("ParseTime(%q) location %s, want %s", tc.in, got.Location(), tc.loc)
		}
	}
}

func TestParseTimeRFC3339NanoRoundTrip(t *testing.T) {
	for _, name := range []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"} {
		loc := mustLoc(t, name)
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < 400; i++ {
			want := base.Add(time.Duration(i)*21*time.Hour + time.Duration(i*7919)*time.Microsecond).In(loc)
			got, err := sched.ParseTime(want.Format(time.RFC3339Nano), loc)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(want) {
				t.Fatalf("%s: round trip of %s gave %s", name, want.Format(time.RFC3339Nano), got.Format(time.RFC3339Nano))
			}
		}
	}
}

func TestParseTimeErrors(t *testing.T) {
	for _, in := range []string{
		"", "2026", "2026-13-01", "2026-02-29", "2026-00-10", "2026-01-32", "26-01-01",
		"2026-01-01 24:00:00", "2026-01-01 10:60:00", "2026-01-01 10:00:60", "2026-01-01 10:00",
		"2026-01-01X10:00:00", "2026-01-01 10:00:00.", "2026-01-01 10:00:00.1234567890",
		"2026-01-01 10:00:00+25:00", "2026-01-01 10:00:00+01", "2026-01-01 10:00:00 UTC",
		"2026-01-01Z", "2026-01-01 10:00:00Zjunk", "now",
	} {
		if got, err := sched.ParseTime(in, time.UTC); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", in, got)
		} else if !strings.Contains(err.Error(), "invalid time") {
			t.Errorf("ParseTime(%q) error %q does not say what is wrong", in, err)
		}
	}
}

func TestLoadLocation(t *testing.T) {
	for _, ok := range []string{"UTC", "Europe/Berlin", "Australia/Lord_Howe", "America/Argentina/Buenos_Aires"} {
		if _, err := sched.LoadLocation(ok); err != nil {
			t.Errorf("LoadLocation(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Local", "Mars/Olympus", "../etc/passwd", "europe/berlin"} {
		if _, err := sched.LoadLocation(bad); err == nil {
			t.Errorf("LoadLocation(%q) succeeded, want an error", bad)
		}
	}
}
