package schedtest

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// MemStore is a sched.Store in memory. It copies jobs on the way in and out,
// so neither the scheduler nor a test can change what it holds by accident.
// It counts commits and run-state saves, and can be made to fail, for tests
// of what the scheduler does when its store does.
type MemStore struct {
	mu       sync.Mutex
	jobs     map[string]sched.Job
	receipts map[string]sched.Receipt
	commits  int
	saves    int
	failWith error
	onCommit func([]sched.Change)
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{jobs: map[string]sched.Job{}, receipts: map[string]sched.Receipt{}}
}

// Load hands fn a copy of every job, in order of id.
func (m *MemStore) Load(ctx context.Context, fn func(*sched.Job) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.failWith != nil {
		m.mu.Unlock()
		return m.failWith
	}
	jobs := make([]sched.Job, 0, len(m.jobs))
	for _, j := range m.jobs {
		jobs = append(jobs, CopyJob(j))
	}
	m.mu.Unlock() // fn may use the store
	sort.Slice(jobs, func(i, k int) bool { return jobs[i].ID < jobs[k].ID })
	for i := range jobs {
		if err := fn(&jobs[i]); err != nil {
			return err
		}
	}
	return nil
}

// LoadAll returns every job st holds, in order of id: Load's jobs
// gathered, for a test or tool that wants them all at once.
func LoadAll(ctx context.Context, st sched.Store) ([]sched.Job, error) {
	var jobs []sched.Job
	err := st.Load(ctx, func(j *sched.Job) error {
		jobs = append(jobs, *j)
		return nil
	})
	return jobs, err
}

// Commit applies changes in order, all or none. Each change's PrevVersion is
// checked against the state the earlier changes of the same commit left.
func (m *MemStore) Commit(ctx context.Context, changes []sched.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return m.failWith
	}
	// Stage the changes on an overlay; apply only if all pass.
	staged := map[string]*sched.Job{}
	lookup := func(id string) (sched.Job, bool) {
		if j, ok := staged[id]; ok {
			if j == nil {
				return sched.Job{}, false
			}
			return *j, true
		}
		j, ok := m.jobs[id]
		return j, ok
	}
	stagedR := map[string]*sched.Receipt{}
	for _, c := range changes {
		if c.IsReceipt() {
			if err := sched.CheckReceiptChange(c); err != nil {
				return err
			}
			for _, id := range c.Forget {
				stagedR[id] = nil
			}
			if c.Receipt != nil {
				r := *c.Receipt
				stagedR[r.RequestID] = &r
			}
			continue
		}
		cur, exists := lookup(c.ID)
		if err := CheckPrevVersion(c, cur, exists); err != nil {
			return err
		}
		if c.Delete {
			staged[c.ID] = nil
			continue
		}
		j := CopyJob(c.Job)
		j.ID = c.ID
		staged[c.ID] = &j
	}
	for id, j := range staged {
		if j == nil {
			delete(m.jobs, id)
		} else {
			m.jobs[id] = *j
		}
	}
	for id, r := range stagedR {
		if r == nil {
			delete(m.receipts, id)
		} else {
			m.receipts[id] = *r
		}
	}
	m.commits++
	if m.onCommit != nil {
		m.onCommit(changes)
	}
	return nil
}

// SaveRunState records run state for jobs that exist and ignores the rest.
func (m *MemStore) SaveRunState(ctx context.Context, states []sched.RunState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return m.failWith
	}
	for _, s := range states {
		j, ok := m.jobs[s.ID]
		if !ok {
			continue
		}
		j.NextRunTime = copyTime(s.NextRunTime)
		j.LastRunTime = copyTime(s.LastRunTime)
		j.LastResult = s.LastResult
		m.jobs[s.ID] = j
	}
	m.saves++
	return nil
}

// LoadReceipts returns every receipt.
func (m *MemStore) LoadReceipts(ctx context.Context) ([]sched.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failWith != nil {
		return nil, m.failWith
	}
	out := make([]sched.Receipt, 0, len(m.receipts))
	for _, r := range m.receipts {
		out = append(out, r)
	}
	return out, nil
}

// Receipts returns how many receipts the store holds.
func (m *MemStore) Receipts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.receipts)
}

// Commits returns how many Commits succeeded.
func (m *MemStore) Commits() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.commits
}

// RunStateSaves returns how many SaveRunState calls succeeded.
func (m *MemStore) RunStateSaves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}

// Fail makes every later call return err, until Fail(nil).
func (m *MemStore) Fail(err error) {
	m.mu.Lock()
	m.failWith = err
	m.mu.Unlock()
}

// OnCommit sets a function called, with the store locked, after each
// successful Commit (tests use it to see the order of commits and events).
// It must not call the store.
func (m *MemStore) OnCommit(f func([]sched.Change)) {
	m.mu.Lock()
	m.onCommit = f
	m.mu.Unlock()
}

// Job returns a copy of the stored job id.
func (m *MemStore) Job(id string) (sched.Job, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	return CopyJob(j), ok
}

// Len returns the number of stored jobs.
func (m *MemStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.jobs)
}

// CheckPrevVersion applies the version rule of sched.Change: PrevVersion < 0
// skips the check, 0 requires the job to be absent, and any other value must
// equal the stored version. The error matches sched.ErrVersionConflict.
// Stores may use it so that they all word the conflict alike.
func CheckPrevVersion(c sched.Change, cur sched.Job, exists bool) error {
	switch {
	case c.PrevVersion < 0:
		return nil
	case c.PrevVersion == 0 && exists:
		return &sched.Error{Code: sched.CodeVersionConflict, Field: "version",
			Message: "job " + c.ID + " already exists (version " + itoa(cur.Version) + ")"}
	case c.PrevVersion > 0 && !exists:
		return &sched.Error{Code: sched.CodeVersionConflict, Field: "version",
			Message: "job " + c.ID + " does not exist (expected version " + itoa(c.PrevVersion) + ")"}
	case c.PrevVersion > 0 && cur.Version != c.PrevVersion:
		return &sched.Error{Code: sched.CodeVersionConflict, Field: "version",
			Message: "job " + c.ID + " is at version " + itoa(cur.Version) + ", expected " + itoa(c.PrevVersion)}
	}
	return nil
}

// CopyJob returns a deep copy of j: its pointers and its action bytes are
// its own.
func CopyJob(j sched.Job) sched.Job {
	if j.MisfireGraceTime != nil {
		d := *j.MisfireGraceTime
		j.MisfireGraceTime = &d
	}
	j.NextRunTime = copyTime(j.NextRunTime)
	j.LastRunTime = copyTime(j.LastRunTime)
	if j.Action.Raw != nil {
		j.Action.Raw = append([]byte(nil), j.Action.Raw...)
	}
	j.Conditions = append([]sched.Condition(nil), j.Conditions...)
	return j
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
