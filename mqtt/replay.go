package mqtt

import (
	"container/list"
	"sync"
	"time"
)

// Replay cache bounds: a reply is remembered while it is among the last
// replayMin requests or younger than replayTTL; replayMax caps memory
// whatever the rate (docs/mqtt.md states all three).
const (
	replayMin = 1000
	replayTTL = time.Hour
	replayMax = 20000
)

// replayCache remembers the reply sent for each request id so that a
// repeated id gets the first reply again and changes nothing.
type replayCache struct {
	mu      sync.Mutex
	min     int
	ttl     time.Duration
	max     int
	byID    map[string]*list.Element
	order   *list.List // of *replayEntry, oldest first
	evicted uint64     // entries dropped by the hard cap while still young
}

type replayEntry struct {
	id    string
	at    time.Duration // monotonic time of the reply
	reply []byte
}

func newReplayCache(min int, ttl time.Duration, max int) *replayCache {
	return &replayCache{min: min, ttl: ttl, max: max, byID: map[string]*list.Element{}, order: list.New()}
}

// get returns the reply remembered for id.
func (c *replayCache) get(id string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if !ok {
		return nil, false
	}
	return e.Value.(*replayEntry).reply, true
}

// put remembers reply for id at monotonic time now and forgets what is
// both beyond the last min requests and older than ttl.
func (c *replayCache) put(id string, reply []byte, now time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		c.order.Remove(e)
	}
	c.byID[id] = c.order.PushBack(&replayEntry{id: id, at: now, reply: reply})
	for c.order.Len() > c.min {
		front := c.order.Front()
		old := front.Value.(*replayEntry)
		if now-old.at <= c.ttl && c.order.Len() <= c.max {
			break
		}
		if now-old.at <= c.ttl {
			c.evicted++
		}
		c.order.Remove(front)
		delete(c.byID, old.id)
	}
}

func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
