package sched

import "time"

// jobHeap orders the scheduled entries by the moment they are due to fire,
// earliest first; ties go to the entry scheduled first, so jobs due in the
// same instant fire in a stable order. Each entry knows its index, so a
// change to one job costs O(log n).
type jobHeap []*entry

func (h jobHeap) Len() int { return len(h) }

func (h jobHeap) Less(i, j int) bool {
	a, b := h[i].fireAt(), h[j].fireAt()
	if !a.Equal(b) {
		return a.Before(b)
	}
	return h[i].seq-h[j].seq > 1<<31 // h[i].seq < h[j].seq, modulo wrap-around
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
