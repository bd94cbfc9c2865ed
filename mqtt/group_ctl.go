package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Outcomes of a group command for one device.
const (
	OutcomeAccepted = "accepted"
	OutcomeRejected = "rejected"
	OutcomeNoAnswer = "no_answer"
)

// GroupReply is what one device did with a group command.
type GroupReply struct {
	DeviceID string `json:"device_id"`
	// Outcome is accepted, rejected (Reply.Code says why) or no_answer.
	Outcome string `json:"outcome"`
	// Status is the device's status when the command was sent: online,
	// offline, or "" when the broker held none.
	Status string `json:"status"`
	// Member is false for a device that answered but is not in the roster.
	Member bool   `json:"member"`
	Reply  *Reply `json:"reply,omitempty"`
	// Latency is from the publish of the request to the arrival of the
	// reply; LatencyMS the same in milliseconds, for JSON.
	Latency   time.Duration `json:"-"`
	LatencyMS float64       `json:"latency_ms,omitempty"`
}

// GroupOptions change how SendGroup sends.
type GroupOptions struct {
	// NoExpiry sends the request without the expires_at SendGroup sets
	// from ctx's deadline (an explicit Request.ExpiresAt is kept): a
	// member that was offline applies it whenever it comes back.
	NoExpiry bool
}

// SendGroup sends req to every device of group through the broker of cfg
// and collects the replies until every member of the roster answered or
// ctx is done: it is `edgecron ctl --group`. It returns one GroupReply per
// member (and per device that answered without being one), sorted by
// device id; err is nil only when there is at least one member and every
// member accepted. An empty req.ID gets a random one.
//
// Unless o.NoExpiry, the request expires when ctx does (or at
// req.ExpiresAt, if sooner): a member that was offline never applies it
// after SendGroup stopped waiting.
func SendGroup(ctx context.Context, cfg Config, group string, req Request, o GroupOptions) ([]GroupReply, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := validLevel(group); err != nil {
		return nil, fmt.Errorf("group: %w", err)
	}
	if req.ID == "" {
		req.ID = NewRequestID()
	}
	if !o.NoExpiry {
		req.ExpiresAt = expiresBy(ctx, req.ExpiresAt)
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode request: %w", err)
	}
	if _, err := DecodeRequest(payload); err != nil {
		return nil, err
	}
	if req.Op == "add" {
		var j struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(req.Job, &j); j.ID == "" {
			return nil, errors.New("job.id: required in a group add (a generated id would differ on each device)")
		}
	}
	c, err := dial(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer c.Disconnect(100)
	members, err := fleet(ctx, c, cfg.Prefix, group)
	if err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, fmt.Errorf("group %s: the roster lists no member (%s): nothing sent", group, Topics{Prefix: cfg.Prefix}.Member(group, "+"))
	}
	type answer struct {
		device string
		rep    Reply
		at     time.Time
	}
	answers := make(chan answer, 4*len(members)+16)
	resFilter := cfg.Prefix + "/+/jobs/res"
	// QoS 0: the replies are wanted only while this connection lasts, and
	// through NATS a QoS 1 subscription is a JetStream consumer, whose
	// creation times out under load (the SUBACK then refuses the filter).
	err = subscribe(ctx, c, resFilter, 0, func(_ paho.Client, m paho.Message) {
		var r Reply
		if json.Unmarshal(m.Payload(), &r) != nil || r.ID != req.ID {
			return
		}
		dev, _, _ := cutDevice(cfg.Prefix, m.Topic())
		select {
		case answers <- answer{dev, r, time.Now()}:
		default: // more answers than devices: repeats
		}
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", resFilter, err)
	}
	byID := map[string]*GroupReply{}
	for _, d := range members {
		byID[d.DeviceID] = &GroupReply{DeviceID: d.DeviceID, Outcome: OutcomeNoAnswer, Status: d.Status, Member: true}
	}
	topic := Topics{Prefix: cfg.Prefix}.GroupCmd(group)
	sent := time.Now()
	if err := wait(ctx, c.Publish(topic, 1, false, payload)); err != nil {
		return nil, fmt.Errorf("publish %s: %w", topic, err)
	}
	waiting := len(members)
	for waiting > 0 {
		select {
		case a := <-answers:
			g := byID[a.device]
			if g == nil {
				g = &GroupReply{DeviceID: a.device, Outcome: OutcomeNoAnswer}
				byID[a.device] = g
			}
			if g.Reply != nil {
				continue // a repeat
			}
			rep := a.rep
			g.Reply, g.Latency = &rep, a.at.Sub(sent)
			g.LatencyMS = float64(g.Latency.Microseconds()) / 1000
			g.Outcome = OutcomeRejected
			if rep.Status == StatusAccepted {
				g.Outcome = OutcomeAccepted
			}
			if g.Member {
				waiting--
			}
		case <-ctx.Done():
			waiting = 0
		}
	}
	out := make([]GroupReply, 0, len(byID))
	failed := 0
	for _, g := range byID {
		out = append(out, *g)
		if g.Member && g.Outcome != OutcomeAccepted {
			failed++
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].DeviceID < out[j].DeviceID })
	if failed > 0 {
		return out, fmt.Errorf("group %s: %d of %d members did not accept request %s", group, failed, len(members), req.ID)
	}
	return out, nil
}

// cutDevice splits <prefix>/<device>/<rest>.
func cutDevice(prefix, topic string) (device, rest string, ok bool) {
	if len(topic) <= len(prefix)+1 || topic[:len(prefix)+1] != prefix+"/" {
		return "", "", false
	}
	for i := len(prefix) + 1; i < len(topic); i++ {
		if topic[i] == '/' {
			return topic[len(prefix)+1 : i], topic[i+1:], true
		}
	}
	return "", "", false
}

// subscribe subscribes to one filter and fails when the broker refuses it
// in its SUBACK (return code 0x80), which paho does not report as an error.
func subscribe(ctx context.Context, c paho.Client, filter string, qos byte, h paho.MessageHandler) error {
	tok := c.Subscribe(filter, qos, h)
	if err := wait(ctx, tok); err != nil {
		return err
	}
	if st, ok := tok.(*paho.SubscribeToken); ok {
		if code, found := st.Result()[filter]; found && code == 0x80 {
			return fmt.Errorf("the broker refused the subscription to %s", filter)
		}
	}
	return nil
}
