package api

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestReplayCacheKeepsMinAndTTL(t *testing.T) {
	c := newReplayCache(3, time.Hour, 1<<20)
	at := time.Duration(0)
	for i := range 5 {
		c.put(fmt.Sprint(i), []byte{byte(i)}, at)
	}
	// All five are younger than the TTL and within max: all kept.
	if c.len() != 5 {
		t.Fatalf("len = %d, want 5", c.len())
	}
	if r, ok := c.get("0"); !ok || r[0] != 0 {
		t.Fatalf("get(0) = %v, %v", r, ok)
	}
	// One hour later, a new put forgets everything beyond the last 3.
	at += time.Hour + time.Second
	c.put("5", []byte{5}, at)
	if c.len() != 3 {
		t.Fatalf("len after ttl = %d, want 3", c.len())
	}
	for _, id := range []string{"0", "1", "2"} {
		if _, ok := c.get(id); ok {
			t.Errorf("%s still remembered past both bounds", id)
		}
	}
	for _, id := range []string{"3", "4", "5"} {
		if _, ok := c.get(id); !ok {
			t.Errorf("%s forgotten while among the last 3", id)
		}
	}
}

func TestReplayCacheByteCap(t *testing.T) {
	one := (&replayEntry{id: "0", reply: make([]byte, 100)}).size()
	c := newReplayCache(2, time.Hour, 4*one)
	for i := range 10 {
		c.put(fmt.Sprint(i), make([]byte, 100), 0)
	}
	if c.len() != 4 || c.evicted != 6 || c.size() != 4*one {
		t.Fatalf("len = %d evicted = %d bytes = %d, want 4, 6 and %d", c.len(), c.evicted, c.size(), 4*one)
	}
	if _, ok := c.get("9"); !ok {
		t.Fatal("newest forgotten")
	}
	// A large reply pushes out as many small ones as it takes.
	c.put("big", make([]byte, 3*one), 0)
	if c.len() != 1 || c.size() > 4*one {
		t.Fatalf("len = %d bytes = %d after a large reply", c.len(), c.size())
	}
}

// TestReplayMemoryBounded is issue 13's 1,500 list requests over 400 jobs:
// what the cache keeps per id stays small, and the whole within its bytes.
func TestReplayMemoryBounded(t *testing.T) {
	c := newReplayCache(replayMin, replayTTL, replayMaxBytes)
	rep := Reply{Status: StatusAccepted, Code: "ok", Jobs: json.RawMessage(`[` + strings.Repeat(`{"id":"job-000000000000","name":"a job of 400"},`, 400) + `{}]`)}
	if b, _ := json.Marshal(rep); len(b) <= replayKeepBytes {
		t.Fatal("a list reply over 400 jobs would be kept whole")
	}
	for i := range 20000 {
		rep.ID = fmt.Sprintf("list-%05d", i)
		b := compact(rep)
		if len(b) > 200 {
			t.Fatalf("kept %d bytes for one list reply", len(b))
		}
		c.put(rep.ID, b, 0)
	}
	if c.size() > replayMaxBytes {
		t.Fatalf("cache holds %d bytes, cap %d", c.size(), replayMaxBytes)
	}
	if c.len() < replayMin {
		t.Fatalf("cache holds %d ids, want at least %d", c.len(), replayMin)
	}
	// The largest entry the cache keeps whole: 1,000 of them fit.
	if n := replayMaxBytes / (&replayEntry{id: strings.Repeat("x", maxRequestID), reply: make([]byte, replayKeepBytes)}).size(); n < replayMin {
		t.Fatalf("only %d of the largest entries fit in %d bytes; docs promise %d ids", n, replayMaxBytes, replayMin)
	}
}

func TestCompactReply(t *testing.T) {
	long := strings.Repeat("é", 300)
	b := compact(Reply{ID: "r", Status: StatusRejected, Code: "bad_request", Error: long,
		Job: json.RawMessage(`{"id":"pump","version":7,"name":"x"}`), NextRunTimes: []string{"t"}})
	var got Reply
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !got.Replayed || got.JobID != "pump" || got.Version != 7 || got.Job != nil || got.NextRunTimes != nil ||
		len(got.Error) > maxReplayError+3 || !utf8.ValidString(got.Error) || got.Code != "bad_request" {
		t.Fatalf("compact = %s", b)
	}
}

func TestReplayCacheRepeatedPutMovesToBack(t *testing.T) {
	c := newReplayCache(1, time.Minute, 1<<20)
	c.put("a", []byte("1"), 0)
	c.put("b", []byte("2"), 0)
	c.put("a", []byte("3"), 2*time.Minute)
	if _, ok := c.get("b"); ok {
		t.Fatal("b should be gone: older than ttl and beyond the last 1")
	}
	if r, _ := c.get("a"); string(r) != "3" {
		t.Fatalf("a = %q", r)
	}
}
