package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/edgecron/edgecron/metrics"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
)

const guard = 10 * time.Second

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// jobs is the scheduler as the registry sees it, with a listener of the
// test's own that runs after the registry's: once the test has an event,
// the registry has counted it.
type jobs struct {
	*sched.Scheduler
	events chan sched.Event
}

func (j jobs) Listen(l sched.Listener) func() {
	return j.Scheduler.Listen(func(ev sched.Event) { l(ev); j.events <- ev })
}

type outputs map[string]bool

func (o outputs) CheckSensor(string, string) error     { return nil }
func (o outputs) Output(name string) (on, ok bool)     { on, ok = o[name]; return on, ok }
func (f *fakeSources) Writes() (commits, syncs uint64) { return 7, 9 }
func (f *fakeSources) Stats() (queued int, dropped uint64) {
	return 12, 3
}
func (f *fakeSources) Replayed() uint64 { return 40 }
func (f *fakeSources) Connected() bool  { return true }
func (f *fakeSources) Connects() uint64 { return 3 }

// fakeSources stands for the store, the outbox, the broker, the sensors
// and the actuators.
type fakeSources struct {
	mu      sync.Mutex
	sensors []string
	acts    map[string][2]uint64
}

func (f *fakeSources) Names() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sensors...)
}

type actuators struct{ f *fakeSources }

func (a actuators) Names() []string {
	a.f.mu.Lock()
	defer a.f.mu.Unlock()
	var ns []string
	for n := range a.f.acts {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

func (a actuators) Counts(name string) (uint64, uint64, bool) {
	a.f.mu.Lock()
	defer a.f.mu.Unlock()
	c, ok := a.f.acts[name]
	return c[0], c[1], ok
}

type rig struct {
	t     *testing.T
	clock *schedtest.FakeClock
	s     *sched.Scheduler
	jobs  jobs
	m     *metrics.Metrics
	srv   *httptest.Server
	src   *fakeSources
	block chan struct{}
	seen  map[string]int // kind/job -> events seen
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, clock: schedtest.NewFakeClock(t0), block: make(chan struct{}), seen: map[string]int{},
		src: &fakeSources{sensors: []string{"air", `we"ird`}, acts: map[string][2]uint64{"pump": {4, 1}, "fan": {0, 0}}}}
	r.s = sched.New(schedtest.NewMemStore(), sched.Options{Clock: r.clock, Location: time.UTC, MaxWait: time.Hour,
		Logger: slog.New(slog.DiscardHandler), Inputs: outputs{"pump": true}})
	err := r.s.Handle("test", sched.HandlerFunc{RunFunc: func(ctx context.Context, run sched.Run) (sched.Result, error) {
		var p struct {
			Fail  string `json:"fail"`
			Block bool   `json:"block"`
		}
		_ = run.Job.Action.Decode(&p)
		if p.Block {
			select {
			case <-r.block:
			case <-ctx.Done():
			}
		}
		if p.Fail != "" {
			return nil, errors.New(p.Fail)
		}
		return sched.Result{"ok": true}, nil
	}}, sched.HandlerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.jobs = jobs{Scheduler: r.s, events: make(chan sched.Event, 1000)}
	r.m = metrics.New(metrics.Sources{Jobs: r.jobs, Sensors: r.src, Actuators: actuators{r.src},
		Store: r.src, Outbox: r.src, Broker: r.src, Start: t0})
	t.Cleanup(r.m.Close)
	if err := r.s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		close(r.block)
		_ = r.s.Shutdown(context.Background(), true)
	})
	r.clock.BlockUntil(1)
	r.srv = httptest.NewServer(r.m)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rig) add(doc string) {
	r.t.Helper()
	p, err := sched.DecodeJob([]byte(doc), sched.ModeAdd)
	if err != nil {
		r.t.Fatalf("DecodeJob(%s): %v", doc, err)
	}
	if _, err := r.s.Add(context.Background(), p, sched.AddOptions{}); err != nil {
		r.t.Fatalf("Add(%s): %v", doc, err)
	}
}

// await reads events until want (kind/job -> count) were all seen.
func (r *rig) await(want map[string]int) {
	r.t.Helper()
	deadline := time.After(guard)
	for {
		done := true
		for k, n := range want {
			if r.seen[k] < n {
				done = false
			}
		}
		if done {
			return
		}
		select {
		case ev := <-r.jobs.events:
			r.seen[string(ev.Kind)+"/"+ev.JobID]++
		case <-deadline:
			r.t.Fatalf("events seen %v, want at least %v", r.seen, want)
		}
	}
}

// scrape GETs /metrics and parses the whole page with Prometheus' own
// text parser.
func (r *rig) scrape() map[string]*dto.MetricFamily {
	r.t.Helper()
	res, err := http.Get(r.srv.URL + "/metrics")
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		r.t.Fatalf("status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	body, _ := io.ReadAll(res.Body)
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		r.t.Fatalf("the page does not parse: %v\n%s", err, body)
	}
	return fams
}

// value returns the value of the series of family name whose labels are
// exactly labels ("k=v,k=v"; "" for none), and whether there is one.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, typ dto.MetricType, labels string) (float64, bool) {
	t.Helper()
	f := fams[name]
	if f == nil {
		return 0, false
	}
	if f.GetType() != typ {
		t.Fatalf("%s is a %s, want a %s", name, f.GetType(), typ)
	}
	for _, m := range f.Metric {
		var ls []string
		for _, l := range m.Label {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		if strings.Join(ls, ",") != labels {
			continue
		}
		switch typ {
		case dto.MetricType_COUNTER:
			return m.Counter.GetValue(), true
		case dto.MetricType_GAUGE:
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}

func want(t *testing.T, fams map[string]*dto.MetricFamily, name string, typ dto.MetricType, labels string, v float64) {
	t.Helper()
	got, ok := value(t, fams, name, typ, labels)
	if !ok {
		t.Errorf("no series %s{%s}", name, labels)
	} else if got != v {
		t.Errorf("%s{%s} = %g, want %g", name, labels, got, v)
	}
}

func absent(t *testing.T, fams map[string]*dto.MetricFamily, name string, typ dto.MetricType, labels string) {
	t.Helper()
	if v, ok := value(t, fams, name, typ, labels); ok {
		t.Errorf("%s{%s} = %g is there, want no such series", name, labels, v)
	}
}

const (
	counter = dto.MetricType_COUNTER
	gauge   = dto.MetricType_GAUGE
)

// Real runs, errors, misfires, skipped and coalesced runs through a
// scheduler on a fake clock, then the whole page through the real parser.
func TestScrape(t *testing.T) {
	r := newRig(t)
	every10 := `"trigger":{"type":"interval","seconds":10},"action":{"type":"test"`
	r.add(`{"id":"tick",` + every10 + `},"coalesce":true,"misfire_grace_time":null}`)
	r.add(`{"id":"broken",` + every10 + `,"fail":"no water"},"coalesce":true,"misfire_grace_time":null}`)
	r.add(`{"id":"late",` + every10 + `},"coalesce":false,"misfire_grace_time":30,"max_instances":10}`)
	r.add(`{"id":"busy",` + every10 + `,"block":true},"coalesce":false,"misfire_grace_time":null,"max_instances":1}`)
	r.add(`{"id":"dry.run-1_a",` + every10 + `},"coalesce":true,"misfire_grace_time":null,"conditions":[{"output":"pump","state":"off"}]}`)
	r.add(`{"id":"once","trigger":{"type":"date","run_date":"2026-11-21T09:00:10","timezone":"UTC"},"action":{"type":"test"},"misfire_grace_time":null}`)
	r.clock.WaitForTimer(10 * time.Second)
	// The wall clock steps 65s forward before the timer fires: at the
	// wake-up (+75s) the runs of +10s..+70s are due.
	r.clock.StepWall(65 * time.Second)
	r.clock.Advance(10 * time.Second)
	r.await(map[string]int{
		"executed/tick": 1, "error/broken": 1, "executed/late": 3, "missed/late": 4,
		"submitted/busy": 1, "max_instances/busy": 6, "skipped/dry.run-1_a": 1, "executed/once": 1,
	})
	r.m.Observe("air", t0, nil)
	r.m.Observe("air", t0, nil)
	r.m.ObserveFailure("air")
	r.m.ObserveFailure(`we"ird`)
	r.m.Observe("gone", t0, nil) // a sensor no longer configured: dropped at the scrape

	fams := r.scrape()
	for _, c := range []struct {
		name, labels string
		v            float64
	}{
		{"edgecron_job_runs_total", "job=tick", 1},
		{"edgecron_job_coalesced_total", "job=tick", 6},
		{"edgecron_job_runs_total", "job=broken", 1},
		{"edgecron_job_errors_total", "job=broken", 1},
		{"edgecron_job_runs_total", "job=late", 3},
		{"edgecron_job_misfires_total", "job=late", 4},
		{"edgecron_job_runs_total", "job=busy", 1},
		{"edgecron_job_skipped_total", "job=busy,reason=max_instances", 6},
		{"edgecron_job_skipped_total", "job=dry.run-1_a,reason=condition", 1},
		{"edgecron_sensor_readings_total", "sensor=air", 2},
		{"edgecron_sensor_read_errors_total", "sensor=air", 1},
		{"edgecron_sensor_read_errors_total", `sensor=we"ird`, 1},
		{"edgecron_actuator_switches_total", "actuator=pump", 4},
		{"edgecron_actuator_refusals_total", "actuator=pump", 1},
		{"edgecron_actuator_switches_total", "actuator=fan", 0},
		{"edgecron_outbox_dropped_total", "", 3},
		{"edgecron_outbox_replayed_total", "", 40},
		{"edgecron_store_commits_total", "", 7},
		{"edgecron_store_syncs_total", "", 9},
		{"edgecron_mqtt_reconnects_total", "", 2},
	} {
		want(t, fams, c.name, counter, c.labels, c.v)
	}
	want(t, fams, "edgecron_jobs", gauge, "", 5) // once is gone
	want(t, fams, "edgecron_outbox_queued", gauge, "", 12)
	want(t, fams, "edgecron_mqtt_connected", gauge, "", 1)
	want(t, fams, "process_start_time_seconds", gauge, "", float64(t0.Unix()))
	absent(t, fams, "edgecron_job_errors_total", counter, "job=tick") // made at its first error
	absent(t, fams, "edgecron_job_runs_total", counter, "job=once")   // removed before it ran
	absent(t, fams, "edgecron_sensor_readings_total", counter, "sensor=gone")
	for _, g := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "go_memstats_sys_bytes", "process_resident_memory_bytes", "process_open_fds"} {
		if v, ok := value(t, fams, g, gauge, ""); !ok || v <= 0 {
			t.Errorf("%s = %g, %v; want a positive gauge", g, v, ok)
		}
	}
	if _, ok := value(t, fams, "process_cpu_seconds_total", counter, ""); !ok {
		t.Error("no process_cpu_seconds_total")
	}
	if _, ok := value(t, fams, "go_gc_cycles_total", counter, ""); !ok {
		t.Error("no go_gc_cycles_total")
	}

	// Lateness: tick, broken and late's +70s run 5s late, late's +60s
	// and +50s 15s and 25s, busy's +10s and once 65s (sum 185); missed
	// and skipped runs are not runs.
	h := fams["edgecron_job_lateness_seconds"]
	if h == nil || h.GetType() != dto.MetricType_HISTOGRAM || len(h.Metric) != 1 {
		t.Fatalf("lateness family %v", h)
	}
	hist := h.Metric[0].Histogram
	var got []string
	for _, b := range hist.Bucket {
		got = append(got, fmt.Sprintf("%g:%d", b.GetUpperBound(), b.GetCumulativeCount()))
	}
	const wantBuckets = "[0.001:0 0.005:0 0.01:0 0.05:0 0.1:0 0.5:0 1:0 5:3 10:3 30:5 60:5 300:7 +Inf:7]"
	if fmt.Sprint(got) != wantBuckets || hist.GetSampleCount() != 7 || hist.GetSampleSum() != 185 {
		t.Errorf("lateness buckets %v count %d sum %g; want %s count 7 sum 185", got, hist.GetSampleCount(), hist.GetSampleSum(), wantBuckets)
	}

	// A removed job's series go; the others stay. A configured output
	// dropped by a reload goes at the next scrape.
	if _, err := r.s.Remove(context.Background(), "late", sched.OpOptions{}); err != nil {
		t.Fatal(err)
	}
	r.await(map[string]int{"removed/late": 1})
	r.src.mu.Lock()
	delete(r.src.acts, "fan")
	r.src.mu.Unlock()
	fams = r.scrape()
	absent(t, fams, "edgecron_job_runs_total", counter, "job=late")
	absent(t, fams, "edgecron_job_misfires_total", counter, "job=late")
	absent(t, fams, "edgecron_actuator_switches_total", counter, "actuator=fan")
	want(t, fams, "edgecron_job_runs_total", counter, "job=tick", 1)
	want(t, fams, "edgecron_actuator_switches_total", counter, "actuator=pump", 4)
}
