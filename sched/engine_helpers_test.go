package sched_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// guard bounds every wait of a test on the scheduler's goroutines: a
// deadlock guard, never a way to let things happen.
const guard = 10 * time.Second

// harness is a scheduler on a fake clock and a memory store, with a
// handler "test" whose behaviour each job's action chooses:
// {"type":"test","fail":"msg"} errors, {"panic":true} panics,
// {"block":true} waits for release (or its context).
type harness struct {
	t       *testing.T
	clock   *schedtest.FakeClock
	store   *schedtest.MemStore
	s       *sched.Scheduler
	events  chan sched.Event
	runs    chan sched.Run
	release chan struct{}
	mu      sync.Mutex
	live    int
	refuse  atomic.Bool // the handler's Validate refuses every action
}

type testAction struct {
	Fail  string `json:"fail"`
	Panic bool   `json:"panic"`
	Block bool   `json:"block"`
	Bad   bool   `json:"bad"`
}

func newHarness(t *testing.T, opts sched.Options, ho sched.HandlerOptions) *harness {
	return newHarnessOn(t, schedtest.NewFakeClock(t0), schedtest.NewMemStore(), opts, ho)
}

func newHarnessOn(t *testing.T, clock *schedtest.FakeClock, store *schedtest.MemStore, opts sched.Options, ho sched.HandlerOptions) *harness {
	t.Helper()
	h := &harness{
		t: t, clock: clock, store: store,
		events:  make(chan sched.Event, 100000),
		runs:    make(chan sched.Run, 100000),
		release: make(chan struct{}),
	}
	opts.Clock = clock
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Liveness == nil {
		opts.Liveness = func() { h.mu.Lock(); h.live++; h.mu.Unlock() }
	}
	h.s = sched.New(store, opts)
	err := h.s.Handle("test", sched.HandlerFunc{
		ValidateFunc: func(a sched.Action) error {
			var p testAction
			if err := a.Decode(&p); err != nil {
				return err
			}
			if p.Bad {
				return sched.FieldError("action.bad", "is refused by the handler")
			}
			if h.refuse.Load() {
				return sched.FieldError("action", "is refused now")
			}
			return nil
		},
		RunFunc: func(ctx context.Context, r sched.Run) (sched.Result, error) {
			var p testAction
			_ = r.Job.Action.Decode(&p)
			h.runs <- r
			switch {
			case p.Panic:
				panic("boom")
			case p.Block:
				select {
				case <-h.release:
				case <-ctx.Done():
					return nil, context.Cause(ctx)
				}
			case p.Fail != "":
				return sched.Result{"exit_code": 3}, errors.New(p.Fail)
			}
			return sched.Result{"ok": true}, nil
		},
	}, ho)
	if err != nil {
		t.Fatal(err)
	}
	h.s.Listen(func(ev sched.Event) { h.events <- ev })
	return h
}

func (h *harness) start() *harness {
	h.t.Helper()
	if err := h.s.Start(context.Background()); err != nil {
		h.t.Fatalf("Start: %v", err)
	}
	h.t.Cleanup(func() { _ = h.s.Shutdown(context.Background(), true) })
	h.clock.BlockUntil(1)
	return h
}

// event waits for the next event and checks its kind.
func (h *harness) event(kind sched.EventKind) sched.Event {
	h.t.Helper()
	select {
	case ev := <-h.events:
		if ev.Kind != kind {
			h.t.Fatalf("event %s for %s (%s), want %s", ev.Kind, ev.JobID, ev.Error, kind)
		}
		return ev
	case <-time.After(guard):
		h.t.Fatalf("no %s event", kind)
	}
	return sched.Event{}
}

// noEvent checks that no event is queued now.
func (h *harness) noEvent() {
	h.t.Helper()
	select {
	case ev := <-h.events:
		h.t.Fatalf("unexpected %s event for %s (%s)", ev.Kind, ev.JobID, ev.Error)
	default:
	}
}

// drain returns the events queued now.
func (h *harness) drain() []sched.Event {
	var evs []sched.Event
	for {
		select {
		case ev := <-h.events:
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

// run waits for the handler to be called.
func (h *harness) run() sched.Run {
	h.t.Helper()
	select {
	case r := <-h.runs:
		return r
	case <-time.After(guard):
		h.t.Fatal("the handler was not called")
	}
	return sched.Run{}
}

// settle waits for the loop to be asleep again, its timer d from now.
func (h *harness) settle(d time.Duration) {
	h.t.Helper()
	done := make(chan struct{})
	go func() { h.clock.WaitForTimer(d); close(done) }()
	select {
	case <-done:
	case <-time.After(guard):
		h.t.Fatalf("the scheduler never planned a %s wait; armed: %v", d, h.clock.Deadlines())
	}
}

func patch(t *testing.T, doc string) sched.Patch {
	t.Helper()
	p, err := sched.DecodeJob([]byte(doc), sched.ModeAdd)
	if err != nil {
		t.Fatalf("DecodeJob(%s): %v", doc, err)
	}
	return p
}

func (h *harness) add(doc string, o sched.AddOptions) sched.Job {
	h.t.Helper()
	j, err := h.s.Add(context.Background(), patch(h.t, doc), o)
	if err != nil {
		h.t.Fatalf("Add(%s): %v", doc, err)
	}
	h.event(sched.EventAdded)
	return j
}

func intervalDoc(id string, seconds int, extra string) string {
	return fmt.Sprintf(`{"id":%q,"trigger":{"type":"interval","seconds":%d},"action":{"type":"test"}%s}`, id, seconds, extra)
}

func wantCode(t *testing.T, err error, code sched.Code) {
	t.Helper()
	if sched.ErrorCode(err) != code {
		t.Fatalf("error %v has code %s, want %s", err, sched.ErrorCode(err), code)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
