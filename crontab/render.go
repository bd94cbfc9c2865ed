package crontab

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/command"
)

// WriteYAML writes the config fragment for review: a header that lists the
// variables and the lines not converted, with why; then `commands:` and
// `jobs:`, one entry per converted line, each under a comment holding the
// original line.
func (r Result) WriteYAML(w io.Writer) error {
	cmds := &yaml.Node{Kind: yaml.MappingNode}
	jobs := &yaml.Node{Kind: yaml.SequenceNode}
	for _, c := range r.Entries {
		comment := fmt.Sprintf("line %d: %s", c.Line, commentText(c.Text))
		if c.Warning != "" {
			comment += "\nreview: " + commentText(c.Warning)
		}
		key := str(c.Name)
		key.HeadComment = comment
		cmds.Content = append(cmds.Content, key, specNode(c.Command))

		expr := str(c.Expr)
		expr.Style = yaml.DoubleQuotedStyle
		trig := mapping(true, "type", str("cron"), "expr", expr)
		if c.Boot {
			trig = mapping(true, "type", str("boot"))
		}
		if c.Timezone != "" && !c.Boot {
			trig.Content = append(trig.Content, str("timezone"), str(c.Timezone))
		}
		job := mapping(false,
			"id", str(c.Name),
			"name", str(fmt.Sprintf("crontab line %d", c.Line)),
			"trigger", trig,
			"action", mapping(true, "type", str(command.ActionType), "command", str(c.Name)),
		)
		job.HeadComment = comment
		jobs.Content = append(jobs.Content, job)
	}
	if len(cmds.Content) == 0 {
		cmds.Style = yaml.FlowStyle
	}
	if len(jobs.Content) == 0 {
		jobs.Style = yaml.FlowStyle
	}
	doc := mapping(false, "commands", cmds, "jobs", jobs)
	doc.HeadComment = r.header()
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{doc}}); err != nil {
		return fmt.Errorf("write config fragment: %w", err)
	}
	return enc.Close()
}

func (r Result) header() string {
	src := r.Options.Source
	if src == "" {
		src = "a crontab"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "edgecron config fragment converted from %s by `edgecron crontab import`.\n", src)
	fmt.Fprintf(&b, "Converted: %d. Not converted: %d. Review before adding it to the config:\n", len(r.Entries), len(r.Skipped))
	b.WriteString("- each command runs as the agent's user, not as the crontab's owner, through the\n")
	b.WriteString("  crontab's shell with -c, with the default timeout of 1h (add timeout: where needed);\n")
	b.WriteString("- there is no mail: exit code and output tail go into each run's executed/error event;\n")
	b.WriteString("- names and ids come from the commands; rename them freely (keep command: and id: in step).")
	if len(r.Variables) > 0 {
		b.WriteString("\n\nVariables:")
		for _, n := range r.Variables {
			fmt.Fprintf(&b, "\n  line %d: %s\n    %s", n.Line, commentText(n.Text), commentText(n.Reason))
		}
	}
	if len(r.Skipped) > 0 {
		b.WriteString("\n\nNot converted:")
		for _, n := range r.Skipped {
			fmt.Fprintf(&b, "\n  line %d: %s\n    %s", n.Line, commentText(n.Text), commentText(n.Reason))
		}
	}
	return b.String()
}

// commentText makes s safe inside a one-line YAML comment: invalid UTF-8
// and control characters (a stray \r, NUL...) and the line and paragraph
// separators, which YAML counts as line breaks, become U+FFFD.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if r != '\t' && unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, string(utf8.RuneError)))
}

func specNode(s command.Spec) *yaml.Node {
	argv := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, a := range s.Argv {
		n := str(a)
		if strings.ContainsAny(a, " \t") {
			// Quoted, so that editing a shell command cannot split it into
			// two argv elements; the encoder picks double quotes if need be.
			n.Style = yaml.SingleQuotedStyle
		}
		argv.Content = append(argv.Content, n)
	}
	n := mapping(false, "argv", argv)
	if len(s.Env) > 0 {
		keys := make([]string, 0, len(s.Env))
		for k := range s.Env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		env := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range keys {
			env.Content = append(env.Content, str(k), str(s.Env[k]))
		}
		n.Content = append(n.Content, str("env"), env)
	}
	return n
}

// str is a string scalar, quoted by the encoder where YAML needs it.
func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// mapping builds a mapping from key, value pairs.
func mapping(flow bool, kv ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	for i := 0; i < len(kv); i += 2 {
		n.Content = append(n.Content, str(kv[i].(string)), kv[i+1].(*yaml.Node))
	}
	return n
}
