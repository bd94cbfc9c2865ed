package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"strings"
)

// The validation stamp (docs/durability.md, "The validation stamp"): a
// clean stop leaves in the store the fingerprint of what the action
// handlers' Validate depends on, when every job the scheduler held was
// valid under it; the next start, if the store reports that stamp intact
// (no write to the file since, job records unchanged) and the fingerprint
// is still the same, tells the scheduler not to validate the stored
// actions again. A stored job can only have become invalid through what
// the fingerprint covers.

// fingerprint is what the action handlers' Validate depends on, as a
// digest: this binary's version and the effective config c (the file as
// parsed, with the defaults filled in and the command line's overrides
// applied), encoded as JSON. A development build's version (dev, or a
// git describe ending in -dirty) names no one binary: it has none (nil),
// and so never stamps nor trusts a stamp.
//
// The handlers built from c (handlers.go) depend on nothing else. exec
// checks the command against commands: (whether its program exists is
// found at run time, not by Validate); publish checks the topic against
// publish.allow; read checks that the sensor is configured; actuate checks
// that the actuator is configured and that its driver (on/off or PWM) and
// safety limits take the command. The sensor registry and the actuator
// set are built from c, and the agent does not start when one of them
// cannot be opened, so which devices are present changes nothing they
// accept. A handler whose Validate comes to depend on anything else (a
// file, a device, the time) must add it here, or have its actions
// validated at every start; and none of those sections may become one
// that a reload leaves for a restart (restartNeeded), or the handlers at
// the stop would not be the ones the stop's config describes.
func fingerprint(c *Config) ([]byte, error) {
	if strings.HasSuffix(version, "dev") || strings.HasSuffix(version, "-dirty") {
		return nil, nil
	}
	cfg, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write([]byte(version)) // then the JSON's {
	h.Write(cfg)
	return h.Sum(nil), nil
}

// actionsValidated reports whether the store's stamp vouches for the stored
// jobs' actions under config c.
func (a *agent) actionsValidated(stamp []byte, c *Config) bool {
	if stamp == nil {
		return false // the usual first start, or after a crash or offline write
	}
	fp, err := fingerprint(c)
	if err != nil || !bytes.Equal(fp, stamp) {
		return false // the binary or the config changed
	}
	a.log.Info("stored actions validated at the last clean stop, same binary and config: not validated again")
	return true
}

// stamp hands the store, for its clean close, the fingerprint of the
// config running now, unless a job is held invalid or a rejected reload
// may have left the handlers between two configs. Call it after the
// scheduler's Shutdown, when no job can change any more.
func (a *agent) stamp() {
	// Invalid jobs and rejected reloads were logged when they happened.
	if fp, err := fingerprint(a.cfg); err == nil && !a.unstamped && a.sched.Invalid() == 0 {
		a.store.SetStamp(fp)
	}
}
