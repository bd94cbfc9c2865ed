package mqtt_test

import (
	"encoding/json"
	"runtime"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/internal/units"
	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/store/outbox"
)

// teleQueue is the agent's in-memory telemetry queue (docs/mqtt.md,
// "Counters and logs").
const teleQueue = 4096

// heldOutbox is an outbox whose appends wait while it is held: a disk busy
// with a commit (the outbox's Flush holds it through the fsync) keeps the
// agent's sender waiting, and telemetry piles up in memory behind it.
type heldOutbox struct {
	mqtt.Outbox
	hold *sync.RWMutex
}

func (o heldOutbox) Append(ts time.Time, rec []byte) {
	o.hold.RLock()
	o.hold.RUnlock()
	o.Outbox.Append(ts, rec)
}

// spillDevice is a device, on an in-process broker of the test's own,
// behind a proxy, with an outbox of maxBytes whose appends the test can
// hold. It returns once the broker is away (the agent saw the loss) and
// the outbox is held.
func spillDevice(t *testing.T, maxBytes int64) (b *mqtttest.Broker, dv *device, p *proxy, release func()) {
	t.Helper()
	b = mqtttest.Start(t, mqtttest.Options{InProcess: true})
	prefix := mqtttest.Prefix(t, b.URL)
	p = newProxy(t, b.URL)
	dv = newDevice(t, p.url, prefix, uid(prefix, "spill"))
	dv.cfg.Outbox.MaxBytes = units.Bytes(maxBytes)
	dv.startScheduler()
	dv.openOutbox()
	var err error
	dv.ob, err = outbox.Open(dv.db, outbox.Options{MaxBytes: maxBytes, MaxAge: time.Hour, Now: dv.clock.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	hold := &sync.RWMutex{}
	conn := make(chan bool, 16)
	info := observe(t, b, dv.root()+"/info")
	dv.start(func(_ *device, d *mqtt.Deps) {
		d.Outbox = heldOutbox{d.Outbox, hold}
		d.OnConnection = func(up bool) { conn <- up }
	})
	t.Cleanup(func() {
		if t.Failed() {
			q, d := dv.ob.Stats()
			t.Logf("outbox queued %d dropped %d; agent %+v connected %v", q, d, dv.agent.Stats(), dv.agent.Connected())
		}
	})
	if !receive(t, conn, "connection") {
		t.Fatal("first change reported is a loss")
	}
	// The connection is set up (<root>/info is its last publish) before it
	// is cut: a publish paho holds when the connection dies under it
	// blocks for paho's write timeout (30 s).
	info.waitFor(0, "info", func(paho.Message) bool { return true })
	p.cut()
	if receive(t, conn, "loss") {
		t.Fatal("loss reported as a connection")
	}
	hold.Lock()
	var once sync.Once
	release = func() { once.Do(hold.Unlock) }
	t.Cleanup(release) // before the agent stops
	return b, dv, p, release
}

// produce sends readings 0..n-1 from a goroutine of its own and fails the
// test if they are not all handed over within guard: the agent's queue
// must never block the producer (the scheduler, a read job).
func produce(t *testing.T, dv *device, n int) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			dv.agent.Reading("air", t0.Add(time.Duration(i)*time.Second), map[string]float64{"n": float64(i)}, nil)
		}
	}()
	select {
	case <-done:
	case <-time.After(guard):
		t.Errorf("%d readings not handed over in %s: the producer waits on the held outbox (spilled %d)", n, guard, dv.agent.Stats().Spilled)
	}
}

// readingIndex returns the "n" of a reading and whether it was replayed.
func readingIndex(t *testing.T, p []byte) (int, bool) {
	t.Helper()
	var rd struct {
		Values     map[string]float64 `json:"values"`
		Historical bool               `json:"historical"`
	}
	if err := json.Unmarshal(p, &rd); err != nil {
		t.Fatalf("reading %s: %v", p, err)
	}
	return int(rd.Values["n"]), rd.Historical
}

// waitReadings waits until ok accepts the distinct readings that arrived
// on topic, in the order each first arrived (delivery is at least once: a
// resent one may repeat), and returns them.
func waitReadings(t *testing.T, w *watcher, topic, what string, ok func(order []int) bool) []int {
	t.Helper()
	seen := map[int]bool{}
	var order []int
	next := 0
	deadline := time.After(guard)
	for {
		msgs := w.all()
		for ; next < len(msgs); next++ {
			if msgs[next].Topic() != topic {
				continue
			}
			i, historical := readingIndex(t, msgs[next].Payload())
			if !historical {
				t.Errorf("reading %d sent while the broker was away arrived without historical", i)
			}
			if !seen[i] {
				seen[i] = true
				order = append(order, i)
			}
		}
		if ok(order) {
			return order
		}
		select {
		case <-w.notify:
		case <-deadline:
			t.Fatalf("timed out waiting for %s: %d distinct readings arrived", what, len(order))
		}
	}
}

// TestSpillKeepsOrder drives the telemetry queue past its 4,096 messages
// while the broker is away and the sender waits on the outbox: nothing
// blocks the producer, and once the broker is back every reading arrives,
// in the order it was taken.
func TestSpillKeepsOrder(t *testing.T) {
	b, dv, p, release := spillDevice(t, 64<<20)
	w := observe(t, b, dv.root()+"/sensors/air")
	const n = teleQueue + 2000
	produce(t, dv, n)
	// The sender holds reading 0, the queue 1..4096; the rest waited
	// behind them.
	if st := dv.agent.Stats(); st.Spilled < n-teleQueue-1 {
		t.Errorf("spilled %d, want at least %d", st.Spilled, n-teleQueue-1)
	}
	release()
	p.resume()
	order := waitReadings(t, w, dv.root()+"/sensors/air", "every reading", func(order []int) bool { return len(order) == n })
	for i, got := range order {
		if got != i {
			t.Fatalf("reading %d arrived in place %d (after %v)", got, i, order[max(0, i-3):i])
		}
	}
	if _, dropped := dv.ob.Stats(); dropped != 0 {
		t.Errorf("outbox dropped %d", dropped)
	}
}

// TestSpillBoundedMemory: while the sender cannot keep up, what waits in
// memory is bounded (docs/mqtt.md, "Bounds"): the queue's 4,096 messages,
// plus outbox.max_bytes behind it, plus the outbox's own max_bytes. Beyond
// that the oldest are dropped and counted; the newest arrive, in order.
func TestSpillBoundedMemory(t *testing.T) {
	const maxBytes = 256 << 10
	b, dv, p, release := spillDevice(t, maxBytes)
	w := observe(t, b, dv.root()+"/sensors/air", dv.root()+"/info")
	const n = teleQueue + 40000 // about 10 MB of readings
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	produce(t, dv, n)
	grown := int64(heap()) - int64(before)
	// A queued reading costs about 300 bytes (the message, its topic and
	// payload); the overflow's accounting is within a factor of two of
	// its real size.
	const bound = teleQueue*300 + 2*maxBytes + maxBytes + 1<<20
	t.Logf("heap grew by %d KiB holding %d readings (bound %d KiB)", grown>>10, n, bound>>10)
	if grown > bound {
		t.Errorf("heap grew by %d KiB with the sender held, want at most %d KiB", grown>>10, bound>>10)
	}
	release()
	p.resume()
	// The info that counts the drops follows the replay.
	var info mqtt.Info
	w.waitFor(0, "info with the outbox emptied", func(m paho.Message) bool {
		return m.Topic() == dv.root()+"/info" && json.Unmarshal(m.Payload(), &info) == nil && info.Outbox.Queued == 0 && info.Outbox.Dropped > 0
	})
	order := waitReadings(t, w, dv.root()+"/sensors/air", "the last reading", func(order []int) bool {
		return len(order) > 0 && order[len(order)-1] == n-1
	})
	_, dropped := dv.ob.Stats()
	if len(order)+int(dropped) != n || dropped == 0 {
		t.Errorf("%d readings arrived and %d were dropped, of %d", len(order), dropped, n)
	}
	for i := 1; i < len(order); i++ {
		if order[i] <= order[i-1] {
			t.Fatalf("reading %d arrived after %d", order[i], order[i-1])
		}
	}
}
