package mqtt

import (
	"context"
	"fmt"
	"strings"

	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/sched"
)

// Jobs driven from Home Assistant. A job's button publishes PRESS on
// <root>/ha/jobs/<id>/run, its switch ON or OFF on
// <root>/ha/jobs/<id>/enabled. Each becomes the request an MQTT client
// would send (run, resume, pause) and goes through the same execution
// (execute): the same validation, the same scheduler calls, source mqtt.
// Its reply goes to <root>/jobs/res like any other, so a refusal is seen
// there and in the log; a refused switch also gets its job document
// re-published, so the switch flips back to the truth.

// haJobPrefix is <root>/ha/jobs/.
func (a *Agent) haJobPrefix() string { return a.topics.Root + "/ha/jobs/" }

// haJobTopic is <root>/ha/jobs/<id>/<what>; "+" subscribes to all.
func (a *Agent) haJobTopic(id, what string) string {
	return a.haJobPrefix() + id + "/" + what
}

// haJobFromTopic returns the job id and the command (run or enabled) of a
// Home Assistant job command topic.
func (a *Agent) haJobFromTopic(topic string) (id, what string, ok bool) {
	id, what, ok = strings.Cut(strings.TrimPrefix(topic, a.haJobPrefix()), "/")
	if !ok || !sched.IDPattern.MatchString(id) || (what != "run" && what != "enabled") {
		return "", "", false
	}
	return id, what, true
}

// haJobRequest turns a Home Assistant job command into a request, or
// says why the payload is refused.
func haJobRequest(id, what string, payload []byte) (Request, error) {
	p := strings.TrimSpace(string(payload))
	req := Request{JobID: id}
	switch {
	case what == "run" && p == "PRESS":
		req.Op = api.OpRun
	case what == "enabled" && strings.EqualFold(p, "ON"):
		req.Op = api.OpResume
	case what == "enabled" && strings.EqualFold(p, "OFF"):
		req.Op = api.OpPause
	case what == "run":
		return req, sched.FieldError("payload", "%q: a job's run topic takes PRESS", truncated(p))
	default:
		return req, sched.FieldError("payload", "%q: a job's enabled topic takes ON or OFF", truncated(p))
	}
	return req, nil
}

func truncated(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// handleHAJob executes a Home Assistant job command as a request with a
// fresh id ("ha-<start>-<n>": the agent's start in Unix seconds and a
// count) and publishes its reply.
func (a *Agent) handleHAJob(ctx context.Context, in inbound) {
	id := fmt.Sprintf("ha-%d-%d", a.started.Unix(), a.haSeq.Add(1))
	a.stats.requests.Add(1)
	req, err := haJobRequest(in.haJob, in.haWhat, in.payload)
	req.ID = id
	var rep Reply
	switch {
	case err != nil:
		rep = api.Rejected(id, err)
	case !a.cfg.HomeAssistant || !a.cfg.HomeAssistantJobs.Has(in.haJob):
		rep = api.Rejected(id, &sched.Error{Code: sched.CodeBadRequest, Field: "job_id",
			Message: fmt.Sprintf("job %q is not exposed to Home Assistant (mqtt.home_assistant_jobs)", in.haJob)})
	default:
		rep = a.execute(ctx, req)
	}
	if rep.Status == StatusRejected {
		a.stats.rejected.Add(1)
		a.log.Warn("Home Assistant job command refused", "job", in.haJob, "command", in.haWhat, "id", id, "code", rep.Code, "err", rep.Error)
		if in.haWhat == "enabled" {
			if j, err := a.deps.Scheduler.Get(in.haJob); err == nil {
				a.keep(a.jobState(j.ID, &j))
			}
		}
	} else {
		a.log.Info("Home Assistant job command", "job", in.haJob, "op", req.Op, "id", id)
	}
	a.sendReply(rep) // its id is never used again: nothing for the replay cache
}
