// Package sim is the simulated sensor: plausible values, deterministic for
// a seed, in the shape of the driver it stands in for (a simulated bme280
// gives temperature, pressure and humidity in °C, hPa and %). The
// simulated board (board/sim) serves every configured sensor with it; the
// "sim" driver uses it directly.
//
// Config keys of driver sim: quantity (default temperature), unit
// (default °C for temperature) and script: a scripted curve instead of
// plausible values, either a list of values stepped one per read or a
// waveform (sine, triangle, square) of the time since the sensor was
// opened — deterministic from the injected clock, so that tests and demos
// can drive automations.
package sim

import (
	"context"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/edgecron/edgecron/internal/haclass"
	"github.com/edgecron/edgecron/sensors"
)

func init() {
	sensors.Register(sensors.Driver{
		Name: "sim",
		Keys: []string{"quantity", "unit", "script"},
		Check: func(c *sensors.Config) error {
			if err := checkScript(c.Script); err != nil {
				return err
			}
			if c.Quantity == "" {
				c.Quantity = "temperature"
				if c.Unit == "" {
					c.Unit = "°C"
				}
			}
			return nil
		},
		Values: func(c sensors.Config) []sensors.Value {
			return []sensors.Value{{Name: c.Quantity, Unit: c.Unit, Class: haclass.ForUnit(c.Quantity, c.Unit)}}
		},
		Open: func(c sensors.Config, _ sensors.Hardware) (sensors.Sensor, error) {
			return New(c, 1, time.Now), nil
		},
	})
}

// channel describes one simulated value: a base, a daily swing (peaking
// mid-afternoon), and noise.
type channel struct {
	name, unit          string
	base, swing, jitter float64
	min, max            float64
}

// Sensor is a simulated sensor. Safe for concurrent use.
type Sensor struct {
	now   func() time.Time
	chans []channel
	kind  string // "", "level", "counter"

	script *sensors.Script // the sim driver's script, or nil
	start  time.Time       // when the sensor was opened: a wave's origin

	mu    sync.Mutex
	reads int // reads so far: a values script's position
	rng   *rand.Rand
	level float64
	total float64
}

// New returns the simulated stand-in for the sensor configured by c
// (already validated, so driver defaults are filled in). The values depend
// only on seed, the sensor's name, the sequence of reads and now. A sim
// sensor with a script follows it exactly, without noise: a values script
// steps one value per read, a wave depends on the time now gives since
// New.
func New(c sensors.Config, seed uint64, now func() time.Time) *Sensor {
	h := fnv.New64a()
	h.Write([]byte(c.Name))
	s := &Sensor{now: now, rng: rand.New(rand.NewPCG(seed, h.Sum64()))}
	if c.Driver == "sim" && c.Script != nil {
		s.script, s.start = c.Script, now()
	}
	q := func(def, unit string) (string, string) {
		if c.Quantity != "" {
			return c.Quantity, c.Unit
		}
		return def, unit
	}
	temp := channel{"temperature", "°C", 21, 4, 0.1, -40, 85}
	switch c.Driver {
	case "bme280":
		s.chans = []channel{temp, {"pressure", "hPa", 1013, 2, 0.2, 300, 1100}, {"humidity", "%", 55, -12, 0.5, 0, 100}}
	case "bmp280":
		s.chans = []channel{temp, {"pressure", "hPa", 1013, 2, 0.2, 300, 1100}}
	case "ds18b20":
		s.chans = []channel{{"temperature", "°C", 16, 3, 0.0625, -55, 125}}
	case "cpu-temp":
		s.chans = []channel{{"temperature", "°C", 48, 3, 1, 20, 85}}
	case "ads1115":
		n, u := q("voltage", "V")
		s.chans = []channel{{n, u, 1.65, 0.4, 0.01, -6.144, 6.144}}
	case "i2c-register":
		n, u := q("value", "")
		s.chans = []channel{{n, u, 1000, 200, 5, 0, 65535}}
	case "gpio":
		n, u := q("state", "")
		if c.Mode == "counter" {
			n, u = q("pulses", "")
			s.kind = "counter"
		} else {
			s.kind = "level"
		}
		s.chans = []channel{{name: n, unit: u}}
	default: // sim, and any driver registered later
		n, u := q("temperature", "°C")
		s.chans = []channel{{n, u, 20, 5, 0.1, math.Inf(-1), math.Inf(1)}}
	}
	return s
}

// Read returns the next simulated values.
func (s *Sensor) Read(context.Context) ([]sensors.Value, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.chans[0]
	if sc := s.script; sc != nil {
		var v float64
		if len(sc.Values) > 0 {
			v = stepAt(sc.Values, sc.Then, s.reads)
		} else {
			v = waveAt(sc.Wave, sc.Period.D(), *sc.Min, *sc.Max, s.now().Sub(s.start))
		}
		s.reads++
		return []sensors.Value{{Name: ch.name, Value: v, Unit: ch.unit}}, nil
	}
	switch s.kind {
	case "level":
		if s.rng.Float64() < 0.1 {
			s.level = 1 - s.level
		}
		return []sensors.Value{{Name: ch.name, Value: s.level, Unit: ch.unit}}, nil
	case "counter":
		n := float64(s.rng.IntN(6))
		s.total += n
		return []sensors.Value{
			{Name: ch.name, Value: n, Unit: ch.unit},
			{Name: ch.name + "_total", Value: s.total, Unit: ch.unit},
		}, nil
	}
	t := s.now()
	// Daily cycle: minimum around 03:00, maximum around 15:00 local time.
	hours := float64(t.Hour()) + float64(t.Minute())/60
	day := -math.Cos((hours - 3) / 24 * 2 * math.Pi)
	out := make([]sensors.Value, 0, len(s.chans))
	for _, c := range s.chans {
		v := c.base + c.swing*day + c.jitter*s.rng.NormFloat64()
		v = math.Max(c.min, math.Min(c.max, v))
		out = append(out, sensors.Value{Name: c.name, Value: v, Unit: c.unit})
	}
	return out, nil
}
