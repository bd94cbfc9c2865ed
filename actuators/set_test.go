package actuators_test

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgecron/edgecron/actuators"
	_ "github.com/edgecron/edgecron/actuators/drivers"
	"github.com/edgecron/edgecron/actuators/sim"
	"github.com/edgecron/edgecron/board/boardtest"
	"github.com/edgecron/edgecron/internal/units"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
)

// simHW serves every actuator with a recording sim.Output.
type simHW struct {
	boardtest.Hardware
	mu   sync.Mutex
	outs map[string]*sim.Output
}

func (h *simHW) SimulateOutput(c actuators.Config) (actuators.Output, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.outs == nil {
		h.outs = map[string]*sim.Output{}
	}
	o := &sim.Output{}
	h.outs[c.Name] = o
	return o, nil
}

func (h *simHW) out(name string) *sim.Output {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.outs[name]
}

type rig struct {
	set     *actuators.Set
	clock   *schedtest.FakeClock
	hw      *simHW
	changes chan actuators.Change
}

func newRig(t *testing.T, cfgs ...actuators.Config) *rig {
	t.Helper()
	r := &rig{clock: schedtest.NewFakeClock(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)), hw: &simHW{}, changes: make(chan actuators.Change, 100)}
	s, err := actuators.Build(cfgs, r.hw, r.clock, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r.set = s
	t.Cleanup(func() { _ = s.Close() })
	s.Subscribe(func(c actuators.Change) { r.changes <- c })
	for range cfgs { // the current states, at subscription
		if c := <-r.changes; c.Cause != actuators.CauseSnapshot {
			t.Fatalf("snapshot %+v", c)
		}
	}
	return r
}

// next waits for the next state change.
func (r *rig) next(t *testing.T) actuators.Change {
	t.Helper()
	select {
	case c := <-r.changes:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no state change")
		return actuators.Change{}
	}
}

func (r *rig) noChange(t *testing.T) {
	t.Helper()
	select {
	case c := <-r.changes:
		t.Fatalf("unexpected change %+v", c)
	default:
	}
}

func (r *rig) apply(t *testing.T, name string, cmd actuators.Command) actuators.State {
	t.Helper()
	st, err := r.set.Apply(name, cmd)
	if err != nil {
		t.Fatalf("%s %s: %v", name, cmd.Name, err)
	}
	return st
}

func wantUnsafe(t *testing.T, err error, contains string) {
	t.Helper()
	if sched.ErrorCode(err) != sched.CodeUnsafe || !errors.Is(err, actuators.ErrUnsafe) && !errors.Is(err, actuators.ErrHalted) || !strings.Contains(err.Error(), contains) {
		t.Fatalf("got %v, want an unsafe error containing %q", err, contains)
	}
}

func dur(d time.Duration) units.Duration { return units.Duration(d) }

func pump(s actuators.Safety) actuators.Config {
	return actuators.Config{Name: "pump", Driver: "gpio", Pin: "GPIO17", Safety: s}
}

func TestBootAndCommands(t *testing.T) {
	r := newRig(t,
		actuators.Config{Name: "pump", Driver: "gpio", Pin: "GPIO17"},
		actuators.Config{Name: "fan", Driver: "sim", Safety: actuators.Safety{Boot: "on"}},
	)
	if v, _ := r.hw.out("pump").Value(); v != 0 {
		t.Fatalf("pump boot %v", v)
	}
	if st, _ := r.set.State("fan"); !st.On || st.Value != 1 || !st.PWM {
		t.Fatalf("fan boot %+v", st)
	}
	steps := []struct {
		name string
		cmd  actuators.Command
		on   bool
		v    float64
	}{
		{"pump", actuators.Command{Name: actuators.On}, true, 1},
		{"pump", actuators.Command{Name: actuators.Toggle}, false, 0},
		{"pump", actuators.Command{Name: actuators.Toggle}, true, 1},
		{"pump", actuators.Command{Name: actuators.Off}, false, 0},
		{"fan", actuators.Command{Name: actuators.SetTo, Value: 0.4}, true, 0.4},
		{"fan", actuators.Command{Name: actuators.SetTo, Value: 0}, false, 0},
	}
	for _, s := range steps {
		st := r.apply(t, s.name, s.cmd)
		if st.On != s.on || st.Value != s.v {
			t.Fatalf("%s %s: state %+v", s.name, s.cmd.Name, st)
		}
		if c := r.next(t); c.Actuator != s.name || c.State != st || c.Cause != actuators.CauseCommand {
			t.Fatalf("change %+v", c)
		}
		if v, _ := r.hw.out(s.name).Value(); v != s.v {
			t.Fatalf("%s output %v, want %v", s.name, v, s.v)
		}
	}
	r.apply(t, "pump", actuators.Command{Name: actuators.Off}) // already off: no change event
	r.noChange(t)

	_, err := r.set.Apply("pump", actuators.Command{Name: actuators.SetTo, Value: 0.5})
	if sched.ErrorCode(err) != sched.CodeBadRequest || !strings.Contains(err.Error(), "on/off only") {
		t.Fatalf("set on a relay: %v", err)
	}
	if _, err := r.set.Apply("nope", actuators.Command{Name: actuators.On}); !errors.Is(err, actuators.ErrUnknown) {
		t.Fatalf("unknown actuator: %v", err)
	}
	if got := string((actuators.State{On: true, Value: 0.4, PWM: true}).Payload()); got != `{"state":"ON","value":0.4}` {
		t.Fatalf("pwm payload %s", got)
	}
	if got := string((actuators.State{}).Payload()); got != "OFF" {
		t.Fatalf("payload %s", got)
	}
}

func TestPulse(t *testing.T) {
	r := newRig(t, pump(actuators.Safety{MaxOn: dur(15 * time.Minute), MinSwitchInterval: dur(30 * time.Second)}))
	r.apply(t, "pump", actuators.Command{Name: actuators.Pulse, Duration: 2 * time.Minute})
	if c := r.next(t); !c.State.On {
		t.Fatalf("pulse start %+v", c)
	}
	r.clock.Advance(time.Minute)
	r.noChange(t)
	r.clock.Advance(time.Minute)
	if c := r.next(t); c.State.On || c.Cause != actuators.CausePulseEnd {
		t.Fatalf("pulse end %+v", c)
	}
	if got := r.hw.out("pump").History(); len(got) != 3 || got[1] != 1 || got[2] != 0 {
		t.Fatalf("history %v", got)
	}

	_, err := r.set.Apply("pump", actuators.Command{Name: actuators.Pulse, Duration: 20 * time.Minute})
	wantUnsafe(t, err, "exceeds pump's max_on 15m")
	_, err = r.set.Apply("pump", actuators.Command{Name: actuators.Pulse, Duration: 10 * time.Second})
	wantUnsafe(t, err, "shorter than pump's min_switch_interval 30s")

	// A command during a pulse ends the pulse: its timer no longer fires.
	r.clock.Advance(time.Minute)
	r.apply(t, "pump", actuators.Command{Name: actuators.Pulse, Duration: 5 * time.Minute})
	r.next(t)
	r.clock.Advance(time.Minute)
	r.apply(t, "pump", actuators.Command{Name: actuators.Off})
	if c := r.next(t); c.State.On || c.Cause != actuators.CauseCommand {
		t.Fatalf("off during pulse %+v", c)
	}
	if n := r.clock.Armed(); n != 0 {
		t.Fatalf("%d timers still armed after the pulse was overridden", n)
	}
}

func TestMaxOn(t *testing.T) {
	r := newRig(t, pump(actuators.Safety{MaxOn: dur(10 * time.Minute)}))
	r.apply(t, "pump", actuators.Command{Name: actuators.On})
	r.next(t)
	r.clock.Advance(10*time.Minute - time.Second)
	r.noChange(t)
	r.clock.Advance(time.Second)
	if c := r.next(t); c.State.On || c.Cause != actuators.CauseMaxOn {
		t.Fatalf("max_on %+v", c)
	}
	// Turned off by hand: max_on disarmed.
	r.apply(t, "pump", actuators.Command{Name: actuators.On})
	r.next(t)
	r.apply(t, "pump", actuators.Command{Name: actuators.Off})
	r.next(t)
	if n := r.clock.Armed(); n != 0 {
		t.Fatalf("%d timers armed", n)
	}
}

func TestMaxOnRetriesAFailedOff(t *testing.T) {
	r := newRig(t, pump(actuators.Safety{MaxOn: dur(time.Minute)}))
	r.apply(t, "pump", actuators.Command{Name: actuators.On})
	r.next(t)
	r.hw.out("pump").Fail(errors.New("i2c: nack"))
	r.clock.Advance(time.Minute)
	r.clock.BlockUntil(1) // the retry is armed
	r.hw.out("pump").Fail(nil)
	r.clock.Advance(actuators.RetryInterval)
	if c := r.next(t); c.State.On || c.Cause != actuators.CauseMaxOn {
		t.Fatalf("retried off %+v", c)
	}
}

func TestMinSwitchInterval(t *testing.T) {
	r := newRig(t, pump(actuators.Safety{MinSwitchInterval: dur(30 * time.Second)}))
	r.apply(t, "pump", actuators.Command{Name: actuators.On}) // first switch since boot: allowed
	r.clock.Advance(10 * time.Second)
	_, err := r.set.Apply("pump", actuators.Command{Name: actuators.Off})
	wantUnsafe(t, err, "pump switched 10s ago; its min_switch_interval is 30s")
	if st, _ := r.set.State("pump"); !st.On {
		t.Fatal("refused command changed the state")
	}
	r.apply(t, "pump", actuators.Command{Name: actuators.On}) // no switch: allowed
	r.clock.Advance(20 * time.Second)
	r.apply(t, "pump", actuators.Command{Name: actuators.Off})
}

func TestInterlock(t *testing.T) {
	il := actuators.Safety{Interlock: "valves"}
	r := newRig(t,
		actuators.Config{Name: "v1", Driver: "gpio", Pin: "GPIO5", Safety: il},
		actuators.Config{Name: "v2", Driver: "gpio", Pin: "GPIO6", Safety: il},
		actuators.Config{Name: "lamp", Driver: "gpio", Pin: "GPIO7"},
	)
	r.apply(t, "v1", actuators.Command{Name: actuators.On})
	_, err := r.set.Apply("v2", actuators.Command{Name: actuators.Pulse, Duration: time.Minute})
	wantUnsafe(t, err, `v1 is on, and v2 shares its interlock group "valves"`)
	if v, _ := r.hw.out("v2").Value(); v != 0 {
		t.Fatal("refused command half-applied")
	}
	r.apply(t, "lamp", actuators.Command{Name: actuators.On})
	r.apply(t, "v1", actuators.Command{Name: actuators.Off})
	r.apply(t, "v2", actuators.Command{Name: actuators.On})
}

func TestBrokerLost(t *testing.T) {
	r := newRig(t,
		pump(actuators.Safety{BrokerLost: &actuators.BrokerLost{After: dur(10 * time.Minute), State: "off"}}),
		actuators.Config{Name: "fan", Driver: "sim", Safety: actuators.Safety{BrokerLost: &actuators.BrokerLost{After: dur(time.Minute), State: "on"}}},
		actuators.Config{Name: "lamp", Driver: "gpio", Pin: "GPIO7"},
	)
	r.apply(t, "pump", actuators.Command{Name: actuators.On})
	r.apply(t, "lamp", actuators.Command{Name: actuators.On})
	r.next(t)
	r.next(t)

	// A short outage changes nothing.
	r.set.BrokerLost()
	r.clock.Advance(30 * time.Second)
	r.set.BrokerRestored()
	if n := r.clock.Armed(); n != 0 {
		t.Fatalf("%d broker timers left after restore", n)
	}
	r.clock.Advance(time.Hour)
	r.noChange(t)

	r.set.BrokerLost()
	r.set.BrokerLost() // repeated: no new timers
	if n := r.clock.Armed(); n != 2 {
		t.Fatalf("%d timers armed, want 2", n)
	}
	r.clock.Advance(time.Minute)
	if c := r.next(t); c.Actuator != "fan" || !c.State.On || c.Cause != actuators.CauseBrokerLost {
		t.Fatalf("fan %+v", c)
	}
	r.clock.Advance(9 * time.Minute)
	if c := r.next(t); c.Actuator != "pump" || c.State.On || c.Cause != actuators.CauseBrokerLost {
		t.Fatalf("pump %+v", c)
	}
	if st, _ := r.set.State("lamp"); !st.On {
		t.Fatal("lamp without a broker_lost profile was switched")
	}
}

func TestHaltCutsPulsesAndRefusesCommands(t *testing.T) {
	r := newRig(t,
		pump(actuators.Safety{}),
		actuators.Config{Name: "heater", Driver: "gpio", Pin: "GPIO6", Safety: actuators.Safety{Shutdown: "on"}},
	)
	r.apply(t, "pump", actuators.Command{Name: actuators.Pulse, Duration: time.Hour})
	r.next(t)
	if err := r.set.Halt(); err != nil {
		t.Fatal(err)
	}
	got := map[string]actuators.Change{}
	for range 2 {
		c := r.next(t)
		got[c.Actuator] = c
	}
	if c := got["pump"]; c.State.On || c.Cause != actuators.CauseShutdown {
		t.Fatalf("pump %+v", c)
	}
	if c := got["heater"]; !c.State.On || c.Cause != actuators.CauseShutdown {
		t.Fatalf("heater %+v", c)
	}
	if n := r.clock.Armed(); n != 0 {
		t.Fatalf("%d timers armed after Halt", n)
	}
	_, err := r.set.Apply("pump", actuators.Command{Name: actuators.On})
	wantUnsafe(t, err, "stopping")
	if err := r.set.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestHardwareFailureChangesNothing(t *testing.T) {
	r := newRig(t, pump(actuators.Safety{MaxOn: dur(time.Minute)}))
	r.hw.out("pump").Fail(errors.New("gpio: device busy"))
	if _, err := r.set.Apply("pump", actuators.Command{Name: actuators.Pulse, Duration: time.Second}); err == nil || !strings.Contains(err.Error(), "device busy") {
		t.Fatalf("got %v", err)
	}
	if st, _ := r.set.State("pump"); st.On {
		t.Fatal("state changed")
	}
	r.noChange(t)
	if n := r.clock.Armed(); n != 0 {
		t.Fatalf("%d timers armed by a failed command", n)
	}
}

// TestRealDrivers builds relay and pca9685 outputs on hardware doubles.
func TestRealDrivers(t *testing.T) {
	p := &boardtest.Pin{N: "GPIO17"}
	hw := &boardtest.Hardware{Pins: map[string]*boardtest.Pin{"GPIO17": p}}
	s, err := actuators.Build([]actuators.Config{{Name: "relay", Driver: "gpio", Pin: "GPIO17", ActiveLow: true}}, hw, schedtest.NewFakeClock(time.Time{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Read() != gpio.High {
		t.Fatal("active-low relay not high (off) at boot")
	}
	if _, err := s.Apply("relay", actuators.Command{Name: actuators.On}); err != nil || p.Read() != gpio.Low {
		t.Fatalf("on: %v, level %v", err, p.Read())
	}
	if err := s.Close(); err != nil || p.Read() != gpio.High {
		t.Fatalf("close: %v, level %v", err, p.Read())
	}

	_, err = actuators.Build([]actuators.Config{{Name: "relay", Driver: "gpio", Pin: "GPIO99"}}, hw, nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), `actuators[0].pin: no GPIO pin "GPIO99"`) {
		t.Fatalf("missing pin: %v", err)
	}
	_, err = actuators.Build([]actuators.Config{{Name: "servo", Driver: "pca9685", Bus: "1", Channel: new(int)}}, &boardtest.Hardware{I2CBuses: map[string]i2c.Bus{}}, nil, nil)
	if err == nil || !strings.HasPrefix(err.Error(), `actuators[0].bus: no I2C bus "1"`) {
		t.Fatalf("missing bus: %v", err)
	}
}

// Counts: every switch whatever its cause, every command the safety
// profile refused (not a bad command, not a command that changes nothing).
func TestCounts(t *testing.T) {
	r := newRig(t, pump(actuators.Safety{MinSwitchInterval: dur(30 * time.Second), MaxOn: dur(time.Minute)}))
	counts := func(want [2]uint64) {
		t.Helper()
		sw, ref, ok := r.set.Counts("pump")
		if !ok || [2]uint64{sw, ref} != want {
			t.Fatalf("Counts = %d switches, %d refusals, %v; want %v", sw, ref, ok, want)
		}
	}
	counts([2]uint64{0, 0}) // boot state off: no switch
	r.apply(t, "pump", actuators.Command{Name: actuators.On})
	r.apply(t, "pump", actuators.Command{Name: actuators.On}) // already on
	counts([2]uint64{1, 0})
	_, err := r.set.Apply("pump", actuators.Command{Name: actuators.Off}) // too soon
	wantUnsafe(t, err, "min_switch_interval")
	_, err = r.set.Apply("pump", actuators.Command{Name: actuators.Pulse, Duration: time.Hour}) // beyond max_on
	wantUnsafe(t, err, "max_on")
	if _, err := r.set.Apply("pump", actuators.Command{Name: actuators.SetTo, Value: 0.5}); err == nil || errors.Is(err, actuators.ErrUnsafe) {
		t.Fatalf("set on a relay: %v, want a bad request", err)
	}
	counts([2]uint64{1, 2})
	r.clock.Advance(time.Minute) // max_on switches it off
	r.next(t)
	r.next(t)
	counts([2]uint64{2, 2})
	if _, _, ok := r.set.Counts("nope"); ok {
		t.Fatal("Counts of an unknown actuator")
	}
}
