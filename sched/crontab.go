package sched

import (
	"fmt"
	"strings"
)

// The crontab form: "minute hour day-of-month month day-of-week" with the
// standard (Vixie) meaning, where day-of-week counts 0 and 7 as Sunday and
// day-of-month and day-of-week are ORed when both are restricted (neither
// starts with "*"); plus the @ macros.

var crontabFieldDefs = [5]cronFieldDef{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day-of-month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: monthNames, nameBase: 1},
	{name: "day-of-week", min: 0, max: 7, names: crontabDayNames},
}

// CrontabMacro returns the five crontab fields an @ macro stands for
// ("@daily": "0 0 * * *"), case-insensitively, and whether it is one.
func CrontabMacro(name string) (string, bool) {
	name = strings.ToLower(name)
	for _, m := range crontabMacros {
		if m.name == name {
			return m.fields, true
		}
	}
	return "", false
}

// crontabMacros: a table, not a map literal, which would be code that
// builds the map at start-up.
var crontabMacros = [...]struct{ name, fields string }{
	{"@yearly", "0 0 1 1 *"},
	{"@annually", "0 0 1 1 *"},
	{"@monthly", "0 0 1 * *"},
	{"@weekly", "0 0 * * 0"},
	{"@daily", "0 0 * * *"},
	{"@midnight", "0 0 * * *"},
	{"@hourly", "0 * * * *"},
}

// setCrontab compiles a crontab expression; errors name trigger.expr.
func (c *cronTrigger) setCrontab(expr string) error {
	fields, err := splitCrontab(expr)
	if err != nil {
		return FieldError("trigger.expr", "%v", err)
	}
	var parsed [5]parsedField
	for i, f := range fields {
		p, err := parseCronField(&crontabFieldDefs[i], f)
		if err != nil {
			return FieldError("trigger.expr", "%s field: %v", crontabFieldDefs[i].name, err)
		}
		parsed[i] = p
	}
	c.seconds = 1
	c.minutes = parsed[0].mask()
	c.hours = parsed[1].mask()
	c.dom = parsed[2].mask()
	c.months = parsed[3].mask()
	// Sunday is 0 and 7 in crontab numbering; Monday is bit 0 here.
	var dow uint64
	cron := parsed[4].mask()
	for v := 0; v <= 7; v++ {
		if cron&(1<<uint(v)) != 0 {
			dow |= 1 << uint((v+6)%7)
		}
	}
	c.setDow(dow)
	c.or = !parsed[2].star && !parsed[4].star
	c.weeks = (1<<54 - 1) &^ 1
	c.finish()
	return nil
}

// splitCrontab expands a macro and splits the expression into its five
// fields.
func splitCrontab(expr string) ([]string, error) {
	e := strings.TrimSpace(expr)
	if strings.HasPrefix(e, "@") {
		m, ok := CrontabMacro(e)
		if !ok {
			if strings.EqualFold(e, "@reboot") {
				return nil, fmt.Errorf(`unknown macro %q: use a trigger of its own, {"type": "boot"}`, e)
			}
			return nil, fmt.Errorf("unknown macro %q: want @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly", e)
		}
		e = m
	}
	fields := strings.Fields(e)
	if len(fields) != 5 {
		return nil, fmt.Errorf("%q has %d fields, want 5: minute hour day-of-month month day-of-week", expr, len(fields))
	}
	return fields, nil
}
