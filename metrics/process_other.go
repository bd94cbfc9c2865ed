//go:build !linux

package metrics

// Where there is no /proc (the agent runs on Linux), the Go runtime's
// series only.
func (p *process) registerOS(*set) {}
func (p *process) scrapeOS()       {}
