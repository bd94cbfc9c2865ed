package command

import "errors"

// Sentinels for errors.Is.
var (
	// ErrTimeout: the run reached its command's timeout and was killed.
	ErrTimeout = errors.New("command: timed out")
	// ErrUnsupported: this platform cannot run exec actions (Linux only).
	ErrUnsupported = errors.New("command: exec actions need Linux")
)

// ExitError is the error of a run whose process started but did not succeed:
// a non-zero exit, a signal, a timeout or a cancellation. Its message says
// which; errors.Is matches ErrTimeout for a timeout and context.Canceled (or
// DeadlineExceeded) for a run stopped by its context.
type ExitError struct {
	Command string
	// ExitCode is the process's exit code, -1 when a signal ended it.
	ExitCode int
	// Signal names the signal that ended the process ("SIGKILL"), if any.
	Signal string
	msg    string
	err    error
}

func (e *ExitError) Error() string { return e.msg }
func (e *ExitError) Unwrap() error { return e.err }
