package sched

import (
	"container/heap"
	"context"
	"fmt"
	"runtime"
	"time"
)

const (
	// maxCatchUp bounds the due run times one job keeps at one wake-up (the
	// runs a non-coalescing job may run or report after a long downtime).
	maxCatchUp = 100
	// maxScan bounds the fire times examined for one job at one wake-up;
	// past it the job jumps to its first fire time from now on.
	maxScan = 100_000
	// stepTolerance is how far wall time may drift from elapsed time
	// between two wake-ups before it counts as a clock step.
	stepTolerance = time.Second
	// replanAfter is how long planning may take before its result is
	// considered stale.
	replanAfter = 10 * time.Millisecond
)

// loop is the scheduling goroutine: one timer, aimed at the earliest due
// job, the next checkpoint, or MaxWait from now, whichever comes first.
// Every wake-up compares wall time with the plan, fires what is due by wall
// time, and feeds Liveness.
func (s *Scheduler) loop() {
	defer close(s.loopDone)
	var timer Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	var planWall time.Time
	var planElapsed time.Duration
	for {
		now, el := s.clock.Now(), s.clock.Elapsed()
		if !planWall.IsZero() {
			expected := planWall.Add(el - planElapsed)
			if d := now.Sub(expected); d > stepTolerance || d < -stepTolerance {
				s.log.Warn("wall clock stepped: re-planning", "by", d.Round(time.Millisecond), "now", now)
			}
		}
		s.tick(now, el)
		if s.opts.Liveness != nil {
			s.opts.Liveness()
		}
		planWall, planElapsed = s.clock.Now(), s.clock.Elapsed()
		wait := s.plan(planWall, planElapsed)
		if timer == nil {
			timer = s.clock.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		if s.clock.Elapsed()-planElapsed > replanAfter {
			// Time moved on while we planned (a stalled process, or a
			// test clock advanced meanwhile): the wait was measured from a
			// stale now, and Reset may have dropped a fire. Plan again.
			continue
		}
		select {
		case <-timer.C():
		case <-s.wake:
		case <-s.stop:
			return
		}
	}
}

// plan returns how long the loop may sleep.
func (s *Scheduler) plan(now time.Time, el time.Duration) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	wait := s.opts.MaxWait
	if !s.paused {
		if e := s.queue.peek(); e != nil {
			if d := e.fireAt().Sub(now); d < wait {
				wait = d
			}
		}
	}
	if len(s.dirty) > 0 {
		if d := s.opts.CheckpointInterval - (el - s.lastCheckpoint); d < wait {
			wait = d
		}
	}
	if wait < 0 {
		wait = 0
	}
	return wait
}

// tick fires every job due at now and checkpoints run state when due.
//
// It fires one job per hold of s.mu, as any other change is made: the
// job's runs are handed to workers, and its events go out, before the next
// job due is fired. When a thousand jobs fall due in the same second, the
// first run starts at once, not after the whole second was fired, and the
// workers finish runs while the later jobs are fired. The first run
// started also gets the processor at once (see the yield below).
func (s *Scheduler) tick(now time.Time, el time.Duration) {
	var oneShots []*entry
	var removals []Change
	// Each job's events, in one buffer: emitUnlock returns once they were
	// delivered, and listeners get copies.
	var evs []Event
	yielded := false
	for {
		s.mu.Lock()
		if s.paused || !s.queue.due(now) {
			break // with s.mu held
		}
		e := s.queue.peek()
		clear(evs)
		evs = evs[:0]
		switch {
		case s.untrusted && !triggerKinds[e.kind].elapsed:
			// Wall time is not known good: hold the run until it is.
			heap.Remove(&s.queue, int(e.index))
			s.held[e] = struct{}{}
		case triggerKinds[e.kind].oneShot:
			// Fired together below, after their removal in one commit;
			// the removal is of the job as it is now.
			s.unschedule(e)
			oneShots = append(oneShots, e)
			removals = append(removals, Change{Delete: true, ID: e.job.ID, PrevVersion: e.job.Version})
		default:
			s.fire(e, now, &evs, false)
		}
		yield := s.spawned && !yielded
		s.spawned = false
		s.emitUnlock(evs...)
		if yield {
			// The first worker this wake-up started waits, runnable, on
			// this goroutine's processor until another one steals it, and
			// waking an idle processor takes 0.4-0.9 ms on a VM (and on a
			// Pi's idle core): let it run now. Once per wake-up: each
			// yield costs the loop a trip through the run queue.
			yielded = true
			runtime.Gosched()
		}
	}
	evs = nil
	if len(oneShots) > 0 {
		s.mu.Unlock()
		evs = s.fireOneShots(oneShots, removals, now)
	}
	if el-s.lastCheckpoint >= s.opts.CheckpointInterval {
		if err := s.checkpointLocked(s.runCtx); err != nil {
			s.log.Error("run-state checkpoint failed; will retry", "err", err)
		}
	}
	s.emitUnlock(evs...)
}

// fireOneShots fires one-shot jobs due together, and returns their
// events. Each is removed, durably, before it runs, and all their
// removals go in one commit — a burst of date jobs due at the same moment
// costs one fsync, not one each — made without the scheduler's lock, so
// that nothing waits behind it. A job changed or removed meanwhile keeps
// that change (its commit and ours cannot both pass the version check) and
// is not fired. Should the commit fail, each is tried on its own, so that
// one job the store refuses does not keep the others from running. Called
// without s.mu, which it returns held; the entries are due and out of the
// queue; changes are their removals, each made in the hold of s.mu that
// took its entry out of the queue.
func (s *Scheduler) fireOneShots(es []*entry, changes []Change, now time.Time) []Event {
	err := s.store.Commit(s.runCtxOrBackground(), changes)
	if err != nil {
		s.log.Warn("one-shot jobs: their removal in one commit failed; trying one by one", "jobs", len(es), "err", err)
	}
	s.mu.Lock()
	var evs []Event
	for i, e := range es {
		if s.jobs[changes[i].ID] != e || e.job.Version != changes[i].PrevVersion || e.index >= 0 {
			continue // changed or removed meanwhile: that change stands
		}
		s.fire(e, now, &evs, err == nil)
	}
	return evs
}

// fire handles e, due at now: it works out the run times that fell due
// (one, or several after a downtime or a wall-clock step), applies the
// job's coalesce and misfire_grace_time to them, submits the runs and
// schedules e's next fire time. A one-shot job is removed first, unless
// removed says its removal is committed already. Called with s.mu held;
// e is due.
func (s *Scheduler) fire(e *entry, now time.Time, evs *[]Event, removed bool) {
	first, firstAt := e.next, e.fireAt()
	var buf [1]time.Time // the usual case: one run due
	buf[0] = first
	times := buf[:]
	var skipped int
	var skippedFrom, skippedTo time.Time
	next, ok := e.trig.Next(first, now)
	asked := first // the previous fire time of the last Next
	for scanned := 1; ok && !next.After(now); scanned++ {
		if scanned >= maxScan {
			// Far behind: jump to the grid from now on.
			next, ok = e.trig.Next(time.Time{}, now)
			asked = time.Time{}
			if ok && !next.After(now) {
				asked = next
				next, ok = e.trig.Next(next, now)
			}
			skipped++ // at least one more: the scan stopped short
			break
		}
		if len(times) < maxCatchUp {
			times = append(times, next)
		} else {
			if skipped == 0 {
				skippedFrom = next
			}
			skipped++
			skippedTo = next
		}
		asked = next
		next, ok = e.trig.Next(next, now)
	}
	grace, limited := e.job.grace()
	lateness := func(t time.Time) time.Duration {
		if t.Equal(first) {
			return now.Sub(firstAt)
		}
		return now.Sub(t)
	}
	type decision struct {
		at        time.Time
		missed    string
		coalesced int
	}
	var dbuf [1]decision
	ds := dbuf[:0]
	if e.job.Coalesce {
		last := times[len(times)-1]
		if skipped > 0 {
			last = skippedTo
		}
		d := decision{at: last, coalesced: len(times) - 1 + skipped}
		if late := lateness(last); limited && late > grace {
			d.missed = fmt.Sprintf("missed by %s (misfire_grace_time %s)", late.Round(time.Millisecond), grace)
			if d.coalesced > 0 {
				d.missed += fmt.Sprintf("; %d earlier runs coalesced into it", d.coalesced)
			}
		}
		ds = append(ds, d)
	} else {
		for _, t := range times {
			d := decision{at: t}
			if late := lateness(t); limited && late > grace {
				d.missed = fmt.Sprintf("missed by %s (misfire_grace_time %s)", late.Round(time.Millisecond), grace)
			}
			ds = append(ds, d)
		}
		if skipped > 0 {
			ds = append(ds, decision{at: skippedFrom, missed: fmt.Sprintf(
				"%d or more runs from %s to %s skipped: more than %d fell due at once",
				skipped, skippedFrom.Format(time.RFC3339), skippedTo.Format(time.RFC3339), maxCatchUp)})
		}
	}

	// State a trigger keeps in its document (a boot trigger's boot) is
	// committed before the run, for the same reason as below.
	if k := &triggerKinds[e.kind]; k.beforeRun != nil {
		if spec, changed := k.beforeRun(e.trigger(), s.env()); changed {
			j := e.definition()
			j.Trigger = spec
			err := s.store.Commit(s.runCtxOrBackground(), []Change{{ID: e.job.ID, Job: j, PrevVersion: e.job.Version}})
			if err != nil {
				e.job.LastResult = "error: not run: could not record the run in its trigger first: " + err.Error()
				e.next = time.Time{}
				s.markDirty(e)
				s.schedule(e)
				s.log.Error("job not run: its trigger's state could not be committed", "job", e.job.ID, "err", err)
				at := first
				*evs = append(*evs, s.event(now, EventError, e, &at, e.job.LastResult))
				return
			}
			e.spec = packSpec(spec)
		}
	}

	// A one-shot job is removed, durably, before it runs: a crash can then
	// cost its run but never repeat it.
	if triggerKinds[e.kind].oneShot {
		s.unschedule(e)
		e.next = time.Time{}
		var err error
		if !removed {
			err = s.store.Commit(s.runCtxOrBackground(), []Change{{Delete: true, ID: e.job.ID, PrevVersion: e.job.Version}})
		}
		if err != nil {
			e.job.LastResult = "error: not run: could not remove the one-shot job first: " + err.Error()
			s.markDirty(e)
			s.log.Error("one-shot job not run: its removal could not be committed", "job", e.job.ID, "err", err)
			at := first
			*evs = append(*evs, s.event(now, EventError, e, &at, e.job.LastResult))
			return
		}
		delete(s.jobs, e.job.ID)
		for _, d := range ds {
			s.decide(e, d.at, d.missed, d.coalesced, now, evs)
		}
		*evs = append(*evs, s.event(now, EventRemoved, e, nil, ""))
		return
	}

	for _, d := range ds {
		s.decide(e, d.at, d.missed, d.coalesced, now, evs)
	}
	if ok {
		e.next = next
	} else {
		e.next = time.Time{}
		// A search that gave up (an and whose members stopped agreeing)
		// ends the schedule too, but says so.
		if _, _, err := nextOf(e.trig, asked, now); err != nil {
			e.job.LastResult = "error: no next run: " + err.Error()
			s.log.Error("job has no next run: its trigger's search gave up", "job", e.job.ID, "err", err)
			*evs = append(*evs, s.event(now, EventError, e, nil, e.job.LastResult))
		}
	}
	s.markDirty(e)
	s.schedule(e)
}

// decide reports a missed run or submits it. Called with s.mu held.
func (s *Scheduler) decide(e *entry, at time.Time, missed string, coalesced int, now time.Time, evs *[]Event) {
	if missed != "" {
		e.job.LastResult = "missed"
		s.markDirty(e)
		at2 := at
		*evs = append(*evs, s.event(now, EventMissed, e, &at2, missed))
		return
	}
	if s.skipOnConditions(e, at, now, evs) {
		return
	}
	var extra Result
	if coalesced > 0 {
		extra = Result{"coalesced": coalesced}
	}
	_ = s.submit(e, at, now, extra, evs) // a skipped run has its event
}

func (s *Scheduler) runCtxOrBackground() context.Context {
	if s.runCtx != nil {
		return s.runCtx
	}
	return context.Background()
}

// checkpoint saves the run state of every job that ran since the last one.
func (s *Scheduler) checkpoint(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.checkpointLocked(ctx)
}

// checkpointLocked is checkpoint with s.mu held. Holding it keeps a Commit
// of newer run state from being overwritten by this older snapshot.
func (s *Scheduler) checkpointLocked(ctx context.Context) error {
	s.lastCheckpoint = s.clock.Elapsed()
	if len(s.dirty) == 0 {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	states := make([]RunState, 0, len(s.dirty))
	for _, e := range s.dirty {
		if s.jobs[e.job.ID] != e {
			continue // removed since
		}
		j := e.snapshot()
		states = append(states, RunState{ID: j.ID, NextRunTime: j.NextRunTime, LastRunTime: j.LastRunTime, LastResult: j.LastResult})
	}
	if err := s.store.SaveRunState(ctx, states); err != nil {
		return fmt.Errorf("sched: save run state of %d jobs: %w", len(states), err)
	}
	for i, e := range s.dirty {
		e.dirty = false
		s.dirty[i] = nil
	}
	s.dirty = s.dirty[:0]
	return nil
}
