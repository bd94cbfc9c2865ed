package sched

import "time"

// Limits bound what one job may cost the device, whoever asks for it: a
// remote request must not be able to starve the other jobs or fill the
// memory (a 1µs interval, or max_instances 10000 with coalesce off, did).
// They are checked on every add, modify, import and config sync, and at
// Load, where a stored job beyond them is kept paused and invalid, as a job
// whose action no longer validates is.
type Limits struct {
	// MinInterval is the shortest period of an interval trigger.
	MinInterval time.Duration
	// MaxInstances is the largest max_instances a job may ask for.
	MaxInstances int
	// MaxPendingRuns bounds the runs, all jobs together, that wait for a
	// worker. A run that falls due when that many wait is skipped with an
	// error event, and a run-now is refused.
	MaxPendingRuns int
}

// Defaults of Limits (docs/config.md, scheduler section).
const (
	DefaultMinInterval    = time.Second
	DefaultMaxInstances   = 100
	DefaultMaxPendingRuns = 1000
)

// DefaultLimits returns the limits a scheduler has when Options leaves
// them out.
func DefaultLimits() Limits {
	return Limits{MinInterval: DefaultMinInterval, MaxInstances: DefaultMaxInstances, MaxPendingRuns: DefaultMaxPendingRuns}
}

// withDefaults fills the zero fields of l with the defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MinInterval <= 0 {
		l.MinInterval = d.MinInterval
	}
	if l.MaxInstances <= 0 {
		l.MaxInstances = d.MaxInstances
	}
	l.MaxInstances = min(l.MaxInstances, MaxMaxInstances)
	if l.MaxPendingRuns <= 0 {
		l.MaxPendingRuns = d.MaxPendingRuns
	}
	return l
}

// Check returns a bad_request *Error naming the field of j that goes beyond
// l (zero fields of l take the defaults): an interval shorter than
// MinInterval, a max_instances over MaxInstances. It checks nothing else;
// a malformed trigger is Compile's to report.
func (l Limits) Check(j Job) error { return l.check(&j.Trigger, j.MaxInstances) }

// check is Check of a job's trigger spec and max_instances.
func (l Limits) check(spec *TriggerSpec, maxInstances int) error {
	l = l.withDefaults()
	if maxInstances > l.MaxInstances {
		return FieldError("max_instances", "%d is over this device's limit of %d (scheduler.max_instances)", maxInstances, l.MaxInstances)
	}
	if every, field, ok := shortestInterval(spec, "trigger"); ok && every < l.MinInterval {
		return FieldError(field, "the interval is %s: at least %s on this device (scheduler.min_interval)", every, l.MinInterval)
	}
	return nil
}
