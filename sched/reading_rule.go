package sched

import (
	"math"
	"time"
)

// The arithmetic of reading triggers, apart from the engine: a readingRule
// is what a trigger watches for, a ruleState what it remembers between
// readings, and observe says whether one reading fires it. Time here is
// elapsed time (Clock.Elapsed), so a wall-clock step never shortens a `for`
// or a cooldown.

// ruleMode is what a reading trigger compares.
type ruleMode uint8

const (
	modeRange  ruleMode = iota // above and/or below a threshold, with hysteresis
	modeLevel                  // a GPIO level: high (non-zero) or low (zero)
	modeChange                 // a change by more than a delta
	modeEdge                   // a GPIO edge: rising, falling or both
)

// readingRule is a compiled reading trigger.
type readingRule struct {
	mode               ruleMode
	above, below       float64
	hasAbove, hasBelow bool
	hysteresis         float64
	high               bool    // modeLevel: fires on high, else on low
	delta              float64 // modeChange
	rising, falling    bool    // modeEdge
	hold               time.Duration
	cooldown           time.Duration
}

// ruleState is what a reading trigger remembers between readings. The zero
// value is a trigger just added (or restarted): armed, no window open.
type ruleState struct {
	disarmed bool          // fired; re-arms once the value leaves the band
	holding  bool          // the condition holds since `since`
	since    time.Duration // elapsed time the condition began to hold
	fired    bool          // has fired since it was made
	lastFire time.Duration // elapsed time of the last fire
	known    bool          // ref holds a value
	ref      float64       // modeChange: the value at the last fire; modeEdge: the last value
}

// inside reports whether v is in the range or at the level that fires.
func (r *readingRule) inside(v float64) bool {
	if r.mode == modeLevel {
		return (v != 0) == r.high
	}
	return (!r.hasAbove || v > r.above) && (!r.hasBelow || v < r.below)
}

// rearms reports whether v is far enough out of the band to arm again:
// by the hysteresis past the threshold it crossed.
func (r *readingRule) rearms(v float64) bool {
	if r.mode == modeLevel {
		return !r.inside(v)
	}
	return (r.hasAbove && v <= r.above-r.hysteresis) || (r.hasBelow && v >= r.below+r.hysteresis)
}

// cooled reports whether the cooldown since the last fire is over at el.
func (r *readingRule) cooled(st *ruleState, el time.Duration) bool {
	return !st.fired || el-st.lastFire >= r.cooldown
}

// observe takes one reading, v at elapsed time el, and reports whether the
// trigger fires on it. A NaN is a failed reading.
func (r *readingRule) observe(st *ruleState, v float64, el time.Duration) bool {
	if math.IsNaN(v) {
		r.fail(st)
		return false
	}
	fire := false
	switch r.mode {
	case modeRange, modeLevel:
		if st.disarmed {
			if r.rearms(v) {
				st.disarmed = false
			}
			break
		}
		if !r.inside(v) {
			st.holding = false
			break
		}
		if !st.holding {
			st.holding, st.since = true, el
		}
		if el-st.since >= r.hold && r.cooled(st, el) {
			fire = true
			st.disarmed, st.holding = true, false
		}
	case modeChange:
		if !st.known {
			st.known, st.ref = true, v
			break
		}
		if math.Abs(v-st.ref) > r.delta && r.cooled(st, el) {
			fire = true
			st.ref = v
		}
	case modeEdge:
		was := st.ref != 0
		if st.known && ((r.rising && !was && v != 0) || (r.falling && was && v == 0)) && r.cooled(st, el) {
			fire = true
		}
		st.known, st.ref = true, v
	}
	if fire {
		st.fired, st.lastFire = true, el
	}
	return fire
}

// fail takes a failed read: the condition is not known to have held, so a
// `for` window starts again at the next good reading. Nothing else changes:
// a trigger that fired stays disarmed, a change or an edge is measured from
// the last good value.
func (r *readingRule) fail(st *ruleState) { st.holding = false }
