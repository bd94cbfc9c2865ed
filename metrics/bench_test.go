package metrics_test

import (
	"io"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/edgecron/edgecron/metrics"
	"github.com/edgecron/edgecron/sched"
)

// BenchmarkEvent is what the registry adds to each event of a job whose
// series exist: a map lookup and atomic adds (the lateness histogram takes
// its own lock), no allocation.
func BenchmarkEvent(b *testing.B) {
	for _, kind := range []sched.EventKind{sched.EventSubmitted, sched.EventError, sched.EventExecuted} {
		b.Run(string(kind), func(b *testing.B) {
			jobs := &listener{}
			m := metrics.New(metrics.Sources{Jobs: jobs})
			defer m.Close()
			now := time.Now()
			ev := sched.Event{Kind: kind, JobID: "pump-morning", Time: now, ScheduledTime: &now}
			jobs.l(ev)
			b.ReportAllocs()
			for b.Loop() {
				jobs.l(ev)
			}
		})
	}
}

// BenchmarkReading is what a reading costs the registry.
func BenchmarkReading(b *testing.B) {
	m := metrics.New(metrics.Sources{Jobs: &listener{}})
	defer m.Close()
	b.ReportAllocs()
	for b.Loop() {
		m.Observe("greenhouse", time.Time{}, nil)
	}
}

// BenchmarkScrape is one page of 1,000 jobs that each ran and failed once.
func BenchmarkScrape(b *testing.B) {
	jobs := &listener{}
	m := metrics.New(metrics.Sources{Jobs: jobs})
	defer m.Close()
	now := time.Now()
	for i := range 1000 {
		id := "job-" + strconv.Itoa(i)
		jobs.l(sched.Event{Kind: sched.EventSubmitted, JobID: id, Time: now, ScheduledTime: &now})
		jobs.l(sched.Event{Kind: sched.EventError, JobID: id, Time: now})
	}
	req := httptest.NewRequest("GET", "/metrics", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		m.ServeHTTP(w, req)
		b.SetBytes(int64(w.Body.Len()))
		io.Discard.Write(w.Body.Bytes())
	}
}
