package metrics_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the package an adapter of the core: the scheduler's
// types and the standard library (it writes the page itself); never
// another adapter, whose figures reach it through the interfaces it
// declares.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps",
		"-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := map[string]bool{
		"github.com/edgecron/edgecron/metrics": true,
		"github.com/edgecron/edgecron/sched":   true,
	}
	for _, imp := range strings.Fields(string(out)) {
		if !allowed[imp] {
			t.Errorf("metrics depends on %s", imp)
		}
	}
}

// TestParserIsTestOnly: the Prometheus parser the tests use (and its
// protobuf) must never reach the agent's binary; nor must an exposition
// library, whose package variables cost every start of the binary (the
// agent's and every CLI command's) about a millisecond: VictoriaMetrics'
// read /proc/pressure and the cgroup files, built runtime/metrics'
// descriptions and compiled a regexp.
func TestParserIsTestOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../cmd/agent").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, imp := range strings.Fields(string(out)) {
		if strings.HasPrefix(imp, "github.com/prometheus/") || strings.HasPrefix(imp, "google.golang.org/protobuf") {
			t.Errorf("the agent links %s, a test-only dependency", imp)
		}
		if strings.HasPrefix(imp, "github.com/VictoriaMetrics/") {
			t.Errorf("the agent links %s; the metrics package writes its page itself", imp)
		}
	}
}
