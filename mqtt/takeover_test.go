package mqtt_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
)

// logWatch is a slog handler that hands every record whose message
// contains want to a channel.
type logWatch struct {
	want string
	ch   chan string
}

func (l logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (l logWatch) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, l.want) {
		select {
		case l.ch <- r.Message:
		default:
		}
	}
	return nil
}
func (l logWatch) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logWatch) WithGroup(string) slog.Handler      { return l }

// TestSessionTakeoverLogged is issue 13's ninth gap, first part: two
// agents with the same device_id took each other's session 215 times in
// 30 s with no hint in the log. Now the loser of each round backs off,
// and one of them says what is going on.
func TestSessionTakeoverLogged(t *testing.T) {
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dev1 := uid(prefix, "dev1")
	lw := logWatch{want: "another agent running with this device_id", ch: make(chan string, 1)}
	withLog := func(_ *device, d *mqtt.Deps) { d.Logger = slog.New(lw) }
	newDevice(t, url, prefix, dev1).start(withLog)
	newDevice(t, url, prefix, dev1).start(withLog)
	receive(t, lw.ch, "the takeover warning")
}

// TestStopWhileConnecting is issue 13's ninth gap, second part: a stop
// while the broker has accepted the connection but sends no CONNACK waited
// 15-19 s. Run now returns without waiting for it.
func TestStopWhileConnecting(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c // held open, never answered
		}
	}()
	dv := newDevice(t, "tcp://"+l.Addr().String(), "edgecron-test-silent", "dev1")
	dv.start()
	c := receive(t, accepted, "the agent's connection")
	defer c.Close()
	cancel := dv.cancel
	dv.cancel = nil
	cancel()
	// Bounded well below paho's connect timeout (10 s to dial, as much for
	// the CONNACK): Run no longer waits for either.
	select {
	case err := <-dv.done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run waited for a CONNACK that never comes")
	}
}
