// Package command runs the local commands an administrator declared in the
// config (`commands:`), as the handler of the "exec" action.
//
// A job only names a declared command ({"type":"exec","command":"backup"})
// and, where the declaration allows it, adds arguments that must match the
// declared patterns. No shell string and no argv ever comes from a job, so a
// job arriving over MQTT can run only what the config file already allows.
//
// Each run is its own process in its own process group. At the command's
// timeout, or when the run's context is cancelled (agent stop), the whole
// group gets SIGTERM and, after a grace period, SIGKILL; when the command's
// main process ends, whatever it left in its group is ended the same way. A
// run reports its exit code, duration and the tails of stdout and stderr. A
// separate limit (Options.MaxProcs) bounds the processes alive at once.
//
// Reading order: config.go (the `commands:` config), handler.go (Validate and
// Run), proc_linux.go (process groups and killing), tail.go (output tails).
package command
