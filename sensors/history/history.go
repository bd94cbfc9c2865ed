// Package history keeps the recent values of every sensor in memory, for
// the dashboard's charts: a bounded ring per sensor value, downsampled to
// one point per Step.
//
// A device reads its sensors every few seconds for months; the dashboard
// shows the last hours. Keeping every reading would grow without bound,
// and the store is the SD card, which must not see a write per reading.
// So each value gets a fixed ring of Points buckets: a reading adds to the
// bucket of its Step-long slice of wall time (the bucket's value is the
// mean of its readings so far), a reading in a later slice opens the next
// bucket, and when the ring is full the oldest bucket is dropped. Slices
// without readings take no bucket: a sensor read once a quarter of an hour
// keeps 90 hours, one read every second the last Points × Step. Memory is
// bounded by the config: Points × 8 bytes per sensor value, allocated at
// its first reading; nothing is written anywhere, and nothing survives a
// restart.
//
// The wall clock of a board without a battery-backed clock steps when NTP
// sets it. A step forward is a gap in the chart. A reading from the bucket
// just before the newest is counted in the newest (two reads of a sensor
// can reach the Store out of order); one from further back (the clock
// stepped back) clears that value's ring, whose times were then wrong, so
// that a chart's times always increase.
package history

import (
	"math"
	"sync"
	"time"
)

// Defaults: one-minute buckets, six hours of them; 2,880 bytes per value.
const (
	DefaultStep   = time.Minute
	DefaultPoints = 360
)

// Series is one value's history, oldest first: Times[i] (Unix seconds, the
// start of its bucket) and Values[i] (the mean of the readings in it).
// The last point's bucket may still be filling.
type Series struct {
	Name   string    `json:"name"`
	Unit   string    `json:"unit,omitempty"`
	Times  []int64   `json:"t"`
	Values []float32 `json:"v"`
}

// Store holds the rings of every sensor value. It is safe for concurrent
// use: readings arrive from the scheduler's workers, charts are read by
// HTTP handlers.
type Store struct {
	step   int64 // seconds
	points int

	mu      sync.Mutex
	sensors map[string][]*ring // by sensor; rings in the order values were first seen
}

// New returns a Store of points buckets of step each per value (defaults
// for zero; step is rounded down to whole seconds, at least one).
func New(step time.Duration, points int) *Store {
	if step <= 0 {
		step = DefaultStep
	}
	if points <= 0 {
		points = DefaultPoints
	}
	return &Store{step: max(int64(step/time.Second), 1), points: points, sensors: map[string][]*ring{}}
}

// Step returns the width of a bucket.
func (s *Store) Step() time.Duration { return time.Duration(s.step) * time.Second }

// Add records one value of a reading taken at at. A value that is not a
// finite number, or a time outside 1970 to 2106, is ignored.
func (s *Store) Add(sensor, value, unit string, at time.Time, v float64) {
	sec := at.Unix()
	if math.IsNaN(v) || math.IsInf(v, 0) || sec < 0 || sec > math.MaxUint32 {
		return
	}
	bucket := uint32(sec - sec%s.step)
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.sensors[sensor]
	var r *ring
	for _, x := range rs {
		if x.name == value {
			r = x
			break
		}
	}
	if r == nil {
		r = &ring{name: value}
		s.sensors[sensor] = append(rs, r)
	}
	r.unit = unit
	r.add(bucket, v, s.step, s.points)
}

// Series returns copies of the sensor's value histories, in the order its
// values were first recorded; nil when it has none.
func (s *Store) Series(sensor string) []Series {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := s.sensors[sensor]
	if len(rs) == 0 {
		return nil
	}
	out := make([]Series, len(rs))
	for i, r := range rs {
		out[i] = r.series()
	}
	return out
}

// Retain drops the history of every sensor not named (a config reload
// removed them), so that memory follows the config.
func (s *Store) Retain(sensors []string) {
	keep := make(map[string]bool, len(sensors))
	for _, n := range sensors {
		keep[n] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := range s.sensors {
		if !keep[n] {
			delete(s.sensors, n)
		}
	}
}

// ring is one value's buckets: times and means, oldest at head once the
// ring is full. sum and n are the readings of the newest bucket.
type ring struct {
	name, unit string
	times      []uint32
	vals       []float32
	head       int
	sum        float64
	n          int
}

func (r *ring) newest() int {
	if r.head == 0 {
		return len(r.times) - 1
	}
	return r.head - 1
}

// add counts v in bucket; step is the width of a bucket in seconds.
func (r *ring) add(bucket uint32, v float64, step int64, points int) {
	if len(r.times) > 0 {
		i := r.newest()
		last := r.times[i]
		if bucket <= last && int64(last-bucket) <= step { // its bucket, or late from the one before
			r.sum += v
			r.n++
			r.vals[i] = float32(r.sum / float64(r.n))
			return
		}
		if bucket < last { // the wall clock stepped back
			r.times, r.vals, r.head = r.times[:0], r.vals[:0], 0
		}
	}
	r.sum, r.n = v, 1
	if len(r.times) < points {
		if r.times == nil {
			// A full ring never grows again.
			r.times, r.vals = make([]uint32, 0, points), make([]float32, 0, points)
		}
		r.times = append(r.times, bucket)
		r.vals = append(r.vals, float32(v))
		return
	}
	r.times[r.head], r.vals[r.head] = bucket, float32(v)
	r.head = (r.head + 1) % len(r.times)
}

func (r *ring) series() Series {
	n := len(r.times)
	s := Series{Name: r.name, Unit: r.unit, Times: make([]int64, n), Values: make([]float32, n)}
	for i := range n {
		j := (r.head + i) % n
		s.Times[i] = int64(r.times[j])
		s.Values[i] = r.vals[j]
	}
	return s
}
