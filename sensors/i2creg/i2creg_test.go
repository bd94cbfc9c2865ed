package i2creg

import (
	"context"
	"strings"
	"testing"

	"github.com/edgecron/edgecron/board/boardtest"
	"github.com/edgecron/edgecron/sensors"
	"periph.io/x/conn/v3/i2c"
	"periph.io/x/conn/v3/i2c/i2ctest"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		b      []byte
		format string
		little bool
		want   float64
	}{
		{[]byte{0xff}, "u8", false, 255},
		{[]byte{0xff}, "s8", false, -1},
		{[]byte{0x01, 0x02}, "u16", false, 258},
		{[]byte{0x01, 0x02}, "u16", true, 513},
		{[]byte{0xff, 0xfe}, "s16", false, -2},
		{[]byte{0xfe, 0xff}, "s16", true, -2},
		{[]byte{0, 0, 1, 0}, "u32", false, 256},
		{[]byte{0xff, 0xff, 0xff, 0xff}, "s32", true, -1},
	}
	for _, tt := range tests {
		got, err := Decode(tt.b, tt.format, tt.little)
		if err != nil || got != tt.want {
			t.Errorf("Decode(%x, %s, %v) = %v, %v; want %v", tt.b, tt.format, tt.little, got, err, tt.want)
		}
	}
	if _, err := Decode([]byte{1}, "u16", false); err == nil {
		t.Error("short input accepted")
	}
	if _, err := Decode([]byte{1}, "f32", false); err == nil {
		t.Error("unknown format accepted")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte{1, 2}, "u16", false)
	f.Add([]byte{0x80}, "s8", true)
	f.Add([]byte{1, 2, 3, 4}, "s32", false)
	f.Fuzz(func(t *testing.T, b []byte, format string, little bool) {
		v, err := Decode(b, format, little)
		if err != nil {
			return
		}
		if len(b) != Size(format) {
			t.Fatalf("decoded %d bytes as %s", len(b), format)
		}
		if v < -2147483648 || v > 4294967295 {
			t.Fatalf("out of range %v", v)
		}
	})
}

func TestReadRegister(t *testing.T) {
	bus := &i2ctest.Playback{Ops: []i2ctest.IO{
		{Addr: 0x40, W: []byte{0xe3}, R: []byte{0x66, 0x4c}},
	}, DontPanic: true}
	reg := 0xe3
	scale := 175.72 / 65536
	c := sensors.Config{Name: "si7021", Driver: "i2c-register", Bus: "1", Address: 0x40, Register: &reg,
		Quantity: "temperature", Unit: "°C", Round: &[]int{2}[0],
		Calibration: sensors.Calibration{Scale: &scale, Offset: -46.85}}
	r, err := sensors.Build([]sensors.Config{c}, &boardtest.Hardware{I2CBuses: map[string]i2c.Bus{"1": bus}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := r.Read(context.Background(), "si7021")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := rd.Get("temperature"); v != 23.37 {
		t.Fatalf("got %+v", rd)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	reg, bad := 1, 300
	tests := []struct {
		c    sensors.Config
		want string
	}{
		{sensors.Config{Register: &reg}, "sensors[0].address: is required"},
		{sensors.Config{Address: 0x40}, "sensors[0].register: is required"},
		{sensors.Config{Address: 0x40, Register: &bad}, "sensors[0].register: must be 0..255"},
		{sensors.Config{Address: 0x40, Register: &reg, Format: "f32"}, "sensors[0].format"},
		{sensors.Config{Address: 0x40, Register: &reg, ByteOrder: "middle"}, "sensors[0].byte_order"},
	}
	for _, tt := range tests {
		c := tt.c
		c.Name, c.Driver = "r", "i2c-register"
		if err := c.Validate("sensors[0]"); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("got %v, want %q", err, tt.want)
		}
	}
}
