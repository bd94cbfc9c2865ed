// Package boardtest provides hardware doubles for tests of sensors,
// actuators and their drivers: a gpio.PinIO that records its level and
// takes edges from a channel, and a Hardware that serves named pins, I2C
// buses (e.g. periph's i2ctest.Playback), 1-Wire buses (onewiretest) and a
// sysfs root under testdata/.
//
// The drivers are also tested on periph's own gpiotest.Pin; Pin here adds
// what gpiotest lacks: output faults (FailOut) and counts of writes.
// Likewise FaultyBus adds bus faults to an i2ctest.Playback.
package boardtest

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/onewire"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"
)

// Pin is a fake GPIO. Set Edges before configuring edge detection; each
// level sent on it is one edge. Its fields are guarded by its mutex: use
// the accessors from tests.
type Pin struct {
	N     string
	Edges chan gpio.Level
	// FailOut makes Out and PWM fail (a hardware fault).
	FailOut error

	mu    sync.Mutex
	level gpio.Level
	pull  gpio.Pull
	edge  gpio.Edge
	duty  gpio.Duty
	freq  physic.Frequency
	outs  int
	isOut bool
}

var _ gpio.PinIO = (*Pin)(nil)

func (p *Pin) String() string              { return p.N }
func (p *Pin) Halt() error                 { return nil }
func (p *Pin) Name() string                { return p.N }
func (p *Pin) Number() int                 { return -1 }
func (p *Pin) Function() string            { return string(p.Func()) }
func (p *Pin) SupportedFuncs() []pin.Func  { return []pin.Func{gpio.IN, gpio.OUT} }
func (p *Pin) SetFunc(f pin.Func) error    { return errors.New("boardtest: SetFunc not supported") }
func (p *Pin) DefaultPull() gpio.Pull      { return gpio.Float }
func (p *Pin) Pull() gpio.Pull             { p.mu.Lock(); defer p.mu.Unlock(); return p.pull }
func (p *Pin) Edge() gpio.Edge             { p.mu.Lock(); defer p.mu.Unlock(); return p.edge }
func (p *Pin) Duty() gpio.Duty             { p.mu.Lock(); defer p.mu.Unlock(); return p.duty }
func (p *Pin) Frequency() physic.Frequency { p.mu.Lock(); defer p.mu.Unlock(); return p.freq }

// Func reports IN or OUT.
func (p *Pin) Func() pin.Func {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.isOut {
		return gpio.OUT
	}
	return gpio.IN
}

// Outs counts the successful Out and PWM calls.
func (p *Pin) Outs() int { p.mu.Lock(); defer p.mu.Unlock(); return p.outs }

// SetLevel sets the level an input reads.
func (p *Pin) SetLevel(l gpio.Level) { p.mu.Lock(); defer p.mu.Unlock(); p.level = l }

// In configures the pin as an input; a pull sets the idle level.
func (p *Pin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if edge != gpio.NoEdge && p.Edges == nil {
		return errors.New("boardtest: set Edges before edge detection")
	}
	p.isOut = false
	if pull != gpio.PullNoChange {
		p.pull = pull
		switch pull {
		case gpio.PullUp:
			p.level = gpio.High
		case gpio.PullDown:
			p.level = gpio.Low
		}
	}
	p.edge = edge
	return nil
}

// Read returns the level.
func (p *Pin) Read() gpio.Level { p.mu.Lock(); defer p.mu.Unlock(); return p.level }

// WaitForEdge returns true with the next level sent on Edges, or false once
// timeout has passed (a negative timeout waits for ever).
func (p *Pin) WaitForEdge(timeout time.Duration) bool {
	var after <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		after = t.C
	}
	select {
	case l := <-p.Edges:
		p.SetLevel(l)
		return true
	case <-after:
		return false
	}
}

// Out drives the pin.
func (p *Pin) Out(l gpio.Level) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.FailOut != nil {
		return p.FailOut
	}
	p.isOut, p.level, p.outs = true, l, p.outs+1
	return nil
}

// PWM drives the pin with a duty cycle.
func (p *Pin) PWM(d gpio.Duty, f physic.Frequency) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.FailOut != nil {
		return p.FailOut
	}
	p.isOut, p.duty, p.freq, p.outs = true, d, f, p.outs+1
	return nil
}

// FaultyBus is an I2C bus that passes transactions to Bus (an
// i2ctest.Playback, say) until Fail is called, then fails them, as a chip
// that stopped answering does.
type FaultyBus struct {
	Bus i2c.Bus

	mu   sync.Mutex
	fail error
}

var _ i2c.Bus = (*FaultyBus)(nil)

// Fail makes every transaction from now on fail with err; nil lets them
// pass to Bus again.
func (b *FaultyBus) Fail(err error) { b.mu.Lock(); defer b.mu.Unlock(); b.fail = err }

// Tx fails, or passes the transaction to Bus.
func (b *FaultyBus) Tx(addr uint16, w, r []byte) error {
	b.mu.Lock()
	err := b.fail
	b.mu.Unlock()
	switch {
	case err != nil:
		return err
	case b.Bus == nil:
		return errors.New("boardtest: FaultyBus without a Bus")
	}
	return b.Bus.Tx(addr, w, r)
}

// SetSpeed passes to Bus.
func (b *FaultyBus) SetSpeed(f physic.Frequency) error {
	if b.Bus == nil {
		return nil
	}
	return b.Bus.SetSpeed(f)
}

func (b *FaultyBus) String() string { return "faulty " + fmt.Sprint(b.Bus) }

// Hardware serves named doubles; a name it does not hold is an error
// naming it, as on a board without that pin or bus.
type Hardware struct {
	Pins     map[string]*Pin
	I2CBuses map[string]i2c.Bus
	OneWires map[string]onewire.Bus
	Root     string
}

// Pin returns the named pin.
func (h *Hardware) Pin(name string) (gpio.PinIO, error) {
	if p, ok := h.Pins[name]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("no GPIO pin %q on this board", name)
}

// I2C returns the named bus.
func (h *Hardware) I2C(name string) (i2c.Bus, error) {
	if b, ok := h.I2CBuses[name]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no I2C bus %q on this board", name)
}

// OneWire returns the named bus.
func (h *Hardware) OneWire(name string) (onewire.Bus, error) {
	if b, ok := h.OneWires[name]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("no 1-Wire bus %q on this board", name)
}

// SysfsRoot returns Root.
func (h *Hardware) SysfsRoot() string { return h.Root }
