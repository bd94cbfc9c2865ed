package sched

import (
	"container/heap"
	"math"
	"slices"
	"testing"
	"time"
)

// instant keeps the order of times as integers: exact where an int64 of
// nanoseconds holds them, saturated beyond, never wrapping around.
func TestInstantKeepsOrder(t *testing.T) {
	times := []time.Time{
		time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1677, 9, 21, 0, 12, 43, 145224192, time.UTC), // just below the int64 range
		time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, 0),
		time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 21, 9, 0, 0, 1, time.UTC),
		time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2262, 4, 11, 23, 47, 16, 854775807, time.UTC), // the int64 range's last nanosecond
		time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i := 1; i < len(times); i++ {
		a, b := instant(times[i-1]), instant(times[i])
		if a > b {
			t.Errorf("instant(%v) = %d > instant(%v) = %d", times[i-1], a, times[i], b)
		}
	}
	for _, tc := range []struct {
		t    time.Time
		want int64
	}{
		{time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64},
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{time.Date(2026, 11, 21, 9, 0, 0, 1, time.FixedZone("X", 3600)), time.Date(2026, 11, 21, 9, 0, 0, 1, time.UTC).UnixNano() - 3600e9},
	} {
		if got := instant(tc.t); got != tc.want {
			t.Errorf("instant(%v) = %d, want %d", tc.t, got, tc.want)
		}
	}
}

// Entries due at the same instant keep the order they were scheduled in;
// an entry's jitter counts in its place.
func TestHeapOrdersByInstantThenSchedule(t *testing.T) {
	base := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	mk := func(seq uint32, next time.Time, jitter time.Duration) *entry {
		e := &entry{next: next, jitterOff: jitter, seq: seq, index: -1}
		e.at = instant(e.fireAt())
		return e
	}
	var h jobHeap
	for _, e := range []*entry{
		mk(4, base, time.Second),
		mk(2, base, 0),
		mk(1, base, 0),
		mk(3, base.Add(-time.Nanosecond), 0),
		mk(5, base.Add(-time.Second), 2*time.Second),
	} {
		heap.Push(&h, e)
	}
	var got []uint32
	for h.Len() > 0 {
		got = append(got, heap.Pop(&h).(*entry).seq)
	}
	if want := []uint32{3, 1, 2, 4, 5}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}
