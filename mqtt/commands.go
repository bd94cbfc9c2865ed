package mqtt

import (
	"context"
	"encoding/json"
	"errors"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/sched"
)

// The request and reply are package api's, shared with the HTTP API: the
// aliases keep this package's contract (docs/mqtt.md) in its own words.
type (
	Request = api.Request
	Reply   = api.Reply
)

// MaxPayload is the largest request the agent reads; a larger one is
// refused unread (logged and counted, no reply: its id is never parsed).
const MaxPayload = api.MaxPayload

// Reply statuses.
const (
	StatusAccepted = api.StatusAccepted
	StatusRejected = api.StatusRejected
)

// DecodeRequest strictly decodes a request payload (api.DecodeRequest).
func DecodeRequest(b []byte) (Request, error) { return api.DecodeRequest(b) }

// handleRequest answers one request through the shared pipeline (see
// api.Service.Answer: the replay cache, the durable receipt, else the
// scheduler) and publishes its reply. Exactly one reply per readable id.
func (a *Agent) handleRequest(ctx context.Context, in inbound) {
	req, err := api.DecodeRequest(in.payload)
	if errors.Is(err, api.ErrNoID) {
		a.stats.unreadable.Add(1)
		a.log.Warn("request refused without reply: its id cannot be read", "topic", in.topic, "err", err)
		return
	}
	a.stats.requests.Add(1)
	out := a.api.Answer(ctx, req, err, api.Options{Source: sched.SourceMQTT, Group: in.group})
	if out.Replayed {
		a.stats.replayed.Add(1)
	} else if rep := out.Reply; rep.Status == StatusRejected {
		a.stats.rejected.Add(1)
		a.log.Info("request rejected", "id", req.ID, "op", req.Op, "group", in.group, "code", rep.Code, "err", rep.Error)
	}
	if out.Bytes != nil {
		a.publishReply(out.Bytes)
	}
}

// execute performs a request whose id the agent made up (Home Assistant's
// job commands): no receipt, no replay.
func (a *Agent) execute(ctx context.Context, req Request) Reply {
	return a.api.Execute(ctx, req, api.Options{Source: sched.SourceMQTT})
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
// the session arrives before that. While setup sends them, later replies
// queue behind them: replies leave in the order their requests were
// answered.
func (a *Agent) publishReply(b []byte) {
	a.mu.Lock()
	if !a.connected || a.flushing {
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
	a.sendReplyOn(c, down, b)
}

// sendReplyOn publishes reply b on client c, whose connection is closed
// down when lost, and logs it when the broker does not acknowledge it.
func (a *Agent) sendReplyOn(c paho.Client, down <-chan struct{}, b []byte) {
	tok := c.Publish(a.topics.Res(), 1, false, b)
	go func() { // ends within publishTimeout
		if !acked(tok, down) {
			a.log.Warn("reply not acknowledged; the requester may retry with the same id", "err", tok.Error())
		}
	}()
}

// flushHeld sends the replies held while the connection was set up, and
// those that queue behind them meanwhile, then lets replies go straight
// out. A connection lost meanwhile leaves what is left held for the next
// one (publishReply holds while not connected).
func (a *Agent) flushHeld() {
	for {
		a.mu.Lock()
		held := a.held
		if len(held) == 0 || !a.connected {
			a.flushing = false
			a.mu.Unlock()
			return
		}
		c, down := a.client, a.down
		a.held, a.heldBytes = nil, 0
		a.mu.Unlock()
		for _, b := range held {
			a.sendReplyOn(c, down, b)
		}
	}
}
