package main

import (
	"runtime/debug"
	"testing"
)

func TestStartupGC(t *testing.T) {
	pace := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct{ before, loading int }{
		{100, -1},
		{200, -1},
		{50, 50}, // chosen for memory: left alone
		{-1, -1}, // GOGC=off: left alone
	} {
		debug.SetGCPercent(tc.before)
		a := startupGC()
		b := startupGC() // a second agent in the same process
		if got := pace(); got != tc.loading {
			t.Errorf("GOGC=%d: %d while loading, want %d", tc.before, got, tc.loading)
		}
		a()
		a() // twice: once
		if got := pace(); got != tc.loading {
			t.Errorf("GOGC=%d: %d while the second agent still loads, want %d", tc.before, got, tc.loading)
		}
		b()
		if got := pace(); got != tc.before {
			t.Errorf("GOGC=%d: %d after loading, want it restored", tc.before, got)
		}
	}
}
