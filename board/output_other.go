//go:build !linux

package board

import (
	"errors"

	"periph.io/x/conn/v3/gpio"
)

var errNotLinux = errors.New("the GPIO character device exists only on Linux")

func requestOutput(string, uint32, gpio.Pull, gpio.Level) (int, error) { return -1, errNotLinux }
func setValues(int, gpio.Level) error                                  { return errNotLinux }
func reconfigure(int, gpio.Pull, gpio.Level) error                     { return errNotLinux }
func closeLine(int) error                                              { return errNotLinux }
