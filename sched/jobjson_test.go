package sched_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

const fullDoc = `{
  "id": "pump-morning",
  "name": "Water the beds",
  "trigger": {"type": "date"},
  "action": {"type": "actuate", "actuator": "pump", "command": "pulse", "duration": "30s"},
  "misfire_grace_time": 300,
  "coalesce": true,
  "max_instances": 2,
  "paused": true,
  "remote": true
}`

func TestDecodeJobEveryField(t *testing.T) {
	p, err := sched.DecodeJob([]byte(fullDoc), sched.ModeAdd)
	if err != nil {
		t.Fatal(err)
	}
	all := sched.FieldID | sched.FieldName | sched.FieldTrigger | sched.FieldAction | sched.FieldMisfireGraceTime |
		sched.FieldCoalesce | sched.FieldMaxInstances | sched.FieldPaused | sched.FieldRemote
	if p.Fields != all {
		t.Errorf("Fields = %b, want %b", p.Fields, all)
	}
	grace := 300 * time.Second
	want := sched.Job{
		ID: "pump-morning", Name: "Water the beds", Trigger: sched.TriggerSpec{Type: "date"},
		Action:           sched.Action{Type: "actuate", Raw: []byte(`{"type":"actuate","actuator":"pump","command":"pulse","duration":"30s"}`)},
		MisfireGraceTime: &grace, Coalesce: true, MaxInstances: 2, Paused: true, Remote: true,
	}
	if d := schedtest.JobDiff(want, p.Job); d != "" {
		t.Error(d)
	}
}

func TestDecodeJobErrors(t *testing.T) {
	const trig, act = `"trigger":{"type":"date"}`, `"action":{"type":"read","sensor":"air"}`
	doc := func(fields ...string) string { return "{" + strings.Join(fields, ",") + "}" }
	tests := []struct {
		name  string
		in    string
		mode  sched.DecodeMode
		field string
	}{
		{"not an object", `[1]`, sched.ModeAdd, ""},
		{"null", `null`, sched.ModeAdd, ""},
		{"garbage", `{"id":`, sched.ModeAdd, "id"},
		{"trailing data", doc(trig, act) + `{}`, sched.ModeAdd, ""},
		{"unknown field", doc(trig, act, `"colour":"red"`), sched.ModeAdd, "colour"},
		{"field twice", doc(trig, act, `"name":"a"`, `"name":"b"`), sched.ModeAdd, "name"},
		{"no trigger", doc(act), sched.ModeAdd, "trigger"},
		{"no action", doc(trig), sched.ModeImport, "action"},
		{"trigger not object", doc(`"trigger":"daily"`, act), sched.ModeAdd, "trigger"},
		{"trigger null", doc(`"trigger":null`, act), sched.ModeChanges, "trigger"},
		{"action not object", doc(trig, `"action":"read"`), sched.ModeAdd, "action"},
		{"action without type", doc(trig, `"action":{"sensor":"air"}`), sched.ModeAdd, "action.type"},
		{"action type number", doc(trig, `"action":{"type":3}`), sched.ModeAdd, "action.type"},
		{"id number", doc(trig, act, `"id":12`), sched.ModeAdd, "id"},
		{"id empty", doc(trig, act, `"id":""`), sched.ModeAdd, "id"},
		{"id slash", doc(trig, act, `"id":"a/b"`), sched.ModeAdd, "id"},
		{"id plus", doc(trig, act, `"id":"a+"`), sched.ModeAdd, "id"},
		{"id too long", doc(trig, act, `"id":"`+strings.Repeat("x", 65)+`"`), sched.ModeAdd, "id"},
		{"id null", doc(trig, act, `"id":null`), sched.ModeAdd, "id"},
		{"id reserved cmd", doc(trig, act, `"id":"cmd"`), sched.ModeAdd, "id"},
		{"id reserved res", doc(trig, act, `"id":"res"`), sched.ModeImport, "id"},
		{"id in changes", doc(`"id":"a"`), sched.ModeChanges, "id"},
		{"name number", doc(trig, act, `"name":1`), sched.ModeAdd, "name"},
		{"grace string", doc(trig, act, `"misfire_grace_time":"300"`), sched.ModeAdd, "misfire_grace_time"},
		{"grace duration string", doc(trig, act, `"misfire_grace_time":"5m"`), sched.ModeAdd, "misfire_grace_time"},
		{"grace zero", doc(trig, act, `"misfire_grace_time":0`), sched.ModeAdd, "misfire_grace_time"},
		{"grace negative", doc(trig, act, `"misfire_grace_time":-1`), sched.ModeAdd, "misfire_grace_time"},
		{"grace huge", doc(trig, act, `"misfire_grace_time":1e300`), sched.ModeAdd, "misfire_grace_time"},
		{"grace sub-ns", doc(trig, act, `"misfire_grace_time":1e-10`), sched.ModeAdd, "misfire_grace_time"},
		{"coalesce string", doc(trig, act, `"coalesce":"yes"`), sched.ModeAdd, "coalesce"},
		{"coalesce number", doc(trig, act, `"coalesce":1`), sched.ModeAdd, "coalesce"},
		{"paused string", doc(`"paused":"true"`), sched.ModeChanges, "paused"},
		{"remote number", doc(trig, act, `"remote":0`), sched.ModeAdd, "remote"},
		{"max_instances zero", doc(trig, act, `"max_instances":0`), sched.ModeAdd, "max_instances"},
		{"max_instances fraction", doc(trig, act, `"max_instances":1.5`), sched.ModeAdd, "max_instances"},
		{"max_instances string", doc(trig, act, `"max_instances":"2"`), sched.ModeAdd, "max_instances"},
		{"max_instances null", doc(`"max_instances":null`), sched.ModeChanges, "max_instances"},
		{"max_instances huge", doc(trig, act, `"max_instances":100000000000000000000`), sched.ModeAdd, "max_instances"},
		{"version in add", doc(trig, act, `"version":3`), sched.ModeAdd, "version"},
		{"next_run_time in add", doc(trig, act, `"next_run_time":null`), sched.ModeAdd, "next_run_time"},
		{"last_run_time in changes", doc(`"last_run_time":"2026-01-01T00:00:00Z"`), sched.ModeChanges, "last_run_time"},
		{"last_result in changes", doc(`"last_result":"ok"`), sched.ModeChanges, "last_result"},
		{"source in add", doc(trig, act, `"source":"config"`), sched.ModeAdd, "source"},
		{"unknown in import", doc(trig, act, `"versoin":1`), sched.ModeImport, "versoin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sched.DecodeJob([]byte(tc.in), tc.mode)
			var e *sched.Error
			if !errors.As(err, &e) {
				t.Fatalf("DecodeJob(%s) error %v, want a *sched.Error", tc.in, err)
			}
			if e.Code != sched.CodeBadRequest || e.Field != tc.field {
				t.Fatalf("DecodeJob(%s) = code %s field %q (%v), want bad_request field %q", tc.in, e.Code, e.Field, e, tc.field)
			}
		})
	}
}

func TestDecodeJobModes(t *testing.T) {
	// Import ignores read-only fields, whatever their type.
	p, err := sched.DecodeJob([]byte(`{"id":"a","trigger":{"type":"date"},"action":{"type":"read"},
		"version":"x","next_run_time":12,"last_run_time":null,"last_result":"ok","source":"mqtt"}`), sched.ModeImport)
	if err != nil {
		t.Fatal(err)
	}
	if p.Job.Version != 0 || p.Job.NextRunTime != nil || p.Job.LastResult != "" || p.Job.Source != "" {
		t.Errorf("import kept read-only fields: %+v", p.Job)
	}
	// Changes: only what is given, null takes the null value.
	p, err = sched.DecodeJob([]byte(`{"misfire_grace_time":null,"name":null,"coalesce":null}`), sched.ModeChanges)
	if err != nil {
		t.Fatal(err)
	}
	if want := sched.FieldMisfireGraceTime | sched.FieldName | sched.FieldCoalesce; p.Fields != want {
		t.Errorf("Fields = %b, want %b", p.Fields, want)
	}
	if p.Job.MisfireGraceTime != nil || p.Job.Name != "" || p.Job.Coalesce {
		t.Errorf("nulls decoded to %+v", p.Job)
	}
	p, err = sched.DecodeJob([]byte(`{}`), sched.ModeChanges)
	if err != nil || p.Fields != 0 {
		t.Errorf("empty changes: %v %b", err, p.Fields)
	}
	// misfire_grace_time is exact to the nanosecond, in any number syntax.
	for in, want := range map[string]time.Duration{
		"1.5": 1500 * time.Millisecond, "1e2": 100 * time.Second, "0.000000001": 1, "86400": 24 * time.Hour, "2.50E-1": 250 * time.Millisecond,
	} {
		p, err := sched.DecodeJob([]byte(`{"misfire_grace_time":`+in+`}`), sched.ModeChanges)
		if err != nil || p.Job.MisfireGraceTime == nil || *p.Job.MisfireGraceTime != want {
			t.Errorf("misfire_grace_time %s: %v %v, want %v", in, p.Job.MisfireGraceTime, err, want)
		}
	}
}

func TestDecodeJobs(t *testing.T) {
	ps, err := sched.DecodeJobs([]byte(`[{"id":"a","trigger":{"type":"date"},"action":{"type":"read"}},
		{"trigger":{"type":"date"},"action":{"type":"read"}}]`), sched.ModeImport)
	if err != nil || len(ps) != 2 || ps[0].Job.ID != "a" || ps[1].Has(sched.FieldID) {
		t.Fatalf("DecodeJobs = %+v, %v", ps, err)
	}
	if ps, err := sched.DecodeJobs([]byte(` [ ] `), sched.ModeImport); err != nil || len(ps) != 0 {
		t.Fatalf("empty array: %v %v", ps, err)
	}
	for in, field := range map[string]string{
		`{}`: "", `[{"id":"a","trigger":{"type":"date"},"action":{"type":"read"}},{"id":"a","trigger":{"type":"date"},"action":{"type":"read"}}]`: "[1].id",
		`[{"id":"a","trigger":{"type":"date"},"action":{"type":"read"}},{"id":"b","trigger":{"type":"date"},"action":{"type":"read"},"x":1}]`: "[1].x",
		`[{"id":"a","trigger":{"type":"date"},"action":{}}]`:                 "[0].action.type",
		`[{"id":"a","trigger":{"type":"date"},"action":{"type":"read"}}] []`: "",
		`[1]`: "[0]",
		`[`:   "",
	} {
		_, err := sched.DecodeJobs([]byte(in), sched.ModeImport)
		var e *sched.Error
		if !errors.As(err, &e) || e.Field != field {
			t.Errorf("DecodeJobs(%s) = %v, want an error on field %q", in, err, field)
		}
	}
}

func TestJobMarshalJSON(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	grace := 300 * time.Second
	next := time.Date(2026, 11, 23, 5, 30, 0, 0, time.UTC)
	last := time.Date(2026, 11, 20, 6, 30, 0, 0, berlin)
	spec := sched.TriggerSpec{Type: "date", Timezone: "Europe/Berlin"}
	j := sched.Job{
		ID: "pump-morning", Name: "Water the beds", Trigger: spec,
		Action:           sched.Action{Type: "actuate", Raw: []byte(`{"type":"actuate","actuator":"pump","command":"pulse","duration":"30s"}`)},
		MisfireGraceTime: &grace, Coalesce: true, MaxInstances: 1, Version: 3,
		NextRunTime: &next, LastRunTime: &last, LastResult: "ok", Source: sched.SourceMQTT,
	}
	trig, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"pump-morning","name":"Water the beds","trigger":` + string(trig) +
		`,"action":{"type":"actuate","actuator":"pump","command":"pulse","duration":"30s"},` +
		`"misfire_grace_time":300,"coalesce":true,"max_instances":1,"paused":false,"version":3,` +
		`"next_run_time":"2026-11-23T06:30:00+01:00","last_run_time":"2026-11-20T06:30:00+01:00",` +
		`"last_result":"ok","source":"mqtt"}`
	got, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("Marshal =\n%s\nwant\n%s", got, want)
	}
	// Nulls, remote and a fractional grace time.
	half := 1500 * time.Millisecond
	j.MisfireGraceTime, j.NextRunTime, j.LastRunTime, j.Remote = nil, nil, nil, true
	got, _ = json.Marshal(j)
	for _, s := range []string{`"misfire_grace_time":null`, `"next_run_time":null`, `"last_run_time":null`, `"remote":true`} {
		if !strings.Contains(string(got), s) {
			t.Errorf("%s lacks %s", got, s)
		}
	}
	j.MisfireGraceTime = &half
	got, _ = json.Marshal(j)
	if !strings.Contains(string(got), `"misfire_grace_time":1.5,`) {
		t.Errorf("%s: want misfire_grace_time 1.5", got)
	}
}

// FuzzDecodeJob: no input panics, and a document that decodes re-encodes to
// one that decodes to the same job.
func FuzzDecodeJob(f *testing.F) {
	for _, s := range []string{
		fullDoc,
		`{"trigger":{"type":"date"},"action":{"type":"read"}}`,
		`{"misfire_grace_time":null,"name":null}`,
		`{"id":"a","trigger":{"type":"date"},"action":{"type":"x","a":[1,{"b":null}]},"misfire_grace_time":1.000000001,"version":4}`,
		`{"id":"a","trigger":{"type":"interval","seconds":10},"action":{"type":"read"}}`,
		`{"id":"a","trigger":{"type":"cron","hour":6,"minute":"30"},"action":{"type":"read"}}`,
		`{"id":"w","trigger":{"type":"cron","hour":6,"minute":30},"conditions":[{"sensor":"soil","value":"moisture","below":40,"max_age":"10m"},{"output":"pump","state":"off"},{"time":"22:00-06:00","days":"mon-fri"},{"clock":"trusted"}],"action":{"type":"read"}}`,
		`{"id":"f","trigger":{"type":"reading","sensor":"air","above":30,"hysteresis":2,"cooldown":"15m"},"conditions":[{"sensor":"air","above":1e1,"below":2E2}],"action":{"type":"read"}}`,
		`{"conditions":null}`, `{"conditions":[{}]}`, `{"conditions":[{"sensor":"a","sensor":"b"}]}`, `{"conditions":{"sensor":"a"}}`,
		`{"max_instances":1e3}`, `[]`, `"x"`, `{"a":1,"a":2}`, `{"id":"\u00e9"}`,
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, m uint8) {
		mode := sched.DecodeMode(m % 3)
		p, err := sched.DecodeJob(data, mode)
		if err != nil {
			var e *sched.Error
			if !errors.As(err, &e) || e.Code != sched.CodeBadRequest {
				t.Fatalf("error %v is not a bad_request *sched.Error", err)
			}
			return
		}
		if mode == sched.ModeChanges {
			return // a partial document: nothing to round-trip as a job
		}
		// What Add would fill in for fields not given.
		want := p.Job
		if !p.Has(sched.FieldID) {
			want.ID = "generated"
		}
		if !p.Has(sched.FieldMaxInstances) {
			want.MaxInstances = 1
		}
		out, err := json.Marshal(want)
		if err != nil {
			t.Fatalf("marshal of a decoded job: %v", err)
		}
		q, err := sched.DecodeJob(out, sched.ModeImport)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", out, err)
		}
		if d := schedtest.JobDiff(want, q.Job); d != "" {
			t.Fatalf("round trip of %s via %s: %s", data, out, d)
		}
	})
}

// FuzzDecodeJobs: no input panics; an accepted array has no two ids alike
// and each of its documents decodes alone to the same job.
func FuzzDecodeJobs(f *testing.F) {
	for _, s := range []string{
		`[]`, `[` + fullDoc + `]`,
		`[{"id":"a","trigger":{"type":"date"},"action":{"type":"read"}},{"id":"a","trigger":{"type":"date"},"action":{"type":"read"}}]`,
		`[{"trigger":{"type":"interval","seconds":1},"action":{"type":"read"},"version":2}]`, `[1]`, `[`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := sched.DecodeJobs(data, sched.ModeImport)
		if err != nil {
			var e *sched.Error
			if !errors.As(err, &e) || e.Code != sched.CodeBadRequest {
				t.Fatalf("error %v is not a bad_request *sched.Error", err)
			}
			return
		}
		ids := map[string]bool{}
		for i, p := range ps {
			if p.Has(sched.FieldID) {
				if ids[p.Job.ID] {
					t.Fatalf("[%d]: id %q accepted twice", i, p.Job.ID)
				}
				ids[p.Job.ID] = true
			}
			out, err := json.Marshal(p.Job)
			if err != nil {
				t.Fatalf("[%d]: marshal: %v", i, err)
			}
			if _, err := sched.DecodeJob(out, sched.ModeImport); err != nil && p.Has(sched.FieldID) && p.Has(sched.FieldMaxInstances) {
				t.Fatalf("[%d]: %s does not decode alone: %v", i, out, err)
			}
		}
	})
}
