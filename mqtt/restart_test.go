package mqtt_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/store/outbox"
)

// persistentWatch is a watcher with a persistent session that reconnects
// on its own, so it misses nothing across a broker restart.
func persistentWatch(t *testing.T, url string, filters ...string) *watcher {
	t.Helper()
	w := &watcher{t: t, notify: make(chan struct{}, 1)}
	subs := map[string]byte{}
	for _, f := range filters {
		subs[f] = 1
	}
	o := paho.NewClientOptions().SetClientID(fmt.Sprintf("w-%d", time.Now().UnixNano())).SetCleanSession(false).
		SetAutoReconnect(true).SetMaxReconnectInterval(100 * time.Millisecond).SetDefaultPublishHandler(w.add).
		SetOnConnectHandler(func(c paho.Client) {
			if len(subs) > 0 {
				c.SubscribeMultiple(subs, nil)
			}
		})
	w.c = mqtttest.Client(t, url, o)
	if len(subs) > 0 {
		mqtttest.Wait(t, w.c.SubscribeMultiple(subs, nil))
	}
	return w
}

// TestBrokerRestartMidStream restarts the broker while readings stream
// and job changes are requested: every acknowledged change is applied
// exactly once, and every reading arrives, those kept in the outbox
// marked historical and with their original timestamps.
//
// It runs on Mosquitto where it is installed, else on the in-process
// broker.
func TestBrokerRestartMidStream(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	testBrokerRestart(t, b)
}

func testBrokerRestart(t *testing.T, b *mqtttest.Broker) {
	prefix := mqtttest.Prefix(t, b.URL)
	dev := uid(prefix, "dev1")
	dv := newDevice(t, b.URL, prefix, dev).start()
	// On the in-process broker, observe from inside it: its persistent
	// sessions sometimes stall after a restart, which would be its failure,
	// not the agent's.
	var readings, replies *watcher
	if w := (&watcher{t: t, notify: make(chan struct{}, 1)}); b.Observe(t, dv.root()+"/sensors/+", w.observe) {
		readings = w
		replies = &watcher{t: t, notify: make(chan struct{}, 1)}
		b.Observe(t, dv.root()+"/jobs/res", replies.observe)
		b.Observe(t, dv.root()+"/status", replies.observe)
	} else {
		readings = persistentWatch(t, b.URL, dv.root()+"/sensors/+")
		replies = persistentWatch(t, b.URL, dv.root()+"/jobs/res", dv.root()+"/status")
	}
	replies.waitFor(0, "online", func(m paho.Message) bool { return string(m.Payload()) == "online" })
	pub := persistentWatch(t, b.URL) // publishes requests; reconnects by itself

	const perPhase = 40
	reading := func(i int) {
		dv.agent.Reading("air", t0.Add(time.Duration(i)*time.Second), map[string]float64{"n": float64(i)}, map[string]string{"n": "1"})
	}
	// request sends add job-i until it is acknowledged (same id each time).
	request := func(i int) {
		id := fmt.Sprintf("req-%d", i)
		payload := `{"id":"` + id + `","op":"add","job":` + jobDoc(fmt.Sprintf("job-%d", i), 60) + `}`
		deadline := time.Now().Add(guard)
		for {
			// QoS 0: lost ones are retried with the same id anyway, and a
			// QoS 1 publish stored across the restart makes paho's own
			// resend race its writer (a data race inside paho 1.5.1).
			tok := pub.c.Publish(dv.root()+"/jobs/cmd", 0, false, payload)
			tok.WaitTimeout(time.Second)
			if got := waitReply(replies, id, 500*time.Millisecond); got != nil {
				if got.Status != "accepted" {
					t.Fatalf("%s: %+v", id, got)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never acknowledged (agent connected=%v stats=%+v, requester connected=%v)", id, dv.agent.Connected(), dv.agent.Stats(), pub.c.IsConnectionOpen())
			}
		}
	}

	n := 0
	for ; n < perPhase; n++ {
		reading(n)
	}
	request(0)
	b.Stop()
	for ; n < 2*perPhase; n++ { // the broker is away: these go to the outbox
		reading(n)
	}
	b.Restart(t)
	request(1)
	for ; n < 3*perPhase; n++ {
		reading(n)
	}
	request(2)

	// Every reading arrives, with its own timestamp.
	seen := map[int]bool{}
	historical := 0
	t.Cleanup(func() {
		if t.Failed() {
			q, d := dv.ob.Stats()
			t.Logf("distinct readings seen %d of %d; outbox queued %d dropped %d; agent %+v connected=%v",
				len(seen), 3*perPhase, q, d, dv.agent.Stats(), dv.agent.Connected())
		}
	})
	readings.waitFor(0, "every reading", func(m paho.Message) bool {
		var r struct {
			TS         time.Time          `json:"ts"`
			Values     map[string]float64 `json:"values"`
			Historical bool               `json:"historical"`
		}
		if err := json.Unmarshal(m.Payload(), &r); err != nil {
			t.Fatalf("reading %s: %v", m.Payload(), err)
		}
		i := int(r.Values["n"])
		if !r.TS.Equal(t0.Add(time.Duration(i) * time.Second)) {
			t.Errorf("reading %d has ts %s", i, r.TS)
		}
		if r.Historical && !seen[i] {
			historical++
		}
		seen[i] = true
		return len(seen) == 3*perPhase
	})
	if historical == 0 {
		t.Error("no reading was replayed from the outbox")
	}
	// Every acknowledged change is there, applied once.
	for i := range 3 {
		j, ok := dv.store.Job(fmt.Sprintf("job-%d", i))
		if !ok || j.Version != 1 {
			t.Errorf("job-%d: %+v %v", i, j, ok)
		}
	}
	if q, d := dv.ob.Stats(); d != 0 {
		t.Errorf("outbox dropped %d (queued %d)", d, q)
	}
}

func waitReply(w *watcher, id string, d time.Duration) *mqtt.Reply {
	deadline := time.After(d)
	for {
		for _, m := range w.all() {
			var rep mqtt.Reply
			if json.Unmarshal(m.Payload(), &rep) == nil && rep.ID == id {
				return &rep
			}
		}
		select {
		case <-w.notify:
		case <-deadline:
			return nil
		}
	}
}

// TestOutboxWhileUnreachable: readings, events and state produced while
// the network is down reach the broker in order once it is back, the
// JSON ones marked historical.
func TestOutboxWhileUnreachable(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	p := newProxy(t, url)
	dv := newDevice(t, p.url, prefix, dev).start()
	r.waitOnline(dev)
	w := watch(t, url, dv.root()+"/sensors/+", dv.root()+"/actuators/+/state")
	p.cut()
	// The agent notices the loss (its will is published) before we go on.
	_, seen := r.waitFor(0, "online", func(m paho.Message) bool { return string(m.Payload()) == "online" })
	r.waitFor(seen+1, "will", func(m paho.Message) bool { return string(m.Payload()) == "offline" })
	for i := range 20 {
		dv.agent.Reading("air", t0.Add(time.Duration(i)*time.Second), map[string]float64{"n": float64(i)}, nil)
	}
	dv.agent.ActuatorState("pump", true, nil)
	p.resume()
	sensor := dv.root() + "/sensors/air"
	w.waitCount(sensor, 20)
	var order []int
	for _, m := range w.all() {
		if m.Topic() != sensor {
			continue
		}
		var rd struct {
			Values     map[string]float64 `json:"values"`
			Historical bool               `json:"historical"`
		}
		if err := json.Unmarshal(m.Payload(), &rd); err != nil || !rd.Historical {
			t.Errorf("reading replayed without historical: %s", m.Payload())
		}
		order = append(order, int(rd.Values["n"]))
	}
	for i, n := range order {
		if n != i {
			t.Fatalf("replay order %v", order)
		}
	}
	m, _ := w.waitFor(0, "pump state", func(m paho.Message) bool { return m.Topic() == dv.root()+"/actuators/pump/state" })
	if string(m.Payload()) != "ON" {
		t.Errorf("state replayed as %q", m.Payload())
	}
}

// TestOutboxBoundCounted: beyond max_bytes the oldest telemetry is
// dropped, and the count reaches <root>/info.
func TestOutboxBoundCounted(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev := uid(prefix, "dev1")
	r := newRequester(t, url, prefix)
	p := newProxy(t, url)
	dv := newDevice(t, p.url, prefix, dev)
	dv.startScheduler()
	dv.openOutbox()
	var err error
	dv.ob, err = outbox.Open(dv.db, outbox.Options{MaxBytes: 4096, MaxAge: time.Hour, Now: dv.clock.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	dv.start()
	r.waitOnline(dev)
	_, seen := r.waitFor(0, "online", func(m paho.Message) bool { return string(m.Payload()) == "online" })
	p.cut()
	r.waitFor(seen+1, "will", func(m paho.Message) bool { return string(m.Payload()) == "offline" })
	for i := range 100 {
		dv.agent.Reading("air", t0.Add(time.Duration(i)*time.Second), map[string]float64{"n": float64(i)}, nil)
	}
	w := watch(t, url, dv.root()+"/info", dv.root()+"/sensors/air")
	p.resume()
	w.waitFor(0, "info with drops", func(m paho.Message) bool {
		var info mqtt.Info
		return m.Topic() == dv.root()+"/info" && json.Unmarshal(m.Payload(), &info) == nil && info.Outbox.Dropped > 0
	})
	// What was kept arrives, newest last; the oldest were dropped.
	w.waitFor(0, "last reading", func(m paho.Message) bool {
		return m.Topic() == dv.root()+"/sensors/air" && strings.Contains(string(m.Payload()), `"n":99`)
	})
	_, dropped := dv.ob.Stats()
	got := 0
	for _, m := range w.all() {
		if m.Topic() == dv.root()+"/sensors/air" {
			got++
		}
	}
	if dropped == 0 || uint64(got)+dropped < 100 {
		t.Errorf("received %d, dropped %d: %d readings unaccounted for", got, dropped, 100-got-int(dropped))
	}
}
