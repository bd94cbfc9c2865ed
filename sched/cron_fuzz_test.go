package sched_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

var fuzzFrom = time.Date(2026, 3, 28, 22, 17, 3, 0, time.UTC)

// checkSchedule compiles spec and checks what must hold for any schedule:
// fire times strictly increase, are whole seconds, and a JSON round trip of
// the spec compiles to the same schedule.
func checkSchedule(t *testing.T, spec sched.TriggerSpec) {
	t.Helper()
	loc := mustLoc(t, "Europe/Berlin")
	got, err := sched.Preview(spec, sched.Env{Location: loc}, fuzzFrom, 6)
	if err != nil {
		if sched.ErrorCode(err) != sched.CodeBadRequest {
			t.Fatalf("%+v: error %v is not bad_request", spec, err)
		}
		return
	}
	for i, g := range got {
		if g.Nanosecond() != 0 && spec.Type == "cron" {
			t.Fatalf("%+v: fire time %s is not a whole second", spec, g)
		}
		if i > 0 && !g.After(got[i-1]) {
			t.Fatalf("%+v: fire times do not increase: %v", spec, got)
		}
	}
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatalf("%+v: marshal: %v", spec, err)
	}
	var back sched.TriggerSpec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%+v: %s does not decode: %v", spec, b, err)
	}
	again, err := sched.Preview(back, sched.Env{Location: loc}, fuzzFrom, 6)
	if err != nil || !reflect.DeepEqual(formatAll(again), formatAll(got)) {
		t.Fatalf("%+v: round trip via %s changed the schedule: %v, %v vs %v", spec, b, err, again, got)
	}
}

func FuzzCronField(f *testing.F) {
	for _, seed := range []struct {
		field uint8
		expr  string
	}{
		{0, "2026-2030/2"}, {1, "jan-dec/3"}, {1, "feb/5"}, {2, "last"}, {2, "last fri"}, {2, "1st mon,15,last"},
		{2, "*/10"}, {2, "25/3"}, {3, "*/2"}, {4, "mon-fri/2"}, {4, "SAT, sun"}, {5, "9-17/4"}, {6, "*/15"},
		{7, "0,30"}, {5, "25"}, {6, "*/0"}, {2, "6th fri"}, {4, "sun-mon"}, {7, "1,,2"}, {2, "5th  Wed"},
	} {
		f.Add(seed.field, seed.expr)
	}
	f.Fuzz(func(t *testing.T, field uint8, expr string) {
		spec := sched.TriggerSpec{Type: "cron"}
		fields := []*sched.CronField{&spec.Year, &spec.Month, &spec.Day, &spec.Week, &spec.DayOfWeek, &spec.Hour, &spec.Minute, &spec.Second}
		*fields[int(field)%len(fields)] = sched.CronField(expr)
		if expr == "" {
			return
		}
		checkSchedule(t, spec)
	})
}

func FuzzCrontab(f *testing.F) {
	for _, seed := range []string{
		"30 6 * * 1-5", "0 0 13 * 5", "0 0 * * 7", "0 0 * * fri-sun", "*/20 9-10 * * *", "0 0 29 2 *",
		"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@reboot", "* * * *", "60 * * * *", "0 0 1 JAN-MAR/2 *",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		if expr == "" {
			return
		}
		checkSchedule(t, sched.TriggerSpec{Type: "cron", Expr: expr})
	})
}

func FuzzTriggerJSON(f *testing.F) {
	for _, seed := range []string{
		`{"type":"date","run_date":"2026-11-23 06:30:00","timezone":"Europe/Berlin"}`,
		`{"type":"interval","weeks":0,"days":0,"hours":1,"minutes":0,"seconds":0,"start_date":"2026-01-01","end_date":null,"jitter":5}`,
		`{"type":"cron","day_of_week":"mon-fri","hour":6,"minute":"30","timezone":"Europe/Berlin"}`,
		`{"type":"cron","expr":"30 6 * * 1-5","timezone":"America/New_York"}`,
		`{"type":"cron","day":"last fri","start_date":"2026-01-01T00:00:00Z","end_date":"2027-01-01"}`,
		`{"type":"cron","hours":1}`, `{"type":"interval","seconds":-1}`, `{}`, `[]`, `{"type":"cron","hour":1,"hour":2}`,
		`{"type":"calendarinterval","years":1,"months":2,"weeks":1,"days":3,"hour":6,"minute":30,"second":5,"start_date":"2026-01-31","end_date":"2030-01-01","jitter":2}`,
		`{"type":"calendarinterval","months":1,"start_date":"2016-03-31","timezone":"Europe/Berlin"}`,
		`{"type":"and","triggers":[{"type":"cron","day_of_week":"mon-fri","hour":6},{"type":"calendarinterval","weeks":2,"hour":6,"start_date":"2026-06-08"}],"jitter":5}`,
		`{"type":"or","timezone":"UTC","triggers":[{"type":"date","run_date":"2026-04-01"},{"type":"or","triggers":[{"type":"cron","hour":7},{"type":"interval","hours":5,"start_date":"2026-01-01"}]}]}`,
		`{"type":"and","triggers":[{"type":"cron","hour":6},{"type":"cron","hour":7}]}`,
		`{"type":"solar","event":"sunset","offset":"-30m","day_of_week":"mon-fri","latitude":52.52,"longitude":13.405,"jitter":30,"start_date":"2026-04-01"}`,
		`{"type":"solar","event":"dusk","twilight":"nautical","latitude":-69.6,"longitude":-1e2,"timezone":"UTC"}`,
		`{"type":"or","triggers":[{"type":"solar","event":"noon","latitude":0,"longitude":0},{"type":"cron","hour":6}]}`,
		`{"type":"boot","delay":"90s","last_boot_id":"5d2c","timezone":"UTC"}`, `{"type":"boot","delay":"-1s"}`,
		`{"type":"reading","sensor":"air","value":"temperature","above":30,"hysteresis":2,"for":"1m","cooldown":"15m"}`,
		`{"type":"reading","sensor":"air","above":10,"below":-2e1}`, `{"type":"reading","sensor":"soil","change":0.5}`,
		`{"type":"reading","sensor":"door","edge":"both","cooldown":"2s"}`, `{"type":"reading","sensor":"door","level":"low","for":"1h"}`,
		`{"type":"reading","sensor":"air","above":"30"}`, `{"type":"reading","sensor":"air","above":30,"jitter":1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var spec sched.TriggerSpec
		if err := json.Unmarshal(data, &spec); err != nil {
			return
		}
		b, err := json.Marshal(spec)
		if err != nil {
			t.Fatalf("%s decoded to %+v, which does not encode: %v", data, spec, err)
		}
		var back sched.TriggerSpec
		if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, spec) {
			t.Fatalf("%s: round trip via %s gave %+v, %v; want %+v", data, b, back, err, spec)
		}
		checkSchedule(t, spec)
	})
}
