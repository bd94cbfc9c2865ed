package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the adapter small: the core, bbolt (and what bbolt
// needs), never another adapter such as mqtt.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps",
		"-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	allowed := []string{
		"github.com/edgecron/edgecron/store",
		"github.com/edgecron/edgecron/sched",
		"go.etcd.io/bbolt",
		"golang.org/x/sys/",
	}
	for _, imp := range strings.Fields(string(out)) {
		ok := false
		for _, a := range allowed {
			if imp == a || strings.HasPrefix(imp, a+"/") || (strings.HasSuffix(a, "/") && strings.HasPrefix(imp, a)) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("store depends on %s: it may import only sched, bbolt and the standard library", imp)
		}
	}
}
