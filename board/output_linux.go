package board

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"periph.io/x/conn/v3/gpio"
)

// requestOutput requests line offset of the chip at chipPath as an output
// at level l with bias, in one GPIO_V2_GET_LINE ioctl, and returns the
// line's fd.
func requestOutput(chipPath string, offset uint32, bias gpio.Pull, l gpio.Level) (int, error) {
	req, err := outputRequest(offset, consumer, bias, l)
	if err != nil {
		return -1, err
	}
	f, err := os.Open(chipPath)
	if err != nil {
		return -1, err
	}
	defer f.Close() // the line fd outlives the chip fd
	if err := ioctl(f.Fd(), ioctlGetLine, req); err != nil {
		return -1, fmt.Errorf("GPIO_V2_GET_LINE: %w", err)
	}
	fd := requestFd(req)
	if fd <= 0 {
		return -1, fmt.Errorf("GPIO_V2_GET_LINE returned fd %d", fd)
	}
	syscall.CloseOnExec(fd)
	return fd, nil
}

func setValues(fd int, l gpio.Level) error {
	if err := ioctl(uintptr(fd), ioctlSetValues, valuesOf(l)); err != nil {
		return fmt.Errorf("GPIO_V2_LINE_SET_VALUES: %w", err)
	}
	return nil
}

// reconfigure changes the bias of a requested output line, keeping it an
// output at level l (GPIO_V2_LINE_SET_CONFIG carries the level too).
func reconfigure(fd int, bias gpio.Pull, l gpio.Level) error {
	c, err := outputConfig(bias, l)
	if err != nil {
		return err
	}
	if err := ioctl(uintptr(fd), ioctlSetConfig, c); err != nil {
		return fmt.Errorf("GPIO_V2_LINE_SET_CONFIG: %w", err)
	}
	return nil
}

func closeLine(fd int) error { return syscall.Close(fd) }

func ioctl(fd, req uintptr, arg []byte) error {
	for {
		_, _, e := syscall.Syscall(syscall.SYS_IOCTL, fd, req, uintptr(unsafe.Pointer(&arg[0])))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}
