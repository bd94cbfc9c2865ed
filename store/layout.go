package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The file's layout, schema version 1:
//
//	meta  format   "edgecron-store" (tells our file from any other bbolt file)
//	      schema   uint32 big-endian: the layout version
//	      created  int64 big-endian Unix nanoseconds: when the file was made
//	      boots    uint64 big-endian: incremented by every read-write Open
//	      clean    uint64 boot number + int64 Unix nanoseconds: the last
//	               Close that finished (a clean shutdown)
//	      stamp    uint64 boot number + uint32 CRC-32 of the job records +
//	               the caller's bytes (SetStamp): written by a clean Close
//	               in the transaction that writes clean, deleted by the next
//	               read-write Open; absent in files of older agents, which
//	               ignore it (an addition, not a new schema version)
//	jobs  <job id> job record (codec.go)
//	runs  <job id> run state record (codec.go); absent when empty
//	requests <request id> receipt record (receipts.go); the bucket is made
//	      by the first receipt, so a file may lack it
//
// Other root buckets belong to adapters sharing the file through DB (the
// MQTT outbox); the store leaves them alone.
var (
	bucketMeta = []byte("meta")
	bucketJobs = []byte("jobs")
	bucketRuns = []byte("runs")

	keyFormat  = []byte("format")
	keySchema  = []byte("schema")
	keyCreated = []byte("created")
	keyBoots   = []byte("boots")
	keyClean   = []byte("clean")
	keyStamp   = []byte("stamp")
)

const formatMarker = "edgecron-store"

// SchemaVersion is the layout version this build writes and reads. A file
// of a higher version (written by a newer agent) is refused, untouched.
const SchemaVersion = 1

// A migration upgrades a file by one schema version inside the Open
// transaction: it either completes, with the new version recorded, or
// leaves the file as it was.
type migration func(tx *bolt.Tx, now time.Time) error

// migrations[v] upgrades schema v to v+1. Version 0 is an empty bbolt file
// (a new store, or one cut short before its first commit).
var migrations = []migration{
	0: func(tx *bolt.Tx, now time.Time) error {
		meta, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		for _, b := range [][]byte{bucketJobs, bucketRuns} {
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		if err := meta.Put(keyFormat, []byte(formatMarker)); err != nil {
			return err
		}
		return meta.Put(keyCreated, be64(uint64(now.UnixNano())))
	},
}

// readSchema returns the schema version of the file open in tx: 0 for an
// empty file. A file that is not ours is an ErrNotStore error.
func readSchema(tx *bolt.Tx, path string) (int, error) {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		var names []string
		_ = tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, fmt.Sprintf("%q", name))
			return nil
		})
		if len(names) == 0 {
			return 0, nil
		}
		sort.Strings(names)
		return 0, fmt.Errorf("%w: %s is a bbolt file of something else (buckets %v, no edgecron meta); it was left untouched",
			ErrNotStore, path, names)
	}
	if f := meta.Get(keyFormat); string(f) != formatMarker {
		return 0, fmt.Errorf("%w: %s has a meta bucket but format %q, not %q; it was left untouched",
			ErrNotStore, path, f, formatMarker)
	}
	v := meta.Get(keySchema)
	if len(v) != 4 {
		return 0, fmt.Errorf("%w: %s: meta schema is %d bytes, not 4; it was left untouched", ErrCorrupt, path, len(v))
	}
	return int(binary.BigEndian.Uint32(v)), nil
}

// migrate upgrades the file from schema from to len(steps), recording each
// step's version. The caller commits or rolls back tx as a whole.
func migrate(tx *bolt.Tx, from int, steps []migration, now time.Time) error {
	for v := from; v < len(steps); v++ {
		if err := steps[v](tx, now); err != nil {
			return fmt.Errorf("migrating schema %d to %d: %w", v, v+1, err)
		}
		if err := tx.Bucket(bucketMeta).Put(keySchema, be32(uint32(v+1))); err != nil {
			return fmt.Errorf("migrating schema %d to %d: %w", v, v+1, err)
		}
	}
	return nil
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

// getU64 reads a big-endian uint64 key of meta; absent reads as 0.
func getU64(meta *bolt.Bucket, key []byte) (uint64, error) {
	v := meta.Get(key)
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, fmt.Errorf("meta %s is %d bytes, not 8", key, len(v))
}

// sumRecord adds the job record v under key k to the checksum crc of the
// job records, taken in key order. The lengths go in first, so that a
// boundary moved between a key and its value, or between records, changes
// the sum; head is 8 bytes of room for them (one buffer for all the
// records, not an allocation each).
func sumRecord(crc uint32, head, k, v []byte) uint32 {
	binary.BigEndian.PutUint64(head, uint64(len(k))<<32|uint64(len(v)))
	crc = crc32.Update(crc, crc32.IEEETable, head)
	crc = crc32.Update(crc, crc32.IEEETable, k)
	return crc32.Update(crc, crc32.IEEETable, v)
}

// sumJobs is the checksum of every record of the jobs bucket.
func sumJobs(jb *bolt.Bucket) uint32 {
	var crc uint32
	head := make([]byte, 8)
	c := jb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		crc = sumRecord(crc, head, k, v)
	}
	return crc
}

// stampHead is a stamp's own fields, before the caller's bytes: the boot
// whose Close wrote it and the checksum of the job records then.
func stampHead(boot uint64, sum uint32) []byte {
	return binary.BigEndian.AppendUint32(be64(boot), sum)
}

// readStamp returns the caller's bytes of the stamp in meta when it holds:
// it was written by the Close of boot boots, which was also the last clean
// Close (cleanBoot) and so the last read-write use of the file, and the job
// records are still the ones it summed (sum). Otherwise nil: a stamp that
// does not hold, or does not parse, is ignored, never an error.
func readStamp(meta *bolt.Bucket, boots, cleanBoot uint64, sum uint32) []byte {
	v, head := meta.Get(keyStamp), stampHead(boots, sum)
	if boots == 0 || cleanBoot != boots || len(v) <= len(head) || !bytes.Equal(v[:len(head)], head) {
		return nil
	}
	return bytes.Clone(v[len(head):])
}
