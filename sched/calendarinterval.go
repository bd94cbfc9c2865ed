package sched

import (
	"math"
	"strconv"
	"time"
)

// calendarTrigger is APScheduler 3.11's CalendarIntervalTrigger: one
// wall-clock time of day, every years/months/weeks/days from start_date.
// Months and years keep the day of the month and skip the months where it
// does not exist (the 31st runs in 31-day months only); weeks and days are
// added after them. Wall times follow the DST policy of docs/triggers.md.
type calendarTrigger struct {
	months int   // years*12 + months
	days   int   // weeks*7 + days
	tod    int64 // the time of day, seconds after midnight
	start  int64 // start_date as a day number (days since 1970-01-01)
	end    int64 // end_date as a day number, inclusive; noEnd: none
	loc    *time.Location
}

// calendarMaxDay is the day number of 9999-12-31: like cron, a calendar
// interval never fires after the year 9999.
var calendarMaxDay = daysFromCivil(9999, 12, 31)

func compileCalendarInterval(s TriggerSpec, _ Env, zone *time.Location) (Trigger, error) {
	amounts := []struct {
		field string
		v     float64
	}{{"years", s.Years}, {"months", s.Months}, {"weeks", s.Weeks}, {"days", s.Days}}
	var n [4]int
	for i, a := range amounts {
		if math.IsNaN(a.v) || a.v < 0 || a.v != math.Trunc(a.v) {
			return nil, FieldError("trigger."+a.field, "%v: must be a whole number of %s, 0 or more", a.v, a.field)
		}
		if a.v > 10000 {
			return nil, FieldError("trigger."+a.field, "%v %s is too long", a.v, a.field)
		}
		n[i] = int(a.v)
	}
	c := &calendarTrigger{months: n[0]*12 + n[1], days: n[2]*7 + n[3], end: noEnd, loc: zone}
	if c.months == 0 && c.days == 0 {
		return nil, FieldError("trigger", "the interval is zero: give years, months, weeks or days (at least 1 day)")
	}
	tod := [3]struct {
		field string
		v     CronField
		max   int
		unit  int64
	}{{"hour", s.Hour, 23, 3600}, {"minute", s.Minute, 59, 60}, {"second", s.Second, 59, 1}}
	for _, f := range tod {
		if f.v == "" {
			continue
		}
		v, err := strconv.Atoi(string(f.v))
		if err != nil || v < 0 || v > f.max {
			return nil, FieldError("trigger."+f.field, "%q: must be a whole number from 0 to %d", string(f.v), f.max)
		}
		c.tod += int64(v) * f.unit
	}
	start, end, err := parseBounds(s, zone)
	if err != nil {
		return nil, err
	}
	if start.IsZero() {
		// Only a bare preview has no start_date: the scheduler stores the
		// day a job is added. Count from the preview's first day then.
		c.start = math.MinInt64
	} else {
		c.start = dayNumber(start.In(zone))
	}
	if !end.IsZero() {
		c.end = dayNumber(end.In(zone))
	}
	return c, nil
}

// dayNumber returns the day number of t's date on its wall clock.
func dayNumber(t time.Time) int64 {
	y, m, d := t.Date()
	return daysFromCivil(y, int(m), d)
}

// at returns the instant of the time of day on day z.
func (c *calendarTrigger) at(z int64) int64 { return resolveWall(c.loc, z*86400+c.tod) }

// step returns the date one interval after day z: months first, keeping
// z's day of the month and skipping months without it, then days.
func (c *calendarTrigger) step(z int64) int64 {
	if c.months > 0 {
		y, m, d := civilFromDays(z)
		mi := int64(y)*12 + int64(m-1)
		for {
			mi += int64(c.months)
			y, m := int(floorDiv(mi, 12)), int(floorMod(mi, 12))+1
			if y > 9999 {
				return calendarMaxDay + 1
			}
			if d <= daysIn(y, m) {
				z = daysFromCivil(y, m, d)
				break
			}
		}
	}
	return z + int64(c.days)
}

// Next implements Trigger: without prev, the first fire time at or after
// now (and on or after start_date); with prev, one interval after prev's
// date, as APScheduler.
func (c *calendarTrigger) Next(prev, now time.Time) (time.Time, bool) {
	var z int64
	if !prev.IsZero() {
		z = c.step(dayNumber(prev.In(c.loc)))
		for z <= calendarMaxDay && c.at(z) <= prev.Unix() {
			z = c.step(z)
		}
	} else {
		z = c.first(now)
	}
	if z > calendarMaxDay || (c.end != noEnd && z > c.end) {
		return time.Time{}, false
	}
	return time.Unix(c.at(z), 0).In(c.loc), true
}

// first returns the first date of the grid whose fire time is at or after
// now.
func (c *calendarTrigger) first(now time.Time) int64 {
	t := now.Unix()
	if now.Nanosecond() != 0 {
		t++
	}
	today := dayNumber(now.In(c.loc))
	start := c.start
	if start == math.MinInt64 {
		start = today
	}
	if today <= start {
		z := start
		for z <= calendarMaxDay && c.at(z) < t {
			z = c.step(z)
		}
		return z
	}
	var z int64
	switch {
	case c.months == 0: // every n days: closed form
		k := (today - start) / int64(c.days)
		z = start + k*int64(c.days)
	case c.days == 0: // every n months on start's day: closed form
		sy, sm, _ := civilFromDays(start)
		ty, tm, _ := civilFromDays(today)
		k := (int64(ty-sy)*12 + int64(tm-sm)) / int64(c.months)
		y, m, d := civilFromDays(start)
		mi := int64(y)*12 + int64(m-1) + k*int64(c.months)
		z = start
		// The grid point k may not exist (no such day that month): step
		// from the last one before it that does.
		for ; k >= 0; k-- {
			y, m := int(floorDiv(mi, 12)), int(floorMod(mi, 12))+1
			if d <= daysIn(y, m) {
				z = daysFromCivil(y, m, d)
				break
			}
			mi -= int64(c.months)
		}
	default: // both: walk from the start, at least a month a step
		z = start
		for {
			n := c.step(z)
			if n > today || n > calendarMaxDay {
				break
			}
			z = n
		}
	}
	for z <= calendarMaxDay && c.at(z) < t {
		z = c.step(z)
	}
	return z
}
