package mqtt_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/internal/units"
	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// timerLog is a fake clock that reports what the agent does with its
// timers of one duration (the flush interval): "arm", "rearm", "disarm".
type timerLog struct {
	*schedtest.FakeClock
	d   time.Duration
	ops chan string
}

func (c *timerLog) NewTimer(d time.Duration) sched.Timer {
	t := c.FakeClock.NewTimer(d)
	if d != c.d {
		return t
	}
	c.ops <- "arm"
	return loggedTimer{t, c}
}

type loggedTimer struct {
	sched.Timer
	c *timerLog
}

func (t loggedTimer) Reset(d time.Duration) bool {
	was := t.Timer.Reset(d)
	t.c.ops <- "rearm"
	return was
}

func (t loggedTimer) Stop() bool {
	was := t.Timer.Stop()
	t.c.ops <- "disarm"
	return was
}

// expect waits for the next timer operation and fails unless it is want.
func (c *timerLog) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-c.ops:
		if got != want {
			t.Fatalf("flush timer: %s, want %s", got, want)
		}
	case <-time.After(guard):
		t.Fatalf("flush timer: no %s", want)
	}
}

// flushLog is an outbox that reports each Append and each Flush once
// they returned.
type flushLog struct {
	mqtt.Outbox
	appended, flushed chan struct{}
}

func (o flushLog) Append(ts time.Time, rec []byte) {
	o.Outbox.Append(ts, rec)
	o.appended <- struct{}{}
}

func (o flushLog) Flush() error {
	err := o.Outbox.Flush()
	o.flushed <- struct{}{}
	return err
}

// TestFlushTimerOnlyWhileQueued: the outbox flusher holds a timer only
// while it has work. Connected with nothing queued, the agent holds no
// timer at all. What is appended is committed one flush interval after the
// first append, however much follows; the commit is not postponed. A
// replay's new counts and the clock's synchronisation still reach
// <root>/info.
func TestFlushTimerOnlyWhileQueued(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	px := newProxy(t, url)
	dv := newDevice(t, px.url, prefix, uid(prefix, "idle"))
	const every = 10 * time.Second
	dv.cfg.Outbox.FlushInterval = units.Duration(every)
	clk := &timerLog{FakeClock: schedtest.NewFakeClock(t0), d: every, ops: make(chan string, 64)}
	var synced atomic.Bool
	conn := make(chan bool, 16)
	appended, flushed := make(chan struct{}, 64), make(chan struct{}, 64)
	info := watch(t, url, dv.root()+"/info")
	infoSays := func(from int, what string) int {
		t.Helper()
		_, i := info.waitFor(from, "info with "+what, func(m paho.Message) bool { return strings.Contains(string(m.Payload()), what) })
		return i
	}
	dv.start(func(_ *device, d *mqtt.Deps) {
		d.Clock = clk
		d.Outbox = flushLog{d.Outbox, appended, flushed}
		d.ClockSynced = synced.Load
		d.OnConnection = func(up bool) { conn <- up }
	})

	// Connected, the replay of an empty outbox arms the flusher once. The
	// clock is not synchronised: it stays armed, to tell when it is.
	if !receive(t, conn, "connection") {
		t.Fatal("first change reported is a loss")
	}
	i := infoSays(0, `"clock":"unsynced"`)
	clk.expect(t, "arm")
	clk.Advance(every)
	receive(t, flushed, "flush")
	clk.expect(t, "rearm")
	synced.Store(true)
	clk.Advance(every)
	receive(t, flushed, "flush")
	clk.expect(t, "disarm")
	i = infoSays(i, `"clock":"synced"`)
	if n := clk.Armed(); n != 0 {
		t.Fatalf("connected and idle, the agent holds %d timers", n)
	}
	clk.Advance(time.Hour)
	select {
	case op := <-clk.ops:
		t.Fatalf("idle, the flush timer was touched: %s", op)
	case <-flushed:
		t.Fatal("idle, the outbox was flushed")
	default:
	}

	// The broker is away: a reading goes to the outbox and is committed
	// one flush interval later. Then nothing can be replayed: disarmed.
	px.cut()
	if receive(t, conn, "loss") {
		t.Fatal("loss reported as a connection")
	}
	dv.agent.Reading("air", t0, map[string]float64{"n": 1}, nil)
	receive(t, appended, "reading in the outbox")
	clk.expect(t, "arm")
	clk.Advance(every) // (also the reconnect attempts' backoff)
	receive(t, flushed, "flush")
	clk.expect(t, "disarm")

	// Back: the replay empties the outbox and <root>/info says so within
	// a flush interval.
	px.resume()
	clk.BlockUntil(1) // the reconnect's backoff
	clk.Advance(time.Second)
	if !receive(t, conn, "reconnection") {
		t.Fatal("reconnection reported as a loss")
	}
	i = infoSays(i, `"queued":1`)
	clk.expect(t, "arm")
	clk.Advance(every)
	receive(t, flushed, "flush")
	clk.expect(t, "disarm")
	infoSays(i, `"queued":0`)
	if n := clk.Armed(); n != 0 {
		t.Fatalf("reconnected and idle, the agent holds %d timers", n)
	}

	// Away again: a reading half an interval after the first does not
	// postpone its commit.
	px.cut()
	if receive(t, conn, "loss") {
		t.Fatal("loss reported as a connection")
	}
	dv.agent.Reading("air", t0.Add(time.Minute), map[string]float64{"n": 2}, nil)
	receive(t, appended, "reading in the outbox")
	clk.expect(t, "arm")
	clk.Advance(every / 2)
	dv.agent.Reading("air", t0.Add(time.Minute+time.Second), map[string]float64{"n": 3}, nil)
	receive(t, appended, "reading in the outbox")
	clk.Advance(every / 2)
	receive(t, flushed, "flush one interval after the first append")
	px.resume() // for the session's cleanup
}
