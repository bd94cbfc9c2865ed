package crontab

import (
	"errors"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		in     string
		system bool
		want   Line
		err    string
	}{
		{in: "", want: Line{Kind: Blank}},
		{in: " \t ", want: Line{Kind: Blank}},
		{in: "# comment", want: Line{Kind: Comment}},
		{in: "   # indented comment", want: Line{Kind: Comment}},
		{in: "MAILTO=pi@example.com", want: Line{Kind: Variable, Name: "MAILTO", Value: "pi@example.com"}},
		{in: `MAILTO=""`, want: Line{Kind: Variable, Name: "MAILTO", Value: ""}},
		{in: `BACKUP_DIR = "/mnt/nas backups"`, want: Line{Kind: Variable, Name: "BACKUP_DIR", Value: "/mnt/nas backups"}},
		{in: `X='a b' `, want: Line{Kind: Variable, Name: "X", Value: "a b"}},
		{in: `X="a'`, want: Line{Kind: Variable, Name: "X", Value: `"a'`}},
		{in: "30 6 * * 1-5 /usr/local/bin/backup.sh --full",
			want: Line{Kind: Entry, Schedule: "30 6 * * 1-5", Command: "/usr/local/bin/backup.sh --full"}},
		{in: "\t*/10  6-20\t* *   *\techo  two  spaces   ",
			want: Line{Kind: Entry, Schedule: "*/10 6-20 * * *", Command: "echo  two  spaces"}},
		{in: "15 8 * jun-aug MON,wed x", want: Line{Kind: Entry, Schedule: "15 8 * jun-aug MON,wed", Command: "x"}},
		{in: "@daily /usr/sbin/logrotate", want: Line{Kind: Entry, Schedule: "@daily", Command: "/usr/sbin/logrotate"}},
		{in: "@reboot /x", want: Line{Kind: Entry, Schedule: "@reboot", Command: "/x"}},
		{in: "17 * * * * root cd / && run-parts /etc/cron.hourly", system: true,
			want: Line{Kind: Entry, Schedule: "17 * * * *", User: "root", Command: "cd / && run-parts /etc/cron.hourly"}},
		{in: "@hourly\tpi\t/x", system: true, want: Line{Kind: Entry, Schedule: "@hourly", User: "pi", Command: "/x"}},
		{in: "30 6 * * 1-5 /x\r", want: Line{Kind: Entry, Schedule: "30 6 * * 1-5", Command: "/x"}},
		{in: "\r30 6 * * 1-5 /x", want: Line{Kind: Entry, Schedule: "30 6 * * 1-5", Command: "/x"}},
		{in: "\r\n@daily /x\r\n", want: Line{Kind: Entry, Schedule: "@daily", Command: "/x"}},
		{in: "\rMAILTO=a\r", want: Line{Kind: Variable, Name: "MAILTO", Value: "a"}},
		{in: "\r# c", want: Line{Kind: Comment}},
		{in: "\r", want: Line{Kind: Blank}},
		{in: "@daily \r/x\v", want: Line{Kind: Entry, Schedule: "@daily", Command: "/x"}},
		{in: "@daily \r", err: "has no command"},

		{in: "30 6 * *", err: "has 4 time fields; an entry needs 5"},
		{in: "30 6 * * 1-5", err: "has no command"},
		{in: "30 6 * * 1-5   ", err: "has no command"},
		{in: "@daily", err: "has no command"},
		{in: "@ /x", err: "an @ schedule needs a name"},
		{in: "30 6 * * 1-5 root", system: true, err: "has no command"},
		{in: "30 6 * * 1-5", system: true, err: "has no user field"},
		{in: "30 6? * * 1-5 /x", err: `hour field "6?": only digits, names, and * , - / may appear`},
		{in: "0 0 L * * /x", err: ""}, // letters pass the shape check; the expression compiler judges them
		{in: "MAILTO pi", err: "is neither a variable (NAME=value) nor an entry"},
		{in: "30 6 * * 1-5 \xff", err: "is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLine(tt.in, tt.system)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseLine = %+v, %v; want error %q", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLine: %v", err)
			}
			if tt.want.Kind != 0 || tt.want != (Line{}) {
				if got != tt.want {
					t.Errorf("ParseLine = %+v\nwant        %+v", got, tt.want)
				}
			}
		})
	}
}

func TestShellCommand(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{`date +\%Y-\%m-\%d`, `date +%Y-%m-%d`, ""},
		{`echo a\b \\n`, `echo a\b \\n`, ""},
		{`echo trailing\`, `echo trailing\`, ""},
		{`/usr/bin/wall%Lunch%Go`, "", "unescaped % at column 14 of the command"},
		{`echo \\%`, "", "unescaped % at column 8"}, // cronie: "\\" is kept, so the % is unescaped
		{`printf 'é%'`, "", "unescaped % at column 11"},
	}
	for _, tt := range tests {
		got, err := ShellCommand(tt.in)
		if tt.err != "" {
			if !errors.Is(err, ErrPercent) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ShellCommand(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ShellCommand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{
		"30 6 * * 1-5 /usr/local/bin/backup.sh --full",
		"@daily /x", "MAILTO=a", "# c", "", "17 * * * * root cd / && run-parts /etc/cron.hourly",
		"*/10 6-20 * * * date +\\%Y%stdin", " \t@reboot\tx", "A = 'b'", "0 0 1,15 jan-mar mon-fri x\r", "\r@daily x",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, system bool) {
		l, err := ParseLine(s, system)
		if err != nil {
			if l != (Line{}) {
				t.Fatalf("error %v with a non-empty line %+v", err, l)
			}
			return
		}
		switch l.Kind {
		case Blank, Comment:
			return
		case Variable:
			if !variableRE.MatchString(l.Name + "=" + l.Value) {
				t.Fatalf("variable %+v does not read back", l)
			}
			return
		}
		if l.Command == "" || l.Command != strings.TrimSpace(l.Command) {
			t.Fatalf("command %q is empty or not trimmed", l.Command)
		}
		if !strings.HasPrefix(l.Schedule, "@") && len(strings.Fields(l.Schedule)) != 5 {
			t.Fatalf("schedule %q does not have 5 fields", l.Schedule)
		}
		if system == (l.User == "") {
			t.Fatalf("user %q for system=%v", l.User, system)
		}
		// The canonical form of the entry parses back to the same entry.
		canon := l.Schedule + " " + l.User + " " + l.Command
		if !system {
			canon = l.Schedule + " " + l.Command
		}
		again, err := ParseLine(canon, system)
		if err != nil || again != l {
			t.Fatalf("%q re-parsed as %+v, %v; want %+v", canon, again, err, l)
		}
		if c, err := ShellCommand(l.Command); err == nil && strings.Count(c, "%") != strings.Count(l.Command, "%") {
			t.Fatalf("ShellCommand(%q) = %q lost or added a %%", l.Command, c)
		}
	})
}
