package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// testJob returns a job with every field set, distinct per id and version.
func testJob(id string, version int64) sched.Job {
	grace := 300 * time.Second
	next := time.Date(2026, 11, 23, 6, 30, 0, 0, time.FixedZone("", 3600))
	last := time.Date(2026, 11, 20, 5, 30, 0, 123456789, time.UTC)
	act, err := sched.NewAction("actuate", map[string]any{"actuator": "pump", "command": "pulse", "duration": "30s"})
	if err != nil {
		panic(err)
	}
	return sched.Job{
		ID:   id,
		Name: fmt.Sprintf("Water %s v%d", id, version),
		Trigger: sched.TriggerSpec{
			Type: "cron", DayOfWeek: "mon-fri", Hour: "6", Minute: "30", Timezone: "Europe/Berlin",
			StartDate: "2026-01-01T00:00:00Z", Jitter: 2.5,
		},
		Action:           act,
		MisfireGraceTime: &grace,
		Coalesce:         true,
		MaxInstances:     1,
		Remote:           version%2 == 0,
		Version:          version,
		NextRunTime:      &next,
		LastRunTime:      &last,
		LastResult:       "ok",
		Source:           sched.SourceMQTT,
	}
}

// diffJob describes how got differs from want; "" when they are the same
// (times compared by instant and zone offset).
func diffJob(got, want sched.Job) string {
	tm := func(name string, g, w *time.Time) string {
		switch {
		case g == nil && w == nil:
			return ""
		case g == nil || w == nil:
			return fmt.Sprintf("%s: got %v, want %v", name, g, w)
		}
		_, go1 := g.Zone()
		_, wo := w.Zone()
		if !g.Equal(*w) || go1 != wo {
			return fmt.Sprintf("%s: got %v, want %v", name, *g, *w)
		}
		return ""
	}
	if d := tm("next_run_time", got.NextRunTime, want.NextRunTime); d != "" {
		return d
	}
	if d := tm("last_run_time", got.LastRunTime, want.LastRunTime); d != "" {
		return d
	}
	got.NextRunTime, got.LastRunTime, want.NextRunTime, want.LastRunTime = nil, nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("got  %+v\nwant %+v", got, want)
	}
	return ""
}

func openT(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// damagedT is s.Damaged, which must not fail.
func damagedT(t *testing.T, s *Store) []Damaged {
	t.Helper()
	d, err := s.Damaged(context.Background())
	if err != nil {
		t.Fatalf("Damaged: %v", err)
	}
	return d
}

func tempPath(t *testing.T) string { return filepath.Join(t.TempDir(), "agent.db") }

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func put(j sched.Job, prev int64) sched.Change {
	return sched.Change{ID: j.ID, Job: j, PrevVersion: prev}
}

func del(id string, prev int64) sched.Change {
	return sched.Change{ID: id, Delete: true, PrevVersion: prev}
}
