//go:build unix

package sched_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// crowdJobs is how many jobs are due in the same second.
const crowdJobs = 1000

// BenchmarkSameSecond fires 1,000 jobs due in the same second, every 2
// seconds; one op is one such second (use -benchtime Nx). Its
// sub-benchmarks:
//
//   - floor: a bare time.Timer aimed at each 2-second boundary, what any Go
//     scheduler's first run can do at best on this machine now;
//   - edgecron: 1,000 interval jobs of 2 s on a common grid, 10 workers (the
//     agent's default), nobody listening to events;
//   - edgecron+listener: the same with a listener that takes every event,
//     as the agent always has one (MQTT, metrics);
//   - robfig: 1,000 robfig/cron v3 entries "*/2 * * * * *".
//
// go-co-op/gocron v2's is in bench/peers, a module of its own, under the
// same name (peers:SameSecond/gocron in scripts/bench.sh, which runs them
// all in interleaved rounds and prints the median ratios and their spread).
//
// Each run records how late it started: edgecron now − the run's scheduled
// time, robfig and gocron now − the 2-second boundary. The first second is
// a warm-up, not measured: on a loaded VM it cost edgecron 10–20× the CPU
// of a later one (most likely page faults on the memory a first burst
// touches). Metrics: the process's CPU
// time (getrusage) per firing over the measured seconds;
// p99-late-µs, the p99 of every run's lateness; p99-first-late-µs and
// p99-last-late-µs, the p99 over seconds of the first and of the last of
// the 1,000 runs to start; and edgecron's p99-first-after-wake-µs and
// p99-last-after-wake-µs, the same runs timed from the moment its
// scheduler's timer woke a goroutine (firedClock): its lateness less the
// timer's own, which is the floor of that very second. The floor reports
// p99-first-late-µs only.
func BenchmarkSameSecond(b *testing.B) {
	b.Run("floor", func(b *testing.B) {
		l := newLateness(1)
		for range b.N {
			due := time.Now().Truncate(2 * time.Second).Add(2 * time.Second)
			t := time.NewTimer(time.Until(due))
			<-t.C
			l.record(time.Since(due))
		}
		b.ReportMetric(float64(percentile(l.first, 99).Microseconds()), "p99-first-late-µs")
		b.ReportMetric(0, "ns/op")
	})
	for _, listen := range []bool{false, true} {
		name := "edgecron"
		if listen {
			name += "+listener"
		}
		b.Run(name, func(b *testing.B) {
			l := newLateness(crowdJobs)
			clock := &firedClock{Clock: sched.NewSystemClock()}
			run := func(_ context.Context, r sched.Run) (sched.Result, error) {
				l.recordWoken(time.Since(r.ScheduledTime), time.Since(clock.fired()))
				return nil, nil
			}
			s := sched.New(nopStore{}, sched.Options{Clock: clock, Location: time.UTC, Logger: quiet, Workers: benchWorkers})
			if err := s.Handle("read", sched.HandlerFunc{RunFunc: run}, sched.HandlerOptions{}); err != nil {
				b.Fatal(err)
			}
			if err := s.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Shutdown(context.Background(), false) })
			if listen {
				s.Listen(func(sched.Event) {})
			}
			// Every 2 seconds on even seconds, no misfire limit: a run is
			// late, never dropped. The grid starts after the jobs are all
			// in, so every second is whole.
			first := time.Now().Add(time.Second).Truncate(2 * time.Second).Add(2 * time.Second).UTC().Format(time.RFC3339)
			p := decoded(b, `{"trigger":{"type":"interval","seconds":2,"start_date":"`+first+`"},"action":{"type":"read"},"misfire_grace_time":null}`)
			fill(b, s, p, crowdJobs, "j")
			l.measure(b)
		})
	}
	b.Run("robfig", func(b *testing.B) {
		l := newLateness(crowdJobs)
		c := cron.New(cron.WithSeconds())
		for range crowdJobs {
			if _, err := c.AddFunc("*/2 * * * * *", func() {
				now := time.Now()
				l.record(now.Sub(now.Truncate(2 * time.Second)))
			}); err != nil {
				b.Fatal(err)
			}
		}
		c.Start()
		defer c.Stop()
		l.measure(b)
	})
}

// lateness collects how late each run started, by second of n runs: every
// run's, and the first and the last of each second; for edgecron, also how
// long after its scheduler's timer fired the first run of each second
// started (woken).
type lateness struct {
	mu                                        sync.Mutex
	n, seen                                   int
	all, first, last, woken, lastWoken        []time.Duration
	curFirst, curLast, curWoken, curLastWoken time.Duration
	done                                      chan struct{}
}

func newLateness(n int) *lateness { return &lateness{n: n, done: make(chan struct{}, 1000)} }

func (l *lateness) record(d time.Duration) { l.recordWoken(d, -1) }

// recordWoken records a run that started d late, w after the timer that
// woke its scheduler fired (w < 0: not known).
func (l *lateness) recordWoken(d, w time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, d)
	if l.seen%l.n == 0 || d < l.curFirst {
		l.curFirst, l.curWoken = d, w
	}
	if l.seen%l.n == 0 || d > l.curLast {
		l.curLast, l.curLastWoken = d, w
	}
	l.seen++
	if l.seen%l.n == 0 {
		l.first, l.last = append(l.first, l.curFirst), append(l.last, l.curLast)
		if l.curWoken >= 0 {
			l.woken, l.lastWoken = append(l.woken, l.curWoken), append(l.lastWoken, l.curLastWoken)
		}
		l.done <- struct{}{}
	}
}

// firedClock is the system clock whose timers note when they woke a
// goroutine: each timer's channel is read by a forwarding goroutine, which
// notes the time it woke (as a bare timer's goroutine would: the floor of
// that very second) and passes the tick on to the scheduler, which thus
// wakes one goroutine hop later than it would on the system clock. The
// first run's start minus that time is the engine's share of its
// lateness, the hop included: overstated, never understated.
type firedClock struct {
	sched.Clock
	last atomic.Int64 // unix nanoseconds of the last fire
}

func (c *firedClock) fired() time.Time { return time.Unix(0, c.last.Load()) }

func (c *firedClock) NewTimer(d time.Duration) sched.Timer {
	t := &firedTimer{Timer: c.Clock.NewTimer(d), c: make(chan time.Time, 1)}
	go func() {
		for v := range t.Timer.C() { // runs as long as the benchmark
			c.last.Store(time.Now().UnixNano())
			t.c <- v
		}
	}()
	return t
}

type firedTimer struct {
	sched.Timer
	c chan time.Time
}

func (t *firedTimer) C() <-chan time.Time { return t.c }

// measure waits for a warm-up second and b.N measured seconds of runs,
// and reports the measured ones.
func (l *lateness) measure(b *testing.B) {
	runtime.GC() // the set-up's garbage is not the firings' cost
	l.next(b)
	l.mu.Lock()
	l.seen, l.all, l.first, l.last, l.woken, l.lastWoken = 0, nil, nil, nil, nil, nil
	l.mu.Unlock()
	b.ResetTimer()
	start := cpuTime()
	for range b.N {
		l.next(b)
	}
	cpu := cpuTime() - start
	b.StopTimer()
	l.mu.Lock()
	defer l.mu.Unlock()
	b.ReportMetric(float64(cpu)/float64(max(l.seen, 1)), "cpu-ns/fire")
	b.ReportMetric(float64(percentile(l.all, 99).Microseconds()), "p99-late-µs")
	b.ReportMetric(float64(percentile(l.first, 99).Microseconds()), "p99-first-late-µs")
	b.ReportMetric(float64(percentile(l.last, 99).Microseconds()), "p99-last-late-µs")
	if len(l.woken) > 0 {
		b.ReportMetric(float64(percentile(l.woken, 99).Microseconds()), "p99-first-after-wake-µs")
		b.ReportMetric(float64(percentile(l.lastWoken, 99).Microseconds()), "p99-last-after-wake-µs")
	}
	b.ReportMetric(0, "ns/op")
}

// next waits for the next second whose runs all started.
func (l *lateness) next(b *testing.B) {
	select {
	case <-l.done:
	case <-time.After(10 * time.Second):
		b.Fatalf("a second's %d runs did not all start", l.n)
	}
}

// percentile returns the p-th percentile of ds (nearest rank).
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[max(0, (len(s)*p+99)/100-1)]
}

// cpuTime returns the CPU time (user and system) the process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCrowdedPass fires 1,000 jobs due at the same instant on a fake
// clock, one op being one such pass up to the last run's start, without
// and with a listener: no timers and no peers, so that a CPU profile shows
// the firing path alone (-cpuprofile). It reports the process's CPU time
// and the wall time per firing; neither is a target (BenchmarkCrowdedSecond
// has the targets).
func BenchmarkCrowdedPass(b *testing.B) {
	for _, listen := range []bool{false, true} {
		b.Run(fmt.Sprintf("listener=%v", listen), func(b *testing.B) { crowdedPass(b, listen) })
	}
}

func crowdedPass(b *testing.B, listen bool) {
	clock := schedtest.NewFakeClock(t0)
	var wg sync.WaitGroup
	s := sched.New(nopStore{}, sched.Options{Clock: clock, Location: time.UTC, Logger: quiet, CheckpointInterval: time.Hour, MaxWait: time.Hour})
	run := func(context.Context, sched.Run) (sched.Result, error) { wg.Done(); return nil, nil }
	if err := s.Handle("read", sched.HandlerFunc{RunFunc: run}, sched.HandlerOptions{}); err != nil {
		b.Fatal(err)
	}
	if listen {
		s.Listen(func(sched.Event) {})
	}
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown(context.Background(), true) })
	clock.BlockUntil(1)
	// max_instances 10: a run that called wg.Done may not have finished
	// when the next pass fires its job, and must not make it skip.
	p := decoded(b, `{"trigger":{"type":"interval","seconds":1},"action":{"type":"read"},"misfire_grace_time":null,"max_instances":10}`)
	fill(b, s, p, crowdJobs, "j")
	clock.WaitForTimer(time.Second)
	runtime.GC()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		wg.Add(crowdJobs)
		clock.Advance(time.Second)
		wg.Wait()
		clock.WaitForTimer(time.Second)
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N*crowdJobs), "cpu-ns/fire")
	b.ReportMetric(float64(b.Elapsed())/float64(b.N*crowdJobs), "ns/fire")
	b.ReportMetric(0, "ns/op")
}
