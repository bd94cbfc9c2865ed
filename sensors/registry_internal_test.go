package sensors

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// gate is a driver whose reads block until released.
type gate struct {
	started chan struct{}
	release chan struct{}
}

func (g gate) Read(context.Context) ([]Value, error) {
	g.started <- struct{}{}
	<-g.release
	return []Value{{Name: "v", Value: 1}}, nil
}

// TestSlowReadGivesUpAndStaysBusy: a read that outlives its deadline
// returns ErrTimeout at once; the sensor stays busy (no pile-up) until the
// driver returns, then reads again.
func TestSlowReadGivesUpAndStaysBusy(t *testing.T) {
	g := gate{started: make(chan struct{}), release: make(chan struct{})}
	c := Config{Name: "slow", Driver: "sim"}
	r := &Registry{clock: nil, order: []string{"slow"}, sensors: map[string]*entry{"slow": {cfg: c, s: g, proc: newProcessor(c)}}}
	returned := make(chan struct{}, 1)
	r.readDone = func() { returned <- struct{}{} }
	r.clock = fakeNow{}

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := r.Read(ctx, "slow")
		errc <- err
	}()
	<-g.started
	cancel() // the job's deadline
	if err := <-errc; !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if _, err := r.Read(context.Background(), "slow"); !errors.Is(err, ErrBusy) {
		t.Fatalf("read while the first is still running: got %v, want ErrBusy", err)
	}
	g.release <- struct{}{}
	<-returned

	go func() { <-g.started; g.release <- struct{}{} }()
	rd, err := r.Read(context.Background(), "slow")
	if err != nil || rd.Values[0].Value != 1 {
		t.Fatalf("read after the slow one returned: %v, %v", rd, err)
	}
	<-returned
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

type fakeNow struct{}

func (fakeNow) Now() time.Time                     { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
func (fakeNow) Elapsed() time.Duration             { return 0 }
func (fakeNow) NewTimer(time.Duration) sched.Timer { panic("unused") }
