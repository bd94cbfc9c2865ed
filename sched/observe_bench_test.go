package sched_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// BenchmarkObservePerAutomation is the cost a reading adds for each
// automation that watches its sensor (docs/automations.md, target ≤ 1 µs
// and no allocation): n reading jobs on one sensor, readings that move
// inside their band without firing. ns/automation is the time of one
// Observe divided by n; at n=1 it includes Observe's own work.
func BenchmarkObservePerAutomation(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("automations=%d", n), func(b *testing.B) {
			s := sched.New(schedtest.NewMemStore(), sched.Options{Clock: schedtest.NewFakeClock(t0), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err := s.Handle("test", sched.HandlerFunc{}, sched.HandlerOptions{}); err != nil {
				b.Fatal(err)
			}
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			defer s.Shutdown(context.Background(), false)
			for i := range n {
				doc := fmt.Sprintf(`{"id":"a%d","trigger":{"type":"reading","sensor":"air","value":"temperature","above":%d,"hysteresis":2,"for":"1m"},"action":{"type":"test"}}`, i, 100+i)
				p, err := sched.DecodeJob([]byte(doc), sched.ModeAdd)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Add(context.Background(), p, sched.AddOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			vals := []sched.Sample{{Name: "temperature", Value: 20}, {Name: "humidity", Value: 50}, {Name: "pressure", Value: 1013}}
			s.Observe("air", t0, vals) // builds the index
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				vals[0].Value = 20 + float64(i%10)
				s.Observe("air", t0, vals)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/automation")
		})
	}
}
