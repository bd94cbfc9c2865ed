package crontab

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/edgecron/edgecron/internal/lazyre"
)

// Kind says what a crontab line is.
type Kind int

// Kinds of lines.
const (
	Blank    Kind = iota // empty or only blanks
	Comment              // starts with '#' (after blanks)
	Variable             // NAME=value
	Entry                // a schedule and a command
)

// Line is one parsed crontab line.
type Line struct {
	Kind Kind
	// Variable: its name and value (quotes removed).
	Name, Value string
	// Entry: Schedule is the five time fields joined by one space
	// ("30 6 * * 1-5"), or the @keyword as written ("@daily").
	Schedule string
	// User is the user field of a system crontab entry.
	User string
	// Command is the rest of the line, as written: cron's % escapes are
	// still in it (see ShellCommand).
	Command string
}

var (
	variableRE = lazyre.New(`^([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*)$`)
	// A time field: numbers, names (jan, mon), and * , - /.
	fieldRE = lazyre.New(`^[0-9A-Za-z*,/-]+$`)
)

var fieldNames = [5]string{"minute", "hour", "day of month", "month", "day of week"}

// ParseLine parses one crontab line. system selects the system crontab
// format (/etc/crontab, /etc/cron.d/*), whose entries have a user field
// between the schedule and the command. It checks the shape of the line and
// the characters of the time fields; the values are checked when the
// schedule is compiled as an edgecron cron expression.
func ParseLine(s string, system bool) (Line, error) {
	if !utf8.ValidString(s) {
		return Line{}, errors.New("is not valid UTF-8")
	}
	// A line cut from a file with CRLF (or CR) line ends carries a \r at
	// either end: it is white space here, never part of a command.
	s = strings.TrimRight(s, " \t\r\n")
	t := strings.TrimLeft(s, " \t\r\n")
	switch {
	case t == "":
		return Line{Kind: Blank}, nil
	case t[0] == '#':
		return Line{Kind: Comment}, nil
	}
	if m := variableRE.FindStringSubmatch(t); m != nil {
		return Line{Kind: Variable, Name: m[1], Value: unquote(m[2])}, nil
	}
	if c := t[0]; c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_' {
		return Line{}, errors.New("is neither a variable (NAME=value) nor an entry (an entry's minute field cannot start with a letter)")
	}
	l := Line{Kind: Entry}
	var rest string
	if t[0] == '@' {
		l.Schedule, rest = cutField(t)
		if len(l.Schedule) < 2 {
			return Line{}, errors.New("an @ schedule needs a name (@daily, @hourly...)")
		}
	} else {
		var fields [5]string
		rest = t
		for i := range fields {
			fields[i], rest = cutField(rest)
			if fields[i] == "" {
				return Line{}, fmt.Errorf("has %d time fields; an entry needs 5 (minute hour day-of-month month day-of-week) and a command", i)
			}
			if !fieldRE.MatchString(fields[i]) {
				return Line{}, fmt.Errorf("%s field %q: only digits, names, and * , - / may appear in a time field", fieldNames[i], fields[i])
			}
		}
		l.Schedule = strings.Join(fields[:], " ")
	}
	if system {
		l.User, rest = cutField(rest)
		if l.User == "" {
			return Line{}, errors.New("has no user field: a system crontab entry is schedule, user, command")
		}
	}
	// White space around the command (a stray \r between the fields of a
	// CRLF file, say) is not part of it.
	l.Command = strings.TrimSpace(rest)
	if l.Command == "" {
		return Line{}, errors.New("has no command after the schedule")
	}
	return l, nil
}

// cutField returns the first blank-separated field of s and the rest,
// leading blanks removed.
func cutField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

// unquote removes one pair of matching quotes around a variable's value, as
// cron does.
func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// ErrPercent is returned by ShellCommand for a command with an unescaped %.
var ErrPercent = errors.New("unescaped %")

// ShellCommand returns the command as cron hands it to the shell: "\%"
// becomes "%". An unescaped % is an error: cron turns it into a newline and
// sends the text after the first one to the command's standard input, which
// an edgecron command does not have (cronie's escaping rules are followed
// exactly: a backslash before anything but % stays).
func ShellCommand(cmd string) (string, error) {
	var b strings.Builder
	escaped := false
	for i, r := range cmd {
		switch {
		case escaped:
			if r != '%' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == '%':
			return "", fmt.Errorf("%w at column %d of the command", ErrPercent, i+1)
		default:
			b.WriteRune(r)
		}
	}
	if escaped {
		b.WriteByte('\\')
	}
	return b.String(), nil
}
