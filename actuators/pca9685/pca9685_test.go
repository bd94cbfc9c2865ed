package pca9685

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/board/boardtest"
	"github.com/edgecron/edgecron/sched/schedtest"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// regs is a fake PCA9685: a register file with auto-increment.
type regs struct {
	mu   sync.Mutex
	addr uint16
	r    [256]byte
}

func (f *regs) String() string                  { return "fake-pca9685" }
func (f *regs) SetSpeed(physic.Frequency) error { return nil }
func (f *regs) Tx(addr uint16, w, r []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.addr = addr
	if len(w) == 0 {
		return nil
	}
	reg := int(w[0])
	for i, b := range w[1:] {
		f.r[(reg+i)&0xff] = b
	}
	for i := range r {
		r[i] = f.r[(reg+i)&0xff]
	}
	return nil
}

// led returns ON_L, ON_H, OFF_L, OFF_H of a channel.
func (f *regs) led(ch int) [4]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b [4]byte
	copy(b[:], f.r[6+4*ch:])
	return b
}

// TestChannels drives two channels of one chip (periph's driver sleeps
// about 200 ms while it resets the chip: the one slow test here).
func TestChannels(t *testing.T) {
	bus := &regs{}
	hw := &boardtest.Hardware{I2CBuses: map[string]i2c.Bus{"1": bus}}
	three, four := 3, 4
	s, err := actuators.Build([]actuators.Config{
		{Name: "led", Driver: "pca9685", Bus: "1", Channel: &three, Frequency: 200},
		{Name: "inv", Driver: "pca9685", Bus: "1", Channel: &four, Frequency: 200, ActiveLow: true},
	}, hw, schedtest.NewFakeClock(time.Time{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if bus.addr != 0x40 {
		t.Fatalf("address %#x", bus.addr)
	}
	if got := bus.r[0xfe]; got != 31 { // prescale for 200 Hz as periph computes it: (25 MHz/4096 + 100)/200
		t.Errorf("prescale %d", got)
	}
	steps := []struct {
		name string
		cmd  actuators.Command
		ch   int
		want [4]byte
	}{
		{"led", actuators.Command{Name: actuators.SetTo, Value: 0.5}, 3, [4]byte{0, 0, 0x00, 0x08}}, // 2048
		{"led", actuators.Command{Name: actuators.On}, 3, [4]byte{0, 0x10, 0, 0}},
		{"led", actuators.Command{Name: actuators.Off}, 3, [4]byte{0, 0x10, 0, 0x10}},
		{"inv", actuators.Command{Name: actuators.SetTo, Value: 0.25}, 4, [4]byte{0, 0, 0xff, 0x0b}}, // inverted: 0.75 is 3071
	}
	for _, st := range steps {
		if _, err := s.Apply(st.name, st.cmd); err != nil {
			t.Fatal(err)
		}
		if got := bus.led(st.ch); got != st.want {
			t.Errorf("%s %s: registers %x, want %x", st.name, st.cmd.Name, got, st.want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	five := 5
	_, err = actuators.Build([]actuators.Config{{Name: "x", Driver: "pca9685", Bus: "1", Channel: &five, Frequency: 400}}, hw, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "one frequency per chip") {
		t.Fatalf("second frequency: %v", err)
	}
}
