package metrics

import (
	"math"
	"strings"
	"testing"
)

func TestAppendFloat(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{1, "1"},
		{-3, "-3"},
		{1795251600, "1795251600"}, // a start time: not 1.7952516e+09
		{0.001, "0.001"},
		{467.07325, "467.07325"},
		{2.5e-7, "2.5e-07"},
		{1e300, "1e+300"},
		{math.Inf(1), "+Inf"},
		{math.Inf(-1), "-Inf"},
		{math.NaN(), "NaN"},
	} {
		if got := string(appendFloat(nil, tc.in)); got != tc.want {
			t.Errorf("appendFloat(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHistogram(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels string
		obs    []float64
		want   string
	}{{
		name: "empty",
		want: `h_bucket{le="0.5"} 0
h_bucket{le="1"} 0
h_bucket{le="+Inf"} 0
h_sum 0
h_count 0
`,
	}, {
		name: "a bound is its own bucket's; above the last, +Inf's",
		obs:  []float64{0, 0.5, 0.75, 1, 2},
		want: `h_bucket{le="0.5"} 2
h_bucket{le="1"} 4
h_bucket{le="+Inf"} 5
h_sum 4.25
h_count 5
`,
	}, {
		name: "negative and NaN ignored",
		obs:  []float64{-1, math.NaN(), 3},
		want: `h_bucket{le="0.5"} 0
h_bucket{le="1"} 0
h_bucket{le="+Inf"} 1
h_sum 3
h_count 1
`,
	}, {
		name:   "labels",
		labels: `{job="a"}`,
		obs:    []float64{0.25},
		want: `h_bucket{job="a",le="0.5"} 1
h_bucket{job="a",le="1"} 1
h_bucket{job="a",le="+Inf"} 1
h_sum{job="a"} 0.25
h_count{job="a"} 1
`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHistogram([]float64{0.5, 1})
			for _, v := range tc.obs {
				h.Observe(v)
			}
			if got := string(h.appendTo(nil, "h", tc.labels)); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// The page: families sorted, one TYPE line each, series sorted by their
// labels, removed series gone.
func TestSetWrite(t *testing.T) {
	s := newSet()
	s.newGauge("b_gauge", func() float64 { return 2.5 })
	s.counter(`a_total{job="y"}`).Add(3)
	s.counter(`a_total{job="x"}`).Inc()
	s.counter(`a_total{job="x"}`).Inc() // the same counter
	s.counter(`a_total{job="gone"}`).Inc()
	s.remove(`a_total{job="gone"}`)
	s.remove(`a_total{job="never"}`)
	s.newHistogram("c_seconds", []float64{1}).Observe(0.5)
	s.newFloatCounter("d_seconds_total").Set(0.25)
	s.newGauge("e", nil).Set(-1)
	s.newCounter("a_total").Set(7)

	var b strings.Builder
	if err := s.writeTo(&b); err != nil {
		t.Fatal(err)
	}
	const want = `# HELP a_total
# TYPE a_total counter
a_total 7
a_total{job="x"} 2
a_total{job="y"} 3
# HELP b_gauge
# TYPE b_gauge gauge
b_gauge 2.5
# HELP c_seconds
# TYPE c_seconds histogram
c_seconds_bucket{le="1"} 1
c_seconds_bucket{le="+Inf"} 1
c_seconds_sum 0.5
c_seconds_count 1
# HELP d_seconds_total
# TYPE d_seconds_total counter
d_seconds_total 0.25
# HELP e
# TYPE e gauge
e -1
`
	if got := b.String(); got != want {
		t.Errorf("page\n%s\nwant\n%s", got, want)
	}
}

func TestSetRegisterTwicePanics(t *testing.T) {
	s := newSet()
	s.newCounter("a_total")
	defer func() {
		if recover() == nil {
			t.Error("a second a_total did not panic")
		}
	}()
	s.newGauge("a_total", nil)
}
