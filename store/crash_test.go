package store

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

var soak = flag.Bool("soak", false, "run the crash test for 1,000 kill cycles instead of 60")

// The crash test's child: TestCrashChild re-executed with these set.
const (
	envCrashPath = "EDGECRON_CRASH_CHILD"
	envCrashSeed = "EDGECRON_CRASH_SEED"
	// envExec is a command prefix for the child, such as "qemu-arm-static",
	// so that a cross-built test binary can run this test.
	envExec = "EDGECRON_TEST_EXEC"
)

// crashJob is the job the crash test stores for id at version: its content
// is a function of both, so that a reader can tell a whole record from a
// torn or stale one. Sizes vary up to a few pages.
func crashJob(id string, version int64) sched.Job {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s@%d", id, version)
	n := int(h.Sum32() % 9000)
	payload := strings.Repeat(string(rune('a'+version%26)), n)
	return sched.Job{
		ID:      id,
		Name:    fmt.Sprintf("%s@%d", id, version),
		Trigger: sched.TriggerSpec{Type: "interval", Seconds: float64(version), StartDate: "2026-11-21T09:00:00Z"},
		Action:  sched.Action{Type: "publish", Raw: []byte(`{"type":"publish","topic":"t","payload":"` + payload + `"}`)},
		Version: version, MaxInstances: 1, Source: sched.SourceMQTT,
	}
}

// crashState is what the store holds, as the crash test sees it.
type crashState struct {
	versions map[string]int64 // job id → version
	runs     map[string]int64 // job id → next run time, Unix nanoseconds
}

func newCrashState() crashState {
	return crashState{versions: map[string]int64{}, runs: map[string]int64{}}
}

func (s crashState) clone() crashState {
	c := newCrashState()
	for k, v := range s.versions {
		c.versions[k] = v
	}
	for k, v := range s.runs {
		c.runs[k] = v
	}
	return c
}

func (s crashState) String() string {
	var b strings.Builder
	ids := make([]string, 0, len(s.versions))
	for id := range s.versions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		fmt.Fprintf(&b, " %s@%d", id, s.versions[id])
		if r, ok := s.runs[id]; ok {
			fmt.Fprintf(&b, "/run%d", r)
		}
	}
	return b.String()
}

func (s crashState) equal(o crashState) bool {
	if len(s.versions) != len(o.versions) || len(s.runs) != len(o.runs) {
		return false
	}
	for k, v := range s.versions {
		if ov, ok := o.versions[k]; !ok || ov != v {
			return false
		}
	}
	for k, v := range s.runs {
		if ov, ok := o.runs[k]; !ok || ov != v {
			return false
		}
	}
	return true
}

// apply applies one logged operation: "P id version", "D id" or
// "R id nanos", separated by ";".
func (s crashState) apply(op string) error {
	for _, c := range strings.Split(op, ";") {
		f := strings.Fields(c)
		switch {
		case len(f) == 3 && f[0] == "P":
			v, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				return err
			}
			s.versions[f[1]] = v
			delete(s.runs, f[1])
		case len(f) == 2 && f[0] == "D":
			delete(s.versions, f[1])
			delete(s.runs, f[1])
		case len(f) == 3 && f[0] == "R":
			n, err := strconv.ParseInt(f[2], 10, 64)
			if err != nil {
				return err
			}
			if _, ok := s.versions[f[1]]; ok {
				s.runs[f[1]] = n
			}
		default:
			return fmt.Errorf("bad operation %q", c)
		}
	}
	return nil
}

// readCrashState loads the store at path and checks every job's content.
func readCrashState(t *testing.T, path string) (crashState, *Report) {
	t.Helper()
	s, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("reopening after the kill: %v", err)
	}
	defer s.Close()
	jobs, err := schedtest.LoadAll(context.Background(), s)
	if err != nil {
		t.Fatalf("loading after the kill: %v", err)
	}
	st := newCrashState()
	for _, j := range jobs {
		want := crashJob(j.ID, j.Version)
		want.NextRunTime, want.LastResult = j.NextRunTime, j.LastResult
		if d := diffJob(j, want); d != "" {
			t.Fatalf("job %s holds a torn or foreign record: %s", j.ID, d)
		}
		st.versions[j.ID] = j.Version
		if j.NextRunTime != nil {
			st.runs[j.ID] = j.NextRunTime.UnixNano()
		}
	}
	rep, err := s.check()
	if err != nil {
		t.Fatalf("checking after the kill: %v\n%s", err, rep)
	}
	return st, rep
}

// TestCrash kills a child process writing to the store at random moments
// and checks, after each kill, that the file opens cleanly and holds every
// acknowledged change and no part of an unacknowledged one: the state
// after the last acknowledgement, or after the one change in flight.
//
// SIGKILL keeps the kernel's page cache, so this proves atomicity and the
// ordering of acknowledgements after commits, not the fsync itself
// (TestOpenFsyncOn and docs/durability.md cover that).
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	cycles := 60
	if *soak {
		cycles = 1000
	}
	path := filepath.Join(t.TempDir(), "agent.db")
	var prefix []string
	if p := os.Getenv(envExec); p != "" {
		prefix = strings.Fields(p)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	model := newCrashState()
	var acks, inflight int
	for cycle := range cycles {
		seed := rng.Uint64()
		// Kill moments spread over the child's start (Open's commit): a
		// quarter of the cycles count from the start of the process; the
		// rest from the moment the store is open, over its commits.
		afterOpen := rng.IntN(4) != 0
		delay := time.Duration(rng.Int64N(int64(60 * time.Millisecond)))
		lines := runCrashChild(t, prefix, path, seed, delay, afterOpen)

		want := model.clone()
		var pending string
		for _, l := range lines {
			switch {
			case strings.HasPrefix(l, "C "):
				pending = strings.TrimPrefix(l, "C ")
			case l == "A":
				if pending == "" {
					t.Fatalf("cycle %d: acknowledgement without a change", cycle)
				}
				if err := want.apply(pending); err != nil {
					t.Fatal(err)
				}
				pending = ""
				acks++
			case strings.HasPrefix(l, "O "):
			default:
				t.Fatalf("cycle %d: child said %q", cycle, l)
			}
		}
		got, _ := readCrashState(t, path)
		switch {
		case got.equal(want):
		case pending != "":
			withPending := want.clone()
			if err := withPending.apply(pending); err != nil {
				t.Fatal(err)
			}
			if !got.equal(withPending) {
				t.Fatalf("cycle %d (seed %d, kill after %v): the store holds\n%s\nwant the acknowledged state\n%s\nor that plus the change in flight (%s)",
					cycle, seed, delay, got, want, pending)
			}
			inflight++
		default:
			t.Fatalf("cycle %d (seed %d, kill after %v): the store holds\n%s\nwant the acknowledged state\n%s", cycle, seed, delay, got, want)
		}
		model = got
	}
	t.Logf("%d kill cycles, %d acknowledged changes, %d kills landed after a commit and before its acknowledgement", cycles, acks, inflight)
	if acks == 0 {
		t.Fatal("no change was ever acknowledged: the child never got to work")
	}
}

// runCrashChild starts the child, kills it after delay (counted from the
// start, or from its report that the store is open) and returns every line
// it printed.
func runCrashChild(t *testing.T, prefix []string, path string, seed uint64, delay time.Duration, afterOpen bool) []string {
	t.Helper()
	args := append(append([]string{}, prefix...), os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), envCrashPath+"="+path, envCrashSeed+"="+strconv.FormatUint(seed, 10))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	kill := time.AfterFunc(time.Hour, func() { _ = cmd.Process.Kill() })
	defer kill.Stop()
	if !afterOpen {
		kill.Reset(delay)
	}
	backstop := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	defer backstop.Stop()

	var lines []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if afterOpen && strings.HasPrefix(sc.Text(), "O ") {
			kill.Reset(delay)
		}
	}
	if err := sc.Err(); err != nil && err != io.EOF {
		t.Fatalf("reading the child: %v", err)
	}
	err = cmd.Wait()
	if !kill.Stop() && err != nil && strings.Contains(err.Error(), "killed") {
		return lines // killed as planned
	}
	t.Fatalf("the child ended by itself (%v) before its kill; it printed %q and\n%s", err, lines[max(0, len(lines)-5):], stderr.String())
	return nil
}

// TestCrashChild is the crash test's child process: it drives job changes
// and run-state checkpoints through the real store until it is killed,
// printing "C <change>" before each commit and "A" once it returned.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(envCrashPath)
	if path == "" {
		t.Skip("run by TestCrash only")
	}
	seed, _ := strconv.ParseUint(os.Getenv(envCrashSeed), 10, 64)
	if os.Getenv(envCrashSched) != "" {
		crashSchedChild(t, path, seed)
		return
	}
	rng := rand.New(rand.NewPCG(seed, 11))
	s, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("child Open: %v", err)
	}
	fmt.Fprintf(os.Stdout, "O %d\n", s.Meta().Boots)
	jobs, err := schedtest.LoadAll(context.Background(), s)
	if err != nil {
		t.Fatalf("child Load: %v", err)
	}
	versions := map[string]int64{}
	for _, j := range jobs {
		versions[j.ID] = j.Version
	}
	ctx := context.Background()
	for {
		if rng.IntN(4) == 0 && len(versions) > 0 {
			// A checkpoint of run state for a few jobs.
			var states []sched.RunState
			var ops []string
			for id := range versions {
				if rng.IntN(2) == 0 {
					next := time.Unix(0, rng.Int64N(1<<62))
					states = append(states, sched.RunState{ID: id, NextRunTime: &next})
					ops = append(ops, fmt.Sprintf("R %s %d", id, next.UnixNano()))
				}
			}
			if len(ops) == 0 {
				continue
			}
			fmt.Fprintf(os.Stdout, "C %s\n", strings.Join(ops, ";"))
			if err := s.SaveRunState(ctx, states); err != nil {
				t.Fatalf("child SaveRunState: %v", err)
			}
			fmt.Fprintln(os.Stdout, "A")
			continue
		}
		// A commit of one to four changes.
		var cs []sched.Change
		var ops []string
		next := map[string]int64{}
		for id, v := range versions {
			next[id] = v
		}
		for range 1 + rng.IntN(4) {
			id := fmt.Sprintf("job-%02d", rng.IntN(40))
			v, ok := next[id]
			switch {
			case !ok:
				cs = append(cs, sched.Change{ID: id, Job: crashJob(id, 1)})
				ops = append(ops, "P "+id+" 1")
				next[id] = 1
			case rng.IntN(3) == 0:
				cs = append(cs, sched.Change{ID: id, Delete: true, PrevVersion: v})
				ops = append(ops, "D "+id)
				delete(next, id)
			default:
				cs = append(cs, sched.Change{ID: id, Job: crashJob(id, v+1), PrevVersion: v})
				ops = append(ops, fmt.Sprintf("P %s %d", id, v+1))
				next[id] = v + 1
			}
		}
		fmt.Fprintf(os.Stdout, "C %s\n", strings.Join(ops, ";"))
		if err := s.Commit(ctx, cs); err != nil {
			t.Fatalf("child Commit: %v", err)
		}
		fmt.Fprintln(os.Stdout, "A")
		versions = next
	}
}
