package sched

import (
	"context"
	"time"
)

// Store keeps jobs across restarts. The scheduler is its only writer.
//
// Job changes (add, modify, reschedule, pause, resume, remove, import) go
// through Commit and must be durable (fsynced) when Commit returns: the
// scheduler acknowledges a change only after that. Run state (last and next
// run) changes on every run; the scheduler batches it and hands it to
// SaveRunState once per checkpoint interval and at shutdown, so that
// recurring runs do not cost an fsync each.
//
// Receipts of requests (see Receipt) are kept by Commit, in the same
// transaction as the job changes beside them, and read back by
// LoadReceipts.
//
// schedtest.RunStoreTests is the conformance suite every Store must pass.
type Store interface {
	// Load calls fn with every stored job, run state included, in order of
	// id, and stops at fn's first error, returning it. The Job is fn's for
	// the call only (Load may decode the next job into it): fn keeps what
	// the Job holds, not the Job. One job at a time, so that a store
	// need not hold all of them decoded at once (the bbolt store does not).
	Load(ctx context.Context, fn func(*Job) error) error
	// Commit applies all changes in one atomic, durable transaction, or none.
	// A change whose PrevVersion does not match the stored job's version (0
	// meaning "absent") fails the whole commit with ErrVersionConflict.
	Commit(ctx context.Context, changes []Change) error
	// SaveRunState records run state for existing jobs in one transaction.
	// States of jobs that no longer exist are ignored.
	SaveRunState(ctx context.Context, states []RunState) error
	// LoadReceipts returns every stored receipt, in no particular order.
	LoadReceipts(ctx context.Context) ([]Receipt, error)
}

// Change is one change within a Commit: Put stores Job (replacing any job
// of the same ID), Delete removes the job with ID.
//
// A change with Receipt or Forget set is a receipt change instead, and its
// ID must be empty: it stores Receipt (replacing any receipt of the same
// RequestID) and deletes the receipts of the request ids in Forget (absent
// ones are ignored). The scheduler puts one beside the job change a
// request made, so that the change and the record that the request was
// applied are durable together or not at all; a receipt change alone
// records a run that a request started. The scheduler keeps the stored
// receipts within its ReceiptWindow through Forget: a store never drops
// receipts on its own.
type Change struct {
	Delete bool
	ID     string
	Job    Job // the whole job for a Put, run state included
	// PrevVersion is the version the stored job must have for the change to
	// apply: 0 when it must not exist. Negative skips the check (import with
	// replace).
	PrevVersion int64

	Receipt *Receipt
	Forget  []string
}

// IsReceipt reports whether c is a receipt change.
func (c Change) IsReceipt() bool { return c.Receipt != nil || c.Forget != nil }

// RunState is the part of a job that changes when it runs.
type RunState struct {
	ID          string
	NextRunTime *time.Time
	LastRunTime *time.Time
	LastResult  string
}
