// Package outbox is a bounded, ordered queue of records in a bbolt file:
// the MQTT agent keeps telemetry in it while the broker is unreachable and
// replays it, oldest first, on reconnect.
//
// Appends are buffered in memory and committed in one transaction per
// Flush, so that a burst of readings costs one fsync, not one each: a power
// cut loses at most the records appended since the last Flush (the agent
// flushes at most outbox.flush_interval after an append). Everything else that is dropped —
// records beyond MaxBytes (oldest first), older than MaxAge, or larger than
// MaxBytes on their own, and at Close the records a failed last commit
// could not keep — is counted, logged (at most one line a minute, with the
// count since the last), and the count is persisted with the records.
//
// The Outbox shares the agent's store file: it takes a *bolt.DB and keeps
// to its own bucket, "mqtt_outbox".
package outbox

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketName  = []byte("mqtt_outbox")
	recordsName = []byte("records")
	droppedKey  = []byte("dropped")
)

// overhead is what a record costs beside its bytes: key and timestamp.
const overhead = 16

// Options bound the outbox.
type Options struct {
	MaxBytes int64         // total of records (plus 16 bytes each); required
	MaxAge   time.Duration // records older than this are dropped; required
	// Now is the wall clock used for MaxAge; default time.Now.
	Now func() time.Time
	// Logger gets the drop warnings; default slog.Default().
	Logger *slog.Logger
}

// dropLogEvery is the shortest time between two drop warnings: a full
// outbox drops a record per reading, and the log must not become the
// next thing to fill the disk.
const dropLogEvery = time.Minute

type record struct {
	ts  time.Time
	rec []byte
}

// Outbox is the queue. Its methods are safe for concurrent use.
type Outbox struct {
	db   *bolt.DB
	opts Options

	mu           sync.Mutex
	pending      []record
	pendingBytes int64
	count        int   // committed records
	bytes        int64 // committed bytes, overhead included
	dropped      uint64
	droppedSaved uint64 // part of dropped already persisted
	// replaying is the last sequence number Peek returned, until Delete:
	// those records are being replayed. The bounds drop them like any
	// other, but whether they were lost is known only later: limbo holds
	// those dropped, counted once the replay turns out to have failed
	// (the next Peek) and forgotten if Delete says they were delivered.
	replaying uint64
	limbo     []uint64

	commits   int64     // write transactions committed since Open
	replayed  uint64    // records delivered by replays since Open
	unlogged  uint64    // drops not yet in a log line
	why       string    // the reason of the latest of them
	loggedAt  time.Time // the last drop warning
	hasLogged bool
}

// Open opens the outbox in db, creating its bucket, and applies the bounds
// to what a previous run left.
func Open(db *bolt.DB, o Options) (*Outbox, error) {
	if o.MaxBytes <= overhead || o.MaxAge <= 0 {
		return nil, fmt.Errorf("outbox: MaxBytes (%d) and MaxAge (%s) must be positive", o.MaxBytes, o.MaxAge)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Logger = o.Logger.With("component", "outbox")
	ob := &Outbox{db: db, opts: o}
	err := db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketName)
		if err != nil {
			return err
		}
		recs, err := b.CreateBucketIfNotExists(recordsName)
		if err != nil {
			return err
		}
		if v := b.Get(droppedKey); len(v) == 8 {
			ob.dropped = binary.BigEndian.Uint64(v)
			ob.droppedSaved = ob.dropped
		}
		return recs.ForEach(func(k, v []byte) error {
			ob.count++
			ob.bytes += int64(len(v)) + 8
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: open: %w", err)
	}
	if err := ob.Flush(); err != nil {
		return nil, err
	}
	return ob, nil
}

// Append queues rec, stamped ts, in memory until the next Flush. A record
// larger than MaxBytes is dropped and counted; when memory holds more than
// MaxBytes the oldest pending records are dropped and counted.
func (o *Outbox) Append(ts time.Time, rec []byte) {
	size := int64(len(rec)) + overhead
	o.mu.Lock()
	defer o.mu.Unlock()
	if size > o.opts.MaxBytes {
		o.lost(1, "a record larger than outbox.max_bytes on its own")
		return
	}
	o.pending = append(o.pending, record{ts: ts, rec: append([]byte(nil), rec...)})
	o.pendingBytes += size
	for o.pendingBytes > o.opts.MaxBytes {
		o.pendingBytes -= int64(len(o.pending[0].rec)) + overhead
		o.pending[0] = record{}
		o.pending = o.pending[1:]
		o.lost(1, "more than outbox.max_bytes waiting for a commit: the oldest went")
	}
}

// lost counts n dropped records and logs them, rate-limited. Called with
// o.mu held.
func (o *Outbox) lost(n uint64, why string) {
	if n == 0 {
		return
	}
	o.dropped += n
	o.unlogged += n
	o.why = why
	o.logDrops(false)
}

// logDrops writes the drop warning for the drops not yet logged, unless
// one was written less than dropLogEvery ago (force: write it anyway).
// Called with o.mu held.
func (o *Outbox) logDrops(force bool) {
	if o.unlogged == 0 {
		return
	}
	now := o.opts.Now()
	if since := now.Sub(o.loggedAt); !force && o.hasLogged && since >= 0 && since < dropLogEvery {
		return
	}
	o.opts.Logger.Warn("telemetry records dropped from the outbox", "dropped", o.unlogged, "why", o.why, "dropped_total", o.dropped)
	o.unlogged, o.loggedAt, o.hasLogged = 0, now, true
}

// CountDropped adds n records dropped before they reached the outbox (the
// MQTT agent's overflow) to the drop count; the next Flush persists it.
func (o *Outbox) CountDropped(n uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.dropped += n
}

// Flush commits the pending records in one transaction, then drops the
// oldest records beyond MaxBytes and those older than MaxAge, and persists
// the drop count. On error the pending records stay pending.
func (o *Outbox) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.flushLocked()
}

func (o *Outbox) flushLocked() error {
	o.logDrops(false) // drops held back by the rate limit
	if len(o.pending) == 0 && o.count == 0 && o.dropped == o.droppedSaved {
		return nil
	}
	count, bytes, dropped := o.count, o.bytes, o.dropped
	limbo := slices.Clone(o.limbo)
	cutoff := o.opts.Now().Add(-o.opts.MaxAge).UnixNano()
	err := o.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketName)
		recs := b.Bucket(recordsName)
		for _, r := range o.pending {
			seq, err := recs.NextSequence()
			if err != nil {
				return err
			}
			v := make([]byte, 8+len(r.rec))
			binary.BigEndian.PutUint64(v, uint64(r.ts.UnixNano()))
			copy(v[8:], r.rec)
			if err := recs.Put(key(seq), v); err != nil {
				return err
			}
			count++
			bytes += int64(len(r.rec)) + overhead
		}
		// Collect first, then delete: deleting under a moving cursor can
		// skip keys. A record being replayed goes to limbo, not to the
		// count: it may yet be delivered.
		var drop [][]byte
		c := recs.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if bytes <= o.opts.MaxBytes && (len(v) < 8 || int64(binary.BigEndian.Uint64(v)) >= cutoff) {
				break
			}
			drop = append(drop, k)
			count--
			bytes -= int64(len(v)) + 8
			if len(k) == 8 && binary.BigEndian.Uint64(k) <= o.replaying {
				limbo = append(limbo, binary.BigEndian.Uint64(k))
			} else {
				dropped++
			}
		}
		for _, k := range drop {
			if err := recs.Delete(k); err != nil {
				return err
			}
		}
		var d [8]byte
		binary.BigEndian.PutUint64(d[:], dropped)
		return b.Put(droppedKey, d[:])
	})
	if err != nil {
		return fmt.Errorf("outbox: flush: %w", err)
	}
	o.commits++
	o.pending, o.pendingBytes = nil, 0
	o.count, o.bytes = count, bytes
	o.lost(dropped-o.dropped, "older than outbox.max_age, or beyond outbox.max_bytes (oldest first)")
	o.droppedSaved = o.dropped
	o.limbo = limbo
	return nil
}

// Peek flushes, then returns up to n of the oldest records with their
// sequence numbers, oldest first, without removing them. The records
// returned are being replayed until Delete or the next Peek: one the
// bounds drop meanwhile is counted dropped only if Delete does not cover
// it, so that no record is both delivered and counted dropped.
func (o *Outbox) Peek(n int) (seqs []uint64, recs [][]byte, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.flushLocked(); err != nil {
		return nil, nil, err
	}
	err = o.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketName).Bucket(recordsName).Cursor()
		for k, v := c.First(); k != nil && len(seqs) < n; k, v = c.Next() {
			if len(k) != 8 || len(v) < 8 {
				return fmt.Errorf("corrupt record %x", k)
			}
			seqs = append(seqs, binary.BigEndian.Uint64(k))
			recs = append(recs, append([]byte(nil), v[8:]...))
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("outbox: peek: %w", err)
	}
	// A new replay: the last one ended without Delete, and what it lost
	// to the bounds was not delivered.
	o.lost(uint64(len(o.limbo)), "dropped by the bounds while being replayed, and not delivered")
	o.limbo, o.replaying = nil, 0
	if len(seqs) > 0 {
		o.replaying = seqs[len(seqs)-1]
	}
	return seqs, recs, nil
}

// Delete removes every committed record up to and including seq (records
// that were delivered), in one transaction.
func (o *Outbox) Delete(through uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	count, bytes := o.count, o.bytes
	var del [][]byte
	err := o.db.Update(func(tx *bolt.Tx) error {
		del = del[:0]
		recs := tx.Bucket(bucketName).Bucket(recordsName)
		c := recs.Cursor()
		for k, v := c.First(); k != nil && binary.BigEndian.Uint64(k) <= through; k, v = c.Next() {
			del = append(del, k)
			count--
			bytes -= int64(len(v)) + 8
		}
		for _, k := range del {
			if err := recs.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox: delete: %w", err)
	}
	o.commits++
	o.count, o.bytes = count, bytes
	// The replay was delivered up to through: what the bounds dropped of
	// it up to there was delivered, the rest was not.
	var undelivered uint64
	for _, seq := range o.limbo {
		if seq > through {
			undelivered++
		}
	}
	o.lost(undelivered, "dropped by the bounds while being replayed, and not delivered")
	o.replayed += uint64(len(del)) + uint64(len(o.limbo)) - undelivered
	o.limbo, o.replaying = nil, 0
	return nil
}

// Stats returns the records queued (committed and pending) and the records
// dropped since the outbox was created.
func (o *Outbox) Stats() (queued int, dropped uint64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.count + len(o.pending), o.dropped
}

// Replayed returns the records delivered by replays since Open: those
// Delete removed, and those the bounds dropped while they were being
// replayed and that turned out to be delivered.
func (o *Outbox) Replayed() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.replayed
}

// Commits returns the write transactions committed since Open (Flush and
// Delete; each is fsynced): what the outbox costs the SD card.
func (o *Outbox) Commits() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.commits
}

// Close is the last commit of a stopping agent: it flushes what is
// pending. If that fails (a full disk), the records still in memory are
// lost with the process: Close counts them dropped, logs it, tries to
// save the drop count alone, and returns an error saying how many were
// lost, so that the agent's exit status says so. The outbox stays usable.
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	err := o.flushLocked()
	if err == nil {
		o.logDrops(true)
		return nil
	}
	n := uint64(len(o.pending))
	o.pending, o.pendingBytes = nil, 0
	o.lost(n, "the last commit before the stop failed: "+err.Error())
	o.logDrops(true)
	if serr := o.flushLocked(); serr != nil {
		o.opts.Logger.Error("the drop count could not be saved either", "dropped_total", o.dropped, "err", serr)
	}
	return fmt.Errorf("outbox: %d telemetry record(s) lost at the stop: %w", n, err)
}

func key(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}
