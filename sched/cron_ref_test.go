package sched

import (
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"
)

// refMatch decides whether wall-clock second w matches c by evaluating each
// field directly with the time package: an independent check of the bit
// sets, day terms and ISO weeks.
func refMatch(c *cronTrigger, w int64) bool {
	t := time.Unix(w, 0).UTC()
	y, m, d := t.Date()
	if c.seconds&(1<<uint(t.Second())) == 0 || c.minutes&(1<<uint(t.Minute())) == 0 ||
		c.hours&(1<<uint(t.Hour())) == 0 || c.months&(1<<uint(m)) == 0 {
		return false
	}
	if c.years != nil {
		if ny, ok := c.nextYear(y); !ok || ny != y {
			return false
		}
	}
	if y < cronMinYear || y > cronMaxYear {
		return false
	}
	dim := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
	dom := c.dom&(1<<uint(d)) != 0
	for _, term := range c.dayTerms {
		switch {
		case term.wd < 0:
			dom = dom || d == dim
		case wd != term.wd:
		case term.n == 0:
			dom = dom || d+7 > dim
		default:
			dom = dom || (d-1)/7 == term.n-1
		}
	}
	// In a month starting on a Monday, day wd+1 has weekday wd.
	dow := dowDays(c.dow, 0)&(1<<uint(wd+1)) != 0
	if c.or {
		if !dom && !dow {
			return false
		}
	} else if !dom || !dow {
		return false
	}
	_, week := t.ISOWeek()
	return c.allWeeks || c.weeks&(1<<uint(week)) != 0
}

// refFires lists the fire instants in [lo, hi) of a minute-resolution
// trigger by brute force, straight from the DST policy, for a window with at
// most one offset change.
func refFires(c *cronTrigger, lo, hi int64) []int64 {
	oLo, oHi := offsetAt(c.loc, lo), offsetAt(c.loc, hi)
	set := map[int64]bool{}
	for x := lo; x < hi; x += 60 {
		w := x + offsetAt(c.loc, x)
		if !refMatch(c, w) {
			continue
		}
		first := true
		for _, d := range []int64{1800, 3600, 7200} {
			if x-d+offsetAt(c.loc, x-d) == w {
				first = false
			}
		}
		if first || c.hourStar {
			set[x] = true
		}
	}
	// Wall times that never occur: fire at the instant they shift to.
	minOff, maxOff := min(oLo, oHi), max(oLo, oHi)
	for w := lo + minOff; w < hi+maxOff; w += 60 {
		if offsetAt(c.loc, w-oLo) == oLo || offsetAt(c.loc, w-oHi) == oHi || !refMatch(c, w) {
			continue
		}
		if x := w - oLo; x >= lo && x < hi {
			set[x] = true
		}
	}
	out := make([]int64, 0, len(set))
	for x := range set {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

var refExprs = struct{ day, dow, hour, minute []string }{
	day:    []string{"", "", "", "last", "1st sun", "last sun", "*/2", "25-31"},
	dow:    []string{"", "", "", "sun", "mon-fri", "sat,sun"},
	hour:   []string{"", "*", "0", "1", "2", "3", "1-3", "*/2", "2,3", "0-23/3", "22-23"},
	minute: []string{"*/5", "0", "30", "15,45", "*/7", "0-10", "*/20", "59", "1/25"},
}

// transitions returns the instants in [from, to) where loc's offset changes.
func transitions(loc *time.Location, from, to int64) []int64 {
	var out []int64
	for x := from; x < to; {
		off, _, end := zoneAt(loc, x)
		if end >= to {
			break
		}
		if offsetAt(loc, end) != off {
			out = append(out, end)
		}
		x = end
	}
	return out
}

func TestCronAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	zones := []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Pacific/Apia", "Asia/Kolkata"}
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	to := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	pick := func(l []string) string { return l[rng.Intn(len(l))] }
	checked := 0
	for _, zone := range zones {
		loc, err := LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		edges := transitions(loc, from, to)
		if zone == "Pacific/Apia" { // skipped 2011-12-30 entirely
			edges = append(edges, transitions(loc, time.Date(2011, 12, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC).Unix())...)
		}
		if zone == "Europe/Berlin" { // beyond the zone's table: periods from its TZ rule
			edges = append(edges, transitions(loc, time.Date(2052, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2053, 1, 1, 0, 0, 0, 0, time.UTC).Unix())...)
		}
		if zone == "Asia/Kolkata" {
			edges = []int64{from + 86400*40}
		}
		for _, edge := range edges {
			for i := 0; i < 10; i++ {
				spec := TriggerSpec{Type: "cron", Day: CronField(pick(refExprs.day)), DayOfWeek: CronField(pick(refExprs.dow)),
					Hour: CronField(pick(refExprs.hour)), Minute: CronField(pick(refExprs.minute))}
				if i == 0 {
					spec = TriggerSpec{Type: "cron", Minute: "*/15"}
				}
				tr, err := spec.Compile(loc)
				if err != nil && strings.Contains(err.Error(), "matches no date") {
					continue // an impossible combination, such as 1st sun on mon-fri
				}
				if err != nil {
					t.Fatalf("%+v: %v", spec, err)
				}
				c := tr.(*cronTrigger)
				lo, hi := edge-3*86400, edge+3*86400
				want := refFires(c, lo, hi)
				// Only the inner window is complete in the reference.
				inLo, inHi := lo+86400, hi-86400
				var inner []int64
				for _, x := range want {
					if x >= inLo && x < inHi {
						inner = append(inner, x)
					}
				}
				var got []int64
				prev := time.Time{}
				now := time.Unix(inLo, 0)
				for {
					n, ok := tr.Next(prev, now)
					if !ok || n.Unix() >= inHi {
						break
					}
					got = append(got, n.Unix())
					prev, now = n, n
				}
				if !equalInts(got, inner) {
					t.Errorf("%s %+v around %s:\n got %v\nwant %v", zone, spec, time.Unix(edge, 0).In(loc),
						fmtUnix(got, loc), fmtUnix(inner, loc))
					continue
				}
				// Next without prev from arbitrary moments.
				for k := 0; k < 20; k++ {
					at := inLo + rng.Int63n(inHi-inLo-86400)
					nowT := time.Unix(at, rng.Int63n(2)*500_000_000)
					n, ok := tr.Next(time.Time{}, nowT)
					ceil := at
					if nowT.Nanosecond() != 0 {
						ceil++
					}
					idx := sort.Search(len(inner), func(i int) bool { return inner[i] >= ceil })
					if idx < len(inner) && (!ok || n.Unix() != inner[idx]) {
						t.Errorf("%s %+v: Next(zero, %s) = %s, want %s", zone, spec, nowT.In(loc),
							n, time.Unix(inner[idx], 0).In(loc))
					}
					// With any prev: the first fire time after it.
					idx = sort.Search(len(inner), func(i int) bool { return inner[i] > at })
					n, ok = tr.Next(time.Unix(at, 0), time.Unix(inLo, 0))
					if idx < len(inner) && (!ok || n.Unix() != inner[idx]) {
						t.Errorf("%s %+v: Next(%s, _) = %s, want %s", zone, spec, time.Unix(at, 0).In(loc),
							n, time.Unix(inner[idx], 0).In(loc))
					}
				}
				checked++
			}
		}
	}
	t.Logf("checked %d schedules", checked)
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func fmtUnix(xs []int64, loc *time.Location) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = time.Unix(x, 0).In(loc).Format("01-02T15:04-07:00")
	}
	return out
}

// TestDowDays checks the computed weekday masks against a day-by-day count
// for every weekday set and every weekday of the 1st.
func TestDowDays(t *testing.T) {
	for dow := 0; dow < 128; dow++ {
		for wd1 := 0; wd1 < 7; wd1++ {
			var want uint64
			for d := 1; d <= 31; d++ {
				if dow&(1<<uint((wd1+d-1)%7)) != 0 {
					want |= 1 << uint(d)
				}
			}
			if got := dowDays(uint8(dow), wd1); got != want {
				t.Fatalf("dowDays(%07b, %d) = %032b, want %032b", dow, wd1, got, want)
			}
		}
	}
}
