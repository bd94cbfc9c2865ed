package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"

	"github.com/edgecron/edgecron/sched"
)

// Request receipts (sched.Receipt) live in their own root bucket,
// "requests", keyed by request id. The bucket is made by the first commit
// that stores a receipt, so files without it (written before receipts
// existed, or never sent a request) stay schema 1, and an older agent
// opening a newer file ignores it. The scheduler keeps the bucket within
// its receipt window (1 MiB by default) through Change.Forget.
//
// Receipt record, version 1:
//
//	byte     1 (record version)
//	time     At (as in run state records)
//	string   Kind, JobID (uvarint length, bytes)
//	varint   Version
var bucketRequests = []byte("requests")

const receiptRecordV1 = 1

func appendReceipt(b []byte, r *sched.Receipt) []byte {
	b = append(b, receiptRecordV1)
	b = appendTime(b, r.At)
	b = appendString(b, r.Kind)
	b = appendString(b, r.JobID)
	return binary.AppendVarint(b, r.Version)
}

func decodeReceipt(key, val []byte) (sched.Receipt, error) {
	rd := reader{s: val}
	if v := rd.byte(); rd.err == nil && v != receiptRecordV1 {
		return sched.Receipt{}, fmt.Errorf("receipt record version %d unknown", v)
	}
	r := sched.Receipt{RequestID: string(key)}
	r.At = rd.time()
	r.Kind = rd.string()
	r.JobID = rd.string()
	r.Version = rd.varint()
	rd.end()
	if rd.err != nil {
		return sched.Receipt{}, rd.err
	}
	return r, nil
}

// applyReceipt applies a receipt change (validated) within a commit.
func applyReceipt(tx *bolt.Tx, c *sched.Change) error {
	b := tx.Bucket(bucketRequests)
	if b == nil {
		if c.Receipt == nil {
			return nil // nothing to forget
		}
		var err error
		if b, err = tx.CreateBucket(bucketRequests); err != nil {
			return err
		}
	}
	for _, id := range c.Forget {
		if err := b.Delete([]byte(id)); err != nil {
			return err
		}
	}
	if c.Receipt == nil {
		return nil
	}
	return b.Put([]byte(c.Receipt.RequestID), appendReceipt(nil, c.Receipt))
}

// LoadReceipts returns every stored request receipt.
func (s *Store) LoadReceipts(ctx context.Context) (rs []sched.Receipt, err error) {
	if err := s.acquire(ctx, false); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	defer recoverCorrupt(s.path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRequests)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			r, err := decodeReceipt(k, v)
			if err != nil {
				return fmt.Errorf("%w: %s: receipt of request %q: %v", ErrCorrupt, s.path, k, err)
			}
			rs = append(rs, r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return rs, nil
}
