package sched

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
)

// errRunTimeout is the cause of a run's context when its handler's timeout
// passes.
var errRunTimeout = errors.New("run timed out")

// pendingRun is a submitted run waiting for a worker. The Run handed to
// the handler is made when it starts, from the job as it is then.
type pendingRun struct {
	e         *entry
	he        *handlerEntry
	scheduled time.Time
	// ticket is the event batch that carries the run's submitted event,
	// when it has one (evented): the handler runs only once that batch
	// was delivered, so that listeners see submitted before anything the
	// run itself publishes.
	ticket  uint64
	evented bool
}

// submit queues one run of e for the scheduled time, unless e already has
// max_instances runs submitted and unfinished (then a max_instances event)
// or Limits.MaxPendingRuns runs wait for a worker (then an error event).
// Called with s.mu held. It returns why the run was not submitted, or nil.
func (s *Scheduler) submit(e *entry, scheduled, now time.Time, extra Result, evs *[]Event) error {
	if limit := max(e.job.MaxInstances, 1); e.running >= limit {
		sched := scheduled
		s.log.Warn("run skipped: max_instances reached", "job", e.job.ID, "scheduled", scheduled, "max_instances", limit)
		*evs = append(*evs, s.event(now, EventMaxInstances, e, &sched,
			fmt.Sprintf("run skipped: %d of max_instances %d still running", e.running, limit)))
		return &Error{Code: CodeConflict, Field: "job_id", Message: fmt.Sprintf("job %q already runs max_instances (%d) times", e.job.ID, limit)}
	}
	if waiting := len(s.pending) - s.pendHead; waiting >= s.opts.Limits.MaxPendingRuns {
		sched := scheduled
		msg := fmt.Sprintf("run skipped: %d runs already wait for a worker (scheduler.max_pending_runs)", waiting)
		s.logPendingFull(e.job.ID, waiting)
		*evs = append(*evs, s.event(now, EventError, e, &sched, msg))
		return &Error{Code: CodeConflict, Field: "job_id", Message: msg}
	}
	he := s.handlers[e.job.Action.Type]
	if he == nil || s.runCtx == nil {
		// Cannot happen for a valid job of a started scheduler; never lose it silently.
		sched := scheduled
		*evs = append(*evs, s.event(now, EventError, e, &sched, "no handler or scheduler not started"))
		return &Error{Code: CodeInternal, Message: "no handler or scheduler not started"}
	}
	e.running++
	sched := scheduled
	e.job.LastRunTime = &sched
	s.markDirty(e)
	pr := pendingRun{e: e, he: he, scheduled: scheduled}
	if s.nListen.Load() > 0 {
		ev := s.event(now, EventSubmitted, e, &sched, "")
		ev.Result = extra
		*evs = append(*evs, ev)
		// The batch this hold of s.mu emits takes the next ticket.
		pr.ticket, pr.evented = s.evNext, true
	}
	s.pending = append(s.pending, pr)
	s.dispatch()
	return nil
}

// logPendingFull logs that the pending queue is full, at most once a
// minute of elapsed time: when it is, every due run of every job would
// log. Called with s.mu held.
func (s *Scheduler) logPendingFull(job string, waiting int) {
	now := s.clock.Elapsed()
	if s.pendFullLogged && now-s.pendFullAt < time.Minute {
		s.pendFullSkips++
		return
	}
	s.log.Warn("run skipped: the queue of runs waiting for a worker is full", "job", job,
		"waiting", waiting, "max_pending_runs", s.opts.Limits.MaxPendingRuns, "skipped_since_last_log", s.pendFullSkips)
	s.pendFullLogged, s.pendFullAt, s.pendFullSkips = true, now, 0
}

// dropQueued takes e's runs that wait for a worker out of the queue, with
// an error event each: e was removed or paused, and a run of a job that is
// gone or paused must not start afterwards (with max_instances high and
// coalesce off, thousands could be waiting). Called with s.mu held.
func (s *Scheduler) dropQueued(e *entry, why string, now time.Time, evs *[]Event) {
	if e.running == 0 {
		return
	}
	q := s.pending[s.pendHead:]
	kept := q[:0]
	dropped := 0
	msg := "not started: " + why
	for _, p := range q {
		if p.e != e {
			kept = append(kept, p)
			continue
		}
		dropped++
		e.running--
		sched := p.scheduled
		*evs = append(*evs, s.event(now, EventError, e, &sched, msg))
	}
	clear(q[len(kept):])
	s.pending = s.pending[:s.pendHead+len(kept)]
	if dropped > 0 {
		s.log.Info("queued runs dropped", "job", e.job.ID, "runs", dropped, "why", why)
	}
}

// dispatch starts a worker for each pending run that the pool and the
// handlers' own limits let start now. Called with s.mu held.
func (s *Scheduler) dispatch() {
	for {
		p, ok := s.takePending()
		if !ok {
			return
		}
		s.runs.Add(1)
		s.spawned = true
		go s.worker(p, s.runOf(p))
	}
}

// runOf returns the Run that p's handler is given: the job as it is now,
// when the run starts. Called with s.mu held.
func (s *Scheduler) runOf(p pendingRun) Run {
	return Run{Job: p.e.snapshot(), ScheduledTime: p.scheduled}
}

// takePending removes and returns the oldest pending run whose handler has
// a free slot, counting it as active. Called with s.mu held.
func (s *Scheduler) takePending() (pendingRun, bool) {
	if s.active >= s.opts.Workers || s.runCtx == nil || s.runCtx.Err() != nil {
		return pendingRun{}, false
	}
	q := s.pending[s.pendHead:]
	for i, p := range q {
		if p.he.o.Workers > 0 && p.he.active >= p.he.o.Workers {
			continue
		}
		if i == 0 {
			// The usual case: the oldest run goes; O(1).
			s.pending[s.pendHead] = pendingRun{}
			s.pendHead++
		} else {
			copy(q[i:], q[i+1:])
			q[len(q)-1] = pendingRun{}
			s.pending = s.pending[:len(s.pending)-1]
		}
		if s.pendHead == len(s.pending) {
			s.pending, s.pendHead = s.pending[:0], 0
		} else if s.pendHead > 1024 && s.pendHead > len(s.pending)/2 {
			n := copy(s.pending, s.pending[s.pendHead:])
			clear(s.pending[n:])
			s.pending, s.pendHead = s.pending[:n], 0
		}
		s.active++
		p.he.active++
		return p, true
	}
	return pendingRun{}, false
}

// worker executes p (as run), then any pending run it may take, and exits
// when none is left: at most Options.Workers of them run at once, and a run
// waiting for a slot costs no goroutine. It starts the handler without
// waiting for the scheduler's lock (unless listeners must see the run's
// submitted event first), so a run starts while the job that submitted it
// is still being fired.
func (s *Scheduler) worker(p pendingRun, run Run) {
	defer s.runs.Done()
	for {
		s.awaitSubmitted(p)
		start := s.clock.Elapsed()
		res, err := s.call(s.runCtx, p.he, run)
		took := s.clock.Elapsed() - start

		s.mu.Lock()
		s.active--
		p.he.active--
		ev := s.finish(p, res, err, took)
		next, ok := s.takePending()
		if ok {
			run = s.runOf(next)
		}
		s.dispatch() // a freed handler slot may let other types start
		s.emitUnlock(ev)
		if !ok {
			return
		}
		p = next
	}
}

// awaitSubmitted waits until the event batch carrying p's submitted event
// was delivered. Called without s.mu.
func (s *Scheduler) awaitSubmitted(p pendingRun) {
	if !p.evented {
		return
	}
	s.mu.Lock()
	taken := s.evNext > p.ticket // else nobody listened any more at the emit: nothing to wait for
	s.mu.Unlock()
	if !taken {
		return
	}
	s.evMu.Lock()
	s.awaitTurnLocked(p.ticket + 1)
	s.evMu.Unlock()
}

// finish records the outcome of a run. Called with s.mu held.
func (s *Scheduler) finish(p pendingRun, res Result, err error, took time.Duration) Event {
	e := p.e
	e.running--
	result := "ok"
	if err != nil {
		result = "error: " + err.Error()
	}
	if cur, ok := s.jobs[e.job.ID]; ok && cur == e {
		e.job.LastResult = result
		s.markDirty(e)
	}
	kind, msg := EventExecuted, ""
	if err != nil {
		kind, msg = EventError, err.Error()
		s.log.Warn("job run failed", "job", e.job.ID, "scheduled", p.scheduled, "err", err)
	}
	if s.nListen.Load() == 0 {
		return Event{} // nobody listens: spare the allocations
	}
	sched := p.scheduled
	ev := s.event(s.clock.Now(), kind, e, &sched, msg)
	ev.Duration, ev.Result = took, res
	return ev
}

// dropPending reports every run still waiting for a worker as an error: the
// scheduler is shutting down. Called with s.mu held, after runCtx ended.
func (s *Scheduler) dropPending() {
	var evs []Event
	for _, p := range s.pending[s.pendHead:] {
		evs = append(evs, s.finish(p, nil, errors.New("not started: the scheduler shut down"), 0))
	}
	s.pending, s.pendHead = nil, 0
	if len(evs) > 0 {
		s.emitUnlock(evs...)
		s.mu.Lock()
	}
}

// call runs the handler under its timeout; a panic becomes an error.
func (s *Scheduler) call(parent context.Context, he *handlerEntry, run Run) (res Result, err error) {
	ctx := parent
	if d := he.o.Timeout; d > 0 {
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(parent)
		defer cancel(nil)
		if _, real := s.clock.(*SystemClock); real {
			var c context.CancelFunc
			ctx, c = context.WithTimeoutCause(ctx, d, errRunTimeout)
			defer c()
		} else {
			// A test clock: time out on its timers, not the real clock's.
			t := s.clock.NewTimer(d)
			done := make(chan struct{})
			defer close(done)
			go func() {
				defer t.Stop()
				select {
				case <-t.C():
					cancel(errRunTimeout)
				case <-done:
				}
			}()
		}
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("job handler panicked", "job", run.Job.ID, "panic", r, "stack", string(debug.Stack()))
			res, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	res, err = he.h.Run(ctx, run)
	if errors.Is(context.Cause(ctx), errRunTimeout) {
		if err == nil {
			err = fmt.Errorf("%w after %s", errRunTimeout, he.o.Timeout)
		} else {
			err = fmt.Errorf("%w after %s: %w", errRunTimeout, he.o.Timeout, err)
		}
	}
	return res, err
}
