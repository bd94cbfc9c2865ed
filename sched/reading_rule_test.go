package sched

import (
	"math"
	"testing"
	"time"
)

func TestReadingRule(t *testing.T) {
	type step struct {
		at   time.Duration // elapsed
		v    float64       // NaN: a failed read
		fire bool
	}
	s := time.Second
	nan := math.NaN()
	tests := []struct {
		name  string
		spec  TriggerSpec
		steps []step
	}{
		{"above fires once on crossing, re-arms only below the band",
			TriggerSpec{Above: "30", Hysteresis: "2"},
			[]step{{0, 29, false}, {1 * s, 30, false}, {2 * s, 30.5, true}, {3 * s, 31, false}, {4 * s, 29, false},
				{5 * s, 31, false}, {6 * s, 28.5, false}, {7 * s, 28, false}, {8 * s, 30.1, true}}},
		{"a first reading already above fires",
			TriggerSpec{Above: "30"},
			[]step{{0, 35, true}, {1 * s, 35, false}}},
		{"below with hysteresis",
			TriggerSpec{Below: "2", Hysteresis: "1"},
			[]step{{0, 5, false}, {s, 1.9, true}, {2 * s, 2.5, false}, {3 * s, 1, false}, {4 * s, 3, false}, {5 * s, 1.5, true}}},
		{"inside a range",
			TriggerSpec{Above: "10", Below: "20"},
			[]step{{0, 5, false}, {s, 15, true}, {2 * s, 25, false}, {3 * s, 15, true}}},
		{"for: the condition must hold that long at readings",
			TriggerSpec{Above: "30", For: "10s"},
			[]step{{0, 31, false}, {5 * s, 31, false}, {9 * s, 29, false}, {10 * s, 31, false}, {19 * s, 32, false}, {20 * s, 32, true}, {30 * s, 32, false}}},
		{"for: a failed read restarts the window",
			TriggerSpec{Above: "30", For: "10s"},
			[]step{{0, 31, false}, {5 * s, nan, false}, {10 * s, 31, false}, {15 * s, 31, false}, {20 * s, 31, true}}},
		{"cooldown: fires again only after it",
			TriggerSpec{Above: "30", Cooldown: "60s"},
			[]step{{0, 31, true}, {10 * s, 20, false}, {20 * s, 31, false}, {50 * s, 31, false}, {60 * s, 31, true}}},
		{"change by more than the delta, from the value at the last fire",
			TriggerSpec{Change: "0.5"},
			[]step{{0, 20, false}, {s, 20.5, false}, {2 * s, 20.6, true}, {3 * s, 20.9, false}, {4 * s, 21.2, true}, {5 * s, 20.6, true}}},
		{"change with a cooldown keeps the reference",
			TriggerSpec{Change: "1", Cooldown: "10s"},
			[]step{{0, 0, false}, {s, 2, true}, {2 * s, 4, false}, {11 * s, 4, true}, {12 * s, 4, false}}},
		{"rising edge",
			TriggerSpec{Edge: "rising"},
			[]step{{0, 1, false}, {s, 0, false}, {2 * s, 1, true}, {3 * s, 1, false}, {4 * s, 0, false}, {5 * s, 1, true}}},
		{"falling edge",
			TriggerSpec{Edge: "falling"},
			[]step{{0, 1, false}, {s, 0, true}, {2 * s, 1, false}, {3 * s, 0, true}}},
		{"both edges with a cooldown (debounce)",
			TriggerSpec{Edge: "both", Cooldown: "5s"},
			[]step{{0, 0, false}, {s, 1, true}, {2 * s, 0, false}, {3 * s, 1, false}, {7 * s, 0, true}}},
		{"level low with for",
			TriggerSpec{Level: "low", For: "2s"},
			[]step{{0, 1, false}, {s, 0, false}, {3 * s, 0, true}, {4 * s, 0, false}, {5 * s, 1, false}, {6 * s, 0, false}, {8 * s, 0, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Type, tt.spec.Sensor = TriggerReading, "x"
			tr, err := tt.spec.Compile(time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			rt := tr.(*readingTrigger)
			for i, st := range tt.steps {
				if got := rt.rule.observe(&rt.st, st.v, st.at); got != st.fire {
					t.Fatalf("step %d (%v at %s): fired %v, want %v", i, st.v, st.at, got, st.fire)
				}
			}
		})
	}
}

func TestReadingTriggerRefused(t *testing.T) {
	tests := []struct {
		spec  TriggerSpec
		field string
	}{
		{TriggerSpec{Above: "1"}, "trigger.sensor"},
		{TriggerSpec{Sensor: "a"}, "trigger"},
		{TriggerSpec{Sensor: "a", Above: "1", Change: "2"}, "trigger"},
		{TriggerSpec{Sensor: "a", Above: "3", Below: "2"}, "trigger.below"},
		{TriggerSpec{Sensor: "a", Change: "-1"}, "trigger.change"},
		{TriggerSpec{Sensor: "a", Edge: "up"}, "trigger.edge"},
		{TriggerSpec{Sensor: "a", Level: "1"}, "trigger.level"},
		{TriggerSpec{Sensor: "a", Edge: "rising", For: "1s"}, "trigger.for"},
		{TriggerSpec{Sensor: "a", Change: "1", Hysteresis: "1"}, "trigger.hysteresis"},
		{TriggerSpec{Sensor: "a", Above: "1", Hysteresis: "-1"}, "trigger.hysteresis"},
		{TriggerSpec{Sensor: "a", Above: "1", For: "soon"}, "trigger.for"},
		{TriggerSpec{Sensor: "a", Above: "1", Cooldown: "-1s"}, "trigger.cooldown"},
		{TriggerSpec{Sensor: "a", Above: "1", Cooldown: "200h"}, "trigger.cooldown"},
		{TriggerSpec{Sensor: "a", Above: "1e999"}, "trigger.above"},
		{TriggerSpec{Sensor: "a", Above: "1", Jitter: 1}, "trigger.jitter"},
		{TriggerSpec{Sensor: "a", Above: "1", StartDate: "2026-01-01"}, "trigger.start_date"},
	}
	for _, tt := range tests {
		tt.spec.Type = TriggerReading
		_, err := tt.spec.Compile(time.UTC)
		e, ok := err.(*Error)
		if !ok || e.Field != tt.field {
			t.Errorf("Compile(%+v) = %v, want an error on %s", tt.spec, err, tt.field)
		}
	}
}

func TestReadingSpecPacks(t *testing.T) {
	s := TriggerSpec{Type: TriggerReading, Sensor: "air", Value: "temperature", Above: "30", Hysteresis: "2", For: "1m", Cooldown: "15m", Timezone: "UTC"}
	if got := unpackSpec(packSpec(s)); got != s {
		t.Fatalf("unpack(pack(%+v)) = %+v", s, got)
	}
	s = TriggerSpec{Type: TriggerReading, Sensor: "door", Edge: "both"}
	if got := unpackSpec(packSpec(s)); got != s {
		t.Fatalf("unpack(pack(%+v)) = %+v", s, got)
	}
}
