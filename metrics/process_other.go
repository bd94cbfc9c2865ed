//go:build !linux

package metrics

import vm "github.com/VictoriaMetrics/metrics"

// Where there is no /proc (the agent runs on Linux), the Go runtime's
// series only.
func (p *process) registerOS(*vm.Set) {}
func (p *process) scrapeOS()          {}
