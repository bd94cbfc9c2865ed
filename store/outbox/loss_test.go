package outbox

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// logTo returns a logger writing to buf.
func logTo(buf *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(buf, nil)) }

// count counts the occurrences of what in buf.
func count(buf *bytes.Buffer, what string) int { return strings.Count(buf.String(), what) }

// Every drop is logged, at most once a minute: a line carries the drops
// since the previous one, and the drops held back by the limit come out
// at the next flush after the minute.
func TestDropsAreLoggedRateLimited(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	o, err := Open(f.db, Options{MaxBytes: 100, MaxAge: time.Hour, Now: func() time.Time { return f.now }, Logger: logTo(&buf)})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 200)
	o.Append(f.now, big) // too large on its own
	if n := count(&buf, "telemetry records dropped"); n != 1 || !strings.Contains(buf.String(), "dropped=1 ") {
		t.Fatalf("first drop: %d lines:\n%s", n, buf.String())
	}
	for range 50 {
		o.Append(f.now, big)
	}
	if n := count(&buf, "telemetry records dropped"); n != 1 {
		t.Fatalf("50 more drops within the minute: %d lines", n)
	}
	f.now = f.now.Add(time.Minute)
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := count(&buf, "telemetry records dropped"); n != 2 || !strings.Contains(buf.String(), "dropped=50 ") || !strings.Contains(buf.String(), "dropped_total=51") {
		t.Fatalf("after the minute: %d lines:\n%s", n, buf.String())
	}
	// Dropped by the bounds at a flush: too old.
	o.Append(f.now, []byte("old"))
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(2 * time.Hour)
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, dropped := o.Stats(); dropped != 52 || !strings.Contains(buf.String(), "older than outbox.max_age") {
		t.Fatalf("dropped %d:\n%s", dropped, buf.String())
	}
}

// A last commit that fails at the stop (the disk full) loses the records
// in memory: Close counts them, logs them and returns an error saying how
// many, and the count is kept in the file when it still fits.
func TestCloseCountsWhatAFailedLastCommitLoses(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	o, err := Open(f.db, Options{MaxBytes: 1 << 20, MaxAge: time.Hour, Now: func() time.Time { return f.now }, Logger: logTo(&buf)})
	if err != nil {
		t.Fatal(err)
	}
	o.Append(f.now, []byte("kept"))
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	// The disk is full: the file may not grow.
	fi, err := os.Stat(f.path)
	if err != nil {
		t.Fatal(err)
	}
	f.db.Close()
	f.db, err = bolt.Open(f.path, 0o600, &bolt.Options{MaxSize: int(fi.Size())})
	if err != nil {
		t.Fatal(err)
	}
	o, err = Open(f.db, Options{MaxBytes: 1 << 20, MaxAge: time.Hour, Now: func() time.Time { return f.now }, Logger: logTo(&buf)})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		o.Append(f.now, make([]byte, 300<<10))
	}
	err = o.Close()
	if !errors.Is(err, berrors.ErrMaxSizeReached) || !strings.Contains(err.Error(), "3 telemetry record(s) lost at the stop") {
		t.Fatalf("Close = %v", err)
	}
	if _, dropped := o.Stats(); dropped != 3 {
		t.Fatalf("dropped %d, want 3", dropped)
	}
	if !strings.Contains(buf.String(), "dropped=3") || !strings.Contains(buf.String(), "the last commit before the stop failed") {
		t.Fatalf("log:\n%s", buf.String())
	}
	f.reopenDB()
	o = f.open(1<<20, time.Hour)
	if queued, dropped := o.Stats(); queued != 1 || dropped != 3 {
		t.Fatalf("after reopening: queued %d, dropped %d; want 1 and 3", queued, dropped)
	}
}

// Flushes and deletes are counted: the SD card budget is measured.
func TestCommitsAreCounted(t *testing.T) {
	f := newFixture(t)
	o := f.open(1<<20, time.Hour)
	base := o.Commits()
	for range 10 {
		o.Append(f.now, []byte("r"))
	}
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := o.Flush(); err != nil { // nothing new, but records are queued: the bounds are applied
		t.Fatal(err)
	}
	seqs, _ := f.peekAll(o)
	if err := o.Delete(seqs[len(seqs)-1]); err != nil {
		t.Fatal(err)
	}
	if err := o.Flush(); err != nil { // empty: no write at all
		t.Fatal(err)
	}
	if got := o.Commits() - base; got != 4 {
		t.Fatalf("commits %d, want 4 (flush, flush, peek's flush, delete)", got)
	}
}
