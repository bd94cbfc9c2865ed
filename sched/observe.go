package sched

import (
	"time"
)

// Sample is one named value of a reading, as the agent hands it to
// Observe: "temperature" 21.5.
type Sample struct {
	Name  string
	Value float64
}

// observations is what the scheduler knows of the readings it was given:
// the last good one of each sensor (for conditions) and which reading
// triggers watch which sensor. Guarded by Scheduler.mu.
type observations struct {
	last  map[string]*lastReading
	watch map[string][]*entry // sensor → jobs with a reading trigger on it
	stale bool                // watch must be rebuilt: a reading job changed
}

// lastReading is a sensor's last good reading.
type lastReading struct {
	at     time.Time     // its time, as the agent gave it
	el     time.Duration // Clock.Elapsed when it was observed: its age never depends on the wall clock
	failed bool          // the last read failed: conditions on it fail
	values []Sample
}

// get returns the value of the reading ("": the primary, first value).
func (r *lastReading) get(name string) (float64, bool) {
	if name == "" {
		if len(r.values) == 0 {
			return 0, false
		}
		return r.values[0].Value, true
	}
	for i := range r.values {
		if r.values[i].Name == name {
			return r.values[i].Value, true
		}
	}
	return 0, false
}

// Observe hands the scheduler one good reading of sensor, taken at at:
// its values in the driver's order, the first the primary one. Conditions
// on the sensor see it from now on, and every reading trigger that watches
// the sensor is checked against it, in elapsed time (docs/automations.md):
// one that fires submits a run of its job, with at as the run's scheduled
// time, exactly as a timer would. Paused jobs, and every job while the
// scheduler is paused or not started, take no readings: their triggers do
// not advance. Readings are taken whether or not the wall clock is trusted.
// Observe keeps no reference to values.
func (s *Scheduler) Observe(sensor string, at time.Time, values []Sample) {
	s.mu.Lock()
	el := s.clock.Elapsed()
	lr := s.obs.last[sensor]
	if lr == nil {
		if s.obs.last == nil {
			s.obs.last = map[string]*lastReading{}
		}
		lr = &lastReading{}
		s.obs.last[sensor] = lr
	}
	lr.at, lr.el, lr.failed = at, el, false
	lr.values = append(lr.values[:0], values...)
	if !s.running || s.closed || s.paused {
		s.mu.Unlock()
		return
	}
	var evs []Event
	var now time.Time
	for _, e := range s.watchers(sensor) {
		t, ok := e.trig.(*readingTrigger)
		if !ok || e.job.Paused || e.invalid() != "" {
			continue
		}
		v, ok := lr.get(t.value)
		if !ok {
			t.rule.fail(&t.st) // not in this reading: as a failed read
			continue
		}
		if !t.rule.observe(&t.st, v, el) {
			continue
		}
		if now.IsZero() {
			now = s.clock.Now()
		}
		s.fireOnReading(e, at, now, &evs)
	}
	s.emitUnlock(evs...)
}

// LastReading returns sensor's last good reading as Observe was given it:
// its time and a copy of its values. A read that failed since does not
// hide it (conditions see the failure; a caller showing the reading may
// not). ok is false before the sensor's first good reading.
func (s *Scheduler) LastReading(sensor string) (at time.Time, values []Sample, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lr := s.obs.last[sensor]
	if lr == nil {
		return time.Time{}, nil, false
	}
	return lr.at, append([]Sample(nil), lr.values...), true
}

// ObserveFailure tells the scheduler that a read of sensor failed. The
// rule (docs/automations.md): a failed read is no reading. Conditions on
// the sensor fail until its next good reading ("sensor soil: last read
// failed"); the `for` window of every reading trigger on it closes, so the
// condition must hold again, for the whole of `for`, from the next good
// reading; nothing fires. The agent reports the failure itself (the read
// job's error event).
func (s *Scheduler) ObserveFailure(sensor string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lr := s.obs.last[sensor]; lr != nil {
		lr.failed = true
	}
	for _, e := range s.watchers(sensor) {
		if t, ok := e.trig.(*readingTrigger); ok {
			t.rule.fail(&t.st)
		}
	}
}

// fireOnReading submits a run of e for the reading taken at at. Called with
// s.mu held.
func (s *Scheduler) fireOnReading(e *entry, at, now time.Time, evs *[]Event) {
	if loc, err := e.trigger().Location(s.loc); err == nil {
		at = at.In(loc)
	}
	at = at.Round(0).Truncate(time.Microsecond)
	if s.skipOnConditions(e, at, now, evs) {
		return
	}
	_ = s.submit(e, at, now, nil, evs) // a run not submitted has its event
}

// watchers returns the jobs whose reading trigger watches sensor,
// rebuilding the index when a reading job changed. Called with s.mu held.
func (s *Scheduler) watchers(sensor string) []*entry {
	if s.obs.stale || s.obs.watch == nil {
		w := map[string][]*entry{}
		for _, e := range s.jobs {
			if t, ok := e.trig.(*readingTrigger); ok {
				w[t.sensor] = append(w[t.sensor], e)
			}
		}
		s.obs.watch, s.obs.stale = w, false
	}
	return s.obs.watch[sensor]
}

// watchChanged notes that e's trigger may have changed: the index of
// reading triggers is rebuilt before the next reading. Called with s.mu
// held.
func (s *Scheduler) watchChanged(e *entry) {
	if _, ok := e.trig.(*readingTrigger); ok || triggerKinds[e.kind].name == TriggerReading {
		s.obs.stale = true
	}
}
