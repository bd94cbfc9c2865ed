package sched

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// LoadLocation returns the time zone with the given IANA name
// ("Europe/Berlin", "UTC"). The host's zone database is used when present,
// and an embedded copy otherwise when the program links one, as the agent
// does (its main imports internal/tzdata, Go's database compressed; a
// library leaves that choice to the program, as Go advises for
// time/tzdata), so a minimal image still knows every zone.
// The empty name and "Local" are refused: a trigger names its zone, or
// leaves timezone out to use the scheduler's.
func LoadLocation(name string) (*time.Location, error) {
	switch name {
	case "":
		return nil, fmt.Errorf("empty time zone name")
	case "Local":
		return nil, fmt.Errorf(`time zone "Local" is not an IANA name; leave timezone out to use the scheduler's zone`)
	}
	if v, ok := zoneCache.Load(name); ok {
		return v.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	zoneCache.Store(name, loc)
	return loc, nil
}

// zoneCache maps a zone name to its *time.Location: time.LoadLocation reads
// and parses the zone file on every call, and a Location is immutable.
var zoneCache sync.Map

// Location returns the spec's time zone, or def when the spec names none
// (time.Local when def is nil). An unknown name is a bad_request *Error on
// trigger.timezone.
func (s TriggerSpec) Location(def *time.Location) (*time.Location, error) {
	if s.Timezone == "" {
		if def == nil {
			return time.Local, nil
		}
		return def, nil
	}
	loc, err := LoadLocation(s.Timezone)
	if err != nil {
		return nil, &Error{Code: CodeBadRequest, Field: "trigger.timezone", Message: err.Error(), Err: err}
	}
	return loc, nil
}

// Unbounded ends of a zone period.
const (
	minSec = math.MinInt64
	maxSec = math.MaxInt64
)

// zoneAt returns the UTC offset in seconds in force at unix second x, and the
// period [start, end) during which that offset holds (minSec/maxSec when the
// period is unbounded, as for UTC or a fixed zone).
func zoneAt(loc *time.Location, x int64) (off, start, end int64) {
	t := time.Unix(x, 0).In(loc)
	_, o := t.Zone()
	s, e := t.ZoneBounds()
	start, end = minSec, maxSec
	if !s.IsZero() {
		start = s.Unix()
	}
	if !e.IsZero() {
		end = e.Unix()
	}
	if end <= x {
		// Beyond a zone's transition table Go computes periods from its
		// TZ rule and ends the last one of a leap year a day early (on
		// Dec 31 00:00 UTC instead of Jan 1): the offset holds to the next
		// UTC midnight, where the next year's periods begin.
		end = floorDiv(x, 86400)*86400 + 86400
	}
	return int64(o), start, end
}

// offsetAt returns the UTC offset in seconds at unix second x.
func offsetAt(loc *time.Location, x int64) int64 {
	_, o := time.Unix(x, 0).In(loc).Zone()
	return int64(o)
}

// resolveWall returns the unix second at which the wall clock of loc reads
// w (seconds since 1970-01-01 00:00:00 as if the wall were UTC). A wall time
// that occurs twice (a fall-back overlap) resolves to its first occurrence;
// one that does not occur (a spring-forward gap) is moved forward by the
// gap, i.e. read with the offset in force before the transition.
func resolveWall(loc *time.Location, w int64) int64 {
	// A first guess at the instant; the true one is within an offset swing.
	guess := w - offsetAt(loc, w)
	off, start, end := zoneAt(loc, guess)
	best, found := int64(0), false
	try := func(c int64) {
		x := w - c
		if offsetAt(loc, x) == c && (!found || x < best) {
			best, found = x, true
		}
	}
	var before, after int64
	if start != minSec {
		before = offsetAt(loc, start-1)
		try(before)
	}
	try(off)
	if end != maxSec {
		after = offsetAt(loc, end)
		try(after)
	}
	if found {
		return best
	}
	// A gap: the wall time lies between the walls of a forward transition.
	if start != minSec && before < off && w >= start+before && w < start+off {
		return w - before
	}
	if end != maxSec && off < after && w >= end+off && w < end+after {
		return w - off
	}
	return w - off
}
