package httpapi

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// fakeListener hands out one end of a pipe per Accept and counts them.
type fakeListener struct {
	accepted atomic.Int64
	closed   chan struct{}
}

func (f *fakeListener) Accept() (net.Conn, error) {
	select {
	case <-f.closed:
		return nil, net.ErrClosed
	default:
	}
	f.accepted.Add(1)
	c, _ := net.Pipe()
	return c, nil
}
func (f *fakeListener) Close() error   { close(f.closed); return nil }
func (f *fakeListener) Addr() net.Addr { return &net.TCPAddr{} }

func TestLimitListener(t *testing.T) {
	inner := &fakeListener{closed: make(chan struct{})}
	l := newLimitListener(inner, 1)
	c1, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan net.Conn)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		second <- c
	}()
	// The slot is taken: the inner listener is not asked for another
	// connection (this check can miss a bug, never invent one).
	if n := inner.accepted.Load(); n != 1 {
		t.Fatalf("%d connections accepted with one slot", n)
	}
	c1.Close()
	c1.Close() // a second Close gives nothing back twice
	select {
	case c2 := <-second:
		if inner.accepted.Load() != 2 {
			t.Fatal("the freed slot was not used")
		}
		// Full again: Close ends a waiting Accept at once.
		done := make(chan error)
		go func() { _, err := l.Accept(); done <- err }()
		l.Close()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("Accept after Close succeeded")
			}
		case <-time.After(15 * time.Second):
			t.Fatal("Close did not end a waiting Accept")
		}
		c2.Close()
	case <-time.After(15 * time.Second):
		t.Fatal("the slot freed by Close was not given to the waiting Accept")
	}
}
