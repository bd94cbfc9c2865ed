package sched_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsOnlyStdlib keeps the core free of adapters: sched and its
// transitive imports are the standard library only (adapters depend on the
// core, never the reverse).
func TestImportsOnlyStdlib(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps",
		"-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, imp := range strings.Fields(string(out)) {
		if imp != "github.com/edgecron/edgecron/sched" {
			t.Errorf("sched depends on %s: the core may import only the standard library", imp)
		}
	}
}
