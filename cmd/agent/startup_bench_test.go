package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
	"github.com/edgecron/edgecron/store"
)

// BenchmarkStartup10k times the agent from process start to its control
// socket answering a request, on a store of 10,000 jobs, beside two loads
// of the same file by the store layer alone: in this process (store.Open
// and Load, timed; Close, which the agent does only at its stop, not;
// "store"), and as a process of its own from its start
// (bench/storeload; "store-proc"), which pays what the agent pays and this
// process does not: exec, the Go runtime's initialisation and a heap grown
// from nothing. The three alternate in each iteration, so all see the same
// machine load. It reports the medians and the median of the per-iteration
// ratios with their spread (min and max), in elapsed time and, because a
// loaded machine stretches elapsed time most for a process that starts
// from nothing, in CPU time too (the threads' run time from /proc: the
// agent's until its socket answered, this process's during the store load,
// storeload's whole run). The jobs pulse eight relays: "shared" gives
// them eight distinct actions (one per relay, as a device watering beds
// at many times has), "distinct" a different action each (the duration
// differs), so that no two jobs share a validation.
//
// Each start but the first finds the validation stamp its predecessor's
// clean stop (SIGTERM) left, as a restart of the same agent does, and so
// does not validate the stored actions again (the benchmark fails if the
// agent's log says otherwise); the "-nostamp" variants void the stamp
// before every start (a read-write open of the file, as a CLI command
// makes), so that every start validates every action. The binary is built
// with a release-like version (a dev build never stamps), and the store's
// load in this process opens a copy of the agent's file (its read-write
// open would void the stamp; storeload's is read-only). docs/performance.md
// has the figures and the command:
//
//	go test -run '^$' -bench Startup10k -benchtime 10x -count 3 ./cmd/agent
func BenchmarkStartup10k(b *testing.B) {
	for _, stamped := range []bool{true, false} {
		for _, distinct := range []bool{false, true} {
			name := "shared"
			if distinct {
				name = "distinct"
			}
			if !stamped {
				name += "-nostamp"
			}
			b.Run(name, func(b *testing.B) { benchStartup(b, distinct, stamped) })
		}
	}
}

// releaseBuild builds the package pkg into out as a release is built
// (scripts/cross-build.sh): static (CGO_ENABLED=0), -trimpath, with the
// release compiler flags of scripts/goflags.sh, stripped, with ldflags
// added. A plain go build on a machine with a C compiler links the C
// library dynamically, and its start then pays the dynamic loader and
// the C library's initialisation, which the installed agent never does.
func releaseBuild(b *testing.B, out, pkg, ldflags string) {
	b.Helper()
	flags, err := exec.Command("../../scripts/goflags.sh").Output()
	if err != nil {
		b.Fatalf("scripts/goflags.sh: %v", err)
	}
	args := append([]string{"build", "-trimpath"}, strings.Fields(string(flags))...)
	args = append(args, "-ldflags=-s -w "+ldflags, "-o", out, pkg)
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
}

func benchStartup(b *testing.B, distinct, stamped bool) {
	const n = 10000
	dir := b.TempDir()
	bin := filepath.Join(dir, "edgecron")
	releaseBuild(b, bin, ".", "-X main.version=v0.0.0-bench")
	loader := filepath.Join(dir, "storeload")
	releaseBuild(b, loader, "../../bench/storeload", "")
	dbPath, sock, cfg := filepath.Join(dir, "agent.db"), filepath.Join(dir, "agent.sock"), filepath.Join(dir, "agent.yaml")
	writeStartupStore(b, dbPath, n, distinct)
	storePath := filepath.Join(dir, "store.db")
	if data, err := os.ReadFile(dbPath); err != nil || os.WriteFile(storePath, data, 0o600) != nil {
		b.Fatalf("copying the store: %v", err)
	}
	yaml := fmt.Sprintf("device_id: bench\ntimezone: UTC\nclock: {source: rtc}\nhardware: {board: sim}\nstore: {path: %s}\ncontrol: {socket: %s}\nactuators:\n", dbPath, sock)
	for i := 0; i < 8; i++ {
		yaml += fmt.Sprintf("  - {name: relay-%d, driver: sim}\n", i)
	}
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		b.Fatal(err)
	}

	// The store's load in this process: Open (read-write, so it commits
	// the boot count as the agent's does) and Load, which decodes each job
	// and hands it over (counted here; the agent's scheduler keeps it),
	// timed; Close, whose commit the agent makes only at its stop, is not.
	storeLoad := func() (time.Duration, time.Duration) {
		cpu := cpuTime(os.Getpid())
		start := time.Now()
		s, err := store.Open(storePath, store.Options{Timeout: 5 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		jobs := 0
		err = s.Load(context.Background(), func(*sched.Job) error { jobs++; return nil })
		if err != nil || jobs != n {
			b.Fatalf("store load: %d jobs, %v", jobs, err)
		}
		d, c := time.Since(start), cpuTime(os.Getpid())-cpu
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		return d, c
	}
	// The two processes count their page faults too: every page a new
	// process touches first is one, and their cost differs by machine
	// (docs/performance.md).
	var agentFaults, procFaults []float64
	storeProcess := func() (time.Duration, time.Duration) {
		cmd := exec.Command(loader, dbPath)
		start := time.Now()
		out, err := cmd.Output()
		d := time.Since(start)
		if err != nil || string(bytes.TrimSpace(out)) != strconv.Itoa(n) {
			b.Fatalf("storeload: %q, %v", out, err)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			procFaults = append(procFaults, float64(ru.Minflt))
		}
		return d, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	starts := 0
	agentStart := func() (time.Duration, time.Duration) {
		if !stamped {
			s, err := store.Open(dbPath, store.Options{}) // voids the stamp
			if err != nil || s.Close() != nil {
				b.Fatalf("voiding the stamp: %v", err)
			}
		}
		var stderr bytes.Buffer
		cmd := exec.Command(bin, "run", "--config", cfg)
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		err := awaitControl(sock, 30*time.Second)
		d := time.Since(start)
		cpu := cpuTime(cmd.Process.Pid)
		agentFaults = append(agentFaults, float64(minorFaults(cmd.Process.Pid)))
		cmd.Process.Signal(syscall.SIGTERM)
		if werr := cmd.Wait(); err != nil || werr != nil {
			b.Fatalf("agent: %v, exit %v; log:\n%s", err, werr, stderr.String())
		}
		skipped := bytes.Contains(stderr.Bytes(), []byte("not validated again"))
		if want := stamped && starts > 0; skipped != want {
			b.Fatalf("start %d skipped validating the stored actions: %v, want %v; log:\n%s", starts, skipped, want, stderr.String())
		}
		starts++
		return d, cpu
	}
	storeLoad() // warm the page cache and the binaries alike
	storeProcess()
	agentStart()
	var agent, inProc, proc sample
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Each iteration runs the three sides in another order.
		sides := []func(){
			func() { agent.add(agentStart()) },
			func() { inProc.add(storeLoad()) },
			func() { proc.add(storeProcess()) },
		}
		for k := range sides {
			sides[(i+k)%len(sides)]()
		}
	}
	b.StopTimer()
	b.ReportMetric(median(inProc.elapsed), "store-ms")
	b.ReportMetric(median(proc.elapsed), "store-proc-ms")
	b.ReportMetric(median(agent.elapsed), "start-ms")
	b.ReportMetric(median(inProc.cpu), "store-cpu-ms")
	b.ReportMetric(median(proc.cpu), "store-proc-cpu-ms")
	b.ReportMetric(median(agent.cpu), "start-cpu-ms")
	reportRatios(b, "start/store", agent.elapsed, inProc.elapsed)
	reportRatios(b, "cpu-start/store", agent.cpu, inProc.cpu)
	reportRatios(b, "start/store-proc", agent.elapsed, proc.elapsed)
	reportRatios(b, "cpu-start/store-proc", agent.cpu, proc.cpu)
	if len(procFaults) == len(agentFaults) && len(agentFaults) > b.N {
		// The first entry of each is the warm-up's.
		a, p := agentFaults[1:], procFaults[1:]
		b.ReportMetric(median(a), "start-faults")
		b.ReportMetric(median(p), "store-proc-faults")
		reportRatios(b, "faults-start/store-proc", a, p)
	}
}

// minorFaults is the minor page faults of process pid so far, all its
// threads (field 10 of /proc/pid/stat), or 0 when it cannot be read.
func minorFaults(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	f := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	if len(f) < 8 {
		return 0
	}
	n, _ := strconv.ParseInt(string(f[7]), 10, 64)
	return n
}

// sample is one side's elapsed and CPU times, in milliseconds, an entry
// per iteration.
type sample struct{ elapsed, cpu []float64 }

func (s *sample) add(elapsed, cpu time.Duration) {
	s.elapsed, s.cpu = append(s.elapsed, ms(elapsed)), append(s.cpu, ms(cpu))
}

// reportRatios reports the median of the per-iteration ratios a[i]/b[i]
// as name, and their spread as name-min and name-max.
func reportRatios(b *testing.B, name string, num, den []float64) {
	r := make([]float64, len(num))
	for i := range num {
		r[i] = num[i] / den[i]
	}
	b.ReportMetric(median(r), name)
	b.ReportMetric(slices.Min(r), name+"-min")
	b.ReportMetric(slices.Max(r), name+"-max")
}

// cpuTime is the CPU time of the process pid so far: the sum of its
// threads' run time (/proc/PID/task/*/schedstat, in nanoseconds; Linux).
func cpuTime(pid int) time.Duration {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, _ := os.ReadDir(dir)
	var sum time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
		if err != nil {
			continue // the thread ended
		}
		f := bytes.Fields(b)
		if len(f) > 0 {
			n, _ := strconv.ParseInt(string(f[0]), 10, 64)
			sum += time.Duration(n)
		}
	}
	return sum
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// awaitControl polls the control socket until a get of a stored job is
// accepted.
func awaitControl(sock string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.Dial("unix", sock)
		if err == nil {
			fmt.Fprintf(c, "{\"op\":\"get\",\"job_id\":\"job-00000\"}\n")
			line, rerr := bufio.NewReader(c).ReadBytes('\n')
			c.Close()
			if rerr == nil && bytes.Contains(line, []byte(`"accepted"`)) {
				return nil
			}
			if rerr == nil {
				return fmt.Errorf("control socket answered %s", line)
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("control socket %s not answering after %v: %v", sock, limit, err)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// writeStartupStore commits n jobs as a busy device holds them
// (schedtest.StartupJobs), their first runs an hour away.
func writeStartupStore(b testing.TB, path string, n int, distinct bool) {
	s, err := store.Open(path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := schedtest.CommitStartupJobs(context.Background(), s, n, time.Now().Add(time.Hour).Truncate(time.Second), distinct); err != nil {
		b.Fatal(err)
	}
}
