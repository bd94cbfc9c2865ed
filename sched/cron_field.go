package sched

import (
	"fmt"
	"strings"
)

// The cron field grammar, shared by the field form and the crontab form:
//
//	field := term { "," term }          (spaces around commas allowed)
//	term  := "*" [ "/" step ]
//	       | value [ "-" value ] [ "/" step ]
//	       | "last"                     (day field only)
//	       | position " " weekday       (day field only: 1st..5th, last)
//	value := number | name              (names: months, weekdays; any case)
//
// A value with a step and no end ("5/15") runs to the field's maximum.

// cronRange is one term first-last/step, in the field's own numbering.
type cronRange struct{ first, last, step int }

// dayTerm is a day-field term that depends on the month: "last" (n == 0,
// wd < 0), "last fri" (n == 0), "2nd mon" (n == 2).
type dayTerm struct {
	n  int // 1..5, or 0 for last
	wd int // 0 = Monday, or -1 for the last day of the month
}

// day returns the day of the month the term selects in a month of dim days
// whose first day is weekday wd1, or 0 when there is none.
func (t dayTerm) day(wd1, dim int) int {
	if t.wd < 0 {
		return dim
	}
	first := (t.wd-wd1+7)%7 + 1
	if t.n == 0 {
		return first + (dim-first)/7*7
	}
	if d := first + (t.n-1)*7; d <= dim {
		return d
	}
	return 0
}

// cronFieldDef describes one field: its name in errors, range, and names.
type cronFieldDef struct {
	name     string
	min, max int
	names    []string // names[i] has the value nameBase+i
	nameBase int
	dayTerms bool // "last", "1st fri"... allowed
}

var (
	monthNames   = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
	weekdayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	// crontab numbering: 0 (and 7) = Sunday
	crontabDayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	positionNames   = []string{"1st", "2nd", "3rd", "4th", "5th"}
)

// The fields of the field form, most significant first, as APScheduler.
var cronFieldDefs = [...]cronFieldDef{
	{name: "year", min: 1970, max: 9999},
	{name: "month", min: 1, max: 12, names: monthNames, nameBase: 1},
	{name: "day", min: 1, max: 31, dayTerms: true},
	{name: "week", min: 1, max: 53},
	{name: "day_of_week", min: 0, max: 6, names: weekdayNames},
	{name: "hour", min: 0, max: 23},
	{name: "minute", min: 0, max: 59},
	{name: "second", min: 0, max: 59},
}

// Indexes into cronFieldDefs.
const (
	fYear = iota
	fMonth
	fDay
	fWeek
	fDow
	fHour
	fMinute
	fSecond
	nFields
)

// parsedField is a parsed field: its ranges, its day terms, and whether it
// was written starting with "*" (crontab's day OR rule looks at that).
type parsedField struct {
	ranges []cronRange
	days   []dayTerm
	star   bool
}

// mask returns the set of values of the ranges as bits (values <= 63).
func (p parsedField) mask() uint64 {
	var m uint64
	for _, r := range p.ranges {
		for v := r.first; v <= r.last; v += r.step {
			m |= 1 << uint(v)
		}
	}
	return m
}

// parseCronField parses one field's expression. The error says what is
// wrong with which term; the caller adds the field name.
func parseCronField(def *cronFieldDef, expr string) (parsedField, error) {
	var out parsedField
	trimmed := strings.TrimSpace(expr)
	if trimmed == "" {
		return out, fmt.Errorf("empty expression")
	}
	out.star = trimmed[0] == '*'
	for _, term := range strings.Split(trimmed, ",") {
		term = strings.TrimSpace(term)
		if term == "" {
			return out, fmt.Errorf("%q: empty term in the list", expr)
		}
		if err := parseCronTerm(def, term, &out); err != nil {
			return out, fmt.Errorf("%q: %w", term, err)
		}
	}
	return out, nil
}

func parseCronTerm(def *cronFieldDef, term string, out *parsedField) error {
	lower := strings.ToLower(term)
	if def.dayTerms {
		if lower == "last" {
			out.days = append(out.days, dayTerm{n: 0, wd: -1})
			return nil
		}
		if pos, wd, ok := strings.Cut(lower, " "); ok {
			n := -1
			if pos == "last" {
				n = 0
			}
			for i, p := range positionNames {
				if pos == p {
					n = i + 1
				}
			}
			if n < 0 {
				return fmt.Errorf("unknown position %q: want 1st, 2nd, 3rd, 4th, 5th or last", pos)
			}
			wd = strings.TrimSpace(wd)
			w := indexOf(weekdayNames, wd)
			if w < 0 {
				return fmt.Errorf("unknown weekday %q: want mon, tue, wed, thu, fri, sat or sun", wd)
			}
			out.days = append(out.days, dayTerm{n: n, wd: w})
			return nil
		}
	}

	rng, stepStr, hasStep := strings.Cut(lower, "/")
	r := cronRange{step: 1}
	if hasStep {
		step, ok := atoiSmall(stepStr)
		if !ok {
			return fmt.Errorf("step %q is not a number", stepStr)
		}
		if step == 0 {
			return fmt.Errorf("step 0: the step must be 1 or more")
		}
		r.step = step
	}
	if strings.HasPrefix(rng, "-") {
		return fmt.Errorf("values cannot be negative")
	}
	if rng == "*" {
		r.first, r.last = def.min, def.max
	} else {
		a, b, isRange := strings.Cut(rng, "-")
		first, err := def.value(a)
		if err != nil {
			return err
		}
		r.first, r.last = first, first
		switch {
		case isRange:
			last, err := def.value(b)
			if err != nil {
				return err
			}
			// crontab's "fri-sun": sun ends a range as 7.
			if def.max == 7 && last == 0 && first > 0 {
				last = 7
			}
			if first > last {
				return fmt.Errorf("range %s-%s: the start is after the end", a, b)
			}
			r.last = last
		case hasStep:
			r.last = def.max
		}
	}
	if span := r.last - r.first; span > 0 && r.step > span {
		return fmt.Errorf("step %d is larger than the range %d-%d", r.step, r.first, r.last)
	}
	out.ranges = append(out.ranges, r)
	return nil
}

// value parses a number or a name of the field and checks its range.
func (def *cronFieldDef) value(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing value")
	}
	if s[0] >= '0' && s[0] <= '9' {
		v, ok := atoiSmall(s)
		if !ok && strings.Trim(s, "0123456789") == "" {
			return 0, fmt.Errorf("%s is out of range %d-%d", s, def.min, def.max)
		}
		if !ok {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		if v < def.min || v > def.max {
			return 0, fmt.Errorf("%d is out of range %d-%d", v, def.min, def.max)
		}
		return v, nil
	}
	if i := indexOf(def.names, s); i >= 0 {
		return def.nameBase + i, nil
	}
	if def.names == nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return 0, fmt.Errorf("unknown name %q: want %s", s, strings.Join(def.names, ", "))
}

// atoiSmall parses 1 to 5 decimal digits.
func atoiSmall(s string) (int, bool) {
	if len(s) == 0 || len(s) > 5 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
