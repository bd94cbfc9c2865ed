package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportThroughTheSocketExitsZero: `jobs import` against a running
// agent exits 0 and says how many jobs it imported once the agent has
// committed them — a large import too, and one that replaces what it
// imported before; a refused import exits 2 and changes nothing.
func TestImportThroughTheSocketExitsZero(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.yaml")
	cfg := fmt.Sprintf("device_id: imp\ntimezone: UTC\nclock: {source: rtc}\nhardware: {board: sim}\nstore: {path: %[1]s/agent.db}\ncontrol: {socket: %[1]s/agent.sock}\ncommands:\n  mark: {argv: [/bin/true], args: [\"[a-z]+\"]}\n", dir)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	notify := notifySocket(t)
	var stderr syncBuffer
	stop := startAgent(t, cfgPath, notify, &stderr)
	defer stop()

	var docs []map[string]any
	for i := range 300 {
		docs = append(docs, map[string]any{"id": fmt.Sprintf("j%03d", i), "name": strings.Repeat("n", 100),
			"trigger": map[string]any{"type": "interval", "minutes": 5}, "action": map[string]any{"type": "exec", "command": "mark", "args": []string{"x"}}})
	}
	b, _ := json.Marshal(docs)
	file := filepath.Join(dir, "jobs.json")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	for round := range 2 { // the second replaces the first
		code, out, errs := run(t, "", "jobs", "import", file, "--config", cfgPath)
		if code != 0 || !strings.Contains(out, "imported 300 job(s)") {
			t.Fatalf("import %d through the socket: exit %d\n%s%s\nagent log:\n%s", round, code, out, errs, stderr.String())
		}
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[{"id":"j000","trigger":{"type":"interval","seconds":0.001},"action":{"type":"exec","command":"mark","args":["x"]}}]`), 0o644)
	if code, _, errs := run(t, "", "jobs", "import", bad, "--config", cfgPath); code != 2 || !strings.Contains(errs, "scheduler.min_interval") {
		t.Fatalf("refused import: exit %d: %s", code, errs)
	}
	code, out, _ := run(t, "", "jobs", "get", "j000", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, `"minutes": 5`) || !strings.Contains(out, `"version": 2`) {
		t.Fatalf("after the refused import: exit %d\n%s", code, out)
	}
}
