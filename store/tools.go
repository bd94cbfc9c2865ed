package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/edgecron/edgecron/sched"
	bolt "go.etcd.io/bbolt"
)

// Report is what Check found in a store file.
type Report struct {
	Path      string
	Meta      Meta
	FileSize  int64
	PageSize  int
	FreePages int // pages on the freelist, reused before the file grows
	Jobs      int
	RunStates int
	// Buckets maps the root buckets of other adapters (the MQTT outbox) to
	// their number of keys.
	Buckets map[string]int
	// Problems lists what is wrong, one line each; empty when the file is
	// sound.
	Problems []string
}

// maxProblems bounds the problems a report lists; the rest are counted.
const maxProblems = 50

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) == maxProblems {
		r.Problems = append(r.Problems, "(more problems not listed)")
	}
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// String formats the report for a terminal (agent db check).
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "store:          %s\n", r.Path)
	fmt.Fprintf(&b, "schema:         %d\n", r.Meta.Schema)
	if !r.Meta.Created.IsZero() {
		fmt.Fprintf(&b, "created:        %s\n", r.Meta.Created.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "boots:          %d\n", r.Meta.Boots)
	switch {
	case r.Meta.LastCleanShutdown.IsZero():
		fmt.Fprintf(&b, "clean shutdown: never\n")
	default:
		last := r.Meta.LastCleanShutdown.Format(time.RFC3339)
		if r.Meta.Unclean {
			last += " (the last boot did not shut down cleanly)"
		}
		fmt.Fprintf(&b, "clean shutdown: %s\n", last)
	}
	if len(r.Meta.Stamp) > 0 {
		b.WriteString("stamp:          yes: a start of the same build and config skips validating the stored actions\n")
	} else {
		b.WriteString("stamp:          none: the next start validates every stored action\n")
	}
	fmt.Fprintf(&b, "size:           %d bytes (%d free pages of %d bytes)\n", r.FileSize, r.FreePages, r.PageSize)
	fmt.Fprintf(&b, "jobs:           %d (%d with run state)\n", r.Jobs, r.RunStates)
	names := make([]string, 0, len(r.Buckets))
	for n := range r.Buckets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "bucket %-8s %d keys\n", n+":", r.Buckets[n])
	}
	if len(r.Problems) == 0 {
		b.WriteString("result:         ok\n")
	} else {
		fmt.Fprintf(&b, "result:         %d problems\n", len(r.Problems))
		for _, p := range r.Problems {
			fmt.Fprintf(&b, "  - %s\n", p)
		}
	}
	return b.String()
}

// Check inspects the store file at path offline (read-only, under a shared
// lock: it fails with ErrLocked while an agent runs): bbolt's consistency
// check of every page, the meta bucket, and a decode of every record. The
// report is returned whenever the file could be opened; the error matches
// ErrCorrupt when the report lists problems.
func Check(path string, opts Options) (*Report, error) {
	opts.ReadOnly = true
	s, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.check()
}

// check builds the Report of an open store.
func (s *Store) check() (rep *Report, err error) {
	rep = &Report{Path: s.path, Meta: s.meta, PageSize: s.pageSize, Buckets: map[string]int{}}
	if fi, err := os.Stat(s.path); err == nil {
		rep.FileSize = fi.Size()
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			rep.problem("reading the file failed: %v", r)
		}
		if err == nil && len(rep.Problems) > 0 {
			err = fmt.Errorf("%w: %s: %d problems: %s", ErrCorrupt, s.path, len(rep.Problems), rep.Problems[0])
		}
	}()
	err = s.db.View(func(tx *bolt.Tx) error {
		// bbolt's Check runs in a goroutine of its own, where a damaged
		// page pointer would kill the process: read every key and value
		// here first, where a fault is recovered.
		if p := touchAll(tx); p != "" {
			rep.problem("%s", p)
			return nil
		}
		for e := range tx.Check() {
			rep.problem("bbolt: %v", e)
		}
		rep.FreePages = s.db.Stats().FreePageN
		jb, rb := tx.Bucket(bucketJobs), tx.Bucket(bucketRuns)
		var j sched.Job
		_ = jb.ForEach(func(k, v []byte) error {
			rep.Jobs++
			if p := recordProblem(k, v, &j); p != "" {
				rep.problem("job %q: %s (kept aside at start: `edgecron db salvage` takes it out)", k, p)
			}
			return nil
		})
		_ = rb.ForEach(func(k, v []byte) error {
			rep.RunStates++
			if jb.Get(k) == nil {
				rep.problem("run state %q: no such job", k)
			}
			if err := decodeRun(v, &j); err != nil {
				rep.problem("run state of job %q: %v", k, err)
			}
			return nil
		})
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			switch {
			case bytes.Equal(name, bucketMeta), bytes.Equal(name, bucketJobs), bytes.Equal(name, bucketRuns):
			default:
				rep.Buckets[string(name)] = b.Stats().KeyN
			}
			return nil
		})
	})
	return rep, err
}

// touchAll reads every key and value of every bucket, then every page
// header. It returns what went wrong, or "" when the whole tree could be
// read. Call it with debug.SetPanicOnFault set.
func touchAll(tx *bolt.Tx) string {
	if p := walkAll(tx); p != "" {
		return p
	}
	return walkPages(tx)
}

// walkAll reads every key and value of every bucket (what Open's scan
// reads before the first write). It returns what went wrong, or "". Call
// it with debug.SetPanicOnFault set.
func walkAll(tx *bolt.Tx) (problem string) {
	defer func() {
		if r := recover(); r != nil {
			problem = fmt.Sprintf("the file is damaged: reading its pages failed: %v", r)
		}
	}()
	// Every byte is read. The sum is kept in a local per record: a
	// captured variable would be loaded and stored for each byte.
	var sum byte
	touch := func(b []byte) {
		var x byte
		for _, c := range b {
			x ^= c
		}
		sum ^= x
	}
	var walk func(b *bolt.Bucket) error
	walk = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			touch(k)
			if v == nil {
				if nb := b.Bucket(k); nb != nil {
					return walk(nb)
				}
				return nil
			}
			touch(v)
			return nil
		})
	}
	if err := tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return walk(b) }); err != nil {
		return fmt.Sprintf("the file is damaged: %v", err)
	}
	_ = sum
	return ""
}

// walkPages visits every page header. A page whose overflow runs past the
// end would make bbolt's Check loop for billions of pages. In-use pages
// are visited by their first page, skipping their overflow; free pages
// one by one. Call it with debug.SetPanicOnFault set.
func walkPages(tx *bolt.Tx) (problem string) {
	defer func() {
		if r := recover(); r != nil {
			problem = fmt.Sprintf("the file is damaged: reading its pages failed: %v", r)
		}
	}()
	hwm := int(tx.Size() / int64(tx.DB().Info().PageSize))
	for id := 0; id < hwm; {
		info, err := tx.Page(id)
		if err != nil {
			return fmt.Sprintf("the file is damaged: page %d: %v", id, err)
		}
		if info == nil {
			break
		}
		if info.Type == "free" {
			id++
			continue
		}
		if info.OverflowCount >= hwm-id {
			return fmt.Sprintf("the file is damaged: page %d (%s) claims %d overflow pages past the end of the data (%d pages)",
				id, info.Type, info.OverflowCount, hwm)
		}
		id += info.OverflowCount + 1
	}
	return ""
}

// CompactResult says what a compaction achieved.
type CompactResult struct {
	Before, After int64 // file sizes in bytes
}

// compactTxSize bounds one transaction of a compaction (bbolt commits the
// copy in pieces of this size, bounding its memory).
const compactTxSize = 1 << 20

// Compact copies the store at src into a new file dst, leaving out the free
// pages (bbolt never shrinks a file by itself). src is opened read-only, so
// it fails with ErrLocked while an agent runs; dst must not exist. The copy
// is fsynced and checked; on any failure dst is removed.
func Compact(src, dst string, opts Options) (CompactResult, error) {
	opts.ReadOnly = true
	s, err := Open(src, opts)
	if err != nil {
		return CompactResult{}, err
	}
	defer s.Close()
	return compactInto(s.db, src, dst, opts)
}

// CompactFile compacts the store at path in place: it holds the file's
// exclusive lock (so no agent starts meanwhile), writes the compacted copy
// next to it as path+".compact", checks it, and renames it over path. A
// crash leaves either the old file or the new one (and perhaps the
// ".compact" file, which the next compaction replaces).
func CompactFile(path string, opts Options) (CompactResult, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return CompactResult{}, err
	}
	if _, err := os.Stat(path); err != nil {
		return CompactResult{}, fmt.Errorf("store: %w", err)
	}
	db, err := openBolt(path, &bolt.Options{Timeout: o.Timeout})
	if err != nil {
		return CompactResult{}, openError(path, o, err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		v, err := readSchema(tx, path)
		if err == nil && v != SchemaVersion {
			err = fmt.Errorf("store %s: schema version %d, this agent compacts version %d only (open it with the agent first, or use the matching agent)", path, v, SchemaVersion)
		}
		return err
	}); err != nil {
		return CompactResult{}, err
	}
	tmp := path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return CompactResult{}, fmt.Errorf("store: removing the leftover %s: %w", tmp, err)
	}
	res, err := compactInto(db, path, tmp, o)
	if err != nil {
		return res, err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return res, fmt.Errorf("store: replacing %s with its compacted copy: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return res, fmt.Errorf("store: %s was compacted but the directory sync failed: %w", path, err)
	}
	return res, nil
}

// compactInto copies db (the store at src) into the new file dst.
func compactInto(db *bolt.DB, src, dst string, opts Options) (res CompactResult, err error) {
	if fi, err := os.Stat(src); err == nil {
		res.Before = fi.Size()
	}
	f, err := os.OpenFile(dst, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return res, fmt.Errorf("store: compacting into %s: %w (it must not exist)", dst, err)
	}
	f.Close()
	defer func() {
		if err != nil {
			_ = os.Remove(dst)
		}
	}()
	out, err := bolt.Open(dst, 0o600, &bolt.Options{Timeout: opts.Timeout, MaxSize: opts.MaxSize})
	if err != nil {
		return res, fmt.Errorf("store: compacting into %s: %w", dst, err)
	}
	if err := bolt.Compact(out, db, compactTxSize); err != nil {
		out.Close()
		return res, fmt.Errorf("store: compacting %s into %s: %w", src, dst, err)
	}
	if err := out.Close(); err != nil {
		return res, fmt.Errorf("store: compacting into %s: %w", dst, err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return res, fmt.Errorf("store: compacting into %s: %w", dst, err)
	}
	if rep, err := Check(dst, Options{Timeout: opts.Timeout}); err != nil {
		if rep != nil {
			return res, fmt.Errorf("store: the compacted copy %s failed its check: %w\n%s", dst, err, rep)
		}
		return res, fmt.Errorf("store: the compacted copy %s failed its check: %w", dst, err)
	}
	if fi, err := os.Stat(dst); err == nil {
		res.After = fi.Size()
	}
	return res, nil
}

// syncDir fsyncs a directory, making a file created or renamed in it
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
