package ds18b20

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/edgecron/edgecron/board/boardtest"
	"github.com/edgecron/edgecron/sensors"
	"periph.io/x/conn/v3/onewire"
	"periph.io/x/conn/v3/onewire/onewiretest"
)

func TestParseW1Slave(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want float64
		err  error
	}{
		{"ok", "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n", 23.125, nil},
		{"negative", "5e ff 4b 46 7f ff 02 10 b4 : crc=b4 YES\n5e ff 4b 46 7f ff 02 10 b4 t=-10125\n", -10.125, nil},
		{"crc fails", "72 01 4b 46 7f ff 0e 10 57 : crc=00 NO\n72 01 4b 46 7f ff 0e 10 57 t=23125\n", 0, ErrCRC},
		{"power-on 85", "50 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n50 05 4b 46 7f ff 0c 10 1c t=85000\n", 0, ErrPowerOn},
		{"real 85", "51 05 4b 46 7f ff 0c 10 1c : crc=1c YES\n51 05 4b 46 7f ff 0c 10 1c t=85062\n", 85.062, nil},
		{"one line", "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n", 0, ErrMalformed},
		{"empty", "", 0, ErrMalformed},
		{"no t", "x : crc=57 YES\n72 01\n", 0, ErrMalformed},
		{"bad t", "x : crc=57 YES\n72 t=12a\n", 0, ErrMalformed},
		{"out of range", "x : crc=57 YES\n72 t=150000\n", 0, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseW1Slave([]byte(tt.in))
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("got %v, %v; want %v, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func FuzzParseW1Slave(f *testing.F) {
	f.Add([]byte("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"))
	f.Add([]byte("a : crc=57 NO\nb t=1\n"))
	f.Add([]byte("\n\n t=\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseW1Slave(b)
		if err == nil && (v < -55 || v > 125) {
			t.Fatalf("accepted %v outside the sensor's range", v)
		}
	})
}

func TestSysfsDriver(t *testing.T) {
	d, _ := sensors.Lookup("ds18b20")
	h := &boardtest.Hardware{Root: "testdata/sys"}
	tests := []struct {
		device  string
		want    float64
		openErr bool
		readErr error
	}{
		{"28-0123456789ab", 23.125, false, nil},
		{"28-00000000badc", 0, false, ErrCRC},
		{"28-ffffffffffff", 0, true, nil},
	}
	for _, tt := range tests {
		c := sensors.Config{Name: "t", Driver: "ds18b20", Device: tt.device}
		if err := c.Validate("sensors[0]"); err != nil {
			t.Fatal(err)
		}
		s, err := d.Open(c, h)
		if (err != nil) != tt.openErr {
			t.Fatalf("%s: open err %v", tt.device, err)
		}
		if err != nil {
			continue
		}
		v, err := s.Read(context.Background())
		if !errors.Is(err, tt.readErr) || (err == nil && v[0].Value != tt.want) {
			t.Fatalf("%s: got %v, %v", tt.device, v, err)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		c    sensors.Config
		want string
	}{
		{sensors.Config{Device: "28-0123456789ab"}, ""},
		{sensors.Config{Path: "/x/w1_slave"}, ""},
		{sensors.Config{}, "sensors[0].device: is required"},
		{sensors.Config{Device: "28-xyz"}, "sensors[0].device: \"28-xyz\" is not a w1 id"},
		{sensors.Config{Bus: "1"}, "sensors[0].address: the sensor's 64-bit ROM code"},
		{sensors.Config{Bus: "1", Address: 0x28, Resolution: 13}, "sensors[0].resolution: must be 9..12"},
		{sensors.Config{Bus: "1", Address: 0x28, Device: "28-0123456789ab"}, "sensors[0].device: give device/path"},
		{sensors.Config{Device: "28-0123456789ab", Resolution: 10}, "sensors[0].resolution"},
		{sensors.Config{Device: "28-0123456789ab", Pin: "GPIO4"}, "sensors[0].pin: is not used by driver ds18b20"},
	}
	for _, tt := range tests {
		c := tt.c
		c.Name, c.Driver = "t", "ds18b20"
		err := c.Validate("sensors[0]")
		if tt.want == "" {
			if err != nil {
				t.Errorf("%+v: %v", tt.c, err)
			}
			continue
		}
		if err == nil || len(err.Error()) < len(tt.want) || err.Error()[:len(tt.want)] != tt.want {
			t.Errorf("%+v: got %v, want prefix %q", tt.c, err, tt.want)
		}
	}
}

// TestOneWire plays back a DS18B20 at 9 bits (periph's driver sleeps 94 ms
// for the conversion: the one sleeping test of this package).
func TestOneWire(t *testing.T) {
	const addr = onewire.Address(0x5500000123456728)
	match := func(cmd byte) []byte {
		w := make([]byte, 10)
		w[0] = 0x55
		binary.LittleEndian.PutUint64(w[1:], uint64(addr))
		w[9] = cmd
		return w
	}
	spad := []byte{0x72, 0x01, 0x4b, 0x46, 0x1f, 0xff, 0x0e, 0x10, 0}
	spad[8] = onewire.CalcCRC(spad[:8])
	bus := &onewiretest.Playback{Ops: []onewiretest.IO{
		{W: match(0xbe), R: spad, Pull: onewire.WeakPullup},
		{W: match(0x44), Pull: onewire.StrongPullup},
		{W: match(0xbe), R: spad, Pull: onewire.WeakPullup},
	}, DontPanic: true}
	c := sensors.Config{Name: "t", Driver: "ds18b20", Bus: "0", Address: uint64(addr), Resolution: 9}
	if err := c.Validate("sensors[0]"); err != nil {
		t.Fatal(err)
	}
	d, _ := sensors.Lookup("ds18b20")
	s, err := d.Open(c, &boardtest.Hardware{OneWires: map[string]onewire.Bus{"0": bus}})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if v[0].Value != 23.125 {
		t.Fatalf("got %v", v)
	}
	if err := bus.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(c, &boardtest.Hardware{}); err == nil || err.Error() != `bus: no 1-Wire bus "0" on this board` {
		t.Fatalf("missing bus: %v", err)
	}
}
