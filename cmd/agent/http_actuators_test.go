package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/board"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// TestHTTPActuatorsFollowTheEntity: a dimmable output declared
// `entity: switch` (as the demo's are) is on or off over HTTP too, so
// the dashboard shows a switch, not a 0 % slider; one left dimmable has
// its value.
func TestHTTPActuatorsFollowTheEntity(t *testing.T) {
	clk := schedtest.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	hw, err := board.Open("sim", board.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer hw.Close()
	set, err := actuators.Build([]actuators.Config{
		{Name: "relay", Driver: "sim", Entity: actuators.EntitySwitch},
		{Name: "lamp", Driver: "sim"},
	}, hw, clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	e := &extensions{outputs: set}
	got := map[string]bool{}
	for _, a := range e.httpActuators() {
		got[a.Actuator] = a.Value != nil
		if a.State != "OFF" {
			t.Errorf("%s: state %q at boot, want OFF", a.Actuator, a.State)
		}
	}
	if want := map[string]bool{"relay": false, "lamp": true}; len(got) != 2 || got["relay"] != want["relay"] || got["lamp"] != want["lamp"] {
		t.Errorf("value given: %v, want %v", got, want)
	}
}
