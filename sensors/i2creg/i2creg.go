// Package i2creg is the i2c-register sensor driver, for chips without a
// driver: it reads the bytes of one register and decodes them as an
// integer; calibration (scale, offset) turns the raw count into a quantity.
//
// Config keys: bus, address (required, 0x03..0x77), register (0..255,
// required), format (u8 s8 u16 s16 u32 s32, default u16), byte_order (big
// | little, default big), quantity (default value), unit.
package i2creg

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/edgecron/edgecron/internal/haclass"
	"github.com/edgecron/edgecron/sensors"
	"periph.io/x/conn/v3/i2c"
)

func init() {
	sensors.Register(sensors.Driver{
		Name:  "i2c-register",
		Keys:  []string{"bus", "address", "register", "format", "byte_order", "quantity", "unit"},
		Check: check,
		Values: func(c sensors.Config) []sensors.Value {
			return []sensors.Value{{Name: c.Quantity, Unit: c.Unit, Class: haclass.ForUnit(c.Quantity, c.Unit)}}
		},
		Open: open,
	})
}

// Size returns the number of bytes of a format, 0 for an unknown one.
func Size(format string) int {
	switch format {
	case "u8", "s8":
		return 1
	case "u16", "s16":
		return 2
	case "u32", "s32":
		return 4
	}
	return 0
}

func check(c *sensors.Config) error {
	if c.Address < 0x03 || c.Address > 0x77 {
		return sensors.Keyf("address", "is required: a 7-bit I2C address 0x03..0x77, got %#x", c.Address)
	}
	if c.Register == nil {
		return sensors.Keyf("register", "is required (0..255)")
	}
	if *c.Register < 0 || *c.Register > 255 {
		return sensors.Keyf("register", "must be 0..255, got %d", *c.Register)
	}
	if c.Format == "" {
		c.Format = "u16"
	}
	if Size(c.Format) == 0 {
		return sensors.Keyf("format", "must be u8, s8, u16, s16, u32 or s32, got %q", c.Format)
	}
	switch c.ByteOrder {
	case "":
		c.ByteOrder = "big"
	case "big", "little":
	default:
		return sensors.Keyf("byte_order", "must be big or little, got %q", c.ByteOrder)
	}
	if c.Quantity == "" {
		c.Quantity = "value"
	}
	return nil
}

func open(c sensors.Config, hw sensors.Hardware) (sensors.Sensor, error) {
	bus, err := hw.I2C(c.Bus)
	if err != nil {
		return nil, sensors.Keyf("bus", "%w", err)
	}
	return &Sensor{
		dev:    &i2c.Dev{Bus: bus, Addr: uint16(c.Address)},
		reg:    byte(*c.Register),
		format: c.Format,
		little: c.ByteOrder == "little",
		name:   c.Quantity,
		unit:   c.Unit,
	}, nil
}

// Sensor reads one register.
type Sensor struct {
	dev    *i2c.Dev
	reg    byte
	format string
	little bool
	name   string
	unit   string
}

// Read writes the register address, reads the value's bytes and decodes
// them.
func (s *Sensor) Read(context.Context) ([]sensors.Value, error) {
	b := make([]byte, Size(s.format))
	if err := s.dev.Tx([]byte{s.reg}, b); err != nil {
		return nil, fmt.Errorf("i2c %#x register %#x: %w", s.dev.Addr, s.reg, err)
	}
	v, err := Decode(b, s.format, s.little)
	if err != nil {
		return nil, err
	}
	return []sensors.Value{{Name: s.name, Value: v, Unit: s.unit}}, nil
}

// Decode decodes b as format, little-endian when little.
func Decode(b []byte, format string, little bool) (float64, error) {
	n := Size(format)
	if n == 0 {
		return 0, fmt.Errorf("unknown format %q", format)
	}
	if len(b) != n {
		return 0, fmt.Errorf("format %s needs %d bytes, got %d", format, n, len(b))
	}
	var order binary.ByteOrder = binary.BigEndian
	if little {
		order = binary.LittleEndian
	}
	switch format {
	case "u8":
		return float64(b[0]), nil
	case "s8":
		return float64(int8(b[0])), nil
	case "u16":
		return float64(order.Uint16(b)), nil
	case "s16":
		return float64(int16(order.Uint16(b))), nil
	case "u32":
		return float64(order.Uint32(b)), nil
	default: // s32
		return float64(int32(order.Uint32(b))), nil
	}
}
