package metrics

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// This file writes the page. A series is named as it appears on the page,
// labels included (`edgecron_job_runs_total{job="tick"}`); a set holds the
// series by that name, and writes them in Prometheus' text format
// (version 0.0.4): families sorted by name, each with its TYPE line, and
// the series of a family sorted by their labels.

// A metric is the value of one series, as the page writes it.
type metric interface {
	kind() string // the TYPE line's: counter, gauge or histogram
	// appendTo appends the series' lines to b: those of family with the
	// labels ("" or `{k="v",...}`).
	appendTo(b []byte, family, labels string) []byte
}

// counter is a count that only goes up: of events, or a count another
// part keeps, read into it at a scrape (Set).
type counter struct{ n atomic.Uint64 }

func (c *counter) Inc()         { c.n.Add(1) }
func (c *counter) Add(n uint64) { c.n.Add(n) }
func (c *counter) Set(n uint64) { c.n.Store(n) }

func (c *counter) kind() string { return "counter" }
func (c *counter) appendTo(b []byte, family, labels string) []byte {
	return appendCount(b, family, labels, c.n.Load())
}

// gauge is a value read by read at a scrape, or, without read, the last
// one Set.
type gauge struct {
	read func() float64
	bits atomic.Uint64
}

func (g *gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

func (g *gauge) get() float64 {
	if g.read != nil {
		return g.read()
	}
	return math.Float64frombits(g.bits.Load())
}

func (g *gauge) kind() string { return "gauge" }
func (g *gauge) appendTo(b []byte, family, labels string) []byte {
	return appendLine(b, family, labels, g.get())
}

// floatCounter is a counter of a fraction (CPU seconds), Set at a scrape.
type floatCounter struct{ gauge }

func (*floatCounter) kind() string { return "counter" }

// histogram counts observations into fixed buckets, and their sum.
type histogram struct {
	bounds []float64 // upper bounds, ascending; +Inf is implied

	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative; the last is +Inf's
	sum    float64
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: slices.Clone(bounds), counts: make([]uint64, len(bounds)+1)}
}

// Observe counts v; a negative v or a NaN is ignored.
func (h *histogram) Observe(v float64) {
	if !(v >= 0) {
		return
	}
	// The first bound >= v, from the smallest: most runs start on time.
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.mu.Unlock()
}

func (h *histogram) kind() string { return "histogram" }
func (h *histogram) appendTo(b []byte, family, labels string) []byte {
	h.mu.Lock()
	counts, sum := slices.Clone(h.counts), h.sum
	h.mu.Unlock()
	var n uint64
	for i, c := range counts {
		n += c
		le := "+Inf"
		if i < len(h.bounds) {
			le = string(appendFloat(nil, h.bounds[i]))
		}
		b = appendCount(b, family+"_bucket", withLabel(labels, `le="`+le+`"`), n)
	}
	b = appendLine(b, family+"_sum", labels, sum)
	return appendCount(b, family+"_count", labels, n)
}

// withLabel adds the label l (`k="v"`) to labels.
func withLabel(labels, l string) string {
	if labels == "" {
		return "{" + l + "}"
	}
	return labels[:len(labels)-1] + "," + l + "}"
}

// appendLine appends the line of series name{labels} with value v.
func appendLine(b []byte, name, labels string, v float64) []byte {
	b = append(append(append(b, name...), labels...), ' ')
	return append(appendFloat(b, v), '\n')
}

// appendCount is appendLine for a count.
func appendCount(b []byte, name, labels string, n uint64) []byte {
	b = append(append(append(b, name...), labels...), ' ')
	return append(strconv.AppendUint(b, n, 10), '\n')
}

// appendFloat writes a whole number as an integer and any other value in
// the shortest form that reads back the same (NaN and ±Inf as Prometheus
// spells them).
func appendFloat(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1<<63 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// set is the series of one page, by name. A name taken twice by New's
// series is a mistake of this package, and panics.
type set struct {
	mu     sync.Mutex
	series map[string]*entry
}

type entry struct {
	family, labels string // the name, split at its '{'
	m              metric
}

func newSet() *set { return &set{series: map[string]*entry{}} }

func (s *set) register(name string, m metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.series[name]; ok {
		panic("metrics: series " + name + " registered twice")
	}
	s.series[name] = newEntry(name, m)
}

func newEntry(name string, m metric) *entry {
	i := strings.IndexByte(name, '{')
	if i < 0 {
		i = len(name)
	}
	return &entry{family: name[:i], labels: name[i:], m: m}
}

func (s *set) newCounter(name string) *counter {
	c := new(counter)
	s.register(name, c)
	return c
}

// newGauge registers a gauge read by read at a scrape; with a nil read, one
// that is Set.
func (s *set) newGauge(name string, read func() float64) *gauge {
	g := &gauge{read: read}
	s.register(name, g)
	return g
}

func (s *set) newFloatCounter(name string) *floatCounter {
	c := new(floatCounter)
	s.register(name, c)
	return c
}

func (s *set) newHistogram(name string, bounds []float64) *histogram {
	h := newHistogram(bounds)
	s.register(name, h)
	return h
}

// counter returns the counter called name, making it if need be.
func (s *set) counter(name string) *counter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.series[name]; ok {
		return e.m.(*counter)
	}
	c := new(counter)
	s.series[name] = newEntry(name, c)
	return c
}

// remove drops the series called name, if there is one.
func (s *set) remove(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.series, name)
}

// writeTo writes the page to w. The series are read after the set's lock
// is released: a gauge's read may take the lock of another part.
func (s *set) writeTo(w io.Writer) error {
	s.mu.Lock()
	es := make([]*entry, 0, len(s.series))
	for _, e := range s.series {
		es = append(es, e)
	}
	s.mu.Unlock()
	slices.SortFunc(es, func(a, b *entry) int {
		if c := strings.Compare(a.family, b.family); c != 0 {
			return c
		}
		return strings.Compare(a.labels, b.labels)
	})
	b := make([]byte, 0, 64*len(es))
	for i, e := range es {
		if i == 0 || e.family != es[i-1].family {
			// HELP with no text, as the page had when VictoriaMetrics
			// wrote it: Prometheus reads it as no help.
			b = append(b, "# HELP "+e.family+"\n# TYPE "+e.family+" "+e.m.kind()+"\n"...)
		}
		b = e.m.appendTo(b, e.family, e.labels)
	}
	_, err := w.Write(b)
	return err
}
