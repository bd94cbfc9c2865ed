package sensors

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
)

// Equal reports whether two configs define the same sensor.
func (c Config) Equal(o Config) bool { return reflect.DeepEqual(c, o) }

// sameDriver reports whether two configs open the same driver the same
// way: every key but those the Registry applies itself (interval,
// timeout, calibration, round, filter, publish) is equal.
func sameDriver(a, b Config) bool {
	strip := func(c Config) Config {
		c.Interval, c.Timeout = 0, 0
		c.Calibration, c.Round, c.Filter, c.Publish = Calibration{}, nil, Filter{}, Publish{}
		return c
	}
	return strip(a).Equal(strip(b))
}

// sameProcessing reports whether two configs post-process reads alike.
func sameProcessing(a, b Config) bool {
	return reflect.DeepEqual(a.Calibration, b.Calibration) && reflect.DeepEqual(a.Round, b.Round) && a.Filter == b.Filter
}

// Reload applies a new sensor list (SIGHUP) while reads go on. A sensor
// whose driver keys did not change is not reopened: it keeps its driver
// (an edge counter its count), its busy state and, unless calibration,
// filter or round changed, its filter history and, unless publish
// changed, its last published reading; a new interval or timeout applies
// to the next read. New sensors, and those whose driver keys
// changed, are opened; removed and replaced ones are dropped.
//
// The new list is validated (errors name "sensors[i].key") and every new
// sensor opened before anything changes: on error the Registry is as it
// was, with one exception. A replaced sensor that holds resources (an
// io.Closer: a gpio counter's pin, a BME280) is closed before the new
// sensors open, since one of them may take the same pin; Reload first
// waits for its read in flight, if any, to return (at ctx's end it gives
// up and changes nothing), and reads of it meanwhile fail with ErrReplaced.
// If a new sensor then fails to open, those sensors are opened again from
// their running config: a counter's count restarts. A replaced sensor that
// holds nothing is never closed: a read in flight on it returns as usual.
//
// An error that wraps ErrNotClosed means the reload was applied but a
// dropped sensor's Close failed.
func (r *Registry) Reload(ctx context.Context, cfgs []Config, hw Hardware) error {
	cfgs = append([]Config(nil), cfgs...)
	if err := ValidateAll(cfgs); err != nil {
		return err
	}
	r.reload.Lock()
	defer r.reload.Unlock()
	r.mu.RLock()
	closed, old, oldOrder := r.closed, r.sensors, r.order
	r.mu.RUnlock()
	if closed {
		return ErrClosed
	}

	next := make(map[string]*entry, len(cfgs))
	kept := map[*device]bool{}
	var toOpen []int
	for i, c := range cfgs {
		o, ok := old[c.Name]
		if !ok || !sameDriver(o.cfg, c) {
			toOpen = append(toOpen, i)
			continue
		}
		e := &entry{cfg: c, dev: o.dev, proc: o.proc, gate: o.gate}
		if !sameProcessing(o.cfg, c) {
			e.proc = newProcessor(c)
		}
		if o.cfg.Publish != c.Publish {
			e.gate = newPublishGate(c.Publish)
		}
		next[c.Name] = e
		kept[o.dev] = true
	}

	var closing []string
	for _, n := range oldOrder {
		if d := old[n].dev; !kept[d] && d.holdsResources() {
			closing = append(closing, n)
		}
	}
	for k, n := range closing {
		var waiting func()
		if r.waiting != nil {
			waiting = func() { r.waiting(n) }
		}
		if err := old[n].dev.retire(ctx, waiting); err != nil {
			for _, m := range closing[:k] {
				old[m].dev.unretire()
			}
			return fmt.Errorf("sensor %s: waiting for its read in flight before closing it: %w", n, err)
		}
	}
	var closeErrs []error
	for _, n := range closing {
		if err := old[n].dev.close(); err != nil {
			closeErrs = append(closeErrs, fmt.Errorf("sensor %s: %w", n, err))
		}
	}

	var opened []*device
	for _, i := range toOpen {
		s, err := openSensor(i, cfgs[i], hw)
		if err != nil {
			for _, d := range opened {
				_ = d.close()
			}
			return errors.Join(err, reopen(old, oldOrder, closing, hw))
		}
		d := &device{s: s}
		opened = append(opened, d)
		next[cfgs[i].Name] = &entry{cfg: cfgs[i], dev: d, proc: newProcessor(cfgs[i]), gate: newPublishGate(cfgs[i].Publish)}
	}

	order := make([]string, len(cfgs))
	for i, c := range cfgs {
		order[i] = c.Name
	}
	r.mu.Lock()
	r.order, r.sensors = order, next
	r.mu.Unlock()
	if len(closeErrs) > 0 {
		return fmt.Errorf("%w: %w", ErrNotClosed, errors.Join(closeErrs...))
	}
	return nil
}

// reopen opens again, from the running config, the sensors a failed
// Reload closed, and makes them readable again. A sensor that fails to
// reopen stays closed: its reads fail with ErrReplaced.
func reopen(old map[string]*entry, order, names []string, hw Hardware) error {
	var errs []error
	for _, n := range names {
		e := old[n]
		s, err := openSensor(slices.Index(order, n), e.cfg, hw)
		if err != nil {
			errs = append(errs, fmt.Errorf("reopening the running config's %w (it stays closed)", err))
			continue
		}
		e.dev.mu.Lock()
		e.dev.s, e.dev.closed, e.dev.retired = s, false, false
		e.dev.mu.Unlock()
	}
	return errors.Join(errs...)
}
