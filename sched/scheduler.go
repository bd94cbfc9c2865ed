package sched

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

var errNotImplemented = errors.New("sched: not implemented yet")

// Options configure a Scheduler. Zero values take the documented defaults.
type Options struct {
	Clock              Clock          // default NewSystemClock()
	Location           *time.Location // zone of triggers without one; default time.Local
	Workers            int            // runs at once across all jobs; default 10
	JobDefaults        Defaults       // applied to fields a new job leaves out
	CheckpointInterval time.Duration  // run-state group commit; default 60s
	MaxWait            time.Duration  // longest single timer wait; default 1m
	Logger             *slog.Logger   // default slog.Default()
	// Liveness, when set, is called from the scheduling loop at least every
	// MaxWait while the loop is healthy (the systemd watchdog feeds on it).
	Liveness func()
}

// OpOptions say who asks for a change and on which version.
type OpOptions struct {
	// Source is who asks: SourceConfig, SourceMQTT or SourceCLI. A change
	// asked over MQTT to a job of source config is refused with
	// CodeConflict unless the job has Remote set.
	Source string
	// ExpectedVersion, when non-zero, must equal the job's version or the
	// change is refused with CodeVersionConflict.
	ExpectedVersion int64
}

// AddOptions are OpOptions for Add.
type AddOptions struct {
	OpOptions
	ReplaceExisting bool
}

// Scheduler fires jobs on their triggers and runs them through Handlers.
type Scheduler struct {
	store Store
	opts  Options
}

// New returns a Scheduler over store. Register handlers, then Load or Start.
func New(store Store, opts Options) *Scheduler { return &Scheduler{store: store, opts: opts} }

// Handle registers the Handler for an action type. Registering a type twice
// is an error. Call before Load.
func (s *Scheduler) Handle(actionType string, h Handler, o HandlerOptions) error {
	return errNotImplemented
}

// Listen adds a listener for events; cancel removes it.
func (s *Scheduler) Listen(l Listener) (cancel func()) { return func() {} }

// Load reads the jobs from the store, validates each against its handler
// (an invalid one is kept, paused, with last_result "invalid: <why>") and
// makes the job operations available. It does not fire anything: a CLI may
// Load, change jobs and return without ever calling Start.
func (s *Scheduler) Load(ctx context.Context) error { return errNotImplemented }

// Start loads the jobs if Load was not called, handles the runs that fell
// due while the agent was down by each job's misfire policy, and starts the
// scheduling loop. It returns once the loop runs.
func (s *Scheduler) Start(ctx context.Context) error { return errNotImplemented }

// Shutdown stops the loop, checkpoints run state, and cancels running jobs'
// contexts; with wait it waits (bounded by ctx) for them to return.
func (s *Scheduler) Shutdown(ctx context.Context, wait bool) error { return errNotImplemented }

// Pause stops firing jobs until Resume; due runs are then handled by their
// misfire policy.
func (s *Scheduler) Pause() {}

// Resume undoes Pause.
func (s *Scheduler) Resume() {}

// Add adds a job. Fields p does not set take the scheduler's defaults; an
// empty ID gets a generated one.
func (s *Scheduler) Add(ctx context.Context, p Patch, o AddOptions) (Job, error) {
	return Job{}, errNotImplemented
}

// Modify changes the fields p sets on job id. A changed trigger recomputes
// the next run time.
func (s *Scheduler) Modify(ctx context.Context, id string, p Patch, o OpOptions) (Job, error) {
	return Job{}, errNotImplemented
}

// Reschedule replaces job id's trigger and recomputes its next run time.
func (s *Scheduler) Reschedule(ctx context.Context, id string, t TriggerSpec, o OpOptions) (Job, error) {
	return Job{}, errNotImplemented
}

// PauseJob pauses job id: it keeps its trigger but has no next run time.
func (s *Scheduler) PauseJob(ctx context.Context, id string, o OpOptions) (Job, error) {
	return Job{}, errNotImplemented
}

// ResumeJob resumes job id from now on.
func (s *Scheduler) ResumeJob(ctx context.Context, id string, o OpOptions) (Job, error) {
	return Job{}, errNotImplemented
}

// Remove removes job id and returns it as it was.
func (s *Scheduler) Remove(ctx context.Context, id string, o OpOptions) (Job, error) {
	return Job{}, errNotImplemented
}

// Get returns job id.
func (s *Scheduler) Get(id string) (Job, error) { return Job{}, errNotImplemented }

// List returns every job, ordered by next run time (paused last), then id.
func (s *Scheduler) List() []Job { return nil }

// RunNow submits one run of job id now, outside its schedule; its next run
// time is unchanged.
func (s *Scheduler) RunNow(ctx context.Context, id string, o OpOptions) error {
	return errNotImplemented
}

// Import adds or replaces every job in ps in one all-or-nothing commit.
// Duplicate ids within ps are an error.
func (s *Scheduler) Import(ctx context.Context, ps []Patch, o OpOptions) ([]Job, error) {
	return nil, errNotImplemented
}

// SyncConfig makes the jobs of source config equal ps: the file wins. It
// adds and replaces file jobs, removes file jobs no longer in ps, and never
// touches a job of any other source.
func (s *Scheduler) SyncConfig(ctx context.Context, ps []Patch) error { return errNotImplemented }
