package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgecron/edgecron/sched"
)

// TestImportNamesJobID: a bad entry of an import file is named by its job
// id (or, without one, by its position), never by its array index.
func TestImportNamesJobID(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`[{"id":"ok","trigger":{"type":"interval","hours":1},"action":{"type":"read","sensor":"t"}},
		   {"id":"pump-morning","trigger":{"type":"interval","hours":"soon"},"action":{"type":"read","sensor":"t"}}]`,
			`job "pump-morning": trigger.hours`},
		{`[{"trigger":{"type":"interval","hours":1},"action":{"type":"read","sensor":"t"}, "colour": 1}]`, `entry 1 (no id): colour: `},
	} {
		_, err := sched.DecodeJobs([]byte(tc.doc), sched.ModeImport)
		if err == nil {
			t.Fatalf("%s decoded", tc.doc)
		}
		got := byJobID([]byte(tc.doc), err)
		if !strings.HasPrefix(got.Error(), tc.want) || strings.Contains(got.Error(), "[1]") {
			t.Errorf("byJobID(%v) = %q, want prefix %q", err, got, tc.want)
		}
		if sched.ErrorCode(got) != sched.ErrorCode(err) {
			t.Errorf("code %s, want %s", sched.ErrorCode(got), sched.ErrorCode(err))
		}
	}

	// Through the command, offline: the handler's check names the job too.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.yaml")
	os.WriteFile(cfg, []byte("device_id: imp\nhardware: {board: sim}\nsensors: [{name: t, driver: sim}]\ncontrol: {socket: "+dir+"/s.sock}\n"), 0o644)
	f := filepath.Join(dir, "jobs.json")
	os.WriteFile(f, []byte(`[{"id":"a","trigger":{"type":"interval","hours":1},"action":{"type":"read","sensor":"t"}},
	  {"id":"soil-now","trigger":{"type":"interval","hours":1},"action":{"type":"read","sensor":"soil"}}]`), 0o644)
	code, _, errs := run(t, "", "jobs", "import", f, "--config", cfg, "--db", filepath.Join(dir, "a.db"))
	if code != exitUsage || !strings.Contains(errs, `job "soil-now": action.sensor: no sensor "soil"`) {
		t.Errorf("import: exit %d: %s", code, errs)
	}

	// A reading trigger or a condition naming a sensor the config lacks is
	// refused offline too, as the running agent refuses it.
	for _, doc := range []string{
		`[{"id":"wet","trigger":{"type":"reading","sensor":"soil","above":3},"action":{"type":"read","sensor":"t"}}]`,
		`[{"id":"dry","trigger":{"type":"interval","hours":1},"action":{"type":"read","sensor":"t"},
		   "conditions":[{"sensor":"soil","below":3}]}]`,
	} {
		os.WriteFile(f, []byte(doc), 0o644)
		code, _, errs := run(t, "", "jobs", "import", f, "--config", cfg, "--db", filepath.Join(dir, "a.db"))
		if code == 0 || !strings.Contains(errs, `no sensor "soil"`) {
			t.Errorf("offline import of %s: exit %d: %s", doc, code, errs)
		}
	}
}
