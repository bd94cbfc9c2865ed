package sched

import (
	"math"
	"time"
)

// jobHeap orders the scheduled entries by the moment they are due to fire,
// earliest first; ties go to the entry scheduled first, so jobs due in the
// same instant fire in a stable order. Each entry knows its index, so a
// change to one job costs O(log n).
//
// The order compares each entry's fire instant as an integer (entry.at),
// worked out once when the entry is scheduled: a crowded second reorders
// the heap after every firing, and comparing two time.Times with their
// jitter added was a sixth of a firing's CPU. Whether the first entry is
// due is still decided on its time.Time (due).
type jobHeap []*entry

func (h jobHeap) Len() int { return len(h) }

func (h jobHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq-b.seq > 1<<31 // a.seq < b.seq, modulo wrap-around
}

func (h jobHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = int32(i)
	h[j].index = int32(j)
}

func (h *jobHeap) Push(x any) {
	e := x.(*entry)
	e.index = int32(len(*h))
	*h = append(*h, e)
}

func (h *jobHeap) Pop() any {
	old := *h
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	e.index = -1
	*h = old[:n-1]
	return e
}

// peek returns the entry due first, or nil.
func (h jobHeap) peek() *entry {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}

// due reports whether the first entry is due at now.
func (h jobHeap) due(now time.Time) bool {
	e := h.peek()
	return e != nil && !e.fireAt().After(now)
}

// instant returns t in Unix nanoseconds, the heap's order: exact from the
// year 1678 to 2262, which an int64 holds, and saturated beyond, so that
// every time before 1678 sorts first and every time after 2262 last.
func instant(t time.Time) int64 {
	const maxSec = math.MaxInt64 / int64(time.Second)
	switch sec := t.Unix(); {
	case sec >= maxSec:
		return math.MaxInt64
	case sec <= -maxSec:
		return math.MinInt64
	}
	return t.UnixNano()
}
