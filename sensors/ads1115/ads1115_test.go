package ads1115

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/edgecron/edgecron/board/boardtest"
	"github.com/edgecron/edgecron/sensors"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

// The driver against periph's own I2C double: each read is the transcript
// periph's ads1x15 driver makes, a write of the config register (0x01)
// that starts one conversion, then a read of the conversion register
// (0x00). The config word, MSB first, is
//
//	0x8000 start a conversion | mux << 12 | gain | 0x0100 single-shot |
//	0x0080 128 samples/s | 0x0003 comparator off
//
// with mux 4..7 for channels 0..3 and 0..3 for 0-1, 0-3, 1-3, 2-3, and the
// gain 0x0000 (±6.144 V), 0x0200 (4.096), 0x0400 (2.048), 0x0600 (1.024),
// 0x0800 (0.512), 0x0a00 (0.256).
//
// periph sleeps one conversion (1/128 s, about 8 ms) between the two
// transactions: these tests read a few times only.

// read is the transcript of one conversion at addr: config bytes in, the
// raw big-endian code out.
func read(addr uint16, config [2]byte, code [2]byte) []i2ctest.IO {
	return []i2ctest.IO{
		{Addr: addr, W: []byte{0x01, config[0], config[1]}},
		{Addr: addr, W: []byte{0x00}, R: code[:]},
	}
}

func scale(v float64) sensors.Calibration { return sensors.Calibration{Scale: &v} }

func TestReadTranscript(t *testing.T) {
	tests := []struct {
		name string
		c    sensors.Config
		ops  []i2ctest.IO
		want sensors.Value
	}{
		{
			name: "channel 0 at the defaults",
			c:    sensors.Config{},
			// 0x8000 | 4<<12 | 4.096 V 0x0200 | 0x0183
			ops:  read(0x48, [2]byte{0xc3, 0x83}, [2]byte{0x40, 0x00}), // 16384: half of 4.096 V
			want: sensors.Value{Name: "voltage", Value: 2.048, Unit: "V"},
		},
		{
			name: "channel 1 at 2.048 V on 0x49, below zero",
			c:    sensors.Config{Address: 0x49, Channel: "1", MaxVoltage: 2.048},
			// 0x8000 | 5<<12 | 2.048 V 0x0400 | 0x0183
			ops:  read(0x49, [2]byte{0xd5, 0x83}, [2]byte{0xe0, 0x00}), // -8192: a quarter of -2.048 V
			want: sensors.Value{Name: "voltage", Value: -0.512, Unit: "V"},
		},
		{
			name: "differential 0-1 scaled to a moisture",
			c:    sensors.Config{Channel: "0-1", Quantity: "moisture", Unit: "%", Calibration: scale(1000)},
			// 0x8000 | 0<<12 | 4.096 V 0x0200 | 0x0183
			ops:  read(0x48, [2]byte{0x83, 0x83}, [2]byte{0x00, 0x64}), // 100/32768 * 4.096 V = 12.5 mV
			want: sensors.Value{Name: "moisture", Value: 12.5, Unit: "%"},
		},
		{
			name: "differential 2-3 at 0.256 V, full scale, as a shunt current",
			c:    sensors.Config{Channel: "2-3", MaxVoltage: 0.256, Quantity: "current", Unit: "A", Calibration: scale(10)},
			// 0x8000 | 3<<12 | 0.256 V 0x0a00 | 0x0183
			ops:  read(0x48, [2]byte{0xbb, 0x83}, [2]byte{0x7f, 0xff}), // 32767/32768 * 256 mV = 255.992187 mV (periph truncates to nV)
			want: sensors.Value{Name: "current", Value: 2.55992187, Unit: "A"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := &i2ctest.Playback{Ops: tt.ops, DontPanic: true}
			c := tt.c
			c.Name, c.Driver, c.Bus = "adc", "ads1115", "1"
			r, err := sensors.Build([]sensors.Config{c}, &boardtest.Hardware{I2CBuses: map[string]i2c.Bus{"1": bus}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			rd, err := r.Read(context.Background(), "adc")
			if err != nil {
				t.Fatal(err)
			}
			if len(rd.Values) != 1 {
				t.Fatalf("read %+v, want one value", rd.Values)
			}
			if got := rd.Values[0]; got.Name != tt.want.Name || got.Unit != tt.want.Unit || math.Abs(got.Value-tt.want.Value) > 1e-9 {
				t.Errorf("read %+v, want %+v", got, tt.want)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if err := bus.Close(); err != nil {
				t.Errorf("not every transaction of the transcript was made: %v", err)
			}
		})
	}
}

func TestReadFailures(t *testing.T) {
	errNoAck := errors.New("remote I/O error")
	tests := []struct {
		name     string
		bus      func() i2c.Bus
		wantIs   error  // the error wraps this one
		wantText string // and says this
	}{
		{
			// The sensor asks for 4.096 V; the chip expects the config of
			// 2.048 V (0xc583): the first write differs.
			name: "config bytes differ from the transcript",
			bus: func() i2c.Bus {
				return &i2ctest.Playback{Ops: read(0x48, [2]byte{0xc5, 0x83}, [2]byte{0x40, 0x00}), DontPanic: true}
			},
			wantText: "i2ctest: unexpected write (count #0)",
		},
		{
			name: "no chip answers",
			bus: func() i2c.Bus {
				b := &boardtest.FaultyBus{}
				b.Fail(errNoAck)
				return b
			},
			wantIs:   errNoAck,
			wantText: "remote I/O error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bus := tt.bus()
			c := sensors.Config{Name: "a0", Driver: "ads1115", Bus: "1"}
			r, err := sensors.Build([]sensors.Config{c}, &boardtest.Hardware{I2CBuses: map[string]i2c.Bus{"1": bus}}, nil)
			if err != nil {
				t.Fatal(err) // opening makes no transaction: the chip is found on the first read
			}
			defer r.Close()
			_, err = r.Read(context.Background(), "a0")
			const prefix = "sensor a0: ads1115 ADS1115(0): "
			if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("got %v, want %q...%q", err, prefix, tt.wantText)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("%v does not wrap %v", err, tt.wantIs)
			}
			if p, ok := bus.(*i2ctest.Playback); ok {
				if err := p.Close(); err == nil {
					t.Error("Playback.Close reports a transcript left unread as consumed")
				}
			}
		})
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
