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
	if r := o.Replayed(); r != 3 {
		t.Fatalf("replayed = %d, want 3", r)
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
	// "recent" was being replayed (peekAll) when it aged out: counted
	// once the next replay shows that one did not deliver it.
	if q, d := o.Stats(); q != 0 || d != 1 {
		t.Fatalf("stats = %d %d, want 0 1", q, d)
	}
	f.peekAll(o)
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

// TestReplayedRecordsNotDoubleCounted: the bounds drop the oldest records
// even while they are being replayed (handed out by Peek); those are
// counted dropped only if the replay does not deliver them, so that no
// record is both delivered and counted dropped.
func TestReplayedRecordsNotDoubleCounted(t *testing.T) {
	f := newFixture(t)
	rec := make([]byte, 84) // 100 bytes each with overhead
	o := f.open(1000, time.Hour)
	appended := 0
	add := func(n int) {
		t.Helper()
		for range n {
			rec[0] = byte(appended)
			appended++
			o.Append(f.now, rec)
		}
		if err := o.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	add(10)
	seqs, recs, err := o.Peek(3) // being replayed: records 0, 1, 2
	if err != nil {
		t.Fatal(err)
	}
	add(3) // 1300 bytes: the oldest three go, replayed or not
	if _, left := f.peekAll(o); len(left) != 10 || left[0][0] != 3 {
		t.Fatalf("left %d records, the first %d; want 10 from 3", len(left), left[0][0])
	}
	// peekAll was a replay too: start the one under test again.
	if seqs, recs, err = o.Peek(3); err != nil {
		t.Fatal(err)
	}
	// Records 3 and 4, being replayed, are dropped; then the replay is
	// delivered.
	add(2)
	if err := o.Delete(seqs[len(seqs)-1]); err != nil {
		t.Fatal(err)
	}
	queued, dropped := o.Stats()
	// Delivered: records 3, 4, 5 (this replay). Dropped: 0, 1, 2 (the
	// replay they were in ended without Delete).
	if len(recs) != 3 || queued != 9 || dropped != 3 || len(recs)+queued+int(dropped) != appended {
		t.Errorf("%d delivered + %d queued + %d dropped, of %d appended; want 3 + 9 + 3", len(recs), queued, dropped, appended)
	}
	if r := o.Replayed(); r != uint64(len(recs)) {
		t.Errorf("replayed %d, want the %d delivered (2 of them dropped by the bounds meanwhile)", r, len(recs))
	}
	// A replay that fails (no Delete): what the bounds took of it is
	// counted at the next replay.
	if _, _, err := o.Peek(2); err != nil { // records 6, 7
		t.Fatal(err)
	}
	add(3) // records 6, 7 dropped
	if _, d := o.Stats(); d != 3 {
		t.Errorf("dropped %d during a replay, want 3 until it is known lost", d)
	}
	if _, _, err := o.Peek(100); err != nil {
		t.Fatal(err)
	}
	if q, d := o.Stats(); q != 10 || d != 5 {
		t.Errorf("stats = %d %d, want 10 5", q, d)
	}
}

// TestCountDroppedPersisted: drops counted by the agent before its records
// reached the outbox are committed with the next Flush, like the outbox's own.
func TestCountDroppedPersisted(t *testing.T) {
	f := newFixture(t)
	o := f.open(1000, time.Hour)
	o.CountDropped(7)
	if _, d := o.Stats(); d != 7 {
		t.Fatalf("dropped = %d, want 7", d)
	}
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	f.reopenDB()
	o = f.open(1000, time.Hour)
	if q, d := o.Stats(); q != 0 || d != 7 {
		t.Fatalf("after reopen stats = %d %d, want 0 7", q, d)
	}
}
