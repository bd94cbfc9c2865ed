package command

import (
	"sync"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// fakeClock is a sched.Clock whose timers fire only when the test advances
// it. Every timer armed is announced on armed, so a test can wait for the
// handler to reach a timed wait instead of sleeping.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Duration
	timers []*fakeTimer
	armed  chan time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{armed: make(chan time.Duration, 1000)} }

func (c *fakeClock) Now() time.Time { return time.Unix(1_800_000_000, 0).Add(c.Elapsed()) }

func (c *fakeClock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(d time.Duration) sched.Timer {
	c.mu.Lock()
	t := &fakeTimer{c: c, ch: make(chan time.Time, 1), at: c.now + d, active: true}
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	c.armed <- d
	return t
}

// Advance moves time on and fires the timers that fall due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now += d
	for _, t := range c.timers {
		if t.active && t.at <= c.now {
			t.active = false
			t.ch <- time.Unix(0, 0).Add(c.now)
		}
	}
}

// waitArmed waits until a timer of duration d is armed.
func (c *fakeClock) waitArmed(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(20 * time.Second) // a failsafe, not a wait
	for {
		select {
		case got := <-c.armed:
			if got == d {
				return
			}
		case <-deadline:
			t.Fatalf("no timer of %s was armed", d)
		}
	}
}

type fakeTimer struct {
	c      *fakeClock
	ch     chan time.Time
	at     time.Duration
	active bool
}

func (t *fakeTimer) C() <-chan time.Time { return t.ch }

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.active = false
	return was
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := t.active
	t.at, t.active = t.c.now+d, true
	return was
}
