package board

import (
	"encoding/binary"
	"fmt"

	"periph.io/x/conn/v3/gpio"
)

// The GPIO character device's v2 uAPI (include/uapi/linux/gpio.h), the
// part an output needs. periph's gpioioctl requests a line with no
// direction, then configures it as an output (which the kernel drives to
// its default, low) and only then writes the wanted level: an active-low
// relay that should stay off is switched on for the time between the two
// calls. The v2 line request carries the output values, so one request
// sets direction, first level and bias together; periph does not expose
// that, hence this wrapper.
//
// The structures are encoded by hand at the kernel's offsets: Go aligns
// uint64 fields to 4 bytes on 32-bit ARM, the kernel's ABI to 8.
const (
	uapiMaxNameSize = 32
	uapiLinesMax    = 64
	uapiNumAttrsMax = 10

	flagOutput       uint64 = 1 << 3
	flagBiasPullUp   uint64 = 1 << 8
	flagBiasPullDown uint64 = 1 << 9
	flagBiasDisabled uint64 = 1 << 10

	attrIDOutputValues uint32 = 2

	// struct sizes and offsets
	lineConfigSize  = 8 + 4 + 5*4 + uapiNumAttrsMax*24 // 272
	lineRequestSize = uapiLinesMax*4 + uapiMaxNameSize + lineConfigSize + 4 + 4 + 5*4 + 4
	lineValuesSize  = 16

	reqConsumerOff = uapiLinesMax * 4
	reqConfigOff   = reqConsumerOff + uapiMaxNameSize
	reqNumLinesOff = reqConfigOff + lineConfigSize
	reqFdOff       = reqNumLinesOff + 4 + 4 + 5*4
)

// ioctl numbers (asm-generic _IOWR(0xB4, nr, size)).
var (
	ioctlGetLine   = iowr(0xB4, 0x07, lineRequestSize)
	ioctlSetValues = iowr(0xB4, 0x0F, lineValuesSize)
	ioctlSetConfig = iowr(0xB4, 0x0D, lineConfigSize)
)

func iowr(typ, nr, size uintptr) uintptr {
	const read, write = 2, 1
	return (read|write)<<30 | size<<16 | typ<<8 | nr
}

// outputFlags returns the line flags of an output with the given bias.
func outputFlags(bias gpio.Pull) (uint64, error) {
	f := flagOutput
	switch bias {
	case gpio.PullUp:
		f |= flagBiasPullUp
	case gpio.PullDown:
		f |= flagBiasPullDown
	case gpio.Float:
		f |= flagBiasDisabled
	case gpio.PullNoChange:
	default:
		return 0, fmt.Errorf("bias %v", bias)
	}
	return f, nil
}

// putOutputConfig encodes a struct gpio_v2_line_config for one output
// line at level l into b (lineConfigSize bytes): the flags and one
// attribute, the output values.
func putOutputConfig(b []byte, flags uint64, l gpio.Level) {
	ne := binary.NativeEndian
	ne.PutUint64(b[0:], flags)
	ne.PutUint32(b[8:], 1) // num_attrs
	// attrs[0] at 32: {id u32, padding u32, values u64}, mask u64
	ne.PutUint32(b[32:], attrIDOutputValues)
	ne.PutUint64(b[40:], levelBit(l))
	ne.PutUint64(b[48:], 1)
}

func levelBit(l gpio.Level) uint64 {
	if l {
		return 1
	}
	return 0
}

// outputRequest encodes a struct gpio_v2_line_request for the line at
// offset as an output at level l with the given bias.
func outputRequest(offset uint32, consumer string, bias gpio.Pull, l gpio.Level) ([]byte, error) {
	flags, err := outputFlags(bias)
	if err != nil {
		return nil, err
	}
	b := make([]byte, lineRequestSize)
	binary.NativeEndian.PutUint32(b[0:], offset)
	if len(consumer) >= uapiMaxNameSize {
		consumer = consumer[:uapiMaxNameSize-1]
	}
	copy(b[reqConsumerOff:], consumer)
	putOutputConfig(b[reqConfigOff:reqConfigOff+lineConfigSize], flags, l)
	binary.NativeEndian.PutUint32(b[reqNumLinesOff:], 1)
	return b, nil
}

// outputConfig encodes a struct gpio_v2_line_config that keeps a requested
// line an output at level l and changes its bias.
func outputConfig(bias gpio.Pull, l gpio.Level) ([]byte, error) {
	flags, err := outputFlags(bias)
	if err != nil {
		return nil, err
	}
	b := make([]byte, lineConfigSize)
	putOutputConfig(b, flags, l)
	return b, nil
}

// requestFd reads the line fd the kernel wrote into a request.
func requestFd(b []byte) int { return int(int32(binary.NativeEndian.Uint32(b[reqFdOff:]))) }

// valuesOf encodes a struct gpio_v2_line_values for one line.
func valuesOf(l gpio.Level) []byte {
	b := make([]byte, lineValuesSize)
	binary.NativeEndian.PutUint64(b[0:], levelBit(l))
	binary.NativeEndian.PutUint64(b[8:], 1)
	return b
}
