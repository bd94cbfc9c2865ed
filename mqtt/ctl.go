package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/sched"
)

// NewRequestID returns a random request id.
func NewRequestID() string {
	var b [9]byte
	rand.Read(b[:])
	return "ctl-" + hex.EncodeToString(b[:])
}

// Send sends req to device deviceID through the broker of cfg and waits
// for its reply until ctx is done: it is `edgecron ctl`. An empty req.ID gets
// a random one. A rejected reply is returned together with a
// *sched.Error carrying its code and message, so the caller exits
// non-zero; an error with an empty Reply means no reply arrived (the same
// request may be sent again with the same id: it is applied once).
//
// When ctx has a deadline, the request expires then (or at req.ExpiresAt,
// if sooner): a request Send gave up on is never executed afterwards.
func Send(ctx context.Context, cfg Config, deviceID string, req Request) (Reply, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Reply{}, err
	}
	if !cfg.Enabled() {
		return Reply{}, errors.New("mqtt.broker: required")
	}
	if err := validLevel(deviceID); err != nil {
		return Reply{}, fmt.Errorf("device_id: %w", err)
	}
	if req.ID == "" {
		req.ID = NewRequestID()
	}
	req.ExpiresAt = expiresBy(ctx, req.ExpiresAt)
	payload, err := json.Marshal(req)
	if err != nil {
		return Reply{}, fmt.Errorf("encode request: %w", err)
	}
	if _, err := DecodeRequest(payload); err != nil {
		return Reply{}, err
	}
	return exchange(ctx, cfg, deviceID, NewTopics(cfg.Prefix, deviceID).Cmd(), req.ID, payload)
}

// SendActuator sends an actuator command (the JSON form of
// <root>/actuators/<name>/set without id and expires_at, e.g.
// {"command":"pulse","duration":"5s"}) to device deviceID with request id
// id (empty: a random one) and waits for its reply, as Send does; the
// command expires at expiresAt or at ctx's deadline, whichever is sooner.
func SendActuator(ctx context.Context, cfg Config, deviceID, name, id string, command []byte, expiresAt *time.Time) (Reply, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Reply{}, err
	}
	if !cfg.Enabled() {
		return Reply{}, errors.New("mqtt.broker: required")
	}
	if err := validLevel(deviceID); err != nil {
		return Reply{}, fmt.Errorf("device_id: %w", err)
	}
	if err := validLevel(name); err != nil {
		return Reply{}, fmt.Errorf("actuator: %w", err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(command, &doc); err != nil || doc == nil {
		return Reply{}, sched.FieldError("command", "must be a JSON object")
	}
	if _, ok := doc["id"]; ok {
		return Reply{}, sched.FieldError("command", "carries an id: pass it as id")
	}
	if id == "" {
		id = NewRequestID()
	}
	doc["id"], _ = json.Marshal(id)
	if at := expiresBy(ctx, expiresAt); at != nil {
		doc["expires_at"], _ = json.Marshal(at.UTC().Format(time.RFC3339Nano))
	}
	payload, err := json.Marshal(doc)
	if err != nil {
		return Reply{}, fmt.Errorf("encode command: %w", err)
	}
	if _, err := api.DecodeSetRequest(payload); err != nil {
		return Reply{}, fmt.Errorf("actuator command: %w", err)
	}
	return exchange(ctx, cfg, deviceID, NewTopics(cfg.Prefix, deviceID).ActuatorSet(name), id, payload)
}

// exchange publishes payload on topic and waits for the reply to request
// id on the device's reply topic.
func exchange(ctx context.Context, cfg Config, deviceID, topic, id string, payload []byte) (Reply, error) {
	topics := NewTopics(cfg.Prefix, deviceID)
	got := make(chan Reply, 1)
	c, err := dial(ctx, cfg)
	if err != nil {
		return Reply{}, err
	}
	defer c.Disconnect(100)
	err = wait(ctx, c.Subscribe(topics.Res(), 1, func(_ paho.Client, m paho.Message) {
		var r Reply
		if json.Unmarshal(m.Payload(), &r) == nil && r.ID == id {
			select {
			case got <- r:
			default:
			}
		}
	}))
	if err != nil {
		return Reply{}, fmt.Errorf("subscribe %s: %w", topics.Res(), err)
	}
	if err := wait(ctx, c.Publish(topic, 1, false, payload)); err != nil {
		return Reply{}, fmt.Errorf("publish %s: %w", topic, err)
	}
	select {
	case r := <-got:
		if r.Status != StatusAccepted {
			return r, &sched.Error{Code: r.Code, Message: r.Error}
		}
		return r, nil
	case <-ctx.Done():
		return Reply{}, fmt.Errorf("no reply from %s to request %s: %w", deviceID, id, ctx.Err())
	}
}

// expiresBy returns the sooner of at and ctx's deadline: a request must
// expire no later than its sender stops waiting for the reply.
func expiresBy(ctx context.Context, at *time.Time) *time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return at
	}
	d = d.UTC()
	if at != nil && at.Before(d) {
		return at
	}
	return &d
}

func wait(ctx context.Context, tok paho.Token) error {
	select {
	case <-tok.Done():
		return tok.Error()
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(connectTimeout + time.Second):
		return errors.New("timed out")
	}
}
