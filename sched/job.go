package sched

import "time"

// Job sources: who created a job.
const (
	SourceConfig = "config"
	SourceMQTT   = "mqtt"
	SourceCLI    = "cli"
	SourceHTTP   = "http"
)

// IDPattern is what a job id must match: it becomes an MQTT topic level.
// Its String is the pattern as a regular expression, for messages. It is
// matched by hand: a compiled regexp would cost every process (each CLI
// command too) its compilation at start, and the store checks the id of
// every record it reads at every start.
var IDPattern idPattern

// idPattern matches ^[A-Za-z0-9_.-]{1,64}$ (FuzzIDPattern compares them).
type idPattern struct{}

func (idPattern) String() string { return `^[A-Za-z0-9_.-]{1,64}$` }

// MatchString reports whether s is 1 to 64 of A-Z a-z 0-9 _ . -
func (idPattern) MatchString(s string) bool { return matchID(s) }

// Match reports whether b is 1 to 64 of A-Z a-z 0-9 _ . -
func (idPattern) Match(b []byte) bool { return matchID(b) }

func matchID[T string | []byte](s T) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// reservedID reports whether id is cmd or res: topic levels of the MQTT
// protocol beside the job documents (<root>/jobs/cmd, <root>/jobs/res). A
// job of that id would have its retained document published on the
// command or reply topic.
func reservedID(id string) bool { return id == "cmd" || id == "res" }

// CheckID returns a bad_request *Error naming "id" when id cannot be a
// job id: it must match IDPattern and not be one of the reserved cmd, res.
func CheckID(id string) error {
	if !IDPattern.MatchString(id) {
		return FieldError("id", "%q must be 1 to 64 of A-Z a-z 0-9 _ . -", id)
	}
	if reservedID(id) {
		return FieldError("id", "%q is reserved (it is an MQTT topic level beside the job documents)", id)
	}
	return nil
}

// Job is the job document of docs/jobs.md (CONTRACTS.md §1).
//
// Writable: ID, Name, Trigger, Conditions, Action, MisfireGraceTime,
// Coalesce, MaxInstances, Paused, Remote. Read-only, produced by the scheduler:
// Version, NextRunTime, LastRunTime, LastResult, Source.
type Job struct {
	ID      string
	Name    string
	Trigger TriggerSpec
	// Conditions must all hold when the job fires, or the run is skipped
	// (docs/automations.md).
	Conditions []Condition
	Action     Action
	// MisfireGraceTime is how late a run may start; nil means no limit.
	MisfireGraceTime *time.Duration
	Coalesce         bool
	MaxInstances     int
	Paused           bool
	// Remote lets a job declared in the config file be modified or removed
	// over MQTT (config key jobs[].remote).
	Remote bool

	Version     int64
	NextRunTime *time.Time
	LastRunTime *time.Time
	LastResult  string
	Source      string
}

// Defaults are the scheduler-wide job defaults (config
// scheduler.job_defaults), applied to fields a new job does not set.
type Defaults struct {
	MisfireGraceTime *time.Duration
	Coalesce         bool
	MaxInstances     int
}
