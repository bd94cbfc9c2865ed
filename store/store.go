package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edgecron/edgecron/sched"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Defaults of Options.
const (
	DefaultMaxSize = 64 << 20
	DefaultTimeout = time.Second
)

// maxSize32 bounds MaxSize where the address space is 32 bits: bbolt maps
// the whole file and doubles its mapping as the file grows, within 2 GB.
const maxSize32 = 1 << 30

// Options configure Open. Zero values take the defaults.
type Options struct {
	// MaxSize caps the file (bbolt's MaxSize): a write that would grow it
	// further fails with ErrFull, and nothing of it is applied. Default
	// DefaultMaxSize; negative means no cap (not allowed on 32-bit systems,
	// where it may not exceed 1 GiB).
	MaxSize int
	// Timeout bounds the wait for the file's lock; then Open fails with
	// ErrLocked. Default DefaultTimeout; negative waits forever.
	Timeout time.Duration
	// ReadOnly opens the file under a shared lock without writing to it:
	// no migration, no boot count, and Commit and SaveRunState fail with
	// ErrReadOnly. The file must exist. For offline inspection (agent jobs
	// list, db check).
	ReadOnly bool
	// Now is the clock for the meta times; default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.MaxSize < 0 {
		o.MaxSize = 0 // bbolt: no limit
	}
	if math.MaxInt == math.MaxInt32 && (o.MaxSize == 0 || o.MaxSize > maxSize32) {
		return o, fmt.Errorf("store max size %d: on a 32-bit system it must be between 1 and %d bytes (bbolt maps the file into a 2 GB address space)", o.MaxSize, maxSize32)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Timeout < 0 {
		o.Timeout = 0 // bbolt: wait forever
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// Meta describes the file, as read when it was opened.
type Meta struct {
	Path    string
	Schema  int       // layout version (SchemaVersion after Open)
	Created time.Time // when the file was made
	// Boots counts the read-write Opens of the file, this one included.
	Boots uint64
	// LastCleanShutdown is the time of the last Close that finished; zero
	// if the file was never closed cleanly.
	LastCleanShutdown time.Time
	// Unclean is true when the previous boot did not close the store (a
	// crash or power loss): run state since its last checkpoint was lost.
	Unclean bool
	// Migrated is the schema the file had before Open upgraded it; equal to
	// Schema when no migration ran.
	Migrated int
	// Stamp is what the previous boot handed SetStamp, when its clean
	// Close recorded it and it still holds: that Close was the last
	// read-write use of the file (no Open for writing since, no crash), no
	// migration ran, and every job record is byte for byte the one it
	// summed. Otherwise nil. A read-write Open deletes the stamp from the
	// file: it counts for one start.
	Stamp []byte
}

// Stats count the store's writes since Open. Each commit is fsynced.
type Stats struct {
	Commits      int64 // write transactions committed, all kinds
	JobCommits   int64 // Commit calls
	Checkpoints  int64 // SaveRunState calls that wrote something
	Unchanged    int64 // SaveRunState calls with nothing new: no write at all
	PagesWritten int64 // pages written by the commits, meta pages included
	BytesWritten int64 // PagesWritten × the page size
}

// Store is a sched.Store in one bbolt file.
type Store struct {
	db       *bolt.DB
	path     string
	opts     Options
	meta     Meta
	pageSize int

	mu     sync.RWMutex // writers of closed hold it; every operation reads it
	closed bool

	jobsSum uint32 // sumJobs of the job records as Open's scan read them

	// damaged are the records kept aside (damage.go), as the last pass over
	// every job record (a Load, or Damaged) found them; damageKnown once
	// there was one.
	damageMu    sync.Mutex
	damaged     []Damaged
	damageKnown bool

	stamp       []byte      // for Close to record (SetStamp); guarded by mu
	writeFailed atomic.Bool // a commit failed since Open: Close records no stamp

	statsMu sync.Mutex
	stats   Stats
}

var _ sched.Store = (*Store)(nil)

// Open opens or creates the store at path. A file locked by a running agent
// fails with ErrLocked after Options.Timeout; a file that is not an edgecron
// store, is damaged in its structure (empty, truncated, unreadable pages),
// or was written by a newer agent fails with ErrNotStore, ErrCorrupt or
// ErrNewerSchema, naming the file and the problem, and is never modified.
// A job record that does not decode is no such refusal: Load keeps it
// aside (Damaged), and the other jobs load.
func Open(path string, opts Options) (*Store, error) {
	return open(path, opts, migrations)
}

func open(path string, opts Options, steps []migration) (*Store, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("store %s: not a regular file", path)
	} else if err != nil && (opts.ReadOnly || !errors.Is(err, os.ErrNotExist)) {
		return nil, fmt.Errorf("store: %w", err)
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	if err := checkShape(path); err != nil {
		return nil, err
	}
	if !opts.ReadOnly {
		if err := create(path); err != nil {
			return nil, err
		}
	}
	db, err := openBolt(path, &bolt.Options{
		Timeout:  opts.Timeout,
		MaxSize:  opts.MaxSize,
		ReadOnly: opts.ReadOnly,
		NoSync:   false, // every commit is fdatasynced: job changes are durable when acknowledged
		// Read-only opens load the freelist too, for Check.
		PreLoadFreelist: opts.ReadOnly,
	})
	if err != nil {
		return nil, openError(path, opts, err)
	}
	s := &Store{db: db, path: path, opts: opts, pageSize: db.Info().PageSize}
	// Everything Load reads is read before init writes the boot count: a
	// file refused for its damage is never written to.
	if err := s.db.View(s.scan); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := s.init(steps); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// openBolt is bolt.Open, with a panic or a memory fault on a damaged file
// turned into ErrCorrupt.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer recoverCorrupt(path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return bolt.Open(path, 0o600, o)
}

// openError explains a bbolt.Open failure.
func openError(path string, opts Options, err error) error {
	switch {
	case errors.Is(err, bolt.ErrTimeout):
		// What to do about it is the caller's to say: a job command can
		// go through the control socket, db commands cannot.
		return fmt.Errorf("%w: the agent holds %s (or another process does; gave up after %v)",
			ErrLocked, path, opts.Timeout)
	case errors.Is(err, ErrCorrupt):
		return err
	case errors.Is(err, bolt.ErrInvalid), errors.Is(err, bolt.ErrChecksum), errors.Is(err, bolt.ErrVersionMismatch):
		return fmt.Errorf("%w: %s is not a bbolt database, or both its meta pages are damaged (%v); it was left untouched",
			ErrNotStore, path, err)
	}
	return fmt.Errorf("store %s: %w", path, err)
}

// init reads the meta bucket, migrates the file to SchemaVersion and counts
// the boot, all in one transaction (none in read-only mode).
func (s *Store) init(steps []migration) (err error) {
	defer recoverCorrupt(s.path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	now := s.opts.Now()
	body := func(tx *bolt.Tx) error {
		from, err := readSchema(tx, s.path)
		if err != nil {
			return err
		}
		target := len(steps)
		if from > target {
			return fmt.Errorf("%w: %s has schema version %d, this agent knows up to %d (was the agent downgraded?); it was left untouched: run the newer agent, or restore a backup made before the upgrade",
				ErrNewerSchema, s.path, from, target)
		}
		s.meta = Meta{Path: s.path, Schema: from, Migrated: from}
		if from < target {
			if !tx.Writable() {
				return fmt.Errorf("store %s: schema version %d needs a migration to %d: open it read-write (with the agent stopped)",
					s.path, from, target)
			}
			if err := migrate(tx, from, steps, now); err != nil {
				return fmt.Errorf("store %s: %w", s.path, err)
			}
			s.meta.Schema = target
		}
		meta := tx.Bucket(bucketMeta)
		if tx.Bucket(bucketJobs) == nil || tx.Bucket(bucketRuns) == nil {
			return fmt.Errorf("%w: %s lacks its jobs or runs bucket", ErrCorrupt, s.path)
		}
		created, err := getU64(meta, keyCreated)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, err)
		}
		boots, err := getU64(meta, keyBoots)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, err)
		}
		var cleanBoot uint64
		var cleanAt time.Time
		if v := meta.Get(keyClean); len(v) == 16 {
			cleanBoot = binary.BigEndian.Uint64(v)
			cleanAt = time.Unix(0, int64(binary.BigEndian.Uint64(v[8:])))
		} else if len(v) != 0 {
			return fmt.Errorf("%w: %s: meta clean is %d bytes, not 16", ErrCorrupt, s.path, len(v))
		}
		if created != 0 {
			s.meta.Created = time.Unix(0, int64(created))
		}
		s.meta.LastCleanShutdown = cleanAt
		s.meta.Unclean = boots > 0 && cleanBoot != boots
		s.meta.Boots = boots
		if s.meta.Migrated == s.meta.Schema {
			s.meta.Stamp = readStamp(meta, boots, cleanBoot, s.jobsSum)
		}
		if tx.Writable() {
			s.meta.Boots = boots + 1
			if err := meta.Delete(keyStamp); err != nil {
				return err
			}
			return meta.Put(keyBoots, be64(boots+1))
		}
		return nil
	}
	if s.opts.ReadOnly {
		return s.db.View(body)
	}
	return s.update(body, nil)
}

// recoverCorrupt turns a bbolt panic on a damaged page into ErrCorrupt. The
// callers also set debug.SetPanicOnFault, so that reading through a damaged
// page pointer into unmapped memory panics (and is recovered here) instead
// of killing the process.
func recoverCorrupt(path string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: %s: reading it failed: %v", ErrCorrupt, path, r)
	}
}

// update runs fn in a write transaction and commits it unless fn fails or
// reports (through *skip) that it changed nothing.
func (s *Store) update(fn func(*bolt.Tx) error, skip *bool) error {
	tx, err := s.db.Begin(true)
	if err != nil {
		return s.writeError(err)
	}
	// A panic on a damaged page (recovered by the caller) must not leave
	// the transaction, and with it bbolt's writer lock, open.
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if skip != nil && *skip {
		return nil // rolled back: nothing to write
	}
	err = tx.Commit()
	done = true
	if err != nil {
		// What reached the disk is not known: no stamp vouches for it.
		s.writeFailed.Store(true)
		return s.writeError(err)
	}
	st := tx.Stats()
	pages := st.GetPageCount() + 1 // the dirty pages and the meta page
	s.statsMu.Lock()
	s.stats.Commits++
	s.stats.PagesWritten += pages
	s.stats.BytesWritten += pages * int64(s.pageSize)
	s.statsMu.Unlock()
	return nil
}

func (s *Store) writeError(err error) error {
	switch {
	case errors.Is(err, berrors.ErrMaxSizeReached):
		return fmt.Errorf("%w: %s reached its maximum size of %d bytes; nothing was written: run `edgecron db compact`, or raise store.max_size",
			ErrFull, s.path, s.opts.MaxSize)
	case errors.Is(err, bolt.ErrDatabaseReadOnly), errors.Is(err, bolt.ErrTxNotWritable):
		return fmt.Errorf("%w: %s", ErrReadOnly, s.path)
	case errors.Is(err, bolt.ErrDatabaseNotOpen):
		return fmt.Errorf("%w: %s", ErrClosed, s.path)
	}
	return fmt.Errorf("store %s: %w", s.path, err)
}

// acquire takes the read side of the close lock; it fails once closed.
func (s *Store) acquire(ctx context.Context, write bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return fmt.Errorf("%w: %s", ErrClosed, s.path)
	}
	if write && s.opts.ReadOnly {
		s.mu.RUnlock()
		return fmt.Errorf("%w: %s", ErrReadOnly, s.path)
	}
	return nil
}

// Meta returns what Open read from the meta bucket.
func (s *Store) Meta() Meta { return s.meta }

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// DB returns the bbolt handle, so that another adapter (the MQTT outbox)
// can keep its own root buckets in the same file. It must not touch the
// store's buckets (meta, jobs, runs), and must not use it after Close.
func (s *Store) DB() *bolt.DB { return s.db }

// Stats returns the write counters since Open.
func (s *Store) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.stats
}

// Load hands fn every stored job with its run state, in order of id,
// decoding each record as it goes: the jobs are never all held decoded.
// A job record that does not decode is kept aside (Damaged) instead, and
// the other jobs load.
func (s *Store) Load(ctx context.Context, fn func(*sched.Job) error) error {
	if err := s.acquire(ctx, false); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	_, err := s.readJobs(fn)
	return err
}

// Commit applies changes in one fsynced transaction, or none of them. A
// change whose PrevVersion does not match fails it with an error matching
// sched.ErrVersionConflict.
func (s *Store) Commit(ctx context.Context, changes []sched.Change) (err error) {
	if len(changes) == 0 {
		return ctx.Err()
	}
	type put struct{ job, run []byte }
	vals := make([]put, len(changes))
	for i, c := range changes {
		if c.IsReceipt() {
			if err := sched.CheckReceiptChange(c); err != nil {
				return fmt.Errorf("store: change %d: %w", i, err)
			}
			continue
		}
		if !sched.IDPattern.MatchString(c.ID) {
			return sched.FieldError("id", "%q does not match %s", c.ID, sched.IDPattern)
		}
		if c.Delete {
			continue
		}
		if c.Job.ID != c.ID {
			return fmt.Errorf("store: change %d puts job %q under id %q", i, c.Job.ID, c.ID)
		}
		vals[i].job = appendJob(nil, &c.Job)
		if rs := runStateOf(&c.Job); !emptyRun(rs) {
			vals[i].run = appendRun(nil, rs)
		}
	}
	if err := s.acquire(ctx, true); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	defer recoverCorrupt(s.path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	err = s.update(func(tx *bolt.Tx) error {
		jb, rb := tx.Bucket(bucketJobs), tx.Bucket(bucketRuns)
		for i, c := range changes {
			if c.IsReceipt() {
				if err := applyReceipt(tx, &c); err != nil {
					return err
				}
				continue
			}
			key := []byte(c.ID)
			k, cur := jb.Cursor().Seek(key)
			stored := bytes.Equal(k, key)
			if stored && keptAside(k, cur) {
				return fmt.Errorf("%w: %s: job %q is damaged and kept aside: take it out with `edgecron db salvage` (agent stopped) before re-creating it",
					ErrCorrupt, s.path, c.ID)
			}
			if c.PrevVersion >= 0 {
				var have int64
				if stored {
					v, err := peekVersion(cur)
					if err != nil {
						return fmt.Errorf("%w: %s: job %q: %v", ErrCorrupt, s.path, c.ID, err)
					}
					if v == 0 {
						v = -1 // present: never matches "absent"
					}
					have = v
				}
				if have != c.PrevVersion {
					return versionConflict(c, have)
				}
			}
			if c.Delete {
				if err := jb.Delete(key); err != nil {
					return err
				}
				if err := rb.Delete(key); err != nil {
					return err
				}
				continue
			}
			if err := jb.Put(key, vals[i].job); err != nil {
				return err
			}
			if vals[i].run == nil {
				if err := rb.Delete(key); err != nil {
					return err
				}
			} else if err := rb.Put(key, vals[i].run); err != nil {
				return err
			}
		}
		return nil
	}, nil)
	if err != nil {
		return err
	}
	s.statsMu.Lock()
	s.stats.JobCommits++
	s.statsMu.Unlock()
	return nil
}

func versionConflict(c sched.Change, have int64) error {
	var msg string
	switch {
	case have == 0:
		msg = fmt.Sprintf("job %q does not exist (expected version %d)", c.ID, c.PrevVersion)
	case c.PrevVersion == 0:
		msg = fmt.Sprintf("job %q already exists", c.ID)
	case have < 0:
		msg = fmt.Sprintf("job %q is stored without a version, expected version %d", c.ID, c.PrevVersion)
	default:
		msg = fmt.Sprintf("job %q is at version %d, expected version %d", c.ID, have, c.PrevVersion)
	}
	return &sched.Error{Code: sched.CodeVersionConflict, Message: msg}
}

// SaveRunState records run state for the jobs that still exist, in one
// fsynced transaction. States equal to the stored ones are not rewritten,
// and when nothing changed nothing is written at all.
func (s *Store) SaveRunState(ctx context.Context, states []sched.RunState) (err error) {
	if len(states) == 0 {
		return ctx.Err()
	}
	if err := s.acquire(ctx, true); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	defer recoverCorrupt(s.path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	unchanged := true
	var buf []byte
	err = s.update(func(tx *bolt.Tx) error {
		jb, rb := tx.Bucket(bucketJobs), tx.Bucket(bucketRuns)
		for _, st := range states {
			key := []byte(st.ID)
			if jb.Get(key) == nil {
				continue
			}
			cur := rb.Get(key)
			if emptyRun(st) {
				if cur != nil {
					unchanged = false
					if err := rb.Delete(key); err != nil {
						return err
					}
				}
				continue
			}
			buf = appendRun(buf[:0], st)
			if bytes.Equal(cur, buf) {
				continue
			}
			unchanged = false
			if err := rb.Put(key, bytes.Clone(buf)); err != nil {
				return err
			}
		}
		return nil
	}, &unchanged)
	if err != nil {
		return err
	}
	s.statsMu.Lock()
	if unchanged {
		s.stats.Unchanged++
	} else {
		s.stats.Checkpoints++
	}
	s.statsMu.Unlock()
	return nil
}

// SetStamp has Close record stamp (at most a few hundred bytes, opaque to
// the store) with the clean-shutdown mark, in the same transaction, for
// the next Open to report in Meta.Stamp if it still holds then. The
// agent's stamp says that every stored job's action was validated under
// its fingerprint (docs/durability.md). Close records none when a commit
// failed since Open, or when stamp is empty; a read-only store records
// nothing.
func (s *Store) SetStamp(stamp []byte) {
	s.mu.Lock()
	s.stamp = bytes.Clone(stamp)
	s.mu.Unlock()
}

// Close records a clean shutdown (read-write stores), with the stamp set
// by SetStamp, and closes the file. Operations still running finish first;
// later ones fail with ErrClosed. Closing twice is a no-op.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if !s.opts.ReadOnly {
		now := s.opts.Now()
		err = s.update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			v := binary.BigEndian.AppendUint64(be64(s.meta.Boots), uint64(now.UnixNano()))
			if err := meta.Put(keyClean, v); err != nil {
				return err
			}
			if len(s.stamp) == 0 || s.writeFailed.Load() {
				return nil
			}
			return meta.Put(keyStamp, append(stampHead(s.meta.Boots, sumJobs(tx.Bucket(bucketJobs))), s.stamp...))
		}, nil)
		if err != nil {
			err = fmt.Errorf("recording the clean shutdown: %w", err)
		}
	}
	if cerr := s.db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("store %s: %w", s.path, cerr)
	}
	return err
}
