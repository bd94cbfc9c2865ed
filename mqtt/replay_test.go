package mqtt

import (
	"fmt"
	"testing"
	"time"
)

func TestReplayCacheKeepsMinAndTTL(t *testing.T) {
	c := newReplayCache(3, time.Hour, 5)
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

func TestReplayCacheHardCap(t *testing.T) {
	c := newReplayCache(2, time.Hour, 4)
	for i := range 10 {
		c.put(fmt.Sprint(i), nil, 0)
	}
	if c.len() != 4 || c.evicted != 6 {
		t.Fatalf("len = %d evicted = %d, want 4 and 6", c.len(), c.evicted)
	}
	if _, ok := c.get("9"); !ok {
		t.Fatal("newest forgotten")
	}
}

func TestReplayCacheRepeatedPutMovesToBack(t *testing.T) {
	c := newReplayCache(1, time.Minute, 10)
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
