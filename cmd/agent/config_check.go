package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/internal/lazyre"
	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/sched"
)

// Overrides are the command line's flags that replace a key of the config
// file. They are applied after decoding and before the checks, so that a
// value from a flag is checked exactly as the same value in the file.
type Overrides struct {
	Broker   string // mqtt.broker; "off" runs without MQTT
	DeviceID string // device_id
	Store    string // store.path
	Socket   string // control.socket
	Hardware string // "sim": hardware.board sim
	Clock    string // clock.source
}

// overrideSet remembers which key each flag replaced, so that a problem
// with it names the flag rather than a line of the file.
type overrideSet map[string]string // key path -> flag

func (ov Overrides) apply(c *Config) overrideSet {
	set := overrideSet{}
	str := func(v string, dst *string, key, flag string) {
		if v != "" {
			*dst = v
			set[key] = flag
		}
	}
	if ov.Broker == "off" {
		c.MQTT = mqtt.Config{}
		set["mqtt"] = "--broker off"
	} else {
		str(ov.Broker, &c.MQTT.Broker, "mqtt.broker", "--broker")
		if ov.Broker != "" {
			c.MQTT.Brokers = nil // --broker replaces the list
		}
	}
	str(ov.DeviceID, &c.DeviceID, "device_id", "--device-id")
	str(ov.Store, &c.Store.Path, "store.path", "--db")
	str(ov.Socket, &c.Control.Socket, "control.socket", "--socket")
	str(ov.Hardware, &c.Hardware.Board, "hardware.board", "--hardware")
	str(ov.Clock, &c.Clock.Source, "clock.source", "--clock")
	return set
}

// blame points a problem with an overridden key at its flag.
func (set overrideSet) blame(p Problem) Problem {
	for key, flag := range set {
		if p.Path == key || strings.HasPrefix(p.Path, key+".") {
			p.Line = 0
			p.Msg += " (from " + flag + ")"
			return p
		}
	}
	return p
}

// explicitZeros refuses a zero written out for a key whose default is
// not zero: leaving the key out takes the default, and a written 0 would
// otherwise silently mean the same.
func explicitZeros(doc *yaml.Node, decoded []Problem) []Problem {
	var probs []Problem
	for _, z := range []struct{ path, def string }{
		{"store.checkpoint_interval", "60s"},
		{"store.max_size", "64MiB"},
		{"scheduler.workers", "10"},
		{"scheduler.max_processes", "the number of CPUs"},
		{"mqtt.keepalive", "30s"},
		{"mqtt.outbox.max_bytes", "8MiB"},
		{"mqtt.outbox.max_age", "7d"},
		{"mqtt.outbox.flush_interval", "10s"},
		{"http.max_body", "64KiB"},
		{"http.read_header_timeout", "5s"},
		{"http.read_timeout", "10s"},
		{"http.write_timeout", "30s"},
		{"http.idle_timeout", "60s"},
		{"http.max_connections", "32"},
		{"sensors.*.interval", "no periodic read"},
		{"sensors.*.timeout", "10s"},
		{"actuators.*.safety.max_on", "no limit"},
		{"actuators.*.safety.min_switch_interval", "no limit"},
	} {
		for path, v := range valuesAt(doc, "", z.path) {
			if v.Kind != yaml.ScalarNode || !isZero(v.Value) {
				continue
			}
			p := Problem{Path: path, Line: v.Line, Msg: fmt.Sprintf("%s is not allowed: leave the key out for the default (%s)", v.Value, z.def)}
			if !coveredBy(p, decoded) {
				probs = append(probs, p)
			}
		}
	}
	return probs
}

var zeroValue = lazyre.New(`^[+-]?0*(\.0*)?(ns|us|µs|ms|s|m|h|d|B|KB|MB|GB|KiB|MiB|GiB)?$`)

// isZero reports whether a scalar as written is a zero number, duration
// or size ("0", "0s", "0.0", "0MiB").
func isZero(s string) bool {
	s = strings.TrimSpace(s)
	return s != "" && strings.ContainsRune(s, '0') && zeroValue.MatchString(s)
}

// valuesAt returns the value nodes at a dotted path below n, by their
// paths; a "*" element stands for every entry of a list.
func valuesAt(n *yaml.Node, prefix, path string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	part, rest, more := strings.Cut(path, ".")
	visit := func(key string, v *yaml.Node) {
		p := joinPath(prefix, key)
		if !more {
			out[p] = v
			return
		}
		for k, v := range valuesAt(v, p, rest) {
			out[k] = v
		}
	}
	switch {
	case part == "*" && n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			visit(strconv.Itoa(i), c)
		}
	case n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == part {
				visit(part, n.Content[i+1])
			}
		}
	}
	return out
}

var bracketIndex = lazyre.New(`\[(\d+)\]`)

// dottedPath writes a key path in the one notation of docs/config.md:
// list indexes are path elements, "sensors.2.pin" (never "sensors[2].pin").
func dottedPath(p string) string {
	p = bracketIndex.ReplaceAllString(p, ".$1")
	return strings.TrimPrefix(p, ".")
}

var keyIndex = lazyre.New(`([A-Za-z0-9_])\[(\d+)\]`)

// dottedText writes the key paths inside a message in the same notation
// ("the name of sensors[1]" becomes "the name of sensors.1").
func dottedText(s string) string { return keyIndex.ReplaceAllString(s, "$1.$2") }

// dottedErr shows an adapter's error with its key paths in the config's
// notation, keeping it for errors.Is and As.
type dottedErr struct{ err error }

func (e dottedErr) Error() string { return dottedText(e.err.Error()) }
func (e dottedErr) Unwrap() error { return e.err }

var yamlMsgLine = lazyre.New(`^(?:yaml: )?line (\d+): (.*)$`)

// syntaxProblem turns a YAML syntax error into a Problem. The parser
// names the line where the enclosing block or bracket began, which can be
// lines before the fault ("did not find expected key" for a key indented
// one space too little); the line given here is the first line at which
// the file read so far fails with the same message.
func syntaxProblem(data []byte, err error) Problem {
	p := yamlProblem(nil, err)
	m := yamlMsgLine.FindStringSubmatch(err.Error())
	if m == nil {
		return p
	}
	msg := m[2]
	lines := strings.SplitAfter(string(data), "\n")
	if len(lines) > 5000 {
		return p
	}
	for k := p.Line; k <= len(lines); k++ {
		var n yaml.Node
		perr := yaml.Unmarshal([]byte(strings.Join(lines[:k], "")), &n)
		if perr == nil {
			continue
		}
		if pm := yamlMsgLine.FindStringSubmatch(perr.Error()); pm != nil && pm[2] == msg {
			if k > p.Line {
				p.Line = k
			}
			break
		}
	}
	if strings.Contains(msg, "unexpected end of stream") {
		p.Msg += " (a quote or bracket opened above is not closed)"
	}
	return p
}

// socketPathMax is the longest path a Unix socket can bind: sun_path holds
// 108 bytes with the terminating NUL.
const socketPathMax = 107

// validateEnvironment checks what the config names outside itself and
// what the agent will need of it: the files MQTT and the HTTP listener
// read, and a socket path the kernel can bind.
func (c *Config) validateEnvironment(doc *yaml.Node, add func(path, format string, args ...any)) []Problem {
	if n := len(c.Control.Socket); n > socketPathMax {
		add("control.socket", "the path is %d bytes long; a Unix socket path can have at most %d", n, socketPathMax)
	}
	var probs []Problem
	if c.HTTP.Enabled {
		if err := c.HTTP.CheckFiles(); err != nil {
			probs = append(probs, problemsFromErr(doc, "http", err)...)
		}
	}
	if !c.MQTT.Enabled() {
		return probs
	}
	if err := c.MQTT.CheckFiles(); err != nil {
		mp := problemsFromErr(doc, "mqtt", err)
		for i := range mp {
			mp[i].Msg += " (a file of the device: create it, or try the config elsewhere with --broker off)"
		}
		probs = append(probs, mp...)
	}
	return probs
}

// validateActions checks every job's action against the handlers this
// config builds, as the scheduler does when it adds the job: a read of a
// sensor that does not exist, an undeclared command, a bad actuator
// command, a topic outside publish.allow. The hardware is the simulated
// board, so the check needs no pins.
func (c *Config) validateActions(doc *yaml.Node) []Problem {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hs, err := buildHandlers(c, log, handlerDeps{offline: true})
	if err != nil {
		return []Problem{{Msg: err.Error()}}
	}
	defer hs.close()
	byType := map[string]sched.Handler{}
	for _, r := range hs.list {
		byType[r.typ] = r.h
	}
	var probs []Problem
	for _, p := range c.jobs {
		if p.Fields&sched.FieldAction == 0 {
			continue
		}
		path := c.jobPaths[p.Job.ID]
		if err := sched.CheckInputs(hs.inputs, p.Job.Trigger, p.Job.Conditions); err != nil {
			probs = append(probs, schedProblem(doc, path, err))
			continue
		}
		a := p.Job.Action
		h, ok := byType[a.Type]
		if !ok {
			known := make([]string, 0, len(byType))
			for _, r := range hs.list {
				known = append(known, r.typ)
			}
			fp := path + ".action.type"
			probs = append(probs, Problem{Path: fp, Line: lineOf(doc, fp),
				Msg: fmt.Sprintf("unknown action type %q (known: %s)", a.Type, strings.Join(known, ", "))})
			continue
		}
		if err := h.Validate(a); err != nil {
			probs = append(probs, schedProblem(doc, path, actionError(err)))
		}
	}
	return probs
}

// actionError names the field of a handler's validation error below the
// job ("action.sensor"), as the scheduler reports it.
func actionError(err error) error {
	var se *sched.Error
	if errors.As(err, &se) {
		c := *se
		if c.Field == "" {
			c.Field = "action"
		} else if c.Field != "action" && !strings.HasPrefix(c.Field, "action.") {
			c.Field = "action." + c.Field
		}
		return &c
	}
	return &sched.Error{Code: sched.CodeBadRequest, Field: "action", Message: err.Error()}
}
