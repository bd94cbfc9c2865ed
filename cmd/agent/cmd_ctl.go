package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/edgecron/edgecron/control"
	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/sched"
)

func init() {
	register("ctl", "manage a device's jobs and drive its actuators over MQTT (request, wait for the reply)", (*Main).ctl)
}

const ctlUsage = `ctl [--config FILE] [--broker URL] [--device-id ID | --group G] [--timeout D] jobs OP ... | actuators NAME COMMAND
  actuators NAME on|off|toggle|pulse DURATION|set VALUE
  jobs list
  jobs get ID
  jobs add -f FILE [--replace]            (FILE: a job document; - reads standard input)
  jobs modify ID -f FILE                  (FILE: the changes, a partial job document)
  jobs reschedule ID -f FILE              (FILE: a trigger document)
  jobs pause|resume|remove|run ID
  with any op: --expected-version N  --expires-in D  --id REQUEST_ID  --json
  --group G: every member of G's roster; one line per device; --no-expiry: members that are
             offline apply it whenever they come back (default: it expires with --timeout)`

func (m *Main) ctl(ctx context.Context, args []string) error {
	fs := m.newFlags("ctl", ctlUsage)
	cfgPath := fs.String("config", defaultConfigPath, "config file: broker, prefix, TLS and credentials")
	broker := fs.String("broker", "", "broker URL (overrides mqtt.broker)")
	device := fs.String("device-id", "", "the device to ask (default: the config's device_id)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the reply")
	file := fs.String("f", "", "the document to send (add, modify, reschedule); - reads standard input")
	replace := fs.Bool("replace", false, "add: replace a job of the same id")
	expected := fs.Int64("expected-version", 0, "refuse the change unless the job has this version")
	expiresIn := fs.Duration("expires-in", 0, "the device ignores the request once this long has passed")
	reqID := fs.String("id", "", "request id (default: random); resend with the same id to apply once")
	asJSON := fs.Bool("json", false, "print the device's whole reply (JSON) on standard output")
	group := fs.String("group", "", "send to every device of this group and collect their replies")
	noExpiry := fs.Bool("no-expiry", false, "--group: no expires_at, a member that is offline applies the request when it is back")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 || (pos[0] != "jobs" && pos[0] != "actuators") {
		fs.Usage()
		return usagef("usage: edgecron %s", strings.SplitN(ctlUsage, "\n", 2)[0])
	}
	op, rest := pos[1], pos[2:]
	var actuatorCmd []byte
	if pos[0] == "actuators" {
		if len(rest) == 0 {
			return usagef("actuators %s takes a command: on, off, toggle, pulse DURATION or set VALUE", op)
		}
		// The same words and checks as `edgecron set`.
		if actuatorCmd, _, err = parseSetArgs(rest); err != nil {
			return err
		}
		for _, name := range []string{"f", "replace", "expected-version"} {
			if fs.Lookup(name).Value.String() != fs.Lookup(name).DefValue {
				return usagef("actuators takes no --%s", name)
			}
		}
	}

	if *group != "" && *device != "" {
		return usagef("--group and --device-id: give one")
	}
	if *group != "" && actuatorCmd != nil {
		return usagef("--group takes jobs ops only: actuator commands go to one device")
	}
	if *noExpiry && (*group == "" || *expiresIn > 0) {
		return usagef("--no-expiry goes with --group, and not with --expires-in")
	}
	cfg, deviceID, err := m.mqttConfig(fs, *cfgPath, *broker, *device, *device != "" || *group != "")
	if err != nil {
		return err
	}

	req := mqtt.Request{ID: *reqID, Op: op, ReplaceExisting: *replace, ExpectedVersion: *expected}
	if *expiresIn > 0 {
		t := time.Now().Add(*expiresIn).UTC()
		req.ExpiresAt = &t
	}
	if actuatorCmd != nil {
		ctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		rep, err := mqtt.SendActuator(ctx, cfg, deviceID, op, *reqID, actuatorCmd, req.ExpiresAt)
		return m.ctlResult(rep, err, deviceID, *timeout, strings.Join(cfg.URLs(), ", "), *asJSON)
	}
	switch op {
	case "list", "add":
		if len(rest) != 0 {
			return usagef("jobs %s takes no argument", op)
		}
	case "get", "modify", "reschedule", "pause", "resume", "remove", "run":
		if len(rest) != 1 {
			return usagef("jobs %s takes a job id", op)
		}
		req.JobID = rest[0]
	default:
		return usagef("unknown op %q: %s", op, ctlUsage)
	}
	if op == "add" || op == "modify" || op == "reschedule" {
		if *file == "" {
			return usagef("jobs %s needs -f FILE", op)
		}
		arg := "@" + *file
		if *file == "-" {
			arg = "-"
		}
		doc, err := m.readArg(arg)
		if err != nil {
			return usageError{err}
		}
		var raw json.RawMessage
		if err := json.Unmarshal(doc, &raw); err != nil {
			return usagef("%s: not JSON: %v", *file, err)
		}
		switch op {
		case "add":
			req.Job = raw
		case "modify":
			req.Changes = raw
		case "reschedule":
			req.Trigger = raw
		}
	} else if *file != "" {
		return usagef("jobs %s takes no -f", op)
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if *group != "" {
		return m.ctlGroup(ctx, cfg, *group, req, mqtt.GroupOptions{NoExpiry: *noExpiry}, *asJSON)
	}
	rep, err := mqtt.Send(ctx, cfg, deviceID, req)
	return m.ctlResult(rep, err, deviceID, *timeout, strings.Join(cfg.URLs(), ", "), *asJSON)
}

// ctlResult prints a reply (or says why none came) and returns the error
// that sets the exit code.
func (m *Main) ctlResult(rep mqtt.Reply, err error, deviceID string, timeout time.Duration, broker string, asJSON bool) error {
	if rep.Status == "" && err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("no reply from %s within %s (is the agent running and connected to %s?): %w", deviceID, timeout, broker, err)
		}
		return err
	}
	if asJSON {
		if werr := writeJSON(m.Stdout, rep); werr != nil {
			return werr
		}
	} else {
		m.printReply(rep)
	}
	if err != nil {
		return fmt.Errorf("rejected (%s): %w", rep.Code, err)
	}
	return nil
}

// mqttConfig is the mqtt section and device id of ctl and fleet: from the
// config file, or from flags alone (--broker, and the device or group when
// the command needs one) when the default config file does not exist.
func (m *Main) mqttConfig(fs *flag.FlagSet, cfgPath, broker, device string, targeted bool) (mqtt.Config, string, error) {
	var cfg mqtt.Config
	deviceID := device
	c, err := LoadConfig(cfgPath)
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "config" })
	switch {
	case err == nil:
		cfg = c.MQTT
		if deviceID == "" {
			deviceID = c.DeviceID
		}
	case !explicit && errors.Is(err, os.ErrNotExist) && broker != "" && targeted:
		cfg = mqtt.Config{}.WithDefaults()
	default:
		return cfg, "", err
	}
	if broker != "" {
		cfg.Broker, cfg.Brokers = broker, nil
	}
	if !cfg.Enabled() {
		return cfg, "", usagef("no broker: set mqtt.broker in the config or pass --broker")
	}
	if err := cfg.Validate(); err != nil {
		return cfg, "", usageError{err}
	}
	return cfg, deviceID, nil
}

// printReply prints a reply readably: the status line on standard error,
// then the job (JSON) or a table of jobs on standard output, so that
// `edgecron ctl jobs get ID | jq` works; the next run times go to
// standard error.
func (m *Main) printReply(rep mqtt.Reply) {
	if rep.Status != mqtt.StatusAccepted {
		return // the caller reports the rejection
	}
	fmt.Fprintf(m.Stderr, "accepted (%s), request %s\n", rep.Code, rep.ID)
	if rep.Actuator != "" {
		fmt.Fprintf(m.Stdout, "%s: command accepted\n", rep.Actuator)
	}
	if len(rep.Jobs) > 0 {
		var raws []json.RawMessage
		if err := json.Unmarshal(rep.Jobs, &raws); err == nil {
			jobs := make([]sched.Job, 0, len(raws))
			for _, r := range raws {
				if j, err := control.DecodeJobDocument(r); err == nil {
					jobs = append(jobs, j)
				}
			}
			if len(jobs) == len(raws) {
				printJobTable(m.Stdout, jobs)
				return
			}
		}
		m.printIndented(rep.Jobs)
	}
	if len(rep.Job) > 0 {
		m.printIndented(rep.Job)
	}
	for _, t := range rep.NextRunTimes {
		fmt.Fprintf(m.Stderr, "next run: %s\n", t)
	}
}

func (m *Main) printIndented(raw json.RawMessage) {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		b.Reset()
		b.Write(raw)
	}
	b.WriteByte('\n')
	m.Stdout.Write(b.Bytes())
}
