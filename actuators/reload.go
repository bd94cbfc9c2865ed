package actuators

import (
	"errors"
	"reflect"
)

// Equal reports whether two configs define the same output and profile.
func (c Config) Equal(o Config) bool { return reflect.DeepEqual(c, o) }

// Reload applies a new actuator config (SIGHUP) without cycling the
// outputs whose definition did not change: they keep their state, pulse
// and timers. Removed outputs go to their shutdown state; new ones, and
// changed ones (after their old definition went to its shutdown state),
// are opened and driven to their boot state — off instead when that would
// break an interlock with an output that is on. The new config is
// validated and every new output opened before anything changes: on error
// the Set is as it was.
func (s *Set) Reload(cfgs []Config, hw Hardware) error {
	cfgs = append([]Config(nil), cfgs...)
	if err := ValidateAll(cfgs); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.halted {
		return ErrHalted
	}
	opened := map[string]Output{}
	for i, c := range cfgs {
		if old, ok := s.acts[c.Name]; ok && old.cfg.Equal(c) {
			continue
		}
		out, err := openOutput(i, c, hw)
		if err != nil {
			return err
		}
		opened[c.Name] = out
	}

	keep := map[string]bool{}
	for _, c := range cfgs {
		if _, changed := opened[c.Name]; !changed {
			keep[c.Name] = true
		}
	}
	var errs []error
	for _, n := range s.order {
		if keep[n] {
			continue
		}
		a := s.acts[n]
		s.retire(a)
		on, _ := onOff("", a.cfg.Safety.Shutdown, false)
		if err := s.drive(a, level(on), CauseShutdown, false); err != nil {
			errs = append(errs, err)
		}
		delete(s.acts, n)
	}
	s.order = s.order[:0]
	for _, c := range cfgs {
		s.order = append(s.order, c.Name)
		if keep[c.Name] {
			continue
		}
		d, _ := Lookup(c.Driver)
		a := &actuator{name: c.Name, cfg: c, out: opened[c.Name], state: State{PWM: d.PWM}}
		s.acts[c.Name] = a
		boot, _ := onOff("", c.Safety.Boot, false)
		if boot && s.interlocked(a) != "" {
			s.log.Warn("boot state on refused: interlock", "actuator", a.name, "on", s.interlocked(a))
			boot = false
		}
		if err := s.drive(a, level(boot), CauseBoot, true); err != nil {
			errs = append(errs, err)
		}
		if bl := c.Safety.BrokerLost; bl != nil && s.brokerLost {
			a.broker = s.after(bl.After.D(), func() { s.applyBrokerLost(a) })
		}
	}
	return errors.Join(errs...)
}

// retire ends an actuator's pulse and timers: the agent stops, or a
// reload replaces it. With the lock held.
func (s *Set) retire(a *actuator) {
	s.endPulse(a, "the agent stopping or reloading its outputs")
	s.cancel(a.maxOn)
	s.cancel(a.broker)
	a.maxOn, a.broker = nil, nil
}

// interlocked returns the name of another output of a's interlock group
// that is on, or "". With the lock held.
func (s *Set) interlocked(a *actuator) string {
	g := a.cfg.Safety.Interlock
	if g == "" {
		return ""
	}
	for _, n := range s.order {
		if o, ok := s.acts[n]; ok && o != a && o.cfg.Safety.Interlock == g && o.state.On {
			return n
		}
	}
	return ""
}
