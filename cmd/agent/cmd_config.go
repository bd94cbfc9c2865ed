package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
)

func init() {
	register("check-config", "validate a config file and print every problem", (*Main).checkConfig)
}

// configFlags are the flags of the commands that load the config file as
// the agent runs it: the file, and the keys a flag may override.
type configFlags struct {
	path string
	ov   Overrides
}

const configFlagsUsage = "[--config FILE] [--broker URL|off] [--device-id ID] [--db PATH] [--socket PATH] [--hardware sim] [--clock auto|ntp|rtc]"

func (f *configFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.path, "config", defaultConfigPath, "config file")
	fs.StringVar(&f.ov.Broker, "broker", "", "MQTT broker URL (overrides mqtt.broker); off: no MQTT")
	fs.StringVar(&f.ov.DeviceID, "device-id", "", "device id (overrides device_id)")
	fs.StringVar(&f.ov.Store, "db", "", "store file (overrides store.path)")
	fs.StringVar(&f.ov.Socket, "socket", "", "control socket (overrides control.socket)")
	fs.StringVar(&f.ov.Hardware, "hardware", "", "sim: serve every sensor and actuator from the simulated board (overrides hardware.board)")
	fs.StringVar(&f.ov.Clock, "clock", "", "rtc: trust the wall clock from the start, ntp/auto: wait for NTP sync (overrides clock.source)")
}

// parseConfigFlags parses the arguments of a command that takes the config
// flags and nothing else (run, check-config, gpio-config).
func (m *Main) parseConfigFlags(name string, args []string) (configFlags, error) {
	fs := m.newFlags(name, name+" "+configFlagsUsage)
	var f configFlags
	f.register(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return f, err
	}
	if len(pos) > 0 {
		return f, usagef("unexpected argument %q", pos[0])
	}
	return f, nil
}

// load reads and validates the config file with the flags applied.
func (f configFlags) load() (*Config, error) { return LoadConfigWith(f.path, f.ov) }

func (m *Main) checkConfig(_ context.Context, args []string) error {
	f, err := m.parseConfigFlags("check-config", args)
	if err != nil {
		return err
	}
	c, err := f.load()
	var ce *ConfigError
	if errors.As(err, &ce) {
		m.printProblems(ce)
		return usageError{fmt.Errorf("%s is not valid", ce.File)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s: ok (device %s, zone %s, %d job(s))\n", f.path, c.DeviceID, zoneName(c.location), len(c.jobs))
	return nil
}

// zoneName names a zone for people: the host's zone (time.Local, the
// default when the config sets none) by its IANA name where the host
// tells it ($TZ, the /etc/localtime link).
func zoneName(loc *time.Location) string {
	if loc != time.Local {
		return loc.String()
	}
	name := strings.TrimPrefix(os.Getenv("TZ"), ":")
	if name == "" {
		if target, err := os.Readlink("/etc/localtime"); err == nil {
			if _, after, ok := strings.Cut(target, "zoneinfo/"); ok {
				name = after
			}
		}
	}
	if name == "" {
		return "the host's zone"
	}
	return name + " (the host's)"
}

// printProblems lists a config's problems on standard output, as
// check-config and a rejected reload do.
func (m *Main) printProblems(ce *ConfigError) {
	fmt.Fprintf(m.Stdout, "%s: %d problem(s)\n", ce.File, len(ce.Problems))
	for _, p := range ce.Problems {
		fmt.Fprintf(m.Stdout, "  %s\n", p)
	}
}
