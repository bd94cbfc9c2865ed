package sched

import (
	"fmt"
	"time"
)

// ParseTime parses a time in one of APScheduler's string forms:
//
//	YYYY-MM-DD
//	YYYY-MM-DD HH:MM:SS        (or with T instead of the space)
//	YYYY-MM-DD HH:MM:SS.ffffff (a fraction of 1 to 9 digits)
//
// optionally followed by Z or an offset ±HH:MM (±HHMM also accepted), so
// RFC 3339 and time.RFC3339Nano output parse too. Month, day, hour, minute and
// second may have one digit. A value with an offset is that instant; one
// without is wall time in loc: inside a spring-forward gap it moves forward
// by the gap, in a fall-back overlap it is the first occurrence. The result
// is in loc.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.Local
	}
	p := timeParser{s: s}
	t, err := p.parse(loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time %q: %s (want YYYY-MM-DD, YYYY-MM-DD HH:MM:SS[.fraction] or RFC 3339)", s, err)
	}
	return t, nil
}

type timeParser struct {
	s string
	i int
}

// digits reads between min and max decimal digits.
func (p *timeParser) digits(min, max int, what string) (int, error) {
	n, v := 0, 0
	for p.i < len(p.s) && n < max && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		v = v*10 + int(p.s[p.i]-'0')
		p.i++
		n++
	}
	if n < min {
		return 0, fmt.Errorf("bad %s at offset %d", what, p.i)
	}
	return v, nil
}

func (p *timeParser) expect(c byte, what string) error {
	if p.i >= len(p.s) || p.s[p.i] != c {
		return fmt.Errorf("expected %s at offset %d", what, p.i)
	}
	p.i++
	return nil
}

func (p *timeParser) parse(loc *time.Location) (time.Time, error) {
	year, err := p.digits(4, 4, "year")
	if err != nil {
		return time.Time{}, err
	}
	if err := p.expect('-', "'-'"); err != nil {
		return time.Time{}, err
	}
	month, err := p.digits(1, 2, "month")
	if err != nil {
		return time.Time{}, err
	}
	if err := p.expect('-', "'-'"); err != nil {
		return time.Time{}, err
	}
	day, err := p.digits(1, 2, "day")
	if err != nil {
		return time.Time{}, err
	}
	if month < 1 || month > 12 {
		return time.Time{}, fmt.Errorf("month %d out of range 1-12", month)
	}
	if day < 1 || day > daysIn(year, month) {
		return time.Time{}, fmt.Errorf("day %d out of range for %04d-%02d", day, year, month)
	}
	var hour, minute, sec, nsec int
	if p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', 'T', 't':
			p.i++
		default:
			return time.Time{}, fmt.Errorf("expected ' ' or 'T' at offset %d", p.i)
		}
		if hour, err = p.digits(1, 2, "hour"); err != nil {
			return time.Time{}, err
		}
		if err := p.expect(':', "':'"); err != nil {
			return time.Time{}, err
		}
		if minute, err = p.digits(1, 2, "minute"); err != nil {
			return time.Time{}, err
		}
		if err := p.expect(':', "':'"); err != nil {
			return time.Time{}, err
		}
		if sec, err = p.digits(1, 2, "second"); err != nil {
			return time.Time{}, err
		}
		if hour > 23 || minute > 59 || sec > 59 {
			return time.Time{}, fmt.Errorf("time %02d:%02d:%02d out of range", hour, minute, sec)
		}
		if p.i < len(p.s) && (p.s[p.i] == '.' || p.s[p.i] == ',') {
			p.i++
			start := p.i
			if nsec, err = p.digits(1, 9, "fraction"); err != nil {
				return time.Time{}, err
			}
			for n := p.i - start; n < 9; n++ {
				nsec *= 10
			}
		}
		if p.i < len(p.s) {
			off, err := p.offset()
			if err != nil {
				return time.Time{}, err
			}
			if p.i != len(p.s) {
				return time.Time{}, fmt.Errorf("unexpected %q after the time", p.s[p.i:])
			}
			fixed := time.FixedZone("", off)
			return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, fixed).In(loc), nil
		}
	}
	x := resolveWall(loc, wallSeconds(year, month, day, hour, minute, sec))
	return time.Unix(x, int64(nsec)).In(loc), nil
}

// offset reads Z or ±HH:MM / ±HHMM and returns it in seconds east of UTC.
func (p *timeParser) offset() (int, error) {
	c := p.s[p.i]
	if c == 'Z' || c == 'z' {
		p.i++
		return 0, nil
	}
	if c != '+' && c != '-' {
		return 0, fmt.Errorf("unexpected %q after the time", p.s[p.i:])
	}
	p.i++
	hh, err := p.digits(2, 2, "offset hours")
	if err != nil {
		return 0, err
	}
	if p.i < len(p.s) && p.s[p.i] == ':' {
		p.i++
	}
	mm, err := p.digits(2, 2, "offset minutes")
	if err != nil {
		return 0, err
	}
	if hh > 23 || mm > 59 {
		return 0, fmt.Errorf("offset %02d:%02d out of range", hh, mm)
	}
	off := hh*3600 + mm*60
	if c == '-' {
		off = -off
	}
	return off, nil
}
