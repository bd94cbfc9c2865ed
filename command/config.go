package command

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/edgecron/edgecron/internal/lazyre"
	"github.com/edgecron/edgecron/internal/units"
	"github.com/edgecron/edgecron/sched"
)

// Defaults and limits of a command declaration.
const (
	DefaultTimeout   = time.Hour
	DefaultMaxOutput = 8 << 10 // bytes kept of each of stdout and stderr
	MaxMaxOutput     = 1 << 20
	DefaultKillGrace = 5 * time.Second
	// DefaultPath is the PATH of a command whose env does not set one.
	DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// NamePattern is what a command name must match (the same rule as a job id).
var NamePattern = sched.IDPattern

var envNamePattern = lazyre.New(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Spec declares one command (config `commands.<name>`).
type Spec struct {
	// Argv is the program (an absolute path) and its fixed arguments. It is
	// run directly, not through a shell.
	Argv []string `yaml:"argv"`
	// Dir is the working directory (absolute); empty means the agent's.
	Dir string `yaml:"dir,omitempty"`
	// Env is added to the command's environment (see docs/commands.md for
	// the base environment); it may override PATH, HOME and the like.
	Env map[string]string `yaml:"env,omitempty"`
	// Timeout bounds one run; 0 means DefaultTimeout.
	Timeout units.Duration `yaml:"timeout,omitempty"`
	// KillGrace is how long the process group has between SIGTERM and
	// SIGKILL; 0 means the handler's Options.KillGrace.
	KillGrace units.Duration `yaml:"kill_grace,omitempty"`
	// MaxOutput is how many bytes of the end of stdout, and as many of
	// stderr, a run reports; 0 means DefaultMaxOutput.
	MaxOutput units.Bytes `yaml:"max_output,omitempty"`
	// Args are the extra arguments a job may append to Argv: one regular
	// expression per position, each matched against the whole argument.
	// Without Args a job can add no arguments.
	Args []string `yaml:"args,omitempty"`
	// MinArgs is how many extra arguments a job must give (at most len(Args)).
	MinArgs int `yaml:"min_args,omitempty"`
}

// Config is the `commands:` section: declared commands by name.
type Config map[string]Spec

// Validate checks every declaration and returns all problems, each naming
// its field ("commands.backup.argv[0]: ...").
func (c Config) Validate() error {
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	sort.Strings(names)
	var errs []error
	for _, n := range names {
		if _, err := compile(n, c[n]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// spec is a validated declaration with its patterns compiled.
type spec struct {
	Spec
	name    string
	args    []*regexp.Regexp
	timeout time.Duration
	maxOut  int
}

func compile(name string, s Spec) (*spec, error) {
	field := "commands." + name
	var errs []error
	bad := func(f, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field+f, fmt.Sprintf(format, a...)))
	}
	if !NamePattern.MatchString(name) {
		bad("", "a command name must match %s", NamePattern)
	}
	switch {
	case len(s.Argv) == 0:
		bad(".argv", "is required: the program and its fixed arguments")
	case !filepath.IsAbs(s.Argv[0]):
		bad(".argv[0]", "must be an absolute path, got %q", s.Argv[0])
	}
	for i, a := range s.Argv {
		if strings.ContainsRune(a, 0) {
			bad(fmt.Sprintf(".argv[%d]", i), "must not contain a NUL byte")
		}
	}
	if s.Dir != "" && !filepath.IsAbs(s.Dir) {
		bad(".dir", "must be an absolute path, got %q", s.Dir)
	}
	envNames := make([]string, 0, len(s.Env))
	for k := range s.Env {
		envNames = append(envNames, k)
	}
	sort.Strings(envNames)
	for _, k := range envNames {
		if !envNamePattern.MatchString(k) {
			bad(".env", "%q is not a valid variable name", k)
		} else if strings.ContainsRune(s.Env[k], 0) {
			bad(".env."+k, "must not contain a NUL byte")
		}
	}
	if s.MaxOutput.N() > MaxMaxOutput {
		bad(".max_output", "%s is more than the limit of %s", s.MaxOutput, units.Bytes(MaxMaxOutput))
	}
	sp := &spec{Spec: s, name: name, timeout: s.Timeout.D(), maxOut: int(s.MaxOutput.N())}
	if sp.timeout == 0 {
		sp.timeout = DefaultTimeout
	}
	if sp.maxOut == 0 {
		sp.maxOut = DefaultMaxOutput
	}
	for i, p := range s.Args {
		re, err := regexp.Compile(`^(?:` + p + `)$`)
		if err != nil {
			bad(fmt.Sprintf(".args[%d]", i), "invalid regular expression: %v", err)
			continue
		}
		sp.args = append(sp.args, re)
	}
	if s.MinArgs < 0 || s.MinArgs > len(s.Args) {
		bad(".min_args", "must be between 0 and the number of args patterns (%d), got %d", len(s.Args), s.MinArgs)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return sp, nil
}
