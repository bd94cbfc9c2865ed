package bme280

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/edgecron/edgecron/board/boardtest"
	"github.com/edgecron/edgecron/sensors"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

// playback is a BME280 at 0x76 taking one forced measurement (register
// transcript of a real chip; bmxx80 polls the status register twice).
func playback(chipID byte) *i2ctest.Playback {
	ops := []i2ctest.IO{
		{Addr: 0x76, W: []byte{0xd0}, R: []byte{chipID}},
		{Addr: 0x76, W: []byte{0x88}, R: []byte{0x10, 0x6e, 0x6c, 0x66, 0x32, 0x0, 0x5d, 0x95, 0xb8, 0xd5, 0xd0, 0xb, 0x77, 0x1e, 0x9d, 0xff, 0xf9, 0xff, 0xac, 0x26, 0xa, 0xd8, 0xbd, 0x10, 0x0, 0x4b}},
	}
	if chipID == 0x60 {
		ops = append(ops,
			i2ctest.IO{Addr: 0x76, W: []byte{0xe1}, R: []byte{0x6e, 0x1, 0x0, 0x13, 0x5, 0x0, 0x1e}},
			i2ctest.IO{Addr: 0x76, W: []byte{0xf4, 0x6c, 0xf2, 0x3, 0xf5, 0xa0, 0xf4, 0x6c}},
			i2ctest.IO{Addr: 0x76, W: []byte{0xf4, 0x6d}},
			i2ctest.IO{Addr: 0x76, W: []byte{0xf3}, R: []byte{8}},
			i2ctest.IO{Addr: 0x76, W: []byte{0xf3}, R: []byte{0}},
			i2ctest.IO{Addr: 0x76, W: []byte{0xf7}, R: []byte{0x4a, 0x52, 0xc0, 0x80, 0x96, 0xc0, 0x7a, 0x76}},
		)
	} else {
		ops = append(ops, i2ctest.IO{Addr: 0x76, W: []byte{0xf4, 0x6c, 0xf5, 0xa0, 0xf4, 0x6c}})
	}
	return &i2ctest.Playback{Ops: ops, DontPanic: true}
}

func TestBME280(t *testing.T) {
	bus := playback(0x60)
	hw := &boardtest.Hardware{I2CBuses: map[string]i2c.Bus{"1": bus}}
	r, err := sensors.Build([]sensors.Config{{Name: "air", Driver: "bme280", Bus: "1"}}, hw, nil)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := r.Read(context.Background(), "air")
	if err != nil {
		t.Fatal(err)
	}
	if desc := r.Describe("air"); len(desc) != len(rd.Values) {
		t.Fatalf("driver declares %+v, read %+v", desc, rd.Values)
	} else {
		for i := range desc {
			if desc[i].Name != rd.Values[i].Name || desc[i].Unit != rd.Values[i].Unit {
				t.Errorf("value %d: declared %+v, read %+v", i, desc[i], rd.Values[i])
			}
		}
	}
	want := map[string]float64{"temperature": 23.72, "pressure": 1009.426953125, "humidity": 65.3056}
	for name, w := range want {
		got, ok := rd.Get(name)
		if !ok || math.Abs(got-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWrongChipOrBus(t *testing.T) {
	hw := &boardtest.Hardware{I2CBuses: map[string]i2c.Bus{"1": playback(0x58)}}
	tests := []struct {
		c    sensors.Config
		want string
	}{
		{sensors.Config{Name: "air", Driver: "bme280", Bus: "1"}, "sensors[0].driver: the chip at 0x76 is a BMP280"},
		{sensors.Config{Name: "air", Driver: "bme280", Bus: "2"}, `sensors[0].bus: no I2C bus "2"`},
		{sensors.Config{Name: "air", Driver: "bme280", Bus: "1", Address: 0x40}, "sensors[0].address: 0x40"},
	}
	for _, tt := range tests {
		_, err := sensors.Build([]sensors.Config{tt.c}, hw, nil)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
}
