package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/edgecron/edgecron/mqtt"
)

func init() {
	register("fleet", "the devices of a prefix or group from the broker: online, version, clock, jobs, outbox, last error", (*Main).fleet)
}

const fleetUsage = `fleet status [--config FILE] [--broker URL] [--group G] [--timeout D] [--json]`

func (m *Main) fleet(ctx context.Context, args []string) error {
	fs := m.newFlags("fleet", fleetUsage)
	cfgPath := fs.String("config", defaultConfigPath, "config file: broker, prefix, TLS and credentials")
	broker := fs.String("broker", "", "broker URL (overrides mqtt.broker)")
	group := fs.String("group", "", "only the members of this group (default: every device of the prefix)")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the broker")
	asJSON := fs.Bool("json", false, "one JSON array of devices on standard output")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "status" {
		fs.Usage()
		return usagef("usage: edgecron %s", fleetUsage)
	}
	cfg, _, err := m.mqttConfig(fs, *cfgPath, *broker, "", true)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	devs, err := mqtt.Fleet(ctx, cfg, *group)
	if err != nil {
		return err
	}
	if *asJSON {
		if devs == nil {
			devs = []mqtt.Device{}
		}
		return writeJSON(m.Stdout, devs)
	}
	printFleet(m.Stdout, devs)
	online := 0
	for _, d := range devs {
		if d.Online() {
			online++
		}
	}
	fmt.Fprintf(m.Stderr, "%d device(s), %d online\n", len(devs), online)
	return nil
}

// printFleet prints one line per device.
func printFleet(w io.Writer, devs []mqtt.Device) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICE\tSTATUS\tVERSION\tCLOCK\tJOBS\tQUEUED\tDROPPED\tBROKER\tLAST ERROR")
	for _, d := range devs {
		status := d.Status
		if status == "" {
			status = "unknown"
		}
		if d.Info == nil {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\n", d.DeviceID, status)
			continue
		}
		i := d.Info
		broker := i.Broker
		if !d.Online() || broker == "" {
			broker = "-"
		}
		last := "-"
		if i.LastError != nil {
			last = fmt.Sprintf("%s %s: %s", i.LastError.TS, i.LastError.JobID, oneLine(i.LastError.Error, 60))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", d.DeviceID, status, i.Version, i.Clock, i.Jobs,
			i.Outbox.Queued, i.Outbox.Dropped, broker, last)
	}
	tw.Flush()
}

// ctlGroup sends req to a group and prints one line (or JSON object) per
// device; it fails unless every member accepted.
func (m *Main) ctlGroup(ctx context.Context, cfg mqtt.Config, group string, req mqtt.Request, o mqtt.GroupOptions, asJSON bool) error {
	replies, err := mqtt.SendGroup(ctx, cfg, group, req, o)
	if replies == nil {
		return err
	}
	if asJSON {
		if werr := writeJSON(m.Stdout, replies); werr != nil {
			return werr
		}
	} else {
		tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		for _, g := range replies {
			fmt.Fprintf(tw, "%s\t%s\n", g.DeviceID, groupLine(g))
		}
		tw.Flush()
	}
	counts := map[string]int{}
	for _, g := range replies {
		counts[g.Outcome]++
	}
	fmt.Fprintf(m.Stderr, "group %s: %d accepted, %d rejected, %d no answer\n", group,
		counts[mqtt.OutcomeAccepted], counts[mqtt.OutcomeRejected], counts[mqtt.OutcomeNoAnswer])
	return err
}

// groupLine says what one device did: accepted (ok) in 12ms; rejected
// (not_found): job "pump" not found; no answer (offline).
func groupLine(g mqtt.GroupReply) string {
	var s string
	switch g.Outcome {
	case mqtt.OutcomeAccepted:
		s = fmt.Sprintf("accepted (%s) in %s", g.Reply.Code, g.Latency.Round(time.Millisecond))
	case mqtt.OutcomeRejected:
		s = fmt.Sprintf("rejected (%s): %s", g.Reply.Code, oneLine(g.Reply.Error, 100))
	default:
		switch g.Status {
		case "online":
			s = "no answer (online, silent)"
		case "offline":
			s = "no answer (offline)"
		default:
			s = "no answer (status unknown)"
		}
	}
	if !g.Member {
		s += "; not in the roster"
	}
	return s
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}
