// Package control is the agent's local control socket: a Unix socket through
// which `agent jobs ...` manages the jobs of a running agent (over SSH, with
// no broker), since the running agent holds the store file locked.
//
// The protocol is one JSON request line and one JSON reply line per
// connection. Server dispatches requests to a Jobs implementation (the
// scheduler); Client implements Jobs by sending requests, so the command
// line runs the same code against a running agent or an opened store.
package control

import (
	"context"
	"encoding/json"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// Jobs is what the control socket exposes: the job operations of
// *sched.Scheduler the command line needs.
type Jobs interface {
	Get(id string) (sched.Job, error)
	List() []sched.Job
	PauseJob(ctx context.Context, id string, o sched.OpOptions) (sched.Job, error)
	ResumeJob(ctx context.Context, id string, o sched.OpOptions) (sched.Job, error)
	Remove(ctx context.Context, id string, o sched.OpOptions) (sched.Job, error)
	RunNow(ctx context.Context, id string, o sched.OpOptions) error
	Import(ctx context.Context, ps []sched.Patch, o sched.OpOptions) ([]sched.Job, error)
}

// maxMessage bounds a request or reply line.
const maxMessage = 16 << 20

// request is one control request.
type request struct {
	Op    string          `json:"op"` // list get pause resume remove run import
	JobID string          `json:"job_id,omitempty"`
	Jobs  json.RawMessage `json:"jobs,omitempty"` // import: an array of job documents
}

// reply is one control reply.
type reply struct {
	Status string     `json:"status"` // accepted | rejected
	Code   sched.Code `json:"code"`
	Field  string     `json:"field,omitempty"`
	Error  string     `json:"error,omitempty"`
	Job    *jobDoc    `json:"job,omitempty"`
	Jobs   []jobDoc   `json:"jobs,omitempty"`
}

// ioTimeout bounds how long one side waits for the other's line.
const ioTimeout = 30 * time.Second
