package command

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/sched"
)

func TestConfigDecodesFromYAML(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "commands.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Commands Config `yaml:"commands"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := doc.Commands.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	b2 := doc.Commands["backup"]
	if b2.Timeout.D() != 10*time.Minute || b2.MaxOutput.N() != 64<<10 || b2.KillGrace.D() != 30*time.Second {
		t.Errorf("backup = %+v", b2)
	}
	if got := strings.Join(b2.Argv, " "); got != "/usr/local/bin/backup.sh --quiet" {
		t.Errorf("argv = %q", got)
	}
	if b2.Dir != "/var/backups" || b2.Env["TARGET"] != "nas:/backups" {
		t.Errorf("dir/env = %q %v", b2.Dir, b2.Env)
	}
	photo := doc.Commands["photo"]
	if len(photo.Args) != 1 || photo.MinArgs != 0 {
		t.Errorf("photo = %+v", photo)
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // each must appear in the error
	}{
		{"ok", Config{"a": {Argv: []string{"/bin/true"}}}, nil},
		{"no argv", Config{"backup": {}}, []string{"commands.backup.argv: is required"}},
		{"relative program", Config{"backup": {Argv: []string{"backup.sh"}}},
			[]string{`commands.backup.argv[0]: must be an absolute path, got "backup.sh"`}},
		{"NUL in argv", Config{"b": {Argv: []string{"/bin/echo", "a\x00b"}}}, []string{"commands.b.argv[1]: must not contain a NUL byte"}},
		{"relative dir", Config{"b": {Argv: []string{"/bin/true"}, Dir: "tmp"}}, []string{`commands.b.dir: must be an absolute path, got "tmp"`}},
		{"bad env name", Config{"b": {Argv: []string{"/bin/true"}, Env: map[string]string{"A=B": "x"}}}, []string{`commands.b.env: "A=B" is not a valid variable name`}},
		{"bad regexp", Config{"b": {Argv: []string{"/bin/true"}, Args: []string{"("}}}, []string{"commands.b.args[0]: invalid regular expression"}},
		{"min_args too big", Config{"b": {Argv: []string{"/bin/true"}, Args: []string{"x"}, MinArgs: 2}},
			[]string{"commands.b.min_args: must be between 0 and the number of args patterns (1), got 2"}},
		{"max_output too big", Config{"b": {Argv: []string{"/bin/true"}, MaxOutput: 2 << 20}},
			[]string{"commands.b.max_output: 2MiB is more than the limit of 1MiB"}},
		{"bad name", Config{"back up": {Argv: []string{"/bin/true"}}}, []string{"commands.back up: a command name must match"}},
		{"all problems, sorted", Config{"z": {}, "a": {Argv: []string{"x"}}},
			[]string{"commands.a.argv[0]: must be an absolute path", "commands.z.argv: is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", tt.cfg)
			}
			last := -1
			for _, w := range tt.want {
				i := strings.Index(err.Error(), w)
				if i < 0 {
					t.Errorf("error %q lacks %q", err, w)
				}
				if i < last {
					t.Errorf("error %q: %q out of order", err, w)
				}
				last = i
			}
			if _, err := NewHandler(tt.cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}); err == nil {
				t.Error("NewHandler accepted an invalid config")
			}
		})
	}
}

func TestValidateAction(t *testing.T) {
	h, err := NewHandler(Config{
		"backup": {Argv: []string{"/bin/true"}},
		"photo":  {Argv: []string{"/bin/true"}, Args: []string{"(day|night)", "[0-9]{1,4}"}, MinArgs: 1},
	}, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		action string
		field  string // "" when valid
		msg    string
	}{
		{`{"type":"exec","command":"backup"}`, "", ""},
		{`{"type":"exec","command":"photo","args":["day"]}`, "", ""},
		{`{"type":"exec","command":"photo","args":["night","1200"]}`, "", ""},
		{`{"type":"exec"}`, "action.command", "is required"},
		{`{"type":"exec","command":"rm -rf /"}`, "action.command", `command "rm -rf /" is not declared under commands:`},
		{`{"type":"exec","command":"backup","args":["--all"]}`, "action.args", `command "backup" takes no extra arguments (its declaration has no args:)`},
		{`{"type":"exec","command":"photo"}`, "action.args", `command "photo" needs at least 1 extra arguments, got 0`},
		{`{"type":"exec","command":"photo","args":["day","1","x"]}`, "action.args", `command "photo" takes at most 2 extra arguments, got 3`},
		{`{"type":"exec","command":"photo","args":["day; rm -rf /"]}`, "action.args[0]", `"day; rm -rf /" is not allowed: commands.photo.args[0] is "(day|night)"`},
		{`{"type":"exec","command":"photo","args":["day","12345"]}`, "action.args[1]", `"12345" is not allowed`},
		{`{"type":"exec","command":"photo","args":["day","1\u0000"]}`, "action.args[1]", "must not contain a NUL byte"},
		{`{"type":"exec","command":"backup","argv":["/bin/sh","-c","x"]}`, "action.argv", "unknown field"},
		{`{"type":"exec","command":"backup","shell":"rm -rf /"}`, "action.shell", "unknown field"},
		{`{"type":"exec","command":7}`, "action.command", "must be string"},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			var a sched.Action
			if err := a.UnmarshalJSON([]byte(tt.action)); err != nil {
				t.Fatal(err)
			}
			err := h.Validate(a)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			e, ok := err.(*sched.Error)
			if !ok {
				t.Fatalf("error %v (%T) is not a *sched.Error", err, err)
			}
			if e.Code != sched.CodeBadRequest || e.Field != tt.field || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("error = {%s %s %q}, want {bad_request %s ...%q...}", e.Code, e.Field, e.Message, tt.field, tt.msg)
			}
		})
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		writes []string
		want   string
		trunc  bool
	}{
		{"fits", 10, []string{"abc", "def"}, "abcdef", false},
		{"exact", 6, []string{"abc", "def"}, "abcdef", false},
		{"small writes", 4, []string{"ab", "cd", "ef", "gh", "ij"}, "ghij", true},
		{"one big write", 4, []string{"abcdefghij"}, "ghij", true},
		{"big after small", 4, []string{"xy", "abcdefghij"}, "ghij", true},
		{"cut inside a rune", 4, []string{"aaaa", "bé€"}, "€", true}, // "bé€" is 1+2+3 bytes; the last 4 start inside é
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := newTail(tt.max)
			total := 0
			for _, w := range tt.writes {
				if n, err := tl.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
				total += len(w)
			}
			if got := tl.String(); got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
			if tl.truncated() != tt.trunc || tl.total != int64(total) {
				t.Errorf("truncated = %v total = %d", tl.truncated(), tl.total)
			}
		})
	}
}

func FuzzTail(f *testing.F) {
	f.Add([]byte("hello world"), uint8(3), uint8(4))
	f.Add([]byte("ééééé€€€"), uint8(2), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, chunk, max uint8) {
		if chunk == 0 || max == 0 {
			return
		}
		tl := newTail(int(max))
		for i := 0; i < len(data); i += int(chunk) {
			tl.Write(data[i:min(len(data), i+int(chunk))])
		}
		got := tl.String()
		if !strings.HasSuffix(string(data), got) {
			t.Fatalf("tail %q is not a suffix of %q", got, data)
		}
		if len(got) > int(max) || (len(data) <= int(max) && got != string(data)) {
			t.Fatalf("tail %q of %q with max %d", got, data, max)
		}
		if len(data) > int(max) && len(got) < int(max)-3 {
			t.Fatalf("tail %q dropped more than a partial rune", got)
		}
	})
}
