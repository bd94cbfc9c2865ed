package main

import (
	"context"
	"errors"
	"fmt"
)

func init() {
	register("check-config", "validate a config file and print every problem", (*Main).checkConfig)
}

func (m *Main) checkConfig(_ context.Context, args []string) error {
	fs := m.newFlags("check-config", "check-config [--config FILE]")
	path := fs.String("config", defaultConfigPath, "config file")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := LoadConfig(*path)
	var ce *ConfigError
	if errors.As(err, &ce) {
		fmt.Fprintf(m.Stdout, "%s: %d problem(s)\n", ce.File, len(ce.Problems))
		for _, p := range ce.Problems {
			fmt.Fprintf(m.Stdout, "  %s\n", p)
		}
		return usageError{fmt.Errorf("%s is not valid", ce.File)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s: ok (device %s, zone %s, %d job(s))\n", *path, c.DeviceID, c.location, len(c.jobs))
	return nil
}
