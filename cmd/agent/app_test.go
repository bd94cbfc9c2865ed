package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIConventions: --version and -h/--help everywhere, help on standard
// output with exit 0, usage errors on standard error with exit 2.
func TestCLIConventions(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		out, errs string // substrings; "" for an empty stream
	}{
		{"version flag", []string{"--version"}, 0, "edgecron dev\n", ""},
		{"version command", []string{"version"}, 0, "edgecron dev\n", ""},
		{"version after a command", []string{"run", "--version"}, 0, "edgecron dev\n", ""},
		{"help", []string{"--help"}, 0, "usage: edgecron <command>", ""},
		{"-h", []string{"-h"}, 0, "usage: edgecron <command>", ""},
		{"help command", []string{"help"}, 0, "Exit codes: 0 success", ""},
		{"help CMD", []string{"help", "reload"}, 0, "usage: edgecron reload", ""},
		{"nothing", nil, 2, "", "usage: edgecron <command>"},
		{"unknown command", []string{"fly"}, 2, "", `unknown command "fly"`},
		{"unknown flag", []string{"check-config", "--nope"}, 2, "", "flag provided but not defined: -nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			for _, s := range []struct{ name, got, want string }{{"stdout", out, tc.out}, {"stderr", errs, tc.errs}} {
				if s.want == "" && s.got != "" || !strings.Contains(s.got, s.want) {
					t.Errorf("%s = %q, want %q", s.name, s.got, s.want)
				}
			}
		})
	}
	// Every command's --help: on standard output, exit 0.
	for name := range commands {
		code, out, errs := run(t, "", name, "--help")
		if code != 0 || !strings.HasPrefix(out, "usage: edgecron "+name) || errs != "" {
			t.Errorf("%s --help: exit %d, stdout %q, stderr %q", name, code, out, errs)
		}
	}
}

// TestJobsListJSON: the table has a JSON form, on standard output alone.
func TestJobsListJSON(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.yaml")
	os.WriteFile(cfg, []byte("device_id: j\nhardware: {board: sim}\nsensors: [{name: t, driver: sim, interval: 1m}]\ncontrol: {socket: "+dir+"/s.sock}\n"+
		"jobs:\n  - {id: a, trigger: {type: interval, hours: 1}, action: {type: read, sensor: t}}\n"), 0o644)
	f := filepath.Join(dir, "jobs.json")
	os.WriteFile(f, []byte(`[{"id":"b","trigger":{"type":"interval","hours":2},"action":{"type":"read","sensor":"t"}}]`), 0o644)
	db := filepath.Join(dir, "a.db")
	if code, _, errs := run(t, "", "jobs", "import", f, "--config", cfg, "--db", db); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errs)
	}
	code, out, errs := run(t, "", "jobs", "list", "--json", "--config", cfg, "--db", db)
	var jobs []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &jobs); err != nil || code != 0 || len(jobs) != 1 || jobs[0].ID != "b" {
		t.Errorf("jobs list --json: exit %d, %v: %s %s", code, err, out, errs)
	}
}

// TestZoneName: check-config names the host's zone when the config sets
// none, so that the default is visible.
func TestZoneName(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	if got := zoneName(berlin); got != "Europe/Berlin" {
		t.Errorf("zoneName(Berlin) = %q", got)
	}
	t.Setenv("TZ", "America/Chicago")
	if got := zoneName(time.Local); got != "America/Chicago (the host's)" {
		t.Errorf("zoneName(Local) with TZ = %q", got)
	}
}
