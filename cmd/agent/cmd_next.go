package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/edgecron/edgecron/sched"
)

func init() {
	register("next", "preview a trigger's next fire times", (*Main).next)
}

const defaultNextCount = 5

func (m *Main) next(_ context.Context, args []string) error {
	fs := m.newFlags("next", "next --trigger JSON|@FILE|- [--from TIME] [--count N] [--config FILE] | --batch FILE")
	trig := fs.String("trigger", "", "the trigger document: JSON, @FILE, or - for standard input")
	from := fs.String("from", "", "start of the preview, RFC3339 (default: now)")
	count := fs.Int("count", defaultNextCount, "how many fire times to print")
	batch := fs.String("batch", "", `a JSON file: [{"trigger":{...},"from":"...","count":N}, ...]`)
	cfgPath := fs.String("config", "", "take the default time zone from this config file (default: the host's zone)")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	env := sched.Env{Location: time.Local}
	if *cfgPath != "" {
		// Only the zone and the location matter here: the mqtt section
		// (whose password and TLS files are the device's) is left out, so
		// that a device's config previews on any machine.
		c, err := LoadConfigWith(*cfgPath, Overrides{Broker: "off"})
		if err != nil {
			return err
		}
		env = c.triggerEnv()
	}
	loc := env.Location
	now := time.Now()
	if *batch != "" {
		if *trig != "" {
			return usagef("--batch and --trigger do not go together")
		}
		data, err := os.ReadFile(*batch)
		if err != nil {
			return usageError{err}
		}
		out, err := previewBatch(data, env, now)
		if err != nil {
			return err
		}
		_, err = m.Stdout.Write(out)
		return err
	}
	if *trig == "" {
		return usagef("--trigger is required (or --batch)")
	}
	if *count < 1 || *count > 10000 {
		return usagef("--count %d is out of range 1..10000", *count)
	}
	data, err := m.readArg(*trig)
	if err != nil {
		return usageError{err}
	}
	spec, err := decodeTrigger(data)
	if err != nil {
		return err
	}
	start := now
	if *from != "" {
		if start, err = sched.ParseTime(*from, loc); err != nil {
			return usagef("--from: %v", err)
		}
	}
	times, err := sched.Preview(spec, bootAt(env, start), start, *count)
	if sensor, _, ok := spec.ReadingSensor(); ok && err == nil {
		// No fire times to preview: say what fires it (docs/automations.md).
		fmt.Fprintf(m.Stdout, "fires on readings of %s\n", sensor)
		return nil
	}
	tloc, _ := spec.Location(loc)
	for _, t := range times {
		fmt.Fprintln(m.Stdout, sched.FormatTime(t.In(tloc)))
	}
	return err
}

// readArg reads an argument given as inline text, @FILE or - (stdin).
func (m *Main) readArg(v string) ([]byte, error) {
	switch {
	case v == "-":
		return io.ReadAll(m.Stdin)
	case strings.HasPrefix(v, "@"):
		return os.ReadFile(v[1:])
	}
	return []byte(v), nil
}

// decodeTrigger decodes a trigger document; errors name the field.
func decodeTrigger(data []byte) (sched.TriggerSpec, error) {
	var spec sched.TriggerSpec
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&spec); err != nil {
		var se *sched.Error
		if errors.As(err, &se) {
			return spec, err
		}
		return spec, sched.FieldError("trigger", "not a JSON trigger document: %v", err)
	}
	if dec.More() {
		return spec, sched.FieldError("trigger", "unexpected data after the trigger document")
	}
	return spec, nil
}

type batchItem struct {
	Trigger json.RawMessage `json:"trigger"`
	From    string          `json:"from"`
	Count   *int            `json:"count"`
}

type batchResult struct {
	Next  []string `json:"next"`
	Error string   `json:"error"`
}

// previewBatch answers a --batch file: one result per item, in order; a bad
// item gets an empty next and an error, the others are unaffected.
func previewBatch(data []byte, env sched.Env, now time.Time) ([]byte, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, usagef("batch: not a JSON array of items: %v", err)
	}
	results := make([]batchResult, len(items))
	for i, raw := range items {
		next, err := previewItem(raw, env, now)
		results[i] = batchResult{Next: next, Error: ""}
		if err != nil {
			results[i] = batchResult{Next: []string{}, Error: err.Error()}
		}
	}
	out, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func previewItem(raw json.RawMessage, env sched.Env, now time.Time) ([]string, error) {
	loc := env.Location
	var it batchItem
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&it); err != nil {
		return nil, fmt.Errorf("item: %v", err)
	}
	if len(it.Trigger) == 0 {
		return nil, errors.New("trigger: is required")
	}
	spec, err := decodeTrigger(it.Trigger)
	if err != nil {
		return nil, err
	}
	count := defaultNextCount
	if it.Count != nil {
		count = *it.Count
	}
	if count < 1 || count > 10000 {
		return nil, fmt.Errorf("count: %d is out of range 1..10000", count)
	}
	start := now
	if it.From != "" {
		if start, err = sched.ParseTime(it.From, loc); err != nil {
			return nil, fmt.Errorf("from: %v", err)
		}
	}
	times, err := sched.Preview(spec, bootAt(env, start), start, count)
	if err != nil {
		return nil, err
	}
	tloc, _ := spec.Location(loc)
	out := make([]string, len(times))
	for i, t := range times {
		out[i] = sched.FormatTime(t.In(tloc))
	}
	return out, nil
}

// bootAt is env for a preview: a boot trigger previews as if the machine
// had booted, and the agent started, at from.
func bootAt(env sched.Env, from time.Time) sched.Env {
	env.Boot = sched.Boot{ID: "edgecron next", At: from}
	return env
}
