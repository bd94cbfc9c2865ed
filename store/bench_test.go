package store

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
	bolt "go.etcd.io/bbolt"
)

// The benchmarks compare the store with plain bbolt in the same run, on a
// real disk: $EDGECRON_BENCH_DIR, or a directory made next to this file.
// tmpfs is refused (fsync costs nothing there). docs/durability.md has the
// figures and the commands.

func benchDir(b *testing.B) string {
	b.Helper()
	base := os.Getenv("EDGECRON_BENCH_DIR")
	if base == "" {
		base = "."
	}
	dir, err := os.MkdirTemp(base, ".bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	tmp, err := onTmpfs(dir)
	if err != nil {
		b.Fatal(err)
	}
	if tmp {
		b.Skipf("%s is on tmpfs, where fsync is free: set EDGECRON_BENCH_DIR to a directory on a real disk", dir)
	}
	return dir
}

var benchZone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return loc
}()

// benchJob returns a realistic job: mostly intervals, some one-shot dates.
func benchJob(i int) sched.Job {
	grace := 300 * time.Second
	base := time.Date(2026, 11, 21, 9, 0, 0, 0, benchZone)
	next := base.Add(time.Duration(i) * time.Second)
	last := next.Add(-time.Hour)
	act, _ := sched.NewAction("actuate", map[string]any{"actuator": fmt.Sprintf("relay-%d", i%8), "command": "pulse", "duration": "30s"})
	j := sched.Job{
		ID:               fmt.Sprintf("job-%05d", i),
		Name:             fmt.Sprintf("Water bed %d", i),
		Action:           act,
		MisfireGraceTime: &grace,
		Coalesce:         true,
		MaxInstances:     1,
		Version:          int64(1 + i%4),
		NextRunTime:      &next,
		LastRunTime:      &last,
		LastResult:       "ok",
		Source:           sched.SourceMQTT,
	}
	if i%5 == 0 {
		j.Trigger = sched.TriggerSpec{Type: "date", RunDate: next.Format(time.RFC3339), Timezone: "Europe/Berlin"}
		j.LastRunTime, j.LastResult = nil, ""
	} else {
		j.Trigger = sched.TriggerSpec{Type: "interval", Minutes: float64(1 + i%60), StartDate: "2026-01-01T06:00:00+01:00", Timezone: "Europe/Berlin"}
	}
	return j
}

// jsonJob is the baseline's record: the job document, decoded by
// encoding/json into plain fields.
type jsonJob struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Trigger          sched.TriggerSpec `json:"trigger"`
	Action           sched.Action      `json:"action"`
	MisfireGraceTime *float64          `json:"misfire_grace_time"`
	Coalesce         bool              `json:"coalesce"`
	MaxInstances     int               `json:"max_instances"`
	Paused           bool              `json:"paused"`
	Remote           bool              `json:"remote"`
	Version          int64             `json:"version"`
	NextRunTime      *time.Time        `json:"next_run_time"`
	LastRunTime      *time.Time        `json:"last_run_time"`
	LastResult       string            `json:"last_result"`
	Source           string            `json:"source"`
}

func (d *jsonJob) job() sched.Job {
	j := sched.Job{ID: d.ID, Name: d.Name, Trigger: d.Trigger, Action: d.Action, Coalesce: d.Coalesce,
		MaxInstances: d.MaxInstances, Paused: d.Paused, Remote: d.Remote, Version: d.Version,
		NextRunTime: d.NextRunTime, LastRunTime: d.LastRunTime, LastResult: d.LastResult, Source: d.Source}
	if d.MisfireGraceTime != nil {
		g := time.Duration(*d.MisfireGraceTime * float64(time.Second))
		j.MisfireGraceTime = &g
	}
	return j
}

// schedule compiles every job's trigger and computes its next fire time, as
// the scheduler does on start; it returns how many will fire.
func schedule(b *testing.B, jobs []sched.Job, now time.Time) int {
	n := 0
	for i := range jobs {
		tr, err := jobs[i].Trigger.Compile(time.UTC)
		if err != nil {
			b.Fatalf("job %s: %v", jobs[i].ID, err)
		}
		var prev time.Time
		if jobs[i].LastRunTime != nil {
			prev = *jobs[i].LastRunTime
		}
		if _, ok := tr.Next(prev, now); ok {
			n++
		}
	}
	return n
}

// BenchmarkOpenLoadSchedule10k opens a file of 10,000 jobs, loads them and
// schedules them, through the store and through a plain bbolt +
// encoding/json baseline holding the same jobs as JSON documents,
// alternately in each iteration. store/json is the ratio of the two times.
func BenchmarkOpenLoadSchedule10k(b *testing.B) {
	const n = 10000
	dir := benchDir(b)
	jsonPath, storePath := filepath.Join(dir, "json.db"), filepath.Join(dir, "store.db")
	jobs := make([]sched.Job, n)
	changes := make([]sched.Change, n)
	for i := range jobs {
		jobs[i] = benchJob(i)
		changes[i] = sched.Change{ID: jobs[i].ID, Job: jobs[i]}
	}
	s, err := Open(storePath, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Commit(context.Background(), changes); err != nil {
		b.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(jsonPath, 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucket([]byte("jobs"))
		if err != nil {
			return err
		}
		for i := range jobs {
			v, err := json.Marshal(jobs[i])
			if err != nil {
				return err
			}
			if err := bk.Put([]byte(jobs[i].ID), v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	db.Close()
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

	viaJSON := func() {
		db, err := bolt.Open(jsonPath, 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		var loaded []sched.Job
		if err := db.View(func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("jobs")).ForEach(func(k, v []byte) error {
				var d jsonJob
				if err := json.Unmarshal(v, &d); err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
				loaded = append(loaded, d.job())
				return nil
			})
		}); err != nil {
			b.Fatal(err)
		}
		if got := schedule(b, loaded, now); got == 0 || len(loaded) != n {
			b.Fatalf("baseline loaded %d jobs, %d to fire", len(loaded), got)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	viaStore := func() {
		s, err := Open(storePath, Options{})
		if err != nil {
			b.Fatal(err)
		}
		loaded, err := schedtest.LoadAll(context.Background(), s)
		if err != nil {
			b.Fatal(err)
		}
		if got := schedule(b, loaded, now); got == 0 || len(loaded) != n {
			b.Fatalf("store loaded %d jobs, %d to fire", len(loaded), got)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	var tJSON, tStore time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		first, second, t1, t2 := viaJSON, viaStore, &tJSON, &tStore
		if i%2 == 1 {
			first, second, t1, t2 = viaStore, viaJSON, &tStore, &tJSON
		}
		start := time.Now()
		first()
		*t1 += time.Since(start)
		start = time.Now()
		second()
		*t2 += time.Since(start)
	}
	b.ReportMetric(float64(tJSON.Microseconds())/1e3/float64(b.N), "json-ms/op")
	b.ReportMetric(float64(tStore.Microseconds())/1e3/float64(b.N), "store-ms/op")
	b.ReportMetric(float64(tStore)/float64(tJSON), "store/json")
}

// BenchmarkJobChange times one acknowledged job change (a modify with its
// version check) through the store against a bare bbolt Update writing the
// same bytes into the same buckets, alternately, and reports both p99s and
// their ratio. Use -benchtime=500x or more for a stable p99.
func BenchmarkJobChange(b *testing.B) {
	const jobs = 100
	dir := benchDir(b)
	ctx := context.Background()
	s, err := Open(filepath.Join(dir, "store.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	bare, err := bolt.Open(filepath.Join(dir, "bare.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()
	current := make([]sched.Job, jobs)
	var cs []sched.Change
	for i := range current {
		current[i] = benchJob(i)
		cs = append(cs, sched.Change{ID: current[i].ID, Job: current[i]})
	}
	if err := s.Commit(ctx, cs); err != nil {
		b.Fatal(err)
	}
	barePut := func(tx *bolt.Tx, j *sched.Job) error {
		if err := tx.Bucket(bucketJobs).Put([]byte(j.ID), appendJob(nil, j)); err != nil {
			return err
		}
		return tx.Bucket(bucketRuns).Put([]byte(j.ID), appendRun(nil, runStateOf(j)))
	}
	if err := bare.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketJobs, bucketRuns} {
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		for i := range current {
			if err := barePut(tx, &current[i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}

	bareLat := make([]time.Duration, 0, b.N)
	storeLat := make([]time.Duration, 0, b.N)
	viaBare := func(j *sched.Job) {
		start := time.Now()
		if err := bare.Update(func(tx *bolt.Tx) error { return barePut(tx, j) }); err != nil {
			b.Fatal(err)
		}
		bareLat = append(bareLat, time.Since(start))
	}
	viaStore := func(j *sched.Job) {
		start := time.Now()
		if err := s.Commit(ctx, []sched.Change{{ID: j.ID, Job: *j, PrevVersion: j.Version - 1}}); err != nil {
			b.Fatal(err)
		}
		storeLat = append(storeLat, time.Since(start))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := &current[i%jobs]
		j.Version++
		j.Name = fmt.Sprintf("Water bed %d, change %d", i%jobs, i)
		if i%2 == 0 {
			viaBare(j)
			viaStore(j)
		} else {
			viaStore(j)
			viaBare(j)
		}
	}
	b.StopTimer()
	p := func(l []time.Duration, q float64) float64 {
		slices.Sort(l)
		return float64(l[int(float64(len(l)-1)*q)].Microseconds())
	}
	b.ReportMetric(p(bareLat, 0.5), "bare-p50-µs")
	b.ReportMetric(p(storeLat, 0.5), "store-p50-µs")
	b.ReportMetric(p(bareLat, 0.99), "bare-p99-µs")
	b.ReportMetric(p(storeLat, 0.99), "store-p99-µs")
	b.ReportMetric(p(storeLat, 0.99)/p(bareLat, 0.99), "p99-store/bare")
}

// BenchmarkSchedulerLoad10k is the agent's load on a restart without its
// process: the scheduler's Load of 10,000 stored jobs of the start-up mix
// (schedtest.StartupJobs, actions validated at the last stop) from this
// store, each decoded by it and made a scheduler entry. B/op is what the
// load allocates, every byte of it a page a new process touches first
// (the agent collects no garbage until the jobs are in); kept-B is what
// the scheduler still holds after a collection. docs/performance.md
// (start-up, seventh round) has the figures:
//
//	go test -run '^$' -bench SchedulerLoad10k -benchmem ./store
func BenchmarkSchedulerLoad10k(b *testing.B) {
	const n = 10000
	path := filepath.Join(b.TempDir(), "jobs.db") // no fsync is timed
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := schedtest.CommitStartupJobs(context.Background(), s, n, time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC), false); err != nil {
		b.Fatal(err)
	}
	clock := schedtest.NewFakeClock(time.Date(2026, 12, 5, 11, 0, 0, 0, time.UTC))
	noop := func(context.Context, sched.Run) (sched.Result, error) { return nil, nil }
	var kept uint64
	b.ReportAllocs()
	for b.Loop() {
		sc := sched.New(s, sched.Options{Clock: clock, Location: time.UTC, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ActionsValidated: true})
		if err := sc.Handle("actuate", sched.HandlerFunc{RunFunc: noop}, sched.HandlerOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		if err := sc.Load(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		if sc.Len() != n || sc.Invalid() != 0 {
			b.Fatalf("%d jobs, %d invalid", sc.Len(), sc.Invalid())
		}
		kept += after.HeapAlloc - before.HeapAlloc
		runtime.KeepAlive(sc)
		b.StartTimer()
	}
	b.ReportMetric(float64(kept)/float64(b.N), "kept-B")
}
