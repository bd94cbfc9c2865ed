package mqtt

import (
	"context"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/sched"
)

// Actuator commands arrive on <root>/actuators/<name>/set in two forms.
// Home Assistant sends plain ON, OFF or TOGGLE: no id, no reply. Anything
// else (edgecron ctl, a backend) sends a JSON command that may carry an
// "id" and an "expires_at", and then gets a reply on <root>/jobs/res
// like a job request, with the same codes, and is applied at most once
// per id, across restarts (the id is committed to the store before the
// command is applied).
//
// A command with no expires_at must not be applied late: with a
// persistent session, one published while the device was offline waits
// in the broker and arrives when it reconnects, maybe hours later (a
// relay switched 35 s after the user gave up). So at every connection the
// agent subscribes, then publishes a barrier (a nonce of that connection)
// to <root>/jobs/~sync, which its own subscription brings back. The
// broker delivers a session's messages in order, so everything that
// arrives before the barrier was queued while the device was away: such a
// command is refused as expired. Commands with expires_at are applied
// until then, barrier or not. Should the barrier not come back within
// barrierWait (an ACL that drops it), commands are taken as live from then
// on, with a warning: what was queued has arrived by then.

// barrierLevel is the job-topic level of the barrier: not a valid job id,
// so it never meets a job document.
const barrierLevel = "~sync"

// barrierWait bounds how long after a connection commands wait for the
// barrier before they are taken as live.
const barrierWait = 5 * time.Second

// Event names of actuator commands on <root>/events.
const eventActuatorRefused = "actuator_refused"

// resetGate closes the gate for a new connection: set commands are stale
// until its barrier comes back.
func (a *Agent) resetGate() string {
	a.gateMu.Lock()
	defer a.gateMu.Unlock()
	a.barrier = fmt.Sprintf("%s/%016x", a.bootID, mrand.Uint64())
	a.gateOpen, a.gateWarned = false, false
	a.gateFrom = a.clock.Elapsed()
	return a.barrier
}

// openGate opens the gate when payload is this connection's barrier.
func (a *Agent) openGate(payload []byte) {
	a.gateMu.Lock()
	defer a.gateMu.Unlock()
	if string(payload) == a.barrier {
		a.gateOpen = true
	}
}

// gateLive reports whether a set command arriving now is live (not
// queued while the device was away).
func (a *Agent) gateLive() bool {
	a.gateMu.Lock()
	defer a.gateMu.Unlock()
	if !a.gateOpen && a.clock.Elapsed()-a.gateFrom > barrierWait {
		if !a.gateWarned {
			a.gateWarned = true
			a.log.Warn("the connection barrier did not come back: commands without expires_at are taken as live from now on; "+
				"check that the broker lets the device publish and read "+a.topics.Job(barrierLevel), "waited", barrierWait)
		}
		return true
	}
	return a.gateOpen
}

// handleSet applies one set command through the shared pipeline
// (api.Service.Actuate), after the connection barrier: see the comment at
// the top.
func (a *Agent) handleSet(ctx context.Context, in inbound) {
	sr, err := api.DecodeSetRequest(in.payload)
	if sr.ID != "" {
		a.stats.requests.Add(1)
	}
	if err == nil && !in.live && sr.ExpiresAt == nil {
		err = &sched.Error{Code: sched.CodeExpired, Message: "arrived before the connection barrier: sent while the device was offline, " +
			"and a command without expires_at is never applied late"}
	}
	out, refused := a.api.Actuate(ctx, in.set, sr, err)
	switch {
	case out.Replayed:
		a.stats.replayed.Add(1)
	case refused != nil: // made visible by actuatorRefused, which the pipeline calls
		a.stats.setErrors.Add(1)
		if sr.ID != "" {
			a.stats.rejected.Add(1)
		}
	}
	if out.Bytes != nil {
		a.publishReply(out.Bytes)
	}
}

// ActuatorEvent is published on <root>/events when an actuator command is
// refused.
type ActuatorEvent struct {
	TS        string     `json:"ts"`
	Event     string     `json:"event"` // actuator_refused
	Actuator  string     `json:"actuator"`
	RequestID string     `json:"id,omitempty"`
	Command   string     `json:"command"` // the payload, cut to 128 bytes
	Code      sched.Code `json:"code"`
	Error     string     `json:"error"`
}

// actuatorRefused makes a refused actuator command visible, whichever
// transport brought it (the pipeline calls it, see api.Service.OnRefused):
// the retained state published again (Home Assistant's switch flips back
// to the truth) and an event with the reason. The pipeline logs it; the
// MQTT path counts its own and replies.
func (a *Agent) actuatorRefused(name string, sr api.SetRequest, err error) {
	a.republishState(name)
	cmd := string(sr.Payload)
	if len(cmd) > 128 {
		cut := 128
		for cut > 0 && !utf8.RuneStart(cmd[cut]) {
			cut--
		}
		cmd = cmd[:cut] + "..."
	}
	now := a.clock.Now().UTC()
	ev := ActuatorEvent{TS: now.Format(time.RFC3339Nano), Event: eventActuatorRefused, Actuator: name,
		RequestID: sr.ID, Command: strings.ToValidUTF8(cmd, "\uFFFD"), Code: sched.ErrorCode(err), Error: err.Error()}
	if b, jerr := json.Marshal(ev); jerr == nil {
		a.keep(outMsg{Topic: a.topics.Events(), QoS: 1, Mark: true, TS: now, Payload: b})
	}
}

// republishState publishes the last state of actuator name again.
func (a *Agent) republishState(name string) {
	a.stateMu.Lock()
	defer a.stateMu.Unlock()
	if b, ok := a.states[name]; ok {
		a.keep(outMsg{Topic: a.topics.ActuatorState(name), QoS: 1, Retain: true, TS: a.clock.Now(), Payload: b})
	}
}

// republishStates publishes every actuator's last state again (at each
// connection: a broker restarted without persistence lost them).
func (a *Agent) republishStates() {
	a.stateMu.Lock()
	defer a.stateMu.Unlock()
	names := make([]string, 0, len(a.states))
	for n := range a.states {
		names = append(names, n)
	}
	sort.Strings(names)
	now := a.clock.Now()
	for _, n := range names {
		a.keep(outMsg{Topic: a.topics.ActuatorState(n), QoS: 1, Retain: true, TS: now, Payload: a.states[n]})
	}
}

// staleHAJob refuses a Home Assistant job command (a plain PRESS, ON or
// OFF) that arrived before the connection barrier: it was sent while the
// device was offline, and is never applied late. The job's document is
// published again, so that its switch flips back.
func (a *Agent) staleHAJob(in inbound) {
	a.stats.requests.Add(1)
	a.stats.rejected.Add(1)
	a.log.Warn("Home Assistant job command refused: sent while the device was offline, never applied late",
		"job", in.haJob, "command", in.haWhat)
	if j, err := a.deps.Scheduler.Get(in.haJob); err == nil {
		a.keep(a.jobState(j.ID, &j))
	}
}
