package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/edgecron/edgecron/sensors"
)

// MaxScriptValues bounds script.values.
const MaxScriptValues = 1000

// checkScript validates the sim driver's script key; errors name the key
// under script.
func checkScript(s *sensors.Script) error {
	if s == nil {
		return nil
	}
	switch {
	case len(s.Values) > 0 && s.Wave != "":
		return sensors.Keyf("script", "set either values or wave, not both")
	case len(s.Values) == 0 && s.Wave == "":
		return sensors.Keyf("script", "needs values (a list, one per read) or wave (sine, triangle or square)")
	case len(s.Values) > 0:
		return checkValues(s)
	}
	return checkWave(s)
}

func checkValues(s *sensors.Script) error {
	if len(s.Values) > MaxScriptValues {
		return sensors.Keyf("script.values", "at most %d values, got %d", MaxScriptValues, len(s.Values))
	}
	for i, v := range s.Values {
		if !finite(v) {
			return sensors.Keyf(fmt.Sprintf("script.values[%d]", i), "must be a finite number, got %v", v)
		}
	}
	switch s.Then {
	case "", "loop", "hold":
	default:
		return sensors.Keyf("script.then", "must be loop or hold, got %q", s.Then)
	}
	for _, k := range []struct {
		key string
		set bool
	}{{"period", s.Period != 0}, {"min", s.Min != nil}, {"max", s.Max != nil}} {
		if k.set {
			return sensors.Keyf("script."+k.key, "is a key of wave scripts, not of values")
		}
	}
	return nil
}

func checkWave(s *sensors.Script) error {
	switch s.Wave {
	case "sine", "triangle", "square":
	default:
		return sensors.Keyf("script.wave", "must be sine, triangle or square, got %q", s.Wave)
	}
	if s.Then != "" {
		return sensors.Keyf("script.then", "is a key of values scripts, not of waves")
	}
	if s.Period.D() <= 0 {
		return sensors.Keyf("script.period", "is required with wave and must be positive (30s, 2m)")
	}
	if s.Min == nil || !finite(*s.Min) {
		return sensors.Keyf("script.min", "is required with wave and must be a finite number")
	}
	if s.Max == nil || !finite(*s.Max) {
		return sensors.Keyf("script.max", "is required with wave and must be a finite number")
	}
	if *s.Max <= *s.Min {
		return sensors.Keyf("script.max", "must be greater than script.min (%g), got %g", *s.Min, *s.Max)
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// stepAt is the value of a values script at read n (0 the first).
func stepAt(vals []float64, then string, n int) float64 {
	if n >= len(vals) {
		if then == "hold" {
			return vals[len(vals)-1]
		}
		n %= len(vals)
	}
	return vals[n]
}

// waveAt is the value of a waveform elapsed after its start: min at 0,
// max at half a period, min again at a whole period. A negative elapsed
// (the wall clock stepped back) continues the wave backwards.
func waveAt(wave string, period time.Duration, lo, hi float64, elapsed time.Duration) float64 {
	f := math.Mod(float64(elapsed)/float64(period), 1)
	if f < 0 {
		f++
	}
	var u float64 // 0 at min, 1 at max
	switch wave {
	case "sine":
		u = (1 - math.Cos(2*math.Pi*f)) / 2
	case "triangle":
		u = 1 - math.Abs(2*f-1)
	default: // square
		if f >= 0.5 {
			u = 1
		}
	}
	return lo + (hi-lo)*u
}
