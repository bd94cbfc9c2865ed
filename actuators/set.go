package actuators

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/edgecron/edgecron/internal/cfgkey"
	"github.com/edgecron/edgecron/sched"
)

// RetryInterval is how soon a safety action (max_on, pulse end,
// broker_lost) whose hardware write failed is tried again.
const RetryInterval = time.Second

// Set holds the configured actuators and enforces their safety profiles.
// Its methods are safe for concurrent use. Listeners are called with the
// Set's lock held, in the order of the changes: they must be quick and
// must not call back into the Set (hand the Change to a channel).
type Set struct {
	clock sched.Clock
	log   *slog.Logger
	stop  chan struct{}
	wg    sync.WaitGroup // timer goroutines

	mu         sync.Mutex
	order      []string
	acts       map[string]*actuator
	listeners  map[int]func(Change)
	nextL      int
	halted     bool
	brokerLost bool
}

type actuator struct {
	name       string
	cfg        Config
	out        Output
	state      State
	switched   bool          // has switched on or off since boot
	switchedAt time.Duration // clock.Elapsed at that switch
	switches   uint64        // times it switched on or off since it was built
	refusals   uint64        // commands the safety profile refused
	maxOn      *alarm
	broker     *alarm
	pulse      *pulse
}

type pulse struct {
	alarm *alarm
	done  chan struct{} // closed when the pulse ends, whatever the reason
	start time.Duration // clock.Elapsed when it began
	// Set before done is closed: what ended it ("" when it ran its
	// whole duration) and how long it ran.
	endedBy string
	ran     time.Duration
}

// alarm is a timer of the injected clock whose callback runs with the
// Set's lock held, unless cancelled first.
type alarm struct {
	t      sched.Timer
	cancel chan struct{}
	dead   bool // fired or cancelled; guarded by Set.mu
}

// Build validates cfgs (errors name "actuators[i].key"), opens every
// output on hw (a Simulator hw serves them all) and drives each to its
// boot state. clock times pulses, max_on and broker_lost (nil: the system
// clock).
func Build(cfgs []Config, hw Hardware, clock sched.Clock, logger *slog.Logger) (*Set, error) {
	if clock == nil {
		clock = sched.NewSystemClock()
	}
	if logger == nil {
		logger = slog.Default()
	}
	cfgs = append([]Config(nil), cfgs...)
	if err := ValidateAll(cfgs); err != nil {
		return nil, err
	}
	s := &Set{
		clock: clock, log: logger, stop: make(chan struct{}),
		acts: make(map[string]*actuator, len(cfgs)), listeners: map[int]func(Change){},
	}
	for i, c := range cfgs {
		d, _ := Lookup(c.Driver)
		out, err := openOutput(i, c, hw)
		if err != nil {
			_ = s.Close()
			return nil, err
		}
		a := &actuator{name: c.Name, cfg: c, out: out, state: State{PWM: d.PWM}}
		s.order = append(s.order, c.Name)
		s.acts[c.Name] = a
		boot, _ := onOff("", c.Safety.Boot, false)
		s.mu.Lock()
		err = s.drive(a, level(boot), CauseBoot, true)
		s.mu.Unlock()
		if err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("actuators[%d] (%s): boot state: %w", i, c.Name, err)
		}
	}
	return s, nil
}

func level(on bool) float64 {
	if on {
		return 1
	}
	return 0
}

// Names returns the actuator names in config order.
func (s *Set) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.order...)
}

// Config returns an actuator's (validated, defaulted) config.
func (s *Set) Config(name string) (Config, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.acts[name]
	if !ok {
		return Config{}, false
	}
	return a.cfg, true
}

// State returns an actuator's current state.
func (s *Set) State(name string) (State, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.acts[name]
	if !ok {
		return State{}, false
	}
	return a.state, true
}

// Counts returns how many times the named actuator switched on or off
// (whatever the cause: a command, a pulse's end, max_on, broker_lost, the
// boot or shutdown state) and how many commands its safety profile
// refused, since it was built (a reload that changes its definition builds
// it anew).
func (s *Set) Counts(name string) (switches, refusals uint64, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.acts[name]
	if !ok {
		return 0, 0, false
	}
	return a.switches, a.refusals, true
}

// Subscribe calls fn for every state change from now on, and at once for
// every actuator's current state (cause "snapshot"), so that a retained
// state topic can be filled. It returns the function that unsubscribes.
func (s *Set) Subscribe(fn func(Change)) (cancel func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextL
	s.nextL++
	s.listeners[id] = fn
	for _, n := range s.order {
		fn(Change{Actuator: n, State: s.acts[n].state, Cause: CauseSnapshot})
	}
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.listeners, id)
	}
}

// Check reports whether the actuator exists and can take the command,
// without applying it: the errors Apply would return for the command
// itself (not for the state at the time).
func (s *Set) Check(name string, cmd Command) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.acts[name]
	if !ok {
		return &sched.Error{Code: sched.CodeNotFound, Field: "actuator", Message: fmt.Sprintf("no actuator %q in the config", name), Err: ErrUnknown}
	}
	return a.check(cmd)
}

func (a *actuator) check(cmd Command) error {
	if err := cmd.Validate(); err != nil {
		return err
	}
	if cmd.Name == SetTo && !a.state.PWM {
		return &sched.Error{Code: sched.CodeBadRequest, Field: "command", Message: fmt.Sprintf("%s (driver %s) is on/off only: set needs a PWM output", a.name, a.cfg.Driver)}
	}
	sf := a.cfg.Safety
	if cmd.Name == Pulse {
		if sf.MaxOn > 0 && cmd.Duration > sf.MaxOn.D() {
			return unsafe("duration", "pulse of %s exceeds %s's max_on %s", cmd.Duration, a.name, sf.MaxOn)
		}
		if sf.MinSwitchInterval > 0 && cmd.Duration < sf.MinSwitchInterval.D() {
			return unsafe("duration", "pulse of %s is shorter than %s's min_switch_interval %s", cmd.Duration, a.name, sf.MinSwitchInterval)
		}
	}
	return nil
}

func unsafe(field, format string, args ...any) *sched.Error {
	return &sched.Error{Code: sched.CodeUnsafe, Field: field, Message: fmt.Sprintf(format, args...), Err: ErrUnsafe}
}

// Apply applies a command to the named actuator and returns its new
// state. A command the safety profile forbids is refused with a
// *sched.Error of code unsafe and changes nothing; a hardware failure
// leaves the state as it was. A new command ends a running pulse.
func (s *Set) Apply(name string, cmd Command) (State, error) {
	st, _, err := s.apply(name, cmd)
	return st, err
}

// apply returns, for a pulse, the pulse: its done is closed when it ends.
func (s *Set) apply(name string, cmd Command) (State, *pulse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.halted {
		return State{}, nil, &sched.Error{Code: sched.CodeUnsafe, Message: "the agent is stopping: outputs are in their shutdown state", Err: ErrHalted}
	}
	a, ok := s.acts[name]
	if !ok {
		return State{}, nil, &sched.Error{Code: sched.CodeNotFound, Field: "actuator", Message: fmt.Sprintf("no actuator %q in the config", name), Err: ErrUnknown}
	}
	if err := a.check(cmd); err != nil {
		return a.state, nil, a.refused(err)
	}
	var v float64
	switch cmd.Name {
	case On, Pulse:
		v = 1
	case Off:
		v = 0
	case Toggle:
		v = level(!a.state.On)
	case SetTo:
		v = cmd.Value
	}
	on := v > 0
	sf := a.cfg.Safety
	if on != a.state.On {
		if min := sf.MinSwitchInterval.D(); min > 0 && a.switched {
			if since := s.clock.Elapsed() - a.switchedAt; since < min {
				return a.state, nil, a.refused(unsafe("command", "%s switched %s ago; its min_switch_interval is %s", name, since.Round(time.Millisecond), min))
			}
		}
	}
	if on && !a.state.On {
		if n := s.interlocked(a); n != "" {
			return a.state, nil, a.refused(unsafe("command", "%s is on, and %s shares its interlock group %q (at most one on)", n, name, sf.Interlock))
		}
	}
	if err := s.drive(a, v, CauseCommand, false); err != nil {
		return a.state, nil, err
	}
	s.endPulse(a, "a new command ("+cmd.Name+")")
	if cmd.Name != Pulse {
		return a.state, nil, nil
	}
	p := &pulse{done: make(chan struct{}), start: s.clock.Elapsed()}
	p.alarm = s.after(cmd.Duration, func() { s.pulseEnd(a, p) })
	a.pulse = p
	return a.state, p, nil
}

// refused counts err when the safety profile refused the command, and
// returns it. With the lock held.
func (a *actuator) refused(err error) error {
	if errors.Is(err, ErrUnsafe) {
		a.refusals++
	}
	return err
}

// drive writes v to the output and records the state; it arms or
// disarms max_on. With the lock held.
func (s *Set) drive(a *actuator, v float64, cause string, force bool) error {
	if err := a.out.Set(v); err != nil {
		return fmt.Errorf("actuator %s: drive %v: %w", a.name, v, err)
	}
	prev := a.state
	a.state.On, a.state.Value = v > 0, v
	if a.state.On != prev.On {
		a.switched, a.switchedAt = true, s.clock.Elapsed()
		a.switches++
	}
	if a.state.On && !prev.On && a.cfg.Safety.MaxOn > 0 && cause != CauseShutdown {
		s.cancel(a.maxOn)
		a.maxOn = s.after(a.cfg.Safety.MaxOn.D(), func() { s.safetyOff(a, CauseMaxOn) })
	}
	if !a.state.On {
		s.cancel(a.maxOn)
		a.maxOn = nil
	}
	if force || a.state != prev {
		if cause != CauseBoot {
			s.log.Info("actuator", "name", a.name, "state", a.state.String(), "cause", cause)
		}
		ch := Change{Actuator: a.name, State: a.state, Cause: cause}
		for _, id := range s.listenerIDs() {
			s.listeners[id](ch)
		}
	}
	return nil
}

func (s *Set) listenerIDs() []int {
	ids := make([]int, 0, len(s.listeners))
	for id := range s.listeners {
		ids = append(ids, id)
	}
	slices.Sort(ids) // subscription order
	return ids
}

// endPulse ends a running pulse without driving the output (the caller
// drives it); why is what ended it, "" when it ran its whole duration.
// With the lock held.
func (s *Set) endPulse(a *actuator, why string) {
	if a.pulse == nil {
		return
	}
	p := a.pulse
	s.cancel(p.alarm)
	p.endedBy, p.ran = why, s.clock.Elapsed()-p.start
	close(p.done)
	a.pulse = nil
}

// pulseEnd is the pulse timer's callback.
func (s *Set) pulseEnd(a *actuator, p *pulse) {
	if a.pulse != p {
		return
	}
	s.endPulse(a, "")
	s.safetyOff(a, CausePulseEnd)
}

// cutPulse ends the pulse p early (its job was cancelled: shutdown or
// timeout) and turns the output off. Safety wins: min_switch_interval does
// not apply.
func (s *Set) cutPulse(name string, p *pulse) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.acts[name]
	if !ok || a.pulse != p {
		return false
	}
	s.endPulse(a, "its job was cancelled")
	s.safetyOff(a, CausePulseEnd)
	return true
}

// safetyOff turns an output off for a safety reason, bypassing
// min_switch_interval; a failed write is retried.
func (s *Set) safetyOff(a *actuator, cause string) {
	if s.halted || !a.state.On {
		return
	}
	s.endPulse(a, "safety: "+cause)
	if err := s.drive(a, 0, cause, false); err != nil {
		s.log.Error("safety off failed; retrying", "actuator", a.name, "cause", cause, "err", err, "retry_in", RetryInterval)
		s.cancel(a.maxOn)
		a.maxOn = s.after(RetryInterval, func() { s.safetyOff(a, cause) })
	}
}

// after arms an alarm on the clock. With the lock held.
func (s *Set) after(d time.Duration, fn func()) *alarm {
	al := &alarm{t: s.clock.NewTimer(d), cancel: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		select {
		case <-al.t.C():
			s.mu.Lock()
			defer s.mu.Unlock()
			if !al.dead {
				al.dead = true
				fn()
			}
		case <-al.cancel:
		case <-s.stop:
			al.t.Stop()
		}
	}()
	return al
}

// cancel disarms an alarm. With the lock held.
func (s *Set) cancel(al *alarm) {
	if al == nil || al.dead {
		return
	}
	al.dead = true
	al.t.Stop()
	close(al.cancel)
}

// BrokerLost tells the Set that the MQTT broker became unreachable: each
// output with a broker_lost profile goes to its state once the broker has
// stayed unreachable for its after. Repeated calls during one outage
// change nothing; BrokerRestored ends the outage.
func (s *Set) BrokerLost() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.halted || s.brokerLost {
		return
	}
	s.brokerLost = true
	for _, n := range s.order {
		a := s.acts[n]
		bl := a.cfg.Safety.BrokerLost
		if bl == nil {
			continue
		}
		a.broker = s.after(bl.After.D(), func() { s.applyBrokerLost(a) })
	}
}

func (s *Set) applyBrokerLost(a *actuator) {
	on, _ := onOff("", a.cfg.Safety.BrokerLost.State, false)
	if !on {
		s.safetyOff(a, CauseBrokerLost)
		return
	}
	if a.state.On {
		return
	}
	if n := s.interlocked(a); n != "" {
		s.log.Warn("broker_lost state on refused: interlock", "actuator", a.name, "group", a.cfg.Safety.Interlock, "on", n)
		return
	}
	if err := s.drive(a, 1, CauseBrokerLost, false); err != nil {
		s.log.Error("broker_lost state failed", "actuator", a.name, "err", err)
	}
}

// BrokerRestored ends a broker outage: pending broker_lost states are
// cancelled; outputs already switched stay as they are until commanded.
func (s *Set) BrokerRestored() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.brokerLost = false
	for _, a := range s.acts {
		s.cancel(a.broker)
		a.broker = nil
	}
}

// Halt cuts running pulses short, cancels every timer and drives every
// output to its shutdown state; later commands are refused. It returns the
// outputs it could not drive.
func (s *Set) Halt() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.halted {
		return nil
	}
	s.halted = true
	var errs []error
	for _, n := range s.order {
		a := s.acts[n]
		s.retire(a)
		on, _ := onOff("", a.cfg.Safety.Shutdown, false)
		if err := s.drive(a, level(on), CauseShutdown, false); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Close halts the Set, waits for its timer goroutines and closes the
// outputs that hold resources.
func (s *Set) Close() error {
	err := s.Halt()
	s.mu.Lock()
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	s.mu.Unlock()
	s.wg.Wait()
	var errs []error
	for _, n := range s.order {
		if c, ok := s.acts[n].out.(io.Closer); ok {
			if cerr := c.Close(); cerr != nil {
				errs = append(errs, fmt.Errorf("actuator %s: %w", n, cerr))
			}
		}
	}
	return errors.Join(append([]error{err}, errs...)...)
}

// openOutput opens the output of cfgs[i] on hw, or on the simulated board
// when hw is one; an error names the entry (and its key, when one is at
// fault).
func openOutput(i int, c Config, hw Hardware) (Output, error) {
	var (
		out Output
		err error
	)
	if sim, ok := hw.(Simulator); ok {
		out, err = sim.SimulateOutput(c)
	} else {
		d, _ := Lookup(c.Driver)
		out, err = d.Open(c, hw)
	}
	if err == nil && out == nil {
		err = fmt.Errorf("driver %s returned no output", c.Driver)
	}
	if err != nil {
		return nil, cfgkey.Entry("actuators", i, c.Name, err)
	}
	return out, nil
}
