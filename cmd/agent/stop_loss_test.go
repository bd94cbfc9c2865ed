package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/store/outbox"
	bolt "go.etcd.io/bbolt"
)

// TestStopReportsTelemetryLost: when the outbox's last commit at the stop
// fails (the disk full), the stop returns the loss — logged, counted in
// outbox.dropped — and the agent's exit code is 1, not 0.
func TestStopReportsTelemetryLost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outbox.Open(db, outbox.Options{MaxBytes: 1 << 20, MaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// The file may not grow any more: a full disk.
	db, err = bolt.Open(path, 0o600, &bolt.Options{MaxSize: int(fi.Size())})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs syncBuffer
	log := newLogger(LogConfig{Level: "info"}, &logs)
	ob, err := outbox.Open(db, outbox.Options{MaxBytes: 1 << 20, MaxAge: time.Hour, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		ob.Append(time.Now(), make([]byte, 64<<10))
	}
	e := &extensions{ob: ob}
	err = e.stop(&agent{log: log})
	if err == nil || !strings.Contains(err.Error(), "10 telemetry record(s) lost at the stop") || exitCode(err) != exitFailure {
		t.Fatalf("stop = %v (exit %d), want the loss and exit %d", err, exitCode(err), exitFailure)
	}
	if _, dropped := ob.Stats(); dropped != 10 {
		t.Errorf("outbox.dropped = %d, want 10", dropped)
	}
	if !strings.Contains(logs.String(), "telemetry lost at the stop") || !strings.Contains(logs.String(), "dropped=10") {
		t.Errorf("log:\n%s", logs.String())
	}
}
