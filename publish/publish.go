package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/edgecron/edgecron/sched"
)

// ActionType is the action type this package handles.
const ActionType = "publish"

// Defaults and limits of a publish action.
const (
	DefaultQoS = 1
	// MaxPayload is the largest payload a job may publish, in bytes: the
	// same bound the agent puts on the messages it receives.
	MaxPayload = 64 << 10
)

// Publisher sends one MQTT message. The MQTT adapter satisfies it; it may
// queue the message (outbox) while the broker is away and return nil.
type Publisher interface {
	Publish(ctx context.Context, topic string, qos byte, retain bool, payload []byte) error
}

// Config is the `publish:` section of the config.
type Config struct {
	// Allow lists the topic filters (MQTT wildcards + and #) a publish
	// action's topic must match. Empty: no job may publish.
	Allow []string `yaml:"allow"`
}

// Validate checks every filter, naming the bad one ("publish.allow[1]: ...").
func (c Config) Validate() error {
	var errs []error
	for i, f := range c.Allow {
		if err := ValidFilter(f); err != nil {
			errs = append(errs, fmt.Errorf("publish.allow[%d]: %q: %w", i, f, err))
		}
	}
	return errors.Join(errs...)
}

// Allows reports whether some allowed filter matches topic.
func (c Config) Allows(topic string) bool {
	for _, f := range c.Allow {
		if Match(f, topic) {
			return true
		}
	}
	return false
}

// Params are the fields of a publish action. Payload is a JSON string, sent
// as its text, or any other JSON value, sent as compact JSON; absent means
// an empty payload. QoS defaults to DefaultQoS.
type Params struct {
	Topic   string          `json:"topic"`
	Payload json.RawMessage `json:"payload,omitempty"`
	QoS     *int            `json:"qos,omitempty"`
	Retain  bool            `json:"retain,omitempty"`
}

type message struct {
	topic   string
	payload []byte
	qos     byte
	retain  bool
}

// Handler is the sched.Handler of the "publish" action.
type Handler struct {
	pub Publisher
	mu  sync.RWMutex
	cfg Config
}

// NewHandler validates cfg and returns a handler that publishes through pub.
func NewHandler(cfg Config, pub Publisher) (*Handler, error) {
	if pub == nil {
		return nil, errors.New("publish: a Publisher is required")
	}
	h := &Handler{pub: pub}
	if err := h.Update(cfg); err != nil {
		return nil, err
	}
	return h, nil
}

// Update replaces the allowed filters (config reload). On error nothing
// changes.
func (h *Handler) Update(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg.Allow = append([]string(nil), cfg.Allow...)
	h.mu.Lock()
	h.cfg = cfg
	h.mu.Unlock()
	return nil
}

// Validate checks a publish action: a valid topic allowed by publish.allow,
// a QoS of 0, 1 or 2, and a payload within MaxPayload.
func (h *Handler) Validate(a sched.Action) error {
	_, err := h.resolve(a)
	return err
}

func (h *Handler) resolve(a sched.Action) (message, error) {
	var p Params
	if err := a.Decode(&p); err != nil {
		return message{}, err
	}
	if p.Topic == "" {
		return message{}, sched.FieldError("action.topic", "is required")
	}
	if err := ValidTopic(p.Topic); err != nil {
		return message{}, sched.FieldError("action.topic", "%v", err)
	}
	h.mu.RLock()
	cfg := h.cfg
	h.mu.RUnlock()
	if len(cfg.Allow) == 0 {
		return message{}, sched.FieldError("action.topic", "no topic may be published: publish.allow in the config is empty")
	}
	if !cfg.Allows(p.Topic) {
		return message{}, sched.FieldError("action.topic", "topic %q matches none of publish.allow (%s)", p.Topic, strings.Join(cfg.Allow, ", "))
	}
	qos := DefaultQoS
	if p.QoS != nil {
		qos = *p.QoS
	}
	if qos < 0 || qos > 2 {
		return message{}, sched.FieldError("action.qos", "must be 0, 1 or 2, got %d", qos)
	}
	payload, err := payloadBytes(p.Payload)
	if err != nil {
		return message{}, err
	}
	return message{topic: p.Topic, payload: payload, qos: byte(qos), retain: p.Retain}, nil
}

func payloadBytes(raw json.RawMessage) ([]byte, error) {
	var b []byte
	switch {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, sched.FieldError("action.payload", "%v", err)
		}
		b = []byte(s)
	default:
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, sched.FieldError("action.payload", "%v", err)
		}
		b = buf.Bytes()
	}
	if len(b) > MaxPayload {
		return nil, sched.FieldError("action.payload", "is %d bytes; the limit is %d", len(b), MaxPayload)
	}
	return b, nil
}

// Run publishes the job's message. The Result names the topic, QoS, retain
// flag and payload size.
func (h *Handler) Run(ctx context.Context, r sched.Run) (sched.Result, error) {
	m, err := h.resolve(r.Job.Action)
	if err != nil {
		return nil, err
	}
	res := sched.Result{"topic": m.topic, "qos": int(m.qos), "retain": m.retain, "bytes": len(m.payload)}
	if err := h.pub.Publish(ctx, m.topic, m.qos, m.retain, m.payload); err != nil {
		return res, fmt.Errorf("publish to %q: %w", m.topic, err)
	}
	return res, nil
}
