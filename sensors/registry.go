package sensors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/edgecron/edgecron/sched"
)

// Registry holds the configured sensors by name. Its methods are safe for
// concurrent use.
type Registry struct {
	clock   sched.Clock
	order   []string
	sensors map[string]*entry
	wg      sync.WaitGroup // reads in flight
	mu      sync.RWMutex   // guards closed against wg.Add
	closed  bool

	readDone func() // test hook: a driver read returned and busy dropped
}

type entry struct {
	cfg  Config
	s    Sensor
	busy atomic.Bool
	mu   sync.Mutex // guards proc
	proc *processor
}

// Build validates cfgs (errors name "sensors[i].key") and opens every
// sensor on hw. A Simulator hw serves every sensor itself under the same
// name, whatever the driver. clock stamps readings (nil: the system clock).
// On error, the sensors opened so far are closed.
func Build(cfgs []Config, hw Hardware, clock sched.Clock) (*Registry, error) {
	if clock == nil {
		clock = sched.NewSystemClock()
	}
	cfgs = append([]Config(nil), cfgs...)
	if err := ValidateAll(cfgs); err != nil {
		return nil, err
	}
	r := &Registry{clock: clock, sensors: make(map[string]*entry, len(cfgs))}
	sim, simulated := hw.(Simulator)
	for i, c := range cfgs {
		var (
			s   Sensor
			err error
		)
		if simulated {
			s, err = sim.SimulateSensor(c)
		} else {
			d, _ := Lookup(c.Driver)
			s, err = d.Open(c, hw)
		}
		if err == nil && s == nil {
			err = fmt.Errorf("driver %s returned no sensor", c.Driver)
		}
		if err != nil {
			_ = r.Close()
			var ke *KeyError
			if errors.As(err, &ke) && ke.Key != "" {
				return nil, fmt.Errorf("sensors[%d].%s: %s", i, ke.Key, ke.Msg)
			}
			return nil, fmt.Errorf("sensors[%d] (%s): %w", i, c.Name, err)
		}
		r.order = append(r.order, c.Name)
		r.sensors[c.Name] = &entry{cfg: c, s: s, proc: newProcessor(c)}
	}
	return r, nil
}

// Names returns the sensor names in config order.
func (r *Registry) Names() []string { return append([]string(nil), r.order...) }

// Config returns the (validated, defaulted) config of a sensor.
func (r *Registry) Config(name string) (Config, bool) {
	e, ok := r.sensors[name]
	if !ok {
		return Config{}, false
	}
	return e.cfg, true
}

// Describe returns the values a reading of the sensor carries (names and
// units; Value unused), as its driver declares them.
func (r *Registry) Describe(name string) []Value {
	e, ok := r.sensors[name]
	if !ok {
		return nil
	}
	d, _ := Lookup(e.cfg.Driver)
	return d.Values(e.cfg)
}

// Has reports whether a sensor of that name is configured.
func (r *Registry) Has(name string) bool { _, ok := r.sensors[name]; return ok }

// Read reads a sensor. The driver runs in its own goroutine: Read returns
// at ctx's deadline or the sensor's timeout with ErrTimeout, while the
// sensor stays busy (ErrBusy for other reads) until the driver returns, so
// slow reads never pile up.
func (r *Registry) Read(ctx context.Context, name string) (Reading, error) {
	e, ok := r.sensors[name]
	if !ok {
		return Reading{}, fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return Reading{}, fmt.Errorf("sensor %s: %w", name, ErrClosed)
	}
	if !e.busy.CompareAndSwap(false, true) {
		r.mu.RUnlock()
		return Reading{}, fmt.Errorf("sensor %s: %w", name, ErrBusy)
	}
	r.wg.Add(1)
	r.mu.RUnlock()
	ctx, cancel := context.WithTimeout(ctx, e.cfg.ReadTimeout())
	defer cancel()
	type result struct {
		v   []Value
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer r.wg.Done()
		v, err := e.s.Read(ctx)
		e.busy.Store(false)
		done <- result{v, err}
		if r.readDone != nil {
			r.readDone()
		}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			return Reading{}, fmt.Errorf("sensor %s: %w", name, res.err)
		}
		e.mu.Lock()
		vals, err := e.proc.apply(res.v)
		e.mu.Unlock()
		if err != nil {
			return Reading{}, fmt.Errorf("sensor %s: %w", name, err)
		}
		return Reading{Sensor: name, Time: r.clock.Now().UTC(), Values: vals}, nil
	case <-ctx.Done():
		return Reading{}, fmt.Errorf("sensor %s: %w (%v)", name, ErrTimeout, context.Cause(ctx))
	}
}

// Close refuses new reads (ErrClosed), waits for reads in flight and
// closes the sensors that hold resources (edge counters' goroutines). Close
// the old Registry before building its replacement on the same pins.
func (r *Registry) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	r.wg.Wait()
	var errs []error
	for _, n := range r.order {
		if c, ok := r.sensors[n].s.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("sensor %s: %w", n, err))
			}
		}
	}
	return errors.Join(errs...)
}
