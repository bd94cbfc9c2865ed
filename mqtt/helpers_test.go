package mqtt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	bolt "go.etcd.io/bbolt"

	"github.com/edgecron/edgecron/internal/units"
	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
	"github.com/edgecron/edgecron/store/outbox"
)

// guard bounds every wait on the broker or the agent: a deadlock guard,
// never a way to let things happen.
const guard = 15 * time.Second

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// device is one agent under test: the real scheduler on a memory store
// and a fake clock, a real outbox on a bbolt file, the agent on a real
// broker.
type device struct {
	t       testing.TB
	id      string
	url     string
	prefix  string
	cfg     mqtt.Config
	clock   *schedtest.FakeClock
	store   *schedtest.MemStore
	s       *sched.Scheduler
	db      *bolt.DB
	ob      *outbox.Outbox
	agent   *mqtt.Agent
	cancel  context.CancelFunc
	done    chan error
	applied chan string   // actuator set payloads, "name=payload"
	running bool          // the scheduler was started
	runs    atomic.Int64  // runs of the "test" handler
	ran     chan struct{} // one per run of the "test" handler
}

type deviceOpt func(*device, *mqtt.Deps)

func withGroups(g ...string) deviceOpt {
	return func(_ *device, d *mqtt.Deps) { d.Groups = g }
}

func withConfig(f func(*mqtt.Config)) deviceOpt {
	return func(dv *device, _ *mqtt.Deps) { f(&dv.cfg) }
}

func withInventory(inv mqtt.Inventory) deviceOpt {
	return func(_ *device, d *mqtt.Deps) { d.Inventory = inv }
}

func quiet() *slog.Logger {
	if os.Getenv("MQTT_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newDevice builds the scheduler and outbox of device id; start runs the
// agent.
func newDevice(t testing.TB, url, prefix, id string) *device {
	return newDeviceOn(t, url, prefix, id, schedtest.NewMemStore())
}

// newDeviceOn is newDevice on a given store: a restart of a device is a
// new device on the old one's store.
func newDeviceOn(t testing.TB, url, prefix, id string, store *schedtest.MemStore) *device {
	t.Helper()
	dv := &device{
		t: t, id: id, url: url, prefix: prefix,
		cfg:     mqtt.Config{Broker: url, Prefix: prefix, Outbox: mqtt.OutboxConfig{FlushInterval: units.Duration(20 * time.Millisecond)}},
		clock:   schedtest.NewFakeClock(t0),
		store:   store,
		applied: make(chan string, 100),
		ran:     make(chan struct{}, 1000),
	}
	dv.s = sched.New(dv.store, sched.Options{Clock: dv.clock, Location: time.UTC, Logger: quiet()})
	ok := sched.HandlerFunc{RunFunc: func(context.Context, sched.Run) (sched.Result, error) {
		dv.runs.Add(1)
		select {
		case dv.ran <- struct{}{}:
		default:
		}
		return nil, nil
	}}
	if err := dv.s.Handle("test", ok, sched.HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	return dv
}

// startScheduler starts the scheduler (its clock is fake: nothing fires
// unless a test advances it) and shuts it down at cleanup.
func (dv *device) startScheduler() {
	dv.t.Helper()
	if err := dv.s.Start(context.Background()); err != nil {
		dv.t.Fatal(err)
	}
	dv.running = true
	dv.t.Cleanup(func() { dv.s.Shutdown(context.Background(), true) })
}

func (dv *device) openOutbox() {
	t := dv.t
	db, err := bolt.Open(filepath.Join(t.TempDir(), "agent.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dv.db = db
	// The outbox ages records on the device's clock, like its readings'
	// timestamps (t0 on): on the wall clock, they would all be too old an
	// hour after t0.
	dv.ob, err = outbox.Open(db, outbox.Options{MaxBytes: 1 << 20, MaxAge: time.Hour, Now: dv.clock.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
}

type applier chan string

func (a applier) Apply(ctx context.Context, name string, payload []byte) error {
	if strings.Contains(string(payload), "block") {
		<-ctx.Done() // holds the worker until the agent stops
		return ctx.Err()
	}
	if string(payload) == "EXPLODE" {
		return fmt.Errorf("refused")
	}
	if strings.Contains(string(payload), "explode") {
		return &sched.Error{Code: sched.CodeUnsafe, Field: "command", Message: "interlock: the pump runs"}
	}
	a <- name + "=" + string(payload)
	return nil
}

// start runs the agent until the test ends.
func (dv *device) start(opts ...deviceOpt) *device {
	dv.t.Helper()
	if !dv.running {
		dv.startScheduler()
	}
	if dv.ob == nil {
		dv.openOutbox()
	}
	deps := mqtt.Deps{
		DeviceID: dv.id, Scheduler: dv.s, Outbox: dv.ob, Actuators: applier(dv.applied),
		Location: time.UTC, Logger: quiet(), Version: "test", BootID: "boot-1",
		ClockSynced: func() bool { return true },
		Backoff:     mqtt.Backoff{Min: 5 * time.Millisecond, Max: 50 * time.Millisecond},
	}
	for _, o := range opts {
		o(dv, &deps)
	}
	a, err := mqtt.New(dv.cfg, deps)
	if err != nil {
		dv.t.Fatal(err)
	}
	dv.agent = a
	ctx, cancel := context.WithCancel(context.Background())
	dv.cancel = cancel
	dv.done = make(chan error, 1)
	go func() { dv.done <- a.Run(ctx) }()
	dv.t.Cleanup(dv.dropSession)
	dv.t.Cleanup(dv.stop)
	return dv
}

// dropSession discards the agent's persistent session on the broker (a
// clean-session connection with its client id), so tests leave none behind.
func (dv *device) dropSession() {
	o := paho.NewClientOptions().AddBroker(dv.url).SetClientID(mqtt.ClientID(dv.id)).SetCleanSession(true)
	if dv.cfg.TLS != (mqtt.TLSConfig{}) || dv.cfg.Username != "" {
		return // the TLS and ACL tests run their own broker, gone with the test
	}
	c := paho.NewClient(o)
	if tok := c.Connect(); tok.WaitTimeout(guard) && tok.Error() == nil {
		c.Disconnect(0)
	}
}

// stop stops the agent and waits for Run to return.
func (dv *device) stop() {
	if dv.cancel == nil {
		return
	}
	dv.cancel()
	dv.cancel = nil
	select {
	case err := <-dv.done:
		if err != nil {
			dv.t.Errorf("Run: %v", err)
		}
	case <-time.After(guard):
		dv.t.Error("Run did not return")
	}
}

func (dv *device) root() string { return dv.prefix + "/" + dv.id }

// watcher is a test client subscribed to some topics, keeping every
// message in arrival order.
type watcher struct {
	t      testing.TB
	c      paho.Client
	mu     sync.Mutex
	msgs   []paho.Message
	notify chan struct{}
}

func watch(t testing.TB, url string, filters ...string) *watcher {
	t.Helper()
	w := &watcher{t: t, notify: make(chan struct{}, 1)}
	w.c = mqtttest.Client(t, url, nil)
	for _, f := range filters {
		mqtttest.Wait(t, w.c.Subscribe(f, 1, w.add))
	}
	return w
}

func (w *watcher) add(_ paho.Client, m paho.Message) {
	w.mu.Lock()
	w.msgs = append(w.msgs, m)
	w.mu.Unlock()
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// waitFor returns the first message (from index from on) that ok accepts,
// and its index. Each time a message arrives it scans again from from: ok
// must be a pure predicate or count from zero on every call.
func (w *watcher) waitFor(from int, what string, ok func(paho.Message) bool) (paho.Message, int) {
	w.t.Helper()
	deadline := time.After(guard)
	for {
		w.mu.Lock()
		for i := from; i < len(w.msgs); i++ {
			if ok(w.msgs[i]) {
				m := w.msgs[i]
				w.mu.Unlock()
				return m, i
			}
		}
		w.mu.Unlock()
		select {
		case <-w.notify:
		case <-deadline:
			w.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// observe is mqtttest.Broker.Observe's callback.
func (w *watcher) observe(topic string, payload []byte, retained bool) {
	w.add(nil, message{topic: topic, payload: payload, retained: retained})
}

// message is a paho.Message seen from inside the in-process broker.
type message struct {
	topic    string
	payload  []byte
	retained bool
}

func (m message) Duplicate() bool   { return false }
func (m message) Qos() byte         { return 1 }
func (m message) Retained() bool    { return m.retained }
func (m message) Topic() string     { return m.topic }
func (m message) MessageID() uint16 { return 0 }
func (m message) Payload() []byte   { return m.payload }
func (m message) Ack()              {}

// observe follows filters from inside the in-process broker b: every
// message, however fast they come. (A subscriber on Mosquitto that falls
// more than max_queued_messages behind, as a test client on a loaded
// machine does when thousands of readings are replayed, has messages
// dropped by the broker.)
func observe(t *testing.T, b *mqtttest.Broker, filters ...string) *watcher {
	t.Helper()
	w := &watcher{t: t, notify: make(chan struct{}, 1)}
	for _, f := range filters {
		if !b.Observe(t, f, w.observe) {
			t.Fatal("observe needs the in-process broker")
		}
	}
	return w
}

// waitCount waits until n messages arrived on topic.
func (w *watcher) waitCount(topic string, n int) {
	w.t.Helper()
	deadline := time.After(guard)
	for {
		count := 0
		for _, m := range w.all() {
			if m.Topic() == topic {
				count++
			}
		}
		if count >= n {
			return
		}
		select {
		case <-w.notify:
		case <-deadline:
			w.t.Fatalf("timed out waiting for %d messages on %s (got %d)", n, topic, count)
		}
	}
}

func (w *watcher) all() []paho.Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]paho.Message(nil), w.msgs...)
}

// requester sends requests to devices and collects their replies.
type requester struct {
	*watcher
	prefix string
}

func newRequester(t testing.TB, url, prefix string) *requester {
	return &requester{watcher: watch(t, url, prefix+"/+/jobs/res", prefix+"/+/status"), prefix: prefix}
}

// waitOnline waits for device id's retained or live "online".
func (r *requester) waitOnline(id string) {
	r.t.Helper()
	topic := r.prefix + "/" + id + "/status"
	r.waitFor(0, id+" online", func(m paho.Message) bool { return m.Topic() == topic && string(m.Payload()) == "online" })
}

func (r *requester) publish(topic string, retained bool, payload string) {
	r.t.Helper()
	mqtttest.Wait(r.t, r.c.Publish(topic, 1, retained, payload))
}

// reply waits for device id's reply to request reqID.
func (r *requester) reply(id, reqID string) mqtt.Reply {
	r.t.Helper()
	topic := r.prefix + "/" + id + "/jobs/res"
	m, _ := r.waitFor(0, "reply "+reqID+" from "+id, func(m paho.Message) bool {
		var rep mqtt.Reply
		return m.Topic() == topic && json.Unmarshal(m.Payload(), &rep) == nil && rep.ID == reqID
	})
	var rep mqtt.Reply
	if err := json.Unmarshal(m.Payload(), &rep); err != nil {
		r.t.Fatal(err)
	}
	return rep
}

// replies counts device id's replies to reqID so far.
func (r *requester) replies(id, reqID string) int {
	n := 0
	for _, m := range r.all() {
		var rep mqtt.Reply
		if m.Topic() == r.prefix+"/"+id+"/jobs/res" && json.Unmarshal(m.Payload(), &rep) == nil && rep.ID == reqID {
			n++
		}
	}
	return n
}

// do sends a request (JSON) to device id and returns its reply.
func (r *requester) do(id, payload string) mqtt.Reply {
	r.t.Helper()
	var head struct{ ID string }
	if err := json.Unmarshal([]byte(payload), &head); err != nil || head.ID == "" {
		r.t.Fatalf("test request without id: %s", payload)
	}
	r.publish(r.prefix+"/"+id+"/jobs/cmd", false, payload)
	return r.reply(id, head.ID)
}

func jobDoc(id string, seconds int) string {
	return fmt.Sprintf(`{"id":%q,"trigger":{"type":"interval","seconds":%d},"action":{"type":"test"}}`, id, seconds)
}

// decodeJob reads the job document of a reply.
func decodeJob(t testing.TB, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("job document %s: %v", raw, err)
	}
	return m
}

func hasPrefix(s, p string) bool { return strings.HasPrefix(s, p) }

// proxy forwards TCP to the broker and can cut every connection and
// refuse new ones, as a network outage would, while the broker stays up.
type proxy struct {
	t      testing.TB
	url    string
	target string
	mu     sync.Mutex
	l      net.Listener
	addr   string
	conns  []net.Conn
}

func newProxy(t testing.TB, brokerURL string) *proxy {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, target: u.Host}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = l.Addr().String()
	p.url = u.Scheme + "://" + p.addr
	p.serve(l)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(l net.Listener) {
	p.mu.Lock()
	p.l = l
	p.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { io.Copy(b, c); b.Close() }()
			go func() { io.Copy(c, b); c.Close() }()
		}
	}()
}

// cut closes every connection and stops listening.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// resume listens again on the same address.
func (p *proxy) resume() {
	p.t.Helper()
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.serve(l)
}

// uid makes a device id unique to the test: client ids
// (edgecron-<device_id>) are global on a shared broker.
func uid(prefix, name string) string { return name + "-" + prefix[len(prefix)-6:] }
