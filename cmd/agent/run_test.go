package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the agent's goroutines.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // signalled at each Write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written != nil {
		select {
		case s.written <- struct{}{}:
		default:
		}
	}
	return s.b.Write(p)
}

// waitFor returns once the log satisfies ok, or fails the test after 30s.
func (s *syncBuffer) waitFor(t *testing.T, what string, ok func(log string) bool) {
	t.Helper()
	s.mu.Lock()
	if s.written == nil {
		s.written = make(chan struct{}, 1)
	}
	written := s.written
	s.mu.Unlock()
	timeout := time.After(30 * time.Second)
	for !ok(s.String()) {
		select {
		case <-written:
		case <-timeout:
			t.Fatalf("no %s in the agent's log:\n%s", what, s.String())
		}
	}
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// notifySocket listens as systemd would and returns the datagrams it gets.
func notifySocket(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	ch := make(chan string, 64)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(ch)
				return
			}
			ch <- string(buf[:n])
		}
	}()
	return ch
}

func waitNotify(t *testing.T, ch <-chan string, want string, stderr *syncBuffer) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case msg, ok := <-ch:
			if !ok {
				t.Fatalf("notify socket closed before %q", want)
			}
			if strings.Contains(msg, want) {
				return
			}
		case <-timeout:
			t.Fatalf("no %q from the agent; its log:\n%s", want, stderr.String())
		}
	}
}

// TestRunEndToEnd runs the agent in-process as systemd would: it waits for
// READY=1, drives the running agent through its control socket (the
// command line), sees a job's command run, stops the agent with its
// context (SIGTERM) and then works on the store offline.
func TestRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "ran.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "agent.yaml")
	cfg := fmt.Sprintf(`device_id: e2e
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %[1]s/agent.db, checkpoint_interval: 1s}
control: {socket: %[1]s/agent.sock}
commands:
  mark: {argv: [/bin/sh, -c, 'echo "ran $1" > %[2]s', mark], args: ["[a-z]+"], min_args: 1, timeout: 10s}
jobs:
  - id: hourly
    trigger: {type: interval, hours: 1}
    action: {type: exec, command: mark, args: [hello]}
`, dir, fifo)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	notify := notifySocket(t)
	var stderr syncBuffer
	stop := startAgent(t, cfgPath, notify, &stderr)

	// While it runs, the command line goes through the control socket.
	code, out, errs := run(t, "", "jobs", "list", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, "hourly") || !strings.Contains(out, "scheduled") {
		t.Fatalf("jobs list: exit %d\n%s%s", code, out, errs)
	}
	code, _, errs = run(t, "", "jobs", "run", "hourly", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("jobs run: exit %d: %s", code, errs)
	}
	got, err := os.ReadFile(fifo) // blocks until the command writes
	if err != nil || strings.TrimSpace(string(got)) != "ran hello" {
		t.Fatalf("the job's command wrote %q, %v", got, err)
	}
	// The file is locked by the agent: db tools say so.
	if code, _, errs := run(t, "", "db", "check", "--config", cfgPath); code != 1 || !strings.Contains(errs, "stop the agent first") {
		t.Errorf("db check while running: exit %d: %s", code, errs)
	}

	stop()
	waitNotify(t, notify, "STOPPING=1", &stderr)

	// Offline: the store is opened directly.
	code, out, errs = run(t, "", "jobs", "export", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	var docs []map[string]any
	if err := json.Unmarshal([]byte(out), &docs); err != nil || len(docs) != 1 || docs[0]["id"] != "hourly" || docs[0]["last_result"] == "" {
		t.Fatalf("export = %s (%v)", out, err)
	}
	// Import: a bad file changes nothing and exits 2; a good one commits.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`[{"id":"x","trigger":{"type":"interval","seconds":5},"action":{"type":"exec","command":"undeclared"}}]`), 0o644)
	if code, _, errs := run(t, "", "jobs", "import", bad, "--config", cfgPath); code != 2 || !strings.Contains(errs, "action.command") {
		t.Errorf("bad import: exit %d: %s", code, errs)
	}
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`[{"id":"other","trigger":{"type":"interval","minutes":5},"action":{"type":"exec","command":"mark","args":["x"]}}]`), 0o644)
	if code, out, errs := run(t, "", "jobs", "import", good, "--config", cfgPath); code != 0 || !strings.Contains(out, "imported 1") {
		t.Errorf("good import: exit %d: %s%s", code, out, errs)
	}
	if code, out, _ := run(t, "", "jobs", "list", "--config", cfgPath); code != 0 || !strings.Contains(out, "other") || !strings.Contains(out, "hourly") {
		t.Errorf("list after import: %s", out)
	}
	if code, out, errs := run(t, "", "jobs", "run", "hourly", "--config", cfgPath); code != 1 || !strings.Contains(errs, "running agent") {
		t.Errorf("offline run: exit %d: %s%s", code, out, errs)
	}
	if code, out, errs := run(t, "", "db", "check", "--config", cfgPath); code != 0 || !regexp.MustCompile(`(?m)^result:\s+ok$`).MatchString(out) {
		t.Errorf("db check: exit %d: %s%s", code, out, errs)
	}
	if code, _, errs := run(t, "", "db", "compact", "--config", cfgPath); code != 0 {
		t.Errorf("db compact: exit %d: %s", code, errs)
	}
	if code, _, _ := run(t, "", "jobs", "get", "nope", "--config", cfgPath); code != 2 {
		t.Errorf("get unknown id: exit %d, want 2", code)
	}
}

// startAgent runs the agent in-process until the returned stop is called;
// it returns once the agent said READY=1.
func startAgent(t *testing.T, cfgPath string, notify <-chan string, stderr *syncBuffer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- NewMain(strings.NewReader(""), &bytes.Buffer{}, stderr).Run(ctx, []string{"run", "--config", cfgPath})
	}()
	waitNotify(t, notify, "READY=1", stderr)
	return func() {
		t.Helper()
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Fatalf("agent exit %d; log:\n%s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Fatal("agent did not stop")
		}
	}
}

// TestReloadAndVanishedSensor: SIGHUP applies the file's jobs and outputs
// without cycling an unchanged output, keeps running on a bad file, and a
// job whose sensor vanished from the config is kept, paused and marked
// invalid across a restart — never dropped.
func TestReloadAndVanishedSensor(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.yaml")
	write := func(sensors, jobs string) {
		t.Helper()
		cfg := fmt.Sprintf(`device_id: reload
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %[1]s/agent.db}
control: {socket: %[1]s/agent.sock}
actuators:
  - {name: pump, driver: sim, safety: {boot: "on", shutdown: "off"}}
%[2]s
jobs:
%[3]s
`, dir, sensors, jobs)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	jobA := "  - {id: a, trigger: {type: cron, hour: 6}, action: {type: actuate, actuator: pump, command: \"off\"}}"
	jobB := "  - {id: b, trigger: {type: cron, hour: 7}, action: {type: actuate, actuator: pump, command: \"off\"}}"
	withSensor := "sensors:\n  - {name: air, driver: sim}"
	write(withSensor, jobA)

	notify := notifySocket(t)
	var stderr syncBuffer
	stop := startAgent(t, cfgPath, notify, &stderr)

	// A job from the command line reads the sensor.
	remote := filepath.Join(dir, "remote.json")
	os.WriteFile(remote, []byte(`[{"id":"r","trigger":{"type":"interval","hours":1},"action":{"type":"read","sensor":"air"}}]`), 0o644)
	if code, _, errs := run(t, "", "jobs", "import", remote, "--config", cfgPath); code != 0 {
		t.Fatalf("import: %s", errs)
	}

	// Reload: a replaced by b; the pump, unchanged, is not cycled.
	before := strings.Count(stderr.String(), "name=pump")
	write(withSensor, jobB)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitNotify(t, notify, "RELOADING=1", &stderr)
	waitNotify(t, notify, "READY=1", &stderr)
	code, out, _ := run(t, "", "jobs", "list", "--config", cfgPath)
	if code != 0 || strings.Contains(out, "\na ") || !strings.Contains(out, "\nb ") || !strings.Contains(out, "\nr ") {
		t.Errorf("after reload:\n%s", out)
	}
	if after := strings.Count(stderr.String(), "name=pump"); after != before {
		t.Errorf("the unchanged pump was switched during the reload:\n%s", stderr.String())
	}

	// A broken file is reported and the running config kept.
	os.WriteFile(cfgPath, []byte("device_id: [\n"), 0o644)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	waitNotify(t, notify, "READY=1", &stderr)
	if !strings.Contains(stderr.String(), "config rejected, keeping the running one") {
		t.Errorf("bad reload not reported:\n%s", stderr.String())
	}
	// Offline access to the store the agent holds says so.
	if _, err := os.Stat(defaultConfigPath); err != nil {
		code, _, errs := run(t, "", "jobs", "list", "--db", filepath.Join(dir, "agent.db"))
		if code != 1 || !strings.Contains(errs, "the running agent holds") {
			t.Errorf("jobs list --db on a held store: exit %d: %s", code, errs)
		}
	}
	stop()

	// The file gains a job whose id the command line's job holds: the
	// agent starts, keeps the remote job and skips the file's.
	write(withSensor, jobB+"\n  - {id: r, trigger: {type: cron, hour: 8}, action: {type: actuate, actuator: pump, command: \"off\"}}")
	stderr = syncBuffer{}
	stop = startAgent(t, cfgPath, notify, &stderr)
	if code, out, _ := run(t, "", "jobs", "get", "r", "--config", cfgPath); code != 0 || !strings.Contains(out, `"source": "cli"`) {
		t.Errorf("job r after a file job took its id: %s", out)
	}
	if !strings.Contains(stderr.String(), "config job skipped") || !strings.Contains(stderr.String(), `job \"r\" already exists with source cli`) {
		t.Errorf("the skipped file job is not reported:\n%s", stderr.String())
	}
	stop()

	// The sensor vanishes from the file: r is kept, paused, invalid.
	write("", jobB)
	stderr = syncBuffer{}
	stop = startAgent(t, cfgPath, notify, &stderr)
	code, out, errs := run(t, "", "jobs", "get", "r", "--config", cfgPath)
	if code != 0 || !strings.Contains(out, `"last_result": "invalid:`) || !strings.Contains(out, `"next_run_time": null`) {
		t.Errorf("job r after its sensor vanished: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = run(t, "", "jobs", "list", "--config", cfgPath)
	if !strings.Contains(out, "invalid:") {
		t.Errorf("list does not show r invalid:\n%s", out)
	}
	stop()
}

// TestReloadSensors: SIGHUP applies the sensors section on the simulated
// board. A sensor added to the file gets its read job, which reads it; a
// changed calibration shows in the next reading; a reload whose jobs are
// rejected puts the running sensors back; a sensor removed from the file
// loses its read job.
func TestReloadSensors(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.yaml")
	actuators := "[]"
	write := func(sensors, jobs string) {
		t.Helper()
		cfg := fmt.Sprintf(`device_id: sensreload
timezone: UTC
clock: {source: rtc}
log: {level: debug}           # readings are logged at debug level
hardware: {board: sim}
store: {path: %[1]s/agent.db}
control: {socket: %[1]s/agent.sock}
sensors:
%[2]s
jobs: %[3]s
actuators: %[4]s
`, dir, sensors, jobs, actuators)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	air := "  - {name: air, driver: sim, interval: 1h, round: 0}"
	airCalibrated := "  - {name: air, driver: sim, interval: 1h, round: 0, calibration: {offset: 1000}}"
	soil := "  - {name: soil, driver: sim, quantity: moisture, unit: '%', interval: 1h}"
	readSoil := "\n  - {id: soil-now, trigger: {type: interval, hours: 1}, action: {type: read, sensor: soil}}"
	write(air, "[]")

	notify := notifySocket(t)
	var stderr syncBuffer
	stop := startAgent(t, cfgPath, notify, &stderr)
	defer stop()
	sighup := func() {
		t.Helper()
		syscall.Kill(os.Getpid(), syscall.SIGHUP)
		waitNotify(t, notify, "RELOADING=1", &stderr)
		waitNotify(t, notify, "READY=1", &stderr)
	}
	// read runs a sensor's read job and waits for one more reading of it
	// matching re.
	read := func(sensor, re string) {
		t.Helper()
		match := regexp.MustCompile(`msg=reading component=readings sensor=` + sensor + ` .*` + re)
		before := len(match.FindAllString(stderr.String(), -1))
		if code, _, errs := run(t, "", "jobs", "run", "sensor-"+sensor, "--config", cfgPath); code != 0 {
			t.Fatalf("jobs run sensor-%s: exit %d: %s", sensor, code, errs)
		}
		stderr.waitFor(t, "new reading of "+sensor+" matching "+re, func(log string) bool {
			return len(match.FindAllString(log, -1)) > before
		})
	}
	jobs := func() string {
		t.Helper()
		code, out, errs := run(t, "", "jobs", "list", "--config", cfgPath)
		if code != 0 {
			t.Fatalf("jobs list: exit %d: %s", code, errs)
		}
		return out
	}
	// The simulated air swings between 15 and 25 °C over the day (sim.go),
	// so any hour's reading is in 14..26, and 1014..1026 calibrated.
	read("air", `temperature="(1[4-9]|2[0-6]) °C"`)

	// soil added, air's calibration changed.
	write(airCalibrated+"\n"+soil, readSoil)
	sighup()
	if strings.Contains(stderr.String(), "restart the agent") {
		t.Errorf("the reload asks for a restart:\n%s", stderr.String())
	}
	if out := jobs(); !strings.Contains(out, "\nsensor-soil ") || !strings.Contains(out, "\nsoil-now ") {
		t.Fatalf("jobs after adding soil:\n%s", out)
	}
	read("soil", `moisture="[0-9.]+ %"`)
	read("air", `temperature="10(1[4-9]|2[0-6]) °C"`)

	// soil removed while a changed file job still reads it, and an
	// actuator added: the config's validation rejects the file before
	// anything is applied; the running sensors and actuators stay.
	actuators = "[{name: fan, driver: sim}]"
	write(airCalibrated, strings.Replace(readSoil, "hours: 1", "hours: 2", 1))
	actuators = "[]"
	sighup()
	if !strings.Contains(stderr.String(), `jobs.0.action.sensor: no sensor \"soil\"`) {
		t.Fatalf("the reload did not reject the config:\n%s", stderr.String())
	}
	read("soil", `moisture=`)
	fanJob := filepath.Join(dir, "fan.json")
	if err := os.WriteFile(fanJob, []byte(`[{"id":"fan-on","trigger":{"type":"cron","hour":"6"},"action":{"type":"actuate","actuator":"fan","command":"on"}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "", "jobs", "import", fanJob, "--config", cfgPath); code == 0 || !strings.Contains(errs, "fan") {
		t.Errorf("a job driving the actuator of a rejected reload was accepted (exit %d): %s", code, errs)
	}

	// A job from the command line reads soil too.
	cliJob := filepath.Join(dir, "cli.json")
	if err := os.WriteFile(cliJob, []byte(`[{"id":"soil-cli","trigger":{"type":"interval","hours":1},"action":{"type":"read","sensor":"soil"}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "", "jobs", "import", cliJob, "--config", cfgPath); code != 0 {
		t.Fatalf("jobs import: exit %d: %s", code, errs)
	}
	get := func(id string) string {
		t.Helper()
		code, out, errs := run(t, "", "jobs", "get", id, "--config", cfgPath)
		if code != 0 {
			t.Fatalf("jobs get %s: exit %d: %s", id, code, errs)
		}
		return out
	}

	// soil and its file job removed: the command line's job is kept,
	// paused and invalid.
	write(air, "[]")
	sighup()
	if out := jobs(); strings.Contains(out, "sensor-soil") || strings.Contains(out, "soil-now") {
		t.Errorf("jobs after removing soil:\n%s", out)
	}
	if out := get("soil-cli"); !strings.Contains(out, `"paused": true`) || !strings.Contains(out, `"last_result": "invalid: `) {
		t.Errorf("soil-cli after soil left the file:\n%s", out)
	}
	read("air", `temperature="(1[4-9]|2[0-6]) °C"`)

	// soil comes back: so does soil-cli.
	write(air+"\n"+soil, "[]")
	sighup()
	if out := get("soil-cli"); strings.Contains(out, `"paused": true`) || strings.Contains(out, "invalid") || !strings.Contains(out, `"next_run_time"`) {
		t.Errorf("soil-cli after soil came back:\n%s", out)
	}
}
