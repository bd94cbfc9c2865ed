package schedtest_test

import (
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

var _ sched.Clock = (*schedtest.FakeClock)(nil)

var start = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

func received(t *testing.T, tm sched.Timer) (time.Time, bool) {
	t.Helper()
	select {
	case v := <-tm.C():
		return v, true
	default:
		return time.Time{}, false
	}
}

func TestFakeClockAdvanceFiresInOrder(t *testing.T) {
	c := schedtest.NewFakeClock(start)
	t3 := c.NewTimer(3 * time.Second)
	t1 := c.NewTimer(1 * time.Second)
	t2 := c.NewTimer(2 * time.Second)
	if got := c.Armed(); got != 3 {
		t.Fatalf("Armed = %d, want 3", got)
	}
	c.Advance(1500 * time.Millisecond)
	if v, ok := received(t, t1); !ok || !v.Equal(start.Add(time.Second)) {
		t.Fatalf("t1 fired %v %v, want at +1s", v, ok)
	}
	if _, ok := received(t, t2); ok {
		t.Fatal("t2 fired early")
	}
	if got, want := c.Now(), start.Add(1500*time.Millisecond); !got.Equal(want) {
		t.Fatalf("Now = %v, want %v", got, want)
	}
	c.Advance(10 * time.Second)
	if v, ok := received(t, t2); !ok || !v.Equal(start.Add(2*time.Second)) {
		t.Fatalf("t2 fired %v %v, want at +2s", v, ok)
	}
	if v, ok := received(t, t3); !ok || !v.Equal(start.Add(3*time.Second)) {
		t.Fatalf("t3 fired %v %v, want at +3s", v, ok)
	}
	if got := c.Elapsed(); got != 11500*time.Millisecond {
		t.Fatalf("Elapsed = %v", got)
	}
	if got := c.Armed(); got != 0 {
		t.Fatalf("Armed = %d after all fired", got)
	}
}

func TestFakeClockStepWall(t *testing.T) {
	c := schedtest.NewFakeClock(start)
	tm := c.NewTimer(time.Minute)
	c.StepWall(-time.Hour)
	if got := c.Now(); !got.Equal(start.Add(-time.Hour)) {
		t.Fatalf("Now = %v after a step back", got)
	}
	if c.Elapsed() != 0 {
		t.Fatalf("Elapsed moved with a wall step: %v", c.Elapsed())
	}
	if _, ok := received(t, tm); ok {
		t.Fatal("a wall step fired a timer")
	}
	c.StepWall(2 * time.Hour) // forward steps do not fire timers either
	if _, ok := received(t, tm); ok {
		t.Fatal("a wall step fired a timer")
	}
	c.Advance(time.Minute)
	if v, ok := received(t, tm); !ok || !v.Equal(start.Add(time.Hour+time.Minute)) {
		t.Fatalf("timer fired %v %v, want wall time at its deadline", v, ok)
	}
}

func TestFakeClockStopReset(t *testing.T) {
	c := schedtest.NewFakeClock(start)
	tm := c.NewTimer(time.Second)
	if !tm.Stop() {
		t.Fatal("Stop of an armed timer returned false")
	}
	if tm.Stop() {
		t.Fatal("second Stop returned true")
	}
	c.Advance(time.Hour)
	if _, ok := received(t, tm); ok {
		t.Fatal("stopped timer fired")
	}
	if tm.Reset(time.Second) {
		t.Fatal("Reset of a stopped timer returned true")
	}
	c.Advance(time.Second)
	// Fired but not received: Reset drops the stale value.
	tm.Reset(time.Second)
	if _, ok := received(t, tm); ok {
		t.Fatal("stale fire survived Reset")
	}
	c.Advance(time.Second)
	if _, ok := received(t, tm); !ok {
		t.Fatal("reset timer did not fire")
	}
	// A zero or negative duration fires at once.
	z := c.NewTimer(0)
	if _, ok := received(t, z); !ok {
		t.Fatal("zero timer did not fire at once")
	}
}

func TestFakeClockBlockUntil(t *testing.T) {
	c := schedtest.NewFakeClock(start)
	armed := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tm := c.NewTimer(time.Second)
		close(armed)
		<-tm.C()
		tm.Reset(time.Second) // the "loop" plans its next wait
		<-tm.C()
	}()
	c.BlockUntil(1)
	<-armed
	c.Advance(time.Second)
	c.BlockUntil(1) // returns only once the goroutine re-armed
	if d := c.Deadlines(); len(d) != 1 || d[0] != time.Second {
		t.Fatalf("Deadlines = %v, want [1s]", d)
	}
	c.Advance(time.Second)
	<-done
}
