package sensors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/onewire"
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

// TestSlowReadGivesUpAndIsJoined: a read that outlives its deadline
// returns ErrTimeout at once; the driver read goes on, and a read that
// comes meanwhile joins it (no second transaction, no pile-up) and gets
// its value; once it returned, the next read starts a new one.
func TestSlowReadGivesUpAndIsJoined(t *testing.T) {
	g := gate{started: make(chan struct{}, 2), release: make(chan struct{})}
	c := Config{Name: "slow", Driver: "sim"}
	r := &Registry{clock: nil, order: []string{"slow"}, sensors: map[string]*entry{"slow": {cfg: c, dev: &device{s: g}, proc: newProcessor(c)}}}
	returned := make(chan struct{}, 1)
	joined := make(chan struct{}, 1)
	r.readDone = func() { returned <- struct{}{} }
	r.joined = func() { joined <- struct{}{} }
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
	second := make(chan error, 1)
	go func() {
		rd, err := r.Read(context.Background(), "slow")
		if err == nil && rd.Values[0].Value != 1 {
			err = fmt.Errorf("value %v", rd.Values)
		}
		second <- err
	}()
	<-joined
	g.release <- struct{}{}
	if err := <-second; err != nil {
		t.Fatalf("the read that joined: %v", err)
	}
	<-returned
	select {
	case <-g.started:
		t.Fatal("the read that joined started a second transaction")
	default:
	}

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

// counter is a driver that counts its reads (bus transactions) and holds
// each until released; its value is the transaction's number.
type counter struct {
	n       *atomic.Int32
	started chan struct{}
	release chan struct{}
}

func (c counter) Read(context.Context) ([]Value, error) {
	n := c.n.Add(1)
	c.started <- struct{}{}
	<-c.release
	return []Value{{Name: "v", Value: float64(n)}}, nil
}

// TestConcurrentReadsShareOneTransaction: 20 reads of one sensor at the
// same moment cost one driver read, and all 20 get its (processed)
// values; none fails.
func TestConcurrentReadsShareOneTransaction(t *testing.T) {
	var n atomic.Int32
	d := counter{n: &n, started: make(chan struct{}, 1), release: make(chan struct{})}
	c := Config{Name: "t", Driver: "sim"}
	r := &Registry{clock: fakeNow{}, order: []string{"t"}, sensors: map[string]*entry{"t": {cfg: c, dev: &device{s: d}, proc: newProcessor(c)}}}
	joined := make(chan struct{}, 32)
	r.joined = func() { joined <- struct{}{} }
	const readers = 20
	results := make(chan error, readers)
	read := func() {
		rd, err := r.Read(context.Background(), "t")
		if err == nil && (len(rd.Values) != 1 || rd.Values[0].Value != 1) {
			err = fmt.Errorf("values %v, want transaction 1's", rd.Values)
		}
		results <- err
	}
	go read()
	<-d.started
	for range readers - 1 {
		go read()
	}
	for range readers - 1 {
		<-joined
	}
	close(d.release)
	for range readers {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if got := n.Load(); got != 1 {
		t.Fatalf("%d driver reads for %d concurrent reads, want 1", got, readers)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

type fakeNow struct{}

func (fakeNow) Now() time.Time                     { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
func (fakeNow) Elapsed() time.Duration             { return 0 }
func (fakeNow) NewTimer(time.Duration) sched.Timer { panic("unused") }

// gateCloser is a gate that holds a resource: reading it once closed is
// recorded as a bug.
type gateCloser struct {
	gate
	mu         sync.Mutex
	closed     bool
	readClosed bool
}

func (g *gateCloser) Read(ctx context.Context) ([]Value, error) {
	g.mu.Lock()
	if g.closed {
		g.readClosed = true
	}
	g.mu.Unlock()
	return g.gate.Read(ctx)
}

func (g *gateCloser) Close() error { g.mu.Lock(); defer g.mu.Unlock(); g.closed = true; return nil }

func (g *gateCloser) state() (closed, readClosed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed, g.readClosed
}

// gateHardware opens each "gatetest" sensor as the next gateCloser.
type gateHardware struct{ next chan *gateCloser }

func (gateHardware) I2C(string) (i2c.Bus, error)         { return nil, errors.New("no I2C") }
func (gateHardware) Pin(string) (gpio.PinIO, error)      { return nil, errors.New("no pins") }
func (gateHardware) OneWire(string) (onewire.Bus, error) { return nil, errors.New("no 1-Wire") }
func (gateHardware) SysfsRoot() string                   { return "" }

func init() {
	Register(Driver{
		Name:   "gatetest",
		Keys:   []string{"quantity"},
		Values: func(Config) []Value { return []Value{{Name: "v"}} },
		Open:   func(_ Config, hw Hardware) (Sensor, error) { return <-hw.(gateHardware).next, nil },
	})
}

func newGate() *gateCloser {
	return &gateCloser{gate: gate{started: make(chan struct{}, 1), release: make(chan struct{}, 1)}}
}

// TestReloadWaitsForTheReadInFlight: a sensor that holds a resource and is
// being replaced is closed only once its read in flight returned; reads
// meanwhile get ErrReplaced; if the wait outlasts Reload's ctx, nothing
// changes.
func TestReloadWaitsForTheReadInFlight(t *testing.T) {
	for _, giveUp := range []bool{false, true} {
		t.Run(fmt.Sprintf("give up %v", giveUp), func(t *testing.T) {
			hw := gateHardware{next: make(chan *gateCloser, 1)}
			old := newGate()
			hw.next <- old
			r, err := Build([]Config{{Name: "a", Driver: "gatetest"}}, hw, fakeNow{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			waiting := make(chan string, 1)
			r.waiting = func(n string) { waiting <- n }

			readc := make(chan error, 1)
			go func() { _, err := r.Read(context.Background(), "a"); readc <- err }()
			<-old.started

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			repl := newGate()
			hw.next <- repl
			reloadc := make(chan error, 1)
			go func() { reloadc <- r.Reload(ctx, []Config{{Name: "a", Driver: "gatetest", Quantity: "x"}}, hw) }()
			if n := <-waiting; n != "a" {
				t.Fatalf("waiting for %s", n)
			}
			if _, err := r.Read(context.Background(), "a"); !errors.Is(err, ErrReplaced) {
				t.Fatalf("read while replaced: %v, want ErrReplaced", err)
			}
			if closed, _ := old.state(); closed {
				t.Fatal("closed with a read in flight")
			}
			if giveUp {
				cancel()
				if err := <-reloadc; !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "sensor a: waiting for its read in flight") {
					t.Fatalf("reload: %v", err)
				}
				<-hw.next // not opened
			}
			old.release <- struct{}{}
			if err := <-readc; err != nil {
				t.Fatalf("the read in flight: %v", err)
			}
			if giveUp {
				if c, _ := r.Config("a"); c.Quantity != "" {
					t.Fatalf("config changed: %+v", c)
				}
				old.release <- struct{}{}
				if _, err := r.Read(context.Background(), "a"); err != nil {
					t.Fatalf("read after the reload gave up: %v", err)
				}
				return
			}
			if err := <-reloadc; err != nil {
				t.Fatal(err)
			}
			if closed, readClosed := old.state(); !closed || readClosed {
				t.Fatalf("old sensor closed %v, read once closed %v", closed, readClosed)
			}
			repl.release <- struct{}{}
			if _, err := r.Read(context.Background(), "a"); err != nil {
				t.Fatalf("read of the new sensor: %v", err)
			}
		})
	}
}
