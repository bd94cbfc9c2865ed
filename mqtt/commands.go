package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/edgecron/edgecron/sched"
)

// nextRunPreview is how many upcoming fire times a reply lists.
const nextRunPreview = 5

// handleRequest answers one request: from the replay cache when its id was
// seen in this run, from the scheduler's durable receipt when it changed
// something before (in this run or an earlier one), else by executing it.
// Exactly one reply per readable id.
func (a *Agent) handleRequest(ctx context.Context, in inbound) {
	req, err := DecodeRequest(in.payload)
	if errors.Is(err, errNoID) {
		a.stats.unreadable.Add(1)
		a.log.Warn("request refused without reply: its id cannot be read", "topic", in.topic, "err", err)
		return
	}
	a.stats.requests.Add(1)
	if b, ok := a.replay.get(req.ID); ok {
		a.stats.replayed.Add(1)
		a.log.Info("repeated request id: first reply sent again", "id", req.ID)
		a.publishReply(b)
		return
	}
	if r, ok := a.deps.Scheduler.Receipt(req.ID); ok {
		a.stats.replayed.Add(1)
		a.log.Info("repeated request id: applied before, answered from its receipt", "id", req.ID,
			"job", r.JobID, "version", r.Version, "applied_at", r.At)
		if b := a.sendReply(a.fromReceipt(r)); b != nil {
			a.replay.put(req.ID, b, a.clock.Elapsed())
		}
		return
	}
	var rep Reply
	if err != nil {
		rep = rejected(req.ID, err)
	} else {
		rep = a.executeOnce(ctx, req, in.group)
	}
	if rep.Status == StatusRejected {
		a.stats.rejected.Add(1)
		a.log.Info("request rejected", "id", req.ID, "op", req.Op, "group", in.group, "code", rep.Code, "err", rep.Error)
	}
	b := a.sendReply(rep)
	if b != nil && final(rep.Code) {
		if len(b) > replayKeepBytes {
			b = compact(rep)
		}
		a.replay.put(req.ID, b, a.clock.Elapsed())
	}
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
func (a *Agent) fromReceipt(r sched.Receipt) Reply {
	rep := Reply{ID: r.RequestID, Status: StatusAccepted, Code: sched.CodeOK, Replayed: true}
	if r.Kind == kindActuated {
		rep.Actuator = r.JobID // Record's subject
		return rep
	}
	rep.JobID, rep.Version = r.JobID, r.Version
	if r.Kind == string(sched.EventRemoved) {
		return rep
	}
	if j, err := a.deps.Scheduler.Get(r.JobID); err == nil && j.Version == r.Version {
		if b, err := json.Marshal(j); err == nil {
			rep.Job = b
		}
	}
	return rep
}

// execute performs a decoded request against the scheduler. The scheduler
// returns only after the store committed a change, so an accepted reply
// is an acknowledgement of a durable change.
//
// No receipt is kept: the caller makes up an id of its own that it never
// uses again (Home Assistant's job commands). See executeOnce.
func (a *Agent) execute(ctx context.Context, req Request, group string) Reply {
	return a.executeAs(ctx, req, group, false)
}

// executeOnce is execute for a request whose id comes from the
// requester: a change or run is committed with the id's receipt, so that
// the id is never applied twice.
func (a *Agent) executeOnce(ctx context.Context, req Request, group string) Reply {
	return a.executeAs(ctx, req, group, true)
}

func (a *Agent) executeAs(ctx context.Context, req Request, group string, once bool) Reply {
	if req.ExpiresAt != nil && !a.clock.Now().Before(*req.ExpiresAt) {
		return rejected(req.ID, &sched.Error{Code: sched.CodeExpired, Field: "expires_at",
			Message: "request expired at " + req.ExpiresAt.Format(time.RFC3339)})
	}
	cmd, err := decodeCommand(req)
	if err != nil {
		return rejected(req.ID, err)
	}
	if req.Op == OpAdd && (cmd.patch.Job.ID == "cmd" || cmd.patch.Job.ID == "res") {
		return rejected(req.ID, sched.FieldError("job.id", "%q is reserved: <root>/jobs/%s is a protocol topic", cmd.patch.Job.ID, cmd.patch.Job.ID))
	}
	if group != "" && req.Op == OpAdd && cmd.patch.Fields&sched.FieldID == 0 {
		return rejected(req.ID, sched.FieldError("job.id", "is required in a group command (each device would generate its own)"))
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	s := a.deps.Scheduler
	o := sched.OpOptions{Source: sched.SourceMQTT, ExpectedVersion: req.ExpectedVersion}
	if once && req.Op != OpGet && req.Op != OpList {
		// Stored with the change: the same id is never applied twice.
		o.RequestID = req.ID
	}
	var job sched.Job
	switch req.Op {
	case OpAdd:
		job, err = s.Add(ctx, cmd.patch, sched.AddOptions{OpOptions: o, ReplaceExisting: req.ReplaceExisting})
	case OpModify:
		job, err = s.Modify(ctx, req.JobID, cmd.patch, o)
	case OpReschedule:
		job, err = s.Reschedule(ctx, req.JobID, cmd.trigger, o)
	case OpPause:
		job, err = s.PauseJob(ctx, req.JobID, o)
	case OpResume:
		job, err = s.ResumeJob(ctx, req.JobID, o)
	case OpRemove:
		job, err = s.Remove(ctx, req.JobID, o)
	case OpGet:
		job, err = s.Get(req.JobID)
	case OpRun:
		if err = s.RunNow(ctx, req.JobID, o); err == nil {
			job, err = s.Get(req.JobID)
		}
	case OpList:
		jobs := s.List()
		if jobs == nil {
			jobs = []sched.Job{}
		}
		b, err := json.Marshal(jobs)
		if err != nil {
			return rejected(req.ID, &sched.Error{Code: sched.CodeInternal, Message: "encode jobs", Err: err})
		}
		return Reply{ID: req.ID, Status: StatusAccepted, Code: sched.CodeOK, Jobs: b}
	}
	if err != nil {
		return rejected(req.ID, err)
	}
	b, err := json.Marshal(job)
	if err != nil {
		return rejected(req.ID, &sched.Error{Code: sched.CodeInternal, Message: "encode job", Err: err})
	}
	rep := Reply{ID: req.ID, Status: StatusAccepted, Code: sched.CodeOK, Job: b}
	if req.Op != OpRemove {
		rep.NextRunTimes = a.nextRunTimes(job)
	}
	return rep
}

// nextRunTimes previews the job's coming fire times from its next run.
func (a *Agent) nextRunTimes(j sched.Job) []string {
	if j.NextRunTime == nil || j.Paused {
		return nil
	}
	ts, err := sched.Preview(j.Trigger, sched.Env{Location: a.deps.Location, Site: a.deps.Site}, *j.NextRunTime, nextRunPreview)
	if err != nil {
		return nil
	}
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = sched.FormatTime(t)
	}
	return out
}

// sendReply encodes and publishes rep, returning the encoding.
func (a *Agent) sendReply(rep Reply) []byte {
	b, err := json.Marshal(rep)
	if err != nil {
		a.log.Error("cannot encode reply", "id", rep.ID, "err", err)
		return nil
	}
	a.publishReply(b)
	return b
}

// maxHeldBytes bounds the replies held while a connection is set up: the
// session's backlog is handled meanwhile (1,000 queued requests and more
// after a long absence), and each reply waits here.
const maxHeldBytes = 1 << 20

// publishReply sends a reply at QoS 1. A reply is not queued in the outbox:
// a requester that got none retries with the same id and gets it from the
// replay cache.
//
// Until the connection is set up (paho done resending its stored packets,
// see connLoop) replies are held and sent by setup: a request queued in
// the session arrives before that.
func (a *Agent) publishReply(b []byte) {
	a.mu.Lock()
	if !a.connected {
		if a.heldBytes+len(b) <= maxHeldBytes {
			a.held = append(a.held, b)
			a.heldBytes += len(b)
		} else {
			a.log.Warn("reply dropped while reconnecting; the requester may retry with the same id")
		}
		a.mu.Unlock()
		return
	}
	c, down := a.client, a.down
	a.mu.Unlock()
	tok := c.Publish(a.topics.Res(), 1, false, b)
	go func() { // ends within publishTimeout
		if !acked(tok, down) {
			a.log.Warn("reply not acknowledged; the requester may retry with the same id", "err", tok.Error())
		}
	}()
}
