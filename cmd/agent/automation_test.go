package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAutomationsEndToEnd runs the agent on the simulated board with a
// scripted sensor and the greenhouse's fan automation: on above 30 °C, off
// below 28 °C. Each read is asked through the control socket; the
// automations' commands write to a FIFO, so the test waits on them.
func TestAutomationsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ran.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "agent.yaml")
	cfg := fmt.Sprintf(`device_id: auto
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %[1]s/agent.db, checkpoint_interval: 1s}
control: {socket: %[1]s/agent.sock}
sensors:
  - {name: air, driver: sim, interval: 24h, script: {values: [25, 31, 29, 27, 31, 33], then: hold}}
commands:
  mark: {argv: [/bin/sh, -c, 'echo "$1" > %[2]s', mark], args: ["[a-z]+"], min_args: 1, timeout: 10s}
jobs:
  - id: fan-on
    trigger: {type: reading, sensor: air, above: 30, hysteresis: 2}
    action: {type: exec, command: mark, args: ["on"]}
    max_instances: 5   # the shell of the last fire may still be exiting
  - id: fan-off
    trigger: {type: reading, sensor: air, below: 28}
    action: {type: exec, command: mark, args: ["off"]}
    max_instances: 5
  - id: never-at-night
    trigger: {type: reading, sensor: air, above: 32}
    conditions: [{time: "%[3]s"}, {output: nope, state: "on"}]
    action: {type: exec, command: mark, args: ["never"]}
`, dir, fifo, awayWindow(time.Now()))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	// A condition on an output the config does not have is refused by the
	// config check, naming the field.
	if code, out, errs := run(t, "", "check-config", "--config", cfgPath); code == 0 || !strings.Contains(out+errs, "jobs.2.conditions.1.output: no output \"nope\"") {
		t.Fatalf("check-config: exit %d: %s%s", code, out, errs)
	}
	cfg = strings.Replace(cfg, `, {output: nope, state: "on"}`, "", 1)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	notify := notifySocket(t)
	var stderr syncBuffer
	stop := startAgent(t, cfgPath, notify, &stderr)
	defer stop()

	if code, out, _ := run(t, "", "jobs", "get", "fan-on", "--config", cfgPath); code != 0 || !strings.Contains(out, `"sensor": "air"`) {
		t.Fatalf("jobs get fan-on: exit %d: %s", code, out)
	}
	if code, out, _ := run(t, "", "jobs", "list", "--config", cfgPath); code != 0 ||
		!regexp.MustCompile(`(?m)^fan-on +reading\[sensor='air', above='30', hysteresis='2'\] +- +on readings$`).MatchString(out) {
		t.Fatalf("jobs list: exit %d:\n%s", code, out)
	}
	// read takes one reading: a run of the sensor's job, started once the
	// previous one is over (max_instances 1 refuses an overlap).
	read := func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			code, _, errs := run(t, "", "jobs", "run", "sensor-air", "--config", cfgPath)
			if code == 0 {
				return
			}
			if !strings.Contains(errs, "max_instances") || time.Now().After(deadline) {
				t.Fatalf("jobs run sensor-air: exit %d: %s", code, errs)
			}
			time.Sleep(5 * time.Millisecond) // the previous read is finishing
		}
	}
	ran := func(want string) {
		t.Helper()
		got, err := os.ReadFile(fifo) // blocks until an automation's command writes
		if err != nil || strings.TrimSpace(string(got)) != want {
			t.Fatalf("the automation wrote %q, %v; want %q", got, err, want)
		}
	}
	read() // 25: below 28 at the first reading, so fan-off fires (a new trigger starts armed)
	ran("off")
	read() // 31: above 30
	ran("on")
	read() // 29: inside the hysteresis band, neither fires
	read() // 27: below 28; the fan-on trigger re-arms
	ran("off")
	read() // 31: above 30 again
	ran("on")
	read() // 33: above 32, but the time window condition fails: skipped
	read() // 33 (hold): a reading is still taken after a skipped run
	if code, out, _ := run(t, "", "jobs", "get", "never-at-night", "--config", cfgPath); code != 0 || !strings.Contains(out, `"last_run_time": null`) {
		t.Fatalf("a skipped run counted: %s", out)
	}
}

// awayWindow is a one-minute time window (UTC) twelve hours from now: a
// condition on it does not hold while the test runs, whatever the hour.
func awayWindow(now time.Time) string {
	h := (now.UTC().Hour() + 12) % 24
	return fmt.Sprintf("%02d:00-%02d:01", h, h)
}
