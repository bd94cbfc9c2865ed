package api

import (
	"container/list"
	"sync"
	"time"
)

// Replay cache bounds: a reply is remembered while it is among the last
// replayMin requests or younger than replayTTL; replayMaxBytes caps the
// memory whatever the rate (docs/mqtt.md states all three). Replies over
// replayKeepBytes (a list, a get of a large job) are remembered as their
// compact form (see compact), so 1,000 entries take at most ~2.2 MiB.
const (
	replayMin       = 1000
	replayTTL       = time.Hour
	replayMaxBytes  = 4 << 20
	replayKeepBytes = 2 << 10
)

// replayEntryOverhead is what an entry costs beside its id and reply: the
// map entry, the list element and the entry itself.
const replayEntryOverhead = 160

// replayCache remembers, in memory, the reply sent for each request id of
// this run so that a repeated id gets the first reply again and changes
// nothing. The ids of changes are also remembered durably, by the
// scheduler (see sched.Receipt): this cache covers reads and refusals too,
// and answers byte for byte.
type replayCache struct {
	mu       sync.Mutex
	min      int
	ttl      time.Duration
	maxBytes int
	bytes    int
	byID     map[string]*list.Element
	order    *list.List // of *replayEntry, oldest first
	evicted  uint64     // entries dropped by the byte cap while still young
}

type replayEntry struct {
	id    string
	at    time.Duration // monotonic time of the reply
	reply []byte
}

func (e *replayEntry) size() int { return replayEntryOverhead + len(e.id) + len(e.reply) }

func newReplayCache(min int, ttl time.Duration, maxBytes int) *replayCache {
	return &replayCache{min: min, ttl: ttl, maxBytes: maxBytes, byID: map[string]*list.Element{}, order: list.New()}
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
// both beyond the last min requests and older than ttl, and the oldest
// while over maxBytes.
func (c *replayCache) put(id string, reply []byte, now time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		c.bytes -= e.Value.(*replayEntry).size()
		c.order.Remove(e)
	}
	ne := &replayEntry{id: id, at: now, reply: reply}
	c.byID[id] = c.order.PushBack(ne)
	c.bytes += ne.size()
	for c.order.Len() > 1 {
		front := c.order.Front()
		old := front.Value.(*replayEntry)
		young := now-old.at <= c.ttl
		if (young || c.order.Len() <= c.min) && c.bytes <= c.maxBytes {
			break
		}
		if young {
			c.evicted++
		}
		c.bytes -= old.size()
		c.order.Remove(front)
		delete(c.byID, old.id)
	}
}

func (c *replayCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *replayCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}
