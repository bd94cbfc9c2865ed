package sched

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// A request sent over MQTT may arrive twice: the requester got no reply
// and sends it again, or the broker redelivers a QoS 1 message that the
// agent applied just before it lost power (the PUBACK never left). A
// request id that changed something must therefore be remembered as
// durably as the change itself: the scheduler stores a Receipt in the same
// store transaction as the change it acknowledges, and refuses a second
// change under the same id, across restarts too.

// Receipt records that a request changed a job, or started a run.
type Receipt struct {
	RequestID string    // 1 to MaxRequestID bytes of UTF-8
	At        time.Time // wall time of the commit
	// Kind is what the request did: the EventKind of the change (added,
	// modified, paused, resumed, removed; submitted for a run), or what the
	// caller of Record says (the MQTT agent: "actuated").
	Kind string
	// JobID is the job changed, or what the caller of Record names (an
	// actuator).
	JobID string
	// Version is the job's version after the change; for a remove, the
	// version removed; for a run, the version that ran.
	Version int64
}

// MaxRequestID bounds a request id in bytes.
const MaxRequestID = 128

// receiptOverhead is what a receipt costs beside its strings: the
// in-memory index (map entry, queue slot, time, version) and the stored
// record's fixed fields. Sizes are counted the same in memory and on disk.
const receiptOverhead = 96

// Size is what r counts against ReceiptWindow.MaxBytes.
func (r Receipt) Size() int {
	return receiptOverhead + len(r.RequestID) + len(r.Kind) + len(r.JobID)
}

// CheckRequestID validates a request id.
func CheckRequestID(id string) error {
	if id == "" || len(id) > MaxRequestID || !utf8.ValidString(id) || strings.ContainsRune(id, utf8.RuneError) {
		return FieldError("id", "must be 1 to %d bytes of UTF-8 (no U+FFFD), got %d bytes", MaxRequestID, len(id))
	}
	return nil
}

// CheckReceiptChange validates a receipt change (Change.IsReceipt) as a
// store must before committing it: no job fields, a valid request id.
func CheckReceiptChange(c Change) error {
	if c.ID != "" || c.Delete || c.PrevVersion != 0 || c.Job.ID != "" {
		return fmt.Errorf("sched: a receipt change carries job fields (id %q)", c.ID)
	}
	if c.Receipt != nil {
		if err := CheckRequestID(c.Receipt.RequestID); err != nil {
			return fmt.Errorf("sched: receipt: %w", err)
		}
	}
	return nil
}

// ReceiptWindow says how long receipts are kept: a receipt goes once it is
// both beyond the last MinCount and older than MinAge, or when the
// receipts together would exceed MaxBytes (the oldest first). The
// defaults keep at least 1,000 ids and every id of the last hour, in at
// most 1 MiB of memory and as much on disk; MaxBytes holds 1,000 receipts
// of the largest size with room to spare, so only a rate of more than
// ~4,000 changes an hour shortens the hour.
type ReceiptWindow struct {
	MinCount int           // default 1000
	MinAge   time.Duration // default 1h
	MaxBytes int           // default 1 MiB
}

// Defaults of ReceiptWindow.
const (
	DefaultReceiptMinCount = 1000
	DefaultReceiptMinAge   = time.Hour
	DefaultReceiptMaxBytes = 1 << 20
)

func (w ReceiptWindow) withDefaults() ReceiptWindow {
	if w.MinCount <= 0 {
		w.MinCount = DefaultReceiptMinCount
	}
	if w.MinAge <= 0 {
		w.MinAge = DefaultReceiptMinAge
	}
	if w.MaxBytes <= 0 {
		w.MaxBytes = DefaultReceiptMaxBytes
	}
	return w
}

// receiptLog is the scheduler's index of the receipts in the store, oldest
// first. Guarded by Scheduler.mu.
type receiptLog struct {
	w     ReceiptWindow
	byID  map[string]Receipt
	order []string // request ids, oldest first, from head
	head  int
	bytes int
	// stale are ids still in the store but no longer in the window (found
	// at Load): the next receipt commit deletes them.
	stale []string
}

func newReceiptLog(w ReceiptWindow) receiptLog {
	return receiptLog{w: w.withDefaults(), byID: map[string]Receipt{}}
}

func (l *receiptLog) get(id string) (Receipt, bool) {
	r, ok := l.byID[id]
	return r, ok
}

func (l *receiptLog) len() int { return len(l.order) - l.head }

// plan returns the ids to delete when r is added at now: the stale ones,
// then the oldest while the window allows. It changes nothing.
func (l *receiptLog) plan(r Receipt, now time.Time) []string {
	forget := append([]string(nil), l.stale...)
	n, bytes := l.len()+1, l.bytes+r.Size()
	for i := l.head; i < len(l.order) && n > 1; i++ {
		old := l.byID[l.order[i]]
		aged := n > l.w.MinCount && now.Sub(old.At) > l.w.MinAge
		if !aged && bytes <= l.w.MaxBytes {
			break
		}
		forget = append(forget, old.RequestID)
		n--
		bytes -= old.Size()
	}
	return forget
}

// add records r, committed together with the deletion of forget (from
// plan).
func (l *receiptLog) add(r Receipt, forget []string) {
	l.stale = nil
	for _, id := range forget {
		l.remove(id)
	}
	l.push(r)
}

func (l *receiptLog) push(r Receipt) {
	l.byID[r.RequestID] = r
	l.order = append(l.order, r.RequestID)
	l.bytes += r.Size()
}

// remove forgets id, which is the oldest (plan deletes from the front) or
// the receipt of a run that could not start (the newest).
func (l *receiptLog) remove(id string) {
	r, ok := l.byID[id]
	if !ok {
		return
	}
	delete(l.byID, id)
	l.bytes -= r.Size()
	switch {
	case l.head < len(l.order) && l.order[l.head] == id:
		l.order[l.head] = ""
		l.head++
	case len(l.order) > l.head && l.order[len(l.order)-1] == id:
		l.order = l.order[:len(l.order)-1]
	default:
		for i := l.head; i < len(l.order); i++ {
			if l.order[i] == id {
				l.order = append(l.order[:i], l.order[i+1:]...)
				break
			}
		}
	}
	if l.head > 64 && l.head*2 > len(l.order) {
		l.order = append([]string(nil), l.order[l.head:]...)
		l.head = 0
	}
}

// load fills the log from the store's receipts (any order): what no
// longer fits the window at now becomes stale, deleted by the next commit.
func (l *receiptLog) load(rs []Receipt, now time.Time) error {
	sortReceipts(rs)
	for _, r := range rs {
		if err := CheckRequestID(r.RequestID); err != nil {
			return fmt.Errorf("stored receipt %q: %w", r.RequestID, err)
		}
		if _, dup := l.byID[r.RequestID]; dup {
			return fmt.Errorf("stored receipt %q: stored twice", r.RequestID)
		}
		l.push(r)
	}
	// What the window lets go now, with no new receipt: the plan for an
	// empty receipt, minus its own cost.
	for l.len() > 0 {
		old := l.byID[l.order[l.head]]
		aged := l.len() > l.w.MinCount && now.Sub(old.At) > l.w.MinAge
		if !aged && l.bytes <= l.w.MaxBytes {
			break
		}
		l.remove(old.RequestID)
		l.stale = append(l.stale, old.RequestID)
	}
	return nil
}

// sortReceipts orders receipts oldest first (ties by id, so that a load
// is deterministic).
func sortReceipts(rs []Receipt) {
	sort.Slice(rs, func(i, k int) bool {
		if !rs[i].At.Equal(rs[k].At) {
			return rs[i].At.Before(rs[k].At)
		}
		return rs[i].RequestID < rs[k].RequestID
	})
}

// Receipt returns the receipt of request id, if it changed something (or
// started a run) within the receipt window. Receipts survive restarts:
// they are stored with the change.
func (s *Scheduler) Receipt(requestID string) (Receipt, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.receipts.get(requestID)
}

// commitFor commits changes asked for by o. When o names a request, its
// receipt (kind, job id, the job's version after the change) goes in the
// same transaction, with the deletion of receipts the window lets go; a
// request id that already has a receipt is refused. Called with s.mu
// held; on error nothing was committed.
func (s *Scheduler) commitFor(ctx context.Context, o OpOptions, kind EventKind, jobID string, version int64, changes ...Change) error {
	if o.RequestID == "" {
		return s.commit(ctx, changes...)
	}
	if err := s.checkRequest(o.RequestID); err != nil {
		return err
	}
	r := Receipt{RequestID: o.RequestID, At: s.clock.Now(), Kind: string(kind), JobID: jobID, Version: version}
	forget := s.receipts.plan(r, r.At)
	if err := s.commit(ctx, append(changes, Change{Receipt: &r, Forget: forget})...); err != nil {
		return err
	}
	s.receipts.add(r, forget)
	return nil
}

// checkRequest refuses a malformed or already applied request id. Called
// with s.mu held.
func (s *Scheduler) checkRequest(id string) error {
	if err := CheckRequestID(id); err != nil {
		return err
	}
	if r, ok := s.receipts.get(id); ok {
		return &Error{Code: CodeConflict, Field: "id", Message: fmt.Sprintf(
			"request %q was already applied (%s job %q, version %d, at %s)", id, r.Kind, r.JobID, r.Version, r.At.UTC().Format(time.RFC3339))}
	}
	return nil
}

// Record commits the receipt of a request that the scheduler does not carry
// out itself (an actuator command), before the caller carries it out, so
// that it is carried out at most once: a request id that already has a
// receipt is refused with CodeConflict. kind and subject (at most 64
// bytes each) say what was asked. A request that then fails is Forgotten.
func (s *Scheduler) Record(ctx context.Context, requestID, kind, subject string) error {
	if kind == "" || len(kind) > 64 || len(subject) > 64 {
		return fmt.Errorf("sched: Record: kind and subject must be 1..64 and 0..64 bytes")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return err
	}
	if err := s.checkRequest(requestID); err != nil {
		return err
	}
	r := Receipt{RequestID: requestID, At: s.clock.Now(), Kind: kind, JobID: subject}
	forget := s.receipts.plan(r, r.At)
	if err := s.commit(ctx, Change{Receipt: &r, Forget: forget}); err != nil {
		return err
	}
	s.receipts.add(r, forget)
	return nil
}

// Forget deletes the receipt of request id: what it asked for was not
// done after all (an actuator refused the command), so the same id may
// be sent again.
func (s *Scheduler) Forget(ctx context.Context, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.receipts.get(requestID); !ok {
		return nil
	}
	return s.forgetReceipt(ctx, requestID)
}

// forgetReceipt deletes the receipt of request id, committed for a run
// that then could not start. Called with s.mu held.
func (s *Scheduler) forgetReceipt(ctx context.Context, id string) error {
	if err := s.commit(ctx, Change{Forget: []string{id}}); err != nil {
		return err
	}
	s.receipts.remove(id)
	return nil
}
