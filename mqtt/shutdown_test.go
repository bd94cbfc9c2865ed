package mqtt_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/store/outbox"
)

// record is an outbox record as the agent writes it (topic, payload).
type record struct {
	Topic   string `json:"t"`
	Payload []byte `json:"p"`
}

// committed returns the records committed to the device's outbox file: what
// a fresh outbox on the file sees, as the next start (or a power cut) would.
func (dv *device) committed() []record {
	dv.t.Helper()
	ob, err := outbox.Open(dv.db, outbox.Options{MaxBytes: 1 << 30, MaxAge: 24 * time.Hour, Now: dv.clock.Now, Logger: quiet()})
	if err != nil {
		dv.t.Fatal(err)
	}
	_, recs, err := ob.Peek(1 << 20)
	if err != nil {
		dv.t.Fatal(err)
	}
	var out []record
	for _, b := range recs {
		var r record
		if err := json.Unmarshal(b, &r); err != nil {
			dv.t.Fatalf("outbox record %s: %v", b, err)
		}
		out = append(out, r)
	}
	return out
}

// TestTelemetryAfterStopCommitted: telemetry that arrives after Run
// returned (a read job that outlived the scheduler's shutdown grace, an
// output that changed after the final flush) is committed to the outbox
// at once, for the next start to replay: nothing waits in memory for a
// flush that will never come.
func TestTelemetryAfterStopCommitted(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dv := newDevice(t, url, prefix, uid(prefix, "late")).start()
	dv.stop()
	before := len(dv.committed())

	dv.agent.Reading("air", t0, map[string]float64{"n": 1}, nil)
	dv.agent.ActuatorState("pump", false, nil)
	if err := dv.agent.Publish(context.Background(), "home/late", 1, false, []byte("late")); err != nil {
		t.Fatalf("publish after the stop: %v", err)
	}
	got := dv.committed()[before:]
	want := []string{dv.root() + "/sensors/air", dv.root() + "/actuators/pump/state", "home/late"}
	if len(got) != len(want) {
		t.Fatalf("committed after the stop: %d records %+v, want %v", len(got), got, want)
	}
	for i, r := range got {
		if r.Topic != want[i] {
			t.Errorf("record %d on %s, want %s", i, r.Topic, want[i])
		}
	}
	if err := dv.agent.Close(); err != nil {
		t.Errorf("Close after Run: %v", err)
	}
}

// TestNoReadingLostAcrossStop: readings produced while the agent stops —
// before, during and after Run's final flush — each reach the broker or
// the outbox file. It runs on the in-process broker, where every message
// the broker takes is observed.
func TestNoReadingLostAcrossStop(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{InProcess: true})
	prefix := mqtttest.Prefix(t, b.URL)
	r := newRequester(t, b.URL, prefix)
	dev := uid(prefix, "stopping")
	dv := newDevice(t, b.URL, prefix, dev)
	dv.startScheduler()
	dv.openOutbox()
	var err error // room for all: none is dropped for the bounds
	dv.ob, err = outbox.Open(dv.db, outbox.Options{MaxBytes: 256 << 20, MaxAge: time.Hour, Now: dv.clock.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	dv.cfg.Outbox.MaxBytes = 256 << 20
	dv.start()
	r.waitOnline(dev)
	w := observe(t, b, dv.root()+"/sensors/air")

	// The producer runs on through the stop and 200 readings past it.
	started, stopped := make(chan struct{}), make(chan struct{})
	var n int
	var wg sync.WaitGroup
	wg.Go(func() {
		after := -1
		for i := 0; after < 200; i++ {
			if i == 1000 {
				close(started)
			}
			select {
			case <-stopped:
				after++
			default:
			}
			dv.agent.Reading("air", t0.Add(time.Duration(i)*time.Millisecond), map[string]float64{"n": float64(i)}, nil)
			n = i + 1
		}
	})
	<-started
	dv.stop()
	close(stopped)
	wg.Wait()

	seen := map[int]bool{}
	index := func(p []byte) int {
		var rd struct {
			Values map[string]float64 `json:"values"`
		}
		if err := json.Unmarshal(p, &rd); err != nil {
			t.Fatalf("reading %s: %v", p, err)
		}
		return int(rd.Values["n"])
	}
	kept := 0
	for _, rec := range dv.committed() {
		if rec.Topic == dv.root()+"/sensors/air" {
			seen[index(rec.Payload)] = true
			kept++
		}
	}
	// What is not in the file was acknowledged by the broker: the watcher
	// gets it.
	t.Cleanup(func() {
		if t.Failed() {
			var missing []int
			for i := range n {
				if !seen[i] {
					missing = append(missing, i)
				}
			}
			t.Logf("%d readings taken, %d in the outbox file, %d missing: %v", n, kept, len(missing), missing[:min(len(missing), 40)])
		}
	})
	w.waitFor(0, "every reading in the outbox or at the broker", func(m paho.Message) bool {
		seen[index(m.Payload())] = true
		return len(seen) == n
	})
	if _, dropped := dv.ob.Stats(); dropped != 0 {
		t.Errorf("outbox dropped %d", dropped)
	}
	if kept < 200 {
		t.Errorf("%d readings in the outbox file, want at least the 200 taken after the stop", kept)
	}
	t.Logf("%d readings taken, %d in the outbox file, the rest at the broker", n, kept)
}
