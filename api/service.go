package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/edgecron/edgecron/sched"
)

// nextRunPreview is how many upcoming fire times a reply lists.
const nextRunPreview = 5

// opTimeout bounds one change: the scheduler's store commit.
const opTimeout = 30 * time.Second

// Scheduler is the part of *sched.Scheduler the pipeline uses.
type Scheduler interface {
	Add(ctx context.Context, p sched.Patch, o sched.AddOptions) (sched.Job, error)
	Modify(ctx context.Context, id string, p sched.Patch, o sched.OpOptions) (sched.Job, error)
	Reschedule(ctx context.Context, id string, t sched.TriggerSpec, o sched.OpOptions) (sched.Job, error)
	PauseJob(ctx context.Context, id string, o sched.OpOptions) (sched.Job, error)
	ResumeJob(ctx context.Context, id string, o sched.OpOptions) (sched.Job, error)
	Remove(ctx context.Context, id string, o sched.OpOptions) (sched.Job, error)
	Get(id string) (sched.Job, error)
	List() []sched.Job
	RunNow(ctx context.Context, id string, o sched.OpOptions) error
	// Receipt returns the durable record of a request id that changed
	// something (OpOptions.RequestID).
	Receipt(requestID string) (sched.Receipt, bool)
	// Record and Forget keep the receipt of an actuator command.
	Record(ctx context.Context, requestID, kind, subject string) error
	Forget(ctx context.Context, requestID string) error
}

// Actuators applies an actuator command: ON, OFF, TOGGLE or a JSON command
// (see actuators.ParseSetPayload).
type Actuators interface {
	Apply(ctx context.Context, name string, payload []byte) error
}

// Deps are what a Service is wired to. Scheduler is required.
type Deps struct {
	Scheduler Scheduler
	Actuators Actuators // nil: actuator commands are refused (not_found)
	// Clock gives wall time (expires_at) and monotonic time (the replay
	// cache); default the system clock.
	Clock sched.Clock
	// Location is the zone of next_run_times for triggers without one;
	// default time.Local.
	Location *time.Location
	// Site is where solar triggers without coordinates of their own
	// compute the sun in next_run_times; nil: none.
	Site   *sched.Site
	Logger *slog.Logger
}

// Service is the request pipeline every transport shares: one per agent,
// so that a request id is answered once whichever way it comes (MQTT or
// HTTP). It is safe for concurrent use.
type Service struct {
	deps   Deps
	log    *slog.Logger
	clock  sched.Clock
	replay *replayCache

	mu        sync.Mutex
	inflight  map[string]chan struct{} // request ids being answered
	onRefused func(name string, sr SetRequest, err error)
}

// New builds the Service for deps.
func New(deps Deps) *Service {
	if deps.Clock == nil {
		deps.Clock = sched.NewSystemClock()
	}
	if deps.Location == nil {
		deps.Location = time.Local
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	return &Service{deps: deps, log: deps.Logger, clock: deps.Clock,
		replay: newReplayCache(replayMin, replayTTL, replayMaxBytes), inflight: map[string]chan struct{}{}}
}

// Options say where a request comes from.
type Options struct {
	// Source is the transport: sched.SourceMQTT or sched.SourceHTTP.
	Source string
	// Group is set for a group command (MQTT): an add must then name
	// its job, as each device would generate its own id.
	Group string
}

// Outcome is the answer to a request with a requester's id.
type Outcome struct {
	Reply Reply
	// Bytes is Reply as JSON, the bytes to send: the first reply's bytes
	// again when Replayed. nil when there is nothing to send (an actuator
	// command without id).
	Bytes []byte
	// Replayed says the id was answered before: from the replay cache, or
	// from its durable receipt (a change applied before a restart).
	Replayed bool
}

// Answer answers one request with a requester's id (req.ID, decoded with
// DecodeRequest; decodeErr is DecodeRequest's error, which must not wrap
// ErrNoID): from the replay cache when its id was seen in this run, from
// the scheduler's durable receipt when it changed something before (in
// this run or an earlier one), else by executing it with the id committed
// with the change. Requests of the same id are answered one at a time.
func (s *Service) Answer(ctx context.Context, req Request, decodeErr error, o Options) Outcome {
	defer s.lock(req.ID)()
	if out, ok := s.replayed(req.ID); ok {
		return out
	}
	var rep Reply
	if decodeErr != nil {
		rep = Rejected(req.ID, decodeErr)
	} else {
		rep = s.executeAs(ctx, req, o, true)
	}
	return s.remember(rep)
}

// Execute performs a request whose id the caller made up and never uses
// again (Home Assistant's job commands, an HTTP request without a request
// id): no receipt is kept and no reply remembered.
func (s *Service) Execute(ctx context.Context, req Request, o Options) Reply {
	return s.executeAs(ctx, req, o, false)
}

// lock waits until no other request of id is being answered and returns
// the function that lets the next one go.
func (s *Service) lock(id string) func() {
	for {
		s.mu.Lock()
		busy, ok := s.inflight[id]
		if !ok {
			done := make(chan struct{})
			s.inflight[id] = done
			s.mu.Unlock()
			return func() {
				s.mu.Lock()
				delete(s.inflight, id)
				s.mu.Unlock()
				close(done)
			}
		}
		s.mu.Unlock()
		<-busy
	}
}

// replayed returns the answer to an id seen before: from the replay cache,
// else from its receipt.
func (s *Service) replayed(id string) (Outcome, bool) {
	if b, ok := s.replay.get(id); ok {
		s.log.Info("repeated request id: first reply sent again", "id", id)
		var rep Reply
		_ = json.Unmarshal(b, &rep) // our own encoding
		return Outcome{Reply: rep, Bytes: b, Replayed: true}, true
	}
	r, ok := s.deps.Scheduler.Receipt(id)
	if !ok {
		return Outcome{}, false
	}
	s.log.Info("repeated request id: applied before, answered from its receipt", "id", id,
		"job", r.JobID, "version", r.Version, "applied_at", r.At)
	out := s.encode(s.fromReceipt(r))
	out.Replayed = true
	if out.Bytes != nil {
		s.replay.put(id, out.Bytes, s.clock.Elapsed())
	}
	return out, true
}

// remember encodes rep and, when it is final, keeps it for replay (in its
// compact form when large).
func (s *Service) remember(rep Reply) Outcome {
	out := s.encode(rep)
	if out.Bytes != nil && final(rep.Code) {
		b := out.Bytes
		if len(b) > replayKeepBytes {
			b = compact(rep)
		}
		s.replay.put(rep.ID, b, s.clock.Elapsed())
	}
	return out
}

func (s *Service) encode(rep Reply) Outcome {
	b, err := json.Marshal(rep)
	if err != nil {
		s.log.Error("cannot encode reply", "id", rep.ID, "err", err)
	}
	return Outcome{Reply: rep, Bytes: b}
}

// final reports whether a reply with code is final for its id, and so
// remembered for replay. An internal error changed nothing and may be
// transient; an expired request changed nothing, and the same message
// redelivered expires again by itself: the same id may be sent again
// (with a later expires_at) and is then executed. Every other reply is
// final.
func final(code sched.Code) bool {
	return code != sched.CodeInternal && code != sched.CodeExpired
}

// maxReplayError bounds the error message a compact reply keeps.
const maxReplayError = 256

// compact returns the reply to send again for rep when rep is too large to
// keep: its status, code, error (cut to 256 bytes), the job's id and
// version, and "replayed": true; not the job or jobs.
func compact(rep Reply) []byte {
	c := Reply{ID: rep.ID, Status: rep.Status, Code: rep.Code, Error: rep.Error, Replayed: true}
	if len(c.Error) > maxReplayError {
		cut := maxReplayError
		for cut > 0 && !utf8.RuneStart(c.Error[cut]) {
			cut--
		}
		c.Error = c.Error[:cut] + "..."
	}
	if len(rep.Job) > 0 {
		var head struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
		}
		if json.Unmarshal(rep.Job, &head) == nil {
			c.JobID, c.Version = head.ID, head.Version
		}
	}
	b, _ := json.Marshal(c) // strings and numbers only: cannot fail
	return b
}

// fromReceipt is the reply to a request id that was applied before this
// reply cache knew it (before a restart): accepted, the job's id and
// version after the change, "replayed": true, and the job document when
// the job is still at that version.
func (s *Service) fromReceipt(r sched.Receipt) Reply {
	rep := Reply{ID: r.RequestID, Status: StatusAccepted, Code: sched.CodeOK, Replayed: true}
	if r.Kind == KindActuated {
		rep.Actuator = r.JobID // Record's subject
		return rep
	}
	rep.JobID, rep.Version = r.JobID, r.Version
	if r.Kind == string(sched.EventRemoved) {
		return rep
	}
	if j, err := s.deps.Scheduler.Get(r.JobID); err == nil && j.Version == r.Version {
		if b, err := j.MarshalJSON(); err == nil {
			rep.Job = b
		}
	}
	return rep
}

// executeAs performs a decoded request against the scheduler. The
// scheduler returns only after the store committed a change, so an
// accepted reply is an acknowledgement of a durable change. With once,
// a change or run is committed with the id's receipt, so that the id is
// never applied twice.
func (s *Service) executeAs(ctx context.Context, req Request, o Options, once bool) Reply {
	if req.ExpiresAt != nil && !s.clock.Now().Before(*req.ExpiresAt) {
		return Rejected(req.ID, &sched.Error{Code: sched.CodeExpired, Field: "expires_at",
			Message: "request expired at " + req.ExpiresAt.Format(time.RFC3339)})
	}
	cmd, err := decodeCommand(req)
	if err != nil {
		return Rejected(req.ID, err)
	}
	if req.Op == OpAdd && (cmd.patch.Job.ID == "cmd" || cmd.patch.Job.ID == "res") {
		return Rejected(req.ID, sched.FieldError("job.id", "%q is reserved: <root>/jobs/%s is a protocol topic", cmd.patch.Job.ID, cmd.patch.Job.ID))
	}
	if o.Group != "" && req.Op == OpAdd && cmd.patch.Fields&sched.FieldID == 0 {
		return Rejected(req.ID, sched.FieldError("job.id", "is required in a group command (each device would generate its own)"))
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	sc := s.deps.Scheduler
	src := o.Source
	if src == "" {
		src = sched.SourceMQTT
	}
	oo := sched.OpOptions{Source: src, ExpectedVersion: req.ExpectedVersion}
	if once && req.Op != OpGet && req.Op != OpList {
		// Stored with the change: the same id is never applied twice.
		oo.RequestID = req.ID
	}
	var job sched.Job
	switch req.Op {
	case OpAdd:
		job, err = sc.Add(ctx, cmd.patch, sched.AddOptions{OpOptions: oo, ReplaceExisting: req.ReplaceExisting})
	case OpModify:
		job, err = sc.Modify(ctx, req.JobID, cmd.patch, oo)
	case OpReschedule:
		job, err = sc.Reschedule(ctx, req.JobID, cmd.trigger, oo)
	case OpPause:
		job, err = sc.PauseJob(ctx, req.JobID, oo)
	case OpResume:
		job, err = sc.ResumeJob(ctx, req.JobID, oo)
	case OpRemove:
		job, err = sc.Remove(ctx, req.JobID, oo)
	case OpGet:
		job, err = sc.Get(req.JobID)
	case OpRun:
		if err = sc.RunNow(ctx, req.JobID, oo); err == nil {
			job, err = sc.Get(req.JobID)
		}
	case OpList:
		jobs := sc.List()
		if jobs == nil {
			jobs = []sched.Job{}
		}
		b, err := json.Marshal(jobs)
		if err != nil {
			return Rejected(req.ID, &sched.Error{Code: sched.CodeInternal, Message: "encode jobs", Err: err})
		}
		return Reply{ID: req.ID, Status: StatusAccepted, Code: sched.CodeOK, Jobs: b}
	default:
		return Rejected(req.ID, sched.FieldError("op", "unknown op %q", req.Op))
	}
	if err != nil {
		return Rejected(req.ID, err)
	}
	b, err := job.MarshalJSON() // compact already: not json.Marshal's second pass
	if err != nil {
		return Rejected(req.ID, &sched.Error{Code: sched.CodeInternal, Message: "encode job", Err: err})
	}
	rep := Reply{ID: req.ID, Status: StatusAccepted, Code: sched.CodeOK, Job: b}
	if req.Op != OpRemove {
		rep.NextRunTimes = s.NextRunTimes(job)
	}
	return rep
}

// NextRunTimes previews the job's coming fire times from its next run.
func (s *Service) NextRunTimes(j sched.Job) []string {
	if j.NextRunTime == nil || j.Paused {
		return nil
	}
	ts, err := sched.Preview(j.Trigger, sched.Env{Location: s.deps.Location, Site: s.deps.Site}, *j.NextRunTime, nextRunPreview)
	if err != nil {
		return nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = sched.FormatTime(t)
	}
	return out
}
