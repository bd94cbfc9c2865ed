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
// The package writes the exposition format itself (expose.go): a counter
// is an atomic integer, the lateness histogram a dozen buckets under a
// lock, and a scrape sorts the series and writes them. The library that
// wrote it before, github.com/VictoriaMetrics/metrics, ran its package
// variables at every start of the binary, the agent's and every CLI
// command's, HTTP or not: it read /proc/pressure and the cgroup files,
// built runtime/metrics' descriptions and compiled a regexp.
//
// A series keyed by a job, a sensor or an actuator exists while that
// thing does: a removed job's series go at its removed event, and those
// of a sensor or an actuator no longer configured at the next scrape, so
// that the page stays as bounded as the schedule.
package metrics

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

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
	set      *set
	src      Sources
	lateness *histogram
	unlisten func()
	// Read from the sources at a scrape (nil without their source).
	commits, syncs, dropped, replayed, reconnects *counter
	proc                                          process

	mu      sync.Mutex
	jobs    map[string]*jobSeries
	sensors map[string]*pair // readings, read errors
	acts    map[string]*pair // switches, refusals
}

// A job's series, each made at the first event it counts.
const (
	jobRuns = iota
	jobErrors
	jobMisfires
	jobCoalesced
	jobSkippedCondition
	jobSkippedMaxInstances
	nJobSeries
)

// jobFamilies are the family and the reason label of each job series.
var jobFamilies = [nJobSeries][2]string{
	{"edgecron_job_runs_total", ""},
	{"edgecron_job_errors_total", ""},
	{"edgecron_job_misfires_total", ""},
	{"edgecron_job_coalesced_total", ""},
	{"edgecron_job_skipped_total", "condition"},
	{"edgecron_job_skipped_total", "max_instances"},
}

type jobSeries [nJobSeries]*counter

type pair [2]*counter

// New makes the registry and starts listening to the scheduler's events;
// Close stops. It starts no goroutine.
func New(src Sources) *Metrics {
	if src.Start.IsZero() {
		src.Start = time.Now()
	}
	m := &Metrics{
		set: newSet(), src: src,
		jobs: map[string]*jobSeries{}, sensors: map[string]*pair{}, acts: map[string]*pair{},
	}
	m.lateness = m.set.newHistogram("edgecron_job_lateness_seconds", LatenessBuckets)
	m.set.newGauge("edgecron_jobs", func() float64 { return float64(src.Jobs.Len()) })
	if src.Store != nil {
		m.commits, m.syncs = m.set.newCounter("edgecron_store_commits_total"), m.set.newCounter("edgecron_store_syncs_total")
	}
	if ob := src.Outbox; ob != nil {
		m.set.newGauge("edgecron_outbox_queued", func() float64 { q, _ := ob.Stats(); return float64(q) })
		m.dropped, m.replayed = m.set.newCounter("edgecron_outbox_dropped_total"), m.set.newCounter("edgecron_outbox_replayed_total")
	}
	if b := src.Broker; b != nil {
		m.set.newGauge("edgecron_mqtt_connected", func() float64 {
			if b.Connected() {
				return 1
			}
			return 0
		})
		m.reconnects = m.set.newCounter("edgecron_mqtt_reconnects_total")
	}
	m.proc.register(m.set, src.Start)
	m.unlisten = src.Jobs.Listen(m.event)
	return m
}

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
	m.scrape()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	_ = m.set.writeTo(w) // a failed write is the client gone
}

// scrape reads what the other parts count into their series.
func (m *Metrics) scrape() {
	src := &m.src
	if src.Store != nil {
		c, s := src.Store.Writes()
		m.commits.Set(c)
		m.syncs.Set(s)
	}
	if src.Outbox != nil {
		_, d := src.Outbox.Stats()
		m.dropped.Set(d)
		m.replayed.Set(src.Outbox.Replayed())
	}
	if src.Broker != nil {
		if n := src.Broker.Connects(); n > 0 {
			m.reconnects.Set(n - 1) // the first connection is no reconnect
		}
	}
	if src.Actuators != nil {
		m.scrapeActuators()
	}
	if src.Sensors != nil {
		m.pruneSensors()
	}
	m.proc.scrape()
}

// event counts one scheduler event. It is the scheduler's listener: called
// without the scheduler's lock, one event at a time.
func (m *Metrics) event(ev sched.Event) {
	var i int
	switch ev.Kind {
	case sched.EventSubmitted:
		if ev.ScheduledTime != nil {
			m.lateness.Observe(max(ev.Time.Sub(*ev.ScheduledTime).Seconds(), 0))
		}
		if n, ok := ev.Result["coalesced"].(int); ok && n > 0 {
			if c := m.jobCounter(ev.JobID, jobCoalesced); c != nil {
				c.Add(uint64(n))
			}
		}
		i = jobRuns
	case sched.EventError:
		i = jobErrors
	case sched.EventMissed:
		i = jobMisfires
	case sched.EventSkipped:
		i = jobSkippedCondition
	case sched.EventMaxInstances:
		i = jobSkippedMaxInstances
	case sched.EventRemoved:
		m.forgetJob(ev.JobID)
		return
	default:
		return
	}
	if c := m.jobCounter(ev.JobID, i); c != nil {
		c.Inc()
	}
}

// jobCounter returns job id's series i, making it (with the job's record)
// if need be; nil for a job the scheduler no longer holds: the run of a
// removed job (a date job's, always) ends after its removed event, and
// must not bring its series back.
func (m *Metrics) jobCounter(id string, i int) *counter {
	m.mu.Lock()
	s := m.jobs[id]
	m.mu.Unlock()
	if s == nil {
		if _, err := m.src.Jobs.Get(id); err != nil {
			return nil
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.jobs[id]; s == nil {
		s = new(jobSeries)
		m.jobs[id] = s
	}
	if s[i] == nil {
		s[i] = m.set.counter(jobName(id, i))
	}
	return s[i]
}

func jobName(id string, i int) string {
	n := series(jobFamilies[i][0], "job", id)
	if r := jobFamilies[i][1]; r != "" {
		n = n[:len(n)-1] + `,reason="` + r + `"}`
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
	for i, c := range s {
		if c != nil {
			m.set.remove(jobName(id, i))
		}
	}
}

// Observe counts a good reading of sensor. With ObserveFailure it has the
// methods of the scheduler that readings are handed to, so that the agent
// can hand them to both.
func (m *Metrics) Observe(sensor string, _ time.Time, _ []sched.Sample) {
	m.sensor(sensor)[0].Inc()
}

// ObserveFailure counts a failed read of sensor.
func (m *Metrics) ObserveFailure(sensor string) {
	m.sensor(sensor)[1].Inc()
}

func (m *Metrics) sensor(name string) *pair {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pair(m.sensors, sensorFamilies, "sensor", name)
}

var (
	sensorFamilies   = [2]string{"edgecron_sensor_readings_total", "edgecron_sensor_read_errors_total"}
	actuatorFamilies = [2]string{"edgecron_actuator_switches_total", "edgecron_actuator_refusals_total"}
)

// pair returns the two series of a sensor or an actuator, making them if
// need be. With m.mu held.
func (m *Metrics) pair(in map[string]*pair, families [2]string, label, name string) *pair {
	p := in[name]
	if p == nil {
		p = &pair{m.set.counter(series(families[0], label, name)), m.set.counter(series(families[1], label, name))}
		in[name] = p
	}
	return p
}

// prune drops the series of the names in in that are not in keep. With
// m.mu held.
func (m *Metrics) prune(in map[string]*pair, families [2]string, label string, keep []string) {
	for n := range in {
		if !slices.Contains(keep, n) {
			delete(in, n)
			m.set.remove(series(families[0], label, n))
			m.set.remove(series(families[1], label, n))
		}
	}
}

// pruneSensors drops the series of sensors no longer configured.
func (m *Metrics) pruneSensors() {
	names := m.src.Sensors.Names()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prune(m.sensors, sensorFamilies, "sensor", names)
}

// scrapeActuators reads the outputs' counts into their series, making
// those of new outputs and dropping those of outputs gone.
func (m *Metrics) scrapeActuators() {
	a := m.src.Actuators
	names := a.Names()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range names {
		if sw, ref, ok := a.Counts(n); ok {
			p := m.pair(m.acts, actuatorFamilies, "actuator", n)
			p[0].Set(sw)
			p[1].Set(ref)
		}
	}
	m.prune(m.acts, actuatorFamilies, "actuator", names)
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
