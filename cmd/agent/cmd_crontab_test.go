package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCrontabImport: the fragment printed for a realistic crontab is a
// valid config as it stands, and every line not converted is named.
func TestCrontabImport(t *testing.T) {
	files, _ := filepath.Glob("../../crontab/testdata/*.crontab")
	if len(files) == 0 {
		t.Fatal("no crontab in crontab/testdata")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			code, out, errs := run(t, "", "crontab", "import", f)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if !strings.Contains(out, "commands:") || !strings.Contains(out, "jobs:") {
				t.Fatalf("no fragment:\n%s", out)
			}
			c, err := ParseConfig(f+".yaml", []byte("device_id: t\ntimezone: UTC\n"+out))
			if err != nil {
				t.Fatalf("the fragment is not a valid config: %v\n%s", err, out)
			}
			if len(c.jobs) == 0 {
				t.Error("no job converted")
			}
			if !strings.Contains(errs, "line ") {
				t.Errorf("stderr names no line: %s", errs)
			}
		})
	}
	if code, _, _ := run(t, "", "crontab", "import", "/nonexistent/crontab"); code != 2 {
		t.Errorf("missing file: exit %d, want 2", code)
	}
	if code, _, _ := run(t, "", "crontab", "export"); code != 2 {
		t.Errorf("bad usage: exit %d, want 2", code)
	}
}
