package sched

import "time"

// EventKind names what happened to a job.
type EventKind string

// Event kinds, as published on <root>/events.
const (
	EventAdded        EventKind = "added"
	EventModified     EventKind = "modified"
	EventRemoved      EventKind = "removed"
	EventPaused       EventKind = "paused"
	EventResumed      EventKind = "resumed"
	EventSubmitted    EventKind = "submitted"
	EventExecuted     EventKind = "executed"
	EventError        EventKind = "error"
	EventMissed       EventKind = "missed"
	EventMaxInstances EventKind = "max_instances"
	// EventSkipped: the job fired, a condition failed (Error says which
	// and why), and it did not run; last_run_time is unchanged.
	EventSkipped EventKind = "skipped"
)

// Event is sent to listeners. Job is a snapshot of the job after a change
// of the job (added, modified, paused, resumed; for removed: the job as it
// was), so adapters can publish its state; it is nil on the events of a
// run (submitted, executed, error, missed, max_instances, skipped), which
// are many, and two per run: making each a copy of the job document was
// most of what a listener cost a crowded second (docs/performance.md).
// Action and LastResult, the job's action type and last_result after the
// event, are set on every event; a listener that wants more of the job
// after a run reads it (Get). Job is shared by every listener: read it,
// never write to it.
type Event struct {
	Time          time.Time     `json:"ts"`
	JobID         string        `json:"job_id"`
	Kind          EventKind     `json:"event"`
	ScheduledTime *time.Time    `json:"scheduled_time,omitempty"`
	Duration      time.Duration `json:"-"`
	DurationMS    *int64        `json:"duration_ms,omitempty"`
	Error         string        `json:"error,omitempty"`
	Result        Result        `json:"result,omitempty"`
	Job           *Job          `json:"-"`
	Action        string        `json:"-"`
	LastResult    string        `json:"-"`
}

// change reports whether k is a change of the job, whose event carries a
// snapshot of it.
func (k EventKind) change() bool {
	switch k {
	case EventAdded, EventModified, EventRemoved, EventPaused, EventResumed:
		return true
	}
	return false
}

// Listener receives events, in the order the changes were made. It is
// called from the scheduler's goroutines without its lock held and must not
// block: hand the event to a queue of your own. It may read the scheduler
// (Get, List) but must not change jobs.
type Listener func(Event)
