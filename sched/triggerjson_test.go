package sched_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/edgecron/edgecron/sched"
)

func TestTriggerSpecUnmarshal(t *testing.T) {
	tests := []struct {
		in   string
		want sched.TriggerSpec
	}{
		{`{"type":"date","run_date":"2026-11-23 06:30:00","timezone":"Europe/Berlin"}`,
			sched.TriggerSpec{Type: "date", RunDate: "2026-11-23 06:30:00", Timezone: "Europe/Berlin"}},
		{`{"type":"interval","weeks":1,"days":2,"hours":3,"minutes":4.5,"seconds":0.25,"start_date":"2026-01-01","end_date":null,"jitter":30}`,
			sched.TriggerSpec{Type: "interval", Weeks: 1, Days: 2, Hours: 3, Minutes: 4.5, Seconds: 0.25, StartDate: "2026-01-01", Jitter: 30}},
		{`{"type":"cron","day_of_week":"mon-fri","hour":6,"minute":"30","timezone":"Europe/Berlin"}`,
			sched.TriggerSpec{Type: "cron", DayOfWeek: "mon-fri", Hour: "6", Minute: "30", Timezone: "Europe/Berlin"}},
		{`{"type":"cron","year":2027,"month":"jan-mar","day":"last fri","week":"*/2","second":0}`,
			sched.TriggerSpec{Type: "cron", Year: "2027", Month: "jan-mar", Day: "last fri", Week: "*/2", Second: "0"}},
		{` { "expr" : "30 6 * * 1-5", "type" : "cron" } `,
			sched.TriggerSpec{Type: "cron", Expr: "30 6 * * 1-5"}},
	}
	for _, tc := range tests {
		var got sched.TriggerSpec
		if err := json.Unmarshal([]byte(tc.in), &got); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
		// It encodes back to a document that decodes to the same spec.
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var again sched.TriggerSpec
		if err := json.Unmarshal(b, &again); err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("round trip of %s via %s: %+v, %v", tc.in, b, again, err)
		}
	}
}

func TestTriggerSpecMarshalOnlySetFields(t *testing.T) {
	b, err := json.Marshal(sched.TriggerSpec{Type: "cron", Hour: "6", Minute: "30", Jitter: 1.5})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"type":"cron","hour":"6","minute":"30","jitter":1.5}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestTriggerSpecUnmarshalErrors(t *testing.T) {
	tests := []struct{ in, field, msg string }{
		{`{}`, "trigger.type", "required"},
		{`{"type":null}`, "trigger.type", "required"},
		{`{"type":"weekly"}`, "trigger.type", `unknown trigger type "weekly"`},
		{`{"type":3}`, "trigger.type", "must be a string"},
		{`{"type":"cron","hours":1}`, "trigger.hours", "not a field of a cron trigger"},
		{`{"type":"date","run_date":"2026-01-01","hour":1}`, "trigger.hour", "not a field of a date trigger"},
		{`{"type":"date","jitter":1}`, "trigger.jitter", "not a field of a date trigger"},
		{`{"type":"interval","expr":"* * * * *"}`, "trigger.expr", "not a field of an interval trigger"},
		{`{"type":"cron","hour":1,"color":"red"}`, "trigger.color", "unknown field"},
		{`{"type":"cron","hour":1,"hour":2}`, "trigger.hour", "more than once"},
		{`{"type":"cron","hour":1.5}`, "trigger.hour", "string or an integer"},
		{`{"type":"cron","hour":true}`, "trigger.hour", "not a boolean"},
		{`{"type":"cron","hour":["1"]}`, "trigger.hour", "not an array"},
		{`{"type":"cron","hour":""}`, "trigger.hour", "empty"},
		{`{"type":"cron","expr":""}`, "trigger.expr", "empty"},
		{`{"type":"cron","hour":1,"timezone":""}`, "trigger.timezone", "empty"},
		{`{"type":""}`, "trigger.type", "required"},
		{`{"type":"interval","hours":"1"}`, "trigger.hours", "must be a number of hours"},
		{`{"type":"interval","jitter":"5s"}`, "trigger.jitter", "must be a number of seconds"},
		{`{"type":"interval","seconds":1e999}`, "trigger.seconds", "out of range"},
		{`{"type":"cron","timezone":1}`, "trigger.timezone", "must be a string"},
		{`{"type":"cron","start_date":{}}`, "trigger.start_date", "must be a string"},
		{`[]`, "trigger", "object"},
		{`null`, "trigger", "object"},
		{`"cron"`, "trigger", "object"},
	}
	for _, tc := range tests {
		var got sched.TriggerSpec
		err := json.Unmarshal([]byte(tc.in), &got)
		var e *sched.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %v is not a *sched.Error", tc.in, err)
			continue
		}
		if e.Field != tc.field || !strings.Contains(e.Message, tc.msg) || e.Code != sched.CodeBadRequest {
			t.Errorf("%s: got %q (field %q), want field %q and %q", tc.in, err, e.Field, tc.field, tc.msg)
		}
	}
}

func TestTriggerSpecUnmarshalInJob(t *testing.T) {
	// Nested in a larger document, the error still names the field.
	var doc struct{ Trigger sched.TriggerSpec }
	err := json.Unmarshal([]byte(`{"Trigger":{"type":"cron","minute":{"a":1}}}`), &doc)
	var e *sched.Error
	if !errors.As(err, &e) || e.Field != "trigger.minute" {
		t.Fatalf("got %v, want an error naming trigger.minute", err)
	}
}

func TestCronFieldUnmarshal(t *testing.T) {
	for in, want := range map[string]sched.CronField{`6`: "6", `"*/5"`: "*/5", `0`: "0", `"mon-fri"`: "mon-fri", `-1`: "-1"} {
		var c sched.CronField
		if err := json.Unmarshal([]byte(in), &c); err != nil || c != want {
			t.Errorf("%s: got %q, %v; want %q", in, c, err, want)
		}
	}
	for _, in := range []string{`6.5`, `1e3`, `true`, `{}`, `""`, `"  "`} {
		var c sched.CronField
		if err := json.Unmarshal([]byte(in), &c); err == nil {
			t.Errorf("%s: accepted as %q", in, c)
		}
	}
}
