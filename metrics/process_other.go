//go:build !linux

package metrics

// registerOS adds nothing where there is no /proc: the agent runs on Linux.
func (m *Metrics) registerOS() {}
