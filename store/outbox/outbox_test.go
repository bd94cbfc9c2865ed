package outbox

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

type fixture struct {
	t    *testing.T
	path string
	db   *bolt.DB
	now  time.Time
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{t: t, path: filepath.Join(t.TempDir(), "agent.db"), now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	f.reopenDB()
	t.Cleanup(func() { f.db.Close() })
	return f
}

func (f *fixture) reopenDB() {
	if f.db != nil {
		f.db.Close()
	}
	db, err := bolt.Open(f.path, 0o600, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	f.db = db
}

func (f *fixture) open(maxBytes int64, maxAge time.Duration) *Outbox {
	o, err := Open(f.db, Options{MaxBytes: maxBytes, MaxAge: maxAge, Now: func() time.Time { return f.now }})
	if err != nil {
		f.t.Fatal(err)
	}
	return o
}

func (f *fixture) peekAll(o *Outbox) ([]uint64, []string) {
	seqs, recs, err := o.Peek(1 << 20)
	if err != nil {
		f.t.Fatal(err)
	}
	var s []string
	for _, r := range recs {
		s = append(s, string(r))
	}
	return seqs, s
}

func TestOrderAcrossReopen(t *testing.T) {
	f := newFixture(t)
	o := f.open(1<<20, time.Hour)
	for i := range 5 {
		o.Append(f.now, []byte(fmt.Sprint("r", i)))
	}
	if q, d := o.Stats(); q != 5 || d != 0 {
		t.Fatalf("stats = %d %d", q, d)
	}
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	f.reopenDB()
	o = f.open(1<<20, time.Hour)
	seqs, recs := f.peekAll(o)
	if fmt.Sprint(recs) != "[r0 r1 r2 r3 r4]" {
		t.Fatalf("recs = %v", recs)
	}
	if err := o.Delete(seqs[2]); err != nil {
		t.Fatal(err)
	}
	o.Append(f.now, []byte("r5"))
	_, recs = f.peekAll(o)
	if fmt.Sprint(recs) != "[r3 r4 r5]" {
		t.Fatalf("after delete: %v", recs)
	}
	if q, _ := o.Stats(); q != 3 {
		t.Fatalf("queued = %d", q)
	}
}

// TestPowerCutLosesOnlyUnflushed documents the bound: what was appended
// after the last Flush is gone after a crash; what was flushed is kept.
func TestPowerCutLosesOnlyUnflushed(t *testing.T) {
	f := newFixture(t)
	o := f.open(1<<20, time.Hour)
	o.Append(f.now, []byte("flushed"))
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	o.Append(f.now, []byte("in memory"))
	f.reopenDB() // the process dies without flushing
	o = f.open(1<<20, time.Hour)
	if _, recs := f.peekAll(o); fmt.Sprint(recs) != "[flushed]" {
		t.Fatalf("recs = %v", recs)
	}
}

func TestMaxBytesDropsOldestAndCounts(t *testing.T) {
	f := newFixture(t)
	rec := make([]byte, 84) // 100 bytes each with overhead
	o := f.open(1000, time.Hour)
	for i := range 15 {
		rec[0] = byte(i)
		o.Append(f.now, rec)
		if i%4 == 3 {
			if err := o.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, recs := f.peekAll(o)
	if len(recs) != 10 || recs[0][0] != 5 || recs[9][0] != 14 {
		t.Fatalf("kept %d records from %d", len(recs), recs[0][0])
	}
	if q, d := o.Stats(); q != 10 || d != 5 {
		t.Fatalf("stats = %d %d, want 10 5", q, d)
	}
	// A record bigger than the whole outbox is dropped and counted.
	o.Append(f.now, make([]byte, 2000))
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	// The drop count survives a restart.
	f.reopenDB()
	o = f.open(1000, time.Hour)
	if q, d := o.Stats(); q != 10 || d != 6 {
		t.Fatalf("after reopen stats = %d %d, want 10 6", q, d)
	}
}

func TestPendingBoundedInMemory(t *testing.T) {
	f := newFixture(t)
	o := f.open(1000, time.Hour)
	for range 30 {
		o.Append(f.now, make([]byte, 84))
	}
	if q, d := o.Stats(); q != 10 || d != 20 {
		t.Fatalf("stats = %d %d, want 10 20", q, d)
	}
}

func TestMaxAgeDrops(t *testing.T) {
	f := newFixture(t)
	o := f.open(1<<20, time.Hour)
	o.Append(f.now.Add(-2*time.Hour), []byte("old"))
	o.Append(f.now.Add(-30*time.Minute), []byte("recent"))
	_, recs := f.peekAll(o)
	if fmt.Sprint(recs) != "[recent]" {
		t.Fatalf("recs = %v", recs)
	}
	f.now = f.now.Add(time.Hour)
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	if q, d := o.Stats(); q != 0 || d != 2 {
		t.Fatalf("stats = %d %d, want 0 2", q, d)
	}
}

func TestOpenRefusesBadOptions(t *testing.T) {
	f := newFixture(t)
	for _, opts := range []Options{{MaxBytes: 0, MaxAge: time.Hour}, {MaxBytes: 1000}} {
		if _, err := Open(f.db, opts); err == nil {
			t.Errorf("Open(%+v) succeeded", opts)
		}
	}
}

func BenchmarkFlush100(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "b.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	o, err := Open(db, Options{MaxBytes: 8 << 20, MaxAge: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	rec := make([]byte, 120)
	for b.Loop() {
		for range 100 {
			o.Append(time.Now(), rec)
		}
		if err := o.Flush(); err != nil {
			b.Fatal(err)
		}
		seqs, _, _ := o.Peek(100)
		if err := o.Delete(seqs[len(seqs)-1]); err != nil {
			b.Fatal(err)
		}
	}
}
