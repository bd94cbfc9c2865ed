package metrics_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/edgecron/edgecron/metrics"
	"github.com/edgecron/edgecron/sched"
)

// listener is a scheduler that hands its events over by hand and knows
// every job id, odd ones included (the real one refuses them).
type listener struct{ l sched.Listener }

func (f *listener) Listen(l sched.Listener) func() { f.l = l; return func() { f.l = nil } }
func (f *listener) Get(id string) (sched.Job, error) {
	if f.l == nil {
		return sched.Job{}, errors.New("closed")
	}
	return sched.Job{ID: id}, nil
}
func (f *listener) Len() int { return 0 }

func parse(t testing.TB, m *metrics.Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(w.Body.String()))
	if err != nil {
		t.Fatalf("the page does not parse: %v\n%s", err, w.Body.String())
	}
	return fams
}

// labelValues returns the values of label of family name, in page order.
func labelValues(fams map[string]*dto.MetricFamily, name, label string) []string {
	var vs []string
	if f := fams[name]; f != nil {
		for _, m := range f.Metric {
			for _, l := range m.Label {
				if l.GetName() == label {
					vs = append(vs, l.GetValue())
				}
			}
		}
	}
	return vs
}

// Job ids are [A-Za-z0-9_.-] today; should odd ones ever reach the page,
// a quote, a backslash or a line feed must not break it, and a removed
// job's series must still go.
func TestOddJobIDsEscaped(t *testing.T) {
	jobs := &listener{}
	m := metrics.New(metrics.Sources{Jobs: jobs})
	defer m.Close()
	ids := []string{`say "hi"`, `C:\jobs\x`, "two\nlines", `\"`, "ünïcode", "bad\xffutf8", "tick"}
	now := time.Now()
	for _, id := range ids {
		jobs.l(sched.Event{Kind: sched.EventSubmitted, JobID: id, Time: now, ScheduledTime: &now})
		jobs.l(sched.Event{Kind: sched.EventMaxInstances, JobID: id, Time: now})
	}
	fams := parse(t, m)
	got := map[string]bool{}
	for _, v := range labelValues(fams, "edgecron_job_runs_total", "job") {
		got[v] = true
	}
	for _, id := range ids {
		if w := strings.ToValidUTF8(id, "\uFFFD"); !got[w] {
			t.Errorf("no runs series for job %q; the page has %q", w, labelValues(fams, "edgecron_job_runs_total", "job"))
		}
	}
	for _, id := range ids[:len(ids)-1] {
		jobs.l(sched.Event{Kind: sched.EventRemoved, JobID: id})
	}
	fams = parse(t, m)
	for _, fam := range []string{"edgecron_job_runs_total", "edgecron_job_skipped_total"} {
		if vs := labelValues(fams, fam, "job"); len(vs) != 1 || vs[0] != "tick" {
			t.Errorf("%s after the removals: jobs %q, want only tick", fam, vs)
		}
	}
}

// FuzzLabelValue: whatever a sensor is called, the page parses and the
// label reads back as the name (invalid UTF-8 replaced).
func FuzzLabelValue(f *testing.F) {
	for _, s := range []string{"air", `a"b`, `a\b`, "a\nb", `\`, `"`, "\xff", "", "}", `{x="y"}`, "é\\\"\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		m := metrics.New(metrics.Sources{Jobs: &listener{}})
		defer m.Close()
		m.ObserveFailure(name)
		vs := labelValues(parse(t, m), "edgecron_sensor_read_errors_total", "sensor")
		if w := strings.ToValidUTF8(name, "\uFFFD"); len(vs) != 1 || vs[0] != w || !utf8.ValidString(vs[0]) {
			t.Fatalf("sensor %q reads back as %q, want %q", name, vs, w)
		}
	})
}

// The page takes GET and HEAD only; HEAD has no body.
func TestMethods(t *testing.T) {
	m := metrics.New(metrics.Sources{Jobs: &listener{}})
	defer m.Close()
	srv := httptest.NewServer(m)
	defer srv.Close()
	for _, c := range []struct {
		method string
		status int
		body   bool
	}{{"GET", 200, true}, {"HEAD", 200, false}, {"POST", 405, false}, {"DELETE", 405, false}} {
		req, _ := http.NewRequest(c.method, srv.URL, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.status || strings.Contains(string(b), "edgecron_jobs") != c.body {
			t.Errorf("%s: status %d, body %q", c.method, res.StatusCode, b)
		}
		if c.status == 405 && res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: Allow %q", c.method, res.Header.Get("Allow"))
		}
	}
}

// New starts no goroutine: a registry nobody scrapes costs nothing but
// the count of each event. Close stops the counting.
func TestNoGoroutineAndClose(t *testing.T) {
	jobs := &listener{}
	before := runtime.NumGoroutine()
	m := metrics.New(metrics.Sources{Jobs: jobs})
	// More, not different: goroutines of the tests before (an httptest
	// server's connections) may end meanwhile.
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("New started %d goroutines", n-before)
	}
	m.Close()
	if jobs.l != nil {
		t.Error("Close left the listener")
	}
}

// Events, readings and scrapes at once (run with -race): the page always
// parses, and nothing is lost.
func TestConcurrentUse(t *testing.T) {
	jobs := &listener{}
	m := metrics.New(metrics.Sources{Jobs: jobs})
	defer m.Close()
	l := jobs.l
	var wg sync.WaitGroup
	const n = 200
	wg.Add(3)
	go func() { // the scheduler delivers one event at a time
		defer wg.Done()
		now := time.Now()
		for i := range n {
			id := "j" + strconv.Itoa(i%7)
			l(sched.Event{Kind: sched.EventSubmitted, JobID: id, Time: now, ScheduledTime: &now})
			if i%5 == 4 {
				l(sched.Event{Kind: sched.EventRemoved, JobID: id})
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range n {
			m.Observe("air", time.Time{}, nil)
		}
	}()
	go func() {
		defer wg.Done()
		for range 20 {
			w := httptest.NewRecorder()
			m.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
			p := expfmt.NewTextParser(model.LegacyValidation)
			if _, err := p.TextToMetricFamilies(w.Body); err != nil {
				t.Errorf("the page does not parse: %v", err) // not Fatal: another goroutine
				return
			}
		}
	}()
	wg.Wait()
	fams := parse(t, m)
	if v := fams["edgecron_sensor_readings_total"].Metric[0].Counter.GetValue(); v != n {
		t.Errorf("readings %g, want %d", v, n)
	}
	if c := fams["edgecron_job_lateness_seconds"].Metric[0].Histogram.GetSampleCount(); c != n {
		t.Errorf("lateness count %d, want %d", c, n)
	}
}
