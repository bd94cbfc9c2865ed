package sched_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// apsCombined is the fixture of APScheduler 3.11's test_combining.py
// (tests/triggers/test_combining.py at tag 3.11.2 of agronholm/apscheduler):
// two cron triggers with end dates, in its timezone fixture Europe/Berlin.
const apsCombined = `[{"type":"cron","month":"5-8","day":"6-15","end_date":"2017-08-10"},
	{"type":"cron","month":"6-9","day":"*/3","end_date":"2017-09-07"}]`

func TestCombineAPScheduler(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	tests := []struct {
		name, typ, now, want string
	}{
		{"TestAndTrigger firstmatch", "and", "2017-08-06T00:00:00+02:00", "2017-08-07T00:00:00+02:00"},
		{"TestAndTrigger end", "and", "2017-08-10T01:00:00+02:00", ""},
		{"TestOrTrigger earliest", "or", "2017-08-06T00:00:00+02:00", "2017-08-06T00:00:00+02:00"},
		{"TestOrTrigger end", "or", "2017-09-07T01:00:00+02:00", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkNext(t, `{"type":"`+tc.typ+`","triggers":`+apsCombined+`}`, berlin, "", tc.now, tc.want)
		})
	}
	// test_jitter: the jitter is the combination's (the scheduler draws it).
	var spec sched.TriggerSpec
	if err := json.Unmarshal([]byte(`{"type":"and","jitter":5,"triggers":`+apsCombined+`}`), &spec); err != nil {
		t.Fatal(err)
	}
	if got := spec.JitterDuration(); got != 5*time.Second {
		t.Errorf("jitter %v, want 5s", got)
	}
}

func TestCombineNext(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	const weekdays630 = `{"type":"cron","day_of_week":"mon-fri","hour":6,"minute":30}`
	tests := []struct {
		name, doc, prev, now, want string
	}{
		{"and: a cron and a calendarinterval", `{"type":"and","triggers":[` + weekdays630 +
			`,{"type":"calendarinterval","weeks":2,"hour":6,"minute":30,"start_date":"2026-06-08"}]}`,
			"2026-06-08T06:30:00+02:00", "2026-06-08T06:30:00+02:00", "2026-06-22T06:30:00+02:00"},
		{"and: every other Saturday is never a weekday", `{"type":"and","triggers":[` + weekdays630 +
			`,{"type":"calendarinterval","weeks":2,"hour":6,"minute":30,"start_date":"2026-06-06"}]}`,
			"", "2026-06-01T00:00:00+02:00", ""},
		{"and after prev", `{"type":"and","triggers":[` + weekdays630 + `,{"type":"cron","day":"1-7","hour":6,"minute":30}]}`,
			"2026-06-01T06:30:00+02:00", "2026-06-01T06:30:00+02:00", "2026-06-02T06:30:00+02:00"},
		{"or: the earliest member", `{"type":"or","triggers":[` + weekdays630 + `,{"type":"cron","day_of_week":"sat,sun","hour":9}]}`,
			"2026-06-05T06:30:00+02:00", "2026-06-05T06:30:00+02:00", "2026-06-06T09:00:00+02:00"},
		{"or: a date member fires once", `{"type":"or","triggers":[{"type":"date","run_date":"2026-06-03 12:00:00"},` + weekdays630 + `]}`,
			"2026-06-03T06:30:00+02:00", "2026-06-03T06:30:00+02:00", "2026-06-03T12:00:00+02:00"},
		{"or: a past date member is finished", `{"type":"or","triggers":[{"type":"date","run_date":"2026-06-03 12:00:00"},` + weekdays630 + `]}`,
			"2026-06-03T12:00:00+02:00", "2026-06-03T12:00:00+02:00", "2026-06-04T06:30:00+02:00"},
		{"or: finished when all members are", `{"type":"or","triggers":[{"type":"date","run_date":"2026-06-03 12:00:00"},{"type":"cron","hour":1,"end_date":"2026-06-01"}]}`,
			"2026-06-03T12:00:00+02:00", "2026-06-03T12:00:00+02:00", ""},
		{"and: finished when a member is", `{"type":"and","triggers":[` + weekdays630 + `,{"type":"cron","hour":6,"minute":30,"end_date":"2026-06-03"}]}`,
			"2026-06-02T06:30:00+02:00", "2026-06-02T06:30:00+02:00", ""},
		{"an interval with start_date agrees with a cron", `{"type":"and","triggers":[{"type":"interval","minutes":90,"start_date":"2026-06-01 00:00:00"},{"type":"cron","minute":0}]}`,
			"", "2026-06-01T00:00:01+02:00", "2026-06-01T03:00:00+02:00"},
		{"members take the combination's zone", `{"type":"or","timezone":"UTC","triggers":[{"type":"cron","hour":6},{"type":"cron","hour":7,"timezone":"Europe/Berlin"}]}`,
			"", "2026-06-01T05:30:00Z", "2026-06-01T06:00:00Z"},
		{"nested", `{"type":"or","triggers":[{"type":"and","triggers":[` + weekdays630 + `,{"type":"cron","day":"1-7","hour":6,"minute":30}]},{"type":"cron","day":15,"hour":12}]}`,
			"2026-06-05T06:30:00+02:00", "2026-06-05T06:30:00+02:00", "2026-06-15T12:00:00+02:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkNext(t, tc.doc, berlin, tc.prev, tc.now, tc.want)
		})
	}
}

// An and whose members never agree ends with an error, in bounded time,
// from a preview and from an add; nothing is added.
func TestAndThatNeverAgrees(t *testing.T) {
	doc := `{"type":"and","triggers":[{"type":"cron","hour":6},{"type":"cron","hour":7}]}`
	var spec sched.TriggerSpec
	if err := json.Unmarshal([]byte(doc), &spec); err != nil {
		t.Fatal(err)
	}
	_, err := sched.Preview(spec, sched.Env{Location: time.UTC}, t0, 3)
	var e *sched.Error
	if !errors.As(err, &e) || e.Field != "trigger.triggers" || !strings.Contains(e.Message, "no time they all agree on") {
		t.Fatalf("Preview: %v", err)
	}
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	_, err = h.s.Add(context.Background(), patch(t, `{"id":"never","trigger":`+doc+`,"action":{"type":"test"}}`), sched.AddOptions{})
	if !errors.As(err, &e) || e.Code != sched.CodeBadRequest || e.Field != "trigger.triggers" {
		t.Fatalf("Add: %v", err)
	}
	if n := h.store.Commits(); n != 0 {
		t.Errorf("%d commits", n)
	}
}

func TestCombineErrors(t *testing.T) {
	tests := []struct{ doc, want string }{
		{`{"type":"and"}`, "trigger.triggers: give 2 to 16 triggers to combine, not 0"},
		{`{"type":"and","triggers":[{"type":"cron"}]}`, "trigger.triggers: give at least two triggers to combine, not 1"},
		{`{"type":"or","triggers":{"type":"cron"}}`, "trigger.triggers: must be an array of trigger documents, not an object"},
		{`{"type":"or","triggers":[{"type":"cron","hour":25},{"type":"cron"}]}`, `trigger.triggers[0].hour: "25": 25 is out of range 0-23`},
		{`{"type":"or","triggers":[{"type":"cron"},{"type":"cron","hours":1}]}`, "trigger.triggers[1].hours: not a field of a cron trigger"},
		{`{"type":"or","triggers":[{"type":"cron"},{"type":"cron","jitter":1}]}`, "trigger.triggers[1].jitter: jitter belongs on the or trigger"},
		{`{"type":"or","triggers":[{"type":"cron"},{"type":"interval","hours":1}]}`, "trigger.triggers[1].start_date: required for an interval trigger inside an or"},
		{`{"type":"or","triggers":[{"type":"cron"},{"type":"and","triggers":[{"type":"cron"},{"type":"cron","second":"x"}]}]}`, `trigger.triggers[1].triggers[1].second: "x"`},
		{`{"type":"and","triggers":[{"type":"cron"},{"type":"or","triggers":[{"type":"cron"},{"type":"and","triggers":[{"type":"cron"},{"type":"cron"}]}]}]}`, "trigger.triggers[1].triggers[1].type: an and inside an and"},
		{`{"type":"or","triggers":[{"type":"cron"},{"type":"or","triggers":[{"type":"cron"},{"type":"or","triggers":[{"type":"cron"},{"type":"or","triggers":[{"type":"cron"},{"type":"cron"}]}]}]}]}`, "trigger.triggers[1].triggers[1].triggers[1].type: and/or triggers nested more than 3 deep"},
		{`{"type":"and","triggers":[{"type":"cron"},{"type":"cron"}],"hour":1}`, "trigger.hour: not a field of an and trigger"},
	}
	for _, tc := range tests {
		var spec sched.TriggerSpec
		err := json.Unmarshal([]byte(tc.doc), &spec)
		if err == nil {
			_, err = spec.Compile(time.UTC)
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s:\n error %v\n want %q", tc.doc, err, tc.want)
		}
	}
}

// Documents of the new types read back as written, and survive the
// scheduler's packed form.
func TestNewTriggerRoundTrip(t *testing.T) {
	docs := []string{
		`{"type":"calendarinterval","years":1,"months":2,"weeks":3,"days":4,"hour":"5","minute":"6","second":"7","start_date":"2026-01-01","end_date":"2030-01-01","jitter":2,"timezone":"Europe/Berlin"}`,
		`{"type":"and","triggers":[{"type":"cron","hour":"6"},{"type":"calendarinterval","days":2,"hour":"6","start_date":"2026-01-01"}],"jitter":5,"timezone":"UTC"}`,
		`{"type":"or","triggers":[{"type":"date","run_date":"2027-01-01"},{"type":"and","triggers":[{"type":"cron","day":"1"},{"type":"cron","day_of_week":"mon"}]}]}`,
	}
	ctx := context.Background()
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	for i, doc := range docs {
		var spec sched.TriggerSpec
		if err := json.Unmarshal([]byte(doc), &spec); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(spec)
		if err != nil || string(b) != doc {
			t.Errorf("read back\n %s\nwant\n %s (%v)", b, doc, err)
		}
		id := "j" + string(rune('0'+i))
		j, err := h.s.Add(ctx, patch(t, `{"id":"`+id+`","trigger":`+doc+`,"action":{"type":"test"}}`), sched.AddOptions{})
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		got, err := h.s.Get(id)
		if err != nil || got.Trigger != j.Trigger || got.Trigger != spec {
			t.Errorf("%s: stored %+v, want %+v (%v)", doc, got.Trigger, spec, err)
		}
	}
}

// An and whose members agree once and then never again: the run happens,
// and the end of its schedule is an error event, not silence.
func TestAndThatStopsAgreeing(t *testing.T) {
	h := newHarness(t, sched.Options{}, sched.HandlerOptions{}).start()
	// A grid of a day and a second from 09:00:05 meets a daily 09:00:05
	// once: the grid drifts a second a day.
	h.add(`{"id":"once","trigger":{"type":"and","triggers":[
		{"type":"interval","seconds":86401,"start_date":"2026-11-21T09:00:05Z"},
		{"type":"cron","hour":9,"minute":0,"second":5,"timezone":"UTC"}]},"action":{"type":"test"}}`, sched.AddOptions{})
	h.settle(5 * time.Second)
	h.clock.Advance(5 * time.Second)
	h.event(sched.EventSubmitted)
	ev := h.event(sched.EventError)
	if !strings.Contains(ev.Error, "no next run") || !strings.Contains(ev.Error, "no time they all agree on") {
		t.Fatalf("error event %q", ev.Error)
	}
	h.run()
	if j, _ := h.s.Get("once"); j.NextRunTime != nil {
		t.Fatalf("next run %v", j.NextRunTime)
	}
}
