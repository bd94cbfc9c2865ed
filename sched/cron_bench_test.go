package sched_test

import (
	"math/rand"
	"testing"
	"time"

	"github.com/hashicorp/cronexpr"
	"github.com/robfig/cron/v3"

	"github.com/edgecron/edgecron/sched"
)

// Cron next-time against the peers, in the same run: each benchmark asks
// for the first fire time after one of 1,024 instants spread over 2026 (so
// no implementation profits from asking about one instant over and over).
//
//	go test -run '^$' -bench 'CronNext' -benchmem -count 6 ./sched
//
// docs/triggers.md ("Performance") has the figures and the script that
// takes the medians.

type benchExpr struct {
	name     string
	spec     sched.TriggerSpec // edgecron
	robfig   string            // "" when robfig cannot express it
	cronexpr string            // hashicorp/cronexpr, 7 fields (sec min hour dom month dow year)
}

var benchExprs = []benchExpr{
	{"every-minute", sched.TriggerSpec{Type: "cron", Expr: "* * * * *"}, "* * * * *", "0 * * * * * *"},
	{"every-15min", sched.TriggerSpec{Type: "cron", Minute: "*/15"}, "*/15 * * * *", "0 */15 * * * * *"},
	{"weekdays-0630", sched.TriggerSpec{Type: "cron", DayOfWeek: "mon-fri", Hour: "6", Minute: "30"}, "30 6 * * 1-5", "0 30 6 * * 1-5 *"},
	{"office-hours", sched.TriggerSpec{Type: "cron", Expr: "0 9-17 * * 1-5"}, "0 9-17 * * 1-5", "0 0 9-17 * * 1-5 *"},
	{"monthly", sched.TriggerSpec{Type: "cron", Expr: "0 0 1 * *"}, "0 0 1 * *", "0 0 0 1 * * *"},
	{"yearly", sched.TriggerSpec{Type: "cron", Expr: "@yearly"}, "@yearly", "0 0 0 1 1 * *"},
	{"leap-day", sched.TriggerSpec{Type: "cron", Month: "2", Day: "29"}, "0 0 29 2 *", "0 0 0 29 2 * *"},
	{"last-day", sched.TriggerSpec{Type: "cron", Day: "last", Hour: "23", Minute: "55"}, "", "0 55 23 L * * *"},
	{"last-friday", sched.TriggerSpec{Type: "cron", Day: "last fri", Hour: "18"}, "", "0 0 18 * * 5L *"},
}

func benchStarts(loc *time.Location) []time.Time {
	rng := rand.New(rand.NewSource(42))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	out := make([]time.Time, 1024)
	for i := range out {
		out[i] = base.Add(time.Duration(rng.Int63n(int64(365 * 24 * time.Hour)))).Truncate(time.Second).In(loc)
	}
	return out
}

var benchSink time.Time

func BenchmarkCronNext(b *testing.B) {
	for _, zone := range []string{"UTC", "Europe/Berlin"} {
		loc := mustLoc(b, zone)
		starts := benchStarts(loc)
		for _, e := range benchExprs {
			prefix := e.name + "/" + map[string]string{"UTC": "UTC", "Europe/Berlin": "Berlin"}[zone]
			b.Run(prefix+"/edgecron", func(b *testing.B) {
				tr, err := e.spec.Compile(loc)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					t := starts[i&1023]
					benchSink, _ = tr.Next(t, t)
				}
			})
			if e.robfig != "" {
				b.Run(prefix+"/robfig", func(b *testing.B) {
					s, err := cron.ParseStandard("CRON_TZ=" + zone + " " + e.robfig)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						benchSink = s.Next(starts[i&1023])
					}
				})
			}
			b.Run(prefix+"/cronexpr", func(b *testing.B) {
				x, err := cronexpr.Parse(e.cronexpr)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					benchSink = x.Next(starts[i&1023])
				}
			})
		}
	}
}

// TestBenchPeersAgree checks that the peers are asked the same question: on
// the benchmark's instants, outside DST changes, all give the same answer.
func TestBenchPeersAgree(t *testing.T) {
	for _, zone := range []string{"UTC", "Europe/Berlin"} {
		loc := mustLoc(t, zone)
		for _, e := range benchExprs {
			tr, err := e.spec.Compile(loc)
			if err != nil {
				t.Fatal(err)
			}
			x := cronexpr.MustParse(e.cronexpr)
			var r cron.Schedule
			if e.robfig != "" {
				if r, err = cron.ParseStandard("CRON_TZ=" + zone + " " + e.robfig); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range benchStarts(loc)[:200] {
				want, _ := tr.Next(s, s)
				if got := x.Next(s); !got.Equal(want) && !nearDST(loc, s, want) {
					t.Errorf("%s %s from %s: cronexpr %s, edgecron %s", zone, e.name, s, got, want)
				}
				if r != nil {
					if got := r.Next(s); !got.Equal(want) && !nearDST(loc, s, want) {
						t.Errorf("%s %s from %s: robfig %s, edgecron %s", zone, e.name, s, got, want)
					}
				}
			}
		}
	}
}

// nearDST reports whether an offset change lies between a and b.
func nearDST(loc *time.Location, a, b time.Time) bool {
	_, oa := a.In(loc).Zone()
	_, ob := b.In(loc).Zone()
	return oa != ob
}
