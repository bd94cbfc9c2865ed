package sched

import "time"

// Clock is the scheduler's view of time. Wall time (Now) is the calendar a
// trigger is evaluated against; it may step (NTP, a Pi without an RTC).
// Elapsed time (Since, timers) is monotonic and never steps. Keeping them
// apart lets a fake clock step wall time without moving elapsed time.
type Clock interface {
	// Now returns the wall-clock time.
	Now() time.Time
	// Elapsed returns monotonic time since an arbitrary fixed origin.
	Elapsed() time.Duration
	// NewTimer returns a timer that fires once d of monotonic time has passed.
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer the scheduler uses.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it was active.
	Stop() bool
	// Reset rearms the timer to fire after d.
	Reset(d time.Duration) bool
}

// SystemClock is the real clock.
type SystemClock struct{ origin time.Time }

// NewSystemClock returns the real clock.
func NewSystemClock() *SystemClock { return &SystemClock{origin: time.Now()} }

// Now returns time.Now with its monotonic reading stripped, so comparisons
// are made on the wall clock the triggers are defined on.
func (c *SystemClock) Now() time.Time { return time.Now().Round(0) }

// Elapsed returns the monotonic time since the clock was made.
func (c *SystemClock) Elapsed() time.Duration { return time.Since(c.origin) }

// NewTimer wraps time.NewTimer.
func (c *SystemClock) NewTimer(d time.Duration) Timer { return sysTimer{time.NewTimer(d)} }

type sysTimer struct{ t *time.Timer }

func (t sysTimer) C() <-chan time.Time        { return t.t.C }
func (t sysTimer) Stop() bool                 { return t.t.Stop() }
func (t sysTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }
