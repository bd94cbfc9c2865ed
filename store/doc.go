// Package store keeps edgecron's jobs in one bbolt file (go.etcd.io/bbolt).
//
// *Store satisfies sched.Store: a job change (Commit) is one fsynced bbolt
// transaction, atomic and version-checked; run state (SaveRunState) lives in
// its own small records so that a checkpoint writes little. The file also
// holds a meta bucket (schema version, boot counter, last clean shutdown
// and the stamp it may carry: SetStamp) and may hold buckets of other
// adapters that share it through DB (the MQTT outbox).
//
// Reading order: layout.go (buckets, keys, schema and migrations), codec.go
// (the binary record encoding), store.go (Open, Load, Commit, SaveRunState,
// Close), tools.go (offline Check and Compact). docs/durability.md says what
// is fsynced when and what a crash can cost.
package store
