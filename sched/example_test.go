package sched_test

import (
	"context"
	"fmt"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// A scheduler on a memory store and a fake clock: add a job from its JSON
// document, watch it run, and read it back.
func Example() {
	clock := schedtest.NewFakeClock(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC))
	s := sched.New(schedtest.NewMemStore(), sched.Options{Clock: clock, Location: time.UTC, MaxWait: time.Hour})
	ran := make(chan sched.Run, 1)
	_ = s.Handle("read", sched.HandlerFunc{RunFunc: func(ctx context.Context, r sched.Run) (sched.Result, error) {
		ran <- r
		return sched.Result{"temperature": 21.5}, nil
	}}, sched.HandlerOptions{Workers: 2, Timeout: 10 * time.Second})

	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		panic(err)
	}
	defer s.Shutdown(ctx, true)

	p, err := sched.DecodeJob([]byte(`{"id":"air","trigger":{"type":"interval","minutes":15},"action":{"type":"read","sensor":"air"}}`), sched.ModeAdd)
	if err != nil {
		panic(err)
	}
	j, err := s.Add(ctx, p, sched.AddOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println("added", j.ID, "version", j.Version, "next", j.NextRunTime.Format(time.RFC3339))

	clock.WaitForTimer(15 * time.Minute) // the scheduler now waits for the job
	clock.Advance(15 * time.Minute)
	r := <-ran
	fmt.Println("ran for", r.ScheduledTime.Format(time.RFC3339))
	// Output:
	// added air version 1 next 2026-11-21T06:15:00Z
	// ran for 2026-11-21T06:15:00Z
}

// DecodeJob names the field at fault.
func ExampleDecodeJob() {
	_, err := sched.DecodeJob([]byte(`{"id":"pump","trigger":{"type":"date"},"action":{"type":"actuate"},"version":3}`), sched.ModeAdd)
	fmt.Println(err)
	_, err = sched.DecodeJob([]byte(`{"misfire_grace_time":"5m"}`), sched.ModeChanges)
	fmt.Println(err)
	// Output:
	// version: is read-only: the agent sets it
	// misfire_grace_time: must be a number of seconds
}

// A job document as the API and the CLI show it.
func ExampleJob_MarshalJSON() {
	next := time.Date(2026, 11, 23, 5, 30, 0, 0, time.UTC)
	grace := 300 * time.Second
	j := sched.Job{
		ID: "pump-morning", Name: "Water the beds",
		Trigger:          sched.TriggerSpec{Type: "date", RunDate: "2026-11-23T06:30:00", Timezone: "Europe/Berlin"},
		Action:           sched.Action{Type: "actuate", Raw: []byte(`{"type":"actuate","actuator":"pump","command":"pulse","duration":"30s"}`)},
		MisfireGraceTime: &grace, Coalesce: true, MaxInstances: 1, Version: 3, NextRunTime: &next, Source: sched.SourceMQTT,
	}
	b, _ := j.MarshalJSON()
	fmt.Println(string(b))
	// Output:
	// {"id":"pump-morning","name":"Water the beds","trigger":{"type":"date","run_date":"2026-11-23T06:30:00","timezone":"Europe/Berlin"},"action":{"type":"actuate","actuator":"pump","command":"pulse","duration":"30s"},"misfire_grace_time":300,"coalesce":true,"max_instances":1,"paused":false,"version":3,"next_run_time":"2026-11-23T06:30:00+01:00","last_run_time":null,"last_result":"","source":"mqtt"}
}

func ExampleCheckID() {
	for _, id := range []string{"pump-morning", "cmd", "a/b"} {
		fmt.Println(id, sched.CheckID(id))
	}
	// Output:
	// pump-morning <nil>
	// cmd id: "cmd" is reserved (it is an MQTT topic level beside the job documents)
	// a/b id: "a/b" must be 1 to 64 of A-Z a-z 0-9 _ . -
}

// A job fired by readings (docs/automations.md): the fan goes on when the
// air passes 30 °C, once, until a reading at or below 28 °C re-arms it.
func ExampleScheduler_Observe() {
	clock := schedtest.NewFakeClock(time.Date(2026, 7, 1, 14, 0, 0, 0, time.UTC))
	s := sched.New(schedtest.NewMemStore(), sched.Options{Clock: clock, Location: time.UTC})
	ran := make(chan sched.Run, 10)
	_ = s.Handle("actuate", sched.HandlerFunc{RunFunc: func(ctx context.Context, r sched.Run) (sched.Result, error) {
		ran <- r
		return nil, nil
	}}, sched.HandlerOptions{})
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		panic(err)
	}
	defer s.Shutdown(ctx, true)
	p, err := sched.DecodeJob([]byte(`{"id":"fan-on","trigger":{"type":"reading","sensor":"air","above":30,"hysteresis":2},
		"action":{"type":"actuate","actuator":"fan","command":"on"},"max_instances":2}`), sched.ModeAdd)
	if err != nil {
		panic(err)
	}
	if _, err := s.Add(ctx, p, sched.AddOptions{}); err != nil {
		panic(err)
	}
	observe := func(vs ...float64) {
		for _, v := range vs {
			clock.Advance(time.Minute)
			s.Observe("air", clock.Now(), []sched.Sample{{Name: "temperature", Value: v}})
		}
	}
	observe(29, 31, 32, 29) // fires at 31, once
	fmt.Println("ran for the reading of", (<-ran).ScheduledTime.Format("15:04"))
	observe(28, 30.5) // 28 re-arms it
	fmt.Println("ran for the reading of", (<-ran).ScheduledTime.Format("15:04"))
	// Output:
	// ran for the reading of 14:02
	// ran for the reading of 14:06
}
