package sensors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/edgecron/edgecron/internal/cfgkey"
	"github.com/edgecron/edgecron/sched"
)

// Registry holds the configured sensors by name. Its methods are safe for
// concurrent use; Reload replaces the sensor list while reads go on.
type Registry struct {
	clock sched.Clock

	reload sync.Mutex // serialises Reload and Close

	mu      sync.RWMutex // guards the fields below, and closed against wg.Add
	order   []string
	sensors map[string]*entry
	closed  bool

	wg sync.WaitGroup // reads in flight

	readDone func()            // test hook: a driver read returned and busy dropped
	waiting  func(name string) // test hook: Reload waits for a read of name to return
}

// entry is one configured sensor. It is never modified once in the
// table: a reload that changes only the processing (calibration, filter,
// round) or the interval and timeout puts a new entry in the table that
// shares the old one's device, and its processor when that did not
// change.
type entry struct {
	cfg  Config
	dev  *device
	proc *processor
}

// device is an opened driver with its busy state.
type device struct {
	mu      sync.Mutex
	s       Sensor
	busy    bool          // a driver read is in flight
	idle    chan struct{} // closed when that read returns
	retired bool          // being replaced by a reload: no new reads
	closed  bool          // s was closed
}

// start marks the device busy and returns its driver, or an error if it
// is busy or retired.
func (d *device) start() (Sensor, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.retired:
		return nil, ErrReplaced
	case d.busy:
		return nil, ErrBusy
	}
	d.busy, d.idle = true, make(chan struct{})
	return d.s, nil
}

// finish ends the read start began.
func (d *device) finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.busy = false
	close(d.idle)
}

// retire refuses new reads and waits for the read in flight, if any, to
// return (calling waiting first, if set); at ctx's end it gives up, the
// device usable again.
func (d *device) retire(ctx context.Context, waiting func()) error {
	d.mu.Lock()
	d.retired = true
	idle := d.idle
	busy := d.busy
	d.mu.Unlock()
	if !busy {
		return nil
	}
	if waiting != nil {
		waiting()
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		d.unretire()
		return context.Cause(ctx)
	}
}

func (d *device) unretire() {
	d.mu.Lock()
	d.retired = false
	d.mu.Unlock()
}

// close closes the driver if it holds resources (io.Closer). The caller
// made sure no read is in flight (retire, or the Registry's wait group).
func (d *device) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if c, ok := d.s.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// holdsResources reports whether the driver must be closed (an edge
// counter's goroutine, a chip to put to sleep).
func (d *device) holdsResources() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, ok := d.s.(io.Closer)
	return ok
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
	for i, c := range cfgs {
		s, err := openSensor(i, c, hw)
		if err != nil {
			_ = r.Close()
			return nil, err
		}
		r.order = append(r.order, c.Name)
		r.sensors[c.Name] = &entry{cfg: c, dev: &device{s: s}, proc: newProcessor(c)}
	}
	return r, nil
}

// openSensor opens sensors[i] on hw, or on the simulated board that hw is.
// Errors name the entry, and its key when the driver says which.
func openSensor(i int, c Config, hw Hardware) (Sensor, error) {
	var (
		s   Sensor
		err error
	)
	if sim, ok := hw.(Simulator); ok {
		s, err = sim.SimulateSensor(c)
	} else {
		d, _ := Lookup(c.Driver)
		s, err = d.Open(c, hw)
	}
	if err == nil && s == nil {
		err = fmt.Errorf("driver %s returned no sensor", c.Driver)
	}
	if err != nil {
		return nil, cfgkey.Entry("sensors", i, c.Name, err)
	}
	return s, nil
}

// lookup returns the named entry.
func (r *Registry) lookup(name string) (*entry, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.sensors[name]
	return e, ok
}

// Names returns the sensor names in config order.
func (r *Registry) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]string(nil), r.order...)
}

// Config returns the (validated, defaulted) config of a sensor.
func (r *Registry) Config(name string) (Config, bool) {
	e, ok := r.lookup(name)
	if !ok {
		return Config{}, false
	}
	return e.cfg, true
}

// Describe returns the values a reading of the sensor carries (names,
// units and classes; Value unused), as its driver declares them with the
// config's device_class and state_class applied (Config.Values).
func (r *Registry) Describe(name string) []Value {
	e, ok := r.lookup(name)
	if !ok {
		return nil
	}
	return e.cfg.Values()
}

// Has reports whether a sensor of that name is configured.
func (r *Registry) Has(name string) bool { _, ok := r.lookup(name); return ok }

// Read reads a sensor. The driver runs in its own goroutine: Read returns
// at ctx's deadline or the sensor's timeout with ErrTimeout, while the
// sensor stays busy (ErrBusy for other reads) until the driver returns, so
// slow reads never pile up. A read of a sensor that a Reload is replacing
// fails with ErrReplaced.
func (r *Registry) Read(ctx context.Context, name string) (Reading, error) {
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return Reading{}, fmt.Errorf("sensor %s: %w", name, ErrClosed)
	}
	e, ok := r.sensors[name]
	if !ok {
		r.mu.RUnlock()
		return Reading{}, fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	s, err := e.dev.start()
	if err != nil {
		r.mu.RUnlock()
		return Reading{}, fmt.Errorf("sensor %s: %w", name, err)
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
		v, err := s.Read(ctx)
		e.dev.finish()
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
		vals, err := e.proc.apply(res.v)
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
	r.reload.Lock()
	defer r.reload.Unlock()
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
		if err := r.sensors[n].dev.close(); err != nil {
			errs = append(errs, fmt.Errorf("sensor %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}
