package sched

import (
	"strings"
	"time"
)

// A trigger type is a triggerKind registered in triggerKinds: its name, how
// its document compiles into a Trigger, and the few facts the engine needs
// about it. The engine asks a Trigger for its next time and knows nothing of
// its type beyond these facts; adding a type means adding a file with its
// Trigger and compile function, a line here, and its fields in specFields.
type triggerKind struct {
	name    string
	compile func(s TriggerSpec, env Env, zone *time.Location) (Trigger, error)
	// oneShot: the job is removed, durably, before its run (date).
	oneShot bool
	// elapsed: the trigger counts elapsed time, not the calendar, so its
	// runs go ahead while the wall clock is not yet trusted (interval, boot).
	elapsed bool
	// anchor, when set, is the start_date a job added without one gets:
	// the add time (in the trigger's zone), so the schedule survives
	// restarts (interval, calendarinterval).
	anchor func(now time.Time) string
	// firstAfterAdd: without start_date, the first run is one period after
	// the add, not at it (interval, as APScheduler).
	firstAfterAdd bool
	// beforeRun, when set, returns the trigger spec to commit before a run
	// (and whether it changed): state the trigger keeps in its document
	// (boot: the boot it fired in), durable before the run starts.
	beforeRun func(spec TriggerSpec, env Env) (TriggerSpec, bool)
	// keep, when set, carries that state from a job's old trigger to a
	// new one of the same type (modify, reschedule, replace, config sync).
	keep func(old TriggerSpec, new *TriggerSpec)
	// jitter: the type takes the jitter field.
	jitter bool
	// member: the type may be a member of an and/or trigger.
	member bool
	// ownState: the compiled trigger keeps state of its own besides Next
	// (reading: the rule's state between readings), so jobs with the same
	// spec cannot share one (a Load pass shares the others').
	ownState bool
}

// triggerKinds is the registry, in the order error messages list the types.
// Its index is a kind's number (entry.kind, the bit of a typeMask); append
// only. It is filled by init: the and/or compilers use it themselves.
var triggerKinds []triggerKind

func init() {
	triggerKinds = []triggerKind{
		{name: TriggerDate, compile: compileDate, oneShot: true, member: true},
		{name: TriggerInterval, compile: compileInterval, elapsed: true, anchor: anchorInstant, firstAfterAdd: true, jitter: true, member: true},
		{name: TriggerCron, compile: compileCron, jitter: true, member: true},
		{name: TriggerCalendarInterval, compile: compileCalendarInterval, anchor: anchorDate, jitter: true, member: true},
		{name: TriggerAnd, compile: compileAnd, jitter: true, member: true},
		{name: TriggerOr, compile: compileOr, jitter: true, member: true},
		{name: TriggerSolar, compile: compileSolar, jitter: true, member: true},
		{name: TriggerBoot, compile: compileBoot, elapsed: true, beforeRun: stampBoot, keep: keepBootState},
		{name: TriggerReading, compile: compileReading, elapsed: true, ownState: true},
	}
}

func anchorInstant(now time.Time) string { return now.Format(time.RFC3339Nano) }
func anchorDate(now time.Time) string    { return now.Format(time.DateOnly) }

// kindIndex returns the registry index of the type, or -1.
func kindIndex(typ string) int {
	for i := range triggerKinds {
		if triggerKinds[i].name == typ {
			return i
		}
	}
	return -1
}

// kindNum returns the registry index of the type; an unknown type (a
// stored job the running program cannot compile) counts as cron, a plain
// calendar trigger.
func kindNum(typ string) uint8 {
	if i := kindIndex(typ); i >= 0 {
		return uint8(i)
	}
	return 2 // cron
}

// kindOf returns the kind of the type, as kindNum.
func kindOf(typ string) *triggerKind { return &triggerKinds[kindNum(typ)] }

// typeBit returns the bit of the type in a typeMask, 0 when unknown.
func typeBit(typ string) typeMask {
	if i := kindIndex(typ); i >= 0 {
		return 1 << i
	}
	return 0
}

// typeList is "date, interval, cron, … or boot" for error messages.
func typeList() string {
	var b strings.Builder
	for i := range triggerKinds {
		switch {
		case i == len(triggerKinds)-1:
			b.WriteString(" or ")
		case i > 0:
			b.WriteString(", ")
		}
		b.WriteString(triggerKinds[i].name)
	}
	return b.String()
}

// Env is what a trigger is compiled against besides its document: the
// defaults a document may leave out and the facts of the machine it runs
// on. The scheduler builds it from its Options; `edgecron next` from the
// config.
type Env struct {
	// Location is the zone of a trigger that names none; nil: time.Local.
	Location *time.Location
	// Site is where solar triggers compute the sun when they give no
	// latitude and longitude of their own; nil: none configured.
	Site *Site
	// Boot is the machine's current boot, for boot triggers; the zero
	// Boot: not known (a boot trigger then never fires).
	Boot Boot

	depth int  // and/or triggers around the one being compiled
	inAnd bool // one of them is an and
}

// keepTriggerState carries the state a trigger keeps in its document from
// old to j's trigger when both are of the same type.
func keepTriggerState(old TriggerSpec, j *Job) {
	if k := kindOf(j.Trigger.Type); k.keep != nil && old.Type == j.Trigger.Type {
		k.keep(old, &j.Trigger)
	}
}

// definitionOf returns s without the state the scheduler keeps in it
// (last_boot_id): two triggers with the same definition are the same
// schedule, for the config file's sync.
func definitionOf(s TriggerSpec) TriggerSpec {
	s.LastBootID = ""
	return s
}
