package sched

import (
	"fmt"
	"math/bits"
	"time"
)

// cronTrigger is a compiled cron schedule: bit sets per field, searched on
// the wall clock of its zone, then mapped to an instant by the DST policy of
// docs/triggers.md. It is immutable; Next allocates nothing.
type cronTrigger struct {
	seconds, minutes, hours uint64 // bit v: value v matches
	months                  uint64 // bits 1..12
	dom                     uint64 // bits 1..31: fixed days of the month
	dayTerms                []dayTerm
	weeks                   uint64      // bits 1..53 (ISO weeks)
	years                   []cronRange // nil: every year
	start, end              int64       // unix seconds; start rounded up, end down
	loc                     *time.Location
	dow                     uint8 // weekdays that match, bit 0 = Monday
	or                      bool  // crontab: day-of-month OR day-of-week
	allWeeks                bool
	// hourStar: every hour matches, so both passes of a repeated hour run.
	hourStar         bool
	hasStart, hasEnd bool
}

// Calendar limits of the search, as APScheduler's year field.
const (
	cronMinYear = 1970
	cronMaxYear = 9999
)

// defaultCronExprs are APScheduler's DEFAULT_VALUES: what a field less
// significant than the least significant given field takes.
var defaultCronExprs = [nFields]string{"*", "1", "1", "*", "*", "0", "0", "0"}

func compileCron(s TriggerSpec, _ Env, zone *time.Location) (Trigger, error) {
	given := [nFields]CronField{s.Year, s.Month, s.Day, s.Week, s.DayOfWeek, s.Hour, s.Minute, s.Second}
	c := &cronTrigger{loc: zone}
	if s.Expr != "" {
		for i, g := range given {
			if g != "" {
				return nil, FieldError("trigger.expr", "a crontab expr cannot be combined with the field %s", cronFieldDefs[i].name)
			}
		}
		if err := c.setCrontab(s.Expr); err != nil {
			return nil, err
		}
	} else if err := c.setFields(given); err != nil {
		return nil, err
	}
	if _, ok := c.nextWall(wallSeconds(cronMinYear, 1, 1, 0, 0, 0)); !ok {
		return nil, c.neverError(s)
	}
	start, end, err := parseBounds(s, zone)
	if err != nil {
		return nil, err
	}
	if !start.IsZero() {
		c.hasStart = true
		c.start = start.Unix()
		if start.Nanosecond() != 0 {
			c.start++
		}
	}
	if !end.IsZero() {
		c.hasEnd = true
		c.end = end.Unix()
	}
	return c, nil
}

// neverError reports a calendar that has no date at all (February 30th,
// the 31st of a 30-day month...): a job on it could never run. It names the
// first given date field.
func (c *cronTrigger) neverError(s TriggerSpec) error {
	if s.Expr != "" {
		return FieldError("trigger.expr", "%q matches no date", s.Expr)
	}
	for _, f := range []struct {
		name string
		v    CronField
	}{{"day", s.Day}, {"week", s.Week}, {"day_of_week", s.DayOfWeek}, {"month", s.Month}, {"year", s.Year}} {
		if f.v != "" {
			return FieldError("trigger."+f.name, "%q matches no date together with the other fields", string(f.v))
		}
	}
	return FieldError("trigger", "the cron fields match no date")
}

// setFields compiles the field form with APScheduler's defaults: fields
// more significant than the least significant given one are "*", less
// significant ones their minimum; week and day_of_week are "*".
func (c *cronTrigger) setFields(given [nFields]CronField) error {
	last := -1
	for i, g := range given {
		if g != "" {
			last = i
		}
	}
	var parsed [nFields]parsedField
	for i := range given {
		expr := string(given[i])
		switch {
		case expr != "":
		case i > last && last >= 0:
			expr = defaultCronExprs[i]
		default:
			expr = "*"
		}
		p, err := parseCronField(&cronFieldDefs[i], expr)
		if err != nil {
			return FieldError("trigger."+cronFieldDefs[i].name, "%v", err)
		}
		parsed[i] = p
	}
	c.seconds = parsed[fSecond].mask()
	c.minutes = parsed[fMinute].mask()
	c.hours = parsed[fHour].mask()
	c.months = parsed[fMonth].mask()
	c.dom = parsed[fDay].mask()
	c.dayTerms = parsed[fDay].days
	c.weeks = parsed[fWeek].mask()
	c.setDow(parsed[fDow].mask())
	if !isAllYears(parsed[fYear].ranges) {
		c.years = parsed[fYear].ranges
	}
	c.finish()
	return nil
}

func isAllYears(rs []cronRange) bool {
	for _, r := range rs {
		if r.first <= cronMinYear && r.last >= cronMaxYear && r.step == 1 {
			return true
		}
	}
	return false
}

// setDow sets the weekday set (bit 0 = Monday).
func (c *cronTrigger) setDow(dow uint64) { c.dow = uint8(dow & 0x7f) }

// dowDays returns the days (bit d = day d, 1..31) of a month whose 1st is
// weekday wd1 (0 = Monday) that fall on a weekday of dow. Computed on use
// rather than kept per trigger: a table of seven masks would cost every
// cron job 56 bytes.
func dowDays(dow uint8, wd1 int) uint64 {
	r := uint64(dow)
	r = (r>>uint(wd1) | r<<uint(7-wd1)) & 0x7f // bit k: weekday (wd1+k) mod 7
	r |= r << 7
	r |= r << 14
	r |= r << 28 // bit k, for k < 56: weekday (wd1+k) mod 7
	return r << 1 & (1<<32 - 2)
}

func (c *cronTrigger) finish() {
	const allHours = 1<<24 - 1
	c.hourStar = c.hours == allHours
	const allWeeks = (1<<54 - 1) &^ 1
	c.allWeeks = c.weeks == allWeeks
}

// Next implements Trigger: without prev, the first fire time at or after
// now; with prev, the first one after prev. Fire times are whole seconds.
func (c *cronTrigger) Next(prev, now time.Time) (time.Time, bool) {
	var t int64
	if !prev.IsZero() {
		t = prev.Unix() + 1
	} else {
		t = now.Unix()
		if now.Nanosecond() != 0 {
			t++
		}
	}
	if c.hasStart && t < c.start {
		t = c.start
	}
	x, ok := c.nextInstant(t)
	if !ok || (c.hasEnd && x > c.end) {
		return time.Time{}, false
	}
	return time.Unix(x, 0).In(c.loc), true
}

// wallCache remembers the last wall-clock search: first match at or after
// from is at (none when !ok). It lives on the caller's stack.
type wallCache struct {
	from, at int64
	ok, set  bool
}

func (c *cronTrigger) cachedNextWall(cache *wallCache, from int64) (int64, bool) {
	if cache.set && from >= cache.from && (!cache.ok || from <= cache.at) {
		return cache.at, cache.ok
	}
	at, ok := c.nextWall(from)
	*cache = wallCache{from: from, at: at, ok: ok, set: true}
	return at, ok
}

// nextInstant returns the first fire instant at or after unix second t.
//
// The zone's history is a sequence of periods of constant offset. Within a
// period wall time and instants map one to one; the policy lives at the
// edges: wall times skipped by a forward transition (a gap) fire at the
// instant they are shifted to (read with the offset before the gap); wall
// times repeated by a backward transition (an overlap) fire on both passes
// when every hour matches, on the first pass only otherwise.
func (c *cronTrigger) nextInstant(t int64) (int64, bool) {
	var cache wallCache
	for {
		if c.hasEnd && t > c.end {
			return 0, false
		}
		off, start, end := zoneAt(c.loc, t)
		// A gap's shifted wall times land in the first hours after it; they
		// interleave with the period's own wall times, so both are searched
		// and the earlier instant wins.
		best, found := int64(0), false
		// An offset change at most a day and a bit back may shape this period's
		// first hours; further back no zone has one that large.
		if start != minSec && t-start < 27*3600 {
			before := offsetAt(c.loc, start-1)
			switch {
			case before < off && t < start+(off-before):
				// t is among the instants the gap's wall times shift to.
				if w, ok := c.cachedNextWall(&cache, t+before); ok && w < start+off {
					best, found = w-before, true
				}
			case before > off && !c.hourStar && t < start+(before-off):
				// The second pass of a repeated wall time: skipped.
				t = start + (before - off)
				if end != maxSec && t >= end {
					continue
				}
			}
		}
		w, ok := c.cachedNextWall(&cache, t+off)
		if ok && (end == maxSec || w-off < end) && (!found || w-off < best) {
			best, found = w-off, true
		}
		if found {
			return best, true
		}
		if !ok {
			return 0, false
		}
		t = end
		// No wall time in [cache.from, cache.at) matches, and no zone's
		// offset exceeds a day and a bit, so no instant from cache.from+far
		// to cache.at-far can fire: skip the periods in between (a rare
		// schedule would otherwise walk every DST period up to its match).
		if cache.ok && t >= cache.from+farSeconds && cache.at-farSeconds > t {
			t = cache.at - farSeconds
		}
	}
}

// farSeconds bounds |wall time - instant| for any zone (offsets in the tz
// database stay within ±16h), with margin.
const farSeconds = 48 * 3600

// nextWall returns the first wall-clock second at or after w (seconds
// since 1970-01-01 00:00 wall time) that matches every field, searching no
// further than the end of year 9999.
func (c *cronTrigger) nextWall(w int64) (int64, bool) {
	days := floorDiv(w, 86400)
	sod := int(w - days*86400)
	y, m, d := civilFromDays(days)
	h, mi, s := sod/3600, sod/60%60, sod%60
	if y < cronMinYear {
		y, m, d, h, mi, s = cronMinYear, 1, 1, 0, 0, 0
	}
	maskY, maskM, mask := 0, 0, uint64(0)
	for {
		if y > cronMaxYear {
			return 0, false
		}
		if c.years != nil {
			ny, ok := c.nextYear(y)
			if !ok {
				return 0, false
			}
			if ny != y {
				y, m, d, h, mi, s = ny, 1, 1, 0, 0, 0
			}
		}
		mm := c.months >> uint(m) << uint(m)
		if mm == 0 {
			y, m, d, h, mi, s = y+1, 1, 1, 0, 0, 0
			continue
		}
		if nm := bits.TrailingZeros64(mm); nm != m {
			m, d, h, mi, s = nm, 1, 0, 0, 0
		}
		if y != maskY || m != maskM {
			maskY, maskM, mask = y, m, c.dayMask(y, m)
		}
		dm := mask >> uint(d) << uint(d)
		if dm == 0 {
			m, d, h, mi, s = m+1, 1, 0, 0, 0
			if m > 12 {
				y, m = y+1, 1
			}
			continue
		}
		if nd := bits.TrailingZeros64(dm); nd != d {
			d, h, mi, s = nd, 0, 0, 0
		}
		hm := c.hours >> uint(h) << uint(h)
		if hm == 0 {
			d, h, mi, s = d+1, 0, 0, 0
			continue
		}
		if nh := bits.TrailingZeros64(hm); nh != h {
			h, mi, s = nh, 0, 0
		}
		mim := c.minutes >> uint(mi) << uint(mi)
		if mim == 0 {
			h, mi, s = h+1, 0, 0
			continue
		}
		if nmi := bits.TrailingZeros64(mim); nmi != mi {
			mi, s = nmi, 0
		}
		sm := c.seconds >> uint(s) << uint(s)
		if sm == 0 {
			mi, s = mi+1, 0
			continue
		}
		s = bits.TrailingZeros64(sm)
		return wallSeconds(y, m, d, h, mi, s), true
	}
}

// nextYear returns the first matching year at or after y.
func (c *cronTrigger) nextYear(y int) (int, bool) {
	best, found := 0, false
	for _, r := range c.years {
		v := r.first
		if y > v {
			k := (y - v + r.step - 1) / r.step
			v += k * r.step
		}
		if v <= r.last && (!found || v < best) {
			best, found = v, true
		}
	}
	return best, found
}

// dayMask returns the matching days of month m of year y as bits 1..31.
func (c *cronTrigger) dayMask(y, m int) uint64 {
	dim := daysIn(y, m)
	z1 := daysFromCivil(y, m, 1)
	wd1 := weekdayOfDays(z1)
	dom := c.dom
	for _, t := range c.dayTerms {
		if d := t.day(wd1, dim); d > 0 {
			dom |= 1 << uint(d)
		}
	}
	dow := dowDays(c.dow, wd1)
	var mask uint64
	if c.or {
		mask = dom | dow
	} else {
		mask = dom & dow
	}
	mask &= (1<<uint(dim+1) - 1) &^ 1
	if !c.allWeeks && mask != 0 {
		mask &= c.weekDays(z1, dim)
	}
	return mask
}

// weekDays returns the days of the month starting on day number z1 whose
// ISO week matches.
func (c *cronTrigger) weekDays(z1 int64, dim int) uint64 {
	var m uint64
	w := isoWeek(z1)
	for d := 1; d <= dim; d++ {
		z := z1 + int64(d-1)
		if d > 1 && weekdayOfDays(z) == 0 {
			w = isoWeek(z)
		}
		if c.weeks&(1<<uint(w)) != 0 {
			m |= 1 << uint(d)
		}
	}
	return m
}

// String describes the compiled schedule for debugging.
func (c *cronTrigger) String() string {
	return fmt.Sprintf("cron(sec=%x min=%x hour=%x month=%x dom=%x terms=%v or=%v weeks=%x years=%v zone=%s)",
		c.seconds, c.minutes, c.hours, c.months, c.dom, c.dayTerms, c.or, c.weeks, c.years, c.loc)
}
