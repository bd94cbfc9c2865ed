package sensors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
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
	joined   func()            // test hook: a read joined the one in flight
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
	gate *publishGate // the publish filter
}

// device is an opened driver with its busy state.
type device struct {
	mu      sync.Mutex
	s       Sensor
	busy    bool          // a driver read is in flight
	idle    chan struct{} // closed when that read returns
	cur     *flight       // that read, which other reads join
	retired bool          // being replaced by a reload: no new reads
	closed  bool          // s was closed
}

// flight is one driver read (one bus transaction) and its processed
// result, shared by every read of the sensor that asked while it was in
// flight: 20 jobs reading one sensor at the same moment cost the bus one
// transaction and all get its values.
type flight struct {
	done chan struct{} // closed once vals and err are set
	vals []Value
	err  error
}

// start returns the read in flight, or starts one: then lead is true and
// the caller must run the driver (s) and call finish. It fails if the
// device is retired.
func (d *device) start() (f *flight, lead bool, s Sensor, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.retired:
		return nil, false, nil, ErrReplaced
	case d.busy:
		return d.cur, false, nil, nil
	}
	d.busy, d.idle = true, make(chan struct{})
	d.cur = &flight{done: make(chan struct{})}
	return d.cur, true, d.s, nil
}

// finish ends the read start began, handing its result to every read
// that joined it.
func (d *device) finish(f *flight, vals []Value, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f.vals, f.err = vals, err
	close(f.done)
	d.busy, d.cur = false, nil
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
		r.sensors[c.Name] = &entry{cfg: c, dev: &device{s: s}, proc: newProcessor(c), gate: newPublishGate(c.Publish)}
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

// Read reads a sensor. Reads of one sensor at the same time share one
// driver read (one bus transaction) and its values: a read that finds one
// in flight waits for it instead of starting another, so slow reads never
// pile up and concurrent ones do not fail. The driver runs in its own
// goroutine, bounded by the sensor's timeout; Read returns at ctx's
// deadline or that timeout with ErrTimeout, the driver read going on for
// whoever else waits (or reads next, while it is still in flight). A
// read of a sensor that a Reload is replacing fails with ErrReplaced.
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
	f, lead, s, err := e.dev.start()
	if err != nil {
		r.mu.RUnlock()
		return Reading{}, fmt.Errorf("sensor %s: %w", name, err)
	}
	if lead {
		r.wg.Add(1)
	} else if r.joined != nil {
		r.joined()
	}
	r.mu.RUnlock()
	if lead {
		// The driver's deadline is the sensor's, not this caller's: others
		// may join the read and wait longer.
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.ReadTimeout())
		go func() {
			defer r.wg.Done()
			defer dcancel()
			v, err := s.Read(dctx)
			if err == nil {
				// Processed once (a filter sees each raw value once),
				// whoever reads it.
				v, err = e.proc.apply(v)
			}
			e.dev.finish(f, v, err)
			if r.readDone != nil {
				r.readDone()
			}
		}()
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.ReadTimeout())
	defer cancel()
	select {
	case <-f.done:
		if f.err != nil {
			return Reading{}, fmt.Errorf("sensor %s: %w", name, f.err)
		}
		return Reading{Sensor: name, Time: r.clock.Now().UTC(), Values: slices.Clone(f.vals)}, nil
	case <-ctx.Done():
		return Reading{}, fmt.Errorf("sensor %s: %w (%v)", name, ErrTimeout, context.Cause(ctx))
	}
}

// Publishes reports whether the reading goes to MQTT under its sensor's
// publish filter (Config.Publish), and if so counts it as the sensor's
// last published reading: call it once per reading, as it is handed to
// MQTT. A reading of a sensor not (or no longer) configured passes.
func (r *Registry) Publishes(rd Reading) bool {
	e, ok := r.lookup(rd.Sensor)
	if !ok {
		return true
	}
	return e.gate.pass(rd)
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
