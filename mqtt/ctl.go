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

	"github.com/edgecron/edgecron/sched"
)

// NewRequestID returns a random request id.
func NewRequestID() string {
	var b [9]byte
	rand.Read(b[:])
	return "ctl-" + hex.EncodeToString(b[:])
}

// Send sends req to device deviceID through the broker of cfg and waits
// for its reply until ctx is done: it is `agent ctl`. An empty req.ID gets
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
	topics := NewTopics(cfg.Prefix, deviceID)
	got := make(chan Reply, 1)
	c, err := dial(ctx, cfg)
	if err != nil {
		return Reply{}, err
	}
	defer c.Disconnect(100)
	err = wait(ctx, c.Subscribe(topics.Res(), 1, func(_ paho.Client, m paho.Message) {
		var r Reply
		if json.Unmarshal(m.Payload(), &r) == nil && r.ID == req.ID {
			select {
			case got <- r:
			default:
			}
		}
	}))
	if err != nil {
		return Reply{}, fmt.Errorf("subscribe %s: %w", topics.Res(), err)
	}
	if err := wait(ctx, c.Publish(topics.Cmd(), 1, false, payload)); err != nil {
		return Reply{}, fmt.Errorf("publish %s: %w", topics.Cmd(), err)
	}
	select {
	case r := <-got:
		if r.Status != StatusAccepted {
			return r, &sched.Error{Code: r.Code, Message: r.Error}
		}
		return r, nil
	case <-ctx.Done():
		return Reply{}, fmt.Errorf("no reply from %s to request %s: %w", deviceID, req.ID, ctx.Err())
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
