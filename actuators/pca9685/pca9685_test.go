package pca9685

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/board/boardtest"
	"github.com/edgecron/edgecron/sched/schedtest"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

// The driver against periph's own I2C double: i2ctest.Playback holds the
// transcript periph's pca9685 driver makes, byte for byte. Registers:
// MODE1 0x00 (0x80 RESTART, 0x20 auto-increment, 0x10 SLEEP, 0x01
// ALLCALL), MODE2 0x01 (0x04 OUTDRV), PRE_SCALE 0xfe, ALL_LED_ON_L 0xfa,
// and per channel n LEDn_ON_L at 0x06+4n, then ON_H, OFF_L, OFF_H (bit
// 0x10 of ON_H is full-on, of OFF_H full-off).
//
// Opening a chip sleeps about 300 ms inside periph (oscillator start and
// two prescale changes): the one slow test here opens it once.

// openAt200Hz is the transcript of opening the chip at 0x40 and running it
// at 200 Hz.
func openAt200Hz() []i2ctest.IO {
	return []i2ctest.IO{
		// periph's init: every output off, totem-pole outputs, wake up,
		// then auto-increment.
		{Addr: 0x40, W: []byte{0xfa, 0, 0, 0, 0}},
		{Addr: 0x40, W: []byte{0x01, 0x04}},
		{Addr: 0x40, W: []byte{0x00, 0x01}},
		{Addr: 0x40, W: []byte{0x00}, R: []byte{0x01}}, // MODE1 as just written
		{Addr: 0x40, W: []byte{0x00, 0x21}},
		// periph's init sets 50 Hz: sleep, prescale, wake, restart.
		{Addr: 0x40, W: []byte{0x00}, R: []byte{0x21}},
		{Addr: 0x40, W: []byte{0x00, 0x31}},
		{Addr: 0x40, W: []byte{0xfe, 122}},
		{Addr: 0x40, W: []byte{0x00, 0x21}},
		{Addr: 0x40, W: []byte{0x00, 0xa1}},
		// Our frequency, 200 Hz, the same way (writing RESTART cleared it).
		// periph's prescale is (25 MHz/4096 + 100 Hz) / 200 Hz = 31; the
		// datasheet's round(25 MHz / (4096 * 200 Hz)) - 1 would be 30.
		{Addr: 0x40, W: []byte{0x00}, R: []byte{0x21}},
		{Addr: 0x40, W: []byte{0x00, 0x31}},
		{Addr: 0x40, W: []byte{0xfe, 31}},
		{Addr: 0x40, W: []byte{0x00, 0x21}},
		{Addr: 0x40, W: []byte{0x00, 0xa1}},
	}
}

// Writes to channel 3 (LED3 at 0x12) and channel 4 (LED4 at 0x16).
var (
	fullOff3 = i2ctest.IO{Addr: 0x40, W: []byte{0x15, 0x10}}          // LED3_OFF_H full-off
	fullOn3  = i2ctest.IO{Addr: 0x40, W: []byte{0x13, 0x10, 0, 0}}    // LED3_ON_H full-on, OFF_H cleared
	fullOn4  = i2ctest.IO{Addr: 0x40, W: []byte{0x17, 0x10, 0, 0}}    // LED4_ON_H full-on, OFF_H cleared
	half3    = i2ctest.IO{Addr: 0x40, W: []byte{0x12, 0, 0, 0, 0x08}} // on at 0, off at 2048 = round(0.5*4095)
	inv4     = i2ctest.IO{Addr: 0x40, W: []byte{0x16, 0, 0, 0xff, 0x0b}}
)

// consumed is how many transactions of its transcript p has seen.
func consumed(p *i2ctest.Playback) int {
	p.Lock()
	defer p.Unlock()
	return p.Count
}

func cmd(name string, v float64) actuators.Command { return actuators.Command{Name: name, Value: v} }

// TestTranscript opens two channels of one chip at 200 Hz (one init for
// both), drives them, and checks every I2C transaction of each step.
func TestTranscript(t *testing.T) {
	errNoAck := errors.New("remote I/O error")
	boot := []i2ctest.IO{fullOff3, fullOn4} // both boot off; inv is active-low: off is full on
	steps := []struct {
		actuator string
		cmd      actuators.Command
		fault    error // the chip does not answer: the command fails with it
		ops      []i2ctest.IO
		want     actuators.State
	}{
		{"led", cmd(actuators.SetTo, 0.5), nil, []i2ctest.IO{half3}, actuators.State{On: true, Value: 0.5, PWM: true}},
		{"led", cmd(actuators.On, 0), nil, []i2ctest.IO{fullOn3}, actuators.State{On: true, Value: 1, PWM: true}},
		{"led", cmd(actuators.Off, 0), nil, []i2ctest.IO{fullOff3}, actuators.State{Value: 0, PWM: true}},
		// A failed write leaves the state as it was.
		{"led", cmd(actuators.SetTo, 0.3), errNoAck, nil, actuators.State{Value: 0, PWM: true}},
		{"inv", cmd(actuators.SetTo, 0.25), nil, []i2ctest.IO{inv4}, actuators.State{On: true, Value: 0.25, PWM: true}}, // inverted: off at 3071 = round(0.75*4095)
	}
	shutdown := []i2ctest.IO{fullOff3, fullOn4}

	ops := append(openAt200Hz(), boot...)
	for _, st := range steps {
		ops = append(ops, st.ops...)
	}
	ops = append(ops, shutdown...)
	p := &i2ctest.Playback{Ops: ops, DontPanic: true}
	bus := &boardtest.FaultyBus{Bus: p}
	hw := &boardtest.Hardware{I2CBuses: map[string]i2c.Bus{"1": bus}}

	three, four := 3, 4
	s, err := actuators.Build([]actuators.Config{
		{Name: "led", Driver: "pca9685", Bus: "1", Channel: &three, Frequency: 200},
		{Name: "inv", Driver: "pca9685", Bus: "1", Channel: &four, Frequency: 200, ActiveLow: true},
	}, hw, schedtest.NewFakeClock(time.Time{}), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	n := len(openAt200Hz()) + len(boot)
	if got := consumed(p); got != n {
		t.Fatalf("open and boot: %d transactions, want %d", got, n)
	}
	for _, st := range steps {
		bus.Fail(st.fault)
		got, err := s.Apply(st.actuator, st.cmd)
		bus.Fail(nil)
		switch {
		case st.fault == nil && err != nil:
			t.Fatalf("%s %s %v: %v", st.actuator, st.cmd.Name, st.cmd.Value, err)
		case st.fault != nil && !errors.Is(err, st.fault):
			t.Fatalf("%s %s %v on a dead bus: got %v, want it wrapped", st.actuator, st.cmd.Name, st.cmd.Value, err)
		case st.fault != nil && !strings.Contains(err.Error(), "pca9685 channel 3: "):
			t.Errorf("%v does not name the channel", err)
		}
		if got != st.want {
			t.Errorf("%s %s %v: state %+v, want %+v", st.actuator, st.cmd.Name, st.cmd.Value, got, st.want)
		}
		n += len(st.ops)
		if got := consumed(p); got != n {
			t.Errorf("%s %s %v: %d transactions in all, want %d", st.actuator, st.cmd.Name, st.cmd.Value, got, n)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("not every transaction of the transcript was made: %v", err)
	}

	// The chip stays open at 200 Hz: another frequency on it is refused
	// before any transaction.
	five := 5
	_, err = actuators.Build([]actuators.Config{{Name: "x", Driver: "pca9685", Bus: "1", Channel: &five, Frequency: 400}}, hw, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "one frequency per chip") {
		t.Fatalf("second frequency: %v", err)
	}
	if got := consumed(p); got != len(ops) {
		t.Errorf("a refused frequency made %d transactions", got-len(ops))
	}
}

// TestOpenFailures: a chip that is not where the config says fails at its
// first transaction, before periph's first sleep; one that fails later is
// named by its address too.
func TestOpenFailures(t *testing.T) {
	errNoAck := errors.New("remote I/O error")
	tests := []struct {
		name    string
		address uint16
		bus     func() i2c.Bus
		want    string
	}{
		{
			name:    "transcript of a chip at another address",
			address: 0x41,
			bus:     func() i2c.Bus { return &i2ctest.Playback{Ops: openAt200Hz(), DontPanic: true} },
			want:    `actuators[0].address: no PCA9685 at 0x41 on bus "1": i2ctest: unexpected addr (count #0) 65 != 64`,
		},
		{
			// periph's own init passes (and sleeps), then the chip stops
			// answering as our frequency is set: the error is the bus's.
			name: "the chip stops answering after periph's init",
			bus:  func() i2c.Bus { return &i2ctest.Playback{Ops: openAt200Hz()[:10], DontPanic: true} },
			want: `actuators[0].address: PCA9685 at 0x40 on bus "1": set 200 Hz: i2ctest: unexpected Tx() (count #10) expecting i2ctest.IO{Addr:64, W:[]byte{0x0}, R:[]byte{0x0}}`,
		},
		{
			name: "no chip answers",
			bus: func() i2c.Bus {
				b := &boardtest.FaultyBus{}
				b.Fail(errNoAck)
				return b
			},
			want: `actuators[0].address: no PCA9685 at 0x40 on bus "1": remote I/O error`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := tt.bus()
			zero := 0
			c := actuators.Config{Name: "led", Driver: "pca9685", Bus: "1", Address: tt.address, Channel: &zero, Frequency: 200}
			_, err := actuators.Build([]actuators.Config{c}, &boardtest.Hardware{I2CBuses: map[string]i2c.Bus{"1": bus}}, nil, nil)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got %v, want %s", err, tt.want)
			}
			if tt.name == "no chip answers" && !errors.Is(err, errNoAck) {
				t.Errorf("the bus error is not reachable with errors.Is through %v", err)
			}
		})
	}
}
