package sched

import (
	"testing"
	"time"
)

// TestResolveWallAgainstBruteForce checks wall-time resolution around every
// offset change of some awkward zones: a wall time that occurs resolves to
// its first occurrence, one that does not to the instant the offset before
// the change gives it.
func TestResolveWallAgainstBruteForce(t *testing.T) {
	for _, tc := range []struct {
		zone     string
		from, to time.Time
	}{
		{"Europe/Berlin", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"America/New_York", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Australia/Lord_Howe", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"America/Santiago", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Pacific/Apia", time.Date(2011, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"Europe/Berlin", time.Date(2052, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2053, 1, 1, 0, 0, 0, 0, time.UTC)}, // from the TZ rule
	} {
		loc, err := LoadLocation(tc.zone)
		if err != nil {
			t.Fatal(err)
		}
		edges := transitions(loc, tc.from.Unix(), tc.to.Unix())
		if len(edges) == 0 {
			t.Fatalf("%s: no offset change in %s..%s", tc.zone, tc.from, tc.to)
		}
		for _, edge := range edges {
			before, after := offsetAt(loc, edge-1), offsetAt(loc, edge)
			lo, hi := edge+min(before, after)-2*3600, edge+max(before, after)+2*3600
			for w := lo; w < hi; w += 300 {
				want, found := int64(0), false
				for _, o := range []int64{before, after} {
					if x := w - o; offsetAt(loc, x) == o && (!found || x < want) {
						want, found = x, true
					}
				}
				if !found {
					want = w - before
				}
				if got := resolveWall(loc, w); got != want {
					t.Errorf("%s: wall %s resolved to %s, want %s", tc.zone, time.Unix(w, 0).UTC().Format("2006-01-02 15:04"),
						time.Unix(got, 0).In(loc), time.Unix(want, 0).In(loc))
				}
			}
		}
	}
}

func TestCivilArithmetic(t *testing.T) {
	for z := int64(-800000); z < 3000000; z += 13 {
		y, m, d := civilFromDays(z)
		want := time.Unix(z*86400, 0).UTC()
		if y != want.Year() || m != int(want.Month()) || d != want.Day() {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d, want %s", z, y, m, d, want)
		}
		if back := daysFromCivil(y, m, d); back != z {
			t.Fatalf("daysFromCivil(%d-%d-%d) = %d, want %d", y, m, d, back, z)
		}
		if wd := weekdayOfDays(z); wd != (int(want.Weekday())+6)%7 {
			t.Fatalf("weekdayOfDays(%d) = %d, want %s", z, wd, want.Weekday())
		}
		if _, w := want.ISOWeek(); isoWeek(z) != w {
			t.Fatalf("isoWeek(%s) = %d, want %d", want, isoWeek(z), w)
		}
		if dim := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day(); daysIn(y, m) != dim {
			t.Fatalf("daysIn(%d, %d) = %d, want %d", y, m, daysIn(y, m), dim)
		}
	}
}
