package board

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"
)

// The sizes and ioctl numbers of include/uapi/linux/gpio.h: a wrong
// offset would make the kernel read the output value from padding.
func TestUAPILayout(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(gpio_v2_line_request)", lineRequestSize, 592},
		{"sizeof(gpio_v2_line_config)", lineConfigSize, 272},
		{"offsetof(request.config)", reqConfigOff, 288},
		{"offsetof(request.num_lines)", reqNumLinesOff, 560},
		{"offsetof(request.fd)", reqFdOff, 588},
		{"GPIO_V2_GET_LINE_IOCTL", ioctlGetLine, 0xC250B407},
		{"GPIO_V2_LINE_SET_VALUES_IOCTL", ioctlSetValues, 0xC010B40F},
		{"GPIO_V2_LINE_SET_CONFIG_IOCTL", ioctlSetConfig, 0xC110B40D},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %#x, want %#x", tc.name, tc.got, tc.want)
		}
	}
}

func TestOutputRequest(t *testing.T) {
	ne := binary.NativeEndian
	for _, tc := range []struct {
		bias  gpio.Pull
		level gpio.Level
		flags uint64
		bits  uint64
	}{
		{gpio.PullUp, gpio.High, flagOutput | flagBiasPullUp, 1},
		{gpio.PullDown, gpio.Low, flagOutput | flagBiasPullDown, 0},
		{gpio.PullUp, gpio.Low, flagOutput | flagBiasPullUp, 0},
		{gpio.Float, gpio.High, flagOutput | flagBiasDisabled, 1},
		{gpio.PullNoChange, gpio.High, flagOutput, 1},
	} {
		b, err := outputRequest(17, "edgecron@42", tc.bias, tc.level)
		if err != nil {
			t.Fatal(err)
		}
		if got := ne.Uint32(b[0:]); got != 17 {
			t.Errorf("offsets[0] = %d", got)
		}
		if got := string(b[reqConsumerOff : reqConsumerOff+11]); got != "edgecron@42" || b[reqConsumerOff+11] != 0 {
			t.Errorf("consumer %q", got)
		}
		c := b[reqConfigOff:]
		if got := ne.Uint64(c[0:]); got != tc.flags {
			t.Errorf("%v %v: flags %#x, want %#x", tc.bias, tc.level, got, tc.flags)
		}
		if got := ne.Uint32(c[8:]); got != 1 {
			t.Errorf("num_attrs %d", got)
		}
		if id, v, mask := ne.Uint32(c[32:]), ne.Uint64(c[40:]), ne.Uint64(c[48:]); id != attrIDOutputValues || v != tc.bits || mask != 1 {
			t.Errorf("%v %v: attr {%d %d mask %d}, want {2 %d mask 1}", tc.bias, tc.level, id, v, mask, tc.bits)
		}
		if got := ne.Uint32(b[reqNumLinesOff:]); got != 1 {
			t.Errorf("num_lines %d", got)
		}
		ne.PutUint32(b[reqFdOff:], 9)
		if requestFd(b) != 9 {
			t.Error("fd not read back")
		}
	}
	long, _ := outputRequest(0, strings.Repeat("x", 40), gpio.PullUp, gpio.Low)
	if long[reqConsumerOff+uapiMaxNameSize-1] != 0 {
		t.Error("a long consumer name is not NUL-terminated")
	}
	if _, err := outputRequest(0, "a", gpio.Pull(99), gpio.Low); err == nil {
		t.Error("a bad bias was accepted")
	}
	if v := valuesOf(gpio.High); ne.Uint64(v[0:]) != 1 || ne.Uint64(v[8:]) != 1 {
		t.Errorf("values %x", v)
	}
}

// fakeKernel records the requests and writes of lineOutputs.
type fakeKernel struct {
	log     []string
	failSet error
	next    int
}

func (k *fakeKernel) ops() lineKernel {
	return lineKernel{
		request: func(chip string, off uint32, bias gpio.Pull, l gpio.Level) (int, error) {
			k.next++
			k.log = append(k.log, "request "+bias.String()+" "+l.String())
			return k.next, nil
		},
		set: func(fd int, l gpio.Level) error {
			if k.failSet != nil {
				return k.failSet
			}
			k.log = append(k.log, "set "+l.String())
			return nil
		},
		reconfigure: func(fd int, bias gpio.Pull, l gpio.Level) error {
			k.log = append(k.log, "reconfigure "+bias.String()+" "+l.String())
			return nil
		},
		close: func(fd int) error { k.log = append(k.log, "close"); return nil },
	}
}

// The first level is part of the request; a failed write releases the
// line and the next write requests it again with its level.
func TestLineOutput(t *testing.T) {
	k := &fakeKernel{}
	o := &lineOutput{name: "GPIO17", chip: "/dev/gpiochip0", offset: 17, bias: gpio.PullUp, fd: -1, kernel: k.ops()}
	steps := []struct {
		l       gpio.Level
		failSet error
		wantErr bool
	}{
		{gpio.High, nil, false},
		{gpio.Low, nil, false},
		{gpio.High, errors.New("EIO"), true},
		{gpio.High, nil, false},
		{gpio.Low, nil, false},
	}
	for i, s := range steps {
		k.failSet = s.failSet
		if err := o.Out(s.l); (err != nil) != s.wantErr {
			t.Fatalf("step %d: Out(%v) = %v", i, s.l, err)
		}
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	want := "request PullUp High|set Low|close|request PullUp High|set Low|close"
	if got := strings.Join(k.log, "|"); got != want {
		t.Errorf("kernel calls\n got %s\nwant %s", got, want)
	}

	// A reload that changes the output's safe level changes the bias of
	// the held line at once, at the level it has; before the first write
	// the new bias waits for the request.
	k.log = nil
	if err := o.setBias(gpio.PullDown); err != nil {
		t.Fatal(err)
	}
	o.Out(gpio.Low)
	o.setBias(gpio.PullUp)
	o.setBias(gpio.PullUp)
	want = "request PullDown Low|reconfigure PullUp Low"
	if got := strings.Join(k.log, "|"); got != want {
		t.Errorf("kernel calls\n got %s\nwant %s", got, want)
	}
	if c, err := outputConfig(gpio.PullDown, gpio.High); err != nil || binary.NativeEndian.Uint64(c[0:]) != flagOutput|flagBiasPullDown || binary.NativeEndian.Uint64(c[40:]) != 1 {
		t.Errorf("outputConfig: %x %v", c[:56], err)
	}
}
