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

	"github.com/edgecron/edgecron/mqtt/mqtttest"
)

// TestCtlEndToEnd runs the agent against a real broker (the shared
// Mosquitto, or an in-process one) and manages its jobs with agent ctl.
func TestCtlEndToEnd(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`device_id: ctl-e2e
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %[1]s/agent.db}
control: {socket: %[1]s/agent.sock}
mqtt: {broker: %[2]q, prefix: %[3]q}
actuators:
  - {name: relay, driver: sim, safety: {boot: "on", shutdown: "off"}}
jobs:
  - id: from-file
    trigger: {type: cron, hour: 6}
    action: {type: actuate, actuator: relay, command: "on"}
`, dir, url, prefix)), 0o644)
	notify := notifySocket(t)
	var stderr syncBuffer
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- NewMain(strings.NewReader(""), &bytes.Buffer{}, &stderr).Run(ctx, []string{"run", "--config", cfgPath})
	}()
	stopped := false
	stopAgent := func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("agent exit %d; log:\n%s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("agent did not stop")
		}
	}
	defer stopAgent()
	waitNotify(t, notify, "READY=1", &stderr)

	job := filepath.Join(dir, "job.json")
	os.WriteFile(job, []byte(`{"id":"remote","trigger":{"type":"interval","hours":1},"action":{"type":"actuate","actuator":"relay","command":"toggle"}}`), 0o644)
	ctl := func(args ...string) (int, string, string) {
		return run(t, "", append([]string{"ctl", "--config", cfgPath, "--timeout", "20s"}, args...)...)
	}
	// The agent must be subscribed before ctl publishes: its persistent
	// session on the shared broker may hold another test run's
	// subscriptions (another prefix), and a request sent before it
	// subscribes to this prefix is lost (ctl then times out; seen under
	// load). It says online once subscribed.
	retainedIs(t, url, prefix+"/ctl-e2e/status", "online")
	code, out, errs := ctl("jobs", "add", "-f", job)
	if code != 0 || !strings.Contains(errs, "accepted (ok)") || !strings.Contains(out, `"source": "mqtt"`) {
		t.Fatalf("add: exit %d\n%s%s\nagent log:\n%s", code, out, errs, stderr.String())
	}
	// Standard output is the job document alone: it pipes into jq.
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc["id"] != "remote" {
		t.Errorf("add: standard output is not the job document (%v):\n%s", err, out)
	}
	code, out, errs = ctl("jobs", "list", "--json")
	var rep struct {
		Status string           `json:"status"`
		Jobs   []map[string]any `json:"jobs"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 0 || rep.Status != "accepted" || len(rep.Jobs) != 2 {
		t.Errorf("list --json: exit %d, %v:\n%s%s", code, err, out, errs)
	}
	if code, out, errs := ctl("jobs", "list"); code != 0 || !strings.Contains(out, "remote") || !strings.Contains(out, "from-file") {
		t.Errorf("list: exit %d\n%s%s", code, out, errs)
	}
	// The change is in the store: the local command line sees it too.
	if code, out, _ := run(t, "", "jobs", "get", "remote", "--config", cfgPath); code != 0 || !strings.Contains(out, `"version": 1`) {
		t.Errorf("jobs get through the socket: exit %d %s", code, out)
	}
	// Rejections exit non-zero and say why.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"jobs", "remove", "from-file"}, 1, "rejected (conflict)"},
		{[]string{"jobs", "get", "nope"}, 2, "rejected (not_found)"},
		{[]string{"jobs", "pause", "remote", "--expected-version", "7"}, 1, "rejected (version_conflict)"},
	} {
		code, _, errs := ctl(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d (want %d): %s", tc.args, code, tc.code, errs)
		}
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"id":"x","trigger":{"type":"cron","hour":"25"},"action":{"type":"actuate","actuator":"relay","command":"on"}}`), 0o644)
	if code, _, errs := ctl("jobs", "add", "-f", bad); code != 2 || !strings.Contains(errs, "trigger.hour") {
		t.Errorf("bad add: exit %d: %s", code, errs)
	}
	if code, out, errs := ctl("jobs", "remove", "remote"); code != 0 || !strings.Contains(errs, "accepted") {
		t.Errorf("remove: exit %d %s%s", code, out, errs)
	}
	// Usage errors exit 2 before anything is sent.
	if code, _, _ := ctl("jobs", "add"); code != 2 {
		t.Errorf("add without -f: exit %d", code)
	}
	// Actuator commands: a request with an id and an expires_at, a reply.
	if code, out, errs := ctl("actuators", "relay", "off", "--id", "ctl-act-1"); code != 0 || !strings.Contains(out, "relay: command accepted") {
		t.Errorf("actuators relay off: exit %d\n%s%s", code, out, errs)
	}
	retainedIs(t, url, prefix+"/ctl-e2e/actuators/relay/state", "OFF") // it boots on
	if code, _, errs := ctl("actuators", "nope", "on"); code != 2 || !strings.Contains(errs, "rejected (not_found)") {
		t.Errorf("unknown actuator: exit %d: %s", code, errs)
	}
	if code, _, _ := ctl("actuators", "relay", "pulse"); code != 2 {
		t.Errorf("pulse without a duration: exit %d", code)
	}
	if code, _, _ := ctl("actuators", "relay", "on", "--expected-version", "3"); code != 2 {
		t.Errorf("actuators with --expected-version: exit %d", code)
	}

	// A clean stop leaves the broker telling the truth: the output in its
	// shutdown state, the device offline.
	stopAgent()
	root := prefix + "/ctl-e2e"
	ret := mqtttest.Retained(t, url, root+"/#")
	if got := string(ret[root+"/actuators/relay/state"]); got != `{"state":"OFF","value":0}` {
		t.Errorf("retained relay state after stop = %q, want OFF (boot on, shutdown off)", got)
	}
	if got := string(ret[root+"/status"]); got != "offline" {
		t.Errorf("retained status after stop = %q, want offline", got)
	}
}

// TestCtlNoAgent: nobody answers, the command says so and exits 1.
func TestCtlNoAgent(t *testing.T) {
	if _, err := os.Stat(defaultConfigPath); err == nil {
		t.Skipf("%s exists on this machine: ctl would use it", defaultConfigPath)
	}
	url := mqtttest.Shared(t)
	code, _, errs := run(t, "", "ctl", "--broker", url, "--device-id", "nobody-"+strings.ReplaceAll(t.Name(), "/", "-"),
		"--timeout", "300ms", "jobs", "list")
	if code != 1 || !strings.Contains(errs, "no reply") {
		t.Fatalf("exit %d, want 1 and 'no reply': %s", code, errs)
	}
	// A config named but missing is bad usage.
	code, _, _ = run(t, "", "ctl", "--config", filepath.Join(t.TempDir(), "none.yaml"), "jobs", "list")
	if code != 2 {
		t.Errorf("missing --config file: exit %d, want 2", code)
	}
}
