package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
	bolt "go.etcd.io/bbolt"
)

// grownStore makes a store that held n big jobs and keeps only keep of
// them, so most of its file is free pages.
func grownStore(t *testing.T, n, keep int) (path string, kept []sched.Job) {
	t.Helper()
	path = tempPath(t)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var cs []sched.Change
	for i := range n {
		j := testJob(fmt.Sprintf("job-%03d", i), 1)
		j.Name = strings.Repeat("n", 2000)
		cs = append(cs, put(j, 0))
		if i < keep {
			kept = append(kept, j)
		}
	}
	if err := s.Commit(ctx, cs); err != nil {
		t.Fatal(err)
	}
	cs = cs[:0]
	for i := keep; i < n; i++ {
		cs = append(cs, del(fmt.Sprintf("job-%03d", i), 1))
	}
	if err := s.Commit(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("outbox"))
		if err != nil {
			return err
		}
		return b.Put([]byte("1"), []byte("queued message"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, kept
}

func wantStored(t *testing.T, path string, want []sched.Job) {
	t.Helper()
	s := openT(t, path, Options{ReadOnly: true})
	got, err := schedtest.LoadAll(ctx, s)
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%s holds %d jobs, want %d", path, len(got), len(want))
	}
	for i := range want {
		if d := diffJob(got[i], want[i]); d != "" {
			t.Errorf("job %s: %s", want[i].ID, d)
		}
	}
}

func TestCheckSound(t *testing.T) {
	path, kept := grownStore(t, 50, 10)
	rep, err := Check(path, Options{})
	if err != nil {
		t.Fatalf("Check: %v\n%s", err, rep)
	}
	if rep.Jobs != len(kept) || rep.RunStates != len(kept) || rep.Buckets["outbox"] != 1 || rep.FreePages == 0 || rep.Meta.Boots != 1 {
		t.Errorf("report: %+v", rep)
	}
	out := rep.String()
	for _, want := range []string{path, "jobs:           10 (10 with run state)", "bucket outbox:  1 keys", "result:         ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("report does not say %q:\n%s", want, out)
		}
	}
}

func TestCheckFindsProblems(t *testing.T) {
	path, _ := grownStore(t, 3, 3)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketJobs).Put([]byte("job-001"), []byte{1, 0, 2}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketRuns).Put([]byte("ghost"), appendRun(nil, sched.RunState{LastResult: "ok"})); err != nil {
			return err
		}
		return tx.Bucket(bucketRuns).Put([]byte("job-002"), []byte{7})
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	rep, err := Check(path, Options{})
	if !errors.Is(err, ErrCorrupt) || rep == nil {
		t.Fatalf("Check: err = %v, report %v", err, rep)
	}
	out := rep.String()
	for _, want := range []string{`job "job-001": record is truncated`, `run state "ghost": no such job`,
		`run state of job "job-002": unknown run state record version 7`, "3 problems"} {
		if !strings.Contains(out, want) {
			t.Errorf("report does not say %q:\n%s", want, out)
		}
	}
	// Load keeps the damaged records aside: the other jobs load.
	s := openT(t, path, Options{ReadOnly: true})
	jobs, err := schedtest.LoadAll(ctx, s)
	if err != nil || len(jobs) != 2 || jobs[0].ID != "job-000" || jobs[1].ID != "job-002" || jobs[1].LastRunTime != nil {
		t.Fatalf("Load = %v, %v; want job-000 and job-002 (without its damaged run state)", jobs, err)
	}
	d := damagedT(t, s)
	if len(d) != 2 || d[0].ID != "job-001" || d[0].Kind != "job" || !strings.Contains(d[0].Problem, "truncated") ||
		string(d[0].Record) != "\x01\x00\x02" || d[1].ID != "job-002" || d[1].Kind != "run state" {
		t.Fatalf("Damaged = %+v", d)
	}
}

func TestCheckLocked(t *testing.T) {
	path := tempPath(t)
	openT(t, path, Options{})
	if _, err := Check(path, Options{Timeout: 20 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Fatalf("Check of a running agent's file: %v", err)
	}
	if _, err := CompactFile(path, Options{Timeout: 20 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Fatalf("CompactFile of a running agent's file: %v", err)
	}
}

func TestCompact(t *testing.T) {
	src, kept := grownStore(t, 300, 5)
	dst := filepath.Join(t.TempDir(), "copy.db")
	res, err := Compact(src, dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.After >= res.Before/4 {
		t.Errorf("compacted %d → %d bytes: expected most of the file freed", res.Before, res.After)
	}
	wantStored(t, dst, kept)
	if rep, err := Check(dst, Options{}); err != nil || rep.Buckets["outbox"] != 1 || rep.Meta.Boots != 1 {
		t.Errorf("the copy: %v\n%s", err, rep)
	}

	// An existing destination is never overwritten.
	before := fileHash(t, dst)
	if _, err := Compact(src, dst, Options{}); err == nil || !strings.Contains(err.Error(), "must not exist") {
		t.Errorf("compacting onto an existing file: %v", err)
	}
	if fileHash(t, dst) != before {
		t.Error("an existing destination was modified")
	}
	// A file that is not a store is refused, and no destination is left.
	junk := filepath.Join(t.TempDir(), "junk")
	os.WriteFile(junk, []byte("hello"), 0o600)
	dst2 := filepath.Join(t.TempDir(), "copy2.db")
	if _, err := Compact(junk, dst2, Options{}); !errors.Is(err, ErrNotStore) {
		t.Errorf("compacting junk: %v", err)
	}
	if _, err := os.Stat(dst2); !errors.Is(err, os.ErrNotExist) {
		t.Error("a failed compaction left its destination")
	}
}

func TestCompactFile(t *testing.T) {
	path, kept := grownStore(t, 300, 5)
	os.WriteFile(path+".compact", []byte("leftover of a crashed compaction"), 0o600)
	res, err := CompactFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); res.After >= res.Before/4 || fi.Size() != res.After {
		t.Errorf("compacted %d → %d bytes, file now %d", res.Before, res.After, fi.Size())
	}
	if _, err := os.Stat(path + ".compact"); !errors.Is(err, os.ErrNotExist) {
		t.Error("the temporary copy was left behind")
	}
	wantStored(t, path, kept)
	// The store carries on: boots continue from the compacted meta.
	s := openT(t, path, Options{})
	if m := s.Meta(); m.Boots != 2 || m.Unclean {
		t.Errorf("meta after compaction: %+v", m)
	}
}
