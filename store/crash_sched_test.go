package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

const envCrashSched = "EDGECRON_CRASH_SCHED"

// TestCrashScheduler is the crash test with the scheduler in the child: it
// adds, replaces and removes recurring jobs and adds one-shot date jobs due
// within milliseconds, on the real clock, while the parent SIGKILLs it at
// random moments. After every kill it checks that the file opens cleanly,
// that every acknowledged add or remove of a recurring job is there, and
// across all kills that no date job ever ran twice and none that ran is
// still stored (a date job is committed as removed before it runs).
func TestCrashScheduler(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	cycles := 50
	if *soak {
		cycles = 500
	}
	path := filepath.Join(t.TempDir(), "agent.db")
	var prefix []string
	if p := os.Getenv(envExec); p != "" {
		prefix = strings.Fields(p)
	}
	t.Setenv(envCrashSched, "1")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	recurring := map[string]bool{} // acknowledged recurring jobs
	dates := map[string]bool{}     // acknowledged date jobs
	ran := map[string]int{}        // date job → runs seen, over all cycles
	var acks int
	for cycle := range cycles {
		seed := rng.Uint64()
		delay := time.Duration(rng.Int64N(int64(80 * time.Millisecond)))
		lines := runCrashChild(t, prefix, path, seed, delay, rng.IntN(4) != 0)

		var pending string
		for _, l := range lines {
			f := strings.Fields(l)
			switch {
			case len(f) == 0:
			case f[0] == "RUN" && len(f) == 2:
				ran[f[1]]++
				if ran[f[1]] > 1 {
					t.Fatalf("cycle %d: date job %s ran twice", cycle, f[1])
				}
			case f[0] == "C":
				pending = strings.TrimPrefix(l, "C ")
			case f[0] == "A":
				op := strings.Fields(pending)
				switch op[0] {
				case "add":
					recurring[op[1]] = true
				case "remove":
					delete(recurring, op[1])
				case "date":
					dates[op[1]] = true
				}
				pending = ""
				acks++
			case f[0] == "O":
			default:
				t.Fatalf("cycle %d: child said %q", cycle, l)
			}
		}

		s, err := Open(path, Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("cycle %d: reopening: %v", cycle, err)
		}
		jobs, err := schedtest.LoadAll(context.Background(), s)
		if err != nil {
			t.Fatalf("cycle %d: loading: %v", cycle, err)
		}
		if rep, err := s.check(); err != nil {
			t.Fatalf("cycle %d: %v\n%s", cycle, err, rep)
		}
		s.Close()
		stored := map[string]bool{}
		for _, j := range jobs {
			stored[j.ID] = true
			if ran[j.ID] > 0 {
				t.Fatalf("cycle %d: date job %s ran and is still stored: it was not removed before it ran", cycle, j.ID)
			}
		}
		op := strings.Fields(pending)
		for id := range recurring {
			if !stored[id] && !(len(op) == 2 && op[0] == "remove" && op[1] == id) {
				t.Fatalf("cycle %d: acknowledged recurring job %s is gone", cycle, id)
			}
		}
		for id := range stored {
			if strings.HasPrefix(id, "i-") && !recurring[id] && !(len(op) == 2 && op[0] == "add" && op[1] == id) {
				t.Fatalf("cycle %d: recurring job %s is stored but its add was never acknowledged (or its remove was)", cycle, id)
			}
		}
		if len(op) == 2 && stored[op[1]] {
			switch op[0] {
			case "add":
				recurring[op[1]] = true
			case "date":
				dates[op[1]] = true
			}
		}
		if len(op) == 2 && op[0] == "remove" && !stored[op[1]] {
			delete(recurring, op[1])
		}
	}
	// The date jobs that never ran: still stored (due when the last child
	// was killed) or lost (killed between their removal and their run).
	s, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := schedtest.LoadAll(context.Background(), s)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, j := range jobs {
		stored[j.ID] = true
	}
	var waiting, lost int
	for id := range dates {
		switch {
		case ran[id] > 0:
		case stored[id]:
			waiting++
		default:
			lost++
		}
	}
	t.Logf("%d kill cycles, %d acknowledged changes, %d date jobs: %d ran once, %d still due, %d lost to a kill between their removal and their run (at most once)",
		cycles, acks, len(dates), len(ran), waiting, lost)
	if len(ran) == 0 || acks == 0 {
		t.Fatal("no date job ever ran: the test did not exercise anything")
	}
}

// crashSchedChild is the child of TestCrashScheduler (run from
// TestCrashChild when envCrashSched is set).
func crashSchedChild(t *testing.T, path string, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 17))
	st, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("child Open: %v", err)
	}
	s := sched.New(st, sched.Options{
		Location: time.UTC, CheckpointInterval: 20 * time.Millisecond,
		Limits: sched.Limits{MinInterval: time.Millisecond}, // its 10-90ms intervals keep run state busy
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err := s.Handle("mark", sched.HandlerFunc{RunFunc: func(_ context.Context, r sched.Run) (sched.Result, error) {
		if r.Job.Trigger.Type == "date" {
			fmt.Fprintf(os.Stdout, "RUN %s\n", r.Job.ID)
		}
		return nil, nil
	}}, sched.HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	// A listener, though the child reads no events: sched.Remove without
	// any listener dereferences a nil event job (engine_ops.go removeLocked,
	// reported to the engine's owner).
	s.Listen(func(sched.Event) {})
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatalf("child Start: %v", err)
	}
	fmt.Fprintf(os.Stdout, "O %d\n", st.Meta().Boots)
	tag := strconv.FormatUint(seed%1_000_000, 36)
	for n := 0; ; n++ {
		var line string
		var p string
		var op func() error
		switch k := rng.IntN(10); {
		case k < 5:
			id := fmt.Sprintf("d-%s-%d", tag, n)
			at := time.Now().Add(time.Duration(rng.Int64N(int64(40 * time.Millisecond)))).UTC().Format(time.RFC3339Nano)
			line = "date " + id
			p = fmt.Sprintf(`{"id":%q,"trigger":{"type":"date","run_date":%q},"action":{"type":"mark"}}`, id, at)
		case k < 8:
			id := fmt.Sprintf("i-%d", rng.IntN(8))
			line = "add " + id
			p = fmt.Sprintf(`{"id":%q,"trigger":{"type":"interval","seconds":0.0%d},"action":{"type":"mark"}}`, id, 1+rng.IntN(9))
		default:
			id := fmt.Sprintf("i-%d", rng.IntN(8))
			if _, err := s.Get(id); err != nil {
				continue
			}
			line = "remove " + id
			op = func() error { _, err := s.Remove(ctx, id, sched.OpOptions{}); return err }
		}
		if op == nil {
			patch, err := sched.DecodeJob([]byte(p), sched.ModeAdd)
			if err != nil {
				t.Fatalf("child DecodeJob(%s): %v", p, err)
			}
			op = func() error {
				_, err := s.Add(ctx, patch, sched.AddOptions{ReplaceExisting: true})
				return err
			}
		}
		fmt.Fprintf(os.Stdout, "C %s\n", line)
		if err := op(); err != nil {
			t.Fatalf("child %s: %v", line, err)
		}
		fmt.Fprintln(os.Stdout, "A")
	}
}
