package command

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// ActionType is the action type this package handles.
const ActionType = "exec"

// Params are the fields of an exec action: {"type":"exec","command":"backup",
// "args":["full"]}.
type Params struct {
	Command string   `json:"command"`
	Args    []string `json:"args,omitempty"`
}

// Options tune a Handler. Zero values take the documented defaults.
type Options struct {
	// MaxProcs bounds the command processes alive at once, across all
	// commands and jobs; a run waits for a free slot. Default: the number of
	// CPUs.
	MaxProcs int
	// KillGrace is the default time between SIGTERM and SIGKILL (a command
	// may set its own kill_grace). Default DefaultKillGrace.
	KillGrace time.Duration
	// Clock times timeouts and grace periods. Default sched.NewSystemClock().
	Clock  sched.Clock
	Logger *slog.Logger
}

// Handler is the sched.Handler of the "exec" action.
type Handler struct {
	mu   sync.RWMutex
	cmds map[string]*spec

	slots   chan struct{}
	grace   time.Duration
	clock   sched.Clock
	log     *slog.Logger
	baseEnv map[string]string

	onQueued func() // test hook: a run starts waiting for a slot
}

// inheritedEnv are the variables a command inherits from the agent.
var inheritedEnv = []string{"HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ"}

// NewHandler validates cfg and returns its handler.
func NewHandler(cfg Config, o Options) (*Handler, error) {
	if o.MaxProcs <= 0 {
		o.MaxProcs = runtime.NumCPU()
	}
	if o.KillGrace <= 0 {
		o.KillGrace = DefaultKillGrace
	}
	if o.Clock == nil {
		o.Clock = sched.NewSystemClock()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	h := &Handler{
		slots:   make(chan struct{}, o.MaxProcs),
		grace:   o.KillGrace,
		clock:   o.Clock,
		log:     o.Logger.With("component", "command"),
		baseEnv: map[string]string{"PATH": DefaultPath},
	}
	for _, k := range inheritedEnv {
		if v, ok := os.LookupEnv(k); ok {
			h.baseEnv[k] = v
		}
	}
	if err := h.Update(cfg); err != nil {
		return nil, err
	}
	return h, nil
}

// MaxProcs returns the process limit in effect (Options.MaxProcs or its
// default). Register the handler with sched.HandlerOptions{Workers:
// h.MaxProcs()} so that a run waiting for a process slot waits in the
// scheduler instead of holding one of its shared workers.
func (h *Handler) MaxProcs() int { return cap(h.slots) }

// Update replaces the declared commands (config reload). Runs in progress
// keep the declaration they started with. On error nothing changes.
func (h *Handler) Update(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cmds := make(map[string]*spec, len(cfg))
	for name, s := range cfg {
		sp, _ := compile(name, s) // validated above
		cmds[name] = sp
		if _, err := os.Stat(s.Argv[0]); err != nil {
			h.log.Warn("declared command's program is missing; its runs will fail",
				"command", name, "err", err)
		}
	}
	h.mu.Lock()
	h.cmds = cmds
	h.mu.Unlock()
	return nil
}

// Validate checks an exec action: the command is declared, and its extra
// arguments are allowed by the declaration.
func (h *Handler) Validate(a sched.Action) error {
	_, _, err := h.resolve(a)
	return err
}

func (h *Handler) resolve(a sched.Action) (*spec, Params, error) {
	var p Params
	if err := a.Decode(&p); err != nil {
		return nil, p, err
	}
	if p.Command == "" {
		return nil, p, sched.FieldError("action.command", "is required: the name of a command declared under commands:")
	}
	h.mu.RLock()
	sp, ok := h.cmds[p.Command]
	h.mu.RUnlock()
	if !ok {
		return nil, p, sched.FieldError("action.command", "command %q is not declared under commands:", p.Command)
	}
	if err := sp.checkArgs(p.Args); err != nil {
		return nil, p, err
	}
	return sp, p, nil
}

func (sp *spec) checkArgs(args []string) error {
	switch {
	case len(args) > 0 && len(sp.args) == 0:
		return sched.FieldError("action.args", "command %q takes no extra arguments (its declaration has no args:)", sp.name)
	case len(args) > len(sp.args):
		return sched.FieldError("action.args", "command %q takes at most %d extra arguments, got %d", sp.name, len(sp.args), len(args))
	case len(args) < sp.MinArgs:
		return sched.FieldError("action.args", "command %q needs at least %d extra arguments, got %d", sp.name, sp.MinArgs, len(args))
	}
	for i, arg := range args {
		field := fmt.Sprintf("action.args[%d]", i)
		if strings.ContainsRune(arg, 0) {
			return sched.FieldError(field, "must not contain a NUL byte")
		}
		if !sp.args[i].MatchString(arg) {
			return sched.FieldError(field, "%q is not allowed: commands.%s.args[%d] is %q", arg, sp.name, i, sp.Args[i])
		}
	}
	return nil
}

// Run runs the job's command once: it waits for a process slot, starts the
// process in its own group and waits for it, killing the group at the
// command's timeout or when ctx is cancelled. The Result carries exit_code,
// duration_ms and the stdout/stderr tails (docs/commands.md).
func (h *Handler) Run(ctx context.Context, r sched.Run) (sched.Result, error) {
	sp, p, err := h.resolve(r.Job.Action)
	if err != nil {
		return nil, err
	}
	res := sched.Result{"command": sp.name}
	if len(p.Args) > 0 {
		res["args"] = p.Args
	}
	select {
	case h.slots <- struct{}{}:
	default:
		if h.onQueued != nil {
			h.onQueued()
		}
		h.log.Debug("waiting for a process slot", "job", r.Job.ID, "command", sp.name, "max_procs", cap(h.slots))
		select {
		case h.slots <- struct{}{}:
		case <-ctx.Done():
			return res, fmt.Errorf("command %q not started: %w while it waited for one of the %d process slots", sp.name, ctx.Err(), cap(h.slots))
		}
	}
	defer func() { <-h.slots }()
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("command %q not started: %w", sp.name, err)
	}
	return h.run(ctx, sp, p.Args, h.env(sp, r), res)
}

// env builds a run's environment: PATH and a few inherited variables, the
// declaration's env, then EDGECRON_* describing the run.
func (h *Handler) env(sp *spec, r sched.Run) []string {
	m := make(map[string]string, len(h.baseEnv)+len(sp.Env)+3)
	for k, v := range h.baseEnv {
		m[k] = v
	}
	for k, v := range sp.Env {
		m[k] = v
	}
	m["EDGECRON_COMMAND"] = sp.name
	m["EDGECRON_JOB_ID"] = r.Job.ID
	if !r.ScheduledTime.IsZero() {
		m["EDGECRON_SCHEDULED_TIME"] = r.ScheduledTime.Format(time.RFC3339)
	}
	env := make([]string, 0, len(m))
	for k, v := range m {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

// lastLine returns the last non-empty line of s, shortened for a message.
func lastLine(s string) string {
	s = strings.TrimRight(s, " \t\r\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
