package actuators_test

import (
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/actuators"
)

func TestReloadKeepsUnchangedOutputs(t *testing.T) {
	pumpCfg := pump(actuators.Safety{MaxOn: dur(time.Hour)})
	fan := actuators.Config{Name: "fan", Driver: "sim"}
	lamp := actuators.Config{Name: "lamp", Driver: "gpio", Pin: "GPIO7"}
	r := newRig(t, pumpCfg, fan, lamp)
	r.apply(t, "pump", actuators.Command{Name: actuators.Pulse, Duration: 10 * time.Minute})
	r.apply(t, "fan", actuators.Command{Name: actuators.SetTo, Value: 0.5})
	r.apply(t, "lamp", actuators.Command{Name: actuators.On})
	for range 3 {
		r.next(t)
	}
	pumpOut := r.hw.out("pump")

	// A bad config changes nothing.
	bad := []actuators.Config{pumpCfg, {Name: "fan", Driver: "gpio"}}
	if err := r.set.Reload(bad, r.hw); err == nil || !strings.HasPrefix(err.Error(), "actuators[1].pin") {
		t.Fatalf("bad reload: %v", err)
	}
	r.noChange(t)

	// pump unchanged, fan changed (boot on now), lamp removed, heater new.
	fan2 := fan
	fan2.Safety.Boot = "on"
	heater := actuators.Config{Name: "heater", Driver: "gpio", Pin: "GPIO8"}
	if err := r.set.Reload([]actuators.Config{pumpCfg, fan2, heater}, r.hw); err != nil {
		t.Fatal(err)
	}
	got := map[string][]actuators.Change{}
	for range 4 { // fan shutdown + boot, lamp shutdown, heater boot
		c := r.next(t)
		got[c.Actuator] = append(got[c.Actuator], c)
	}
	r.noChange(t)
	if _, ok := got["pump"]; ok {
		t.Fatalf("pump cycled: %+v", got["pump"])
	}
	if f := got["fan"]; len(f) != 2 || f[0].Cause != actuators.CauseShutdown || f[1].Cause != actuators.CauseBoot || !f[1].State.On {
		t.Fatalf("fan %+v", f)
	}
	if l := got["lamp"]; len(l) != 1 || l[0].State.On {
		t.Fatalf("lamp %+v", l)
	}
	if _, ok := r.set.State("lamp"); ok {
		t.Fatal("lamp still in the set")
	}
	if r.hw.out("pump") != pumpOut {
		t.Fatal("pump reopened")
	}
	// The kept pulse still ends on time.
	r.clock.Advance(10 * time.Minute)
	if c := r.next(t); c.Actuator != "pump" || c.State.On || c.Cause != actuators.CausePulseEnd {
		t.Fatalf("pump %+v", c)
	}
	if got := r.set.Names(); strings.Join(got, ",") != "pump,fan,heater" {
		t.Fatalf("names %v", got)
	}
}
