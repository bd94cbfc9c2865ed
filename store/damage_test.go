package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edgecron/edgecron/sched"
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
			if _, err := s.Load(ctx); err != nil && !errors.Is(err, ErrCorrupt) {
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
