package actuators_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/sched"
)

func act(t *testing.T, js string) sched.Action {
	t.Helper()
	var a sched.Action
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestHandlerValidate(t *testing.T) {
	r := newRig(t,
		pump(actuators.Safety{MaxOn: dur(15 * time.Minute)}),
		actuators.Config{Name: "fan", Driver: "sim"},
	)
	h := actuators.NewHandler(r.set, nil)
	tests := []struct {
		js    string
		code  sched.Code
		field string
	}{
		{`{"type":"actuate","actuator":"pump","command":"on"}`, sched.CodeOK, ""},
		{`{"type":"actuate","actuator":"pump","command":"pulse","duration":"30s"}`, sched.CodeOK, ""},
		{`{"type":"actuate","actuator":"fan","command":"set","value":0.4}`, sched.CodeOK, ""},
		{`{"type":"actuate","actuator":"well","command":"on"}`, sched.CodeBadRequest, "action.actuator"},
		{`{"type":"actuate","command":"on"}`, sched.CodeBadRequest, "action.actuator"},
		{`{"type":"actuate","actuator":"pump"}`, sched.CodeBadRequest, "action.command"},
		{`{"type":"actuate","actuator":"pump","command":"ON"}`, sched.CodeBadRequest, "action.command"},
		{`{"type":"actuate","actuator":"pump","command":"blink"}`, sched.CodeBadRequest, "action.command"},
		{`{"type":"actuate","actuator":"pump","command":"set","value":1}`, sched.CodeBadRequest, "action.command"},
		{`{"type":"actuate","actuator":"fan","command":"set"}`, sched.CodeBadRequest, "action.value"},
		{`{"type":"actuate","actuator":"fan","command":"set","value":1.5}`, sched.CodeBadRequest, "action.value"},
		{`{"type":"actuate","actuator":"pump","command":"on","value":1}`, sched.CodeBadRequest, "action.value"},
		{`{"type":"actuate","actuator":"pump","command":"pulse"}`, sched.CodeBadRequest, "action.duration"},
		{`{"type":"actuate","actuator":"pump","command":"pulse","duration":"soon"}`, sched.CodeBadRequest, "action.duration"},
		{`{"type":"actuate","actuator":"pump","command":"pulse","duration":30}`, sched.CodeBadRequest, "action.duration"},
		{`{"type":"actuate","actuator":"pump","command":"on","duration":"5s"}`, sched.CodeBadRequest, "action.duration"},
		{`{"type":"actuate","actuator":"pump","command":"pulse","duration":"1h"}`, sched.CodeUnsafe, "action.duration"},
		{`{"type":"actuate","actuator":"pump","command":"on","speed":2}`, sched.CodeBadRequest, "action.speed"},
	}
	for _, tt := range tests {
		err := h.Validate(act(t, tt.js))
		if sched.ErrorCode(err) != tt.code {
			t.Errorf("%s: got %v (%s), want code %s", tt.js, err, sched.ErrorCode(err), tt.code)
			continue
		}
		var se *sched.Error
		if tt.field != "" && (!errors.As(err, &se) || se.Field != tt.field) {
			t.Errorf("%s: got %v, want field %s", tt.js, err, tt.field)
		}
	}
}

func TestHandlerRun(t *testing.T) {
	r := newRig(t, pump(actuators.Safety{}), actuators.Config{Name: "fan", Driver: "sim"})
	h := actuators.NewHandler(r.set, nil)
	run := func(ctx context.Context, js string) (sched.Result, error) {
		return h.Run(ctx, sched.Run{Job: sched.Job{Action: act(t, js)}})
	}

	res, err := run(context.Background(), `{"type":"actuate","actuator":"fan","command":"set","value":0.25}`)
	if err != nil || res["state"] != "ON" || res["value"] != 0.25 {
		t.Fatalf("set: %v %v", res, err)
	}
	r.next(t)

	// A pulse runs until it ends.
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err := run(context.Background(), `{"type":"actuate","actuator":"pump","command":"pulse","duration":"30s"}`)
		if _, ok := res["value"]; err != nil || res["state"] != "OFF" || ok {
			t.Errorf("pulse: %v %v", res, err)
		}
	}()
	r.next(t)             // on
	r.clock.BlockUntil(1) // the pulse's timer is armed
	r.clock.Advance(30 * time.Second)
	<-done
	r.next(t) // off

	// The result of a pulse on an output that takes set is its state after
	// the pulse: off, value 0 (not the value 1 it had while on).
	done = make(chan struct{})
	go func() {
		defer close(done)
		res, err := run(context.Background(), `{"type":"actuate","actuator":"fan","command":"pulse","duration":"30s"}`)
		if err != nil || res["state"] != "OFF" || res["value"] != 0.0 {
			t.Errorf("pulse of a dimmable output: %v %v", res, err)
		}
	}()
	r.next(t)             // on
	r.clock.BlockUntil(1) // the pulse's timer is armed
	r.clock.Advance(30 * time.Second)
	<-done
	r.next(t) // off

	// A pulse whose job is cancelled (shutdown, timeout) is cut short.
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		res, err := run(ctx, `{"type":"actuate","actuator":"pump","command":"pulse","duration":"10m"}`)
		if res["cut_short"] != true {
			t.Errorf("result %v", res)
		}
		errc <- err
	}()
	r.next(t) // on
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("cut pulse reported success")
	}
	if c := r.next(t); c.State.On || c.Cause != actuators.CausePulseEnd {
		t.Fatalf("cut %+v", c)
	}
	if n := r.clock.Armed(); n != 0 {
		t.Fatalf("%d timers armed", n)
	}

	// A pulse that another command ends early is reported cut short, with
	// how long it ran and what ended it: not success.
	type outcome struct {
		res sched.Result
		err error
	}
	out := make(chan outcome, 1)
	go func() {
		res, err := run(context.Background(), `{"type":"actuate","actuator":"pump","command":"pulse","duration":"10s"}`)
		out <- outcome{res, err}
	}()
	r.next(t)             // on
	r.clock.BlockUntil(1) // the pulse's timer is armed
	r.clock.Advance(5300 * time.Millisecond)
	if _, err := r.set.Apply("pump", actuators.Command{Name: actuators.Off}); err != nil {
		t.Fatal(err)
	}
	r.next(t) // off
	o := <-out
	if o.err == nil || !strings.Contains(o.err.Error(), "pulse of 10s on pump cut short after 5.3s by a new command (off)") ||
		o.res["cut_short"] != true || o.res["ran_ms"] != int64(5300) || o.res["state"] != "OFF" {
		t.Fatalf("pulse ended by another command: %v, %v", o.res, o.err)
	}
}

func TestParseSetPayload(t *testing.T) {
	tests := []struct {
		in    string
		want  actuators.Command
		field string // "" and want zero: error with no field
		err   bool
	}{
		{"ON", actuators.Command{Name: "on"}, "", false},
		{" off\n", actuators.Command{Name: "off"}, "", false},
		{"Toggle", actuators.Command{Name: "toggle"}, "", false},
		{`{"command":"pulse","duration":"5s"}`, actuators.Command{Name: "pulse", Duration: 5 * time.Second}, "", false},
		{`{"command":"SET","value":0.4}`, actuators.Command{Name: "set", Value: 0.4}, "", false},
		{`{"command":"set","value":0}`, actuators.Command{Name: "set"}, "", false},
		{`{"command":"on"}`, actuators.Command{Name: "on"}, "", false},
		{"", actuators.Command{}, "", true},
		{"open", actuators.Command{}, "", true},
		{`{"command":"pulse"}`, actuators.Command{}, "duration", true},
		{`{"command":"pulse","duration":"-5s"}`, actuators.Command{}, "duration", true},
		{`{"command":"pulse","duration":"5"}`, actuators.Command{}, "duration", true},
		{`{"command":"set"}`, actuators.Command{}, "value", true},
		{`{"command":"set","value":2}`, actuators.Command{}, "value", true},
		{`{"command":"on","value":1}`, actuators.Command{}, "value", true},
		{`{"command":"fly"}`, actuators.Command{}, "command", true},
		{`{"command":"on","extra":1}`, actuators.Command{}, "", true},
		{`{"command":"on"} {}`, actuators.Command{}, "", true},
		{`{"command":"on"`, actuators.Command{}, "", true},
	}
	for _, tt := range tests {
		got, err := actuators.ParseSetPayload([]byte(tt.in))
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("%q: got %+v, %v", tt.in, got, err)
			continue
		}
		var se *sched.Error
		if err != nil && (!errors.As(err, &se) || se.Code != sched.CodeBadRequest || se.Field != tt.field) {
			t.Errorf("%q: error %#v, want bad_request on %q", tt.in, err, tt.field)
		}
	}
}

func FuzzParseSetPayload(f *testing.F) {
	for _, s := range []string{"ON", "off", "TOGGLE", `{"command":"pulse","duration":"5s"}`, `{"command":"set","value":0.4}`, `{"command":"x"}`, "{", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := actuators.ParseSetPayload(b)
		if err != nil {
			if sched.ErrorCode(err) != sched.CodeBadRequest {
				t.Fatalf("error of code %s: %v", sched.ErrorCode(err), err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("parsed an invalid command %+v: %v", c, err)
		}
	})
}

func TestPayloads(t *testing.T) {
	r := newRig(t, pump(actuators.Safety{MaxOn: dur(time.Minute)}))
	p := actuators.Payloads{Set: r.set}
	ctx := context.Background()
	if err := p.Apply(ctx, "pump", []byte("on")); err != nil {
		t.Fatal(err)
	}
	if c := r.next(t); !c.State.On {
		t.Fatalf("%+v", c)
	}
	for _, tt := range []struct {
		name, payload string
		code          sched.Code
	}{
		{"pump", "dance", sched.CodeBadRequest},
		{"well", "ON", sched.CodeNotFound},
		{"pump", `{"command":"pulse","duration":"2m"}`, sched.CodeUnsafe},
	} {
		if err := p.Apply(ctx, tt.name, []byte(tt.payload)); sched.ErrorCode(err) != tt.code {
			t.Errorf("%s %s: got %v, want %s", tt.name, tt.payload, err, tt.code)
		}
	}
}
