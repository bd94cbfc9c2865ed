package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/command"
	"github.com/edgecron/edgecron/httpapi"
	"github.com/edgecron/edgecron/internal/cfgkey"
	"github.com/edgecron/edgecron/internal/lazyre"
	"github.com/edgecron/edgecron/internal/units"
	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/publish"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sensors"
)

// defaultConfigPath is where `edgecron run` looks without --config.
const defaultConfigPath = "/etc/edgecron/agent.yaml"

// defaultSocketPath is control.socket's default.
const defaultSocketPath = "/run/edgecron/agent.sock"

// Config is the agent's YAML config file (docs/config.md).
type Config struct {
	DeviceID  string             `yaml:"device_id"`
	Groups    []string           `yaml:"groups"`
	Timezone  string             `yaml:"timezone"`
	MQTT      mqtt.Config        `yaml:"mqtt"`
	HTTP      httpapi.Config     `yaml:"http"`
	Store     StoreConfig        `yaml:"store"`
	Hardware  HardwareConfig     `yaml:"hardware"`
	Sensors   []sensors.Config   `yaml:"sensors"`
	Actuators []actuators.Config `yaml:"actuators"`
	Scheduler SchedulerConfig    `yaml:"scheduler"`
	Commands  command.Config     `yaml:"commands"`
	Publish   publish.Config     `yaml:"publish"`
	Jobs      []yaml.Node        `yaml:"jobs"`
	Control   ControlConfig      `yaml:"control"`
	Log       LogConfig          `yaml:"log"`
	Clock     ClockConfig        `yaml:"clock"`
	Location  *LocationConfig    `yaml:"location"`

	// Derived by Load.
	path     string
	location *time.Location
	defaults sched.Defaults
	limits   sched.Limits
	jobs     []sched.Patch
	jobPaths map[string]string // job id -> its key path, "jobs.2"
}

// StoreConfig is the store: section.
type StoreConfig struct {
	Path               string         `yaml:"path"`
	CheckpointInterval units.Duration `yaml:"checkpoint_interval"`
	MaxSize            units.Bytes    `yaml:"max_size"`
}

// HardwareConfig is the hardware: section.
type HardwareConfig struct {
	Board string `yaml:"board"` // sim | auto
}

// SchedulerConfig is the scheduler: section.
type SchedulerConfig struct {
	Workers int `yaml:"workers"`
	// MaxProcesses bounds the exec commands running at once (default: the
	// number of CPUs), apart from Workers, so slow commands cannot starve
	// sensor reads.
	MaxProcesses int       `yaml:"max_processes"`
	Timezone     string    `yaml:"timezone"`
	JobDefaults  yaml.Node `yaml:"job_defaults"`
	// Limits no job may go beyond, whoever asks (docs/config.md).
	MinInterval    units.Duration `yaml:"min_interval"`
	MaxInstances   int            `yaml:"max_instances"`
	MaxPendingRuns int            `yaml:"max_pending_runs"`
}

// ControlConfig is the control: section.
type ControlConfig struct {
	Socket string `yaml:"socket"`
}

// LogConfig is the log: section.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug | info | warn | error
	Format string `yaml:"format"` // text | json
}

// ClockConfig is the clock: section.
type ClockConfig struct {
	// Source says how the agent learns that the wall clock is right:
	// "auto" (NTP sync status), "rtc" (trust it from boot), "ntp".
	Source string `yaml:"source"`
}

// Problem is one thing wrong with a config file: the dotted path of the
// field, the line it is on (0 when unknown) and what is wrong.
type Problem struct {
	Path string
	Line int
	Msg  string
}

func (p Problem) String() string {
	loc := ""
	if p.Line > 0 {
		loc = "line " + strconv.Itoa(p.Line) + ": "
	}
	if p.Path == "" {
		return loc + p.Msg
	}
	return loc + p.Path + ": " + p.Msg
}

// ConfigError lists every problem found in a config file.
type ConfigError struct {
	File     string
	Problems []Problem
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "config %s: %d problem(s)", e.File, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap makes a config error a usage error (exit 2).
func (e *ConfigError) Unwrap() error { return usageError{errors.New("bad config")} }

// LoadConfig reads, decodes and validates the config file at path.
func LoadConfig(path string) (*Config, error) { return LoadConfigWith(path, Overrides{}) }

// LoadConfigWith reads the config file at path, applies the command line's
// overrides and validates the result: the one validation that
// check-config, run and a reload share.
func LoadConfigWith(path string, ov Overrides) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError{fmt.Errorf("read config: %w", err)}
	}
	return ParseConfigWith(path, data, ov)
}

// ParseConfig decodes and validates a config file's bytes. Every problem is
// reported at once, each with its field path and line.
func ParseConfig(path string, data []byte) (*Config, error) {
	return ParseConfigWith(path, data, Overrides{})
}

// ParseConfigWith is ParseConfig with the command line's overrides applied
// before the checks, so that they are checked as the file is.
func ParseConfigWith(path string, data []byte, ov Overrides) (*Config, error) {
	c := &Config{path: path}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, &ConfigError{File: path, Problems: []Problem{syntaxProblem(data, err)}}
	}
	if len(root.Content) == 0 {
		return nil, &ConfigError{File: path, Problems: []Problem{{Line: 1,
			Msg: "the file is empty (or only comments): write at least one key, e.g. device_id: pi-1, or {} to take every default"}}}
	}
	doc := root.Content[0]
	var probs []Problem
	if doc.Kind != yaml.MappingNode {
		return nil, &ConfigError{File: path, Problems: []Problem{{Line: doc.Line, Msg: "the config must be a mapping of keys (device_id:, mqtt:, jobs: ...)"}}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, &ConfigError{File: path, Problems: []Problem{yamlProblem(doc, err)}}
		}
		// Values of the wrong type or unknown keys: the decoder went on
		// with the rest, so the checks below still see everything else.
		for _, e := range te.Errors {
			probs = append(probs, yamlProblem(doc, errors.New(e)))
		}
	}
	decodeProbs := probs
	probs = append(probs, explicitZeros(doc, decodeProbs)...)
	set := ov.apply(c)
	for _, p := range c.validate(doc) {
		if !coveredBy(p, decodeProbs) {
			probs = append(probs, p)
		}
	}
	for i := range probs {
		probs[i].Path = dottedPath(probs[i].Path)
		probs[i].Msg = dottedText(probs[i].Msg)
		probs[i] = set.blame(probs[i])
	}
	// In the file's order; problems without a line last.
	sort.SliceStable(probs, func(i, k int) bool {
		li, lk := probs[i].Line, probs[k].Line
		return li != 0 && (lk == 0 || li < lk)
	})
	if len(probs) > 0 {
		return nil, &ConfigError{File: path, Problems: probs}
	}
	return c, nil
}

// coveredBy reports whether p is about a value one of the decoder's
// problems already names (the value that failed to decode is left zero,
// which the checks may report again in other words).
func coveredBy(p Problem, decoded []Problem) bool {
	for _, d := range decoded {
		switch {
		case p.Line != 0 && p.Line == d.Line:
			return true
		case d.Path == "" || p.Path == "":
		case p.Path == d.Path, strings.HasPrefix(p.Path, d.Path+"."), strings.HasPrefix(d.Path, p.Path+"."):
			return true
		}
	}
	return false
}

var yamlLine = lazyre.New(`^(?:yaml: )?line (\d+)(?: column (\d+))?: (.*)$`)

// yamlProblem turns a decoder error into a Problem, naming the field at its
// line when doc has one there.
func yamlProblem(doc *yaml.Node, err error) Problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		p := Problem{Line: n, Msg: m[3]}
		if doc != nil {
			if up, ok := unknownKeyProblem(doc, n, p.Msg); ok {
				return up
			}
		}
		if doc != nil && !strings.Contains(p.Msg, " not found in type ") {
			if col, _ := strconv.Atoi(m[2]); col > 0 {
				p.Path = pathAtValue(doc, n, col)
			}
			if m := yamlUnmarshal.FindStringSubmatch(p.Msg); m != nil && p.Path == "" {
				p.Path = pathAtTagged(doc, n, m[1], m[2])
			}
			if p.Path == "" {
				p.Path = pathAtLine(doc, "", n)
			}
		}
		p.Msg = typeErrorText(p.Msg)
		return p
	}
	return Problem{Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// yamlUnmarshal matches the decoder's type errors, which name the value's
// tag and, for a scalar, its text, but not its column.
var yamlUnmarshal = lazyre.New("^cannot unmarshal (!![a-z]+)(?: `([^`]*)`)? into ")

// pathAtTagged returns the dotted path of the innermost value on line with
// tag (and, when val is not "", that text), or "".
func pathAtTagged(n *yaml.Node, line int, tag, val string) string {
	return pathWhere(n, "", func(v *yaml.Node) bool {
		return v.Line == line && v.Tag == tag && (val == "" || v.Value == val)
	})
}

// pathAtValue returns the dotted path of the value that starts at line and
// column, or "".
func pathAtValue(n *yaml.Node, line, col int) string {
	return pathWhere(n, "", func(v *yaml.Node) bool { return v.Line == line && v.Column == col })
}

// pathWhere returns the dotted path (below prefix) of the innermost value
// in n for which match is true, or "".
func pathWhere(n *yaml.Node, prefix string, match func(*yaml.Node) bool) string {
	visit := func(key string, v *yaml.Node) string {
		p := joinPath(prefix, key)
		if inner := pathWhere(v, p, match); inner != "" {
			return inner
		}
		if match(v) {
			return p
		}
		return ""
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if p := visit(n.Content[i].Value, n.Content[i+1]); p != "" {
				return p
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p := visit(strconv.Itoa(i), c); p != "" {
				return p
			}
		}
	}
	return ""
}

// joinPath appends key to a dotted path.
func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// pathAtLine returns the dotted path of the first key on the given line.
func pathAtLine(n *yaml.Node, prefix string, line int) string {
	join := func(k string) string { return joinPath(prefix, k) }
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Line == line {
				if v.Line == line && v.Kind != yaml.ScalarNode {
					if p := pathAtLine(v, join(k.Value), line); p != "" {
						return p
					}
				}
				return join(k.Value)
			}
			if p := pathAtLine(v, join(k.Value), line); p != "" {
				return p
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p := pathAtLine(c, join(strconv.Itoa(i)), line); p != "" {
				return p
			}
		}
	}
	return ""
}

// lineOf returns the line of the node at a dotted path below doc ("jobs.2.trigger"),
// or of the deepest node found on the way.
func lineOf(doc *yaml.Node, path string) int {
	n := doc
	if path == "" {
		return n.Line
	}
	for _, part := range strings.Split(path, ".") {
		next := child(n, part)
		if next == nil {
			return n.Line
		}
		n = next
	}
	return n.Line
}

func child(n *yaml.Node, key string) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				// point at the key for scalars, the value for collections
				if n.Content[i+1].Kind == yaml.ScalarNode {
					return n.Content[i]
				}
				return n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i]
		}
	}
	return nil
}

// validate checks every section and fills the derived fields.
func (c *Config) validate(doc *yaml.Node) []Problem {
	var probs []Problem
	add := func(path, format string, args ...any) {
		probs = append(probs, Problem{Path: path, Line: lineOf(doc, path), Msg: fmt.Sprintf(format, args...)})
	}
	// oneOf checks an enumerated key: empty takes def, else one of def and others.
	oneOf := func(path string, v *string, def string, others ...string) {
		if *v == "" {
			*v = def
			return
		}
		allowed := append([]string{def}, others...)
		if !slices.Contains(allowed, *v) {
			add(path, "%q is not allowed: use %s", *v, strings.Join(allowed, ", "))
		}
	}
	if c.DeviceID == "" {
		h, err := os.Hostname()
		if err != nil || !cfgkey.NamePattern.MatchString(h) {
			add("device_id", "not set, and the hostname %q cannot serve as one", h)
		}
		c.DeviceID = h
	} else if !cfgkey.NamePattern.MatchString(c.DeviceID) {
		add("device_id", "%q must match %s (it becomes an MQTT topic level)", c.DeviceID, cfgkey.NamePattern)
	}
	for i, g := range c.Groups {
		if !cfgkey.NamePattern.MatchString(g) {
			add(fmt.Sprintf("groups.%d", i), "%q must match %s", g, cfgkey.NamePattern)
		}
	}

	tz := c.Timezone
	switch {
	case tz != "" && c.Scheduler.Timezone != "" && tz != c.Scheduler.Timezone:
		add("scheduler.timezone", "%q contradicts timezone %q: set one of them", c.Scheduler.Timezone, tz)
	case tz == "":
		tz = c.Scheduler.Timezone
	}
	c.location = time.Local
	if tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			path := "timezone"
			if c.Timezone == "" {
				path = "scheduler.timezone"
			}
			add(path, "unknown time zone %q", tz)
		} else {
			c.location = loc
		}
	}

	if c.Store.Path == "" {
		c.Store.Path = "/var/lib/edgecron/agent.db"
	}
	if c.Store.CheckpointInterval == 0 {
		c.Store.CheckpointInterval = units.Duration(60 * time.Second)
	} else if c.Store.CheckpointInterval.D() < time.Second {
		add("store.checkpoint_interval", "%s is too short (at least 1s; every checkpoint is an fsync on the SD card)", c.Store.CheckpointInterval)
	}
	if c.Store.MaxSize == 0 {
		c.Store.MaxSize = units.Bytes(64 << 20)
	} else if c.Store.MaxSize.N() < 1<<20 {
		add("store.max_size", "%s is too small (at least 1MiB)", c.Store.MaxSize)
	}

	oneOf("hardware.board", &c.Hardware.Board, "auto", "sim")

	if c.Scheduler.Workers == 0 {
		c.Scheduler.Workers = 10
	} else if c.Scheduler.Workers < 0 || c.Scheduler.Workers > 1000 {
		add("scheduler.workers", "%d is out of range 1..1000", c.Scheduler.Workers)
	}
	if c.Scheduler.MaxProcesses == 0 {
		c.Scheduler.MaxProcesses = runtime.NumCPU()
	} else if c.Scheduler.MaxProcesses < 0 || c.Scheduler.MaxProcesses > 256 {
		add("scheduler.max_processes", "%d is out of range 1..256", c.Scheduler.MaxProcesses)
	}
	c.limits = sched.DefaultLimits()
	if d := c.Scheduler.MinInterval; d != 0 {
		if d.D() < time.Millisecond || d.D() > time.Hour {
			add("scheduler.min_interval", "%s is out of range 1ms..1h", d)
		} else {
			c.limits.MinInterval = d.D()
		}
	}
	if n := c.Scheduler.MaxInstances; n != 0 {
		if n < 1 || n > sched.MaxMaxInstances {
			add("scheduler.max_instances", "%d is out of range 1..%d", n, sched.MaxMaxInstances)
		} else {
			c.limits.MaxInstances = n
		}
	}
	if n := c.Scheduler.MaxPendingRuns; n != 0 {
		if n < 1 || n > 100000 {
			add("scheduler.max_pending_runs", "%d is out of range 1..100000", n)
		} else {
			c.limits.MaxPendingRuns = n
		}
	}
	probs = append(probs, c.decodeJobDefaults(doc)...)
	if c.defaults.MaxInstances > c.limits.MaxInstances {
		add("scheduler.job_defaults.max_instances", "%d is over scheduler.max_instances (%d)", c.defaults.MaxInstances, c.limits.MaxInstances)
	}

	if c.Control.Socket == "" {
		c.Control.Socket = defaultSocketPath
	}
	oneOf("log.level", &c.Log.Level, "info", "debug", "warn", "error")
	oneOf("log.format", &c.Log.Format, "text", "json")
	oneOf("clock.source", &c.Clock.Source, "auto", "ntp", "rtc")

	c.MQTT = c.MQTT.WithDefaults()
	if c.MQTT.Enabled() {
		if err := c.MQTT.Validate(); err != nil {
			probs = append(probs, problemsFromErr(doc, "mqtt", err)...)
		}
	}
	if c.HTTP.Enabled {
		c.HTTP = c.HTTP.WithDefaults()
		if err := c.HTTP.Validate(); err != nil {
			probs = append(probs, problemsFromErr(doc, "http", err)...)
		}
	} else if n := child(doc, "http"); n != nil && n.Kind == yaml.MappingNode && len(n.Content) > 0 && child(n, "enabled") == nil {
		add("http", "the listener is off: add enabled: true to turn it on (or enabled: false to keep these settings and stay off)")
	}
	probs = append(probs, c.validateEnvironment(doc, add)...)
	c.checkLocation(add)
	before := len(probs)
	if err := sensors.ValidateAll(c.Sensors); err != nil {
		probs = append(probs, problemsFromErr(doc, "sensors", err)...)
	}
	if err := actuators.ValidateAll(c.Actuators); err != nil {
		probs = append(probs, problemsFromErr(doc, "actuators", err)...)
	}
	if err := c.Commands.Validate(); err != nil {
		probs = append(probs, problemsFromErr(doc, "commands", err)...)
	}
	if err := c.Publish.Validate(); err != nil {
		probs = append(probs, problemsFromErr(doc, "publish", err)...)
	}
	// The handlers a job's action is checked against are built from the
	// sections above: only when they are valid.
	handlersOK := len(probs) == before && c.Scheduler.MaxProcesses > 0

	seen := map[string]int{}
	c.jobPaths = map[string]string{}
	for i := range c.Jobs {
		path := fmt.Sprintf("jobs.%d", i)
		b, err := nodeJSON(&c.Jobs[i])
		if err != nil {
			add(path, "%v", err)
			continue
		}
		p, err := sched.DecodeJob(b, sched.ModeAdd)
		if err != nil {
			probs = append(probs, schedProblem(doc, path, err))
			continue
		}
		if p.Fields&sched.FieldID == 0 {
			add(path, "a job in the config file needs an id, so that the file can update it on the next start")
			continue
		}
		if j, dup := seen[p.Job.ID]; dup {
			add(path+".id", "duplicate job id %q (also jobs.%d)", p.Job.ID, j)
			continue
		}
		seen[p.Job.ID] = i
		c.jobPaths[p.Job.ID] = path
		if p.Fields&sched.FieldTrigger != 0 {
			if _, err := p.Job.Trigger.CompileEnv(c.triggerEnv()); err != nil {
				probs = append(probs, schedProblem(doc, path, err))
				continue
			}
		}
		if err := c.limits.Check(p.Job); err != nil {
			probs = append(probs, schedProblem(doc, path, err))
			continue
		}
		c.jobs = append(c.jobs, p)
	}
	if handlersOK {
		probs = append(probs, c.validateActions(doc)...)
	}
	return probs
}

// decodeJobDefaults reads scheduler.job_defaults, where misfire_grace_time
// is seconds or null (no limit).
func (c *Config) decodeJobDefaults(doc *yaml.Node) []Problem {
	// Defaults for a device that reboots: see docs/jobs.md.
	grace := 300 * time.Second
	c.defaults = sched.Defaults{MisfireGraceTime: &grace, Coalesce: true, MaxInstances: 1}
	n := &c.Scheduler.JobDefaults
	if n.Kind == 0 {
		return nil
	}
	var probs []Problem
	bad := func(key string, node *yaml.Node, format string, args ...any) {
		probs = append(probs, Problem{Path: "scheduler.job_defaults." + key, Line: node.Line, Msg: fmt.Sprintf(format, args...)})
	}
	if n.Kind != yaml.MappingNode {
		return []Problem{{Path: "scheduler.job_defaults", Line: n.Line, Msg: "must be a mapping"}}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		switch k {
		case "misfire_grace_time":
			if v.Tag == "!!null" {
				c.defaults.MisfireGraceTime = nil
				continue
			}
			f, err := strconv.ParseFloat(v.Value, 64)
			if err != nil || (v.Tag != "!!int" && v.Tag != "!!float") || f < 0 || f > 1e9 {
				bad(k, v, "%q must be a number of seconds (>= 0) or null for no limit", v.Value)
				continue
			}
			d := time.Duration(f * float64(time.Second))
			c.defaults.MisfireGraceTime = &d
		case "coalesce":
			var b bool
			if err := v.Decode(&b); err != nil || v.Tag != "!!bool" {
				bad(k, v, "%q must be true or false", v.Value)
				continue
			}
			c.defaults.Coalesce = b
		case "max_instances":
			var m int
			if err := v.Decode(&m); err != nil || m < 1 || m > 1000 {
				bad(k, v, "%q must be a whole number from 1 to 1000", v.Value)
				continue
			}
			c.defaults.MaxInstances = m
		default:
			bad(k, n.Content[i], "unknown key (known: misfire_grace_time, coalesce, max_instances)")
		}
	}
	return probs
}

// nodeJSON turns a YAML node into JSON, keeping scalars as written: an
// unquoted date stays the string the user wrote (not a UTC timestamp), and
// integers in hex or octal become numbers.
func nodeJSON(n *yaml.Node) ([]byte, error) {
	v, err := nodeValue(n)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func nodeValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0])
	case yaml.AliasNode:
		return nodeValue(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a key must be a plain string", k.Line)
			}
			if _, dup := m[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			v, err := nodeValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, err
			}
			return b, nil
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				return nil, fmt.Errorf("line %d: %v", n.Line, err)
			}
			return i, nil
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, fmt.Errorf("line %d: %v", n.Line, err)
			}
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
		}
		return n.Value, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

var errPath = lazyre.New(`^([A-Za-z0-9_.\[\] -]+?): (.*)$`)
var errIndex = lazyre.New(`\[(\d+)\]`)

// problemsFromErr turns a validation error of one of the adapters, one
// problem a line, each "path: message" (path like commands.backup.argv[0]),
// into Problems located in the file. Lines without a path get fallback.
func problemsFromErr(doc *yaml.Node, fallback string, err error) []Problem {
	var probs []Problem
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		p := Problem{Path: fallback, Msg: line}
		if m := errPath.FindStringSubmatch(line); m != nil && strings.HasPrefix(m[1], fallback) {
			p.Path, p.Msg = m[1], m[2]
		}
		p.Line = lineOf(doc, errIndex.ReplaceAllString(p.Path, ".$1"))
		probs = append(probs, p)
	}
	return probs
}

// schedProblem locates an error of the scheduler's decoders for the job at
// path: a *sched.Error names its field (trigger.hour) below the job.
func schedProblem(doc *yaml.Node, path string, err error) Problem {
	var se *sched.Error
	if errors.As(err, &se) && se.Field != "" {
		fp := path + "." + se.Field
		return Problem{Path: fp, Line: lineOf(doc, fp), Msg: se.Message}
	}
	return Problem{Path: path, Line: lineOf(doc, path), Msg: err.Error()}
}
