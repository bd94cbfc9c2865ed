package sched

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// prepared is a job ready to be applied: its trigger compiled, its next
// run worked out.
type prepared struct {
	job  Job
	trig Trigger
	next time.Time
}

// prepare validates j (trigger and action) and computes its first run at or
// after now. A trigger whose kind has an anchor (interval, calendarinterval)
// and no start_date gets the add time as its start_date, so its schedule
// survives restarts. Called with s.mu held.
func (s *Scheduler) prepare(j Job, now time.Time) (prepared, error) {
	if err := CheckID(j.ID); err != nil {
		return prepared{}, err
	}
	if j.MaxInstances < 1 || j.MaxInstances > MaxMaxInstances {
		return prepared{}, FieldError("max_instances", "must be an integer from 1 to %d", MaxMaxInstances)
	}
	if g := j.MisfireGraceTime; g != nil && (*g <= 0 || *g > MaxMisfireGraceTime) {
		return prepared{}, FieldError("misfire_grace_time", "must be > 0 seconds, or null for no limit")
	}
	loc, err := j.Trigger.Location(s.loc)
	if err != nil {
		return prepared{}, err
	}
	var from time.Time // a previous fire time to count from; zero: none
	if k := kindOf(j.Trigger.Type); k.anchor != nil && j.Trigger.StartDate == "" {
		j.Trigger.StartDate = k.anchor(now.In(loc))
		if k.firstAfterAdd {
			// As APScheduler: the first run is one interval after the
			// add, on the grid that starts at it.
			from = now
		}
	}
	t, err := j.Trigger.CompileEnv(s.env())
	if err != nil {
		return prepared{}, asFieldError("trigger", err)
	}
	if err := s.opts.Limits.Check(j); err != nil {
		return prepared{}, err
	}
	if err := s.checkInputs(j.Trigger, j.Conditions); err != nil {
		return prepared{}, err
	}
	if err := s.validateAction(j.Action); err != nil {
		return prepared{}, err
	}
	p := prepared{job: j, trig: t}
	if !j.Paused {
		next, ok, err := nextOf(t, from, now)
		if err != nil {
			return prepared{}, asFieldError("trigger", err)
		}
		if ok {
			p.next = next
		}
	}
	return p, nil
}

// apply puts a committed job into e. Called with s.mu held.
func (s *Scheduler) apply(e *entry, p prepared) {
	j := p.job
	j.NextRunTime = nil
	e.setInvalid("")
	e.setJob(&j)
	e.trig, e.next = p.trig, p.next
	s.schedule(e)
	s.poke()
}

// usable checks that job operations are available. Called with s.mu held.
func (s *Scheduler) usable() error {
	if !s.loaded || s.closed {
		return ErrStopped
	}
	return nil
}

// changeable finds job id and checks that o may change it. Called with
// s.mu held.
func (s *Scheduler) changeable(id string, o OpOptions) (*entry, error) {
	if err := s.usable(); err != nil {
		return nil, err
	}
	e, ok := s.jobs[id]
	if !ok {
		return nil, notFound(id)
	}
	if err := mayChange(e, o, "job_id"); err != nil {
		return nil, err
	}
	return e, nil
}

func mayChange(e *entry, o OpOptions, field string) error {
	j := &e.job
	if (o.Source == SourceMQTT || o.Source == SourceHTTP) && e.source() == SourceConfig && !j.Remote {
		return &Error{Code: CodeConflict, Field: field, Message: fmt.Sprintf(
			"job %q is declared in the config file and not open to remote changes (set remote: true there)", j.ID)}
	}
	if o.ExpectedVersion != 0 && o.ExpectedVersion != j.Version {
		return &Error{Code: CodeVersionConflict, Field: "expected_version", Message: fmt.Sprintf(
			"job %q is at version %d, not %d", j.ID, j.Version, o.ExpectedVersion)}
	}
	return nil
}

// commit writes changes to the store; nothing is applied when it fails.
func (s *Scheduler) commit(ctx context.Context, changes ...Change) error {
	if err := s.store.Commit(ctx, changes); err != nil {
		if ErrorCode(err) == CodeVersionConflict {
			return err
		}
		return &Error{Code: CodeInternal, Message: "store: " + err.Error(), Err: err}
	}
	return nil
}

// stored is the job as it goes to the store: its run state included.
func stored(p prepared, prev *entry) Job {
	j := p.job
	j.NextRunTime = nil
	if !p.next.IsZero() {
		t := p.next
		j.NextRunTime = &t
	}
	if prev != nil && j.LastRunTime == nil {
		j.LastRunTime = prev.job.LastRunTime
	}
	return j
}

// withDefaults fills the fields p does not set with the scheduler's job
// defaults.
func (s *Scheduler) withDefaults(p Patch) Job {
	j := p.Job
	d := s.opts.JobDefaults
	if !p.Has(FieldMisfireGraceTime) {
		j.MisfireGraceTime = nil
		if d.MisfireGraceTime != nil {
			g := *d.MisfireGraceTime
			j.MisfireGraceTime = &g
		}
	}
	if !p.Has(FieldCoalesce) {
		j.Coalesce = d.Coalesce
	}
	if !p.Has(FieldMaxInstances) {
		j.MaxInstances = d.MaxInstances
	}
	// Read-only fields are the scheduler's.
	j.Version, j.NextRunTime, j.LastRunTime, j.LastResult, j.Source = 0, nil, nil, "", ""
	return j
}

// newID returns an unused generated job id. Called with s.mu held.
func (s *Scheduler) newID(taken map[string]bool) string {
	for {
		id := fmt.Sprintf("job-%012x", rand.Uint64()&(1<<48-1))
		if _, ok := s.jobs[id]; !ok && !taken[id] {
			return id
		}
	}
}

func sourceOf(o OpOptions) string {
	if o.Source == "" {
		return SourceCLI
	}
	return o.Source
}

// Add adds a job. Fields p does not set take the scheduler's defaults; an
// empty ID gets a generated one. An existing job of the same id is an
// error (CodeConflict) unless o.ReplaceExisting; a replaced job keeps its
// source and history, gets the next version, and is announced as modified.
func (s *Scheduler) Add(ctx context.Context, p Patch, o AddOptions) (Job, error) {
	s.mu.Lock()
	j, evs, err := s.addLocked(ctx, p, o)
	s.emitUnlock(evs...)
	return j, err
}

func (s *Scheduler) addLocked(ctx context.Context, p Patch, o AddOptions) (Job, []Event, error) {
	if err := s.usable(); err != nil {
		return Job{}, nil, err
	}
	now := s.clock.Now()
	j := s.withDefaults(p)
	if !p.Has(FieldID) || j.ID == "" {
		j.ID = s.newID(nil)
	}
	old, exists := s.jobs[j.ID]
	j.Version, j.Source = 1, sourceOf(o.OpOptions)
	if exists {
		if !o.ReplaceExisting {
			return Job{}, nil, &Error{Code: CodeConflict, Field: "id", Message: fmt.Sprintf("job %q already exists (replace_existing is false)", j.ID)}
		}
		if err := mayChange(old, o.OpOptions, "id"); err != nil {
			return Job{}, nil, err
		}
		j.Version, j.Source = old.job.Version+1, old.source()
		keepTriggerState(old.trigger(), &j)
	} else if o.ExpectedVersion != 0 {
		return Job{}, nil, &Error{Code: CodeVersionConflict, Field: "expected_version", Message: fmt.Sprintf("job %q does not exist", j.ID)}
	}
	pr, err := s.prepare(j, now)
	if err != nil {
		return Job{}, nil, err
	}
	var prevVersion int64
	if exists {
		prevVersion = old.job.Version
		// A replaced job keeps its run history.
		pr.job.LastRunTime, pr.job.LastResult = old.job.LastRunTime, old.job.LastResult
	}
	kind := EventAdded
	if exists {
		kind = EventModified
	}
	if err := s.commitFor(ctx, o.OpOptions, kind, j.ID, pr.job.Version, Change{ID: j.ID, Job: stored(pr, old), PrevVersion: prevVersion}); err != nil {
		return Job{}, nil, err
	}
	e := old
	if !exists {
		e = &entry{index: -1}
		s.jobs[j.ID] = e
	}
	s.apply(e, pr)
	return e.snapshot(), []Event{s.event(now, kind, e, nil, "")}, nil
}

// Modify changes the fields p sets on job id. A changed trigger recomputes
// the next run time; so does resuming (paused: false). The id cannot change.
func (s *Scheduler) Modify(ctx context.Context, id string, p Patch, o OpOptions) (Job, error) {
	s.mu.Lock()
	j, evs, err := s.modifyLocked(ctx, id, p, o, EventModified)
	s.emitUnlock(evs...)
	return j, err
}

func (s *Scheduler) modifyLocked(ctx context.Context, id string, p Patch, o OpOptions, kind EventKind) (Job, []Event, error) {
	e, err := s.changeable(id, o)
	if err != nil {
		return Job{}, nil, err
	}
	if p.Has(FieldID) && p.Job.ID != id {
		return Job{}, nil, FieldError("id", "cannot be changed: remove the job and add it under the new id")
	}
	now := s.clock.Now()
	j := e.definition()
	in := p.Job
	if p.Has(FieldName) {
		j.Name = in.Name
	}
	if p.Has(FieldTrigger) {
		old := j.Trigger
		j.Trigger = in.Trigger
		keepTriggerState(old, &j)
	}
	if p.Has(FieldConditions) {
		j.Conditions = in.Conditions
	}
	if p.Has(FieldAction) {
		j.Action = in.Action
	}
	if p.Has(FieldMisfireGraceTime) {
		j.MisfireGraceTime = nil
		if in.MisfireGraceTime != nil {
			g := *in.MisfireGraceTime
			j.MisfireGraceTime = &g
		}
	}
	if p.Has(FieldCoalesce) {
		j.Coalesce = in.Coalesce
	}
	if p.Has(FieldMaxInstances) {
		j.MaxInstances = in.MaxInstances
	}
	if p.Has(FieldPaused) {
		j.Paused = in.Paused
	}
	if p.Has(FieldRemote) {
		j.Remote = in.Remote
	}
	pr, err := s.prepare(j, now)
	if err != nil {
		return Job{}, nil, err
	}
	// The next run stays where it was unless the trigger changed or the job
	// was paused or invalid until now.
	if !p.Has(FieldTrigger) && !j.Paused && !e.job.Paused && e.invalid() == "" {
		pr.next = e.next
	}
	if j.Paused {
		pr.next = time.Time{}
	}
	pr.job.Version = e.job.Version + 1
	if err := s.commitFor(ctx, o, kind, id, pr.job.Version, Change{ID: id, Job: stored(pr, e), PrevVersion: e.job.Version}); err != nil {
		return Job{}, nil, err
	}
	s.apply(e, pr)
	evs := []Event{s.event(now, kind, e, nil, "")}
	if j.Paused {
		s.dropQueued(e, "the job was paused", now, &evs)
	}
	return e.snapshot(), evs, nil
}

// Reschedule replaces job id's trigger and recomputes its next run time.
// A paused job stays paused.
func (s *Scheduler) Reschedule(ctx context.Context, id string, t TriggerSpec, o OpOptions) (Job, error) {
	return s.Modify(ctx, id, Patch{Job: Job{Trigger: t}, Fields: FieldTrigger}, o)
}

// PauseJob pauses job id: it keeps its trigger but has no next run time.
// Pausing a paused job changes nothing.
func (s *Scheduler) PauseJob(ctx context.Context, id string, o OpOptions) (Job, error) {
	return s.setPaused(ctx, id, o, true)
}

// ResumeJob resumes job id from now on: its next run is the trigger's first
// fire time at or after now. Resuming a running job changes nothing; an
// invalid job cannot be resumed until its action is fixed.
func (s *Scheduler) ResumeJob(ctx context.Context, id string, o OpOptions) (Job, error) {
	return s.setPaused(ctx, id, o, false)
}

// setPaused pauses or resumes job id; a job already in that state (and,
// for a resume, valid) is returned unchanged, without a new version.
func (s *Scheduler) setPaused(ctx context.Context, id string, o OpOptions, paused bool) (Job, error) {
	s.mu.Lock()
	kind := EventResumed
	if paused {
		kind = EventPaused
	}
	if e, ok := s.jobs[id]; ok && e.job.Paused == paused && (paused || e.invalid() == "") && s.usable() == nil {
		err := mayChange(e, o, "job_id")
		if err == nil && o.RequestID != "" {
			// Nothing to change, but the request is answered: a re-send
			// after someone else resumed must not pause again.
			err = s.commitFor(ctx, o, kind, id, e.job.Version)
		}
		if err != nil {
			s.mu.Unlock()
			return Job{}, err
		}
		j := e.snapshot()
		s.mu.Unlock()
		return j, nil
	}
	j, evs, err := s.modifyLocked(ctx, id, Patch{Job: Job{Paused: paused}, Fields: FieldPaused}, o, kind)
	s.emitUnlock(evs...)
	return j, err
}

// Remove removes job id and returns it as it was. Runs in progress finish.
func (s *Scheduler) Remove(ctx context.Context, id string, o OpOptions) (Job, error) {
	s.mu.Lock()
	j, evs, err := s.removeLocked(ctx, id, o)
	s.emitUnlock(evs...)
	return j, err
}

func (s *Scheduler) removeLocked(ctx context.Context, id string, o OpOptions) (Job, []Event, error) {
	e, err := s.changeable(id, o)
	if err != nil {
		return Job{}, nil, err
	}
	if err := s.commitFor(ctx, o, EventRemoved, id, e.job.Version, Change{Delete: true, ID: id, PrevVersion: e.job.Version}); err != nil {
		return Job{}, nil, err
	}
	// The event carries a snapshot only when someone listens: take our own.
	j := e.snapshot()
	now := s.clock.Now()
	evs := []Event{s.event(now, EventRemoved, e, nil, "")}
	s.drop(e, now, &evs)
	return j, evs, nil
}

// drop forgets e after its removal was committed, and drops its runs that
// wait for a worker (runs in progress finish). Called with s.mu held.
func (s *Scheduler) drop(e *entry, now time.Time, evs *[]Event) {
	s.unschedule(e)
	delete(s.jobs, e.job.ID)
	s.dropQueued(e, "the job was removed", now, evs)
	s.poke()
}

// RunNow submits one run of job id now, outside its schedule; its next run
// time is unchanged. It fails with CodeConflict when the job is invalid or
// already runs max_instances times (that is also a max_instances event).
func (s *Scheduler) RunNow(ctx context.Context, id string, o OpOptions) error {
	s.mu.Lock()
	err := s.usable()
	e, ok := s.jobs[id]
	switch {
	case err != nil:
	case !s.running:
		err = ErrStopped
	case !ok:
		err = notFound(id)
	case o.ExpectedVersion != 0 && o.ExpectedVersion != e.job.Version:
		err = mayChange(e, OpOptions{ExpectedVersion: o.ExpectedVersion}, "job_id")
	case e.invalid() != "":
		err = &Error{Code: CodeConflict, Field: "job_id", Message: fmt.Sprintf("job %q is invalid: %s", id, e.invalid())}
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var evs []Event
	now := s.clock.Now()
	// The run's time, which becomes last_run_time: now as the trigger's
	// fire times are, in its zone, at APScheduler's microsecond resolution.
	at := now.Round(0).Truncate(time.Microsecond)
	if loc, err := e.trigger().Location(s.loc); err == nil {
		at = at.In(loc)
	}
	// A run asked by a request is recorded before it starts: once it has
	// started, the same request must never start another, restart or not.
	if o.RequestID != "" {
		if err := s.commitFor(ctx, o, EventSubmitted, id, e.job.Version); err != nil {
			s.mu.Unlock()
			return err
		}
	}
	err = s.submit(e, at, now, nil, &evs)
	if err != nil && o.RequestID != "" {
		if ferr := s.forgetReceipt(ctx, o.RequestID); ferr != nil {
			s.log.Error("a run that did not start stays recorded as started by its request: a retry with the same id will not run it",
				"job", id, "request", o.RequestID, "err", ferr)
		}
	}
	s.emitUnlock(evs...)
	return err
}

// Import adds or replaces every job in ps in one all-or-nothing commit.
// Duplicate ids within ps are an error; errors name the element ("[2].id").
// New jobs get o.Source; replaced ones keep theirs. o.ExpectedVersion is
// not used.
func (s *Scheduler) Import(ctx context.Context, ps []Patch, o OpOptions) ([]Job, error) {
	s.mu.Lock()
	jobs, evs, _, err := s.importLocked(ctx, ps, o, false)
	s.emitUnlock(evs...)
	return jobs, err
}

// importLocked adds or replaces ps in one commit; with sync, it also makes
// the config-file jobs equal ps (SyncConfig) and returns the file jobs it
// skipped. Called with s.mu held.
func (s *Scheduler) importLocked(ctx context.Context, ps []Patch, o OpOptions, sync bool) ([]Job, []Event, []error, error) {
	if err := s.usable(); err != nil {
		return nil, nil, nil, err
	}
	now := s.clock.Now()
	o.ExpectedVersion = 0
	at := func(i int, err error) error {
		var e *Error
		if errors.As(err, &e) {
			c := *e
			c.Field = fmt.Sprintf("[%d]", i)
			if e.Field != "" {
				c.Field += "." + e.Field
			}
			return &c
		}
		return fmt.Errorf("[%d]: %w", i, err)
	}
	type item struct {
		pr   prepared
		old  *entry
		same bool // sync: the stored job already equals the file's
	}
	items := make([]item, 0, len(ps))
	var skipped []error
	seen := map[string]int{}
	for i, p := range ps {
		j := s.withDefaults(p)
		if !p.Has(FieldID) || j.ID == "" {
			if sync {
				return nil, nil, nil, at(i, FieldError("id", "is required for a job in the config file"))
			}
			j.ID = s.newID(nil)
			for seen[j.ID] != 0 {
				j.ID = s.newID(nil)
			}
		}
		if first, dup := seen[j.ID]; dup {
			return nil, nil, nil, at(i, FieldError("id", "%q is also the id of [%d]", j.ID, first-1))
		}
		seen[j.ID] = i + 1
		old := s.jobs[j.ID]
		j.Version, j.Source = 1, sourceOf(o)
		if sync {
			j.Source = SourceConfig
		}
		if old != nil {
			if sync && old.source() != SourceConfig {
				// Remote jobs are never dropped or taken over: skip this one.
				skipped = append(skipped, at(i, &Error{Code: CodeConflict, Field: "id", Message: fmt.Sprintf(
					"job %q already exists with source %s: the config file cannot take it over; rename one of them", j.ID, old.source())}))
				continue
			}
			if err := mayChange(old, o, "id"); err != nil {
				return nil, nil, nil, at(i, err)
			}
			j.Version, j.Source = old.job.Version+1, old.source()
			keepTriggerState(old.trigger(), &j)
			if sync && sameDefinition(old.definition(), j) && old.invalid() == "" {
				items = append(items, item{old: old, same: true})
				continue
			}
			if sync && kindOf(j.Trigger.Type).anchor != nil && j.Trigger.StartDate == "" && sameTriggerBut(old.trigger(), j.Trigger) {
				j.Trigger.StartDate = old.trigger().StartDate // keep the grid
			}
		}
		pr, err := s.prepare(j, now)
		if err != nil {
			return nil, nil, nil, at(i, err)
		}
		if old != nil && !sync {
			pr.job.LastRunTime, pr.job.LastResult = old.job.LastRunTime, old.job.LastResult
		}
		if old != nil && sync {
			pr.job.LastRunTime, pr.job.LastResult = old.job.LastRunTime, old.job.LastResult
			if old.trigger() == pr.job.Trigger && !pr.job.Paused && !old.job.Paused && old.invalid() == "" {
				pr.next = old.next // same schedule: keep its place on it
			}
		}
		items = append(items, item{pr: pr, old: old})
	}
	var changes []Change
	for _, it := range items {
		if it.same {
			continue
		}
		var prev int64
		if it.old != nil {
			prev = it.old.job.Version
		}
		changes = append(changes, Change{ID: it.pr.job.ID, Job: stored(it.pr, it.old), PrevVersion: prev})
	}
	var gone []*entry
	if sync {
		for id, e := range s.jobs {
			if _, keep := seen[id]; !keep && e.source() == SourceConfig {
				gone = append(gone, e)
				changes = append(changes, Change{Delete: true, ID: id, PrevVersion: e.job.Version})
			}
		}
	}
	if len(changes) > 0 {
		if err := s.commit(ctx, changes...); err != nil {
			return nil, nil, nil, err
		}
	}
	var evs []Event
	jobs := make([]Job, 0, len(items))
	for _, it := range items {
		if it.same {
			jobs = append(jobs, it.old.snapshot())
			continue
		}
		e, kind := it.old, EventModified
		if e == nil {
			e, kind = &entry{index: -1}, EventAdded
			s.jobs[it.pr.job.ID] = e
		}
		s.apply(e, it.pr)
		jobs = append(jobs, e.snapshot())
		evs = append(evs, s.event(now, kind, e, nil, ""))
	}
	for _, e := range gone {
		evs = append(evs, s.event(now, EventRemoved, e, nil, ""))
		s.drop(e, now, &evs)
	}
	return jobs, evs, skipped, nil
}

// SyncConfig makes the jobs of source config equal ps: the file wins. It
// adds and replaces file jobs, removes file jobs no longer in ps, and never
// touches a job of any other source. A file job whose id a job of another
// source holds is skipped, and returned in skipped as a CodeConflict
// *Error naming it ("[3].id"): a remote job is never dropped or taken over
// by a config change. A file job whose definition did not change keeps
// its version and next run; an interval without start_date keeps the
// start_date it was first given. Any other invalid job in ps is an error,
// and then nothing changes.
func (s *Scheduler) SyncConfig(ctx context.Context, ps []Patch) (skipped []error, err error) {
	s.mu.Lock()
	_, evs, skipped, err := s.importLocked(ctx, ps, OpOptions{Source: SourceConfig}, true)
	s.emitUnlock(evs...)
	if err != nil {
		return nil, err
	}
	return skipped, nil
}

// sameDefinition reports whether the writable fields of a stored job equal
// those of j (an interval's start_date given by the scheduler aside).
func sameDefinition(old, j Job) bool {
	if !(old.Name == j.Name && old.Coalesce == j.Coalesce && old.MaxInstances == j.MaxInstances &&
		old.Paused == j.Paused && old.Remote == j.Remote && sameConditions(old.Conditions, j.Conditions) && old.Action.Type == j.Action.Type &&
		string(old.Action.Raw) == string(j.Action.Raw)) {
		return false
	}
	if (old.MisfireGraceTime == nil) != (j.MisfireGraceTime == nil) ||
		(old.MisfireGraceTime != nil && *old.MisfireGraceTime != *j.MisfireGraceTime) {
		return false
	}
	st, ft := definitionOf(old.Trigger), definitionOf(j.Trigger)
	return st == ft || sameTriggerBut(st, ft)
}

// sameTriggerBut reports whether file (an interval without start_date)
// equals stored once stored's start_date is left out.
func sameTriggerBut(stored, file TriggerSpec) bool {
	if kindOf(file.Type).anchor == nil || file.StartDate != "" {
		return false
	}
	stored.StartDate = ""
	return stored == file
}
