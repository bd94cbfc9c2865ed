// Package control is the agent's local control socket: a Unix socket through
// which `edgecron jobs ...` manages the jobs of a running agent (over SSH, with
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

// Agent is what the control socket exposes of the running agent beyond its
// jobs: a config reload and the hardware by hand. A Server without one
// refuses these ops.
type Agent interface {
	// Reload re-reads the config file and applies it, as SIGHUP does. A
	// rejected file returns every problem found and an error; an applied
	// one, notes (changes that wait for a restart) and nil.
	Reload(ctx context.Context) (messages []string, err error)
	// Read takes one reading of a sensor (a JSON document).
	Read(ctx context.Context, sensor string) (json.RawMessage, error)
	// Set applies a set payload (as MQTT's <root>/actuators/NAME/set
	// takes it) to an actuator, through its safety profile, and returns
	// its state (a JSON document).
	Set(ctx context.Context, actuator string, payload []byte) (json.RawMessage, error)
}

// maxMessage bounds a request or reply line.
const maxMessage = 16 << 20

// request is one control request.
type request struct {
	Op      string          `json:"op"` // list get pause resume remove run import reload read set
	JobID   string          `json:"job_id,omitempty"`
	Jobs    json.RawMessage `json:"jobs,omitempty"`    // import: an array of job documents
	Name    string          `json:"name,omitempty"`    // read: the sensor; set: the actuator
	Payload json.RawMessage `json:"payload,omitempty"` // set: the set payload, a JSON string or object
}

// reply is one control reply.
type reply struct {
	Status string     `json:"status"` // accepted | rejected
	Code   sched.Code `json:"code"`
	Field  string     `json:"field,omitempty"`
	Error  string     `json:"error,omitempty"`
	Job    *jobDoc    `json:"job,omitempty"`
	Jobs   []jobDoc   `json:"jobs,omitempty"`
	// Problems lists what a rejected reload found wrong.
	Problems []string `json:"problems,omitempty"`
	// Notes lists what an applied reload left for a restart.
	Notes []string `json:"notes,omitempty"`
	// Result is a reading (read) or an actuator state (set).
	Result json.RawMessage `json:"result,omitempty"`
}

// ioTimeout bounds the sending and receiving of one line: the request's
// arrival at the server and the reply's delivery to the client. It does
// not bound the operation between them (see opTimeout): an import that
// waits its turn on a busy scheduler longer than this used to lose its
// reply although it had been committed.
//
// opTimeout bounds how long a client waits for the reply once its request
// is sent; past it the client says the agent may still apply the request.
// Variables only so that tests can shorten them.
var (
	ioTimeout = 30 * time.Second
	opTimeout = 5 * time.Minute
)
