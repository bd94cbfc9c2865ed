package crontab

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/edgecron/edgecron/command"
	"github.com/edgecron/edgecron/internal/lazyre"
	"github.com/edgecron/edgecron/sched"
)

// DefaultShell runs a converted command, as it does under cron.
const DefaultShell = "/bin/sh"

// timeLikeRE matches a word that looks like a numeric time field.
var timeLikeRE = lazyre.New(`^[0-9*][0-9*,/-]*$`)

// maxLine bounds one line of input.
const maxLine = 1 << 20

// Options tune Convert.
type Options struct {
	// System reads the system crontab format (/etc/crontab, /etc/cron.d/*):
	// a user field between the schedule and the command.
	System bool
	// Source names the file in the fragment's header.
	Source string
}

// IsSystemPath reports whether path is where the system crontab format is
// used: /etc/crontab and the files of /etc/cron.d.
func IsSystemPath(p string) bool {
	p = filepath.Clean(p)
	return p == "/etc/crontab" || filepath.Dir(p) == "/etc/cron.d"
}

// Result is a converted crontab.
type Result struct {
	Options Options
	// Entries are the converted lines, in file order.
	Entries []Converted
	// Variables say, for each NAME=value line, what was done with it and why.
	Variables []Note
	// Skipped are the lines that could not be converted, and why.
	Skipped []Note
}

// Converted is one crontab entry turned into a command and a job.
type Converted struct {
	Line int    // 1-based
	Text string // the line as written
	// Name is both the command's name and the job's id.
	Name     string
	Expr     string // the cron expression of the job's trigger
	Boot     bool   // an @reboot line: the trigger is boot, Expr is empty
	Timezone string // from CRON_TZ; empty means the scheduler's zone
	Command  command.Spec
	// Warning, if any, is something to review before use.
	Warning string
}

// Note is a remark about one line.
type Note struct {
	Line   int
	Text   string
	Reason string
}

func (n Note) String() string { return fmt.Sprintf("line %d: %s: %s", n.Line, n.Text, n.Reason) }

const (
	whyMail = "ignored: edgecron sends no mail; each run's exit code and output tail go into the job's executed or error event instead"
)

// Convert reads a crontab and converts each entry into a command (run with
// the crontab's shell and `-c`, as cron does) and a job with a cron `expr`
// trigger. Lines it cannot convert are listed in Result.Skipped with the
// reason; variables in Result.Variables. The error is for reading only.
func Convert(r io.Reader, o Options) (Result, error) {
	res := Result{Options: o}
	env := map[string]string{}
	shell, tz := DefaultShell, ""
	names := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		text := strings.TrimRight(sc.Text(), "\r")
		skip := func(format string, a ...any) {
			res.Skipped = append(res.Skipped, Note{Line: n, Text: text, Reason: fmt.Sprintf(format, a...)})
		}
		l, err := ParseLine(text, o.System)
		if err != nil {
			skip("not converted: the line %v", err)
			continue
		}
		switch l.Kind {
		case Blank, Comment:
			continue
		case Variable:
			res.Variables = append(res.Variables, Note{Line: n, Text: text, Reason: variable(l, env, &shell, &tz)})
			continue
		}
		expr := l.Schedule
		boot := strings.EqualFold(expr, "@reboot")
		if strings.HasPrefix(expr, "@") && !boot {
			kw := strings.ToLower(expr)
			var known bool
			if expr, known = sched.CrontabMacro(kw); !known {
				skip("not converted: unknown schedule %q (cron knows @reboot, @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)", l.Schedule)
				continue
			}
		}
		cmd, err := ShellCommand(l.Command)
		if errors.Is(err, ErrPercent) {
			skip("not converted: %v: cron turns %% into a newline and sends the text after the first one to the command's standard input, which edgecron does not do; write \\%% for a literal %%, or move the input into a script", err)
			continue
		}
		spec := sched.TriggerSpec{Type: sched.TriggerCron, Expr: expr, Timezone: tz}
		if boot {
			// Cron runs @reboot lines when it starts after a boot; a boot
			// trigger runs once per boot, when the agent starts.
			spec, expr = sched.TriggerSpec{Type: sched.TriggerBoot}, ""
		}
		if _, err := spec.Compile(time.UTC); err != nil {
			skip("not converted: schedule %q: %v", l.Schedule, err)
			continue
		}
		name := uniqueName(commandName(cmd), names)
		c := Converted{Line: n, Text: text, Name: name, Expr: expr, Boot: boot, Timezone: tz,
			Command: command.Spec{Argv: []string{shell, "-c", cmd}}}
		if len(env) > 0 {
			c.Command.Env = maps.Clone(env)
		}
		if err := (command.Config{name: c.Command}).Validate(); err != nil {
			skip("not converted: %v", err)
			continue
		}
		var warnings []string
		if first, _ := cutField(cmd); timeLikeRE.MatchString(first) {
			warnings = append(warnings, fmt.Sprintf("the command starts with %q, which looks like a time field: a line with six time fields? cron runs it as part of the command", first))
		}
		if o.System {
			warnings = append(warnings, fmt.Sprintf("cron ran this as user %q; edgecron runs it as its own user (docs/commands.md: running a command as another user)", l.User))
		}
		c.Warning = strings.Join(warnings, "; ")
		names[name] = true
		res.Entries = append(res.Entries, c)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return res, fmt.Errorf("crontab line %d: longer than %d bytes", n+1, maxLine)
		}
		return res, fmt.Errorf("read crontab: %w", err)
	}
	return res, nil
}

// variable applies a NAME=value line to what follows and says how.
func variable(l Line, env map[string]string, shell, tz *string) string {
	switch l.Name {
	case "MAILTO", "MAILFROM", "CONTENT_TYPE", "CONTENT_TRANSFER_ENCODING":
		return whyMail
	case "RANDOM_DELAY":
		return "ignored: cronie's RANDOM_DELAY has no equivalent here; give a job's trigger a jitter (seconds) instead"
	case "CRON_TZ":
		*tz = l.Value
		return "applied: the time zone of the triggers of the entries below"
	case "SHELL":
		if !path.IsAbs(l.Value) {
			return fmt.Sprintf("ignored: %q is not an absolute path; the entries below keep %s", l.Value, *shell)
		}
		*shell = l.Value
		return fmt.Sprintf("applied: the entries below run as [%s, -c, <command>]", l.Value)
	}
	env[l.Name] = l.Value
	return "applied: set in the env of the commands below, as cron sets it in their environment"
}

// wrappers are programs whose first argument is not what a job is about;
// withArg are those that also take one (cd DIR, flock FILE, timeout 30s).
// (Lists, not map literals: a map literal is code that builds the map at
// start-up.)
var (
	wrappers = []string{"nice", "ionice", "nohup", "env", "exec", "sudo", "time", "chronic", "if", "then", "run-parts"}
	withArg  = []string{"cd", "flock", "timeout", "sleep", "test", "["}
)

// commandName derives a readable name from a shell command: the base name
// of the first program it runs that is not a wrapper, without a script
// extension ("backup" for "cd /srv && nice ./backup.sh --full").
func commandName(cmd string) string {
	toks := strings.FieldsFunc(cmd, func(r rune) bool {
		return r == ' ' || r == '\t' || strings.ContainsRune(";&|()<>`\"'", r)
	})
	skipArg := false
	for _, tok := range toks {
		switch {
		case strings.HasPrefix(tok, "-"), strings.HasPrefix(tok, "$"), strings.Contains(tok, "="):
			continue
		case isNumber(tok):
			continue
		case skipArg:
			skipArg = false
			continue
		}
		base := path.Base(tok)
		if slices.Contains(withArg, base) {
			skipArg = true
			continue
		}
		if slices.Contains(wrappers, base) {
			continue
		}
		for _, ext := range []string{".sh", ".bash", ".py", ".pl", ".rb"} {
			base = strings.TrimSuffix(base, ext)
		}
		if s := slug(base); strings.ContainsFunc(s, unicode.IsLetter) {
			return s
		}
	}
	return "cron"
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// slug keeps what a job id allows, lowercased, runs of others as one '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	out := strings.Trim(b.String(), ".")
	if len(out) > 56 {
		out = strings.Trim(out[:56], ".-")
	}
	return out
}

func uniqueName(base string, taken map[string]bool) string {
	if !taken[base] {
		return base
	}
	for i := 2; ; i++ {
		if n := base + "-" + strconv.Itoa(i); !taken[n] {
			return n
		}
	}
}
