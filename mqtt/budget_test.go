package mqtt_test

import (
	"testing"
	"time"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// TestOutboxCommitBudgetWhileAway: with the broker away and a reading
// every second, the outbox commits once a minute at the default
// flush_interval — 10 commits in 10 minutes, not one per reading nor one
// every 10 s (docs/durability.md, "The SD-card budget").
func TestOutboxCommitBudgetWhileAway(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	px := newProxy(t, url)
	dv := newDevice(t, px.url, prefix, uid(prefix, "budget"))
	dv.cfg.Outbox.FlushInterval = 0 // the default
	if mqtt.DefaultFlushInterval != time.Minute {
		t.Fatalf("DefaultFlushInterval = %s; docs/durability.md states the budget for 1m", mqtt.DefaultFlushInterval)
	}
	clk := &timerLog{FakeClock: schedtest.NewFakeClock(t0), d: time.Minute, ops: make(chan string, 64)}
	conn := make(chan bool, 16)
	appended, flushed := make(chan struct{}, 1024), make(chan struct{}, 1024)
	dv.start(func(_ *device, d *mqtt.Deps) {
		d.Clock = clk
		d.Outbox = flushLog{d.Outbox, appended, flushed}
		d.OnConnection = func(up bool) { conn <- up }
	})
	if !receive(t, conn, "connection") {
		t.Fatal("first change reported is a loss")
	}
	// The replay of the empty outbox arms the flusher, for at most 10s
	// while connected.
	clk.WaitForTimer(10 * time.Second)
	px.cut()
	if receive(t, conn, "loss") {
		t.Fatal("loss reported as a connection")
	}
	clk.Advance(10 * time.Second)
	receive(t, flushed, "the connection's flush")
	base := dv.ob.Commits()

	const minutes = 10
	for m := range minutes {
		for s := range 60 {
			dv.agent.Reading("air", t0.Add(time.Duration(m*60+s)*time.Second), map[string]float64{"n": float64(s)}, nil)
			receive(t, appended, "reading in the outbox")
			if s == 0 {
				clk.expect(t, "arm") // the first reading arms the flush
			}
			clk.Advance(time.Second)
		}
		receive(t, flushed, "the minute's flush")
		clk.expect(t, "disarm")
	}
	select {
	case <-flushed:
		t.Fatal("more than one flush a minute")
	default:
	}
	if got := dv.ob.Commits() - base; got != minutes {
		t.Fatalf("%d outbox commits in %d minutes of a reading a second, want %d", got, minutes, minutes)
	}
	if queued, dropped := dv.ob.Stats(); queued != minutes*60 || dropped != 0 {
		t.Fatalf("outbox holds %d (dropped %d), want every reading", queued, dropped)
	}
	px.resume() // for the session's cleanup
}
