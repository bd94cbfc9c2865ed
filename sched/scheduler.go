package sched

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Scheduler. Zero values take the documented defaults.
type Options struct {
	Clock              Clock          // default NewSystemClock()
	Location           *time.Location // zone of triggers without one; default time.Local
	Workers            int            // runs at once across all jobs; default 10
	JobDefaults        Defaults       // applied to fields a new job leaves out; zero: DefaultJobDefaults()
	Limits             Limits         // what one job may cost; zero fields: DefaultLimits()
	Receipts           ReceiptWindow  // how long request receipts are kept; zero fields: the defaults
	CheckpointInterval time.Duration  // run-state group commit; default 60s
	MaxWait            time.Duration  // longest single timer wait; default 1m
	Logger             *slog.Logger   // default slog.Default()
	// Site is where solar triggers without a latitude and longitude of
	// their own compute the sun (config location); nil: none.
	Site *Site
	// Boot is the machine's current boot (the agent reads the kernel's
	// boot id); boot triggers fire once per boot, their delay counted
	// from Boot.At (default: when New is called). Zero: not known, and
	// boot triggers never fire.
	Boot Boot
	// Inputs, when set, is what conditions ask about outputs, and checks
	// the sensors and outputs that jobs name (docs/automations.md); nil: no
	// names are checked and output conditions fail.
	Inputs Inputs
	// Liveness, when set, is called from the scheduling loop at least every
	// MaxWait while the loop is healthy (the systemd watchdog feeds on it).
	Liveness func()
	// ActionsValidated tells Load that the stored jobs' actions were all
	// validated, and accepted, by handlers that accept exactly what the ones
	// registered now accept (the agent knows it from a stamp its last clean
	// shutdown left in the store: docs/durability.md). Load then checks only
	// that each action's type has a handler, not its Validate. Triggers,
	// limits and inputs are checked as always; Revalidate and every job
	// change validate actions whatever this says. If in doubt, leave it off.
	ActionsValidated bool
}

// Defaults of Options.
const (
	DefaultWorkers            = 10
	DefaultCheckpointInterval = 60 * time.Second
	DefaultMaxWait            = time.Minute
)

// DefaultJobDefaults returns the job defaults for a device that reboots
// (docs/jobs.md says why): a run up to 5 minutes late still runs, a backlog
// runs once, and one instance of a job at a time.
func DefaultJobDefaults() Defaults {
	grace := 300 * time.Second
	return Defaults{MisfireGraceTime: &grace, Coalesce: true, MaxInstances: 1}
}

// OpOptions say who asks for a change and on which version.
type OpOptions struct {
	// Source is who asks: SourceConfig, SourceMQTT, SourceHTTP or
	// SourceCLI. A change asked remotely (over MQTT or HTTP) to a job of
	// source config is refused with CodeConflict unless the job has Remote
	// set.
	Source string
	// ExpectedVersion, when non-zero, must equal the job's version or the
	// change is refused with CodeVersionConflict.
	ExpectedVersion int64
	// RequestID, when set, names the request asking (an MQTT request id):
	// the change, or the start of a run, is committed together with its
	// Receipt, and a request id that already has one is refused with
	// CodeConflict without changing anything. See Scheduler.Receipt.
	// Import does not take it.
	RequestID string
}

// AddOptions are OpOptions for Add.
type AddOptions struct {
	OpOptions
	ReplaceExisting bool
}

// Scheduler fires jobs on their triggers and runs them through Handlers.
//
// Every job change is committed to the Store before it is applied in memory,
// returned or announced to listeners. Run state (next and last run, last
// result) is kept in memory and checkpointed with one SaveRunState every
// CheckpointInterval and at Shutdown.
type Scheduler struct {
	store Store
	opts  Options
	clock Clock
	loc   *time.Location
	log   *slog.Logger

	// mu guards everything below. Store commits are made holding it, so
	// changes reach the store in the order they are applied.
	mu        sync.Mutex
	handlers  map[string]*handlerEntry
	jobs      map[string]*entry
	receipts  receiptLog
	queue     jobHeap
	seq       uint32
	dirty     []*entry // jobs whose run state changed since the last checkpoint
	loaded    bool
	running   bool // the loop runs
	closed    bool // Shutdown was called
	paused    bool // scheduler-wide Pause
	untrusted bool // SetClockTrusted(false): cron and date jobs are held
	held      map[*entry]struct{}
	obs       observations // readings: Observe
	nListen   atomic.Int32 // len(listeners): events are built only when someone listens

	// Event delivery. Each batch of events takes a ticket under mu (so
	// tickets follow the order of the changes) and is delivered when its
	// turn comes, with neither mu nor evMu held: a listener may call Get
	// or List.
	//
	// The invariant: every batch whose ticket is below evTurn was
	// delivered, and the batch of ticket evTurn is being delivered or
	// is next. A goroutine that must wait for evTurn to reach some value
	// (an emitter for its ticket, a run for the delivery of its
	// submitted event) parks in evWait on a channel of its own, and
	// advancing evTurn wakes exactly the waiters whose value it reached:
	// the next ticket's emitter if it is there, and the runs waiting on
	// the batch just delivered. Nobody else wakes to find it is not
	// their turn.
	evNext    uint64     // next ticket; guarded by mu
	evMu      sync.Mutex // guards the fields below
	evTurn    uint64
	evWait    []evWaiter
	listeners []listener // replaced, never written through: a batch delivers to the slice it read
	nextL     int

	pending  []pendingRun // submitted runs waiting for a worker, in order, from pendHead
	pendHead int
	// The last "pending queue full" log line, and the skips since.
	pendFullLogged bool
	pendFullAt     time.Duration
	pendFullSkips  int
	active         int           // runs executing now (at most Options.Workers)
	spawned        bool          // dispatch started a worker since tick last looked
	wake           chan struct{} // asks the loop to re-plan
	stop           chan struct{}
	loopDone       chan struct{}
	runCtx         context.Context
	cancelRuns     context.CancelFunc
	runs           sync.WaitGroup

	lastCheckpoint time.Duration // Clock.Elapsed of the last checkpoint
}

type handlerEntry struct {
	h      Handler
	o      HandlerOptions
	active int // runs of this type executing now (at most o.Workers when > 0)
}

// entry is a job as the scheduler holds it, in as few bytes as it can: a
// device may hold thousands (docs/performance.md). Its trigger spec is kept
// packed (spec), and job.Trigger is always empty: use trigger() or
// definition().
type entry struct {
	job       jobCore
	spec      string        // packSpec of the trigger spec
	trig      Trigger       // nil when the job is invalid
	cold      *entryCold    // the rarely set fields; nil when none is
	next      time.Time     // the trigger's next fire time (zero: none)
	jitterOff time.Duration // this fire's random delay: the timer aims at next+jitterOff
	at        int64         // instant(next+jitterOff): the heap's order, set by schedule
	seq       uint32        // tie-break among entries due at the same instant
	index     int32         // in the heap; -1 when not queued
	running   int32         // instances submitted and not yet finished
	kind      uint8         // the trigger's type: an index of triggerKinds
	src       uint8         // the job's source: an index in sources, or srcCold
	dirty     bool          // in Scheduler.dirty
	jitter    bool          // the trigger has a jitter
}

// entryCold holds an entry's fields that most jobs leave empty. It is
// never written through: a change replaces it.
type entryCold struct {
	conds   *jobConditions // nil: none
	invalid string         // why the job cannot run; "" when valid
	source  string         // a source not in sources
}

// sources are the job sources an entry keeps in one byte.
var sources = [...]string{"", SourceConfig, SourceMQTT, SourceCLI, SourceHTTP}

// srcCold is entry.src for a source kept in entryCold.
const srcCold = 255

// source returns the job's source.
func (e *entry) source() string {
	if e.src == srcCold {
		return e.cold.source
	}
	return sources[e.src]
}

// sourceCode returns how an entry keeps the job source src: its index in
// sources, or srcCold and the source for entryCold.
func sourceCode(src string) (code uint8, cold string) {
	for i, k := range sources {
		if k == src {
			return uint8(i), ""
		}
	}
	return srcCold, src
}

// fireAt is when e's timer aims: its next fire time plus jitter.
func (e *entry) fireAt() time.Time {
	if e.jitterOff == 0 {
		return e.next // most jobs: no time.Time arithmetic
	}
	return e.next.Add(e.jitterOff)
}

// invalid returns why the job cannot run, or "" when it can.
func (e *entry) invalid() string {
	if e.cold == nil {
		return ""
	}
	return e.cold.invalid
}

// coldFields returns a copy of e's rarely set fields.
func (e *entry) coldFields() entryCold {
	if e.cold == nil {
		return entryCold{}
	}
	return *e.cold
}

// setCold makes c e's rarely set fields, allocating only when one is set
// and they changed (an entryCold is never written through).
func (e *entry) setCold(c entryCold) {
	switch {
	case c == entryCold{}:
		e.cold = nil
	case e.cold == nil || c != *e.cold:
		kept := c
		e.cold = &kept
	}
}

// setInvalid records why e cannot run ("" when it can).
func (e *entry) setInvalid(why string) {
	if why == e.invalid() {
		return
	}
	c := e.coldFields()
	c.invalid = why
	e.setCold(c)
}

// jobCore is a Job without its trigger spec, next run time, conditions
// and source, which an entry keeps in other forms (spec, next, cold, src).
type jobCore struct {
	ID     string
	Name   string
	Action Action
	// MisfireGraceTime in nanoseconds; noGrace: no limit. Inline rather
	// than a pointer, which costs every job an 8-byte allocation.
	MisfireGraceTime int64
	Coalesce         bool
	Paused           bool
	Remote           bool
	MaxInstances     int32
	Version          int64
	LastRunTime      *time.Time
	LastResult       string
}

// noGrace is jobCore.MisfireGraceTime for "no limit".
const noGrace = -1

// grace returns the misfire grace time, and whether there is a limit.
func (c *jobCore) grace() (time.Duration, bool) {
	return time.Duration(c.MisfireGraceTime), c.MisfireGraceTime != noGrace
}

// setJob makes j e's job, packing its trigger spec.
func (e *entry) setJob(j *Job) {
	e.spec = packSpec(j.Trigger)
	e.kind = kindNum(j.Trigger.Type)
	e.jitter = triggerJitter(j.Trigger) > 0
	grace := int64(noGrace)
	if j.MisfireGraceTime != nil {
		grace = int64(*j.MisfireGraceTime)
	}
	var conds *jobConditions
	if len(j.Conditions) > 0 {
		conds = newJobConditions(j.Conditions)
	}
	c := e.coldFields()
	c.conds = conds
	e.src, c.source = sourceCode(j.Source)
	e.setCold(c)
	e.job = jobCore{
		ID: j.ID, Name: j.Name, Action: j.Action, MisfireGraceTime: grace,
		Coalesce: j.Coalesce, Paused: j.Paused, Remote: j.Remote, MaxInstances: int32(min(j.MaxInstances, MaxMaxInstances)),
		Version: j.Version, LastRunTime: j.LastRunTime, LastResult: j.LastResult,
	}
}

// trigger returns e's trigger spec.
func (e *entry) trigger() TriggerSpec { return unpackSpec(e.spec) }

// conditions returns e's conditions as written.
func (e *entry) conditions() []Condition {
	if e.cold == nil || e.cold.conds == nil {
		return nil
	}
	return e.cold.conds.specs
}

// definition returns e's job with its trigger spec, run state as held.
func (e *entry) definition() Job {
	c := &e.job
	var grace *time.Duration
	if g, ok := c.grace(); ok {
		grace = &g
	}
	return Job{
		ID: c.ID, Name: c.Name, Trigger: e.trigger(), Conditions: e.conditions(), Action: c.Action, MisfireGraceTime: grace,
		Coalesce: c.Coalesce, Paused: c.Paused, Remote: c.Remote, MaxInstances: int(c.MaxInstances),
		Version: c.Version, LastRunTime: c.LastRunTime, LastResult: c.LastResult, Source: e.source(),
	}
}

// markDirty notes that e's run state changed since the last checkpoint.
// Called with s.mu held.
func (s *Scheduler) markDirty(e *entry) {
	if !e.dirty {
		e.dirty = true
		s.dirty = append(s.dirty, e)
	}
}

// New returns a Scheduler over store. Register handlers, then Load or Start.
func New(store Store, opts Options) *Scheduler {
	if opts.Clock == nil {
		opts.Clock = NewSystemClock()
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.JobDefaults == (Defaults{}) {
		opts.JobDefaults = DefaultJobDefaults()
	}
	if opts.JobDefaults.MaxInstances <= 0 {
		opts.JobDefaults.MaxInstances = 1
	}
	opts.Limits = opts.Limits.withDefaults()
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Boot.ID != "" && opts.Boot.At.IsZero() {
		opts.Boot.At = opts.Clock.Now()
	}
	s := &Scheduler{
		store:    store,
		opts:     opts,
		clock:    opts.Clock,
		loc:      opts.Location,
		log:      opts.Logger.With("component", "sched"),
		handlers: map[string]*handlerEntry{},
		jobs:     map[string]*entry{},
		receipts: newReceiptLog(opts.Receipts),
		held:     map[*entry]struct{}{},
		wake:     make(chan struct{}, 1),
	}
	return s
}

// Handle registers the Handler for an action type. Registering a type twice
// is an error. Call before Load.
func (s *Scheduler) Handle(actionType string, h Handler, o HandlerOptions) error {
	if actionType == "" || h == nil {
		return errors.New("sched: Handle needs an action type and a handler")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.handlers[actionType]; dup {
		return fmt.Errorf("sched: a handler for action type %q is already registered", actionType)
	}
	s.handlers[actionType] = &handlerEntry{h: h, o: o}
	return nil
}

// Listen adds a listener for events; cancel removes it.
func (s *Scheduler) Listen(l Listener) (cancel func()) {
	s.evMu.Lock()
	defer s.evMu.Unlock()
	id := s.nextL
	s.nextL++
	n := len(s.listeners)
	s.listeners = append(s.listeners[:n:n], listener{id, l}) // a new array: see listeners
	s.nListen.Add(1)
	var once sync.Once
	return func() {
		once.Do(func() {
			s.evMu.Lock()
			for i, x := range s.listeners {
				if x.id == id {
					s.listeners = append(s.listeners[:i:i], s.listeners[i+1:]...) // a new array
					break
				}
			}
			s.nListen.Add(-1)
			s.evMu.Unlock()
		})
	}
}

// listener is a Listener and the id its cancel removes it by.
type listener struct {
	id int
	l  Listener
}

// Load reads the jobs from the store, validates each against its handler
// (an invalid one is kept, paused, with last_result "invalid: <why>"; with
// Options.ActionsValidated the handlers' Validate is not asked) and makes
// the job operations available. It does not fire anything: a CLI may
// Load, change jobs and return without ever calling Start.
//
// Each job keeps the next run time it was stored with, so runs that fell
// due while the agent was down are handled by Start, by misfire policy.
func (s *Scheduler) Load(ctx context.Context) error {
	receipts, err := s.store.LoadReceipts(ctx)
	if err != nil {
		return fmt.Errorf("sched: load request receipts: %w", err)
	}
	s.mu.Lock()
	if s.loaded {
		s.mu.Unlock()
		return errors.New("sched: Load called twice")
	}
	now := s.clock.Now()
	// The store hands the jobs over one by one: each is made an entry as
	// it comes, and the entries join the scheduler only once the store
	// has handed over all of them, so a Load that fails changes nothing.
	var (
		loaded []*entry
		evs    []Event
	)
	p := newPass()
	p.validated = s.opts.ActionsValidated
	err = s.store.Load(ctx, func(j *Job) error {
		e := &entry{index: -1}
		e.setJob(j)
		loc, err := s.compile(e, &j.Trigger, p)
		if err != nil {
			s.markInvalid(e, err)
			evs = append(evs, s.event(now, EventError, e, nil, err.Error()))
		}
		if e.invalid() == "" && !j.Paused {
			switch {
			case j.NextRunTime != nil:
				e.next = j.NextRunTime.In(loc)
			case j.LastRunTime != nil:
				e.next, _ = e.trig.Next(j.LastRunTime.In(loc), now)
			default:
				e.next, _ = e.trig.Next(time.Time{}, now)
			}
		}
		loaded = append(loaded, e)
		return nil
	})
	if err == nil {
		if err = s.receipts.load(receipts, now); err != nil {
			err = fmt.Errorf("sched: load request receipts: %w", err)
		}
	} else {
		err = fmt.Errorf("sched: load jobs: %w", err)
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	if len(s.jobs) == 0 {
		s.jobs = make(map[string]*entry, len(loaded)) // one allocation, not a rehash per doubling
	}
	s.queue = slices.Grow(s.queue, len(loaded)) // the same for the queue
	for _, e := range loaded {
		s.jobs[e.job.ID] = e
		s.schedule(e)
	}
	s.loaded = true
	s.emitUnlock(evs...)
	return nil
}

// Revalidate checks every job's action against its handler again, and
// recompiles the jobs found invalid: what a handler accepts can change
// while the scheduler runs (the agent's reload removes a sensor, or brings
// one back). A job that no longer validates is kept, paused and invalid,
// with an error event, as Load keeps one; an invalid job that validates
// again runs from its trigger's next fire time after its last run (runs
// already due follow its misfire rules), with a resumed event. Jobs are
// not committed: validity is a matter of the running config, rechecked at
// every load. It returns the ids of the jobs whose validity changed.
func (s *Scheduler) Revalidate() []string {
	s.mu.Lock()
	if !s.loaded {
		s.mu.Unlock()
		return nil
	}
	now := s.clock.Now()
	ids := make([]string, 0, len(s.jobs))
	for id := range s.jobs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var changed []string
	var evs []Event
	p := newPass()
	for _, id := range ids {
		e := s.jobs[id]
		if e.invalid() == "" {
			err := s.checkInputs(e.trigger(), e.conditions())
			if err == nil {
				err = p.action(s, e.job.Action)
			}
			if err != nil {
				s.markInvalid(e, err)
				s.schedule(e)
				changed = append(changed, id)
				evs = append(evs, s.event(now, EventError, e, nil, err.Error()))
			}
			continue
		}
		spec := e.trigger()
		loc, err := s.compile(e, &spec, p)
		if err != nil {
			e.setInvalid(err.Error()) // still invalid, maybe for another reason now
			continue
		}
		if !e.job.Paused {
			var last time.Time
			if e.job.LastRunTime != nil {
				last = e.job.LastRunTime.In(loc)
			}
			e.next, _ = e.trig.Next(last, now)
		}
		s.schedule(e)
		changed = append(changed, id)
		kind := EventResumed
		if e.job.Paused {
			kind = EventPaused // valid again, and still paused by its user
		}
		evs = append(evs, s.event(now, kind, e, nil, ""))
	}
	if len(changed) > 0 {
		s.poke()
	}
	s.emitUnlock(evs...)
	return changed
}

// Start loads the jobs if Load was not called, handles the runs that fell
// due while the agent was down by each job's misfire policy, and starts the
// scheduling loop. It returns once the loop runs.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	loaded := s.loaded
	s.mu.Unlock()
	if !loaded {
		if err := s.Load(ctx); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrStopped
	}
	if s.running {
		return errors.New("sched: Start called twice")
	}
	s.running = true
	s.runCtx, s.cancelRuns = context.WithCancel(context.WithoutCancel(ctx))
	s.stop = make(chan struct{})
	s.loopDone = make(chan struct{})
	s.lastCheckpoint = s.clock.Elapsed()
	go s.loop()
	return nil
}

// Shutdown stops the loop, cancels running jobs' contexts, and checkpoints
// run state; with wait it first waits (bounded by ctx) for running jobs to
// return, so their results are in the checkpoint.
func (s *Scheduler) Shutdown(ctx context.Context, wait bool) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	running := s.running
	s.mu.Unlock()
	if running {
		close(s.stop)
		<-s.loopDone
		s.cancelRuns()
		s.mu.Lock()
		s.dropPending()
		s.mu.Unlock()
		if wait {
			done := make(chan struct{})
			go func() { s.runs.Wait(); close(done) }()
			select {
			case <-done:
			case <-ctx.Done():
			}
		}
	}
	// Run state is saved even when ctx is done: it is a short write and the
	// last chance to keep it.
	return s.checkpoint(context.WithoutCancel(ctx))
}

// Pause stops firing jobs until Resume; due runs are then handled by their
// misfire policy.
func (s *Scheduler) Pause() {
	s.mu.Lock()
	s.paused = true
	s.mu.Unlock()
	s.poke()
}

// Resume undoes Pause.
func (s *Scheduler) Resume() {
	s.mu.Lock()
	s.paused = false
	s.mu.Unlock()
	s.poke()
}

// SetClockTrusted says whether the wall clock can be trusted (a Pi without
// an RTC boots with a stale clock until NTP synchronizes). While it is not,
// cron and date jobs that fall due are held, not fired; interval jobs, which
// count elapsed time, run. When it becomes trusted, the held runs are
// handled by each job's misfire_grace_time and coalesce. The default is
// trusted.
func (s *Scheduler) SetClockTrusted(trusted bool) {
	s.mu.Lock()
	s.untrusted = !trusted
	if trusted {
		for e := range s.held {
			delete(s.held, e)
			if s.jobs[e.job.ID] == e {
				s.schedule(e)
			}
		}
	}
	s.mu.Unlock()
	s.poke()
}

// Get returns job id.
func (s *Scheduler) Get(id string) (Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.jobs[id]
	if !ok {
		return Job{}, notFound(id)
	}
	return e.snapshot(), nil
}

// Len returns how many jobs the scheduler holds, invalid and paused ones
// included, without copying them as List does.
func (s *Scheduler) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.jobs)
}

// Invalid returns how many jobs are kept paused as invalid (Load or
// Revalidate found them so).
func (s *Scheduler) Invalid() int {
	n := 0
	s.mu.Lock()
	for _, e := range s.jobs {
		if e.invalid() != "" {
			n++
		}
	}
	s.mu.Unlock()
	return n
}

// List returns every job, ordered by next run time (paused last), then id.
func (s *Scheduler) List() []Job {
	s.mu.Lock()
	jobs := make([]Job, 0, len(s.jobs))
	for _, e := range s.jobs {
		jobs = append(jobs, e.snapshot())
	}
	s.mu.Unlock()
	sort.Slice(jobs, func(i, k int) bool {
		a, b := jobs[i].NextRunTime, jobs[k].NextRunTime
		switch {
		case a != nil && b != nil && !a.Equal(*b):
			return a.Before(*b)
		case (a == nil) != (b == nil):
			return a != nil
		}
		return jobs[i].ID < jobs[k].ID
	})
	return jobs
}

// snapshot returns the job document as it is now. Called with s.mu held.
func (e *entry) snapshot() Job {
	j := e.definition()
	if e.invalid() != "" {
		j.Paused = true
	}
	j.LastResult = e.lastResult()
	j.NextRunTime = nil
	if !e.next.IsZero() {
		t := e.next
		j.NextRunTime = &t
	}
	// LastRunTime is shared, not copied: the scheduler never writes
	// through it, it replaces it.
	return j
}

// lastResult is the job's last_result as its document shows it: why it
// is invalid, when it is.
func (e *entry) lastResult() string {
	if why := e.invalid(); why != "" {
		return "invalid: " + why
	}
	return e.job.LastResult
}

// compile compiles e's trigger, spec (e.trigger(), which the caller may
// have at hand), and validates its action (both through the pass), and
// returns the trigger's zone. Called with s.mu held.
func (s *Scheduler) compile(e *entry, spec *TriggerSpec, p *pass) (*time.Location, error) {
	t, loc, err := p.trigger(s, e, spec)
	if err != nil {
		return nil, err
	}
	if err := s.opts.Limits.check(spec, int(e.job.MaxInstances)); err != nil {
		return nil, err
	}
	if err := s.checkInputs(*spec, e.conditions()); err != nil {
		return nil, err
	}
	if err := p.action(s, e.job.Action); err != nil {
		return nil, err
	}
	e.trig = t
	e.setInvalid("")
	return loc, nil
}

// pass remembers what the jobs of one pass over many of them (Load,
// Revalidate) share, so that it is worked out once, not once per job: the
// handlers and the trigger environment stay the same throughout the pass.
// An action that many jobs share (the same pump pulse at different times)
// is validated once; a trigger spec that many share (the same cron
// expression for many beds) is compiled once, and its compiled Trigger is
// shared, which is sound because a Trigger is pure (Next keeps no state),
// except for the kinds that keep state of their own (reading), which are
// compiled per job. Called with s.mu held.
type pass struct {
	actions  map[string]map[string]error // by type, then raw JSON
	triggers map[string]compiledSpec     // by packed spec
	// validated: the actions were validated before (Load with
	// Options.ActionsValidated); only their handlers are looked up.
	validated bool
}

// compiledSpec is a trigger spec compiled, with its zone, or why it cannot
// be.
type compiledSpec struct {
	trig Trigger
	loc  *time.Location
	err  error
}

func newPass() *pass {
	return &pass{actions: map[string]map[string]error{}, triggers: map[string]compiledSpec{}}
}

// trigger returns e's trigger, spec, compiled in the scheduler's
// environment, and its zone.
func (p *pass) trigger(s *Scheduler, e *entry, spec *TriggerSpec) (Trigger, *time.Location, error) {
	if c, ok := p.triggers[e.spec]; ok {
		return c.trig, c.loc, c.err
	}
	var c compiledSpec
	if c.loc, c.err = spec.Location(s.loc); c.err == nil {
		if c.trig, c.err = compileEnv(spec, s.env()); c.err != nil {
			c.err = asFieldError("trigger", c.err)
		}
	}
	// A kind with state of its own is compiled per job. A one-shot (date)
	// spec is its own instant, which other jobs seldom share, and compiles
	// in a parse: not worth a cache entry.
	if k := &triggerKinds[e.kind]; !k.ownState && !k.oneShot {
		p.triggers[e.spec] = c
	}
	return c.trig, c.loc, c.err
}

// action validates a through its handler.
func (p *pass) action(s *Scheduler, a Action) error {
	if _, ok := s.handlers[a.Type]; ok && p.validated {
		return nil
	}
	byRaw := p.actions[a.Type]
	if err, ok := byRaw[string(a.Raw)]; ok {
		return err
	}
	if byRaw == nil {
		byRaw = map[string]error{}
		p.actions[a.Type] = byRaw
	}
	err := s.validateAction(a)
	byRaw[string(a.Raw)] = err
	return err
}

func (s *Scheduler) validateAction(a Action) error {
	he, ok := s.handlers[a.Type]
	if !ok {
		return FieldError("action.type", "unknown action type %q", a.Type)
	}
	if err := he.h.Validate(a); err != nil {
		return asFieldError("action", err)
	}
	return nil
}

// env is what the scheduler's triggers are compiled against.
func (s *Scheduler) env() Env { return Env{Location: s.loc, Site: s.opts.Site, Boot: s.opts.Boot} }

// Env returns what the scheduler's triggers are compiled against, for
// previews that must agree with it.
func (s *Scheduler) Env() Env { return s.env() }

// markInvalid keeps e, paused, with the reason. Called with s.mu held.
func (s *Scheduler) markInvalid(e *entry, err error) {
	e.setInvalid(err.Error())
	e.trig = nil
	e.next = time.Time{}
	s.log.Error("job is invalid: kept paused", "job", e.job.ID, "err", err)
}

// schedule puts e in the queue at e.next (plus jitter), or takes it out
// when it has no next run. Called with s.mu held.
func (s *Scheduler) schedule(e *entry) {
	s.watchChanged(e)
	delete(s.held, e)
	if e.next.IsZero() || e.job.Paused || e.invalid() != "" {
		e.next = time.Time{}
		if e.index >= 0 {
			heap.Remove(&s.queue, int(e.index))
		}
		return
	}
	e.jitterOff = 0
	if e.jitter {
		e.jitterOff = jitterOffset(triggerJitter(e.trigger()))
	}
	e.at = instant(e.fireAt())
	s.seq++
	e.seq = s.seq
	if e.index >= 0 {
		heap.Fix(&s.queue, int(e.index))
	} else {
		heap.Push(&s.queue, e)
	}
}

// unschedule removes e from the queue. Called with s.mu held.
func (s *Scheduler) unschedule(e *entry) {
	s.watchChanged(e)
	if e.index >= 0 {
		heap.Remove(&s.queue, int(e.index))
	}
	delete(s.held, e)
}

// poke asks the loop to re-plan its wait.
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// event builds an event for e. What it says of the job (its action type,
// its last result, and for a change a snapshot) is filled in only when
// someone listens: nobody else reads events. Called with s.mu held.
func (s *Scheduler) event(now time.Time, kind EventKind, e *entry, scheduled *time.Time, errText string) Event {
	ev := Event{Time: now, JobID: e.job.ID, Kind: kind, ScheduledTime: scheduled, Error: errText}
	if s.nListen.Load() == 0 {
		return ev
	}
	ev.Action, ev.LastResult = e.job.Action.Type, e.lastResult()
	if kind.change() {
		j := e.snapshot()
		ev.Job = &j
	}
	return ev
}

// emitUnlock releases s.mu and delivers evs to the listeners, in the
// order the changes were made, without holding any scheduler lock: a
// listener may call Get or List (but must not change jobs: hand the event
// to a queue of your own for that). It returns once evs were delivered.
func (s *Scheduler) emitUnlock(evs ...Event) {
	if len(evs) == 0 || s.nListen.Load() == 0 {
		s.mu.Unlock()
		return
	}
	ticket := s.evNext
	s.evNext++
	s.mu.Unlock()

	s.evMu.Lock()
	s.awaitTurnLocked(ticket)
	ls := s.listeners
	s.evMu.Unlock()
	for _, ev := range evs {
		if ev.Duration > 0 || ev.Kind == EventExecuted || (ev.Kind == EventError && ev.ScheduledTime != nil) {
			ms := ev.Duration.Milliseconds()
			ev.DurationMS = &ms
		}
		for _, l := range ls {
			s.deliver(l.l, ev)
		}
	}
	s.evMu.Lock()
	s.evTurn++
	ws := s.evWait[:0]
	for _, w := range s.evWait {
		if w.turn <= s.evTurn {
			w.wake <- struct{}{} // buffered, and this waiter's alone: never blocks
		} else {
			ws = append(ws, w)
		}
	}
	clear(s.evWait[len(ws):])
	s.evWait = ws
	s.evMu.Unlock()
}

// evWaiter is a goroutine parked until evTurn reaches turn.
type evWaiter struct {
	turn uint64
	wake chan struct{} // capacity 1; emitUnlock sends once
}

// awaitTurnLocked returns once evTurn >= turn. Called with s.evMu held,
// which it releases while it waits.
func (s *Scheduler) awaitTurnLocked(turn uint64) {
	if s.evTurn >= turn {
		return
	}
	ch := make(chan struct{}, 1)
	s.evWait = append(s.evWait, evWaiter{turn, ch})
	s.evMu.Unlock()
	<-ch
	s.evMu.Lock()
}

// deliver calls one listener; a panicking listener is logged, not fatal.
func (s *Scheduler) deliver(l Listener, ev Event) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("event listener panicked", "event", ev.Kind, "job", ev.JobID, "panic", r)
		}
	}()
	l(ev)
}

func notFound(id string) error {
	return &Error{Code: CodeNotFound, Field: "job_id", Message: fmt.Sprintf("no job %q", id)}
}
