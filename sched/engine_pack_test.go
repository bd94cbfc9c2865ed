package sched

import (
	"fmt"
	"math"
	"reflect"
	"testing"
)

func TestPackSpecRoundTrip(t *testing.T) {
	for _, s := range []TriggerSpec{
		{},
		{Type: "interval", Seconds: 10, StartDate: "2026-11-21T09:00:00Z"},
		{Type: "date", RunDate: "2026-12-24 18:00:00", Timezone: "Europe/Berlin"},
		{Type: "cron", Year: "2026", Month: "jan-mar", Day: "last fri", Week: "*/2", DayOfWeek: "mon-fri",
			Hour: "6", Minute: "30", Second: "0", StartDate: "a", EndDate: "b", Jitter: 2.5, Timezone: "UTC"},
		{Type: "cron", Expr: "30 6 * * 1-5"},
		{Type: "interval", Weeks: 1, Days: 2, Hours: 3, Minutes: 4, Seconds: 5.000001, Jitter: math.MaxFloat64},
		{Type: string(make([]byte, 300)), Timezone: "ü"},
		{Type: "reading", Sensor: "air", Value: "temperature", Above: "30", Below: "40", Hysteresis: "2", Change: "1",
			Edge: "both", Level: "high", For: "1m", Cooldown: "15m", Timezone: "UTC"},
		{Type: "reading", Sensor: "door", Edge: "rising"},
		{Type: "reading", Cooldown: "1s"},
		{Type: "Interval", Weeks: 1 << 53, Days: 1<<53 - 1, Hours: -2, Minutes: 1e300, Seconds: 0.5},
	} {
		if got := unpackSpec(packSpec(s)); got != s {
			t.Errorf("round trip of %+v gave %+v", s, got)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = unpackSpec(packSpec(TriggerSpec{Type: "cron", Hour: "6"})) }); n > 2 {
		t.Errorf("%v allocations to pack and unpack", n)
	}
}

func FuzzPackSpec(f *testing.F) {
	f.Add("interval", 10.0, "2026-11-21T09:00:00Z", "*/5", 0.5)
	f.Fuzz(func(t *testing.T, typ string, secs float64, start, minute string, jitter float64) {
		s := TriggerSpec{Type: typ, Seconds: secs, StartDate: start, Minute: CronField(minute), Jitter: jitter}
		got := unpackSpec(packSpec(s))
		same := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
		if got.Type != s.Type || got.StartDate != s.StartDate || got.Minute != s.Minute ||
			!same(got.Seconds, s.Seconds) || !same(got.Jitter, s.Jitter) {
			t.Fatalf("round trip of %+v gave %+v", s, got)
		}
	})
}

// TestPackSpecEveryField sets every field of a TriggerSpec, found by
// reflection, so a field added to TriggerSpec and forgotten in packSpec
// fails here rather than vanish from a running scheduler's jobs.
func TestPackSpecEveryField(t *testing.T) {
	var s TriggerSpec
	v := reflect.ValueOf(&s).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(fmt.Sprintf("v%d", i))
		case reflect.Float64:
			f.SetFloat(float64(i) + 0.5)
		default:
			if f.Type() != reflect.TypeOf(Members{}) {
				t.Fatalf("field %s of kind %s: teach this test and packSpec about it", v.Type().Field(i).Name, f.Kind())
			}
			f.Set(reflect.ValueOf(NewMembers(TriggerSpec{Type: "cron", Hour: "6"}, TriggerSpec{Type: "date", RunDate: "x"})))
		}
	}
	if got := unpackSpec(packSpec(s)); got != s {
		for i := 0; i < v.NumField(); i++ {
			if g := reflect.ValueOf(got).Field(i).Interface(); g != v.Field(i).Interface() {
				t.Errorf("field %s: %v after the round trip, want %v", v.Type().Field(i).Name, g, v.Field(i).Interface())
			}
		}
	}
}

// BenchmarkPackSpec packs and unpacks the specs of a cron and an interval
// job, as a scheduler does for every job it loads or changes and for
// every job document it writes.
func BenchmarkPackSpec(b *testing.B) {
	specs := []TriggerSpec{
		{Type: "cron", DayOfWeek: "mon-fri", Hour: "6", Minute: "30", Timezone: "Europe/Berlin"},
		{Type: "interval", Minutes: 5, StartDate: "2026-11-21T09:00:00Z", Jitter: 2.5},
	}
	for b.Loop() {
		for _, s := range specs {
			if unpackSpec(packSpec(s)) != s {
				b.Fatal("round trip")
			}
		}
	}
}
