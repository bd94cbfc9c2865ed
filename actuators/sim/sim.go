// Package sim is the simulated output: it records the values it is driven
// to. The simulated board (board/sim) serves every configured actuator with
// one; the "sim" driver (a PWM-capable output) uses it directly.
package sim

import (
	"sync"

	"github.com/edgecron/edgecron/actuators"
)

func init() {
	actuators.Register(actuators.Driver{
		Name: "sim",
		PWM:  true,
		Open: func(actuators.Config, actuators.Hardware) (actuators.Output, error) { return &Output{}, nil },
	})
}

// Output records what it is driven to. Safe for concurrent use.
type Output struct {
	mu     sync.Mutex
	values []float64
	fail   error
}

// Set records v.
func (o *Output) Set(v float64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return o.fail
	}
	o.values = append(o.values, v)
	return nil
}

// Fail makes the following Set calls fail with err (nil: succeed again),
// to simulate a hardware fault.
func (o *Output) Fail(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fail = err
}

// Value returns the last value driven, and false if never driven.
func (o *Output) Value() (float64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.values) == 0 {
		return 0, false
	}
	return o.values[len(o.values)-1], true
}

// History returns every value driven, in order.
func (o *Output) History() []float64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]float64(nil), o.values...)
}
