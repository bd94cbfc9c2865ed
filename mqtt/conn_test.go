package mqtt_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
)

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatalf("timed out waiting for %s", what)
	}
	panic("unreachable")
}

// syncBuffer is a bytes.Buffer safe for the agent's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestOnConnection: OnConnection hears of the first connection, of a loss
// and of the reconnection, in order, with Connected agreeing; a clean stop
// is not a loss. Every connection is logged, the first too.
func TestOnConnection(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	prefix := mqtttest.Prefix(t, b.URL)
	dv := newDevice(t, b.URL, prefix, uid(prefix, "conn"))
	var logs syncBuffer
	conn := make(chan bool, 16)
	dv.start(func(dv *device, d *mqtt.Deps) {
		d.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		d.OnConnection = func(up bool) {
			if up != dv.agent.Connected() {
				t.Errorf("OnConnection(%v) while Connected() = %v", up, !up)
			}
			conn <- up
		}
	})
	if !receive(t, conn, "first connection") {
		t.Fatal("first change reported is a loss")
	}
	if n := strings.Count(logs.String(), `msg="connected to broker"`); n != 1 {
		t.Fatalf("first connection logged %d times:\n%s", n, logs.String())
	}
	b.Stop()
	if receive(t, conn, "loss") {
		t.Fatal("loss reported as a connection")
	}
	b.Restart(t)
	if !receive(t, conn, "reconnection") {
		t.Fatal("reconnection reported as a loss")
	}
	if n := strings.Count(logs.String(), `msg="connected to broker"`); n != 2 {
		t.Fatalf("connections logged %d times, want 2:\n%s", n, logs.String())
	}
	dv.stop()
	select {
	case up := <-conn:
		t.Fatalf("clean stop reported: OnConnection(%v)", up)
	default:
	}
}
