package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
	"github.com/edgecron/edgecron/store"
)

// The scheduler on the real store: the SD-card budget, restart semantics
// and import/export. Every wait is on the scheduler's own signals (armed
// timers, events), bounded by guard.

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

const guard = 20 * time.Second

// sim is a scheduler on a fake clock over a store, recording its events.
type sim struct {
	t     testing.TB
	clock *schedtest.FakeClock
	s     *sched.Scheduler

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every event
	events    []sched.Event
	submitted int
	finished  int
}

func newSim(t testing.TB, st sched.Store, clock *schedtest.FakeClock, checkpoint time.Duration) *sim {
	t.Helper()
	m := &sim{t: t, clock: clock, changed: make(chan struct{})}
	m.s = sched.New(st, sched.Options{
		Clock: clock, Location: time.UTC, CheckpointInterval: checkpoint,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err := m.s.Handle("count", sched.HandlerFunc{
		RunFunc: func(context.Context, sched.Run) (sched.Result, error) { return nil, nil },
	}, sched.HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	m.s.Listen(func(ev sched.Event) {
		m.mu.Lock()
		m.events = append(m.events, ev)
		switch ev.Kind {
		case sched.EventSubmitted:
			m.submitted++
		case sched.EventExecuted, sched.EventError:
			m.finished++
		}
		close(m.changed)
		m.changed = make(chan struct{})
		m.mu.Unlock()
	})
	return m
}

func (m *sim) start() {
	m.t.Helper()
	if err := m.s.Start(context.Background()); err != nil {
		m.t.Fatalf("Start: %v", err)
	}
	m.quiesce()
}

func (m *sim) add(doc string) {
	m.t.Helper()
	p, err := sched.DecodeJob([]byte(doc), sched.ModeAdd)
	if err != nil {
		m.t.Fatalf("DecodeJob(%s): %v", doc, err)
	}
	if _, err := m.s.Add(context.Background(), p, sched.AddOptions{}); err != nil {
		m.t.Fatalf("Add(%s): %v", doc, err)
	}
}

// within runs wait in a goroutine and fails the test if it takes longer
// than guard (a deadlock guard, not a way to let things happen).
func (m *sim) within(what string, wait func()) {
	m.t.Helper()
	done := make(chan struct{})
	go func() { wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(guard):
		m.t.Fatalf("timed out waiting for %s; timers armed: %v", what, m.clock.Deadlines())
	}
}

// quiesce waits until the loop has planned its next wait and every
// submitted run has finished.
func (m *sim) quiesce() {
	m.t.Helper()
	m.within("the loop to plan", func() { m.clock.BlockUntil(1) })
	m.within("the runs to finish", func() {
		for {
			m.mu.Lock()
			done, ch := m.finished >= m.submitted, m.changed
			m.mu.Unlock()
			if done {
				return
			}
			<-ch
		}
	})
}

// waitFinished waits until n runs have finished.
func (m *sim) waitFinished(n int) {
	m.t.Helper()
	m.within(fmt.Sprintf("%d finished runs", n), func() {
		for {
			m.mu.Lock()
			done, ch := m.finished >= n, m.changed
			m.mu.Unlock()
			if done {
				return
			}
			<-ch
		}
	})
}

// take returns the events recorded so far and forgets them.
func (m *sim) take() []sched.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	evs := m.events
	m.events = nil
	return evs
}

// writeBytes returns this process's write_bytes from /proc/self/io, or -1.
func writeBytes() int64 {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "write_bytes: "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// TestSDCardBudget: 20 jobs firing every second for 10 simulated minutes
// cost one commit per checkpoint interval plus one per job change.
func TestSDCardBudget(t *testing.T) {
	const (
		jobs       = 20
		seconds    = 600
		checkpoint = 60 * time.Second
	)
	path := filepath.Join(t.TempDir(), "agent.db")
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := newSim(t, st, schedtest.NewFakeClock(t0), checkpoint)
	if err := m.s.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	before, io0 := st.Stats(), writeBytes()
	for i := range jobs {
		m.add(fmt.Sprintf(`{"id":"job-%02d","trigger":{"type":"interval","seconds":1},"action":{"type":"count"}}`, i))
	}
	m.start()
	m.within("the loop to aim at the first runs", func() { m.clock.WaitForTimer(time.Second) })
	added := st.Stats()
	if d := added.JobCommits - before.JobCommits; d != jobs {
		t.Fatalf("%d job commits for %d adds", d, jobs)
	}
	for i := 1; i <= seconds; i++ {
		m.clock.Advance(time.Second)
		m.waitFinished(i * jobs)
		m.within("the next wait", func() { m.clock.WaitForTimer(time.Second) })
	}
	after, io1 := st.Stats(), writeBytes()

	intervals := int64(seconds * time.Second / checkpoint)
	runCommits := after.Commits - added.Commits
	if runCommits > intervals || after.JobCommits != added.JobCommits {
		t.Errorf("%d runs cost %d commits (%d job commits): want at most one per checkpoint interval (%d)",
			seconds*jobs, runCommits, after.JobCommits-added.JobCommits, intervals)
	}
	if total := after.Commits - before.Commits; total > intervals+jobs {
		t.Errorf("%d commits in all, budget %d (%d intervals + %d job changes)", total, intervals+jobs, intervals, jobs)
	}
	pageSize := int64(st.DB().Info().PageSize)
	bytes := after.BytesWritten - before.BytesWritten
	if budget := (intervals + jobs) * 8 * pageSize; bytes > budget {
		t.Errorf("%d bytes written, budget %d (8 pages per commit)", bytes, budget)
	}
	t.Logf("%d runs in %d simulated seconds: %d commits (%d checkpoints, %d job changes), %d pages = %d bytes written (%.1f KiB per checkpoint); /proc/self/io write_bytes grew by %d",
		seconds*jobs, seconds, after.Commits-before.Commits, after.Checkpoints-before.Checkpoints, after.JobCommits-before.JobCommits,
		after.PagesWritten-before.PagesWritten, bytes,
		float64(after.BytesWritten-added.BytesWritten)/float64(max(runCommits, 1))/1024, io1-io0)

	// A clean shutdown checkpoints once more; the run state is all there.
	if err := m.s.Shutdown(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if d := st.Stats().Commits - after.Commits; d > 1 {
		t.Errorf("shutdown cost %d commits, want at most 1", d)
	}
	loaded, err := schedtest.LoadAll(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	last, next := t0.Add(seconds*time.Second), t0.Add((seconds+1)*time.Second)
	for _, j := range loaded {
		if j.LastRunTime == nil || !j.LastRunTime.Equal(last) || j.NextRunTime == nil || !j.NextRunTime.Equal(next) || j.LastResult != "ok" {
			t.Errorf("job %s stored last %v next %v result %q; want %v, %v, ok", j.ID, j.LastRunTime, j.NextRunTime, j.LastResult, last, next)
		}
	}
}

// crashable is a Store that stops writing when the power goes.
type crashable struct {
	sched.Store
	down atomic.Bool
}

var errPowerLost = errors.New("power lost")

func (c *crashable) Commit(ctx context.Context, cs []sched.Change) error {
	if c.down.Load() {
		return errPowerLost
	}
	return c.Store.Commit(ctx, cs)
}

func (c *crashable) SaveRunState(ctx context.Context, rs []sched.RunState) error {
	if c.down.Load() {
		return errPowerLost
	}
	return c.Store.SaveRunState(ctx, rs)
}

// byJob groups events by job id.
func byJob(evs []sched.Event) map[string][]sched.Event {
	m := map[string][]sched.Event{}
	for _, ev := range evs {
		m[ev.JobID] = append(m[ev.JobID], ev)
	}
	return m
}

// kinds lists events as kind@scheduled-offset, sorted: runs finish and
// removals are announced concurrently, so only the set is fixed.
func kinds(evs []sched.Event) string {
	var ks []string
	for _, ev := range evs {
		s := string(ev.Kind)
		if ev.ScheduledTime != nil {
			s += "@" + ev.ScheduledTime.Sub(t0).String()
		}
		ks = append(ks, s)
	}
	sort.Strings(ks)
	return strings.Join(ks, " ")
}

// TestRestartSemantics runs the scheduler on a store file, cuts the power
// mid-way (no checkpoint, no clean close), restarts ten minutes later and
// then once more cleanly: runs due while down are handled by misfire and
// coalesce, each with an event; the interval grid is kept; a date job that
// ran never runs again, and one due while down runs once.
func TestRestartSemantics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	ctx := context.Background()

	// Boot 1: 30 seconds of normal running.
	st1, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs := &crashable{Store: st1}
	m := newSim(t, cs, schedtest.NewFakeClock(t0), time.Minute)
	// Jobs are added before Start, so that the loop plans once, before the
	// clock moves.
	if err := m.s.Load(ctx); err != nil {
		t.Fatal(err)
	}
	m.add(`{"id":"grid","trigger":{"type":"interval","seconds":10,"start_date":"2026-11-21T08:59:55Z"},"action":{"type":"count"},"misfire_grace_time":30,"coalesce":false,"max_instances":5}`)
	m.add(`{"id":"coal","trigger":{"type":"interval","seconds":10,"start_date":"2026-11-21T08:59:55Z"},"action":{"type":"count"},"misfire_grace_time":30,"coalesce":true}`)
	m.add(`{"id":"once-early","trigger":{"type":"date","run_date":"2026-11-21T09:00:25Z"},"action":{"type":"count"},"misfire_grace_time":null}`)
	m.add(`{"id":"once-late","trigger":{"type":"date","run_date":"2026-11-21T09:05:00Z"},"action":{"type":"count"},"misfire_grace_time":null}`)
	m.add(`{"id":"once-lost","trigger":{"type":"date","run_date":"2026-11-21T09:01:40Z"},"action":{"type":"count"},"misfire_grace_time":10}`)
	m.start()
	m.within("the loop to aim at the first run", func() { m.clock.WaitForTimer(5 * time.Second) })
	for range 30 {
		m.clock.Advance(time.Second)
		m.quiesce()
	}
	ev1 := byJob(m.take())
	if got := kinds(ev1["once-early"]); got != "added executed@25s removed submitted@25s" {
		t.Fatalf("boot 1, once-early: %s", got)
	}
	if got := kinds(ev1["grid"]); got != "added executed@15s executed@25s executed@5s submitted@15s submitted@25s submitted@5s" {
		t.Fatalf("boot 1, grid: %s", got)
	}

	// The power goes: nothing more reaches the file, no clean close.
	cs.down.Store(true)
	if err := m.s.Shutdown(ctx, true); !errors.Is(err, errPowerLost) {
		t.Fatalf("Shutdown with the power gone: %v", err)
	}
	if err := st1.DB().Close(); err != nil {
		t.Fatal(err)
	}

	// Boot 2, ten minutes later.
	down := 10 * time.Minute
	st2, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if meta := st2.Meta(); !meta.Unclean || meta.Boots != 2 {
		t.Errorf("boot 2 meta: %+v, want an unclean previous boot", meta)
	}
	stored, err := schedtest.LoadAll(ctx, st2)
	if err != nil {
		t.Fatal(err)
	}
	var gridNext time.Time
	for _, j := range stored {
		switch j.ID {
		case "once-early":
			t.Fatal("the date job that ran is still stored")
		case "grid":
			gridNext = *j.NextRunTime // as of the last commit: the crash lost the run state since
		}
	}
	m = newSim(t, st2, schedtest.NewFakeClock(t0.Add(down)), time.Minute)
	m.start()
	ev2 := byJob(m.take())

	// grid: one event per grid point from the stored next run to now; the
	// ones within misfire_grace_time (30s) run, the others are missed.
	var want []string
	for at := gridNext; !at.After(t0.Add(down)); at = at.Add(10 * time.Second) {
		if t0.Add(down).Sub(at) <= 30*time.Second {
			want = append(want, "submitted@"+at.Sub(t0).String(), "executed@"+at.Sub(t0).String())
		} else {
			want = append(want, "missed@"+at.Sub(t0).String())
		}
	}
	sort.Strings(want)
	if got := kinds(ev2["grid"]); got != strings.Join(want, " ") {
		t.Errorf("boot 2, grid:\n got  %s\n want %s", got, strings.Join(want, " "))
	}
	if j, err := m.s.Get("grid"); err != nil || !j.NextRunTime.Equal(t0.Add(down+5*time.Second)) {
		t.Errorf("boot 2, grid next run %v (%v): want the grid point %v", j.NextRunTime, err, t0.Add(down+5*time.Second))
	}
	// coal: everything due coalesces into one run of the last grid point.
	if evs := ev2["coal"]; len(evs) != 2 || evs[0].Kind != sched.EventSubmitted ||
		!evs[0].ScheduledTime.Equal(t0.Add(down-5*time.Second)) || evs[0].Result["coalesced"] == nil {
		t.Errorf("boot 2, coal: %s %v", kinds(evs), evs)
	}
	if got := kinds(ev2["once-early"]); got != "" {
		t.Errorf("boot 2: the date job that ran before the crash has events: %s", got)
	}
	if got := kinds(ev2["once-late"]); got != "executed@5m0s removed submitted@5m0s" {
		t.Errorf("boot 2, once-late (due while down, no grace limit): %s", got)
	}
	if got := kinds(ev2["once-lost"]); got != "missed@1m40s removed" {
		t.Errorf("boot 2, once-lost (due while down, grace 10s): %s", got)
	}
	if err := m.s.Shutdown(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := st2.Close(); err != nil {
		t.Fatal(err)
	}

	// Boot 3, a minute later, after a clean stop: the one-shots are gone for
	// good and the grid goes on.
	st3, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st3.Close()
	if meta := st3.Meta(); meta.Unclean || meta.Boots != 3 {
		t.Errorf("boot 3 meta: %+v", meta)
	}
	m = newSim(t, st3, schedtest.NewFakeClock(t0.Add(down+time.Minute)), time.Minute)
	m.start()
	defer m.s.Shutdown(ctx, true)
	ev3 := byJob(m.take())
	for _, id := range []string{"once-early", "once-late", "once-lost"} {
		if got := kinds(ev3[id]); got != "" {
			t.Errorf("boot 3, %s: %s", id, got)
		}
		if _, err := m.s.Get(id); !errors.Is(err, sched.ErrNotFound) {
			t.Errorf("boot 3, %s is still there: %v", id, err)
		}
	}
	for _, ev := range ev3["grid"] {
		if off := ev.ScheduledTime.Sub(t0.Add(-5 * time.Second)); off%(10*time.Second) != 0 {
			t.Errorf("boot 3, grid ran off its grid: %v", ev.ScheduledTime)
		}
	}
	if len(ev3["grid"]) == 0 {
		t.Error("boot 3, grid: no events for the minute it was down")
	}
}

// TestImportExport imports jobs through the scheduler into a store file,
// exports them offline from a read-only open, and compares.
func TestImportExport(t *testing.T) {
	const n = 40
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "agent.db")
	var docs []string
	for i := range n {
		switch i % 3 {
		case 0:
			docs = append(docs, fmt.Sprintf(`{"id":"iv-%d","name":"Interval %d","trigger":{"type":"interval","minutes":%d,"start_date":"2026-11-21T06:00:00Z","timezone":"Europe/Berlin"},"action":{"type":"count","n":%d},"misfire_grace_time":%d,"coalesce":false,"max_instances":2}`, i, i, i+1, i, i*10+10))
		case 1:
			docs = append(docs, fmt.Sprintf(`{"id":"date-%d","trigger":{"type":"date","run_date":"2026-12-%02d 18:00:00"},"action":{"type":"count"},"misfire_grace_time":null,"paused":true}`, i, i%28+1))
		default:
			docs = append(docs, fmt.Sprintf(`{"id":"h-%d","name":"Hourly","trigger":{"type":"interval","hours":1.5,"jitter":3},"action":{"type":"count","payload":"ä & <b>"}}`, i))
		}
	}
	input := []byte("[" + strings.Join(docs, ",") + "]")
	ps, err := sched.DecodeJobs(input, sched.ModeImport)
	if err != nil {
		t.Fatal(err)
	}

	export := func(path string) []byte {
		t.Helper()
		ro, err := store.Open(path, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		m := newSim(t, ro, schedtest.NewFakeClock(t0), time.Minute)
		if err := m.s.Load(ctx); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(m.s.List())
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	importInto := func(path string, ps []sched.Patch) []sched.Job {
		t.Helper()
		st, err := store.Open(path, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		m := newSim(t, st, schedtest.NewFakeClock(t0), time.Minute)
		if err := m.s.Load(ctx); err != nil {
			t.Fatal(err)
		}
		before := st.Stats().JobCommits
		jobs, err := m.s.Import(ctx, ps, sched.OpOptions{Source: sched.SourceCLI})
		if err != nil {
			t.Fatal(err)
		}
		if d := st.Stats().JobCommits - before; d != 1 {
			t.Errorf("an import of %d jobs took %d commits, want 1", len(ps), d)
		}
		return jobs
	}

	imported := importInto(path, ps)
	out := export(path)
	back, err := sched.DecodeJobs(out, sched.ModeImport)
	if err != nil {
		t.Fatalf("decoding the export: %v\n%s", err, out)
	}
	if len(back) != n {
		t.Fatalf("exported %d jobs, imported %d", len(back), n)
	}
	in := map[string]sched.Patch{}
	for _, p := range ps {
		in[p.Job.ID] = p
	}
	for _, p := range back {
		w, ok := in[p.Job.ID]
		if !ok {
			t.Errorf("exported job %s was never imported", p.Job.ID)
			continue
		}
		// The fields the input gave come back as given (an interval
		// without start_date gets the import time, stored); the others
		// took the defaults.
		want := p.Job
		in := w.Job
		if in.Trigger.Type == "interval" && in.Trigger.StartDate == "" && p.Job.Trigger.StartDate != "" {
			in.Trigger.StartDate = p.Job.Trigger.StartDate
		}
		for _, f := range []struct {
			field sched.Field
			set   func()
		}{
			{sched.FieldName, func() { want.Name = in.Name }},
			{sched.FieldTrigger, func() { want.Trigger = in.Trigger }},
			{sched.FieldAction, func() { want.Action = in.Action }},
			{sched.FieldMisfireGraceTime, func() { want.MisfireGraceTime = in.MisfireGraceTime }},
			{sched.FieldCoalesce, func() { want.Coalesce = in.Coalesce }},
			{sched.FieldMaxInstances, func() { want.MaxInstances = in.MaxInstances }},
			{sched.FieldPaused, func() { want.Paused = in.Paused }},
		} {
			if w.Has(f.field) {
				f.set()
			}
		}
		if d := schedtest.JobDiff(want, p.Job); d != "" {
			t.Errorf("export differs from the import: %s", d)
		}
	}
	// The read-only fields came from the store: what Import returned.
	var exported []map[string]any
	json.Unmarshal(out, &exported)
	byID := map[string]map[string]any{}
	for _, e := range exported {
		byID[e["id"].(string)] = e
	}
	for _, j := range imported {
		e := byID[j.ID]
		want, _ := json.Marshal(j)
		var w map[string]any
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(e, w) {
			t.Errorf("job %s:\n exported %v\n imported %v", j.ID, e, w)
		}
	}
	// Importing the export into a new store exports the same jobs again
	// (next_run_time aside: an import recomputes it).
	path2 := filepath.Join(t.TempDir(), "copy.db")
	importInto(path2, back)
	var again []map[string]any
	json.Unmarshal(export(path2), &again)
	if len(again) != len(exported) {
		t.Fatalf("second export: %d jobs, first %d", len(again), len(exported))
	}
	for _, e := range again {
		first := byID[e["id"].(string)]
		delete(first, "next_run_time")
		delete(e, "next_run_time")
		if !reflect.DeepEqual(e, first) {
			t.Errorf("export → import → export differs:\n %v\n %v", first, e)
		}
	}
}

// BenchmarkCommitsPerHour runs 20 jobs firing every second for one
// simulated hour per iteration on a store file, with the default checkpoint
// interval, and reports the commits and bytes written per hour at steady
// state (job adds excluded).
func BenchmarkCommitsPerHour(b *testing.B) {
	const jobs = 20
	dir := os.Getenv("EDGECRON_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("commits-%d.db", time.Now().UnixNano()))
	b.Cleanup(func() { os.Remove(path) })
	st, err := store.Open(path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	m := newSim(b, st, schedtest.NewFakeClock(t0), sched.DefaultCheckpointInterval)
	if err := m.s.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	for i := range jobs {
		m.add(fmt.Sprintf(`{"id":"job-%02d","trigger":{"type":"interval","seconds":1},"action":{"type":"count"}}`, i))
	}
	m.start()
	defer m.s.Shutdown(context.Background(), true)
	m.within("the first wait", func() { m.clock.WaitForTimer(time.Second) })
	before := st.Stats()
	runs := 0
	b.ResetTimer()
	for range b.N {
		for range 3600 {
			m.clock.Advance(time.Second)
			runs += jobs
			m.waitFinished(runs)
			m.within("the next wait", func() { m.clock.WaitForTimer(time.Second) })
		}
	}
	b.StopTimer()
	after := st.Stats()
	b.ReportMetric(float64(after.Commits-before.Commits)/float64(b.N), "commits/hour")
	b.ReportMetric(float64(after.BytesWritten-before.BytesWritten)/1024/float64(b.N), "KiB/hour")
	b.ReportMetric(0, "ns/op")
}
