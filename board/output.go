package board

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sync"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/host/v3/gpioioctl"
)

// OutputPin returns the GPIO of that name for use as an output whose first
// level is written in the same kernel request that makes it an output, so
// that it never shows another level first (see uapi.go), requested with
// bias (PullUp or PullDown): the pull toward the level the line should
// fall back to once the agent releases it (at exit or a crash). The
// kernel applies the bias where the GPIO controller supports it and
// ignores it otherwise.
//
// On the GPIO character device the line is requested by the first Out and
// held until the process exits; a second OutputPin of the same line
// returns the same output (a reload that changes the actuator on it). A
// write that fails releases the line: the next Out requests it afresh
// with its level. On the sysfs GPIO path periph writes "high" or "low" to
// the direction file, which is glitch-free too; sysfs has no bias.
func (h *Host) OutputPin(name string, bias gpio.Pull) (gpio.PinOut, error) {
	p, err := h.Pin(name)
	if err != nil {
		return nil, err
	}
	real := gpio.PinIO(p)
	if r, ok := p.(gpio.RealPin); ok {
		if rp, ok := r.Real().(gpio.PinIO); ok {
			real = rp
		}
	}
	line, ok := real.(*gpioioctl.GPIOLine)
	if !ok {
		return p, nil // sysfs, or a board-specific driver
	}
	chip := chipOf(line)
	if chip == "" {
		return nil, fmt.Errorf("GPIO %s: no GPIO chip holds it", name)
	}
	key := fmt.Sprintf("%s:%d", chip, line.Number())
	h.mu.Lock()
	defer h.mu.Unlock()
	if o, ok := h.outputs[key]; ok {
		// A reload changed the output on this line: its safe level, and
		// so its bias, may have changed.
		if err := o.setBias(bias); err != nil {
			return nil, err
		}
		return o, nil
	}
	o := &lineOutput{name: name, chip: chip, offset: uint32(line.Number()), bias: bias, fd: -1, kernel: uapi}
	h.outputs[key] = o
	return o, nil
}

// chipOf returns the /dev path of the chip that has line.
func chipOf(line *gpioioctl.GPIOLine) string {
	for _, c := range gpioioctl.Chips {
		for _, l := range c.Lines() {
			if l == line {
				return c.Path()
			}
		}
	}
	return ""
}

// consumer is the label the kernel shows for the agent's lines (gpioinfo).
var consumer = fmt.Sprintf("%s@%d", path.Base(os.Args[0]), os.Getpid())

// lineOutput is one GPIO line of a character device driven as an output
// through the v2 uAPI.
type lineOutput struct {
	name   string
	chip   string
	offset uint32

	mu    sync.Mutex
	bias  gpio.Pull
	fd    int        // the line request; -1 before the first Out or after a failure
	level gpio.Level // the level last driven, while fd >= 0

	kernel lineKernel
}

// lineKernel is the kernel side of a lineOutput (replaced in tests).
type lineKernel struct {
	request     func(chip string, offset uint32, bias gpio.Pull, l gpio.Level) (int, error)
	set         func(fd int, l gpio.Level) error
	reconfigure func(fd int, bias gpio.Pull, l gpio.Level) error
	close       func(fd int) error
}

var uapi = lineKernel{request: requestOutput, set: setValues, reconfigure: reconfigure, close: closeLine}

var _ gpio.PinOut = (*lineOutput)(nil)

func (o *lineOutput) String() string   { return o.name }
func (o *lineOutput) Name() string     { return o.name }
func (o *lineOutput) Number() int      { return int(o.offset) }
func (o *lineOutput) Function() string { return "Out" }
func (o *lineOutput) Halt() error      { return nil }

// PWM is not available on a GPIO line.
func (o *lineOutput) PWM(gpio.Duty, physic.Frequency) error {
	return errors.New("PWM is not available on a GPIO character device line")
}

// setBias changes the bias the line is requested with; a line already
// requested is reconfigured at once, at the level it has.
func (o *lineOutput) setBias(b gpio.Pull) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if b == o.bias {
		return nil
	}
	if o.fd >= 0 {
		if err := o.kernel.reconfigure(o.fd, b, o.level); err != nil {
			return fmt.Errorf("%s: change bias to %v: %w", o.name, b, err)
		}
	}
	o.bias = b
	return nil
}

// Out drives the line: the first call requests it as an output at l.
func (o *lineOutput) Out(l gpio.Level) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fd < 0 {
		fd, err := o.kernel.request(o.chip, o.offset, o.bias, l)
		if err != nil {
			return fmt.Errorf("%s: request %s line %d as output: %w", o.name, o.chip, o.offset, err)
		}
		o.fd, o.level = fd, l
		return nil
	}
	if err := o.kernel.set(o.fd, l); err != nil {
		_ = o.kernel.close(o.fd)
		o.fd = -1
		return fmt.Errorf("%s: set %v: %w (line released; the next write requests it again)", o.name, l, err)
	}
	o.level = l
	return nil
}

// Close releases the line: it falls back to its bias.
func (o *lineOutput) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fd < 0 {
		return nil
	}
	err := o.kernel.close(o.fd)
	o.fd = -1
	return err
}
