package api_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the package apart from the other adapters: it reaches
// the scheduler through the interfaces it declares, and knows nothing of
// the store, MQTT or the hardware.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/edgecron/edgecron/store", "go.etcd.io/bbolt", "github.com/edgecron/edgecron/mqtt",
		"github.com/eclipse/paho", "github.com/edgecron/edgecron/sensors", "github.com/edgecron/edgecron/actuators",
		"periph.io/", "net/http",
	}
	for _, imp := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(imp, f) {
				t.Errorf("api depends on %s", imp)
			}
		}
	}
}
