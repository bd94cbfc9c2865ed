package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// BenchmarkAnswerModify is the agent's own work for an acknowledged
// change, without a broker or a disk: a modify request decoded and
// answered (the change committed to a memory store with its receipt, the
// reply encoded and remembered), with a listener taking every event as the
// agent's MQTT side does. Its B/op is the garbage each acknowledgement
// leaves beside the store's; BenchmarkAck (./mqtt) times the whole path.
//
//	go test -run '^$' -bench AnswerModify -benchmem ./api
func BenchmarkAnswerModify(b *testing.B) {
	clock := schedtest.NewFakeClock(t0)
	s := sched.New(schedtest.NewMemStore(), sched.Options{Clock: clock, Location: time.UTC, Logger: quiet()})
	h := sched.HandlerFunc{RunFunc: func(context.Context, sched.Run) (sched.Result, error) { return nil, nil }}
	if err := s.Handle("test", h, sched.HandlerOptions{}); err != nil {
		b.Fatal(err)
	}
	// What the agent's MQTT side does with each event: the event's JSON
	// on <root>/events, the job's document retained.
	s.Listen(func(ev sched.Event) {
		json.Marshal(ev)
		if ev.Job != nil {
			ev.Job.MarshalJSON()
		}
	})
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer s.Shutdown(ctx, true)
	svc := api.New(api.Deps{Scheduler: s, Actuators: &outputs{}, Clock: clock, Location: time.UTC, Logger: quiet()})
	add := `{"id":"add","op":"add","job":{"id":"bench","name":"n","trigger":{"type":"cron","minute":"*/5","timezone":"Europe/Berlin"},"action":{"type":"test","params":{"relay":"valve-1","seconds":60}}}}`
	req, err := api.DecodeRequest([]byte(add))
	if out := svc.Answer(ctx, req, err, api.Options{}); out.Reply.Status != api.StatusAccepted {
		b.Fatal(out.Reply)
	}
	i := 0
	for b.Loop() {
		i++
		payload := fmt.Appendf(nil, `{"id":"r%d","op":"modify","job_id":"bench","changes":{"name":"n%d"}}`, i, i)
		req, err := api.DecodeRequest(payload)
		if out := svc.Answer(ctx, req, err, api.Options{Source: sched.SourceMQTT}); out.Reply.Status != api.StatusAccepted {
			b.Fatal(out.Reply)
		}
	}
}
