package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
)

// TestCtlGroupAndFleetStatus runs an agent in a group and drives it with
// `ctl --group` and `fleet status`, as an operator would.
func TestCtlGroupAndFleetStatus(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dir := t.TempDir()
	id := "grp-" + prefix[len(prefix)-6:]
	cfgPath := filepath.Join(dir, "agent.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`device_id: %[4]s
groups: [north]
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %[1]s/agent.db}
control: {socket: %[1]s/agent.sock}
mqtt: {broker: %[2]q, prefix: %[3]q}
actuators:
  - {name: relay, driver: sim}
`, dir, url, prefix, id)), 0o644)
	var stderr syncBuffer
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- NewMain(strings.NewReader(""), &bytes.Buffer{}, &stderr).Run(ctx, []string{"run", "--config", cfgPath})
	}()
	defer func() {
		stop()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("agent did not stop")
		}
	}()
	retainedIs(t, url, prefix+"/groups/north/members/"+id, id)
	retainedIs(t, url, prefix+"/"+id+"/status", "online")

	job := filepath.Join(dir, "job.json")
	os.WriteFile(job, []byte(`{"id":"g1","trigger":{"type":"interval","hours":1},"action":{"type":"actuate","actuator":"relay","command":"toggle"}}`), 0o644)
	noID := filepath.Join(dir, "noid.json")
	os.WriteFile(noID, []byte(`{"trigger":{"type":"interval","hours":1},"action":{"type":"actuate","actuator":"relay","command":"toggle"}}`), 0o644)
	ctl := func(args ...string) (int, string, string) {
		return run(t, "", append([]string{"ctl", "--config", cfgPath, "--timeout", "20s"}, args...)...)
	}
	code, out, errs := ctl("--group", "north", "jobs", "add", "-f", job)
	if code != 0 || !strings.HasPrefix(out, id+"  accepted (ok) in ") || !strings.Contains(errs, "group north: 1 accepted, 0 rejected, 0 no answer") {
		t.Fatalf("ctl --group add: exit %d\n%s%s\nagent log:\n%s", code, out, errs, stderr.String())
	}
	code, out, errs = ctl("--group", "north", "--json", "jobs", "pause", "nope")
	var replies []mqtt.GroupReply
	if code != 1 || json.Unmarshal([]byte(out), &replies) != nil || len(replies) != 1 ||
		replies[0].Outcome != mqtt.OutcomeRejected || replies[0].Reply.Code != "not_found" {
		t.Fatalf("ctl --group pause nope: exit %d\n%s%s", code, out, errs)
	}
	// A group add without a job id never leaves the machine; an empty
	// group, likewise.
	if code, _, errs := ctl("--group", "north", "jobs", "add", "-f", noID); code == 0 || !strings.Contains(errs, "job.id: required in a group add") {
		t.Errorf("group add without id: exit %d, %s", code, errs)
	}
	if code, _, errs := ctl("--group", "south", "jobs", "list"); code == 0 || !strings.Contains(errs, "the roster lists no member") {
		t.Errorf("empty group: exit %d, %s", code, errs)
	}
	for _, bad := range [][]string{
		{"--group", "north", "--device-id", "x", "jobs", "list"},
		{"--no-expiry", "jobs", "list"},
		{"--group", "north", "--no-expiry", "--expires-in", "1m", "jobs", "list"},
	} {
		if code, _, _ := ctl(bad...); code != 2 {
			t.Errorf("ctl %q: exit %d, want 2", bad, code)
		}
	}

	// fleet status: the info follows the new job within flush_interval;
	// the status line is there at once.
	code, out, errs = run(t, "", "fleet", "status", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "DEVICE") || !strings.Contains(out, id+"  online") || !strings.Contains(errs, "1 device(s), 1 online") {
		t.Fatalf("fleet status: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = run(t, "", "fleet", "status", "--config", cfgPath, "--group", "north", "--json")
	var devs []mqtt.Device
	if code != 0 || json.Unmarshal([]byte(out), &devs) != nil || len(devs) != 1 || !devs[0].Member || devs[0].Info == nil ||
		devs[0].Info.Broker != url || devs[0].Info.Version == "" {
		t.Fatalf("fleet status --group --json: exit %d\n%s", code, out)
	}
	if code, _, _ := run(t, "", "fleet", "status", "--config", cfgPath, "--group", "a/b"); code == 0 {
		t.Error("fleet status with a bad group: exit 0")
	}

	// A reload moves the device from north to south: no restart needed.
	north := mqtttest.Client(t, url, nil)
	cleared := make(chan struct{}, 1)
	mqtttest.Wait(t, north.Subscribe(prefix+"/groups/north/members/"+id, 1, func(_ paho.Client, m paho.Message) {
		if len(m.Payload()) == 0 {
			select {
			case cleared <- struct{}{}:
			default:
			}
		}
	}))
	yaml, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, []byte(strings.Replace(string(yaml), "groups: [north]", "groups: [south]", 1)), 0o644)
	if code, out, errs := run(t, "", "reload", "--config", cfgPath); code != 0 || strings.Contains(out+errs, "groups") {
		t.Fatalf("reload: exit %d\n%s%s", code, out, errs)
	}
	retainedIs(t, url, prefix+"/groups/south/members/"+id, id)
	select {
	case <-cleared:
	case <-time.After(30 * time.Second):
		t.Fatal("the member document of north was not cleared")
	}
	if code, out, errs := ctl("--group", "south", "jobs", "list"); code != 0 || !strings.HasPrefix(out, id+"  accepted") {
		t.Fatalf("ctl --group south after the reload: exit %d\n%s%s", code, out, errs)
	}
}
