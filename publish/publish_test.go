package publish

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/sched"
)

type sent struct {
	topic   string
	qos     byte
	retain  bool
	payload string
}

// recorder is a Publisher that records messages, or fails with err.
type recorder struct {
	msgs []sent
	err  error
}

func (r *recorder) Publish(ctx context.Context, topic string, qos byte, retain bool, payload []byte) error {
	if r.err != nil {
		return r.err
	}
	r.msgs = append(r.msgs, sent{topic, qos, retain, string(payload)})
	return nil
}

func action(t *testing.T, js string) sched.Action {
	t.Helper()
	var a sched.Action
	if err := a.UnmarshalJSON([]byte(js)); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestConfigFromYAML(t *testing.T) {
	var doc struct {
		Publish Config `yaml:"publish"`
	}
	src := "publish:\n  allow: [\"home/+/set\", \"edgecron/greenhouse-2/actuators/+/set\", \"automations/#\"]\n"
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	if err := doc.Publish.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(doc.Publish.Allow) != 3 || !doc.Publish.Allows("automations/water/start") {
		t.Errorf("config = %+v", doc.Publish)
	}
	bad := Config{Allow: []string{"ok/+", "home/#/set", "x+"}}
	err := bad.Validate()
	for _, w := range []string{`publish.allow[1]: "home/#/set": '#' must be the last level`, `publish.allow[2]: "x+": a wildcard must fill a whole level`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate = %v, want %q", err, w)
		}
	}
	if _, err := NewHandler(bad, &recorder{}); err == nil {
		t.Error("NewHandler accepted a bad filter")
	}
	if _, err := NewHandler(Config{}, nil); err == nil {
		t.Error("NewHandler accepted a nil Publisher")
	}
}

func TestValidateAndRun(t *testing.T) {
	rec := &recorder{}
	h, err := NewHandler(Config{Allow: []string{"home/+/set", "automations/#"}}, rec)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		action string
		want   sent   // when valid
		field  string // when invalid
		msg    string
	}{
		{action: `{"type":"publish","topic":"home/x/set","payload":"ON","qos":1,"retain":false}`, want: sent{"home/x/set", 1, false, "ON"}},
		{action: `{"type":"publish","topic":"home/pump/set","payload":"OFF"}`, want: sent{"home/pump/set", 1, false, "OFF"}},
		{action: `{"type":"publish","topic":"automations/water","payload":{"state": "ON", "for": 30},"qos":0,"retain":true}`,
			want: sent{"automations/water", 0, true, `{"state":"ON","for":30}`}},
		{action: `{"type":"publish","topic":"automations","qos":2}`, want: sent{"automations", 2, false, ""}},
		{action: `{"type":"publish","topic":"home/x/set","payload":42}`, want: sent{"home/x/set", 1, false, "42"}},
		{action: `{"type":"publish","payload":"ON"}`, field: "action.topic", msg: "is required"},
		{action: `{"type":"publish","topic":"home/x/y/set"}`, field: "action.topic", msg: `topic "home/x/y/set" matches none of publish.allow (home/+/set, automations/#)`},
		{action: `{"type":"publish","topic":"edgecron/dev/jobs/cmd"}`, field: "action.topic", msg: "matches none"},
		{action: `{"type":"publish","topic":"home/+/set"}`, field: "action.topic", msg: "must not contain the wildcards"},
		{action: `{"type":"publish","topic":"automations/#"}`, field: "action.topic", msg: "must not contain the wildcards"},
		{action: `{"type":"publish","topic":"home/x/set","qos":3}`, field: "action.qos", msg: "must be 0, 1 or 2, got 3"},
		{action: `{"type":"publish","topic":"home/x/set","qos":"1"}`, field: "action.qos", msg: "must be int"},
		{action: `{"type":"publish","topic":"home/x/set","payload":"` + strings.Repeat("x", MaxPayload+1) + `"}`, field: "action.payload", msg: "the limit is 65536"},
		{action: `{"type":"publish","topic":"home/x/set","retained":true}`, field: "action.retained", msg: "unknown field"},
	}
	for _, tt := range tests {
		name := tt.action
		if len(name) > 90 {
			name = name[:90]
		}
		t.Run(name, func(t *testing.T) {
			a := action(t, tt.action)
			rec.msgs = nil
			err := h.Validate(a)
			res, runErr := h.Run(context.Background(), sched.Run{Job: sched.Job{ID: "j", Action: a}})
			if tt.field != "" {
				var e *sched.Error
				if !errors.As(err, &e) || e.Field != tt.field || e.Code != sched.CodeBadRequest || !strings.Contains(e.Message, tt.msg) {
					t.Fatalf("Validate = %v, want %s: ...%s...", err, tt.field, tt.msg)
				}
				if runErr == nil || len(rec.msgs) != 0 {
					t.Errorf("Run published an invalid action: %v", rec.msgs)
				}
				return
			}
			if err != nil || runErr != nil {
				t.Fatalf("Validate = %v, Run = %v", err, runErr)
			}
			if len(rec.msgs) != 1 || rec.msgs[0] != tt.want {
				t.Errorf("published %+v, want %+v", rec.msgs, tt.want)
			}
			if res["topic"] != tt.want.topic || res["qos"] != int(tt.want.qos) || res["retain"] != tt.want.retain || res["bytes"] != len(tt.want.payload) {
				t.Errorf("result = %v", res)
			}
		})
	}
}

func TestRunReportsPublisherErrors(t *testing.T) {
	cause := errors.New("outbox full")
	h, err := NewHandler(Config{Allow: []string{"#"}}, &recorder{err: cause})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Run(context.Background(), sched.Run{Job: sched.Job{Action: action(t, `{"type":"publish","topic":"a/b","payload":"x"}`)}})
	if !errors.Is(err, cause) || err.Error() != `publish to "a/b": outbox full` {
		t.Errorf("Run = %v", err)
	}
	if res["topic"] != "a/b" {
		t.Errorf("result = %v", res)
	}
}

func TestUpdateAndEmptyAllow(t *testing.T) {
	h, err := NewHandler(Config{}, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	a := action(t, `{"type":"publish","topic":"home/x/set"}`)
	if err := h.Validate(a); err == nil || !strings.Contains(err.Error(), "publish.allow in the config is empty") {
		t.Errorf("Validate = %v", err)
	}
	if err := h.Update(Config{Allow: []string{"home/#/x"}}); err == nil {
		t.Error("Update accepted a bad filter")
	}
	if err := h.Update(Config{Allow: []string{"home/#"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(a); err != nil {
		t.Errorf("Validate after Update = %v", err)
	}
}
