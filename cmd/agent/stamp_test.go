package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/store"
)

// TestFingerprint: the same config gives the same fingerprint; whatever
// changes what a handler accepts (and the binary's version) changes it. A
// development build has none.
func TestFingerprint(t *testing.T) {
	setVersion(t, "v1.2.3")
	const base = `device_id: fp
timezone: UTC
hardware: {board: sim}
actuators:
  - {name: pump, driver: sim, safety: {max_on: 10m}}
sensors:
  - {name: air, driver: sim}
commands:
  mark: {argv: [/bin/true], args: ["[a-z]+"]}
publish: {allow: [farm/#]}
`
	fp := func(t *testing.T, text string, ov Overrides) []byte {
		t.Helper()
		c, err := ParseConfigWith("agent.yaml", []byte(text), ov)
		if err != nil {
			t.Fatal(err)
		}
		f, err := fingerprint(c)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	want := fp(t, base, Overrides{})
	if again := fp(t, base, Overrides{}); !bytes.Equal(again, want) {
		t.Fatal("the same config parsed twice: two fingerprints")
	}
	for _, tc := range []struct {
		name, text string
		ov         Overrides
		version    string
		same       bool // the effective config is the same
	}{
		{name: "max_on", text: replace(t, base, "max_on: 10m", "max_on: 5m")},
		{name: "actuator removed", text: replace(t, base, "  - {name: pump, driver: sim, safety: {max_on: 10m}}\n", "")},
		{name: "sensor renamed", text: replace(t, base, "name: air", "name: soil")},
		{name: "command args", text: replace(t, base, `"[a-z]+"`, `"[a-z0-9]+"`)},
		{name: "publish.allow", text: replace(t, base, "farm/#", "farm/+")},
		{name: "hardware override", text: base, ov: Overrides{Hardware: "auto"}},
		{name: "the file's board given by the flag", text: replace(t, base, "hardware: {board: sim}\n", ""), ov: Overrides{Hardware: "sim"}, same: true},
		{name: "version", text: base, version: "v9.9.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.version != "" {
				setVersion(t, tc.version)
			}
			if got := fp(t, tc.text, tc.ov); bytes.Equal(got, want) != tc.same {
				t.Errorf("fingerprint the same: %v, want %v", !tc.same, tc.same)
			}
		})
	}
	for _, v := range []string{"dev", "v0.0.0-dev", "v1.2.3-4-gabcdef0-dirty"} {
		setVersion(t, v)
		c, _ := ParseConfig("agent.yaml", []byte(base))
		if f, err := fingerprint(c); f != nil || err != nil {
			t.Errorf("version %s: fingerprint %x, %v; want none", v, f, err)
		}
	}
	setVersion(t, "v1.2.3")
	files, _ := filepath.Glob("../../configs/*.yaml")
	for _, f := range files {
		c, err := LoadConfigWith(f, Overrides{Hardware: "sim", Broker: "off"})
		if err != nil {
			t.Fatal(err)
		}
		if fp, err := fingerprint(c); err != nil || fp == nil {
			t.Errorf("%s: %x, %v", f, fp, err)
		}
	}
}

// setVersion sets the binary's version for the rest of the test: a test
// binary is a development build, which fingerprint refuses.
func setVersion(t *testing.T, v string) {
	old := version
	version = v
	t.Cleanup(func() { version = old })
}

func replace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !bytes.Contains([]byte(s), []byte(old)) {
		t.Fatalf("%q not in the config", old)
	}
	return string(bytes.Replace([]byte(s), []byte(old), []byte(new), 1))
}

// TestValidationStampEndToEnd runs the agent on a real store file: it
// starts, stops cleanly (SIGTERM), something happens or not, and it starts
// again. Only a clean stop with every job valid, then the same binary and
// config and no read-write use of the file, spares the second start the
// validation of the stored actions; otherwise every job is validated, and
// one that a changed config makes invalid is kept paused with its error.
func TestValidationStampEndToEnd(t *testing.T) {
	const skipped = "not validated again"
	const pumps = `actuators:
  - {name: pump, driver: sim, safety: {max_on: 20m}}
`
	setVersion(t, "v1.2.3")
	for _, tc := range []struct {
		name    string
		first   string                                      // the first run's actuators
		during  func(t *testing.T, e *stampEnv)             // while the first run runs
		between func(t *testing.T, e *stampEnv)             // after its stop
		trusted bool                                        // the second start skips validation
		check   func(t *testing.T, e *stampEnv, log string) // while the second runs
	}{
		{name: "same binary and config", trusted: true},
		{name: "a read-only command in between", trusted: true, between: func(t *testing.T, e *stampEnv) {
			if code, out, errs := run(t, "", "jobs", "list", "--config", e.cfg); code != 0 || !strings.Contains(out, "b") {
				t.Fatalf("jobs list: exit %d: %s%s", code, out, errs)
			}
		}},
		{name: "a reload during the run: the config at the stop counts", trusted: true, during: func(t *testing.T, e *stampEnv) {
			e.write(t, pumps+"  - {name: valve, driver: sim}\n")
			syscall.Kill(os.Getpid(), syscall.SIGHUP)
			waitNotify(t, e.notify, "RELOADING=1", e.log)
			waitNotify(t, e.notify, "READY=1", e.log)
		}},
		{name: "config changed, jobs still valid", between: func(t *testing.T, e *stampEnv) {
			e.write(t, pumps+"  - {name: valve, driver: sim}\n")
		}},
		{name: "config changed: a job invalid", between: func(t *testing.T, e *stampEnv) {
			e.write(t, replace(t, pumps, "max_on: 20m", "max_on: 5m"))
		}, check: func(t *testing.T, e *stampEnv, log string) {
			code, out, errs := run(t, "", "jobs", "get", "b", "--config", e.cfg)
			if code != 0 || !strings.Contains(out, `"last_result": "invalid: `) || !strings.Contains(out, "max_on") || !strings.Contains(out, `"next_run_time": null`) {
				t.Errorf("job b after max_on fell below its pulse: exit %d\n%s%s", code, out, errs)
			}
		}},
		{name: "version changed", between: func(t *testing.T, e *stampEnv) {
			setVersion(t, "v1.2.4")
		}},
		{name: "a development build", between: func(t *testing.T, e *stampEnv) {
			setVersion(t, "v1.2.3-1-gabcdef0-dirty")
		}},
		{name: "a read-write command in between", between: func(t *testing.T, e *stampEnv) {
			f := filepath.Join(e.dir, "c.json")
			os.WriteFile(f, []byte(`[{"id":"c","trigger":{"type":"interval","hours":1},"action":{"type":"actuate","actuator":"pump","command":"on"}}]`), 0o644)
			if code, _, errs := run(t, "", "jobs", "import", f, "--config", e.cfg); code != 0 {
				t.Fatalf("jobs import: exit %d: %s", code, errs)
			}
		}},
		{name: "unclean shutdown", between: func(t *testing.T, e *stampEnv) {
			// The file as a power cut leaves it: copied while an agent
			// runs on it (opened, the stamp taken, no clean stop).
			stop := startAgent(t, e.cfg, e.notify, &syncBuffer{})
			db := filepath.Join(e.dir, "agent.db")
			crashed, err := os.ReadFile(db)
			if err != nil {
				t.Fatal(err)
			}
			stop()
			if err := os.WriteFile(db, crashed, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "an invalid job at the stop", first: replace(t, pumps, "max_on: 20m", "max_on: 5m")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &stampEnv{dir: t.TempDir(), notify: notifySocket(t), log: &syncBuffer{}}
			e.cfg = filepath.Join(e.dir, "agent.yaml")
			first := pumps
			if tc.first != "" {
				first = tc.first
			}
			e.write(t, first)
			e.commitJobs(t)
			stop := startAgent(t, e.cfg, e.notify, e.log)
			if strings.Contains(e.log.String(), skipped) {
				t.Fatalf("a new store's jobs were not validated:\n%s", e.log)
			}
			if tc.during != nil {
				tc.during(t, e)
			}
			stop()
			if tc.between != nil {
				tc.between(t, e)
			}
			e.log = &syncBuffer{}
			stop = startAgent(t, e.cfg, e.notify, e.log)
			defer stop()
			if got := strings.Contains(e.log.String(), skipped); got != tc.trusted {
				t.Errorf("second start skipped validation: %v, want %v; log:\n%s", got, tc.trusted, e.log)
			}
			if tc.check != nil {
				tc.check(t, e, e.log.String())
			}
		})
	}
}

// stampEnv is one agent's directory: its config, store and log.
type stampEnv struct {
	dir, cfg string
	notify   <-chan string
	log      *syncBuffer
}

func (e *stampEnv) write(t *testing.T, actuators string) {
	t.Helper()
	cfg := fmt.Sprintf("device_id: stamp\ntimezone: UTC\nclock: {source: rtc}\nhardware: {board: sim}\nstore: {path: %q}\ncontrol: {socket: %q}\n%s", filepath.Join(e.dir, "agent.db"), filepath.Join(e.dir, "agent.sock"), actuators)
	if err := os.WriteFile(e.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

// commitJobs puts two jobs in the store, as MQTT adds would have: a pulses
// the pump for 30 s, b for 10 minutes.
func (e *stampEnv) commitJobs(t *testing.T) {
	t.Helper()
	s, err := store.Open(filepath.Join(e.dir, "agent.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var changes []sched.Change
	for id, d := range map[string]string{"a": "30s", "b": "10m"} {
		act, err := sched.NewAction("actuate", map[string]any{"actuator": "pump", "command": "pulse", "duration": d})
		if err != nil {
			t.Fatal(err)
		}
		j := sched.Job{ID: id, Trigger: sched.TriggerSpec{Type: "interval", Hours: 1, StartDate: "2026-01-01T00:00:00Z"},
			Action: act, Coalesce: true, MaxInstances: 1, Version: 1, Source: sched.SourceMQTT}
		changes = append(changes, sched.Change{ID: id, Job: j})
	}
	if err := s.Commit(context.Background(), changes); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
