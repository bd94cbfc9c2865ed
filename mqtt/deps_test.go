package mqtt_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the adapter an adapter: the agent binary's mqtt
// package imports neither the store, bbolt, the hardware packages nor the
// test broker.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/edgecron/edgecron/store", "go.etcd.io/bbolt", "github.com/mochi-mqtt/",
		"github.com/edgecron/edgecron/sensors", "github.com/edgecron/edgecron/actuators", "periph.io/",
		"github.com/edgecron/edgecron/mqtt/mqtttest",
	}
	for _, imp := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(imp, f) {
				t.Errorf("mqtt depends on %s", imp)
			}
		}
	}
}
