package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/edgecron/edgecron/actuators/relay"
	"periph.io/x/conn/v3/gpio"
)

func init() {
	register("gpio-config", "print the config.txt lines and biases that hold every gpio output at its safe level", (*Main).gpioConfig)
}

// gpioConfig prints, for the gpio outputs of the config, the Raspberry Pi
// config.txt lines that drive each to its safe (shutdown) level from
// power-on until the agent starts, and the bias the agent requests with
// each line, which holds it after the agent exits (docs/hardware.md).
func (m *Main) gpioConfig(_ context.Context, args []string) error {
	// The same flags as run and check-config: a device's config names
	// files of the device (mqtt.password_file, TLS keys), and --broker off
	// lets it be read on the laptop that prepares the SD card.
	f, err := m.parseConfigFlags("gpio-config", args)
	if err != nil {
		return err
	}
	c, err := f.load()
	if err != nil {
		return usageError{err}
	}
	writeGPIOConfig(m.Stdout, f.path, relay.Holds(c.Actuators))
	return nil
}

func writeGPIOConfig(w io.Writer, path string, hs []relay.Hold) {
	fmt.Fprintf(w, "# edgecron gpio-config --config %s\n", path)
	if len(hs) == 0 {
		fmt.Fprintln(w, "# no gpio outputs in this config")
		return
	}
	fmt.Fprint(w, `# Add to /boot/firmware/config.txt (/boot/config.txt before Bookworm) and
# reboot: the firmware then drives each output to its safe (shutdown) level
# from early boot until the agent starts.
`)
	for _, h := range hs {
		if h.ConfigTxt == "" {
			fmt.Fprintf(w, "# %s: %s\n", h.Name, h.Note)
			continue
		}
		fmt.Fprintf(w, "%s\t# %s: safe level %s\n", h.ConfigTxt, h.Name, levelName(h.Safe))
	}
	fmt.Fprint(w, `#
# The agent requests each line already at its boot level, with a pull
# toward its safe level; after the agent exits or crashes the kernel
# releases the line and that pull holds it where the GPIO controller keeps
# pulls on released lines. A pull is weak (about 50 kOhm on a Pi): a relay
# input that needs current wants an external resistor to the same level.
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "# output\tpin\tboot\tsafe\tbias")
	for _, h := range hs {
		fmt.Fprintf(tw, "#   %s\t%s\t%s\t%s\t%s\n", h.Name, h.Pin, levelName(h.Boot), levelName(h.Safe), biasName(h.Bias))
	}
	_ = tw.Flush()
}

func levelName(l gpio.Level) string {
	if l {
		return "high"
	}
	return "low"
}

func biasName(p gpio.Pull) string {
	switch p {
	case gpio.PullUp:
		return "pull-up"
	case gpio.PullDown:
		return "pull-down"
	}
	return p.String()
}
