package mqtt

import (
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// TestHeldRepliesLeaveFirst: the replies held while a connection was set
// up go out before a reply answered while setup is sending them, so that
// replies leave in the order their requests were answered (docs/mqtt.md,
// "Order"). Setup used to mark the connection up and then send the held
// replies: a request answered in between overtook them.
func TestHeldRepliesLeaveFirst(t *testing.T) {
	c := &recordingClient{}
	a := &Agent{
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), topics: NewTopics("t", "dev"),
		client: c, down: make(chan struct{}), connected: true, flushing: true,
		held: [][]byte{[]byte("1"), []byte("2")},
	}
	c.onPublish = func(payload string) {
		if payload == "1" {
			a.publishReply([]byte("3")) // the worker answers a request meanwhile
		}
	}
	a.flushHeld()
	a.publishReply([]byte("4"))
	if got, want := c.sent(), []string{"1", "2", "3", "4"}; !slices.Equal(got, want) {
		t.Errorf("replies sent in the order %v, want %v", got, want)
	}
}

// recordingClient is a paho client that only publishes: it records the
// payloads, and the broker acknowledges each at once.
type recordingClient struct {
	paho.Client // nil: any other method panics
	onPublish   func(payload string)
	mu          sync.Mutex
	payloads    []string
}

func (c *recordingClient) Publish(_ string, _ byte, _ bool, payload any) paho.Token {
	p := string(payload.([]byte))
	c.mu.Lock()
	c.payloads = append(c.payloads, p)
	c.mu.Unlock()
	if c.onPublish != nil {
		c.onPublish(p)
	}
	return ackedToken{}
}

func (c *recordingClient) sent() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.payloads)
}

type ackedToken struct{}

func (ackedToken) Wait() bool                     { return true }
func (ackedToken) WaitTimeout(time.Duration) bool { return true }
func (ackedToken) Done() <-chan struct{}          { return closed }
func (ackedToken) Error() error                   { return nil }

var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()
