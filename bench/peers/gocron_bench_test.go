//go:build unix

package peers_test

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-co-op/gocron/v2"
)

// BenchmarkAdd adds one job to a started gocron scheduler that already
// holds n jobs, as sched's BenchmarkAdd does for edgecron and robfig.
func BenchmarkAdd(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("gocron/jobs=%d", n), func(b *testing.B) {
			s := newScheduler(b)
			for i := 0; i < n; i++ {
				if _, err := s.NewJob(gocron.DurationJob(time.Hour), gocron.NewTask(func() {})); err != nil {
					b.Fatal(err)
				}
			}
			s.Start()
			runtime.GC() // as sched's BenchmarkAdd: the fill's garbage is not the adds'
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.NewJob(gocron.DurationJob(time.Hour), gocron.NewTask(func() {})); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSameSecond fires 1,000 gocron jobs due in the same second, every
// 2 seconds ("*/2 * * * * *"); one op is one such second. Like robfig's in
// sched, a run's lateness is now minus the 2-second boundary. It reports
// the metrics sched's BenchmarkSameSecond reports.
func BenchmarkSameSecond(b *testing.B) {
	const n = 1000
	b.Run("gocron", func(b *testing.B) {
		l := newLateness(n)
		s := newScheduler(b)
		for k := 0; k < n; k++ {
			if _, err := s.NewJob(gocron.CronJob("*/2 * * * * *", true), gocron.NewTask(func() {
				now := time.Now()
				l.record(now.Sub(now.Truncate(2 * time.Second)))
			})); err != nil {
				b.Fatal(err)
			}
		}
		s.Start()
		runtime.GC()
		// The first second is a warm-up, as in sched's: not measured.
		<-l.done
		l.mu.Lock()
		l.seen, l.all, l.first, l.last = 0, nil, nil, nil
		l.mu.Unlock()
		b.ResetTimer()
		start := cpuTime()
		for i := 0; i < b.N; i++ {
			<-l.done
		}
		cpu := cpuTime() - start
		b.StopTimer()
		l.report(b, cpu)
	})
}

func newScheduler(b *testing.B) gocron.Scheduler {
	b.Helper()
	s, err := gocron.NewScheduler(gocron.WithLocation(time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown() })
	return s
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// lateness collects how late each run started, by round of n runs: every
// run's, and the first and the last of each round.
type lateness struct {
	mu                sync.Mutex
	n, seen           int
	all, first, last  []time.Duration
	curFirst, curLast time.Duration
	done              chan struct{}
}

func newLateness(n int) *lateness { return &lateness{n: n, done: make(chan struct{}, 1000)} }

func (l *lateness) record(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, d)
	if l.seen%l.n == 0 {
		l.curFirst = d
	}
	l.curFirst, l.curLast = min(l.curFirst, d), max(l.curLast, d)
	l.seen++
	if l.seen%l.n == 0 {
		l.first, l.last = append(l.first, l.curFirst), append(l.last, l.curLast)
		l.curLast = 0
		l.done <- struct{}{}
	}
}

func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[max(0, (len(s)*99+99)/100-1)]
}

func (l *lateness) report(b *testing.B, cpu time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(max(l.seen, 1)), "cpu-ns/fire")
	b.ReportMetric(float64(p99(l.all).Microseconds()), "p99-late-µs")
	b.ReportMetric(float64(p99(l.first).Microseconds()), "p99-first-late-µs")
	b.ReportMetric(float64(p99(l.last).Microseconds()), "p99-last-late-µs")
	b.ReportMetric(0, "ns/op")
}
