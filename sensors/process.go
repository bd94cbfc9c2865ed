package sensors

import (
	"fmt"
	"math"
	"slices"
	"sync"
)

// processor applies a sensor's calibration, filter and rounding, in that
// order (as ESPHome does). It keeps the filter windows, which a reload
// that changes neither calibration, filter nor round keeps too. It is safe
// for concurrent use.
type processor struct {
	cal    Calibration
	round  *int
	filter Filter

	mu      sync.Mutex // guards windows
	windows map[string][]float64
}

func newProcessor(c Config) *processor {
	return &processor{cal: c.Calibration, round: c.Round, filter: c.Filter, windows: map[string][]float64{}}
}

func (p *processor) apply(in []Value) ([]Value, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("driver returned no values")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := slices.Clone(in)
	target := p.cal.Value
	if target == "" {
		target = out[0].Name
	}
	found := false
	for i := range out {
		v := out[i].Value
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("driver returned %v for %s", v, out[i].Name)
		}
		if out[i].Name == target {
			found = true
			if p.cal.Scale != nil {
				v *= *p.cal.Scale
			}
			v += p.cal.Offset
		}
		if p.filter.Kind != "" {
			v = p.smooth(out[i].Name, v)
		}
		if p.round != nil {
			v = roundTo(v, *p.round)
		}
		out[i].Value = v
	}
	if !found && (p.cal.Offset != 0 || p.cal.Scale != nil) {
		return nil, fmt.Errorf("calibration.value %q is not a value of this sensor", target)
	}
	return out, nil
}

func (p *processor) smooth(name string, v float64) float64 {
	w := append(p.windows[name], v)
	if len(w) > p.filter.Window {
		w = w[len(w)-p.filter.Window:]
	}
	p.windows[name] = w
	switch p.filter.Kind {
	case "median":
		s := slices.Clone(w)
		slices.Sort(s)
		n := len(s)
		if n%2 == 1 {
			return s[n/2]
		}
		return (s[n/2-1] + s[n/2]) / 2
	default: // mean
		sum := 0.0
		for _, x := range w {
			sum += x
		}
		return sum / float64(len(w))
	}
}

func roundTo(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	r := math.Round(v*p) / p
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return v // too large to round at that precision: keep it
	}
	return r
}
