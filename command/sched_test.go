//go:build linux

package command

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// These tests run the exec handler inside the real scheduler, as the agent
// does: validation at add time, results in events, stop at shutdown.

type schedHarness struct {
	s      *sched.Scheduler
	store  *schedtest.MemStore
	events chan sched.Event
}

func newSched(t *testing.T, h *Handler) *schedHarness {
	t.Helper()
	store := schedtest.NewMemStore()
	s := sched.New(store, sched.Options{
		Clock:    schedtest.NewFakeClock(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)),
		Location: time.UTC,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err := s.Handle(ActionType, h, sched.HandlerOptions{Workers: h.MaxProcs()}); err != nil {
		t.Fatal(err)
	}
	hs := &schedHarness{s: s, store: store, events: make(chan sched.Event, 100)}
	s.Listen(func(e sched.Event) {
		select {
		case hs.events <- e:
		default:
			t.Errorf("event queue full, lost %v", e)
		}
	})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background(), true) })
	return hs
}

// next returns the next event of the given kind for job id.
func (hs *schedHarness) next(t *testing.T, id string, kind sched.EventKind) sched.Event {
	t.Helper()
	for {
		e := recv(t, hs.events, string(kind)+" event")
		if e.JobID == id && e.Kind == kind {
			return e
		}
	}
}

func addJSON(t *testing.T, hs *schedHarness, doc string) (sched.Job, error) {
	t.Helper()
	p, err := sched.DecodeJob([]byte(doc), sched.ModeAdd)
	if err != nil {
		return sched.Job{}, err
	}
	return hs.s.Add(context.Background(), p, sched.AddOptions{OpOptions: sched.OpOptions{Source: sched.SourceMQTT}})
}

func TestSchedulerRefusesUndeclaredCommandsFromMQTT(t *testing.T) {
	h, _ := testHandler(t, Config{"backup": {Argv: script(t, "report.sh")}}, Options{})
	hs := newSched(t, h)
	tests := []struct {
		action string
		field  string
	}{
		{`{"type":"exec","command":"sh","args":["-c","reboot"]}`, "action.command"},
		{`{"type":"exec","command":"backup","args":["--everything"]}`, "action.args"},
		{`{"type":"exec","argv":["/bin/sh","-c","reboot"]}`, "action.argv"},
		{`{"type":"exec","command":"backup","shell":"reboot"}`, "action.shell"},
	}
	for _, tt := range tests {
		_, err := addJSON(t, hs, `{"id":"evil","trigger":{"type":"interval","hours":1},"action":`+tt.action+`}`)
		e, ok := err.(*sched.Error)
		if !ok || e.Code != sched.CodeBadRequest || e.Field != tt.field {
			t.Errorf("add %s: error = %#v, want bad_request on %s", tt.action, err, tt.field)
		}
	}
	if hs.store.Len() != 0 || len(hs.s.List()) != 0 {
		t.Errorf("a refused job was stored: %v", hs.s.List())
	}
}

func TestSchedulerRecordsTheRun(t *testing.T) {
	h, _ := testHandler(t, Config{"fail": {Argv: script(t, "fail.sh")}}, Options{})
	hs := newSched(t, h)
	if _, err := addJSON(t, hs, `{"id":"backup","trigger":{"type":"interval","hours":1},"action":{"type":"exec","command":"fail"}}`); err != nil {
		t.Fatal(err)
	}
	if err := hs.s.RunNow(context.Background(), "backup", sched.OpOptions{Source: sched.SourceMQTT}); err != nil {
		t.Fatal(err)
	}
	ev := hs.next(t, "backup", sched.EventError)
	const want = `command "fail" exited with code 3: backup: disk full`
	if ev.Error != want || ev.Result["exit_code"] != 3 || ev.Result["stderr"] != "backup: first warning\nbackup: disk full\n" {
		t.Errorf("event = %+v", ev)
	}
	j, err := hs.s.Get("backup")
	if err != nil || j.LastResult != "error: "+want {
		t.Errorf("last_result = %q, %v", j.LastResult, err)
	}
}

func TestSchedulerShutdownStopsCommands(t *testing.T) {
	fifo := mkfifo(t)
	h, _ := testHandler(t, Config{"hang": {Argv: script(t, "hang.sh"), Env: map[string]string{"FIFO": fifo}}}, Options{})
	hs := newSched(t, h)
	lines := fifoLines(t, fifo)
	if _, err := addJSON(t, hs, `{"id":"stream","trigger":{"type":"interval","hours":1},"action":{"type":"exec","command":"hang"}}`); err != nil {
		t.Fatal(err)
	}
	if err := hs.s.RunNow(context.Background(), "stream", sched.OpOptions{Source: sched.SourceCLI}); err != nil {
		t.Fatal(err)
	}
	grandchild(t, lines)
	if err := hs.s.Shutdown(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	ev := hs.next(t, "stream", sched.EventError)
	if !strings.HasPrefix(ev.Error, `command "hang" was stopped (context canceled)`) || ev.Result["cancelled"] != true {
		t.Errorf("event = %+v", ev)
	}
	expectEOF(t, lines)
}
