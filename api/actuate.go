package api

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/edgecron/edgecron/sched"
)

// An actuator command is ON, OFF or TOGGLE (as Home Assistant sends them:
// no id, no reply), or a JSON command that may carry an "id" and an
// "expires_at". One with an id gets a reply like a job request, with the
// same codes, and is applied at most once per id, across restarts: the id
// is committed to the store before the command is applied.

// KindActuated is the receipt kind of an actuator command.
const KindActuated = "actuated"

// SetRequest is a decoded actuator command.
type SetRequest struct {
	ID        string
	ExpiresAt *time.Time
	Command   []byte // what actuators.ParseSetPayload reads: ON/OFF/TOGGLE or the JSON command without id and expires_at
	Plain     bool
	Payload   []byte // the command as it arrived, for the report of a refusal
}

// DecodeSetRequest splits an actuator command into its request envelope
// (id, expires_at) and the command. The envelope is as strict as a job
// request's: a key given twice or data after the object is refused, and
// an unreadable id (wrapping ErrNoID) gets no reply. The command itself is
// checked by the actuator when applied.
func DecodeSetRequest(b []byte) (SetRequest, error) {
	sr, err := decodeSetRequest(b)
	sr.Payload = b
	return sr, err
}

func decodeSetRequest(b []byte) (SetRequest, error) {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || t[0] != '{' {
		return SetRequest{Command: b, Plain: true}, nil
	}
	var sr SetRequest
	m, dup, trailing, err := decodeEnvelope(t)
	if err != nil {
		return sr, noID(sched.FieldError("payload", "not a JSON object"))
	}
	if raw, ok := m["id"]; ok && !isNull(raw) {
		if sr.ID, err = readID(raw, dup == "id"); err != nil {
			return sr, err
		}
	}
	switch {
	case dup != "":
		return sr, sched.FieldError(dup, "appears twice")
	case trailing:
		return sr, sched.FieldError("payload", "data after the JSON object")
	}
	if raw, ok := m["expires_at"]; ok && !isNull(raw) {
		var s string
		if decodeString(raw, &s) != nil {
			return sr, sched.FieldError("expires_at", "must be an RFC3339 time")
		}
		at, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return sr, sched.FieldError("expires_at", "must be an RFC3339 time, got %q", s)
		}
		sr.ExpiresAt = &at
	}
	delete(m, "id")
	delete(m, "expires_at")
	sr.Command, _ = json.Marshal(m) // raw members re-joined: cannot fail
	return sr, nil
}

// readID reads a request id, as DecodeRequest does: errors wrap ErrNoID.
func readID(raw json.RawMessage, twice bool) (string, error) {
	var id string
	switch {
	case twice:
		return "", noID(sched.FieldError("id", "appears twice"))
	case !utf8.Valid(raw):
		// encoding/json turns invalid UTF-8 (raw, or a lone surrogate
		// escape) into U+FFFD: refusing both keeps two different ids from
		// meeting in the replay cache as one.
		return "", noID(sched.FieldError("id", "must be UTF-8"))
	case json.Unmarshal(raw, &id) != nil:
		return "", noID(sched.FieldError("id", "must be a string"))
	}
	if err := CheckID(id); err != nil {
		return "", noID(err)
	}
	return id, nil
}

// CheckID checks a request id: 1 to 128 bytes of UTF-8 without U+FFFD.
func CheckID(id string) error {
	if id == "" || len(id) > maxRequestID || !utf8.ValidString(id) || strings.ContainsRune(id, utf8.RuneError) {
		return sched.FieldError("id", "must be 1 to %d bytes of UTF-8 (no U+FFFD), got %d bytes", maxRequestID, len(id))
	}
	return nil
}

// Actuate answers an actuator command for actuator name: from the replay
// cache or the durable receipt when its id was seen before, else by
// applying it, after committing its id when it has one. pre is an error
// found before (DecodeSetRequest's, or the transport's own refusal): the
// command is then refused with it. refused is the reason a command was not
// applied (nil when it was, or when the answer is a replay); the Outcome
// carries the reply to send, none (Bytes nil) without an id.
func (s *Service) Actuate(ctx context.Context, name string, sr SetRequest, pre error) (out Outcome, refused error) {
	if sr.ID != "" {
		defer s.lock(sr.ID)()
		if out, ok := s.replayed(sr.ID); ok {
			return out, nil
		}
	}
	err := pre
	switch {
	case err != nil:
	case sr.ExpiresAt != nil && !s.clock.Now().Before(*sr.ExpiresAt):
		err = &sched.Error{Code: sched.CodeExpired, Field: "expires_at", Message: "request expired at " + sr.ExpiresAt.Format(time.RFC3339)}
	case s.deps.Actuators == nil:
		err = &sched.Error{Code: sched.CodeNotFound, Field: "actuator", Message: "no actuators configured"}
	}
	if err == nil && sr.ID != "" {
		// Committed before the command is applied: at most once, even if
		// the power goes between the two.
		err = s.deps.Scheduler.Record(ctx, sr.ID, KindActuated, name)
	}
	if err == nil {
		if sr.ID != "" {
			// Logged once per id: the receipt is committed, so this id is
			// never applied again (the kill-loop test counts these lines).
			s.log.Info("actuator command", "id", sr.ID, "actuator", name)
		}
		actx, cancel := context.WithTimeout(ctx, opTimeout)
		err = s.deps.Actuators.Apply(actx, name, sr.Command)
		cancel()
		if err != nil && sr.ID != "" {
			if ferr := s.deps.Scheduler.Forget(ctx, sr.ID); ferr != nil {
				s.log.Error("a refused actuator command stays recorded as applied", "id", sr.ID, "err", ferr)
			}
		}
	}
	if err != nil {
		s.refused(name, sr, err)
	}
	if sr.ID == "" {
		return Outcome{}, err
	}
	rep := Reply{ID: sr.ID, Status: StatusAccepted, Code: sched.CodeOK, Actuator: name}
	if err != nil {
		rep = Rejected(sr.ID, err)
		rep.Actuator = name
	}
	return s.remember(rep), err
}

// OnRefused sets the function told of every actuator command the pipeline
// refuses, whichever transport brought it (not of a replayed answer): the
// MQTT agent registers itself, so that a command refused over HTTP is
// reported on MQTT as one refused over MQTT is (the actuator_refused
// event, the retained state published again). One function; a later call
// replaces it.
func (s *Service) OnRefused(f func(name string, sr SetRequest, err error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRefused = f
}

// refused logs a refused actuator command and tells OnRefused's function.
func (s *Service) refused(name string, sr SetRequest, err error) {
	s.log.Warn("actuator command refused", "actuator", name, "id", sr.ID, "code", sched.ErrorCode(err), "err", err)
	s.mu.Lock()
	f := s.onRefused
	s.mu.Unlock()
	if f != nil {
		f(name, sr, err)
	}
}
