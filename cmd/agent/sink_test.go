package main

import (
	"context"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
	"github.com/edgecron/edgecron/sensors"
)

type readingRecorder struct{ got []float64 }

// Observe records what the scheduler's automations are handed.
func (r *readingRecorder) Observe(_ string, _ time.Time, values []sched.Sample) {
	r.got = append(r.got, values[0].Value)
}
func (r *readingRecorder) ObserveFailure(string) {}

func (r *readingRecorder) Reading(_ string, _ time.Time, values map[string]float64, _ map[string]string) {
	r.got = append(r.got, values["temperature"])
}

// simSensors opens the hardware of the config text (a simulated board):
// its sensor registry and the fake clock it reads on, all closed when the
// test ends.
func simSensors(t *testing.T, config string) (*sensors.Registry, *schedtest.FakeClock) {
	t.Helper()
	cfg, err := ParseConfig("agent.yaml", []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	clk := schedtest.NewFakeClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	hw, reg, set, err := openHardware(cfg, clk, newLogger(LogConfig{Level: "warn"}, &syncBuffer{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { set.Close(); reg.Close(); hw.Close() })
	return reg, clk
}

// The agent's MQTT sink hands on only the readings that pass their
// sensor's publish filter; the automations (the scheduler's Observe) get
// every reading, the ones held back too.
func TestMQTTSinkFiltersReadings(t *testing.T) {
	reg, _ := simSensors(t, `device_id: a
hardware: {board: sim}
sensors:
  - name: t
    driver: sim
    script: {values: [20, 20.2, 20.6, 20.6, 19.9, 20.0]}
    publish: {on_change: true, deadband: 0.5}
`)
	rec, automations := &readingRecorder{}, &readingRecorder{}
	sink := readingSink{log: newLogger(LogConfig{Level: "warn"}, &syncBuffer{}), obs: automations, next: mqttSink{rec, reg}}
	var all []float64
	for range 6 {
		r, err := reg.Read(context.Background(), "t")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := r.Get("temperature")
		all = append(all, v)
		if err := sink.Publish(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	if want := []float64{20, 20.6, 19.9}; len(rec.got) != len(want) || rec.got[0] != want[0] || rec.got[1] != want[1] || rec.got[2] != want[2] {
		t.Errorf("published %v, want %v (of %v)", rec.got, want, all)
	}
	if len(automations.got) != 6 || automations.got[1] != 20.2 || automations.got[3] != 20.6 {
		t.Errorf("automations saw %v, want every reading %v", automations.got, all)
	}
}
