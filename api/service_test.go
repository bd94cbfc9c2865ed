package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/api/apitest"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

type fixture struct {
	clock *schedtest.FakeClock
	store *schedtest.MemStore
	s     *sched.Scheduler
	outs  *outputs
	svc   *api.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: schedtest.NewFakeClock(t0), store: schedtest.NewMemStore(), outs: &outputs{}}
	f.s = sched.New(f.store, sched.Options{Clock: f.clock, Location: time.UTC, Logger: quiet()})
	h := sched.HandlerFunc{RunFunc: func(context.Context, sched.Run) (sched.Result, error) { return nil, nil }}
	if err := f.s.Handle("test", h, sched.HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.s.Shutdown(context.Background(), true) })
	f.svc = f.restart()
	return f
}

// restart is a new pipeline on the same scheduler: what a restart of the
// agent keeps is the store's.
func (f *fixture) restart() *api.Service {
	return api.New(api.Deps{Scheduler: f.s, Actuators: f.outs, Clock: f.clock, Location: time.UTC, Logger: quiet()})
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type outputs struct {
	mu      sync.Mutex
	applied []string
}

func (o *outputs) Apply(_ context.Context, name string, payload []byte) error {
	if strings.Contains(string(payload), "explode") {
		return &sched.Error{Code: sched.CodeUnsafe, Field: "command", Message: "interlock"}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.applied = append(o.applied, name+"="+string(payload))
	return nil
}

func (o *outputs) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.applied)
}

func decode(t *testing.T, s string) api.Request {
	t.Helper()
	r, err := api.DecodeRequest([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAnswerReplays(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	add := decode(t, `{"id":"r1","op":"add","job":`+apitest.JobDoc("pump", 60)+`}`)
	first := f.svc.Answer(ctx, add, nil, api.Options{})
	if first.Replayed || first.Reply.Status != "accepted" || len(first.Reply.NextRunTimes) != 5 {
		t.Fatalf("first: %+v", first)
	}
	commits := f.store.Commits()
	// The same id, whatever its body: the first reply, byte for byte.
	again := f.svc.Answer(ctx, decode(t, `{"id":"r1","op":"remove","job_id":"pump"}`), nil, api.Options{})
	if !again.Replayed || string(again.Bytes) != string(first.Bytes) || f.store.Commits() != commits {
		t.Fatalf("again: %+v", again)
	}
	// A refusal is final too; an expiry is not (nothing changed, and a
	// later expires_at may come).
	rej := f.svc.Answer(ctx, decode(t, `{"id":"r2","op":"pause","job_id":"ghost"}`), nil, api.Options{})
	if rej.Reply.Code != sched.CodeNotFound || !f.svc.Answer(ctx, decode(t, `{"id":"r2","op":"list"}`), nil, api.Options{}).Replayed {
		t.Fatalf("a refusal is not remembered: %+v", rej)
	}
	exp := decode(t, `{"id":"r3","op":"pause","job_id":"pump","expires_at":"2026-11-21T08:00:00Z"}`)
	if out := f.svc.Answer(ctx, exp, nil, api.Options{}); out.Reply.Code != sched.CodeExpired {
		t.Fatalf("expired: %+v", out)
	}
	if out := f.svc.Answer(ctx, decode(t, `{"id":"r3","op":"pause","job_id":"pump"}`), nil, api.Options{}); out.Replayed || out.Reply.Status != "accepted" {
		t.Fatalf("after an expiry, the id is executed: %+v", out)
	}
	// A decoding error with a readable id is answered and remembered.
	req, err := api.DecodeRequest([]byte(`{"id":"r4","op":"explode"}`))
	if out := f.svc.Answer(ctx, req, err, api.Options{}); out.Reply.Code != sched.CodeBadRequest || !strings.HasPrefix(out.Reply.Error, "op") {
		t.Fatalf("bad op: %+v", out)
	}

	// After a restart, a change's id is answered from its receipt; a
	// read's or a refusal's, which left none, is executed again.
	svc := f.restart()
	out := svc.Answer(ctx, decode(t, `{"id":"r3","op":"list"}`), nil, api.Options{})
	if !out.Replayed || out.Reply.JobID != "pump" || out.Reply.Version != 2 || len(out.Reply.Job) == 0 {
		t.Fatalf("r3 after a restart: %+v", out)
	}
	if out := svc.Answer(ctx, decode(t, `{"id":"r2","op":"list"}`), nil, api.Options{}); out.Replayed {
		t.Fatalf("a refusal left a receipt: %+v", out)
	}
	// The job moved on since r1: its receipt says the version r1 made.
	out = svc.Answer(ctx, decode(t, `{"id":"r1","op":"list"}`), nil, api.Options{})
	if !out.Replayed || out.Reply.Version != 1 || len(out.Reply.Job) != 0 {
		t.Fatalf("r1 after a restart: %+v", out)
	}
}

func TestAnswerGroupAndSource(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	out := f.svc.Answer(ctx, decode(t, `{"id":"g","op":"add","job":{"trigger":{"type":"interval","seconds":5},"action":{"type":"test"}}}`), nil, api.Options{Group: "all"})
	if out.Reply.Code != sched.CodeBadRequest || !strings.HasPrefix(out.Reply.Error, "job.id") {
		t.Fatalf("a group add without id: %+v", out)
	}
	out = f.svc.Answer(ctx, decode(t, `{"id":"h","op":"add","job":`+apitest.JobDoc("pump", 60)+`}`), nil, api.Options{Source: sched.SourceHTTP})
	var j struct{ Source string }
	if json.Unmarshal(out.Reply.Job, &j); j.Source != "http" {
		t.Fatalf("source %q", j.Source)
	}
	// Execute keeps no receipt and no reply: the same id runs again.
	for range 2 {
		if rep := f.svc.Execute(ctx, decode(t, `{"id":"ha-1","op":"pause","job_id":"pump"}`), api.Options{}); rep.Status != "accepted" {
			t.Fatalf("execute: %+v", rep)
		}
	}
	if _, ok := f.s.Receipt("ha-1"); ok {
		t.Fatal("Execute committed a receipt")
	}
}

func TestActuate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sr, err := api.DecodeSetRequest([]byte(`{"id":"c1","command":"on"}`))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		out, refused := f.svc.Actuate(ctx, "fan", sr, nil)
		if refused != nil || out.Reply.Status != "accepted" || out.Replayed != (i == 1) {
			t.Fatalf("try %d: %+v %v", i, out, refused)
		}
	}
	if f.outs.count() != 1 {
		t.Fatalf("applied %d times", f.outs.count())
	}
	// After a restart: from the receipt, not applied again.
	if out, _ := f.restart().Actuate(ctx, "fan", sr, nil); !out.Replayed || out.Reply.Actuator != "fan" || f.outs.count() != 1 {
		t.Fatalf("after a restart: %+v", out)
	}
	// A refused command's receipt is forgotten: it was not applied.
	bad, _ := api.DecodeSetRequest([]byte(`{"id":"c2","command":"explode"}`))
	out, refused := f.svc.Actuate(ctx, "pump", bad, nil)
	if sched.ErrorCode(refused) != sched.CodeUnsafe || out.Reply.Code != sched.CodeUnsafe || out.Bytes == nil {
		t.Fatalf("unsafe: %+v %v", out, refused)
	}
	if _, ok := f.s.Receipt("c2"); ok {
		t.Error("a refused command keeps its receipt")
	}
	// A transport's own refusal (MQTT's barrier) comes in as pre.
	stale := &sched.Error{Code: sched.CodeExpired, Message: "arrived before the barrier"}
	c3, _ := api.DecodeSetRequest([]byte(`{"id":"c3","command":"on"}`))
	if _, refused := f.svc.Actuate(ctx, "fan", c3, stale); !errors.Is(refused, stale) || f.outs.count() != 1 {
		t.Fatalf("pre: %v", refused)
	}
	// Plain commands have no id and no reply.
	plain, _ := api.DecodeSetRequest([]byte("ON"))
	if out, refused := f.svc.Actuate(ctx, "fan", plain, nil); refused != nil || out.Bytes != nil || f.outs.count() != 2 {
		t.Fatalf("plain: %+v %v", out, refused)
	}
	// No actuators: refused, not_found.
	none := api.New(api.Deps{Scheduler: f.s, Clock: f.clock, Logger: quiet()})
	if _, refused := none.Actuate(ctx, "fan", plain, nil); sched.ErrorCode(refused) != sched.CodeNotFound {
		t.Fatalf("no actuators: %v", refused)
	}
}

// Requests of one id at once: one is executed, the others get its reply.
func TestAnswerOneIDAtATime(t *testing.T) {
	f := newFixture(t)
	req := decode(t, `{"id":"same","op":"add","job":`+apitest.JobDoc("pump", 60)+`}`)
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := f.svc.Answer(context.Background(), req, nil, api.Options{})
			if out.Reply.Status != "accepted" {
				t.Errorf("%+v", out.Reply)
			}
			mu.Lock()
			if !out.Replayed {
				fresh++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if fresh != 1 {
		t.Errorf("%d of 16 executed", fresh)
	}
}

// OnRefused is told of every refused actuator command, with the payload
// as it arrived, and of nothing else: not of an applied command, not of a
// replayed answer.
func TestOnRefused(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	var told []string
	f.svc.OnRefused(func(name string, sr api.SetRequest, err error) {
		told = append(told, name+" "+string(sr.Payload)+" "+string(sched.ErrorCode(err)))
	})
	for _, p := range []string{`{"id":"r1","command":"on"}`, `{"id":"r2","command":"explode"}`, `{"id":"r2","command":"explode"}`} {
		sr, _ := api.DecodeSetRequest([]byte(p))
		f.svc.Actuate(ctx, "pump", sr, nil)
	}
	if want := `pump {"id":"r2","command":"explode"} unsafe`; len(told) != 1 || told[0] != want {
		t.Fatalf("told %q, want [%q]", told, want)
	}
}
