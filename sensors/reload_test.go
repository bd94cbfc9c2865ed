package sensors_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgecron/edgecron/board/boardtest"
	"github.com/edgecron/edgecron/internal/units"
	"github.com/edgecron/edgecron/sensors"
	"periph.io/x/conn/v3/gpio"
)

// rig is the hardware of the reload tests: it serves the "counting"
// driver and records what it opens and closes.
type rig struct {
	boardtest.Hardware

	mu     sync.Mutex
	opens  []string
	closes []string
	misuse []string // reads of a closed sensor
}

func (h *rig) log() (opens, closes string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.misuse) > 0 {
		panic("read after Close: " + strings.Join(h.misuse, ","))
	}
	return strings.Join(h.opens, ","), strings.Join(h.closes, ",")
}

func (h *rig) reset() { h.mu.Lock(); h.opens, h.closes = nil, nil; h.mu.Unlock() }

// counting is a sensor that holds a resource (an io.Closer) and reads 1,
// 2, 3...: its value tells whether the driver was reopened, and a filter's
// output whether the filter history was kept.
type counting struct {
	h       *rig
	name, q string

	mu     sync.Mutex
	n      int
	closed bool
}

func (c *counting) Read(context.Context) ([]sensors.Value, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		c.h.mu.Lock()
		c.h.misuse = append(c.h.misuse, c.name)
		c.h.mu.Unlock()
		return nil, errors.New("read after Close")
	}
	c.n++
	return []sensors.Value{{Name: c.q, Value: float64(c.n)}}, nil
}

func (c *counting) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	c.h.closes = append(c.h.closes, c.name)
	return nil
}

func init() {
	sensors.Register(sensors.Driver{
		Name: "counting",
		Keys: []string{"pin", "quantity"},
		Check: func(c *sensors.Config) error {
			if c.Quantity == "" {
				c.Quantity = "v"
			}
			return nil
		},
		Values: func(c sensors.Config) []sensors.Value { return []sensors.Value{{Name: c.Quantity}} },
		Open: func(c sensors.Config, hw sensors.Hardware) (sensors.Sensor, error) {
			if c.Pin != "" {
				if _, err := hw.Pin(c.Pin); err != nil {
					return nil, sensors.Keyf("pin", "%w", err)
				}
			}
			h := hw.(*rig)
			h.mu.Lock()
			defer h.mu.Unlock()
			h.opens = append(h.opens, c.Name)
			return &counting{h: h, name: c.Name, q: c.Quantity}, nil
		},
	})
}

func readValue(t *testing.T, r *sensors.Registry, name string) float64 {
	t.Helper()
	rd, err := r.Read(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return rd.Values[0].Value
}

func TestReload(t *testing.T) {
	mean3 := sensors.Filter{Kind: "mean", Window: 3}
	a := sensors.Config{Name: "a", Driver: "counting", Filter: mean3}
	b := sensors.Config{Name: "b", Driver: "counting", Filter: mean3}
	c := sensors.Config{Name: "c", Driver: "counting"}
	with := func(c sensors.Config, f func(*sensors.Config)) sensors.Config { f(&c); return c }
	renamed := with(a, func(c *sensors.Config) { c.Quantity = "x" })
	noPin := with(c, func(c *sensors.Config) { c.Pin = "GPIO99" })

	// Before each reload, a and b read 1 then 2 (means 1, 1.5). want is
	// each sensor's next read: 2 = mean(1,2,3), the driver and the filter
	// history kept; 3 = the driver kept, the filter restarted; 1 = reopened.
	tests := []struct {
		name          string
		cfgs          []sensors.Config
		err           string // prefix of the error; "": none
		want          map[string]float64
		opens, closes string
	}{
		{"unchanged", []sensors.Config{a, b}, "", map[string]float64{"a": 2, "b": 2}, "", ""},
		{"interval and timeout", []sensors.Config{with(a, func(c *sensors.Config) {
			c.Interval, c.Timeout = units.Duration(5*time.Second), units.Duration(time.Second)
		}), b}, "", map[string]float64{"a": 2, "b": 2}, "", ""},
		{"calibration", []sensors.Config{with(a, func(c *sensors.Config) { c.Calibration.Offset = 10 }), b}, "",
			map[string]float64{"a": 13, "b": 2}, "", ""},
		{"filter", []sensors.Config{with(a, func(c *sensors.Config) { c.Filter.Window = 5 }), b}, "",
			map[string]float64{"a": 3, "b": 2}, "", ""},
		{"driver key changed: reopened", []sensors.Config{renamed, b}, "", map[string]float64{"a": 1, "b": 2}, "a", "a"},
		{"added", []sensors.Config{a, b, c}, "", map[string]float64{"a": 2, "b": 2, "c": 1}, "c", ""},
		{"removed", []sensors.Config{b}, "", map[string]float64{"b": 2}, "", "a"},
		{"reordered", []sensors.Config{b, a}, "", map[string]float64{"b": 2, "a": 2}, "", ""},
		{"invalid", []sensors.Config{with(a, func(c *sensors.Config) { c.Filter.Kind = "max" }), b},
			"sensors[0].filter.kind: must be median or mean", map[string]float64{"a": 2, "b": 2}, "", ""},
		{"duplicate", []sensors.Config{a, b, a}, `sensors[2].name: "a" is already the name of sensors[0]`,
			map[string]float64{"a": 2, "b": 2}, "", ""},
		{"open failure", []sensors.Config{a, b, noPin}, `sensors[2].pin: no GPIO pin "GPIO99"`,
			map[string]float64{"a": 2, "b": 2}, "", ""},
		// The new a opened and closed again; the running a, replaced, was
		// closed before the new sensors opened, then reopened from its
		// running config: its count restarts, its filter history stays.
		{"open failure after closing a replaced sensor", []sensors.Config{renamed, b, noPin}, `sensors[2].pin: no GPIO pin "GPIO99"`,
			map[string]float64{"a": (1 + 2 + 1) / 3.0, "b": 2}, "a,a", "a,a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &rig{}
			r, err := sensors.Build([]sensors.Config{a, b}, h, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for _, n := range []string{"a", "b"} {
				readValue(t, r, n)
				readValue(t, r, n)
			}
			h.reset()

			err = r.Reload(context.Background(), tt.cfgs, h)
			if tt.name == "open failure" {
				var ke *sensors.KeyError
				if !errors.As(err, &ke) || ke.Key != "pin" {
					t.Errorf("the driver's KeyError is not reachable through %v", err)
				}
			}
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)):
				t.Fatalf("got %v, want %q", err, tt.err)
			}
			names := []string{"a", "b"}
			if tt.err == "" {
				names = nil
				for _, c := range tt.cfgs {
					names = append(names, c.Name)
				}
			}
			if got := r.Names(); !slices.Equal(got, names) {
				t.Errorf("names %v, want %v", got, names)
			}
			for _, n := range []string{"a", "b", "c"} {
				want, ok := tt.want[n]
				if !ok {
					if _, err := r.Read(context.Background(), n); !errors.Is(err, sensors.ErrUnknown) || r.Has(n) {
						t.Errorf("%s: read %v, want ErrUnknown", n, err)
					}
					continue
				}
				if got := readValue(t, r, n); got != want {
					t.Errorf("%s read %v, want %v", n, got, want)
				}
			}
			if opens, closes := h.log(); opens != tt.opens || closes != tt.closes {
				t.Errorf("opened %q closed %q, want %q and %q", opens, closes, tt.opens, tt.closes)
			}
			if tt.err == "" {
				want := slices.Clone(tt.cfgs)
				_ = sensors.ValidateAll(want) // fills the defaults, as Reload did
				for _, c := range want {
					if got, _ := r.Config(c.Name); !got.Equal(c) {
						t.Errorf("config of %s: %+v, want %+v", c.Name, got, c)
					}
				}
			}
			if v := r.Describe("a"); tt.err == "" && tt.cfgs[0].Quantity == "x" && (len(v) != 1 || v[0].Name != "x") {
				t.Errorf("describe a: %+v", v)
			}
		})
	}
}

// TestReloadCounterOnTheSamePin: a gpio counter whose edge changed is
// replaced by a counter on the same pin. The old one is closed first (its
// Close disables edge detection), so the new one keeps counting.
func TestReloadCounterOnTheSamePin(t *testing.T) {
	p := &boardtest.Pin{N: "GPIO6", Edges: make(chan gpio.Level)}
	hw := &boardtest.Hardware{Pins: map[string]*boardtest.Pin{"GPIO6": p}}
	rain := sensors.Config{Name: "rain", Driver: "gpio", Pin: "GPIO6", Mode: "counter", Quantity: "rain"}
	r, err := sensors.Build([]sensors.Config{rain}, hw, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Two edges: the second is taken once the first was counted.
	pulse := func() { p.Edges <- gpio.Low; p.Edges <- gpio.High }
	pulse()
	if rd, err := r.Read(context.Background(), "rain"); err != nil || rd.Values[1].Value < 1 {
		t.Fatalf("before: %+v %v", rd, err)
	}

	rain.Edge = "rising"
	if err := r.Reload(context.Background(), []sensors.Config{rain}, hw); err != nil {
		t.Fatal(err)
	}
	if p.Edge() != gpio.RisingEdge {
		t.Fatalf("edge detection %v after the reload, want rising", p.Edge())
	}
	pulse()
	if rd, err := r.Read(context.Background(), "rain"); err != nil || rd.Values[1].Value < 1 || rd.Values[1].Value > 2 {
		t.Fatalf("after: %+v %v", rd, err)
	}
}

// TestReloadUnderReads reloads back and forth while other goroutines read
// and list the sensors (run with -race). No read reaches a closed driver.
func TestReloadUnderReads(t *testing.T) {
	h := &rig{}
	one := []sensors.Config{{Name: "a", Driver: "counting"}, {Name: "b", Driver: "counting"}}
	two := []sensors.Config{{Name: "a", Driver: "counting", Quantity: "x"}, {Name: "c", Driver: "counting", Round: ptr(1)}}
	r, err := sensors.Build(one, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, n := range []string{"a", "b", "c"} {
					_, err := r.Read(context.Background(), n)
					if err != nil && !errors.Is(err, sensors.ErrUnknown) && !errors.Is(err, sensors.ErrReplaced) {
						t.Errorf("reader %d: %v", i, err)
						return
					}
					r.Has(n)
					r.Describe(n)
					r.Config(n)
				}
				r.Names()
			}
		})
	}
	for i := range 200 {
		cfgs := one
		if i%2 == 0 {
			cfgs = two
		}
		if err := r.Reload(context.Background(), cfgs, h); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	h.log() // panics on a read after Close
}
