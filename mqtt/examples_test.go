package mqtt_test

import (
	"bytes"
	"context"
	"flag"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched"
)

var update = flag.Bool("update", false, "rewrite the golden outputs of testdata/examples")

// stateApplier switches an actuator and reports its new state, as the
// agent's wiring does.
type stateApplier struct{ a **mqtt.Agent }

func (s stateApplier) Apply(_ context.Context, name string, payload []byte) error {
	(*s.a).ActuatorState(name, strings.EqualFold(string(payload), "on"), nil)
	return nil
}

// TestDocExamples runs the mosquitto_pub / mosquitto_sub / mosquitto_rr
// examples of docs/mqtt.md, kept in testdata/examples, in order against a
// live agent, compares each output with its golden file, and checks that
// the doc shows each example verbatim.
func TestDocExamples(t *testing.T) {
	for _, tool := range []string{"mosquitto_pub", "mosquitto_sub", "mosquitto_rr"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	doc, err := os.ReadFile("../docs/mqtt.md")
	if err != nil {
		t.Fatal(err)
	}
	scripts, _ := filepath.Glob("testdata/examples/*.sh")
	if len(scripts) == 0 {
		t.Fatal("no examples")
	}
	brokerURL := mqtttest.Shared(t)
	u, _ := url.Parse(brokerURL)
	prefix := mqtttest.Prefix(t, brokerURL)
	dev := uid(prefix, "greenhouse-1")
	dv := newDevice(t, brokerURL, prefix, dev)
	actuate := sched.HandlerFunc{RunFunc: func(context.Context, sched.Run) (sched.Result, error) { return nil, nil }}
	if err := dv.s.Handle("actuate", actuate, sched.HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	dv.start(func(dv *device, d *mqtt.Deps) {
		d.Clock = dv.clock
		d.Actuators = stateApplier{&dv.agent}
	})
	r := newRequester(t, brokerURL, prefix)
	r.waitOnline(dev)

	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".sh")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(script)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(doc, body) {
				t.Errorf("docs/mqtt.md does not show %s verbatim", script)
			}
			cmd := exec.Command("sh", "-e", script)
			cmd.Env = append(os.Environ(), "HOST="+u.Hostname(), "PORT="+u.Port(), "ROOT="+dv.root())
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v\n%s", script, err, stderr.Bytes())
			}
			golden := strings.TrimSuffix(script, ".sh") + ".out"
			if *update {
				if err := os.WriteFile(golden, out, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("%s printed\n%s\nwant (%s)\n%s", script, out, golden, want)
			}
			if !bytes.Contains(doc, bytes.TrimSpace(want)) {
				t.Errorf("docs/mqtt.md does not show the output of %s", script)
			}
		})
	}
}
