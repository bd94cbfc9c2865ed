package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
	bolt "go.etcd.io/bbolt"
)

var ctx = context.Background()

func TestOpenFsyncOn(t *testing.T) {
	s := openT(t, tempPath(t), Options{})
	if s.DB().NoSync {
		t.Fatal("bbolt NoSync is on: commits would not be fsynced before they are acknowledged")
	}
	if s.DB().MaxSize != DefaultMaxSize {
		t.Errorf("MaxSize = %d, want %d", s.DB().MaxSize, DefaultMaxSize)
	}
}

func TestMetaBootsAndCleanShutdown(t *testing.T) {
	path := tempPath(t)
	clock := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }

	s, err := Open(path, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	m := s.Meta()
	if m.Schema != SchemaVersion || m.Migrated != 0 || m.Boots != 1 || m.Unclean || !m.LastCleanShutdown.IsZero() || !m.Created.Equal(clock) {
		t.Fatalf("new store meta = %+v", m)
	}
	clock = clock.Add(time.Hour)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	m = s.Meta()
	if m.Boots != 2 || m.Unclean || !m.LastCleanShutdown.Equal(clock) || m.Migrated != SchemaVersion {
		t.Fatalf("after a clean close: meta = %+v", m)
	}
	// A crash: the file is released without Close recording a shutdown.
	if err := s.db.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, path, Options{Now: now})
	m = s.Meta()
	if m.Boots != 3 || !m.Unclean || !m.LastCleanShutdown.Equal(clock) {
		t.Fatalf("after a crash: meta = %+v", m)
	}
}

func TestOpenLocked(t *testing.T) {
	path := tempPath(t)
	openT(t, path, Options{})
	for _, ro := range []bool{false, true} {
		_, err := Open(path, Options{Timeout: 50 * time.Millisecond, ReadOnly: ro})
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("second Open (read-only %v): err = %v, want ErrLocked", ro, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "the agent holds "+path) {
			t.Errorf("error %q does not say the agent holds %s", msg, path)
		}
	}
}

// boltFile makes a bbolt file at path and lets fn fill it.
func boltFile(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesForeignCorruptAndNewer(t *testing.T) {
	store := func(t *testing.T, path string) {
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(ctx, []sched.Change{put(testJob("a", 1), 0)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		make func(t *testing.T, path string)
		want error
		says string
	}{
		{"text file", func(t *testing.T, path string) {
			os.WriteFile(path, []byte("device_id: greenhouse-1\n"), 0o600)
		}, ErrNotStore, "not a bbolt database"},
		{"random bytes", func(t *testing.T, path string) {
			b := make([]byte, 64<<10)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			os.WriteFile(path, b, 0o600)
		}, ErrNotStore, "not a bbolt database"},
		{"zeroed meta pages", func(t *testing.T, path string) {
			store(t, path)
			f, _ := os.OpenFile(path, os.O_WRONLY, 0)
			f.WriteAt(make([]byte, 8192), 0)
			f.Close()
		}, ErrNotStore, "meta pages"},
		{"another program's bbolt file", func(t *testing.T, path string) {
			boltFile(t, path, func(tx *bolt.Tx) error {
				_, err := tx.CreateBucket([]byte("widgets"))
				return err
			})
		}, ErrNotStore, `buckets ["widgets"]`},
		{"meta of another format", func(t *testing.T, path string) {
			boltFile(t, path, func(tx *bolt.Tx) error {
				b, _ := tx.CreateBucket([]byte("meta"))
				return b.Put([]byte("format"), []byte("other-app"))
			})
		}, ErrNotStore, `format "other-app"`},
		{"newer schema", func(t *testing.T, path string) {
			store(t, path)
			boltFile(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(keySchema, be32(SchemaVersion+1))
			})
		}, ErrNewerSchema, "downgraded"},
		{"damaged meta value", func(t *testing.T, path string) {
			store(t, path)
			boltFile(t, path, func(tx *bolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(keyBoots, []byte{1, 2, 3})
			})
		}, ErrCorrupt, "boots"},
		{"missing jobs bucket", func(t *testing.T, path string) {
			store(t, path)
			boltFile(t, path, func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketJobs) })
		}, ErrCorrupt, "jobs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tempPath(t)
			tt.make(t, path)
			before := fileHash(t, path)
			for _, ro := range []bool{false, true} {
				s, err := Open(path, Options{ReadOnly: ro})
				if err == nil {
					s.Close()
					t.Fatalf("Open (read-only %v) succeeded", ro)
				}
				if !errors.Is(err, tt.want) {
					t.Errorf("err = %v, want %v", err, tt.want)
				}
				if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, tt.says) {
					t.Errorf("error %q does not name the file and say %q", msg, tt.says)
				}
			}
			if fileHash(t, path) != before {
				t.Error("the refused file was modified")
			}
		})
	}
}

func TestMigration(t *testing.T) {
	// A second schema step, as a future layout change would add one: it
	// rewrites every job (here: renames it) and must run atomically.
	rename := func(fail bool) migration {
		return func(tx *bolt.Tx, now time.Time) error {
			jb := tx.Bucket(bucketJobs)
			err := jb.ForEach(func(k, v []byte) error {
				j := sched.Job{ID: string(k)}
				if err := decodeJob(v, &j); err != nil {
					return err
				}
				j.Name = "migrated " + j.Name
				return jb.Put(k, appendJob(nil, &j))
			})
			if err == nil && fail {
				err = errors.New("disk on fire")
			}
			return err
		}
	}

	t.Run("empty file is schema 0", func(t *testing.T) {
		path := tempPath(t)
		boltFile(t, path, func(*bolt.Tx) error { return nil })
		s := openT(t, path, Options{})
		if m := s.Meta(); m.Migrated != 0 || m.Schema != SchemaVersion {
			t.Fatalf("meta = %+v, want migrated from 0 to %d", m, SchemaVersion)
		}
	})

	path := tempPath(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, []sched.Change{put(testJob("a", 1), 0), put(testJob("b", 2), 0)}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	t.Run("read-only refuses to migrate", func(t *testing.T) {
		_, err := open(path, Options{ReadOnly: true}, append(migrations[:SchemaVersion:SchemaVersion], rename(false)))
		if err == nil || !strings.Contains(err.Error(), "needs a migration") {
			t.Fatalf("err = %v, want a migration refusal", err)
		}
	})

	t.Run("failing step changes nothing", func(t *testing.T) {
		before := fileHash(t, path)
		_, err := open(path, Options{}, append(migrations[:SchemaVersion:SchemaVersion], rename(true)))
		if err == nil || !strings.Contains(err.Error(), "disk on fire") || !strings.Contains(err.Error(), path) {
			t.Fatalf("err = %v, want the failing step named with the file", err)
		}
		if fileHash(t, path) != before {
			t.Fatal("a failed migration modified the file")
		}
	})

	t.Run("upgrade", func(t *testing.T) {
		s, err := open(path, Options{}, append(migrations[:SchemaVersion:SchemaVersion], rename(false)))
		if err != nil {
			t.Fatal(err)
		}
		if m := s.Meta(); m.Migrated != SchemaVersion || m.Schema != SchemaVersion+1 {
			t.Errorf("meta = %+v", m)
		}
		jobs, err := schedtest.LoadAll(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			if !strings.HasPrefix(j.Name, "migrated ") {
				t.Errorf("job %s not migrated: %q", j.ID, j.Name)
			}
		}
		s.Close()
		// This build now meets a file one schema ahead of it.
		if _, err := Open(path, Options{}); !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("older build opening the migrated file: err = %v", err)
		}
	})
}

func TestCommitLoadRoundTrip(t *testing.T) {
	path := tempPath(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	bare := sched.Job{ID: "bare", Version: 1, Trigger: sched.TriggerSpec{Type: "date", RunDate: "2026-12-01T00:00:00Z"},
		Action: sched.Action{Type: "read"}}
	neg := testJob("neg.zero_1", 3)
	negz := 0.0
	neg.Trigger = sched.TriggerSpec{Type: "interval", Seconds: -negz * 1, Minutes: 1.5, Weeks: 1e-9, Jitter: 30}
	neg.MisfireGraceTime = new(time.Duration) // zero, but set: not "no limit"
	want := []sched.Job{testJob("a", 1), bare, testJob("b-2", 7), neg}
	var cs []sched.Change
	for _, j := range want {
		cs = append(cs, put(j, 0))
	}
	if err := s.Commit(ctx, cs); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store) {
		t.Helper()
		got, err := schedtest.LoadAll(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("Load returned %d jobs, want %d", len(got), len(want))
		}
		byID := map[string]sched.Job{}
		for _, j := range got {
			byID[j.ID] = j
		}
		for _, w := range want {
			if d := diffJob(byID[w.ID], w); d != "" {
				t.Errorf("job %s: %s", w.ID, d)
			}
		}
	}
	check(s)
	s.Close()
	check(openT(t, path, Options{ReadOnly: true}))
}

func TestCommitVersionChecks(t *testing.T) {
	a1, b1 := testJob("a", 1), testJob("b", 1)
	a2 := testJob("a", 2)
	tests := []struct {
		name    string
		changes []sched.Change
		want    error  // nil: applies
		says    string // in the error
		after   map[string]int64
	}{
		{"add absent", []sched.Change{put(testJob("c", 1), 0)}, nil, "", map[string]int64{"a": 1, "b": 1, "c": 1}},
		{"add existing", []sched.Change{put(a1, 0)}, sched.ErrVersionConflict, `"a" already exists`, nil},
		{"modify on version", []sched.Change{put(a2, 1)}, nil, "", map[string]int64{"a": 2, "b": 1}},
		{"modify stale", []sched.Change{put(a2, 5)}, sched.ErrVersionConflict, "at version 1, expected version 5", nil},
		{"modify absent", []sched.Change{put(testJob("c", 2), 1)}, sched.ErrVersionConflict, "does not exist", nil},
		{"replace unchecked", []sched.Change{put(testJob("a", 9), -1), put(testJob("c", 1), -1)}, nil, "", map[string]int64{"a": 9, "b": 1, "c": 1}},
		{"delete on version", []sched.Change{del("a", 1)}, nil, "", map[string]int64{"b": 1}},
		{"delete stale", []sched.Change{del("a", 2)}, sched.ErrVersionConflict, "expected version 2", nil},
		{"delete unchecked absent", []sched.Change{del("zz", -1)}, nil, "", map[string]int64{"a": 1, "b": 1}},
		{"later change sees earlier", []sched.Change{put(a2, 1), put(testJob("a", 3), 2), del("b", 1)}, nil, "", map[string]int64{"a": 3}},
		{"all or nothing", []sched.Change{put(testJob("c", 1), 0), del("a", 1), put(b1, 0)}, sched.ErrVersionConflict, `"b" already exists`, nil},
		{"bad id", []sched.Change{put(testJob("no/slash", 1), 0)}, nil, "id", nil},
		{"id mismatch", []sched.Change{{ID: "x", Job: testJob("y", 1)}}, nil, `puts job "y" under id "x"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openT(t, tempPath(t), Options{})
			if err := s.Commit(ctx, []sched.Change{put(a1, 0), put(b1, 0)}); err != nil {
				t.Fatal(err)
			}
			err := s.Commit(ctx, tt.changes)
			switch {
			case tt.says == "" && err != nil:
				t.Fatalf("Commit: %v", err)
			case tt.says != "" && err == nil:
				t.Fatal("Commit succeeded, want an error")
			case tt.says != "" && !strings.Contains(err.Error(), tt.says):
				t.Errorf("error %q does not say %q", err, tt.says)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			after := tt.after
			if err != nil {
				after = map[string]int64{"a": 1, "b": 1}
			}
			jobs, err := schedtest.LoadAll(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, j := range jobs {
				got[j.ID] = j.Version
			}
			if len(got) != len(after) {
				t.Fatalf("stored %v, want %v", got, after)
			}
			for id, v := range after {
				if got[id] != v {
					t.Fatalf("stored %v, want %v", got, after)
				}
			}
		})
	}
}

func TestSaveRunState(t *testing.T) {
	s := openT(t, tempPath(t), Options{})
	a, b := testJob("a", 1), testJob("b", 1)
	b.NextRunTime, b.LastRunTime, b.LastResult = nil, nil, ""
	if err := s.Commit(ctx, []sched.Change{put(a, 0), put(b, 0)}); err != nil {
		t.Fatal(err)
	}
	next := time.Date(2026, 11, 24, 6, 30, 0, 0, time.UTC)
	last := next.Add(-24 * time.Hour)
	states := []sched.RunState{
		{ID: "a", NextRunTime: &next, LastRunTime: &last, LastResult: "error: timeout"},
		{ID: "b", NextRunTime: &next},
		{ID: "gone", NextRunTime: &next}, // removed meanwhile: ignored
	}
	before := s.Stats()
	if err := s.SaveRunState(ctx, states); err != nil {
		t.Fatal(err)
	}
	mid := s.Stats()
	if mid.Checkpoints != before.Checkpoints+1 || mid.Commits != before.Commits+1 {
		t.Fatalf("stats after a checkpoint: %+v (before %+v)", mid, before)
	}
	// The same states again: nothing to write, no commit.
	if err := s.SaveRunState(ctx, states); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Commits != mid.Commits || st.Unchanged != mid.Unchanged+1 {
		t.Fatalf("an unchanged checkpoint committed: %+v (before %+v)", st, mid)
	}
	jobs, err := schedtest.LoadAll(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 {
		t.Fatalf("Load: %d jobs, want 2 (run state must not create jobs)", len(jobs))
	}
	wantA := a
	wantA.NextRunTime, wantA.LastRunTime, wantA.LastResult = &next, &last, "error: timeout"
	wantB := b
	wantB.NextRunTime = &next
	for i, w := range []sched.Job{wantA, wantB} {
		if d := diffJob(jobs[i], w); d != "" {
			t.Errorf("job %s: %s", w.ID, d)
		}
	}
	// Clearing run state, then a job change rewriting it.
	if err := s.SaveRunState(ctx, []sched.RunState{{ID: "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRuns).Get([]byte("b")) != nil {
			t.Error("an empty run state left a record")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, []sched.Change{del("a", 1)}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketRuns).Get([]byte("a")) != nil {
			t.Error("a removed job left its run state")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestReadOnly(t *testing.T) {
	path := tempPath(t)
	if _, err := Open(path, Options{ReadOnly: true}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("read-only Open of a missing file: err = %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("read-only Open created the file")
	}
	s, _ := Open(path, Options{})
	s.Commit(ctx, []sched.Change{put(testJob("a", 1), 0)})
	s.Close()
	before := fileHash(t, path)

	r := openT(t, path, Options{ReadOnly: true})
	if m := r.Meta(); m.Boots != 1 {
		t.Errorf("read-only open counted a boot: %+v", m)
	}
	if err := r.Commit(ctx, []sched.Change{put(testJob("b", 1), 0)}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Commit: err = %v, want ErrReadOnly", err)
	}
	if err := r.SaveRunState(ctx, []sched.RunState{{ID: "a"}}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("SaveRunState: err = %v, want ErrReadOnly", err)
	}
	// Readers share the lock.
	openT(t, path, Options{ReadOnly: true})
	r.Close()
	if fileHash(t, path) != before {
		t.Error("a read-only open modified the file")
	}
}

func TestMaxSize(t *testing.T) {
	s := openT(t, tempPath(t), Options{MaxSize: 1 << 20})
	big := testJob("big", 1)
	big.Action.Raw = []byte(`{"type":"publish","payload":"` + strings.Repeat("x", 100<<10) + `"}`)
	var n int
	var err error
	for n = 0; n < 100; n++ {
		j := big
		j.ID = "big" + strings.Repeat("0", n%3) + string(rune('a'+n%26)) + string(rune('a'+n/26))
		if err = s.Commit(ctx, []sched.Change{put(j, 0)}); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), "compact") {
		t.Fatalf("after %d jobs of 100 KiB: err = %v, want ErrFull", n, err)
	}
	if fi, _ := os.Stat(s.Path()); fi.Size() > 1<<20 {
		t.Errorf("file grew to %d bytes past MaxSize", fi.Size())
	}
	jobs, lerr := schedtest.LoadAll(ctx, s)
	if lerr != nil || len(jobs) != n {
		t.Fatalf("after ErrFull: Load = %d jobs, %v; want the %d committed ones", len(jobs), lerr, n)
	}
	// Removing jobs frees pages that later commits reuse.
	if err := s.Commit(ctx, []sched.Change{del(jobs[0].ID, 1), del(jobs[1].ID, 1)}); err != nil {
		t.Fatalf("removing after ErrFull: %v", err)
	}
	if err := s.Commit(ctx, []sched.Change{put(big, 0)}); err != nil {
		t.Fatalf("adding into freed pages: %v", err)
	}
}

func TestClosed(t *testing.T) {
	s, err := Open(tempPath(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := schedtest.LoadAll(ctx, s); !errors.Is(err, ErrClosed) {
		t.Errorf("Load after Close: %v", err)
	}
	if err := s.Commit(ctx, []sched.Change{put(testJob("a", 1), 0)}); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close: %v", err)
	}
}

func TestCancelledContext(t *testing.T) {
	s := openT(t, tempPath(t), Options{})
	c, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Commit(c, []sched.Change{put(testJob("a", 1), 0)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit: %v", err)
	}
	if jobs, _ := schedtest.LoadAll(ctx, s); len(jobs) != 0 {
		t.Fatal("a cancelled Commit wrote")
	}
}
