package sched_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// BenchmarkNewTriggerNext: the next-time of the trigger types added after
// cron (solar has BenchmarkSolarNext), each asked for its first fire time
// after one of 1,024 instants spread over 2026, in Europe/Berlin.
func BenchmarkNewTriggerNext(b *testing.B) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	env := sched.Env{Location: berlin, Site: &sched.Site{Latitude: 52.52, Longitude: 13.405}}
	for _, bc := range []struct{ name, doc string }{
		{"calendarinterval-days", `{"type":"calendarinterval","days":3,"hour":6,"minute":30,"start_date":"2025-01-01"}`},
		{"calendarinterval-monthly-31st", `{"type":"calendarinterval","months":1,"hour":8,"start_date":"2016-01-31"}`},
		{"calendarinterval-months-and-days", `{"type":"calendarinterval","months":1,"days":1,"start_date":"2025-01-31"}`},
		{"or-two-crons", `{"type":"or","triggers":[{"type":"cron","day_of_week":"mon-fri","hour":6,"minute":30},{"type":"cron","day_of_week":"sat,sun","hour":9}]}`},
		{"and-cron-calendarinterval", `{"type":"and","triggers":[{"type":"cron","day_of_week":"mon-fri","hour":6,"minute":30},{"type":"calendarinterval","weeks":2,"hour":6,"minute":30,"start_date":"2026-01-05"}]}`},
		{"or-sunrise-sunset", `{"type":"or","triggers":[{"type":"solar","event":"sunrise"},{"type":"solar","event":"sunset"}]}`},
	} {
		var spec sched.TriggerSpec
		if err := json.Unmarshal([]byte(bc.doc), &spec); err != nil {
			b.Fatal(err)
		}
		tr, err := spec.CompileEnv(env)
		if err != nil {
			b.Fatal(err)
		}
		from := make([]time.Time, 1024)
		for i := range from {
			from[i] = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 8 * time.Hour * 1024 / 1000)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, ok := tr.Next(time.Time{}, from[i&1023]); !ok {
					b.Fatal("no next time")
				}
			}
		})
	}
}
