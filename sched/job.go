package sched

import (
	"regexp"
	"time"
)

// Job sources: who created a job.
const (
	SourceConfig = "config"
	SourceMQTT   = "mqtt"
	SourceCLI    = "cli"
)

// IDPattern is what a job id must match: it becomes an MQTT topic level.
var IDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Job is the job document of docs/jobs.md (CONTRACTS.md §1).
//
// Writable: ID, Name, Trigger, Action, MisfireGraceTime, Coalesce,
// MaxInstances, Paused, Remote. Read-only, produced by the scheduler:
// Version, NextRunTime, LastRunTime, LastResult, Source.
type Job struct {
	ID      string
	Name    string
	Trigger TriggerSpec
	Action  Action
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
