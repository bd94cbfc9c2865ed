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
		panic(progName + ": command registered twice: " + name)
	}
	commands[name] = subcommand{summary: summary, run: run}
}

// progName is the command's name in help and messages (the installed
// binary).
const progName = "edgecron"

// Run executes one command line and returns the exit code. Help asked for
// (-h, --help, help) goes to standard output with exit 0; a usage error
// goes to standard error with exit 2. --version anywhere before "--"
// prints the version.
func (m *Main) Run(ctx context.Context, args []string) int {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--version" || a == "-version" {
			fmt.Fprintf(m.Stdout, "%s %s\n", progName, version)
			return exitOK
		}
	}
	if len(args) == 0 {
		m.usage(m.Stderr)
		return exitUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help" {
		if len(args) > 1 && args[0] == "help" {
			// help CMD: that command's help.
			return m.Run(ctx, []string{args[1], "--help"})
		}
		m.usage(m.Stdout)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(m.Stderr, "%s: unknown command %q\n\n", progName, args[0])
		m.usage(m.Stderr)
		return exitUsage
	}
	err := c.run(m, ctx, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(m.Stderr, "%s %s: %v\n", progName, args[0], err)
	}
	return exitCode(err)
}

func (m *Main) usage(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s <command> [flags]\n\ncommands:\n", progName)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-13s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(&b, "\nRun '%s <command> --help' for a command's flags; '%s --version' for the version.\n", progName, progName)
	fmt.Fprintf(&b, "Exit codes: 0 success, 1 runtime failure, 2 bad input or usage.\n")
	io.WriteString(w, b.String())
}

// flagOut is a FlagSet's output: what the flag package writes while
// parsing is held until the outcome is known, then goes to standard output
// for help (-h) or to standard error for a usage error; outside parsing
// (an explicit fs.Usage() for a usage error) it goes to standard error.
type flagOut struct {
	stdout, stderr io.Writer
	parsing        bool
	buf            strings.Builder
}

func (o *flagOut) Write(p []byte) (int, error) {
	if o.parsing {
		return o.buf.Write(p)
	}
	return o.stderr.Write(p)
}

// done ends a parse: the held text goes where the outcome says.
func (o *flagOut) done(err error) {
	o.parsing = false
	w := o.stderr
	if errors.Is(err, flag.ErrHelp) {
		w = o.stdout
	}
	io.WriteString(w, o.buf.String())
	o.buf.Reset()
}

// newFlags returns a FlagSet whose help goes to standard output and whose
// errors go to standard error, and that returns its errors (never exits).
func (m *Main) newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(&flagOut{stdout: m.Stdout, stderr: m.Stderr})
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s %s\n", progName, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns a flag error into a usage error.
// Flags may follow positional arguments (edgecron jobs get ID --db x).
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		out, _ := fs.Output().(*flagOut)
		if out != nil {
			out.parsing = true
		}
		err := fs.Parse(args)
		if out != nil {
			out.done(err)
		}
		if err != nil {
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
		fmt.Fprintf(m.Stdout, "%s %s\n", progName, version)
		return nil
	})
}
