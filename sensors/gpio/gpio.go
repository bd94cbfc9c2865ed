// Package gpio is the gpio sensor driver: a digital input read as its
// level (mode level: 1 or 0, active_low inverts), or an edge counter
// (mode counter: rain gauges, flow meters) that counts edges in its own
// goroutine and reports the pulses since the previous read and in total.
//
// Config keys: pin (GPIO17), pull (up | down | none, default none),
// active_low, mode (level | counter, default level), edge (counter:
// rising | falling | both, default falling), quantity and unit (the value's
// name, default "state" or "pulses", and unit).
package gpio

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgecron/edgecron/internal/haclass"
	"github.com/edgecron/edgecron/sensors"
	"periph.io/x/conn/v3/gpio"
)

func init() {
	sensors.Register(sensors.Driver{
		Name:  "gpio",
		Keys:  []string{"pin", "pull", "active_low", "mode", "edge", "quantity", "unit"},
		Check: check,
		Values: func(c sensors.Config) []sensors.Value {
			if c.Mode == "counter" {
				// Pulses since the last read, and the running total.
				return []sensors.Value{
					{Name: c.Quantity, Unit: c.Unit, Class: haclass.Class{State: haclass.Measurement}},
					{Name: c.Quantity + "_total", Unit: c.Unit, Class: haclass.Class{State: haclass.TotalIncreasing}},
				}
			}
			// A level reads 0 or 1: on/off, whose meaning (door,
			// motion...) the config's device_class says.
			return []sensors.Value{{Name: c.Quantity, Unit: c.Unit, Class: haclass.Class{Binary: true}}}
		},
		Open: open,
	})
}

func check(c *sensors.Config) error {
	if c.Pin == "" {
		return sensors.Keyf("pin", "is required (e.g. GPIO17)")
	}
	if _, err := ParsePull(c.Pull); err != nil {
		return sensors.Keyf("pull", "%w", err)
	}
	switch c.Mode {
	case "":
		c.Mode = "level"
		fallthrough
	case "level":
		if c.Edge != "" {
			return sensors.Keyf("edge", "applies only to mode counter")
		}
	case "counter":
		if c.ActiveLow {
			return sensors.Keyf("active_low", "applies only to mode level (choose edge instead)")
		}
		if c.Edge == "" {
			c.Edge = "falling"
		}
		if _, err := ParseEdge(c.Edge); err != nil {
			return sensors.Keyf("edge", "%w", err)
		}
	default:
		return sensors.Keyf("mode", "must be level or counter, got %q", c.Mode)
	}
	if c.Quantity == "" {
		c.Quantity = "state"
		if c.Mode == "counter" {
			c.Quantity = "pulses"
		}
	}
	return nil
}

func open(c sensors.Config, hw sensors.Hardware) (sensors.Sensor, error) {
	p, err := hw.Pin(c.Pin)
	if err != nil {
		return nil, sensors.Keyf("pin", "%w", err)
	}
	pull, _ := ParsePull(c.Pull)
	if c.Mode == "counter" {
		edge, _ := ParseEdge(c.Edge)
		return NewCounter(p, pull, edge, c.Quantity, c.Unit, time.Second)
	}
	return NewLevel(p, pull, c.ActiveLow, c.Quantity, c.Unit)
}

// ParsePull parses the pull key.
func ParsePull(s string) (gpio.Pull, error) {
	switch s {
	case "", "none":
		return gpio.Float, nil
	case "up":
		return gpio.PullUp, nil
	case "down":
		return gpio.PullDown, nil
	}
	return gpio.PullNoChange, fmt.Errorf("must be up, down or none, got %q", s)
}

// ParseEdge parses the edge key.
func ParseEdge(s string) (gpio.Edge, error) {
	switch s {
	case "rising":
		return gpio.RisingEdge, nil
	case "falling":
		return gpio.FallingEdge, nil
	case "both":
		return gpio.BothEdges, nil
	}
	return gpio.NoEdge, fmt.Errorf("must be rising, falling or both, got %q", s)
}

// Level reads an input's level.
type Level struct {
	pin       gpio.PinIn
	activeLow bool
	name      string
	unit      string
}

// NewLevel configures the pin as an input.
func NewLevel(p gpio.PinIn, pull gpio.Pull, activeLow bool, name, unit string) (*Level, error) {
	if err := p.In(pull, gpio.NoEdge); err != nil {
		return nil, fmt.Errorf("%s as input: %w", p, err)
	}
	return &Level{pin: p, activeLow: activeLow, name: name, unit: unit}, nil
}

// Read returns 1 when the input is active, else 0.
func (l *Level) Read(context.Context) ([]sensors.Value, error) {
	v := 0.0
	if (l.pin.Read() == gpio.High) != l.activeLow {
		v = 1
	}
	return []sensors.Value{{Name: l.name, Value: v, Unit: l.unit}}, nil
}

// Counter counts edges on an input in its own goroutine, waiting for each
// with a finite timeout so that Close ends it.
type Counter struct {
	pin   gpio.PinIn
	name  string
	unit  string
	total atomic.Uint64
	last  uint64 // total at the previous read; guarded by mu
	mu    sync.Mutex
	stop  chan struct{}
	done  chan struct{}

	onEdge func() // test hook, called after each counted edge
}

// NewCounter configures edge detection on the pin and starts counting;
// wait bounds each WaitForEdge so that Close returns within it.
func NewCounter(p gpio.PinIn, pull gpio.Pull, edge gpio.Edge, name, unit string, wait time.Duration) (*Counter, error) {
	if err := p.In(pull, edge); err != nil {
		return nil, fmt.Errorf("%s edge detection: %w", p, err)
	}
	c := &Counter{pin: p, name: name, unit: unit, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run(wait)
	return c, nil
}

func (c *Counter) run(wait time.Duration) {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		if c.pin.WaitForEdge(wait) {
			c.total.Add(1)
			if c.onEdge != nil {
				c.onEdge()
			}
		}
	}
}

// Read returns the pulses since the previous read and the total since
// start ("<quantity>_total").
func (c *Counter) Read(context.Context) ([]sensors.Value, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.total.Load()
	d := t - c.last
	c.last = t
	return []sensors.Value{
		{Name: c.name, Value: float64(d), Unit: c.unit},
		{Name: c.name + "_total", Value: float64(t), Unit: c.unit},
	}, nil
}

// Close stops counting and disables edge detection.
func (c *Counter) Close() error {
	select {
	case <-c.stop:
		return nil
	default:
	}
	close(c.stop)
	<-c.done
	return c.pin.In(gpio.PullNoChange, gpio.NoEdge)
}
