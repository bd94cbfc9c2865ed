package actuators

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// ActuateParams are the parameters of an actuate action:
// {"type":"actuate","actuator":"pump","command":"pulse","duration":"30s"}.
type ActuateParams struct {
	Actuator string   `json:"actuator"`
	Command  string   `json:"command"`
	Value    *float64 `json:"value,omitempty"`
	Duration string   `json:"duration,omitempty"`
}

// Handler is the sched.Handler of "actuate" actions.
type Handler struct {
	set *Set
	log *slog.Logger
}

// NewHandler returns the actuate handler over set.
func NewHandler(set *Set, logger *slog.Logger) *Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return &Handler{set: set, log: logger}
}

// actionError renames a command error's field to the action's
// ("duration" -> "action.duration").
func actionError(err error) error {
	var se *sched.Error
	if errors.As(err, &se) {
		out := *se
		switch {
		case se.Field == "":
			out.Field = "action"
		case !strings.HasPrefix(se.Field, "action."):
			out.Field = "action." + se.Field
		}
		if se.Code == sched.CodeNotFound {
			out.Code = sched.CodeBadRequest // a job naming an unknown actuator is bad input
		}
		return &out
	}
	return err
}

func (h *Handler) params(a sched.Action) (string, Command, error) {
	var p ActuateParams
	if err := a.Decode(&p); err != nil {
		return "", Command{}, err
	}
	if p.Actuator == "" {
		return "", Command{}, sched.FieldError("action.actuator", "is required")
	}
	if p.Command == "" {
		return "", Command{}, sched.FieldError("action.command", "is required (on, off, toggle, set or pulse)")
	}
	c := Command{Name: p.Command}
	if p.Value != nil {
		c.Value = *p.Value
	} else if p.Command == SetTo {
		return "", Command{}, sched.FieldError("action.value", "is required with set (0..1)")
	}
	if p.Duration != "" {
		d, err := time.ParseDuration(p.Duration)
		if err != nil {
			return "", Command{}, sched.FieldError("action.duration", "%q is not a Go duration like 30s or 10m", p.Duration)
		}
		if d <= 0 {
			return "", Command{}, sched.FieldError("action.duration", "must be positive")
		}
		c.Duration = d
	} else if p.Command == Pulse {
		return "", Command{}, sched.FieldError("action.duration", "is required with pulse (e.g. \"30s\")")
	}
	if err := h.set.Check(p.Actuator, c); err != nil {
		if errors.Is(err, ErrUnknown) {
			return "", Command{}, sched.FieldError("action.actuator", "no actuator %q in the config (configured: %v)", p.Actuator, h.set.Names())
		}
		return "", Command{}, actionError(err)
	}
	return p.Actuator, c, nil
}

// report puts an output's state in a run's result: ON or OFF, and for an
// output that takes set, its value.
func report(res sched.Result, s State) {
	res["state"] = string(State{On: s.On}.Payload())
	if s.PWM {
		res["value"] = s.Value
	} else {
		delete(res, "value")
	}
}

// Validate checks that the actuator exists and can take the command
// (a pulse beyond max_on is refused here, code unsafe).
func (h *Handler) Validate(a sched.Action) error {
	_, _, err := h.params(a)
	return err
}

// Run applies the command. A pulse runs until it ends: if ctx ends first
// (the job's timeout, or the agent stopping) the pulse is cut short and
// the output turned off — safety wins over completion.
func (h *Handler) Run(ctx context.Context, r sched.Run) (sched.Result, error) {
	name, cmd, err := h.params(r.Job.Action)
	if err != nil {
		return nil, err
	}
	st, p, err := h.set.apply(name, cmd)
	if err != nil {
		return nil, actionError(err)
	}
	res := sched.Result{"actuator": name}
	report(res, st)
	if p == nil {
		return res, nil
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		if h.set.cutPulse(name, p) {
			report(res, State{PWM: st.PWM})
			res["cut_short"] = true
			return res, fmt.Errorf("pulse of %s on %s cut short: %w", cmd.Duration, name, context.Cause(ctx))
		}
		<-p.done // something else ended it just before: report that
	}
	end := State{PWM: st.PWM}
	if s, ok := h.set.State(name); ok {
		end = s
	}
	report(res, end) // the state after the pulse: the value too, not the one at its start
	if p.endedBy != "" {
		// Another command (or max_on, a broker loss, the stop) ended it
		// early: the job did not do what it asked.
		res["cut_short"] = true
		res["ran_ms"] = p.ran.Milliseconds()
		return res, fmt.Errorf("pulse of %s on %s cut short after %s by %s", cmd.Duration, name, p.ran.Round(time.Millisecond), p.endedBy)
	}
	return res, nil
}
