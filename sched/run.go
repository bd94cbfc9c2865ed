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

// submit starts one run of e for the scheduled time, unless e already has
// max_instances runs going (then a max_instances event). Called with s.mu
// held. It reports whether the run was submitted.
func (s *Scheduler) submit(e *entry, scheduled, now time.Time, extra Result, evs *[]Event) bool {
	sched := scheduled
	if limit := max(e.job.MaxInstances, 1); e.running >= limit {
		*evs = append(*evs, s.event(now, EventMaxInstances, e, &sched,
			fmt.Sprintf("run skipped: %d of max_instances %d still running", e.running, limit)))
		return false
	}
	he := s.handlers[e.job.Action.Type]
	if he == nil || s.runCtx == nil {
		// Cannot happen for a valid job of a started scheduler; never lose it silently.
		*evs = append(*evs, s.event(now, EventError, e, &sched, "no handler or scheduler not started"))
		return false
	}
	e.running++
	e.job.LastRunTime = &sched
	s.dirty[e.job.ID] = struct{}{}
	ev := s.event(now, EventSubmitted, e, &sched, "")
	ev.Result = extra
	*evs = append(*evs, ev)
	run := Run{Job: e.snapshot(), ScheduledTime: scheduled}
	s.runs.Add(1)
	go s.execute(e, he, run)
	return true
}

// execute waits for a worker slot (the handler's own limit first, then the
// scheduler's pool), runs the handler, and records the outcome.
func (s *Scheduler) execute(e *entry, he *handlerEntry, run Run) {
	defer s.runs.Done()
	ctx := s.runCtx
	var res Result
	var err error
	var took time.Duration
	if acquire(ctx, he.slots) {
		if acquire(ctx, s.workers) {
			start := s.clock.Elapsed()
			res, err = s.call(ctx, he, run)
			took = s.clock.Elapsed() - start
			<-s.workers
		} else {
			err = fmt.Errorf("not started: %w", context.Cause(ctx))
		}
		if he.slots != nil {
			<-he.slots
		}
	} else {
		err = fmt.Errorf("not started: %w", context.Cause(ctx))
	}

	s.mu.Lock()
	e.running--
	now := s.clock.Now()
	result := "ok"
	if err != nil {
		result = "error: " + err.Error()
	}
	if cur, ok := s.jobs[e.job.ID]; ok && cur == e {
		e.job.LastResult = result
		s.dirty[e.job.ID] = struct{}{}
	}
	kind, msg := EventExecuted, ""
	if err != nil {
		kind, msg = EventError, err.Error()
		s.log.Warn("job run failed", "job", e.job.ID, "scheduled", run.ScheduledTime, "err", err)
	}
	sched := run.ScheduledTime
	ev := s.event(now, kind, e, &sched, msg)
	ev.Duration, ev.Result = took, res
	s.emitUnlock(ev)
}

// acquire takes a slot of sem (nil: no limit), or gives up when ctx ends.
func acquire(ctx context.Context, sem chan struct{}) bool {
	if sem == nil {
		return true
	}
	select {
	case sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// call runs the handler under its timeout; a panic becomes an error.
func (s *Scheduler) call(parent context.Context, he *handlerEntry, run Run) (res Result, err error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	if d := he.o.Timeout; d > 0 {
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
	if err == nil && ctx.Err() != nil && errors.Is(context.Cause(ctx), errRunTimeout) {
		err = fmt.Errorf("%w after %s", errRunTimeout, he.o.Timeout)
	} else if err != nil && errors.Is(context.Cause(ctx), errRunTimeout) {
		err = fmt.Errorf("%w after %s: %w", errRunTimeout, he.o.Timeout, err)
	}
	return res, err
}
