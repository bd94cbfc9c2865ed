package main

import (
	"os"
	"strings"

	"github.com/edgecron/edgecron/sched"
)

// LocationConfig is the location: section, where solar triggers compute
// the sun unless they give a latitude and longitude of their own.
type LocationConfig struct {
	Latitude  *float64 `yaml:"latitude"`
	Longitude *float64 `yaml:"longitude"`
}

// checkLocation validates the location: section, through the same check
// as a solar trigger's own coordinates.
func (c *Config) checkLocation(add func(path, format string, args ...any)) {
	l := c.Location
	if l == nil {
		return
	}
	if l.Latitude == nil || l.Longitude == nil {
		add("location", "give both latitude and longitude, in degrees (north and east positive)")
		return
	}
	if err := sched.CheckSite(sched.Site{Latitude: *l.Latitude, Longitude: *l.Longitude}, "location"); err != nil {
		e := err.(*sched.Error)
		add(e.Field, "%s", e.Message)
	}
}

// site is the config's location, nil when it has none.
func (c *Config) site() *sched.Site {
	if c.Location == nil || c.Location.Latitude == nil || c.Location.Longitude == nil {
		return nil
	}
	return &sched.Site{Latitude: *c.Location.Latitude, Longitude: *c.Location.Longitude}
}

// triggerEnv is what the config's triggers are compiled against: the
// scheduler's zone and the location. The scheduler, `edgecron next
// --config` and the config check all use it, so they agree.
func (c *Config) triggerEnv() sched.Env {
	return sched.Env{Location: c.location, Site: c.site()}
}

// bootIDPath is where Linux keeps the boot id: random, new at every boot.
var bootIDPath = "/proc/sys/kernel/random/boot_id"

// kernelBootID returns the kernel's boot id, "" when there is none (not
// Linux): boot triggers then never fire, rather than fire at every start.
func kernelBootID() string {
	b, err := os.ReadFile(bootIDPath)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
