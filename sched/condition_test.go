package sched

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

type fakeInputs map[string]bool

func (f fakeInputs) CheckSensor(sensor, value string) error {
	if sensor != "soil" && sensor != "air" {
		return FieldError("", "no sensor %q", sensor)
	}
	return nil
}

func (f fakeInputs) Output(name string) (on, ok bool) { on, ok = f[name]; return on, ok }

func TestConditionCheck(t *testing.T) {
	// Wed 2026-11-25 14:00 UTC; elapsed 1h.
	now := time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)
	el := time.Hour
	last := map[string]*lastReading{
		"soil":   {el: el - 5*time.Minute, values: []Sample{{"moisture", 35}, {"temperature", 12}}},
		"old":    {el: el - 20*time.Minute, values: []Sample{{"t", 1}}},
		"broken": {el: el, failed: true, values: []Sample{{"t", 1}}},
	}
	env := condEnv{now: now, el: el, last: last, inputs: fakeInputs{"pump": false, "fan": true}}
	tests := []struct {
		c    Condition
		fail string // "" holds; else a part of the reason
		env  *condEnv
	}{
		{c: Condition{Sensor: "soil", Below: "40"}},
		{c: Condition{Sensor: "soil", Value: "moisture", Above: "30", Below: "40"}},
		{c: Condition{Sensor: "soil", Value: "moisture", Below: "35"}, fail: "soil is 35"},
		{c: Condition{Sensor: "soil", Value: "temperature", Above: "12"}, fail: "soil is 12"},
		{c: Condition{Sensor: "soil", Value: "ph", Above: "1"}, fail: "no value ph"},
		{c: Condition{Sensor: "soil", Below: "40", MaxAge: "4m"}, fail: "5m0s old (max_age 4m0s)"},
		{c: Condition{Sensor: "old", Above: "0"}, fail: "20m0s old (max_age 15m0s)"},
		{c: Condition{Sensor: "old", Above: "0", MaxAge: "30m"}},
		{c: Condition{Sensor: "broken", Above: "0"}, fail: "last read of broken failed"},
		{c: Condition{Sensor: "none", Above: "0"}, fail: "no reading of none yet"},
		{c: Condition{Output: "pump", State: "off"}},
		{c: Condition{Output: "pump", State: "on"}, fail: "pump is off"},
		{c: Condition{Output: "fan", State: "on"}},
		{c: Condition{Output: "gone", State: "on"}, fail: "no output gone"},
		{c: Condition{Time: "08:00-18:00"}},
		{c: Condition{Time: "08:00-18:00", Days: "mon-fri"}},
		{c: Condition{Days: "sat,sun"}, fail: "it is Wed 14:00"},
		{c: Condition{Time: "14:01-18:00"}, fail: "it is Wed 14:00"},
		{c: Condition{Time: "08:00-14:00"}, fail: "it is Wed 14:00"},
		{c: Condition{Time: "22:00-06:00"}, fail: "it is"},
		{c: Condition{Time: "22:00-24:00"}, fail: "it is"},
		{c: Condition{Clock: "trusted"}},
		{c: Condition{Clock: "trusted"}, fail: "not trusted", env: &condEnv{untrusted: true}},
		{c: Condition{Time: "08:00-18:00"}, fail: "not trusted", env: &condEnv{now: now, untrusted: true}},
	}
	for _, tt := range tests {
		ks, err := compileConditions([]Condition{tt.c})
		if err != nil {
			t.Fatalf("%v: %v", tt.c, err)
		}
		e := &env
		if tt.env != nil {
			e = tt.env
		}
		got := ks[0].check(e)
		if (got == "") != (tt.fail == "") || !strings.Contains(got, tt.fail) {
			t.Errorf("%v: got %q, want %q", tt.c, got, tt.fail)
		}
	}
}

func TestConditionWindowAcrossMidnight(t *testing.T) {
	ks, err := compileConditions([]Condition{{Time: "22:00-06:00", Days: "fri"}})
	if err != nil {
		t.Fatal(err)
	}
	k := &ks[0]
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC), true},  // Fri night
		{time.Date(2026, 11, 28, 5, 59, 0, 0, time.UTC), true},  // Sat morning: Friday's window
		{time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC), false},  // its end
		{time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC), false}, // Sat night
		{time.Date(2026, 11, 27, 5, 0, 0, 0, time.UTC), false},  // Fri morning: Thursday's window
		{time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC), true},  // its start
	} {
		if got := k.inWindow(tt.at); got != tt.want {
			t.Errorf("%s: in window %v, want %v", tt.at.Format("Mon 15:04"), got, tt.want)
		}
	}
}

func TestConditionRefused(t *testing.T) {
	for _, tt := range []struct {
		doc   string
		field string
	}{
		{`{}`, "conditions[0]"},
		{`{"sensor":"a","output":"b","state":"on"}`, "conditions[0]"},
		{`{"sensor":"a"}`, "conditions[0]"},
		{`{"sensor":"a","above":3,"below":2}`, "conditions[0].below"},
		{`{"sensor":"a","above":1,"max_age":"0s"}`, "conditions[0].max_age"},
		{`{"sensor":"a","above":1,"state":"on"}`, "conditions[0].state"},
		{`{"output":"a","state":"half"}`, "conditions[0].state"},
		{`{"output":"a"}`, "conditions[0].state"},
		{`{"time":"8-18"}`, "conditions[0].time"},
		{`{"time":"08:00-08:00"}`, "conditions[0].time"},
		{`{"time":"08:00-25:00"}`, "conditions[0].time"},
		{`{"days":"someday"}`, "conditions[0].days"},
		{`{"clock":"synced"}`, "conditions[0].clock"},
		{`{"clock":"trusted","days":"mon"}`, "conditions[0]"},
	} {
		var c Condition
		if err := json.Unmarshal([]byte(tt.doc), &c); err != nil {
			t.Fatalf("%s: %v", tt.doc, err)
		}
		_, err := compileConditions([]Condition{c})
		e, ok := err.(*Error)
		if !ok || e.Field != tt.field {
			t.Errorf("%s: %v, want an error on %s", tt.doc, err, tt.field)
		}
	}
	for _, doc := range []string{`{"sensor":1}`, `{"above":"1"}`, `{"color":"red"}`, `{"sensor":""}`, `[]`, `{"a":1,"a":1}`} {
		var c Condition
		if err := json.Unmarshal([]byte(doc), &c); err == nil {
			t.Errorf("%s decoded", doc)
		}
	}
}

// FuzzCondition: no input panics; a condition that decodes encodes to a
// document that decodes to the same condition, and compiles the same way.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		`{"sensor":"soil","value":"moisture","below":40,"max_age":"10m"}`, `{"sensor":"air","above":-1e1,"below":2E2}`,
		`{"output":"pump","state":"off"}`, `{"time":"22:00-06:00","days":"mon-fri"}`, `{"days":"sat,sun"}`,
		`{"clock":"trusted"}`, `{"time":"24:00-01:00"}`, `{}`, `{"sensor":null}`, `{"above":1,"above":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Condition
		if err := json.Unmarshal(data, &c); err != nil {
			return
		}
		_, cerr := compileConditions([]Condition{c})
		if cerr != nil {
			if e, ok := cerr.(*Error); !ok || e.Code != CodeBadRequest {
				t.Fatalf("%s: error %v is not a bad_request *Error", data, cerr)
			}
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("%+v does not encode: %v", c, err)
		}
		var back Condition
		if err := json.Unmarshal(b, &back); err != nil || back != c {
			t.Fatalf("%s: round trip via %s gave %+v, %v", data, b, back, err)
		}
		if _, err := compileConditions([]Condition{back}); (err == nil) != (cerr == nil) {
			t.Fatalf("%s: compiles %v, its round trip %v", data, cerr, err)
		}
	})
}
