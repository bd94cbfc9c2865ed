package mqtt_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sensors"
	_ "github.com/edgecron/edgecron/sensors/sim"
)

// agentSink hands readings to the device's agent, as the agent binary's
// sink does.
type agentSink struct{ dv *device }

func (s agentSink) Publish(_ context.Context, r sensors.Reading) error {
	s.dv.agent.Reading(r.Sensor, r.Time, r.ValueMap(), r.UnitMap())
	return nil
}

// flaky is a sensor that fails while fail is set.
type flaky struct{ fail *atomic.Bool }

func (f flaky) Read(context.Context) ([]sensors.Value, error) {
	if f.fail.Load() {
		return nil, errors.New("no answer on the bus")
	}
	return []sensors.Value{{Name: "temperature", Value: 20, Unit: "°C"}}, nil
}

// flakyHW serves every sensor as a flaky one.
type flakyHW struct {
	sensors.Hardware
	fail *atomic.Bool
}

func (h flakyHW) SimulateSensor(sensors.Config) (sensors.Sensor, error) { return flaky{h.fail}, nil }

// TestMessagesPerReading traces what one scheduled read of a sensor puts on
// the broker, through the real path: the scheduler fires the read job, the
// read handler reads the sensor registry and hands the reading to the
// agent, the agent publishes it and the scheduler's events. It used to be
// four messages: the reading, the submitted and executed events (executed
// carrying the values again as its result) and the job document (only its
// next_run_time and last_run_time changed). By default it is now the
// reading alone; mqtt.read_job_events brings the four back. A failed read
// is an error event and the job document, as for any job, and the first
// success after it publishes the document again (last_result ok).
func TestMessagesPerReading(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{InProcess: true})
	prefix := mqtttest.Prefix(t, b.URL)
	for _, tc := range []struct {
		name   string
		events bool
		first  []string // topics after the root, for the first reading
		want   []string // for each reading after it
		failed []string // for a failed read
		back   []string // for the next reading after the failed read
	}{
		// The first run changes the document's last_result (from none to
		// ok): the document follows once.
		{"default", false, []string{"sensors/air", "jobs/read-air"}, []string{"sensors/air"},
			[]string{"events error", "jobs/read-air"}, []string{"sensors/air", "jobs/read-air"}},
		{"read_job_events", true, []string{"events submitted", "sensors/air", "events executed", "jobs/read-air"}, []string{"events submitted", "sensors/air", "events executed", "jobs/read-air"},
			[]string{"events submitted", "events error", "jobs/read-air"}, []string{"events submitted", "sensors/air", "events executed", "jobs/read-air"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dv := newDevice(t, b.URL, prefix, "lean-"+strings.ReplaceAll(tc.name, "_", "-"))
			var fail atomic.Bool
			reg, err := sensors.Build([]sensors.Config{{Name: "air", Driver: "sim"}}, flakyHW{fail: &fail}, dv.clock)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { reg.Close() })
			if err := dv.s.Handle("read", sensors.NewReadHandler(reg, agentSink{dv}, quiet()), sched.HandlerOptions{}); err != nil {
				t.Fatal(err)
			}
			dv.cfg.ReadJobEvents = tc.events
			w := observe(t, b, dv.root()+"/#")
			dv.start()
			w.waitFor(0, "online", func(m paho.Message) bool { // the agent follows the scheduler's events
				return m.Topic() == dv.root()+"/status" && string(m.Payload()) == "online"
			})

			// Each reading is framed by a marker job added once the
			// scheduler announced the read's outcome: the scheduler
			// delivers events in order, so whatever the agent published
			// for the read comes before the marker's added event.
			outcome := make(chan sched.EventKind, 10)
			defer dv.s.Listen(func(e sched.Event) {
				if e.JobID == "read-air" && (e.Kind == sched.EventExecuted || e.Kind == sched.EventError) {
					outcome <- e.Kind
				}
			})()
			act, _ := sched.NewAction("read", map[string]string{"sensor": "air"})
			if _, err := dv.s.Add(context.Background(), sched.Patch{
				Job:    sched.Job{ID: "read-air", Trigger: sched.TriggerSpec{Type: "interval", Seconds: 60}, Action: act},
				Fields: sched.FieldID | sched.FieldTrigger | sched.FieldAction,
			}, sched.AddOptions{}); err != nil {
				t.Fatal(err)
			}
			markers := 0
			frame := func() []string {
				t.Helper()
				markers++
				id := "marker-" + string(rune('a'+markers))
				if _, err := dv.s.Add(context.Background(), sched.Patch{
					Job:    sched.Job{ID: id, Trigger: sched.TriggerSpec{Type: "interval", Seconds: 3600}, Action: sched.Action{Type: "test", Raw: []byte(`{"type":"test"}`)}},
					Fields: sched.FieldID | sched.FieldTrigger | sched.FieldAction,
				}, sched.AddOptions{}); err != nil {
					t.Fatal(err)
				}
				_, at := w.waitFor(0, id+" added", func(m paho.Message) bool {
					return m.Topic() == dv.root()+"/events" && strings.Contains(string(m.Payload()), `"job_id":"`+id+`","event":"added"`)
				})
				var got []string
				for _, m := range w.all()[:at] {
					topic := strings.TrimPrefix(m.Topic(), dv.root()+"/")
					if topic == "events" {
						ev := string(m.Payload())
						switch {
						case strings.Contains(ev, `"job_id":"marker-`):
							got = nil // a previous frame's end
							continue
						case strings.Contains(ev, `"job_id":"read-air"`):
							_, kind, _ := strings.Cut(ev, `"event":"`)
							kind, _, _ = strings.Cut(kind, `"`)
							topic += " " + kind
						}
					}
					if strings.HasPrefix(topic, "jobs/marker-") || topic == "status" || topic == "info" {
						continue
					}
					// A document of the job from before its first run is
					// no reading's doing: the agent republishes every job
					// document once connected, and that can come after
					// the first marker.
					if topic == "jobs/read-air" && !strings.Contains(string(m.Payload()), `"last_run_time":"`) {
						continue
					}
					got = append(got, topic)
				}
				return got
			}
			frame() // the read job's added event and document

			fired := func(want sched.EventKind) {
				t.Helper()
				dv.clock.Advance(time.Minute)
				select {
				case k := <-outcome:
					if k != want {
						t.Fatalf("read-air: %s, want %s", k, want)
					}
				case <-time.After(guard):
					t.Fatal("the read job did not run")
				}
			}
			check := func(what string, want []string) {
				t.Helper()
				if got := frame(); strings.Join(got, ", ") != strings.Join(want, ", ") {
					t.Errorf("%s published %q, want %q", what, got, want)
				}
			}
			fired(sched.EventExecuted)
			check("the first reading", tc.first)
			for i := range 3 {
				fired(sched.EventExecuted)
				check(fmt.Sprintf("reading %d", i+2), tc.want)
			}
			fail.Store(true)
			fired(sched.EventError)
			check("a failed read", tc.failed)
			fail.Store(false)
			fired(sched.EventExecuted)
			check("the reading after it", tc.back)
			fired(sched.EventExecuted)
			check("the next", tc.want)
		})
	}
}
