package sensors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/edgecron/edgecron/sched"
)

// Sink receives every reading the read handler takes (the MQTT telemetry
// publisher; a LogSink until then).
type Sink interface {
	Publish(ctx context.Context, r Reading) error
}

// LogSink logs readings.
type LogSink struct{ Logger *slog.Logger }

// Publish logs the reading at info level.
func (s LogSink) Publish(_ context.Context, r Reading) error {
	attrs := make([]any, 0, 2+len(r.Values))
	attrs = append(attrs, slog.String("sensor", r.Sensor), slog.Time("ts", r.Time))
	for _, v := range r.Values {
		attrs = append(attrs, slog.String(v.Name, fmt.Sprintf("%g%s", v.Value, unitSuffix(v.Unit))))
	}
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Info("reading", attrs...)
	return nil
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

// ReadParams are the parameters of a read action:
// {"type":"read","sensor":"greenhouse"}.
type ReadParams struct {
	Sensor string `json:"sensor"`
}

// ReadHandler is the sched.Handler of "read" actions.
type ReadHandler struct {
	reg  *Registry
	sink Sink
	log  *slog.Logger
}

// NewReadHandler returns the handler; sink nil means a LogSink on logger.
func NewReadHandler(reg *Registry, sink Sink, logger *slog.Logger) *ReadHandler {
	if logger == nil {
		logger = slog.Default()
	}
	if sink == nil {
		sink = LogSink{Logger: logger}
	}
	return &ReadHandler{reg: reg, sink: sink, log: logger}
}

func (h *ReadHandler) params(a sched.Action) (ReadParams, error) {
	var p ReadParams
	if err := a.Decode(&p); err != nil {
		return p, err
	}
	if p.Sensor == "" {
		return p, sched.FieldError("action.sensor", "is required")
	}
	if !h.reg.Has(p.Sensor) {
		return p, sched.FieldError("action.sensor", "no sensor %q in the config (configured: %v)", p.Sensor, h.reg.Names())
	}
	return p, nil
}

// Validate checks that the action names a configured sensor.
func (h *ReadHandler) Validate(a sched.Action) error {
	_, err := h.params(a)
	return err
}

// Run reads the sensor and publishes the reading to the sink. The result
// carries the values ({"sensor":..., "values":{...}}).
func (h *ReadHandler) Run(ctx context.Context, r sched.Run) (sched.Result, error) {
	p, err := h.params(r.Job.Action)
	if err != nil {
		return nil, err
	}
	rd, err := h.reg.Read(ctx, p.Sensor)
	if err != nil {
		if errors.Is(err, ErrUnknown) {
			return nil, sched.FieldError("action.sensor", "%v", err)
		}
		return nil, err
	}
	vals := make(map[string]any, len(rd.Values))
	for _, v := range rd.Values {
		vals[v.Name] = v.Value
	}
	res := sched.Result{"sensor": rd.Sensor, "values": vals}
	if err := h.sink.Publish(ctx, rd); err != nil {
		return res, fmt.Errorf("publish reading of %s: %w", rd.Sensor, err)
	}
	return res, nil
}
