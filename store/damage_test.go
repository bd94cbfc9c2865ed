package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sched/schedtest"
	bolt "go.etcd.io/bbolt"
)

var (
	sampleOnce sync.Once
	sampleFile []byte
)

// sampleStore returns the bytes of a small closed store file.
func sampleStore(t testing.TB) []byte {
	sampleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "edgecron-sample")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "agent.db")
		s, err := Open(path, Options{})
		if err != nil {
			panic(err)
		}
		var cs []sched.Change
		for i := range 60 {
			j := testJob(fmt.Sprintf("job-%02d", i), int64(i+1))
			j.Name = strings.Repeat("x", i*40)
			cs = append(cs, put(j, 0))
		}
		if err := s.Commit(ctx, cs); err != nil {
			panic(err)
		}
		if err := s.Close(); err != nil {
			panic(err)
		}
		sampleFile, err = os.ReadFile(path)
		if err != nil {
			panic(err)
		}
	})
	return sampleFile
}

// FuzzOpenDamaged overwrites part of a store file and opens it: the store
// must report the damage as an error naming the file (never crash, never
// touch a file it refused), or open it and load or refuse its records.
func FuzzOpenDamaged(f *testing.F) {
	file := sampleStore(f)
	for _, off := range []uint32{0, 16, 4096 + 16, 8192, 12288, uint32(len(file) - 4096), uint32(len(file) - 100)} {
		f.Add(off, make([]byte, 64))
		f.Add(off, []byte{0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 1})
	}
	f.Fuzz(func(t *testing.T, off uint32, patch []byte) {
		b := append([]byte(nil), file...)
		copy(b[int(off)%len(b):], patch)
		path := filepath.Join(t.TempDir(), "agent.db")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		before := fileHash(t, path)
		for _, ro := range []bool{true, false} {
			s, err := Open(path, Options{ReadOnly: ro})
			if err != nil {
				if !strings.Contains(err.Error(), path) {
					t.Fatalf("error %q does not name the file", err)
				}
				if fileHash(t, path) != before {
					t.Fatalf("a refused file was modified (read-only %v): %v", ro, err)
				}
				continue
			}
			if _, err := schedtest.LoadAll(ctx, s); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Load: %v", err)
			}
			if rep, err := s.check(); err != nil && (!errors.Is(err, ErrCorrupt) || rep == nil) {
				t.Fatalf("check: %v", err)
			}
			if !ro {
				_ = s.Commit(ctx, []sched.Change{put(testJob("new", 1), -1)})
			}
			_ = s.Close()
			before = fileHash(t, path)
		}
	})
}

// writeStore writes b as a store file and returns its path.
func writeStore(t *testing.T, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// An empty or truncated file is refused with a clear error, read-only or
// not, and left as it was: never a new store, never a runtime error.
func TestEmptyAndTruncatedStoresAreRefused(t *testing.T) {
	file := sampleStore(t)
	// bbolt grows a file ahead of its data: only a cut into the data
	// (tx.Size, the high water mark) loses anything.
	db, err := bolt.Open(writeStore(t, file), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var data int
	_ = db.View(func(tx *bolt.Tx) error { data = int(tx.Size()); return nil })
	db.Close()
	if data < 32768 {
		t.Fatalf("the sample holds %d bytes of data: too few for this test", data)
	}
	for _, size := range []int{0, 100, 4096, 8192, 16384, data / 2, data - 4096, data - 1} {
		for _, ro := range []bool{true, false} {
			path := writeStore(t, file[:size])
			before := fileHash(t, path)
			_, err := Open(path, Options{ReadOnly: ro})
			want := "is truncated"
			switch {
			case size == 0:
				want = "is empty (0 bytes), not a store"
			case size < 8192:
				want = "" // too short for both meta pages: bbolt's own error
			}
			if err == nil || strings.Contains(err.Error(), "runtime error") || !strings.Contains(err.Error(), path) ||
				(want != "" && (!errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "To recover"))) {
				t.Errorf("size %d read-only %v: Open = %v; want an error saying %q", size, ro, err, want)
			}
			if fileHash(t, path) != before {
				t.Errorf("size %d read-only %v: the refused file was modified", size, ro)
			}
			if _, err := Check(path, Options{}); err == nil || strings.Contains(err.Error(), "runtime error") {
				t.Errorf("size %d: Check = %v", size, err)
			}
		}
	}
}

// Whatever page of a store is damaged, a read-write Open either refuses
// the file, leaving it untouched, or opens it and then Load succeeds: a
// start is never refused after the store was written to.
func TestDamageIsFoundBeforeAnyWrite(t *testing.T) {
	file := sampleStore(t)
	const page = 4096
	for off := 0; off+page <= len(file); off += page {
		for _, fill := range []byte{0x00, 0xff} {
			b := append([]byte(nil), file...)
			for i := off + 16; i < off+page; i += 7 {
				b[i] = fill // keep the page header, spoil its content
			}
			path := writeStore(t, b)
			before := fileHash(t, path)
			s, err := Open(path, Options{})
			if err != nil {
				if fileHash(t, path) != before {
					t.Fatalf("page %d (fill %#x): refused (%v) and yet written to", off/page, fill, err)
				}
				continue
			}
			if _, err := schedtest.LoadAll(ctx, s); err != nil {
				t.Fatalf("page %d (fill %#x): Open accepted the file, then Load failed: %v", off/page, fill, err)
			}
			s.Close()
		}
	}
}

// A job whose action JSON is damaged is reported by Check and kept aside
// at Open; the other jobs load, export and change; the damaged one cannot
// be overwritten by accident; Salvage takes it out, raw, and the file is
// sound again.
func TestDamagedJobIsKeptAsideAndSalvaged(t *testing.T) {
	path := tempPath(t)
	s := openT(t, path, Options{})
	if err := s.Commit(ctx, []sched.Change{put(testJob("good", 1), 0), put(testJob("bad", 1), 0)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Spoil bad's action JSON in place: same length, no longer JSON.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var record []byte
	if err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJobs)
		v := append([]byte(nil), b.Get([]byte("bad"))...)
		i := bytes.LastIndexByte(v, '}')
		v[i] = '!'
		record = v
		return b.Put([]byte("bad"), v)
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	rep, err := Check(path, Options{})
	if !errors.Is(err, ErrCorrupt) || rep == nil || !strings.Contains(rep.String(), `job "bad": its action is not a valid JSON object`) {
		t.Fatalf("Check: %v\n%v", err, rep)
	}
	s = openT(t, path, Options{})
	jobs, err := schedtest.LoadAll(ctx, s)
	if err != nil || len(jobs) != 1 || jobs[0].ID != "good" {
		t.Fatalf("Load = %v, %v", jobs, err)
	}
	for _, j := range jobs {
		if _, err := j.MarshalJSON(); err != nil {
			t.Fatalf("a loaded job does not export: %v", err)
		}
	}
	if d := damagedT(t, s); len(d) != 1 || d[0].ID != "bad" || !bytes.Equal(d[0].Record, record) {
		t.Fatalf("Damaged = %+v", d)
	}
	if err := s.Commit(ctx, []sched.Change{put(testJob("bad", 1), 0)}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "db salvage") {
		t.Fatalf("a put over the damaged job: %v", err)
	}
	if err := s.Commit(ctx, []sched.Change{put(testJob("good", 2), 1)}); err != nil {
		t.Fatalf("the sound job cannot change: %v", err)
	}
	s.Close()

	got, err := Salvage(path, Options{})
	if err != nil || len(got) != 1 || got[0].ID != "bad" || !bytes.Equal(got[0].Record, record) {
		t.Fatalf("Salvage = %+v, %v", got, err)
	}
	if rep, err := Check(path, Options{}); err != nil {
		t.Fatalf("after Salvage: %v\n%v", err, rep)
	}
	s = openT(t, path, Options{})
	if jobs, err := schedtest.LoadAll(ctx, s); err != nil || len(jobs) != 1 || jobs[0].Version != 2 || len(damagedT(t, s)) != 0 {
		t.Fatalf("after Salvage: %v, %v, %v", jobs, err, damagedT(t, s))
	}
	if err := s.Commit(ctx, []sched.Change{put(testJob("bad", 1), 0)}); err != nil {
		t.Fatalf("re-create after Salvage: %v", err)
	}
}

// No crash while a store is made leaves an empty file behind (TestCrash
// kills Opens at random): the new file is made aside and linked into place.
func TestCreateLeavesNoEmptyFile(t *testing.T) {
	path := tempPath(t)
	// A creation killed before its link: only the leftover remains.
	if err := os.WriteFile(path+".new", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s := openT(t, path, Options{})
	if _, err := os.Stat(path + ".new"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the leftover is still there: %v", err)
	}
	if m := s.Meta(); m.Boots != 1 || m.Migrated != 0 {
		t.Errorf("a new store: %+v", m)
	}
}

// Damaged, asked before any Load, decodes the records itself and lists
// what every Load leaves out: damaged records left out, a job whose run
// state is damaged loaded without it, a run state of no job ignored; two
// Loads hand over the same jobs, and a write between Open and a Load is
// never missed.
func TestLoadKeepsAsideWhatDamagedLists(t *testing.T) {
	path := tempPath(t)
	s := openT(t, path, Options{})
	var cs []sched.Change
	for _, id := range []string{"a", "b", "c", "d"} {
		cs = append(cs, put(testJob(id, 1), 0))
	}
	if err := s.Commit(ctx, cs); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		jb, rb := tx.Bucket(bucketJobs), tx.Bucket(bucketRuns)
		if err := jb.Put([]byte("c"), []byte{jobRecordV1}); err != nil { // truncated
			return err
		}
		if err := rb.Put([]byte("b"), []byte{runRecordV1, 0xff}); err != nil { // unknown flags
			return err
		}
		return rb.Put([]byte("0-no-job"), appendRun(nil, sched.RunState{LastResult: "ok"}))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s = openT(t, path, Options{})
	var damaged []string
	for _, d := range damagedT(t, s) {
		damaged = append(damaged, d.Kind+" "+d.ID)
	}
	if fmt.Sprint(damaged) != "[run state b job c]" {
		t.Fatalf("Damaged: %v", damaged)
	}
	first, err := schedtest.LoadAll(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	again, err := schedtest.LoadAll(ctx, s) // a second pass over the file
	if err != nil {
		t.Fatal(err)
	}
	noRun := testJob("b", 1)
	noRun.NextRunTime, noRun.LastRunTime, noRun.LastResult = nil, nil, ""
	want := []sched.Job{testJob("a", 1), noRun, testJob("d", 1)}
	for name, got := range map[string][]sched.Job{"first Load": first, "second Load": again} {
		if len(got) != len(want) {
			t.Fatalf("%s: %d jobs, want %d", name, len(got), len(want))
		}
		for i := range want {
			if d := diffJob(got[i], want[i]); d != "" {
				t.Errorf("%s: job %s: %s", name, want[i].ID, d)
			}
		}
	}
	s.Close()

	// Writes between Open and Load: the Load reads them.
	s = openT(t, path, Options{})
	if err := s.Commit(ctx, []sched.Change{put(testJob("a", 2), 1)}); err != nil {
		t.Fatal(err)
	}
	if jobs, err := schedtest.LoadAll(ctx, s); err != nil || len(jobs) != 3 || jobs[0].Version != 2 {
		t.Fatalf("Load after a Commit: %v, %v", jobs, err)
	}
	s.Close()
	s = openT(t, path, Options{})
	if err := s.SaveRunState(ctx, []sched.RunState{{ID: "d", LastResult: "changed"}}); err != nil {
		t.Fatal(err)
	}
	if jobs, err := schedtest.LoadAll(ctx, s); err != nil || len(jobs) != 3 || jobs[2].LastResult != "changed" || jobs[2].NextRunTime != nil {
		t.Fatalf("Load after SaveRunState: %v, %v", jobs, err)
	}
}

// A panic in the function Load hands the jobs to is that function's: it
// comes back as the same panic, not as a damaged store.
func TestLoadPanicIsTheCallers(t *testing.T) {
	ctx := context.Background()
	s := openT(t, tempPath(t), Options{})
	if err := s.Commit(ctx, []sched.Change{put(testJob("a", 1), 0)}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		r := recover()
		if msg, _ := r.(string); !strings.HasPrefix(msg, "scheduler bug\n") || !strings.Contains(msg, "TestLoadPanicIsTheCallers") {
			t.Fatalf("recovered %v, want the function's panic with its stack", r)
		}
		if _, err := schedtest.LoadAll(ctx, s); err != nil {
			t.Fatalf("Load after the panic: %v", err)
		}
	}()
	err := s.Load(ctx, func(*sched.Job) error { panic("scheduler bug") })
	t.Fatalf("Load returned %v instead of panicking", err)
}
