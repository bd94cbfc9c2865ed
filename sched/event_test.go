package sched

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Many goroutines emit at once, as the loop and the workers do in a crowded
// second, while others wait for a batch's delivery as a run waits for its
// submitted event, and listeners come and go. The listener must see the
// batches in ticket order, each emitter must return only after its batch
// was delivered, and each waiter only after the batch it waits on. Run
// with -race.
func TestEmitOrderUnderConcurrency(t *testing.T) {
	const emitters, batches = 16, 300
	s := New(nil, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var (
		next      int64        // the order of the changes; guarded by s.mu
		delivered atomic.Int64 // the highest order delivered
		bad       atomic.Int32
	)
	s.Listen(func(ev Event) {
		var n int64
		fmt.Sscan(ev.JobID, &n)
		if prev := delivered.Load(); n != prev+1 {
			if bad.Add(1) == 1 {
				t.Errorf("batch %d delivered after %d", n, prev)
			}
		}
		delivered.Store(n)
	})
	var wg sync.WaitGroup
	for range emitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range batches {
				s.mu.Lock()
				next++
				mine := next
				ticket := s.evNext
				s.emitUnlock(Event{JobID: fmt.Sprint(mine), Kind: EventExecuted})
				if got := delivered.Load(); got < mine {
					t.Errorf("emitUnlock of %d returned when %d were delivered", mine, got)
				}
				// Wait, as awaitSubmitted does, on a batch that may be
				// delivered already or not yet.
				s.evMu.Lock()
				s.awaitTurnLocked(ticket + 1)
				s.evMu.Unlock()
			}
		}()
	}
	// Listeners come and go throughout; they read the scheduler (Len
	// takes s.mu), which they may: no scheduler lock is held.
	stop := make(chan struct{})
	churn := make(chan struct{})
	go func() {
		defer close(churn)
		for {
			select {
			case <-stop:
				return
			default:
			}
			cancel := s.Listen(func(Event) { _ = s.Len() })
			time.Sleep(50 * time.Microsecond)
			cancel()
		}
	}()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("emitters stuck")
	}
	close(stop)
	<-churn
	if got := delivered.Load(); got != emitters*batches {
		t.Errorf("%d batches delivered, want %d", got, emitters*batches)
	}
	s.evMu.Lock()
	defer s.evMu.Unlock()
	if len(s.evWait) != 0 {
		t.Errorf("%d waiters left behind", len(s.evWait))
	}
}
