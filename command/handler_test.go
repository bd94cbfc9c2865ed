//go:build linux

package command

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgecron/edgecron/internal/units"
	"github.com/edgecron/edgecron/sched"
)

// failsafe bounds every wait on a real process, so a broken kill path fails
// the test instead of hanging it. Nothing waits for it to pass.
const failsafe = 30 * time.Second

func script(t *testing.T, name string) []string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return []string{"/bin/sh", p}
}

func testHandler(t *testing.T, cfg Config, o Options) (*Handler, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	o.Clock = clk
	o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := NewHandler(cfg, o)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return h, clk
}

func execRun(t *testing.T, id string, p Params) sched.Run {
	t.Helper()
	a, err := sched.NewAction(ActionType, p)
	if err != nil {
		t.Fatal(err)
	}
	return sched.Run{Job: sched.Job{ID: id, Action: a}, ScheduledTime: time.Date(2026, 11, 21, 6, 30, 0, 0, time.UTC)}
}

type outcome struct {
	res sched.Result
	err error
}

func goRun(ctx context.Context, h *Handler, r sched.Run) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		res, err := h.Run(ctx, r)
		ch <- outcome{res, err}
	}()
	return ch
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(failsafe):
		t.Fatalf("gave up waiting for %s", what)
		panic("unreachable")
	}
}

func mkfifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fifoLines reads the fifo at path line by line; the channel is closed at
// EOF, that is once every process that opened it for writing has closed it
// (for the scripts here: has died).
func fifoLines(t *testing.T, path string) <-chan string {
	t.Helper()
	ch := make(chan string, 16)
	go func() {
		defer close(ch)
		f, err := os.Open(path) // blocks until a writer opens it
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		// Unblock the open above if no writer ever came.
		if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
	return ch
}

// fifoWrite writes line to the fifo at path once a reader opens it.
func fifoWrite(t *testing.T, path, line string) {
	t.Helper()
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0) // blocks until a reader opens it
		if err != nil {
			return
		}
		defer f.Close()
		io.WriteString(f, line+"\n")
	}()
	t.Cleanup(func() {
		if f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	})
}

// expectEOF proves that every writer of the fifo is gone: the scripts' fifo
// writers never close it but by dying. (Their /proc state may still read
// "running" for a moment after their files are closed, so that is not
// checked.)
func expectEOF(t *testing.T, lines <-chan string) {
	t.Helper()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return
			}
			t.Logf("fifo: %q", l)
		case <-time.After(failsafe):
			t.Fatal("the grandchild still holds the fifo: it survived the kill")
		}
	}
}

// grandchild reads the pid a test script's grandchild wrote to the fifo and
// makes sure it does not outlive a failed test.
func grandchild(t *testing.T, lines <-chan string) int {
	t.Helper()
	pid, err := strconv.Atoi(recv(t, lines, "the grandchild's pid"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); string(b) == "sleep\x001000\x00" {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return pid
}

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

func TestRunReportsOutputEnvAndDir(t *testing.T) {
	dir := t.TempDir()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := testHandler(t, Config{"report": {
		Argv: script(t, "report.sh"),
		Dir:  dir,
		Env:  map[string]string{"GREETING": "hello world"},
		Args: []string{"full|incremental", "[0-9]+"},
	}}, Options{})
	res, err := h.Run(context.Background(), execRun(t, "nightly", Params{Command: "report", Args: []string{"full", "7"}}))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := strings.Join([]string{
		"pwd=" + real,
		"greeting=hello world",
		"job=nightly",
		"command=report",
		"scheduled=2026-11-21T06:30:00Z",
		"path=" + DefaultPath,
		"args=full 7",
	}, "\n") + "\n"
	if res["stdout"] != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res["stdout"], want)
	}
	if res["stderr"] != "to stderr\n" {
		t.Errorf("stderr = %q", res["stderr"])
	}
	if res["exit_code"] != 0 || res["command"] != "report" {
		t.Errorf("result = %v", res)
	}
	if _, ok := res["duration_ms"].(int64); !ok {
		t.Errorf("duration_ms missing: %v", res)
	}
	for _, k := range []string{"timed_out", "cancelled", "signal", "stdout_truncated", "leftovers_killed", "output_held"} {
		if _, ok := res[k]; ok {
			t.Errorf("result has %s on a clean run: %v", k, res)
		}
	}
}

func TestRunExitStatus(t *testing.T) {
	h, _ := testHandler(t, Config{
		"fail":   {Argv: script(t, "fail.sh")},
		"signal": {Argv: script(t, "signal.sh")},
		"ok":     {Argv: script(t, "report.sh"), Env: map[string]string{"EXIT_CODE": "0"}},
		"code42": {Argv: script(t, "report.sh"), Env: map[string]string{"EXIT_CODE": "42"}},
		"absent": {Argv: []string{"/nonexistent/edgecron-test-program"}},
	}, Options{})
	tests := []struct {
		command  string
		code     int
		signal   string
		errWant  string // "" for success
		isExit   bool
		noResult bool
	}{
		{command: "ok", code: 0},
		{command: "fail", code: 3, errWant: `command "fail" exited with code 3: backup: disk full`, isExit: true},
		{command: "code42", code: 42, errWant: `command "code42" exited with code 42: to stderr`, isExit: true},
		{command: "signal", code: -1, signal: "SIGUSR1", errWant: `command "signal" was killed by signal SIGUSR1 (user defined signal 1)`, isExit: true},
		{command: "absent", errWant: `command "absent": start /nonexistent/edgecron-test-program: fork/exec /nonexistent/edgecron-test-program: no such file or directory`, noResult: true},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			res, err := h.Run(context.Background(), execRun(t, "j", Params{Command: tt.command}))
			if tt.errWant == "" {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			} else if err == nil || err.Error() != tt.errWant {
				t.Fatalf("error = %v\nwant    %s", err, tt.errWant)
			}
			var ee *ExitError
			if errors.As(err, &ee) != tt.isExit {
				t.Errorf("errors.As(*ExitError) = %v, want %v", !tt.isExit, tt.isExit)
			}
			if tt.noResult {
				if _, ok := res["exit_code"]; ok {
					t.Errorf("a run that never started reports an exit code: %v", res)
				}
				return
			}
			if res["exit_code"] != tt.code {
				t.Errorf("exit_code = %v, want %d", res["exit_code"], tt.code)
			}
			if sig, _ := res["signal"].(string); sig != tt.signal {
				t.Errorf("signal = %q, want %q", sig, tt.signal)
			}
			if ee != nil && (ee.ExitCode != tt.code || ee.Signal != tt.signal) {
				t.Errorf("ExitError = %+v", ee)
			}
		})
	}
}

func TestRunTruncatesOutputTails(t *testing.T) {
	h, _ := testHandler(t, Config{"flood": {Argv: script(t, "flood.sh"), MaxOutput: 1 << 10}}, Options{})
	res, err := h.Run(context.Background(), execRun(t, "j", Params{Command: "flood"}))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var full strings.Builder
	for i := 1000; i < 3000; i++ {
		fmt.Fprintf(&full, "line %d %s\n", i, strings.Repeat(".", 39))
	}
	all := full.String()
	if res["stdout_bytes"] != int64(len(all)) {
		t.Errorf("stdout_bytes = %v, want %d", res["stdout_bytes"], len(all))
	}
	if res["stdout_truncated"] != true {
		t.Errorf("stdout_truncated = %v, want true", res["stdout_truncated"])
	}
	if got := res["stdout"].(string); got != all[len(all)-1024:] {
		t.Errorf("stdout tail (%d bytes) is not the last 1024 bytes of the output:\n%q", len(got), got)
	}
	if res["stderr"] != "err 1\nerr 2\nerr 3\n" {
		t.Errorf("stderr = %q", res["stderr"])
	}
	if _, ok := res["stderr_truncated"]; ok {
		t.Errorf("stderr reported truncated: %v", res)
	}
}

func TestTimeoutKillsTheWholeProcessGroup(t *testing.T) {
	fifo := mkfifo(t)
	h, clk := testHandler(t, Config{"hang": {
		Argv: script(t, "hang.sh"), Timeout: units.Duration(time.Minute),
		Env: map[string]string{"FIFO": fifo},
	}}, Options{})
	lines := fifoLines(t, fifo)
	done := goRun(context.Background(), h, execRun(t, "j", Params{Command: "hang"}))
	gpid := grandchild(t, lines)
	if !alive(gpid) {
		t.Fatalf("grandchild %d is not running", gpid)
	}
	clk.waitArmed(t, time.Minute)
	clk.Advance(time.Minute)
	out := recv(t, done, "the run to end")

	if !errors.Is(out.err, ErrTimeout) {
		t.Fatalf("error = %v, want ErrTimeout", out.err)
	}
	want := `command "hang" timed out after 1m0s; its process group was stopped with SIGTERM`
	if out.err.Error() != want {
		t.Errorf("error = %q\nwant    %q", out.err, want)
	}
	if out.res["timed_out"] != true || out.res["signal"] != "SIGTERM" || out.res["exit_code"] != -1 {
		t.Errorf("result = %v", out.res)
	}
	expectEOF(t, lines)
}

func TestKillEscalatesToSIGKILLAfterGrace(t *testing.T) {
	fifo := mkfifo(t)
	h, clk := testHandler(t, Config{"stubborn": {
		Argv: script(t, "stubborn.sh"), Timeout: units.Duration(time.Minute),
		Env: map[string]string{"FIFO": fifo},
	}}, Options{KillGrace: 7 * time.Second})
	lines := fifoLines(t, fifo)
	done := goRun(context.Background(), h, execRun(t, "j", Params{Command: "stubborn"}))
	grandchild(t, lines)
	clk.waitArmed(t, time.Minute)
	clk.Advance(time.Minute)
	clk.waitArmed(t, 7*time.Second) // SIGTERM sent and ignored; the grace period runs
	select {
	case out := <-done:
		t.Fatalf("run ended before SIGKILL: %v %v", out.res, out.err)
	default:
	}
	clk.Advance(7 * time.Second)
	out := recv(t, done, "the run to end")
	want := `command "stubborn" timed out after 1m0s; its process group was stopped with SIGTERM and, 7s later, SIGKILL`
	if out.err == nil || out.err.Error() != want {
		t.Errorf("error = %v\nwant    %s", out.err, want)
	}
	if out.res["signal"] != "SIGKILL" {
		t.Errorf("signal = %v, want SIGKILL", out.res["signal"])
	}
	expectEOF(t, lines)
}

func TestCancelStopsTheRun(t *testing.T) {
	fifo := mkfifo(t)
	h, _ := testHandler(t, Config{"hang": {Argv: script(t, "hang.sh"), Env: map[string]string{"FIFO": fifo}}}, Options{})
	lines := fifoLines(t, fifo)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := goRun(ctx, h, execRun(t, "j", Params{Command: "hang"}))
	grandchild(t, lines)
	cancel(errors.New("agent stopping"))
	out := recv(t, done, "the run to end")
	if !errors.Is(out.err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", out.err)
	}
	want := `command "hang" was stopped (context canceled: agent stopping); its process group was stopped with SIGTERM`
	if out.err.Error() != want {
		t.Errorf("error = %q\nwant    %q", out.err, want)
	}
	if out.res["cancelled"] != true {
		t.Errorf("result = %v", out.res)
	}
	expectEOF(t, lines)
}

func TestLeftoversAreStoppedWhenTheCommandEnds(t *testing.T) {
	fifo, goFifo := mkfifo(t), mkfifo(t)
	h, _ := testHandler(t, Config{"leftover": {
		Argv: script(t, "leftover.sh"),
		Env:  map[string]string{"FIFO": fifo, "GO": goFifo},
	}}, Options{})
	lines := fifoLines(t, fifo)
	done := goRun(context.Background(), h, execRun(t, "j", Params{Command: "leftover"}))
	grandchild(t, lines)
	fifoWrite(t, goFifo, "go") // the script exits 0, its background process still runs
	out := recv(t, done, "the run to end")
	if out.err != nil {
		t.Fatalf("Run: %v", out.err)
	}
	if out.res["leftovers_killed"] != 1 || out.res["stdout"] != "leaving\n" {
		t.Errorf("result = %v", out.res)
	}
	expectEOF(t, lines)
}

func TestMaxProcsBoundsProcessesAlive(t *testing.T) {
	h, _ := testHandler(t, Config{"slot": {
		Argv: script(t, "slot.sh"), Args: []string{"/.+", "/.+"}, MinArgs: 2,
	}}, Options{MaxProcs: 2})
	queued := make(chan struct{}, 10)
	h.onQueued = func() { queued <- struct{}{} }

	type proc struct {
		started <-chan string
		release string
		done    <-chan outcome
	}
	start := func(ctx context.Context) proc {
		s, r := mkfifo(t), mkfifo(t)
		p := proc{started: fifoLines(t, s), release: r}
		p.done = goRun(ctx, h, execRun(t, "j", Params{Command: "slot", Args: []string{s, r}}))
		return p
	}
	a, b := start(context.Background()), start(context.Background())
	recv(t, a.started, "a to start")
	recv(t, b.started, "b to start")

	// Both slots are taken: c waits without starting.
	c := start(context.Background())
	recv(t, queued, "c to queue")
	// So does d, until it is cancelled: it fails without ever starting.
	ctx, cancel := context.WithCancel(context.Background())
	d := start(ctx)
	recv(t, queued, "d to queue")
	cancel()
	out := recv(t, d.done, "d to give up")
	if !errors.Is(out.err, context.Canceled) || !strings.Contains(out.err.Error(), "not started") {
		t.Errorf("d: error = %v", out.err)
	}
	if _, ok := out.res["exit_code"]; ok {
		t.Errorf("d reports an exit code: %v", out.res)
	}
	select {
	case <-c.started:
		t.Fatal("c started while two processes were alive")
	default:
	}

	fifoWrite(t, a.release, "go")
	if out := recv(t, a.done, "a to end"); out.err != nil {
		t.Fatalf("a: %v", out.err)
	}
	recv(t, c.started, "c to start once a ended")
	fifoWrite(t, b.release, "go")
	fifoWrite(t, c.release, "go")
	for _, p := range []proc{b, c} {
		if out := recv(t, p.done, "run to end"); out.err != nil || out.res["stdout"] != "released\n" {
			t.Errorf("run: %v %v", out.res, out.err)
		}
	}
}

func TestRunRefusesWhatValidateRefuses(t *testing.T) {
	h, _ := testHandler(t, Config{"ok": {Argv: script(t, "report.sh")}}, Options{})
	_, err := h.Run(context.Background(), execRun(t, "j", Params{Command: "gone"}))
	if sched.ErrorCode(err) != sched.CodeBadRequest || !strings.Contains(err.Error(), `command "gone" is not declared`) {
		t.Fatalf("error = %v", err)
	}
}

func TestUpdateReplacesCommands(t *testing.T) {
	h, _ := testHandler(t, Config{"old": {Argv: script(t, "report.sh")}}, Options{})
	act := func(name string) sched.Action {
		a, _ := sched.NewAction(ActionType, Params{Command: name})
		return a
	}
	if err := h.Validate(act("old")); err != nil {
		t.Fatal(err)
	}
	if err := h.Update(Config{"bad": {Argv: []string{"relative"}}}); err == nil {
		t.Fatal("Update accepted an invalid config")
	}
	if err := h.Validate(act("old")); err != nil {
		t.Fatalf("a failed Update changed the commands: %v", err)
	}
	if err := h.Update(Config{"new": {Argv: script(t, "report.sh")}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(act("old")); err == nil {
		t.Error("old is still declared after Update")
	}
	if err := h.Validate(act("new")); err != nil {
		t.Error(err)
	}
}

// BenchmarkRun runs an exec action of /bin/true: the cost of a run is
// starting and reaping a process, which is what compiling the package
// without inlining (scripts/goflags.sh) is checked against. cpu-ns/op is
// the agent's own CPU time per run, the child's not counted.
func BenchmarkRun(b *testing.B) {
	h, err := NewHandler(Config{"true": {Argv: []string{"/bin/true"}}}, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	a, err := sched.NewAction(ActionType, Params{Command: "true"})
	if err != nil {
		b.Fatal(err)
	}
	r := sched.Run{Job: sched.Job{ID: "bench", Action: a}, ScheduledTime: time.Now()}
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	for b.Loop() {
		if res, err := h.Run(context.Background(), r); err != nil || res["exit_code"] != 0 {
			b.Fatalf("run: %v %v", res, err)
		}
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano()
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
}
