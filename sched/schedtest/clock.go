// Package schedtest holds test doubles for package sched: a FakeClock whose
// wall and elapsed time move only when a test says so, an in-memory Store,
// and RunStoreTests, the conformance suite every sched.Store must pass.
//
// Tests built on these never sleep: they Advance the clock and wait on
// BlockUntil or on event channels.
package schedtest

import (
	"sort"
	"sync"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// FakeClock is a sched.Clock driven by the test. Wall time (Now) and elapsed
// time (Elapsed, timers) start together; Advance moves both, StepWall moves
// only the wall clock, as an NTP step does.
type FakeClock struct {
	mu      sync.Mutex
	changed *sync.Cond // signalled whenever the set of armed timers changes
	wall    time.Time
	elapsed time.Duration
	seq     uint64
	armed   map[*fakeTimer]struct{}
}

// NewFakeClock returns a clock whose wall time is start and whose elapsed
// time is zero.
func NewFakeClock(start time.Time) *FakeClock {
	c := &FakeClock{wall: start, armed: map[*fakeTimer]struct{}{}}
	c.changed = sync.NewCond(&c.mu)
	return c
}

// Now returns the wall time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wall
}

// Elapsed returns the monotonic time since the clock was made.
func (c *FakeClock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.elapsed
}

// NewTimer returns a timer that fires once Advance has moved elapsed time by d.
// A timer with d <= 0 fires at once.
func (c *FakeClock) NewTimer(d time.Duration) sched.Timer {
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	t.arm(d)
	c.mu.Unlock()
	return t
}

// Advance moves wall and elapsed time forward by d. Timers that fall due
// fire in deadline order, each with the clock set to its deadline, so a
// receiver that reads Now after a fire sees that moment at the earliest.
func (c *FakeClock) Advance(d time.Duration) {
	if d < 0 {
		panic("schedtest: FakeClock.Advance with a negative duration")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	end := c.elapsed + d
	for {
		next := c.nextDue(end)
		if next == nil {
			break
		}
		c.wall = c.wall.Add(next.deadline - c.elapsed)
		c.elapsed = next.deadline
		next.fire(c.wall)
	}
	c.wall = c.wall.Add(end - c.elapsed)
	c.elapsed = end
	c.changed.Broadcast()
}

// StepWall moves only the wall clock by d (which may be negative): elapsed
// time and timers are untouched, as when NTP steps a clock.
func (c *FakeClock) StepWall(d time.Duration) {
	c.mu.Lock()
	c.wall = c.wall.Add(d)
	c.mu.Unlock()
}

// Armed returns how many timers are armed: made or reset, and neither
// fired nor stopped since.
func (c *FakeClock) Armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.armed)
}

// Deadlines returns, in order, how long from now each armed timer will wait.
func (c *FakeClock) Deadlines() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ds []time.Duration
	for t := range c.armed {
		ds = append(ds, t.deadline-c.elapsed)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds
}

// BlockUntil waits until at least n timers are armed. A scheduler arms its
// timer when it is done with a wake-up, so after an Advance that fired it,
// BlockUntil(1) returns once the scheduler has planned its next wait.
func (c *FakeClock) BlockUntil(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.armed) < n {
		c.changed.Wait()
	}
}

// WaitForTimer waits until a timer is armed to fire d from now: after a
// change that makes a scheduler re-plan, WaitForTimer(wantedWait) returns
// once it has.
func (c *FakeClock) WaitForTimer(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		for t := range c.armed {
			if t.deadline-c.elapsed == d {
				return
			}
		}
		c.changed.Wait()
	}
}

// nextDue returns the armed timer with the earliest deadline at or before
// end (ties in the order the timers were armed), or nil.
func (c *FakeClock) nextDue(end time.Duration) *fakeTimer {
	var best *fakeTimer
	for t := range c.armed {
		if t.deadline > end {
			continue
		}
		if best == nil || t.deadline < best.deadline || (t.deadline == best.deadline && t.seq < best.seq) {
			best = t
		}
	}
	return best
}

type fakeTimer struct {
	c        *FakeClock
	ch       chan time.Time
	deadline time.Duration
	seq      uint64
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

// Stop disarms the timer and, like a Go 1.23 timer, drops a fire not yet
// received.
func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, was := t.c.armed[t]
	delete(t.c.armed, t)
	t.drain()
	t.c.changed.Broadcast()
	return was
}

// Reset rearms the timer to fire after d, dropping a fire not yet received.
func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	_, was := t.c.armed[t]
	t.drain()
	t.arm(d)
	return was
}

// arm is called with c.mu held.
func (t *fakeTimer) arm(d time.Duration) {
	c := t.c
	if d <= 0 {
		delete(c.armed, t)
		t.fire(c.wall)
		return
	}
	c.seq++
	t.seq = c.seq
	t.deadline = c.elapsed + d
	c.armed[t] = struct{}{}
	c.changed.Broadcast()
}

// fire is called with c.mu held.
func (t *fakeTimer) fire(now time.Time) {
	delete(t.c.armed, t)
	t.drain()
	t.ch <- now
	t.c.changed.Broadcast()
}

func (t *fakeTimer) drain() {
	select {
	case <-t.ch:
	default:
	}
}
