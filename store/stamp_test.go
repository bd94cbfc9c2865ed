package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/edgecron/edgecron/sched"
	bolt "go.etcd.io/bbolt"
)

// TestStamp: a stamp handed to SetStamp is reported by the next read-write
// Open (and by read-only Opens before it) only when nothing can have
// changed the job records since the clean Close that recorded it, and
// counts for that one start.
func TestStamp(t *testing.T) {
	stamp := []byte("fingerprint-1")
	for _, tc := range []struct {
		name string
		// between runs after the Close of the boot that set the stamp
		// (on a store file holding two jobs), before the Open checked.
		between func(t *testing.T, path string)
		// during runs on the stamping boot's store before Close.
		during func(t *testing.T, s *Store)
		stamp  []byte // what SetStamp gets
		want   []byte // Meta.Stamp of the next Open
	}{
		{name: "clean close", stamp: stamp, want: stamp},
		{name: "no stamp set", stamp: nil, want: nil},
		{name: "empty stamp", stamp: []byte{}, want: nil},
		{name: "jobs committed during the boot", stamp: stamp, want: stamp, during: func(t *testing.T, s *Store) {
			if err := s.Commit(ctx, []sched.Change{put(testJob("c", 1), 0), del("a", 1)}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "read-only opens between", stamp: stamp, want: stamp, between: func(t *testing.T, path string) {
			r := openT(t, path, Options{ReadOnly: true})
			if got := r.Meta().Stamp; !bytes.Equal(got, stamp) {
				t.Errorf("read-only Open: Meta.Stamp = %q, want %q", got, stamp)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := Check(path, Options{}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "compacted between", stamp: stamp, want: stamp, between: func(t *testing.T, path string) {
			if _, err := CompactFile(path, Options{}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "read-write open between", stamp: stamp, want: nil, between: func(t *testing.T, path string) {
			if err := openT(t, path, Options{}).Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "an older agent between (opens, ignores the stamp, closes)", stamp: stamp, want: nil, between: func(t *testing.T, path string) {
			s := openT(t, path, Options{})
			// An older agent writes boots and clean, and leaves the stamp
			// where it was (this Open deleted it: put it back).
			if err := s.db.Update(func(tx *bolt.Tx) error {
				v := binary.BigEndian.AppendUint32(be64(s.meta.Boots-1), sumJobs(tx.Bucket(bucketJobs)))
				return tx.Bucket(bucketMeta).Put(keyStamp, append(v, stamp...))
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "crash of a boot between", stamp: stamp, want: nil, between: func(t *testing.T, path string) {
			s := openT(t, path, Options{})
			s.db.Close() // no clean mark
		}},
		{name: "a job record changed between", stamp: stamp, want: nil, between: func(t *testing.T, path string) {
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(func(tx *bolt.Tx) error {
				jb := tx.Bucket(bucketJobs)
				v := bytes.Clone(jb.Get([]byte("b")))
				i := bytes.Index(v, []byte("30s"))
				v[i] = '9' // still decodes, and still a JSON object
				return jb.Put([]byte("b"), v)
			}); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a commit failed during the boot", stamp: stamp, want: nil, during: func(t *testing.T, s *Store) {
			big := testJob("big", 1)
			big.Name = strings.Repeat("x", 4<<20)
			if err := s.Commit(ctx, []sched.Change{put(big, 0)}); !errors.Is(err, ErrFull) {
				t.Fatalf("commit beyond MaxSize: %v, want ErrFull", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tempPath(t)
			s := openT(t, path, Options{MaxSize: 1 << 20})
			if err := s.Commit(ctx, []sched.Change{put(testJob("a", 1), 0), put(testJob("b", 1), 0)}); err != nil {
				t.Fatal(err)
			}
			if s.Meta().Stamp != nil {
				t.Fatalf("new file: Meta.Stamp = %q", s.Meta().Stamp)
			}
			if tc.during != nil {
				tc.during(t, s)
			}
			s.SetStamp(tc.stamp)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if tc.between != nil {
				tc.between(t, path)
			}
			s = openT(t, path, Options{})
			if got := s.Meta().Stamp; !bytes.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Fatalf("Meta.Stamp = %q, want %q", got, tc.want)
			}
			// It counts once: the Open deleted it, and this boot sets none.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := openT(t, path, Options{}).Meta().Stamp; got != nil {
				t.Fatalf("the Open after: Meta.Stamp = %q, want none", got)
			}
		})
	}
}

// TestCheckShowsStamp: db check's report says whether the next start may
// skip validating the stored actions, and reading it keeps the stamp.
func TestCheckShowsStamp(t *testing.T) {
	path := tempPath(t)
	s := openT(t, path, Options{})
	if err := s.Commit(ctx, []sched.Change{put(testJob("a", 1), 0)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, stamped := range []bool{false, true} {
		if stamped {
			s := openT(t, path, Options{})
			s.SetStamp([]byte("build+config"))
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
		rep, err := Check(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := "stamp:          none"
		if stamped {
			want = "stamp:          yes"
		}
		if out := rep.String(); !strings.Contains(out, want) {
			t.Errorf("stamped %v: report does not say %q:\n%s", stamped, want, out)
		}
	}
	if got := openT(t, path, Options{}).Meta().Stamp; string(got) != "build+config" {
		t.Errorf("after db check: Meta.Stamp = %q, want it kept", got)
	}
}
