package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/edgecron/edgecron/sched"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// A store file is damaged in two ways, handled differently:
//
//   - Its structure: a file cut short (a copy that failed, a full disk), an
//     empty file, pages that cannot be read, a meta bucket that does not
//     decode. Open refuses such a file before anything is written to it,
//     read-only or not, with an error matching ErrCorrupt that says what
//     is wrong and how to recover (docs/durability.md).
//   - One job's record: it does not decode, or its action is not valid
//     JSON. Load keeps such a job aside: it leaves it out, so the other
//     jobs run; it stays in the file as it was, Damaged lists it (the
//     agent logs it at every start, `db check` reports it), Commit refuses
//     to overwrite it, and Salvage takes it out, raw, for the user to
//     re-create. A damaged run state only loses that job's last and next
//     run times, which the scheduler recomputes: the job loads without
//     them, and the run state is reported the same way.

// Damaged is a record kept aside: the job id, what is wrong, and the
// record's bytes as they are in the file.
type Damaged struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"` // "job" or "run state"
	Problem string `json:"problem"`
	Record  []byte `json:"record"` // base64 in JSON
}

// Damaged returns the records kept aside, by id: those that did not
// decode when Load last handed the jobs over, or now, when no Load did
// yet.
func (s *Store) Damaged(ctx context.Context) ([]Damaged, error) {
	if err := s.acquire(ctx, false); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	s.damageMu.Lock()
	d, known := s.damaged, s.damageKnown
	s.damageMu.Unlock()
	if !known {
		var err error
		if d, err = s.readJobs(nil); err != nil {
			return nil, err
		}
	}
	return append([]Damaged(nil), d...), nil
}

// readJobs runs eachJob(tx, fn) in a read transaction, with a damaged page
// turned into ErrCorrupt, and records what it kept aside for Damaged when
// it went through every record. A panic in fn is fn's: it is raised again,
// with fn's stack, once the transaction ended, not taken for a damaged
// page.
func (s *Store) readJobs(fn func(*sched.Job) error) (damaged []Damaged, err error) {
	var fnPanic any
	call := fn
	if fn != nil {
		call = func(j *sched.Job) (err error) {
			defer func() {
				if r := recover(); r != nil {
					fnPanic = fmt.Sprintf("%v\n%s", r, debug.Stack())
					err = errors.New("panicked")
				}
			}()
			return fn(j)
		}
	}
	func() {
		defer recoverCorrupt(s.path, &err)
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		err = s.db.View(func(tx *bolt.Tx) (err error) {
			damaged, err = eachJob(tx, call)
			return err
		})
	}()
	if fnPanic != nil {
		panic(fnPanic)
	}
	if err != nil {
		return nil, err
	}
	s.damageMu.Lock()
	s.damaged, s.damageKnown = damaged, true
	s.damageMu.Unlock()
	return damaged, nil
}

// bbolt's meta page, as laid out by go.etcd.io/bbolt/internal/common: a
// 16-byte page header, then magic, version, page size, flags (uint32
// each), the root bucket (pgid, sequence), the freelist pgid, the high
// water mark pgid, the txid and an FNV-64a checksum of what precedes it.
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	metaOff        = 16
	metaChecksumAt = metaOff + 56
	noFreelist     = ^uint64(0)
)

// checkShape refuses, before bbolt maps it, a file that exists but cannot
// be a whole store: an empty file (bbolt would silently make a new store
// of it) or one shorter than its own meta page says (a truncated copy,
// which bbolt reads past the end of). A file that is not a bbolt file at
// all is left to bbolt to report.
func checkShape(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if fi.Size() == 0 {
		return fmt.Errorf("%w: %s is empty (0 bytes), not a store: a copy or restore that failed, or a full disk? It was left untouched. %s",
			ErrCorrupt, path, recoverHint)
	}
	var best struct {
		ok                    bool
		txid, hwm, root, free uint64
		pageSize              uint32
	}
	buf := make([]byte, metaChecksumAt+8)
	for _, off := range []int64{0, -1} {
		if off < 0 {
			if !best.ok {
				off = 4096 // page 0 is unreadable: try the usual page size
			} else {
				off = int64(best.pageSize)
			}
		}
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("store %s: %w", path, err)
		}
		le := binary.LittleEndian
		h := fnv.New64a()
		h.Write(buf[metaOff:metaChecksumAt])
		if le.Uint32(buf[metaOff:]) != boltMagic || le.Uint32(buf[metaOff+4:]) != boltVersion || le.Uint64(buf[metaChecksumAt:]) != h.Sum64() {
			continue
		}
		txid := le.Uint64(buf[metaOff+48:])
		if best.ok && txid <= best.txid {
			continue
		}
		best.ok, best.txid = true, txid
		best.pageSize = le.Uint32(buf[metaOff+8:])
		best.root, best.free, best.hwm = le.Uint64(buf[metaOff+16:]), le.Uint64(buf[metaOff+32:]), le.Uint64(buf[metaOff+40:])
	}
	if !best.ok {
		return nil // not a bbolt file, or both meta pages damaged: bbolt says which
	}
	if best.root >= best.hwm || (best.free >= best.hwm && best.free != noFreelist) {
		return fmt.Errorf("%w: %s: its meta page points past its own end (root page %d, freelist page %d, %d pages); it was left untouched. %s",
			ErrCorrupt, path, best.root, best.free, best.hwm, recoverHint)
	}
	if need := int64(best.hwm) * int64(best.pageSize); fi.Size() < need {
		return fmt.Errorf("%w: %s is truncated: its data runs to %d bytes but the file has %d (a copy cut short, or a full disk?); it was left untouched. %s",
			ErrCorrupt, path, need, fi.Size(), recoverHint)
	}
	return nil
}

// create makes a new, empty bbolt file at path when there is none, in a
// way that a crash cannot leave an empty file there: it is made and
// synced under path+".new" and then linked into place. So an empty file at
// path is never one the store made, and checkShape may refuse it. Version
// 0 of the layout is this empty bbolt file; Open's first transaction
// migrates it.
func create(path string) error {
	tmp := path + ".new"
	if _, err := os.Lstat(path); err == nil {
		if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("store: removing the leftover %s: %w", tmp, err)
		}
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: %w", err)
	}
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: removing the leftover %s: %w", tmp, err)
	}
	db, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: DefaultTimeout}) // writes and syncs its first pages
	if err != nil {
		return fmt.Errorf("store: creating %s: %w", tmp, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("store: creating %s: %w", tmp, err)
	}
	err = os.Link(tmp, path)
	_ = os.Remove(tmp)
	if err != nil && !errors.Is(err, os.ErrExist) { // another process made it first: use theirs
		return fmt.Errorf("store: creating %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("store: creating %s: %w", path, err)
	}
	return nil
}

// recoverHint ends every refusal of a damaged file.
const recoverHint = "To recover: stop the agent, keep a copy of the file, and restore a backup " +
	"(or move the file away to start with no jobs; the config file's jobs come back at the next start); " +
	"`edgecron db check` lists what is damaged (docs/durability.md)."

// scan reads what the agent will read — every key and value of every
// bucket: the jobs, their run states, the MQTT outbox — before Open writes
// anything, so that a file whose structure is damaged is refused
// untouched rather than found damaged after the start wrote to it, and
// sums the job records for the stamp. It decodes nothing: Load decodes
// each job record as it hands the job over, so a start decodes each
// record once and never holds all the jobs decoded. Call it in a read
// transaction.
func (s *Store) scan(tx *bolt.Tx) (err error) {
	defer recoverCorrupt(s.path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	if p := walkAll(tx); p != "" {
		return fmt.Errorf("%w: %s: %s; it was left untouched. %s", ErrCorrupt, s.path, p, recoverHint)
	}
	if jb := tx.Bucket(bucketJobs); jb != nil {
		s.jobsSum = sumJobs(jb)
	}
	return nil
}

// eachJob decodes every job record with its run state, walking the two
// buckets side by side (both are sorted by id), and calls fn, when not
// nil, with each job that decodes, in order of id, stopping at fn's first
// error. It returns the records that do not decode, kept aside: a damaged
// job is not handed over; a job whose run state is damaged is, without
// its run state. The Job fn gets is decoded into again for the next one.
func eachJob(tx *bolt.Tx, fn func(*sched.Job) error) (damaged []Damaged, err error) {
	jb, rb := tx.Bucket(bucketJobs), tx.Bucket(bucketRuns)
	rc := rb.Cursor()
	rk, rv := rc.First()
	var j, none sched.Job
	err = jb.ForEach(func(k, v []byte) error {
		p := recordProblem(k, v, &j)
		if p != "" {
			damaged = append(damaged, Damaged{ID: string(k), Kind: "job", Problem: p, Record: clone(v)})
		}
		// Run states of no job sort before k: they are checked only.
		for ; rk != nil && bytes.Compare(rk, k) < 0; rk, rv = rc.Next() {
			damaged = checkRun(damaged, rk, rv, &none)
		}
		into := &j
		if p != "" {
			into = &none
		}
		if rk != nil && bytes.Equal(rk, k) {
			damaged = checkRun(damaged, rk, rv, into)
			rk, rv = rc.Next()
		}
		if p != "" || fn == nil {
			return nil
		}
		return fn(&j)
	})
	if err != nil {
		return nil, err
	}
	for ; rk != nil; rk, rv = rc.Next() {
		damaged = checkRun(damaged, rk, rv, &none)
	}
	return damaged, nil
}

// checkRun decodes the run state record v of job k into j, and adds it to
// damaged when it does not decode: the job then loads without a run
// state.
func checkRun(damaged []Damaged, k, v []byte, j *sched.Job) []Damaged {
	if v == nil {
		return damaged // a bucket: walkAll read it, and nothing loads it
	}
	if err := decodeRun(v, j); err != nil {
		j.NextRunTime, j.LastRunTime, j.LastResult = nil, nil, ""
		damaged = append(damaged, Damaged{ID: string(k), Kind: "run state", Problem: err.Error(), Record: clone(v)})
	}
	return damaged
}

// keptAside reports whether the record v under key k of the jobs bucket
// is one that Load keeps aside (v is nil for a bucket there). Commit
// refuses to overwrite or delete it: the user takes it out with Salvage,
// which returns it.
func keptAside(k, v []byte) bool {
	var j sched.Job
	return recordProblem(k, v, &j) != ""
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// recordProblem says what is wrong with the job record v under key k, or
// "" when it is a job the scheduler can load: it decodes, its id is
// valid, and its action is a JSON object (a damaged action would make
// every export of the store fail).
func recordProblem(k, v []byte, j *sched.Job) string {
	if v == nil {
		return "a bucket where a job record belongs"
	}
	if !sched.IDPattern.Match(k) {
		return "the id is not valid"
	}
	// A zero job but for the id, and for the fields whose strings
	// decodeJob keeps when this record's are equal (a load decodes every
	// record into the job of the one before).
	*j = sched.Job{ID: string(k), Source: j.Source, Trigger: j.Trigger, Action: sched.Action{Type: j.Action.Type}}
	if err := decodeJob(v, j); err != nil {
		return err.Error()
	}
	if raw := j.Action.Raw; len(raw) > 0 && (raw[0] != '{' || !json.Valid(raw)) {
		return "its action is not a valid JSON object"
	}
	return ""
}

// Salvage takes the damaged records out of the store at path (the agent
// must be stopped): it returns them, raw, and deletes them in one
// fsynced transaction, leaving a file whose jobs all load. A job kept aside
// is gone from the file afterwards: the caller keeps what Salvage returns
// (agent db salvage prints it) so that the job can be re-created. Files
// whose structure is damaged are refused as by Open.
func Salvage(path string, opts Options) ([]Damaged, error) {
	opts.ReadOnly = false
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	out, err := s.Damaged(context.Background())
	if err != nil || len(out) == 0 {
		return nil, err
	}
	err = s.update(func(tx *bolt.Tx) error {
		jb, rb := tx.Bucket(bucketJobs), tx.Bucket(bucketRuns)
		for _, d := range out {
			b := jb
			if d.Kind == "run state" {
				b = rb
			}
			err := b.Delete([]byte(d.ID))
			if errors.Is(err, berrors.ErrIncompatibleValue) {
				err = b.DeleteBucket([]byte(d.ID)) // a bucket where a record belongs
			}
			if err != nil {
				return err
			}
			if d.Kind == "job" {
				if err := rb.Delete([]byte(d.ID)); err != nil {
					return err
				}
			}
		}
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	return out, nil
}
