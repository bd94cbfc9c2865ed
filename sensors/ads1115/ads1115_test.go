package ads1115

import (
	"context"
	"encoding/binary"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/edgecron/edgecron/board/boardtest"
	"github.com/edgecron/edgecron/sensors"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/physic"
)

// adc is a fake ADS1115: a config write selects the channel, a read of the
// conversion register returns that channel's raw code.
type adc struct {
	mu   sync.Mutex
	mux  uint16
	raw  map[uint16]int16 // by mux bits (config >> 12 & 7)
	addr uint16
}

func (a *adc) String() string                  { return "fake-ads1115" }
func (a *adc) SetSpeed(physic.Frequency) error { return nil }
func (a *adc) Tx(addr uint16, w, r []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.addr = addr
	switch {
	case len(w) == 3 && w[0] == 1:
		a.mux = binary.BigEndian.Uint16(w[1:]) >> 12 & 7
	case len(w) == 1 && w[0] == 0 && len(r) == 2:
		binary.BigEndian.PutUint16(r, uint16(a.raw[a.mux]))
	}
	return nil
}

func TestChannels(t *testing.T) {
	bus := &adc{raw: map[uint16]int16{4: 16384, 5: -8192, 0: 100}}
	hw := &boardtest.Hardware{I2CBuses: map[string]i2c.Bus{"1": bus}}
	cfgs := []sensors.Config{
		{Name: "a0", Driver: "ads1115", Bus: "1"},
		{Name: "a1", Driver: "ads1115", Bus: "1", Channel: "1", MaxVoltage: 2.048},
		{Name: "soil", Driver: "ads1115", Bus: "1", Channel: "0-1", Quantity: "moisture", Unit: "%",
			Calibration: sensors.Calibration{Scale: &[]float64{1000}[0]}},
	}
	r, err := sensors.Build(cfgs, hw, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		name, unit string
		v          float64
	}{
		"a0":   {"voltage", "V", 2.048},  // half of 4.096 V full scale
		"a1":   {"voltage", "V", -0.512}, // a quarter of -2.048 V
		"soil": {"moisture", "%", 12.5},  // 100/32768*4.096 V, scaled by 1000
	}
	for name, w := range want {
		rd, err := r.Read(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		got := rd.Values[0]
		if got.Name != w.name || got.Unit != w.unit || math.Abs(got.Value-w.v) > 1e-9 {
			t.Errorf("%s: got %+v, want %+v", name, got, w)
		}
	}
	if bus.addr != 0x48 {
		t.Errorf("address %#x", bus.addr)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		c    sensors.Config
		want string
	}{
		{sensors.Config{Channel: "4"}, `sensors[0].channel: "4"`},
		{sensors.Config{Address: 0x50}, "sensors[0].address: 0x50"},
		{sensors.Config{MaxVoltage: 7}, "sensors[0].max_voltage"},
		{sensors.Config{Pin: "GPIO1"}, "sensors[0].pin: is not used"},
	}
	for _, tt := range tests {
		c := tt.c
		c.Name, c.Driver = "a", "ads1115"
		if err := c.Validate("sensors[0]"); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
}
