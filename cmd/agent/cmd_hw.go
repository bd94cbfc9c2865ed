package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/board"
	"github.com/edgecron/edgecron/control"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sensors"
)

func init() {
	register("reload", "make the running agent re-read its config file and report the outcome", (*Main).reload)
	register("read", "take one reading of a sensor (through the running agent, else from the board)", (*Main).read)
	register("set", "drive one actuator: on, off, toggle, pulse 5s, set 0.4 (through the running agent, else the board)", (*Main).set)
}

// socketFromFile reads control.socket from a config file without
// validating the rest: a reload is how one learns what is wrong with an
// edited file, so the file need not be valid to find the agent. "" when
// the file cannot be read.
func socketFromFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var c struct {
		Control ControlConfig `yaml:"control"`
	}
	if yaml.Unmarshal(data, &c) != nil {
		return ""
	}
	if c.Control.Socket == "" {
		return defaultSocketPath
	}
	return c.Control.Socket
}

// agentSocket returns the control socket the flags name: --socket, else
// the config file's control.socket, else the default.
func (f configFlags) agentSocket() string {
	if f.ov.Socket != "" {
		return f.ov.Socket
	}
	if s := socketFromFile(f.path); s != "" {
		return s
	}
	return defaultSocketPath
}

func (m *Main) reload(ctx context.Context, args []string) error {
	fs := m.newFlags("reload", "reload [--config FILE] [--socket PATH] [--json]")
	var f configFlags
	fs.StringVar(&f.path, "config", defaultConfigPath, "config file (where the agent's control socket is)")
	fs.StringVar(&f.ov.Socket, "socket", "", "control socket (overrides control.socket)")
	asJSON := fs.Bool("json", false, `print {"status":"accepted"|"rejected","problems":[...],"notes":[...]} on standard output`)
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	sock := f.agentSocket()
	cl, err := control.Dial(sock)
	if errors.Is(err, control.ErrNoAgent) {
		return fmt.Errorf("no agent answers on %s (is edgecron running? systemctl status edgecron): %w", sock, err)
	}
	if err != nil {
		return err
	}
	msgs, err := cl.Reload(ctx)
	probs, notes := []string{}, []string{}
	if err != nil {
		probs = append(probs, msgs...)
	} else {
		notes = append(notes, msgs...)
	}
	if *asJSON {
		status := "accepted"
		if err != nil {
			status = "rejected"
		}
		if werr := writeJSON(m.Stdout, map[string]any{"status": status, "problems": probs, "notes": notes}); werr != nil {
			return werr
		}
	} else if err == nil {
		fmt.Fprintln(m.Stdout, "reloaded: the agent runs on the file now")
		for _, n := range notes {
			fmt.Fprintf(m.Stdout, "  note: %s\n", n)
		}
	} else if len(probs) > 0 {
		fmt.Fprintf(m.Stdout, "rejected: %d problem(s)\n", len(probs))
		for _, p := range probs {
			fmt.Fprintf(m.Stdout, "  %s\n", p)
		}
	}
	return err
}

// hwFlags are the flags of read and set: the config as run takes it (for
// the board when no agent runs) and --json.
func (m *Main) hwFlags(name, usage string, args []string) (configFlags, bool, []string, error) {
	fs := m.newFlags(name, usage+" "+configFlagsUsage+" [--json]")
	var f configFlags
	f.register(fs)
	asJSON := fs.Bool("json", false, "print a JSON document on standard output")
	pos, err := parseFlags(fs, args)
	return f, *asJSON, pos, err
}

func (m *Main) read(ctx context.Context, args []string) error {
	f, asJSON, pos, err := m.hwFlags("read", "read SENSOR", args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("read takes one sensor name, got %d argument(s)", len(pos))
	}
	name := pos[0]
	var doc readingJSON
	if cl, err := control.Dial(f.agentSocket()); err == nil {
		raw, err := cl.Read(ctx, name)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("reading from the agent: %w", err)
		}
	} else if !errors.Is(err, control.ErrNoAgent) {
		return err
	} else {
		c, err := f.load()
		if err != nil {
			return err
		}
		clk := sched.NewSystemClock()
		hw, err := board.Open(c.Hardware.Board, board.Options{Clock: clk})
		if err != nil {
			return fmt.Errorf("hardware.board %s: %w", c.Hardware.Board, err)
		}
		defer hw.Close()
		reg, err := sensors.Build(c.Sensors, hw, clk)
		if err != nil {
			return fmt.Errorf("sensors: %w", dottedErr{err})
		}
		defer reg.Close()
		r, err := readSensor(ctx, reg, name)
		if err != nil {
			return err
		}
		doc = readingDoc(r)
	}
	if asJSON {
		return writeJSON(m.Stdout, doc)
	}
	fmt.Fprintln(m.Stdout, formatReading(doc))
	return nil
}

// formatReading writes a reading on one line: "air  temperature=21.4 °C
// humidity=40 %  (2026-11-21T09:00:00.000Z)", values by name.
func formatReading(d readingJSON) string {
	names := make([]string, 0, len(d.Values))
	for n := range d.Values {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(d.Sensor)
	for _, n := range names {
		fmt.Fprintf(&b, "  %s=%s", n, strconv.FormatFloat(d.Values[n], 'g', -1, 64))
		if u := d.Units[n]; u != "" {
			b.WriteString(" " + u)
		}
	}
	fmt.Fprintf(&b, "  (%s)", d.TS)
	return b.String()
}

func (m *Main) set(ctx context.Context, args []string) error {
	f, asJSON, pos, err := m.hwFlags("set", "set ACTUATOR on|off|toggle|pulse DURATION|set VALUE", args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("set takes an actuator and a command (on, off, toggle, pulse 5s, set 0.4)")
	}
	name := pos[0]
	payload, cmd, err := parseSetArgs(pos[1:])
	if err != nil {
		return err
	}
	var doc stateJSON
	if cl, err := control.Dial(f.agentSocket()); err == nil {
		raw, err := cl.Set(ctx, name, payload)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("state from the agent: %w", err)
		}
	} else if !errors.Is(err, control.ErrNoAgent) {
		return err
	} else if doc, err = m.setOffline(ctx, f, name, payload, cmd); err != nil {
		return err
	}
	if asJSON {
		return writeJSON(m.Stdout, doc)
	}
	fmt.Fprintln(m.Stdout, formatState(doc))
	return nil
}

// setOffline drives the output from the board itself, with no agent: the
// outputs are opened as the agent opens them (each in its boot state),
// the command is applied through the safety profile, and the command
// holds it until a pulse ends or, for on, toggle and set, until
// interrupted (Ctrl-C); then every output goes to its shutdown state.
func (m *Main) setOffline(ctx context.Context, f configFlags, name string, payload []byte, cmd actuators.Command) (stateJSON, error) {
	c, err := f.load()
	if err != nil {
		return stateJSON{}, err
	}
	clk := sched.NewSystemClock()
	hw, err := board.Open(c.Hardware.Board, board.Options{Clock: clk})
	if err != nil {
		return stateJSON{}, fmt.Errorf("hardware.board %s: %w", c.Hardware.Board, err)
	}
	defer hw.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	set, err := actuators.Build(c.Actuators, hw, clk, log)
	if err != nil {
		return stateJSON{}, fmt.Errorf("actuators: %w", dottedErr{err})
	}
	defer set.Close()
	st, err := applySet(set, name, payload)
	if err != nil {
		return stateJSON{}, err
	}
	doc := stateDoc(name, st)
	switch cmd.Name {
	case actuators.Off:
	case actuators.Pulse:
		fmt.Fprintf(m.Stderr, "%s: pulse of %s (no agent running: this command holds it)\n", name, cmd.Duration)
		t := clk.NewTimer(cmd.Duration)
		select {
		case <-t.C():
		case <-ctx.Done():
		}
		t.Stop()
		doc.On = false
		if doc.Value != nil {
			*doc.Value = 0
		}
	default:
		fmt.Fprintf(m.Stderr, "%s; no agent is running, so the output holds until you interrupt this command (Ctrl-C), then goes to its shutdown state\n", formatState(doc))
		<-ctx.Done()
	}
	if err := set.Halt(); err != nil {
		return doc, fmt.Errorf("outputs to their shutdown state: %w", err)
	}
	return doc, nil
}

func formatState(d stateJSON) string {
	word := "off"
	if d.On {
		word = "on"
	}
	if d.Value != nil {
		return fmt.Sprintf("%s: %s, value %s", d.Actuator, word, strconv.FormatFloat(*d.Value, 'g', -1, 64))
	}
	return d.Actuator + ": " + word
}

// parseSetArgs turns the command line's words (on | off | toggle |
// pulse DURATION | set VALUE) into the set payload MQTT takes, checked by
// the same parser (actuators.ParseSetPayload).
func parseSetArgs(words []string) ([]byte, actuators.Command, error) {
	doc := map[string]any{}
	verb := strings.ToLower(words[0])
	want := 1
	switch verb {
	case "on", "off", "toggle":
		doc["command"] = verb
	case "pulse":
		want = 2
		if len(words) == 2 {
			doc["command"], doc["duration"] = verb, words[1]
		}
	case "set":
		want = 2
		if len(words) == 2 {
			v, err := strconv.ParseFloat(words[1], 64)
			if err != nil {
				return nil, actuators.Command{}, usagef("set VALUE: %q is not a number (0..1)", words[1])
			}
			doc["command"], doc["value"] = verb, v
		}
	default:
		return nil, actuators.Command{}, usagef("unknown command %q: on, off, toggle, pulse DURATION or set VALUE", words[0])
	}
	if len(words) != want {
		return nil, actuators.Command{}, usagef("%s takes %d word(s) after the actuator, got %d", verb, want, len(words))
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, actuators.Command{}, usageError{err}
	}
	cmd, err := actuators.ParseSetPayload(b)
	if err != nil {
		return nil, actuators.Command{}, err
	}
	return b, cmd, nil
}
