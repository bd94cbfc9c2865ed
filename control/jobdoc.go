package control

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// jobDoc is a job document as a reply carries it, decoded whole: the
// writable fields through sched.DecodeJob, the read-only ones (which
// sched's decoders ignore or refuse, as input must) beside them.
type jobDoc struct{ sched.Job }

type readOnly struct {
	Version     int64      `json:"version"`
	NextRunTime *time.Time `json:"next_run_time"`
	LastRunTime *time.Time `json:"last_run_time"`
	LastResult  string     `json:"last_result"`
	Source      string     `json:"source"`
}

func (d *jobDoc) UnmarshalJSON(b []byte) error {
	j, err := DecodeJobDocument(b)
	d.Job = j
	return err
}

// DecodeJobDocument decodes a job document as the agent writes it (a
// reply, an export), read-only fields included.
func DecodeJobDocument(b []byte) (sched.Job, error) {
	p, err := sched.DecodeJob(b, sched.ModeImport)
	if err != nil {
		return sched.Job{}, fmt.Errorf("job document: %w", err)
	}
	var ro readOnly
	if err := json.Unmarshal(b, &ro); err != nil {
		return sched.Job{}, fmt.Errorf("job document: %w", err)
	}
	j := p.Job
	j.Version, j.NextRunTime, j.LastRunTime, j.LastResult, j.Source = ro.Version, ro.NextRunTime, ro.LastRunTime, ro.LastResult, ro.Source
	return j, nil
}

func (d jobDoc) MarshalJSON() ([]byte, error) { return d.Job.MarshalJSON() }

func docs(jobs []sched.Job) []jobDoc {
	out := make([]jobDoc, len(jobs))
	for i, j := range jobs {
		out[i] = jobDoc{j}
	}
	return out
}

func jobsOf(ds []jobDoc) []sched.Job {
	out := make([]sched.Job, len(ds))
	for i, d := range ds {
		out[i] = d.Job
	}
	return out
}
