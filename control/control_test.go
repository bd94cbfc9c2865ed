package control

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newServer serves a scheduler on a memory store with one "noop" action
// type and two jobs, and returns a client for it.
func newServer(t *testing.T) (*Client, *sched.Scheduler, string) {
	t.Helper()
	clk := schedtest.NewFakeClock(time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC))
	s := sched.New(schedtest.NewMemStore(), sched.Options{Clock: clk, Location: time.UTC, Logger: quiet})
	if err := s.Handle("noop", sched.HandlerFunc{RunFunc: func(context.Context, sched.Run) (sched.Result, error) { return nil, nil }}, sched.HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{
		`{"id":"a","trigger":{"type":"interval","minutes":5,"start_date":"2026-11-21T08:30:00Z"},"action":{"type":"noop"}}`,
		`{"id":"b","trigger":{"type":"date","run_date":"2027-01-01T00:00:00Z"},"action":{"type":"noop"},"misfire_grace_time":null}`,
	} {
		p, err := sched.DecodeJob([]byte(doc), sched.ModeAdd)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Add(context.Background(), p, sched.AddOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background(), true) })
	path := filepath.Join(t.TempDir(), "agent.sock")
	srv, err := Listen(path, s, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	return c, s, path
}

func TestClientOps(t *testing.T) {
	c, s, path := newServer(t)
	ctx := context.Background()

	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v (%v), want 0660", fi.Mode().Perm(), err)
	}

	jobs, err := c.ListErr(ctx)
	if err != nil || len(jobs) != 2 {
		t.Fatalf("list = %d jobs, %v", len(jobs), err)
	}
	// The whole document comes back, read-only fields included.
	for _, j := range jobs {
		want, _ := s.Get(j.ID)
		if d := schedtest.JobDiff(want, j); d != "" {
			t.Errorf("job %s through the socket differs: %s", j.ID, d)
		}
	}

	j, err := c.PauseJob(ctx, "a", sched.OpOptions{})
	if err != nil || !j.Paused || j.Version != 2 || j.NextRunTime != nil {
		t.Errorf("pause = %+v, %v", j, err)
	}
	if j, err = c.ResumeJob(ctx, "a", sched.OpOptions{}); err != nil || j.Paused || j.NextRunTime == nil {
		t.Errorf("resume = %+v, %v", j, err)
	}
	if j, err = c.Get("b"); err != nil || j.MisfireGraceTime != nil {
		t.Errorf("get b = %+v, %v", j, err)
	}
	if _, err := c.Remove(ctx, "b", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("b"); sched.ErrorCode(err) != sched.CodeNotFound {
		t.Errorf("b still there after remove: %v", err)
	}
	if err := c.RunNow(ctx, "a", sched.OpOptions{}); err != nil {
		t.Errorf("run: %v", err)
	}

	// Errors keep their code.
	if _, err := c.Get("nope"); sched.ErrorCode(err) != sched.CodeNotFound {
		t.Errorf("get nope: %v (%s)", err, sched.ErrorCode(err))
	}
	if err := c.RunNow(ctx, "nope", sched.OpOptions{}); sched.ErrorCode(err) != sched.CodeNotFound {
		t.Errorf("run nope: %v", err)
	}
}

func TestImportRaw(t *testing.T) {
	c, s, _ := newServer(t)
	ctx := context.Background()
	good := `[{"id":"c","trigger":{"type":"interval","hours":1,"start_date":"2026-11-21T00:00:00Z"},"action":{"type":"noop"}},
	          {"id":"a","trigger":{"type":"interval","hours":2,"start_date":"2026-11-21T00:00:00Z"},"action":{"type":"noop"},"version":99}]`
	jobs, err := c.ImportRaw(ctx, []byte(good))
	if err != nil || len(jobs) != 2 {
		t.Fatalf("import = %v, %v", jobs, err)
	}
	if a, _ := s.Get("a"); a.Trigger.Hours != 2 {
		t.Errorf("a not replaced: %+v", a.Trigger)
	}
	// A field left out takes the scheduler's default, not null.
	if cj, _ := s.Get("c"); cj.MisfireGraceTime == nil {
		t.Error("c: misfire_grace_time left out became no limit")
	}
	// All or nothing: one bad job, nothing changes.
	bad := `[{"id":"d","trigger":{"type":"interval","hours":1},"action":{"type":"noop"}},
	         {"id":"e","trigger":{"type":"interval","hours":1},"action":{"type":"nosuch"}}]`
	if _, err := c.ImportRaw(ctx, []byte(bad)); sched.ErrorCode(err) != sched.CodeBadRequest {
		t.Errorf("bad import: %v", err)
	}
	if _, err := s.Get("d"); err == nil {
		t.Error("a failed import left job d behind")
	}
}

// TestBadRequests: raw lines a client might send get a rejected reply that
// names the problem.
func TestBadRequests(t *testing.T) {
	_, _, path := newServer(t)
	for _, tc := range []struct{ line, want string }{
		{`not json`, `"code":"bad_request"`},
		{`{"op":"list","extra":1}`, `unknown field`},
		{`{"op":"fly"}`, `unknown op`},
		{`{}`, `op: is required`},
		{`{"op":"get"}`, `job_id: is required`},
		{`{"op":"import","jobs":{"id":"x"}}`, `"status":"rejected"`},
	} {
		conn, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte(tc.line + "\n"))
		b, _ := io.ReadAll(conn)
		conn.Close()
		if !strings.Contains(string(b), tc.want) || !strings.Contains(string(b), `"rejected"`) {
			t.Errorf("%s -> %s, want %s", tc.line, b, tc.want)
		}
	}
}

func TestListenPath(t *testing.T) {
	dir := t.TempDir()
	// No agent: Dial says so, so the CLI can open the store itself.
	if _, err := Dial(filepath.Join(dir, "none.sock")); !errors.Is(err, ErrNoAgent) {
		t.Errorf("dial missing socket: %v", err)
	}
	// A regular file in the way is refused, not deleted.
	f := filepath.Join(dir, "file")
	os.WriteFile(f, []byte("keep"), 0o644)
	if _, err := Listen(f, nil, nil, quiet); err == nil {
		t.Error("listened over a regular file")
	}
	if b, _ := os.ReadFile(f); string(b) != "keep" {
		t.Error("the file in the way was changed")
	}
	// A stale socket from a crash is replaced.
	stale := filepath.Join(dir, "stale.sock")
	ln, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := Dial(stale); !errors.Is(err, ErrNoAgent) {
		t.Errorf("dial stale socket: %v", err)
	}
	srv, err := Listen(stale, nil, nil, quiet)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	// A live one is not taken over.
	if _, err := Listen(stale, nil, nil, quiet); err == nil {
		t.Error("took over a live socket")
	}
	srv.Close()
}

// fakeAgent answers the agent ops: reload rejects when problems is set.
type fakeAgent struct{ problems, notes []string }

func (f fakeAgent) Reload(context.Context) ([]string, error) {
	if len(f.problems) > 0 {
		return f.problems, sched.FieldError("", "config rejected")
	}
	return f.notes, nil
}

func (fakeAgent) Read(_ context.Context, name string) (json.RawMessage, error) {
	if name != "air" {
		return nil, &sched.Error{Code: sched.CodeNotFound, Field: "sensor", Message: "no sensor " + name}
	}
	return json.RawMessage(`{"sensor":"air"}`), nil
}

func (fakeAgent) Set(_ context.Context, name string, payload []byte) (json.RawMessage, error) {
	return json.RawMessage(`{"actuator":"` + name + `","payload":` + string(payload) + `}`), nil
}

func TestAgentOps(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	listen := func(name string, a Agent) *Client {
		t.Helper()
		path := filepath.Join(dir, name)
		srv, err := Listen(path, nil, a, quiet)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		c, err := Dial(path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ok := listen("ok.sock", fakeAgent{notes: []string{"restart for mqtt"}})
	if notes, err := ok.Reload(ctx); err != nil || len(notes) != 1 || notes[0] != "restart for mqtt" {
		t.Errorf("reload = %v, %v", notes, err)
	}
	bad := listen("bad.sock", fakeAgent{problems: []string{"line 3: log.level: no", "line 9: jobs.0: no"}})
	if probs, err := bad.Reload(ctx); sched.ErrorCode(err) != sched.CodeBadRequest || len(probs) != 2 || probs[1] != "line 9: jobs.0: no" {
		t.Errorf("rejected reload = %v, %v", probs, err)
	}
	if r, err := ok.Read(ctx, "air"); err != nil || string(r) != `{"sensor":"air"}` {
		t.Errorf("read = %s, %v", r, err)
	}
	if _, err := ok.Read(ctx, "soil"); sched.ErrorCode(err) != sched.CodeNotFound || !strings.HasPrefix(err.Error(), "sensor: ") {
		t.Errorf("read soil: %v", err)
	}
	if r, err := ok.Set(ctx, "fan", []byte(`{"command":"on"}`)); err != nil || !strings.Contains(string(r), `"payload":{"command":"on"}`) {
		t.Errorf("set = %s, %v", r, err)
	}
	// Without an agent, the ops are refused, not crashed on.
	none := listen("none.sock", nil)
	if _, err := none.Reload(ctx); err == nil {
		t.Error("reload served without an agent")
	}
}

// slowImport is a scheduler whose imports take longer than one line's I/O
// timeout, as an import waiting its turn on a busy scheduler can.
type slowImport struct {
	*sched.Scheduler
	took time.Duration
}

func (s slowImport) Import(ctx context.Context, ps []sched.Patch, o sched.OpOptions) ([]sched.Job, error) {
	<-time.After(s.took)
	return s.Scheduler.Import(ctx, ps, o)
}

// TestSlowImportGetsItsReply: an import that outlasts the I/O timeout is
// answered once committed (it used to be committed and then answered by a
// closed connection: "reply: EOF", exit 1).
func TestSlowImportGetsItsReply(t *testing.T) {
	io0, op0 := ioTimeout, opTimeout
	t.Cleanup(func() { ioTimeout, opTimeout = io0, op0 }) // after the servers' Close
	ioTimeout = 50 * time.Millisecond
	_, s, _ := newServer(t)
	path := filepath.Join(t.TempDir(), "slow.sock")
	srv, err := Listen(path, slowImport{s, 4 * ioTimeout}, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := Dial(path)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := c.ImportRaw(context.Background(), []byte(`[{"id":"slow","trigger":{"type":"interval","hours":1},"action":{"type":"noop"}}]`))
	if err != nil || len(jobs) != 1 {
		t.Fatalf("slow import = %v, %v; want its one job", jobs, err)
	}
	if _, err := s.Get("slow"); err != nil {
		t.Errorf("not committed: %v", err)
	}

	// A client gives up after opTimeout and says the request may still apply.
	opTimeout = ioTimeout
	_, err = c.ImportRaw(context.Background(), []byte(`[{"id":"late","trigger":{"type":"interval","hours":1},"action":{"type":"noop"}}]`))
	if err == nil || !strings.Contains(err.Error(), "may still apply") {
		t.Errorf("gave-up import: %v, want it to say the agent may still apply it", err)
	}
}
