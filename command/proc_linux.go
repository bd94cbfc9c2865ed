//go:build linux

package command

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/edgecron/edgecron/sched"
)

// run starts one process for sp in a new process group and waits for it.
//
// The sequence, and why:
//  1. Start the process with Setpgid: it leads a new group whose id is its
//     pid, and its children join that group unless they leave it.
//  2. Wait for it to exit WITHOUT reaping it (waitid WNOWAIT), or for the
//     timeout or ctx. On timeout/cancel: SIGTERM to the group, SIGKILL to the
//     group after the grace period.
//  3. While the exited leader is still a zombie its pid cannot be reused, so
//     signalling the group id is safe: whatever is left in the group gets
//     SIGTERM, then SIGKILL once it has closed the run's output or the grace
//     period is over.
//  4. Reap the leader (cmd.Wait) and collect its exit status.
//  5. Wait for stdout/stderr to reach EOF; a process that left the group
//     (setsid) and still holds them is given the grace period, then the
//     pipes are closed so the run ends anyway.
func (h *Handler) run(ctx context.Context, sp *spec, args, env []string, res sched.Result) (sched.Result, error) {
	grace := sp.KillGrace.D()
	if grace <= 0 {
		grace = h.grace
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return res, fmt.Errorf("command %q: %w", sp.name, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return res, fmt.Errorf("command %q: %w", sp.name, err)
	}
	cmd := &exec.Cmd{
		Path:        sp.Argv[0],
		Args:        append(slices.Clone(sp.Argv), args...),
		Dir:         sp.Dir,
		Env:         env,
		Stdout:      outW, // *os.File: handed to the child as is, no copying goroutine in exec
		Stderr:      errW,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	started := h.clock.Elapsed()
	err = cmd.Start()
	outW.Close() // the child holds its own copies
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return res, fmt.Errorf("command %q: start %s: %w", sp.name, sp.Argv[0], err)
	}
	pid := cmd.Process.Pid
	log := h.log.With("command", sp.name, "pid", pid)
	log.Debug("command started")

	stdout, stderr := newTail(sp.maxOut), newTail(sp.maxOut)
	var copies sync.WaitGroup
	copies.Add(2)
	go func() { defer copies.Done(); io.Copy(stdout, outR) }()
	go func() { defer copies.Done(); io.Copy(stderr, errR) }()
	pipesDone := make(chan struct{})
	go func() { copies.Wait(); close(pipesDone) }()

	// exited is closed once the leader has exited. waitid on our own
	// unreaped child cannot fail on Linux; if it did, the leader is reaped
	// here instead, and its group is no longer signalled after that (its id
	// could be reused). reaped and werr are written before close(exited),
	// and read only after it.
	exited := make(chan struct{})
	var reaped bool
	var werr error
	go func() {
		if err := waitExited(pid); err != nil {
			log.Error("cannot watch the command's process without reaping it", "err", err)
			werr, reaped = cmd.Wait(), true
		}
		close(exited)
	}()

	// 2. The process ends by itself, or is stopped.
	timeout := h.clock.NewTimer(sp.timeout)
	var reason string // "timeout" or "cancelled"
	var cause error
	select {
	case <-exited:
	case <-timeout.C():
		reason, cause = "timeout", ErrTimeout
	case <-ctx.Done():
		reason, cause = "cancelled", ctx.Err()
		if c := context.Cause(ctx); c != nil && c != cause {
			cause = fmt.Errorf("%w: %w", cause, c) // "context canceled: run timed out"
		}
	}
	timeout.Stop()
	lastSig := ""
	if reason != "" {
		signalGroup(pid, syscall.SIGTERM)
		lastSig = "SIGTERM"
		if !waitFor(h.clock, exited, grace) {
			log.Warn("command ignored SIGTERM; killing its process group", "reason", reason, "grace", grace)
			signalGroup(pid, syscall.SIGKILL)
			lastSig = "SIGKILL"
			<-exited
		}
	}

	// 3. Leftovers in the group, while the leader's pid is still reserved.
	switch {
	case reaped: // degraded: the group id may be reused already
	case lastSig == "SIGKILL":
		signalGroup(pid, syscall.SIGKILL)
	default:
		n := groupMembers(pid)
		if n == 0 {
			break
		}
		if reason == "" && n > 0 {
			res["leftovers_killed"] = n
			log.Info("command left processes behind in its group; stopping them", "count", n)
		}
		signalGroup(pid, syscall.SIGTERM)
		if !waitFor(h.clock, pipesDone, grace) {
			log.Warn("processes the command left behind did not end on SIGTERM; killing them", "grace", grace)
		}
		signalGroup(pid, syscall.SIGKILL)
	}

	// 4. Reap.
	if !reaped {
		werr = cmd.Wait()
	}
	res["duration_ms"] = (h.clock.Elapsed() - started).Milliseconds()

	// 5. Output.
	if !waitFor(h.clock, pipesDone, grace) {
		log.Warn("a process that left the command's group still holds its output; closing it")
		res["output_held"] = true
	}
	outR.Close() // unblocks the copies if they still wait
	errR.Close()
	<-pipesDone

	res["stdout"], res["stderr"] = stdout.String(), stderr.String()
	for _, o := range [...]struct {
		name string
		t    *tail
	}{{"stdout", stdout}, {"stderr", stderr}} {
		if o.t.truncated() {
			res[o.name+"_truncated"] = true
			res[o.name+"_bytes"] = o.t.total
		}
	}
	return res, h.outcome(sp, cmd, werr, reason, cause, lastSig, grace, stderr.String(), res)
}

// outcome records the exit status in res and returns the run's error.
func (h *Handler) outcome(sp *spec, cmd *exec.Cmd, werr error, reason string, cause error, lastSig string, grace time.Duration, stderr string, res sched.Result) error {
	ps := cmd.ProcessState
	if ps == nil {
		return fmt.Errorf("command %q: wait: %w", sp.name, werr)
	}
	ws, _ := ps.Sys().(syscall.WaitStatus)
	e := &ExitError{Command: sp.name, ExitCode: ws.ExitStatus(), err: cause}
	if ws.Signaled() {
		e.ExitCode, e.Signal = -1, sigName(ws.Signal())
		res["signal"] = e.Signal
	}
	res["exit_code"] = e.ExitCode
	stopped := "SIGTERM"
	if lastSig == "SIGKILL" {
		stopped = fmt.Sprintf("SIGTERM and, %s later, SIGKILL", grace)
	}
	switch {
	case reason == "timeout":
		res["timed_out"] = true
		e.msg = fmt.Sprintf("command %q timed out after %s; its process group was stopped with %s", sp.name, sp.timeout, stopped)
	case reason == "cancelled":
		res["cancelled"] = true
		e.msg = fmt.Sprintf("command %q was stopped (%v); its process group was stopped with %s", sp.name, cause, stopped)
	case ws.Signaled():
		e.msg = fmt.Sprintf("command %q was killed by signal %s (%v)", sp.name, e.Signal, ws.Signal())
	case ws.ExitStatus() != 0:
		e.msg = fmt.Sprintf("command %q exited with code %d", sp.name, e.ExitCode)
		if l := lastLine(stderr); l != "" {
			e.msg += ": " + l
		}
	default:
		return nil
	}
	return e
}

// waitFor waits at most d for done to be closed and reports whether it was.
func waitFor(clock sched.Clock, done <-chan struct{}, d time.Duration) bool {
	select {
	case <-done:
		return true
	default:
	}
	t := clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C():
		return false
	}
}

// groupMembers counts the live processes of group pgid other than its
// leader, from /proc (kill(-pgid, 0) cannot tell: it succeeds on a group
// whose only member is the zombie leader). -1 means /proc could not be read.
func groupMembers(pgid int) int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return -1
	}
	n := 0
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pgid {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may contain anything, even ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			n++
		}
	}
	return n
}

func signalGroup(pgid int, sig syscall.Signal) {
	// ESRCH (the group is gone already) is the expected, harmless outcome
	// when the processes ended on their own in the meantime.
	_ = syscall.Kill(-pgid, sig)
}

// waitExited blocks until process pid (a child) has exited, without reaping
// it: waitid(P_PID, pid, WEXITED|WNOWAIT). os/exec does the same internally.
func waitExited(pid int) error {
	const pPID = 1
	var info [128]byte // siginfo_t
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		switch e {
		case 0:
			return nil
		case syscall.EINTR:
			continue
		default:
			return fmt.Errorf("waitid %d: %w", pid, e)
		}
	}
}

// sigNames is indexed by signal number. (An array, not a map: a map
// literal is code that builds the map at start-up.)
var sigNames = [...]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
	syscall.SIGILL: "SIGILL", syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT",
	syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL",
	syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM",
	syscall.SIGXCPU: "SIGXCPU", syscall.SIGXFSZ: "SIGXFSZ", syscall.SIGSYS: "SIGSYS",
}

func sigName(s syscall.Signal) string {
	if s >= 0 && int(s) < len(sigNames) && sigNames[s] != "" {
		return sigNames[s]
	}
	return fmt.Sprintf("signal %d", int(s))
}
