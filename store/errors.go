package store

import "errors"

// Sentinels for errors.Is. The errors Open and the tools return wrap them
// with the file's path and what is wrong with it.
var (
	// ErrLocked: another process (a running agent) holds the file's lock.
	ErrLocked = errors.New("store locked")
	// ErrNotStore: the file is not an edgecron store (another program's
	// bbolt file, or not a bbolt file at all).
	ErrNotStore = errors.New("not an edgecron store")
	// ErrCorrupt: the file is an edgecron store but damaged.
	ErrCorrupt = errors.New("store damaged")
	// ErrNewerSchema: the file was written by a newer agent (a downgrade).
	ErrNewerSchema = errors.New("store written by a newer agent")
	// ErrFull: a write would grow the file beyond Options.MaxSize.
	ErrFull = errors.New("store full")
	// ErrReadOnly: the store was opened with Options.ReadOnly.
	ErrReadOnly = errors.New("store opened read-only")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store closed")
)
