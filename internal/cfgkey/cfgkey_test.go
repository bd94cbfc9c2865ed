package cfgkey

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestAt(t *testing.T) {
	plain := errors.New("broken")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{Keyf("pin", "is required"), "actuators[1].pin: is required"},
		{fmt.Errorf("wrapped: %w", Keyf("bus", "no such bus %q", "7")), `actuators[1].bus: no such bus "7"`},
		{&KeyError{Msg: "no key"}, "actuators[1]: no key"},
		{plain, "actuators[1]: broken"},
	} {
		got := At("actuators[1]", tc.err)
		if got == nil || got.Error() != tc.want {
			t.Errorf("At(%v) = %v, want %s", tc.err, got, tc.want)
		}
	}
	if !errors.Is(At("x", plain), plain) {
		t.Error("At does not wrap a plain error")
	}
	cause := At("x", fmt.Errorf("open: %w", Keyf("bus", "no chip: %w", plain)))
	if cause.Error() != "x.bus: no chip: broken" || !errors.Is(cause, plain) {
		t.Errorf("At of a KeyError wrapping a cause: %v, errors.Is %v", cause, errors.Is(cause, plain))
	}
	if At("x", nil) != nil {
		t.Error("At(nil) != nil")
	}
	if NamePattern.MatchString("a/b") || !NamePattern.MatchString("pump-1") {
		t.Error("NamePattern")
	}
}

func TestCheckEntryAndEntry(t *testing.T) {
	for _, tc := range []struct {
		name, driver string
		registered   bool
		want         string
	}{
		{"pump", "relay", true, ""},
		{"a/b", "relay", true, `name: "a/b" must match`},
		{"pump", "", false, "driver: is required (one of: relay, sim)"},
		{"pump", "relai", false, `driver: unknown driver "relai" (known: relay, sim)`},
	} {
		err := CheckEntry(tc.name, tc.driver, tc.registered, "relay, sim")
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("CheckEntry(%q, %q) = %v, want %q", tc.name, tc.driver, err, tc.want)
		}
	}
	bus := errors.New("remote I/O error")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{Keyf("address", "no chip: %w", bus), "sensors[2].address: no chip: remote I/O error"},
		{fmt.Errorf("open: %w", bus), "sensors[2] (soil): open: remote I/O error"},
	} {
		got := Entry("sensors", 2, "soil", tc.err)
		if got == nil || got.Error() != tc.want || !errors.Is(got, bus) {
			t.Errorf("Entry(%v) = %v, want %s wrapping the bus error", tc.err, got, tc.want)
		}
	}
	if Entry("sensors", 0, "x", nil) != nil {
		t.Error("Entry(nil) != nil")
	}
}
