package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the agent's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
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
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan int, 1)
	go func() {
		m := NewMain(strings.NewReader(""), &bytes.Buffer{}, &stderr)
		done <- m.Run(ctx, []string{"run", "--config", cfgPath})
	}()
	waitNotify(t, notify, "READY=1", &stderr)

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
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("agent exit %d; log:\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not stop")
	}
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
	if code, out, errs := run(t, "", "db", "check", "--config", cfgPath); code != 0 || !strings.Contains(out, "no problems") {
		t.Errorf("db check: exit %d: %s%s", code, out, errs)
	}
	if code, _, errs := run(t, "", "db", "compact", "--config", cfgPath); code != 0 {
		t.Errorf("db compact: exit %d: %s", code, errs)
	}
	if code, _, _ := run(t, "", "jobs", "get", "nope", "--config", cfgPath); code != 2 {
		t.Errorf("get unknown id: exit %d, want 2", code)
	}
}
