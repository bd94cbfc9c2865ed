package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/edgecron/edgecron/sched"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks bad input or usage: exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCode maps an error to the agent's exit code.
func exitCode(err error) int {
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.Is(err, flag.ErrHelp):
		return exitUsage
	case sched.ErrorCode(err) == sched.CodeBadRequest, sched.ErrorCode(err) == sched.CodeNotFound:
		return exitUsage
	}
	return exitFailure
}

// Main is the agent as a value: end-to-end tests run it in-process.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// NewMain returns a Main on the given streams.
func NewMain(stdin io.Reader, stdout, stderr io.Writer) *Main {
	return &Main{Stdin: stdin, Stdout: stdout, Stderr: stderr}
}

type subcommand struct {
	summary string
	run     func(m *Main, ctx context.Context, args []string) error
}

// commands is filled by the cmd_*.go files' init functions (registration
// of a name only).
var commands = map[string]subcommand{}

func register(name, summary string, run func(m *Main, ctx context.Context, args []string) error) {
	if _, dup := commands[name]; dup {
		panic("agent: command registered twice: " + name)
	}
	commands[name] = subcommand{summary: summary, run: run}
}

// Run executes one command line and returns the exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		m.usage()
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(m.Stderr, "agent: unknown command %q\n\n", args[0])
		m.usage()
		return exitUsage
	}
	err := c.run(m, ctx, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "agent %s: %v\n", args[0], err)
	}
	return exitCode(err)
}

func (m *Main) usage() {
	var b strings.Builder
	b.WriteString("usage: agent <command> [flags]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-13s %s\n", n, commands[n].summary)
	}
	b.WriteString("\nRun 'agent <command> --help' for a command's flags.\n")
	io.WriteString(m.Stderr, b.String())
}

// newFlags returns a FlagSet that reports errors to m.Stderr and returns
// them (never exits).
func (m *Main) newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "usage: agent %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns a flag error into a usage error.
// Flags may follow positional arguments (agent jobs get ID --db x).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func init() {
	register("version", "print the agent's version", func(m *Main, _ context.Context, args []string) error {
		fs := m.newFlags("version", "version")
		if _, err := parseFlags(fs, args); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "edgecron agent %s\n", version)
		return nil
	})
}
