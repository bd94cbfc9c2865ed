// Package metrics serves the agent's /metrics page in Prometheus' text
// format: what the scheduler did with each job, what the sensors read,
// what the outputs and the outbox, the store and the broker connection
// went through, and the process's own health.
//
// The page is for Grafana users who scrape every device of a fleet; most
// devices never turn the HTTP listener on, so the package costs nothing
// until it is made: there are no goroutines, no timers and no package
// state of its own. Once made, an event costs a map lookup and an atomic
// add, and everything the other parts already count (the store's commits,
// the outbox, the broker connection, the outputs) is read from them at a
// scrape, through the small interfaces below, and not counted twice.
//
// The exposition format is written by github.com/VictoriaMetrics/metrics,
// through its Set alone: its global WritePrometheus and process metrics
// would link cgroup and pressure-stall readers the agent does not need.
//
// A series keyed by a job, a sensor or an actuator exists while that
// thing does: a removed job's series go at its removed event, and those
// of a sensor or an actuator no longer configured at the next scrape, so
// that the page stays as bounded as the schedule.
package metrics

import (
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	vm "github.com/VictoriaMetrics/metrics"

	"github.com/edgecron/edgecron/sched"
)

// Jobs is the scheduler: its events feed the job series, Get tells a
// running job from a removed one, Len counts them.
type Jobs interface {
	Listen(l sched.Listener) (cancel func())
	Get(id string) (sched.Job, error)
	Len() int
}

// Sensors names the configured sensors; the series of any other sensor
// are dropped at a scrape.
type Sensors interface {
	Names() []string
}

// Actuators counts, per configured output, the times it switched on or
// off and the commands its safety profile refused.
type Actuators interface {
	Names() []string
	Counts(name string) (switches, refusals uint64, ok bool)
}

// Store counts the database's write transactions and the fdatasyncs of
// its file (the outbox shares it).
type Store interface {
	Writes() (commits, syncs uint64)
}

// Outbox is the MQTT outbox: the records it holds, those it dropped and
// those it replayed to the broker.
type Outbox interface {
	Stats() (queued int, dropped uint64)
	Replayed() uint64
}

// Broker is the MQTT connection: whether it is up, and how many
// connections were made since the start.
type Broker interface {
	Connected() bool
	Connects() uint64
}

// Sources are what the page reads. Jobs is required; a nil one of the
// others leaves its series out (no broker configured: no outbox and no
// mqtt series).
type Sources struct {
	Jobs      Jobs
	Sensors   Sensors
	Actuators Actuators
	Store     Store
	Outbox    Outbox
	Broker    Broker
	// Start is when the process started (process_start_time_seconds);
	// default: when New was called.
	Start time.Time
}

// LatenessBuckets are the upper bounds, in seconds, of the lateness
// histogram: from a millisecond (a run on time) to five minutes (a run
// caught up after a stop or a step of the clock).
var LatenessBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300}

// Metrics is the registry behind /metrics. Its methods are safe for
// concurrent use.
type Metrics struct {
	set      *vm.Set
	src      Sources
	lateness *vm.PrometheusHistogram
	unlisten func()
	scraped  []func() // reads the sources into their series, at a scrape

	mu      sync.Mutex
	jobs    map[string]*jobSeries
	sensors map[string]*sensorSeries
	acts    map[string]*actSeries
}

// jobSeries are one job's counters, each made at the first event it
// counts.
type jobSeries struct {
	runs, errors, misfires, coalesced, skipCondition, skipMaxInstances *vm.Counter
}

type sensorSeries struct{ readings, errors *vm.Counter }

type actSeries struct{ switches, refusals *vm.Counter }

// New makes the registry and starts listening to the scheduler's events;
// Close stops. It starts no goroutine.
func New(src Sources) *Metrics {
	if src.Start.IsZero() {
		src.Start = time.Now()
	}
	vm.ExposeMetadata(true) // # TYPE lines: a histogram must say it is one
	m := &Metrics{
		set: vm.NewSet(), src: src,
		jobs: map[string]*jobSeries{}, sensors: map[string]*sensorSeries{}, acts: map[string]*actSeries{},
	}
	m.lateness = m.set.NewPrometheusHistogramExt("edgecron_job_lateness_seconds", LatenessBuckets)
	m.set.NewGauge("edgecron_jobs", func() float64 { return float64(src.Jobs.Len()) })
	if st := src.Store; st != nil {
		commits, syncs := m.set.NewCounter("edgecron_store_commits_total"), m.set.NewCounter("edgecron_store_syncs_total")
		m.onScrape(func() {
			c, s := st.Writes()
			commits.Set(c)
			syncs.Set(s)
		})
	}
	if ob := src.Outbox; ob != nil {
		m.set.NewGauge("edgecron_outbox_queued", func() float64 { q, _ := ob.Stats(); return float64(q) })
		dropped, replayed := m.set.NewCounter("edgecron_outbox_dropped_total"), m.set.NewCounter("edgecron_outbox_replayed_total")
		m.onScrape(func() {
			_, d := ob.Stats()
			dropped.Set(d)
			replayed.Set(ob.Replayed())
		})
	}
	if b := src.Broker; b != nil {
		m.set.NewGauge("edgecron_mqtt_connected", func() float64 { return bool01(b.Connected()) })
		reconnects := m.set.NewCounter("edgecron_mqtt_reconnects_total")
		m.onScrape(func() {
			if n := b.Connects(); n > 0 {
				reconnects.Set(n - 1) // the first connection is no reconnect
			}
		})
	}
	if src.Actuators != nil {
		m.onScrape(m.scrapeActuators)
	}
	if src.Sensors != nil {
		m.onScrape(m.pruneSensors)
	}
	m.registerProcess()
	m.unlisten = src.Jobs.Listen(m.event)
	return m
}

func (m *Metrics) onScrape(f func()) { m.scraped = append(m.scraped, f) }

// Close stops listening to the scheduler.
func (m *Metrics) Close() {
	if m.unlisten != nil {
		m.unlisten()
		m.unlisten = nil
	}
}

// ServeHTTP writes every series in Prometheus' text format (version
// 0.0.4), reading the sources first.
func (m *Metrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	for _, f := range m.scraped {
		f()
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	m.set.WritePrometheus(w)
}

// event counts one scheduler event. It is the scheduler's listener: called
// without the scheduler's lock, one event at a time.
func (m *Metrics) event(ev sched.Event) {
	var pick func(*jobSeries) **vm.Counter
	var name, reason string
	switch ev.Kind {
	case sched.EventSubmitted:
		if ev.ScheduledTime != nil {
			m.lateness.Update(max(ev.Time.Sub(*ev.ScheduledTime).Seconds(), 0))
		}
		if n, ok := ev.Result["coalesced"].(int); ok && n > 0 {
			if c := m.jobCounter(ev.JobID, func(s *jobSeries) **vm.Counter { return &s.coalesced }, "edgecron_job_coalesced_total", ""); c != nil {
				c.Add(n)
			}
		}
		pick, name = func(s *jobSeries) **vm.Counter { return &s.runs }, "edgecron_job_runs_total"
	case sched.EventError:
		pick, name = func(s *jobSeries) **vm.Counter { return &s.errors }, "edgecron_job_errors_total"
	case sched.EventMissed:
		pick, name = func(s *jobSeries) **vm.Counter { return &s.misfires }, "edgecron_job_misfires_total"
	case sched.EventSkipped:
		pick, name, reason = func(s *jobSeries) **vm.Counter { return &s.skipCondition }, "edgecron_job_skipped_total", "condition"
	case sched.EventMaxInstances:
		pick, name, reason = func(s *jobSeries) **vm.Counter { return &s.skipMaxInstances }, "edgecron_job_skipped_total", "max_instances"
	case sched.EventRemoved:
		m.forgetJob(ev.JobID)
		return
	default:
		return
	}
	if c := m.jobCounter(ev.JobID, pick, name, reason); c != nil {
		c.Inc()
	}
}

// jobCounter returns job id's counter that pick selects, making it (with
// the job's series) if need be; nil for a job the scheduler no longer
// holds: the run of a removed job (a date job's, always) ends after its
// removed event, and must not bring its series back.
func (m *Metrics) jobCounter(id string, pick func(*jobSeries) **vm.Counter, name, reason string) *vm.Counter {
	m.mu.Lock()
	s := m.jobs[id]
	m.mu.Unlock()
	if s == nil {
		if _, err := m.src.Jobs.Get(id); err != nil {
			return nil
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if s = m.jobs[id]; s == nil {
			s = &jobSeries{}
			m.jobs[id] = s
		}
	} else {
		m.mu.Lock()
		defer m.mu.Unlock()
	}
	p := pick(s)
	if *p == nil {
		*p = m.set.GetOrCreateCounter(jobName(name, id, reason))
	}
	return *p
}

func jobName(name, id, reason string) string {
	n := series(name, "job", id)
	if reason != "" {
		n = n[:len(n)-1] + `,reason="` + reason + `"}`
	}
	return n
}

// forgetJob drops a removed job's series.
func (m *Metrics) forgetJob(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.jobs[id]
	if s == nil {
		return
	}
	delete(m.jobs, id)
	for _, c := range []struct {
		c            *vm.Counter
		name, reason string
	}{
		{s.runs, "edgecron_job_runs_total", ""},
		{s.errors, "edgecron_job_errors_total", ""},
		{s.misfires, "edgecron_job_misfires_total", ""},
		{s.coalesced, "edgecron_job_coalesced_total", ""},
		{s.skipCondition, "edgecron_job_skipped_total", "condition"},
		{s.skipMaxInstances, "edgecron_job_skipped_total", "max_instances"},
	} {
		if c.c != nil {
			m.set.UnregisterMetric(jobName(c.name, id, c.reason))
		}
	}
}

// Observe counts a good reading of sensor. With ObserveFailure it has the
// methods of the scheduler that readings are handed to, so that the agent
// can hand them to both.
func (m *Metrics) Observe(sensor string, _ time.Time, _ []sched.Sample) {
	m.sensor(sensor).readings.Inc()
}

// ObserveFailure counts a failed read of sensor.
func (m *Metrics) ObserveFailure(sensor string) {
	m.sensor(sensor).errors.Inc()
}

func (m *Metrics) sensor(name string) *sensorSeries {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sensors[name]
	if s == nil {
		s = &sensorSeries{
			readings: m.set.GetOrCreateCounter(series("edgecron_sensor_readings_total", "sensor", name)),
			errors:   m.set.GetOrCreateCounter(series("edgecron_sensor_read_errors_total", "sensor", name)),
		}
		m.sensors[name] = s
	}
	return s
}

// pruneSensors drops the series of sensors no longer configured.
func (m *Metrics) pruneSensors() {
	names := m.src.Sensors.Names()
	m.mu.Lock()
	defer m.mu.Unlock()
	for n := range m.sensors {
		if !contains(names, n) {
			delete(m.sensors, n)
			m.set.UnregisterMetric(series("edgecron_sensor_readings_total", "sensor", n))
			m.set.UnregisterMetric(series("edgecron_sensor_read_errors_total", "sensor", n))
		}
	}
}

// scrapeActuators reads the outputs' counts into their series, making
// those of new outputs and dropping those of outputs gone.
func (m *Metrics) scrapeActuators() {
	a := m.src.Actuators
	names := a.Names()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range names {
		sw, ref, ok := a.Counts(n)
		if !ok {
			continue
		}
		s := m.acts[n]
		if s == nil {
			s = &actSeries{
				switches: m.set.GetOrCreateCounter(series("edgecron_actuator_switches_total", "actuator", n)),
				refusals: m.set.GetOrCreateCounter(series("edgecron_actuator_refusals_total", "actuator", n)),
			}
			m.acts[n] = s
		}
		s.switches.Set(sw)
		s.refusals.Set(ref)
	}
	for n := range m.acts {
		if !contains(names, n) {
			delete(m.acts, n)
			m.set.UnregisterMetric(series("edgecron_actuator_switches_total", "actuator", n))
			m.set.UnregisterMetric(series("edgecron_actuator_refusals_total", "actuator", n))
		}
	}
}

func contains(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// series names one series of family name with one label.
func series(name, label, value string) string {
	return name + "{" + label + `="` + escape(value) + `"}`
}

// escape makes s a label value of the text format: a backslash, a double
// quote and a line feed are escaped, and invalid UTF-8 is replaced. Job
// ids and sensor and actuator names cannot hold any of these today; the
// page must stay readable should that change.
func escape(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if !strings.ContainsAny(s, "\\\"\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
