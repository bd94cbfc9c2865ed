package mqtt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/sched"
)

// outMsg is one telemetry message: a reading, an event, a state. Mark
// means the payload is a JSON object of ours that gets "historical":true
// when it is replayed from the outbox.
type outMsg struct {
	Topic   string    `json:"t"`
	QoS     byte      `json:"q"`
	Retain  bool      `json:"r,omitempty"`
	Mark    bool      `json:"m,omitempty"`
	TS      time.Time `json:"ts"`
	Payload []byte    `json:"p"`
}

// encodeRecord and decodeRecord are the outbox's record format.
func encodeRecord(m outMsg) []byte {
	b, _ := json.Marshal(m) // cannot fail: plain fields
	return b
}

func decodeRecord(b []byte) (outMsg, error) {
	var m outMsg
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("outbox record: %w", err)
	}
	if m.Topic == "" || m.QoS > 2 {
		return m, errors.New("outbox record: no topic or bad qos")
	}
	return m, nil
}

// historical returns the payload to replay: a marked JSON object gets
// "historical":true as its first member.
func (m outMsg) historical() []byte {
	p := bytes.TrimSpace(m.Payload)
	if !m.Mark || len(p) < 2 || p[0] != '{' || p[len(p)-1] != '}' {
		return m.Payload
	}
	rest := bytes.TrimSpace(p[1:])
	out := append([]byte(`{"historical":true`), ',')
	if len(rest) == 1 { // "{}"
		out = out[:len(out)-1]
	}
	return append(out, rest...)
}

// appendOutbox keeps m in the outbox; the flusher commits it within a
// flush interval.
func (a *Agent) appendOutbox(m outMsg) {
	a.deps.Outbox.Append(m.TS, encodeRecord(m))
	a.flushSoon()
}

// pendingPub is a publish in flight, watched in order by the watcher;
// down is closed when the connection it went out on is lost.
type pendingPub struct {
	tok  token
	down <-chan struct{}
	msg  outMsg
}

// enqueue hands m to the sender without blocking, through the queue or,
// once the queue is full, the overflow behind it (see overflowLocked).
// Once the agent stopped, m is committed to the outbox at once: the error
// says it could not be.
func (a *Agent) enqueue(m outMsg) error {
	a.qmu.Lock()
	defer a.qmu.Unlock()
	switch a.qstate {
	case queueStopping:
		// Behind what the sender still has; Run moves it to the outbox
		// once the sender returned, before its final flush.
		a.overflowLocked(m)
		return nil
	case queueClosed:
		a.deps.Outbox.Append(m.TS, encodeRecord(m))
		if err := a.deps.Outbox.Flush(); err != nil {
			return fmt.Errorf("telemetry after the stop not committed to the outbox: %w", err)
		}
		return nil
	}
	if len(a.overflow) == 0 {
		select {
		case a.tele <- m:
			return nil
		default:
		}
	}
	a.stats.spilled.Add(1)
	a.overflowLocked(m)
	return nil
}

// msgOverhead is what the overflow counts for a message beside its topic
// and payload (docs/mqtt.md, "Bounds").
const msgOverhead = 96

// overflowLocked puts m in the overflow: the messages that found the queue
// full, in order, behind everything in the queue. While it is not empty,
// every new message joins it, so the order holds; the sender takes it
// whole once it has emptied the queue. It holds at most
// outbox.max_bytes, counting each message as its topic, payload and
// msgOverhead; beyond that its oldest are dropped and counted as outbox
// drops. It never blocks: a sender waiting on a slow disk or an
// unacknowledged publish does not hold up the producers.
func (a *Agent) overflowLocked(m outMsg) {
	a.overflow = append(a.overflow, m)
	a.overBytes += m.size()
	for a.overBytes > a.cfg.Outbox.MaxBytes.N() && len(a.overflow) > 1 {
		a.overBytes -= a.overflow[0].size()
		a.overflow[0] = outMsg{}
		a.overflow = a.overflow[1:]
		a.overDropped++
	}
}

func (m outMsg) size() int64 { return int64(len(m.Topic)+len(m.Payload)) + msgOverhead }

// takeOverflow empties the overflow and returns what it held, in order;
// its drops go to the outbox's count. Once Run is stopping, it returns the
// last batch instead (see setQueue), once.
func (a *Agent) takeOverflow() []outMsg {
	a.qmu.Lock()
	var batch []outMsg
	if a.qstate == queueOpen {
		batch = a.overflow
		a.overflow, a.overBytes = nil, 0
	} else {
		batch, a.stopBatch = a.stopBatch, nil
	}
	dropped := a.overDropped
	a.overDropped = 0
	a.qmu.Unlock()
	if dropped > 0 {
		a.log.Warn("telemetry dropped: the overflow behind the full queue reached outbox.max_bytes", "dropped", dropped)
		a.deps.Outbox.CountDropped(dropped)
		a.flushSoon()
	}
	return batch
}

// keep enqueues m and logs when it could not be kept.
func (a *Agent) keep(m outMsg) {
	if err := a.enqueue(m); err != nil {
		a.log.Error("telemetry lost", "topic", m.Topic, "err", err)
	}
}

// sender publishes telemetry while the agent is live (connected, outbox
// empty) and appends it to the outbox otherwise, in the order it was
// enqueued: the queue, then, once the queue is empty, the overflow. It
// runs until the queue is closed and it has sent the last batch (see
// setQueue).
func (a *Agent) sender() {
	for {
		batch, ok := a.next()
		if !ok {
			return
		}
		for _, m := range batch {
			a.send(m)
		}
	}
}

// next returns the next messages to send: one from the queue, or, when
// the queue is empty, the overflow. While the overflow holds messages
// nothing joins the queue, so an empty queue means that every message
// before the overflow's has been taken. ok is false once the queue is
// closed and the last batch sent.
func (a *Agent) next() (batch []outMsg, ok bool) {
	select {
	case m, open := <-a.tele:
		if open {
			return []outMsg{m}, true
		}
	default:
		if batch := a.takeOverflow(); len(batch) > 0 {
			return batch, true
		}
		m, open := <-a.tele
		if open {
			return []outMsg{m}, true
		}
	}
	batch = a.takeOverflow()
	return batch, len(batch) > 0
}

// send publishes m while live, else appends it to the outbox.
func (a *Agent) send(m outMsg) {
	// The append happens under mu so that drain, which goes live under mu
	// once the outbox is empty, cannot miss it. The publish happens
	// outside: paho may block in Publish for its write timeout when the
	// connection dies under it.
	a.mu.Lock()
	// Not live: earlier live publishes that fail go to the outbox too,
	// from the watcher; let them settle first so m lands behind them.
	for !a.live && a.inflight > 0 {
		a.settled.Wait()
	}
	live, c, down := a.live, a.client, a.down
	if live {
		a.inflight++
	} else {
		a.appendOutbox(m)
	}
	a.mu.Unlock()
	if live {
		a.pending <- pendingPub{tok: publishUnlessLost(c, m, down), down: down, msg: m}
	}
}

// publishUnlessLost hands m to paho, but waits no longer than the
// connection lives: paho's Publish blocks for its write timeout (30s) when
// the connection died under it, and the whole telemetry stream would wait
// behind it. Then m gets a token that failed, so the watcher puts it in the
// outbox behind what went out before it on that connection (delivery stays
// at least once: paho may still have sent it). The Publish call goes on in
// its goroutine until paho gives up, within its write timeout.
func publishUnlessLost(c paho.Client, m outMsg, down <-chan struct{}) token {
	got := make(chan token, 1)
	go func() { got <- c.Publish(m.Topic, m.QoS, m.Retain, m.Payload) }()
	select {
	case tok := <-got:
		return tok
	case <-down:
		select {
		case tok := <-got: // handed over just as the connection went
			return tok
		default:
			return lostToken{}
		}
	}
}

// lostToken is the token of a publish abandoned with its connection.
type lostToken struct{}

var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (lostToken) Done() <-chan struct{} { return closedDone }
func (lostToken) Error() error          { return errConnectionLost }

var errConnectionLost = errors.New("connection lost while paho held the publish")

// watcher waits for each live publish in order; one that fails goes to
// the outbox (delivery is at least once: it may arrive twice).
func (a *Agent) watcher() {
	for p := range a.pending {
		ok := acked(p.tok, p.down)
		a.mu.Lock()
		if !ok {
			a.appendOutbox(p.msg)
			a.live = false
		}
		a.inflight--
		settled := a.inflight == 0
		if settled {
			a.settled.Broadcast()
		}
		stalled := a.connected && !a.live
		a.mu.Unlock()
		if !ok || (settled && stalled) {
			a.signal(a.kick) // replay what failed, or what waited for these to settle
		}
	}
}

// drainer replays the outbox whenever kicked (on connect, by the flusher).
// A replay changes the outbox counts, and a paused one must be restarted:
// either way the flusher has work.
func (a *Agent) drainer(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.kick:
			if err := a.drain(ctx); err != nil {
				a.log.Warn("outbox replay paused", "err", err)
			}
			a.flushSoon()
		}
	}
}

// drain publishes the outbox oldest first, in batches, deleting each batch
// once the broker acknowledged all of it; when it finds the outbox empty
// the agent goes live. New telemetry meanwhile lands behind the replayed
// records, so the order holds.
func (a *Agent) drain(ctx context.Context) error {
	for ctx.Err() == nil {
		a.mu.Lock()
		if !a.connected {
			a.mu.Unlock()
			return nil
		}
		c, down := a.client, a.down
		seqs, recs, err := a.deps.Outbox.Peek(replayBatch)
		if err != nil {
			a.mu.Unlock()
			return err
		}
		if len(seqs) == 0 {
			if a.inflight > 0 {
				// Earlier publishes are unsettled and may yet fail into the
				// outbox: going live now could send newer telemetry before
				// them. The watcher kicks again once they settled.
				a.mu.Unlock()
				return nil
			}
			a.live = true
			a.mu.Unlock()
			return nil
		}
		a.mu.Unlock()
		var toks []token
		for i, rec := range recs {
			m, err := decodeRecord(rec)
			if err != nil {
				a.log.Error("corrupt outbox record dropped", "seq", seqs[i], "err", err)
				continue
			}
			toks = append(toks, c.Publish(m.Topic, m.QoS, m.Retain, m.historical()))
		}
		for _, t := range toks {
			if !acked(t, down) {
				return errors.New("replayed telemetry not acknowledged; kept for the next attempt")
			}
		}
		if err := a.deps.Outbox.Delete(seqs[len(seqs)-1]); err != nil {
			return err
		}
	}
	return nil
}

// flushSoon arms the flusher, if it is not armed yet, to run one flush
// interval from now. An armed flusher is not postponed: what was appended
// first is committed within the interval however much follows.
func (a *Agent) flushSoon() { a.signal(a.flushDue) }

// flusher commits the outbox, restarts a paused replay and keeps
// <root>/info current, one flush interval after it is armed (flushSoon:
// an append to the outbox, the end of a replay), and then every interval
// for as long as there is more to do. Otherwise it holds no timer, so an
// idle agent does not wake for it.
func (a *Agent) flusher(ctx context.Context) {
	var t sched.Timer // nil while disarmed
	disarm := func() {
		if t != nil {
			t.Stop()
			t = nil
		}
	}
	defer disarm()
	for {
		var tick <-chan time.Time
		if t != nil {
			tick = t.C()
		}
		select {
		case <-ctx.Done():
			return
		case <-a.flushDue:
			if t == nil {
				t = a.clock.NewTimer(a.flushWait())
			}
			continue
		case <-tick:
		}
		if a.flush() {
			t.Reset(a.flushWait())
		} else {
			disarm()
		}
	}
}

// connectedFlushWait caps the flusher's wait while connected. The SD
// budget of flush_interval (default 1m) is for the broker being away;
// connected, the outbox holds something only around a reconnection (a
// record that missed the replay, a paused replay) and should reach the
// broker soon.
const connectedFlushWait = 10 * time.Second

// flushWait is how long the flusher waits once armed: flush_interval,
// at most connectedFlushWait while connected.
func (a *Agent) flushWait() time.Duration {
	d := a.cfg.Outbox.FlushInterval.D()
	a.mu.Lock()
	connected := a.connected
	a.mu.Unlock()
	if connected {
		d = min(d, connectedFlushWait)
	}
	return d
}

// flush is one round of the flusher. It reports whether another round is
// needed without anything arming it: the commit failed (the records stay
// in memory), a replay is paused, or the clock is not synchronised yet
// (<root>/info must say so when it is).
func (a *Agent) flush() (again bool) {
	select { // this round commits what was appended before it: not a reason to arm again
	case <-a.flushDue:
	default:
	}
	if err := a.deps.Outbox.Flush(); err != nil {
		a.log.Error("outbox flush failed; records stay in memory", "err", err)
		again = true
	}
	a.mu.Lock()
	connected, stalled := a.connected, a.connected && !a.live
	a.mu.Unlock()
	if stalled {
		a.signal(a.kick)
	}
	a.publishInfo(false)
	return again || stalled || (connected && !a.deps.ClockSynced())
}

// Info is the document retained on <root>/info.
type Info struct {
	Version   string     `json:"version"`
	BootID    string     `json:"boot_id"`
	StartedAt string     `json:"started_at"`
	Clock     string     `json:"clock"`
	Outbox    OutboxInfo `json:"outbox"`
	Broker    string     `json:"broker"`           // the broker the agent is on (BrokerName)
	Groups    []string   `json:"groups,omitempty"` // the groups it takes commands of
	Jobs      int        `json:"jobs"`             // how many jobs it has
	LastError *LastError `json:"last_error,omitempty"`
}

// LastError is the last job run that failed since the agent started.
type LastError struct {
	TS    string `json:"ts"`
	JobID string `json:"job_id"`
	Error string `json:"error"`
}

// OutboxInfo reports the outbox in Info.
type OutboxInfo struct {
	Queued  int    `json:"queued"`
	Dropped uint64 `json:"dropped"`
}

// publishInfo publishes <root>/info when connected, always or only when
// it changed.
func (a *Agent) publishInfo(always bool) {
	q, d := a.deps.Outbox.Stats()
	info := Info{Version: a.deps.Version, BootID: a.bootID, StartedAt: a.started.UTC().Format(time.RFC3339),
		Clock: "unsynced", Outbox: OutboxInfo{Queued: q, Dropped: d},
		Broker: a.Broker(), Groups: a.Groups(), Jobs: a.deps.Scheduler.Len(), LastError: a.lastError.Load()}
	if a.deps.ClockSynced() {
		info.Clock = "synced"
	}
	b, _ := json.Marshal(info)
	a.mu.Lock()
	if !a.connected || (!always && string(b) == a.lastInfo) {
		a.mu.Unlock()
		return
	}
	a.lastInfo = string(b)
	a.mu.Unlock()
	a.cur().Publish(a.topics.Info(), 1, true, b)
}

// onEvent is the scheduler listener: it publishes the event and, when the
// job changed, its retained document. It never blocks.
func (a *Agent) onEvent(e sched.Event) {
	e.Time = e.Time.UTC()
	if e.DurationMS == nil && e.Duration > 0 {
		ms := e.Duration.Milliseconds()
		e.DurationMS = &ms
	}
	routine := a.routineRead(e)
	if !routine {
		b, err := json.Marshal(e)
		if err != nil {
			a.log.Error("cannot encode event", "job", e.JobID, "event", e.Kind, "err", err)
			return
		}
		a.keep(outMsg{Topic: a.topics.Events(), QoS: 1, Mark: true, TS: e.Time, Payload: b})
	}
	switch e.Kind {
	case sched.EventError:
		a.lastError.Store(&LastError{TS: e.Time.Format(time.RFC3339), JobID: e.JobID, Error: e.Error})
		a.flushSoon() // <root>/info follows
	case sched.EventAdded, sched.EventRemoved:
		a.flushSoon() // <root>/info's job count follows
	}
	switch e.Kind {
	case sched.EventAdded, sched.EventModified, sched.EventRemoved:
		// A job came, changed (its name) or went: its Home Assistant
		// entities follow.
		a.Rediscover()
	}
	switch e.Kind {
	case sched.EventRemoved:
		a.keep(a.jobState(e.JobID, nil))
		a.docResult(e.JobID, "", false)
	case sched.EventSubmitted:
	case sched.EventAdded, sched.EventModified, sched.EventPaused, sched.EventResumed:
		if e.Job != nil {
			a.keep(a.jobState(e.JobID, e.Job))
			a.docResult(e.JobID, e.Job.LastResult, true)
		}
	default:
		// A run's outcome (executed, error, missed...). The job may be gone:
		// a date job is removed before it runs, and its cleared document
		// must stay cleared. Events come in order, so what the scheduler
		// holds now is the newest truth.
		if routine && !a.showRun(e) {
			return
		}
		if j, err := a.deps.Scheduler.Get(e.JobID); err == nil {
			a.keep(a.jobState(e.JobID, &j))
			a.docResult(e.JobID, j.LastResult, true)
		}
	}
}

// routineRead reports whether e is the submitted or executed event of a
// read job (docs/mqtt.md, "One reading, one message"). Such a run
// publishes its reading; its events would repeat it (executed carries the
// values as its result) and its job document would change only
// next_run_time and last_run_time: one reading took four messages.
// Unless mqtt.read_job_events is set, neither event is published, and the
// job document only when showRun says so. Errors, misses and every change
// of the job are published as for any job.
func (a *Agent) routineRead(e sched.Event) bool {
	if a.cfg.ReadJobEvents || e.Action != "read" {
		return false
	}
	return e.Kind == sched.EventSubmitted || e.Kind == sched.EventExecuted
}

// showRun reports whether the job document must follow a read job's
// successful run: the job is announced to Home Assistant (its next-run
// and last-result entities read the document), or the document last
// published for it does not say the same last_result (ok after an error,
// the first run since the start).
func (a *Agent) showRun(e sched.Event) bool {
	if a.cfg.HomeAssistant && a.cfg.HomeAssistantJobs.Has(e.JobID) {
		return true
	}
	a.mu.Lock()
	last, ok := a.docResults[e.JobID]
	a.mu.Unlock()
	return !ok || last != e.LastResult
}

// docResult remembers the last_result of the document last published for
// a job from its events (set false: the job is gone).
func (a *Agent) docResult(id, result string, set bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !set {
		delete(a.docResults, id)
		return
	}
	if a.docResults == nil {
		a.docResults = map[string]string{}
	}
	a.docResults[id] = result
}

// ConfigEvent is the event a config reload publishes on <root>/events:
// "config_reloaded", or "config_rejected" with every problem found.
type ConfigEvent struct {
	TS       string   `json:"ts"`
	Event    string   `json:"event"`
	Config   string   `json:"config"`
	Problems []string `json:"problems,omitempty"`
}

// ConfigReloaded publishes the outcome of a config reload on <root>/events
// (through the outbox while the broker is away): accepted when problems
// is empty.
func (a *Agent) ConfigReloaded(path string, problems []string) {
	now := a.clock.Now().UTC()
	e := ConfigEvent{TS: now.Format(time.RFC3339Nano), Event: "config_reloaded", Config: path, Problems: problems}
	if len(problems) > 0 {
		e.Event = "config_rejected"
	}
	b, err := json.Marshal(e)
	if err != nil {
		a.log.Error("cannot encode the reload event", "err", err)
		return
	}
	a.keep(outMsg{Topic: a.topics.Events(), QoS: 1, Mark: true, TS: now, Payload: b})
}

// jobState is the retained document of job id; nil clears it.
func (a *Agent) jobState(id string, j *sched.Job) outMsg {
	m := outMsg{Topic: a.topics.Job(id), QoS: 1, Retain: true, TS: a.clock.Now(), Payload: []byte{}}
	if j != nil {
		b, err := j.MarshalJSON() // compact already: not json.Marshal's second pass
		if err != nil {
			a.log.Error("cannot encode job", "job", id, "err", err)
		} else {
			m.Payload = b
		}
	}
	return m
}

// Reading publishes a sensor reading on <root>/sensors/<sensor>, through
// the outbox while the broker is away. ts is the time it was taken.
func (a *Agent) Reading(sensor string, ts time.Time, values map[string]float64, units map[string]string) {
	if validLevel(sensor) != nil {
		a.log.Error("reading of a sensor whose name cannot be a topic level dropped", "sensor", sensor)
		return
	}
	b, err := json.Marshal(struct {
		TS     string             `json:"ts"`
		Values map[string]float64 `json:"values"`
		Units  map[string]string  `json:"units,omitempty"`
	}{ts.UTC().Format(time.RFC3339Nano), values, units})
	if err != nil { // NaN or Inf
		a.log.Error("reading cannot be encoded; dropped", "sensor", sensor, "err", err)
		return
	}
	// Retained: Home Assistant (or any client) that starts shows the last
	// reading at once instead of "unknown" for a whole interval.
	a.keep(outMsg{Topic: a.topics.Sensor(sensor), QoS: 1, Retain: true, Mark: true, TS: ts, Payload: b})
}

// ActuatorState publishes the retained state of an actuator: ON / OFF, or
// {"state":"ON","value":0.4} when value is given (PWM).
func (a *Agent) ActuatorState(name string, on bool, value *float64) {
	if validLevel(name) != nil {
		a.log.Error("state of an actuator whose name cannot be a topic level dropped", "actuator", name)
		return
	}
	state := "OFF"
	if on {
		state = "ON"
	}
	payload := []byte(state)
	if value != nil {
		payload, _ = json.Marshal(struct {
			State string  `json:"state"`
			Value float64 `json:"value"`
		}{state, *value})
	}
	a.stateMu.Lock()
	defer a.stateMu.Unlock()
	a.states[name] = payload
	a.keep(outMsg{Topic: a.topics.ActuatorState(name), QoS: 1, Retain: true, TS: a.clock.Now(), Payload: payload})
}

// Publish is the publish action's Publisher: it sends payload on topic,
// queued through the outbox while the broker is away (then it returns nil:
// the message is kept, not lost). After the agent stopped, the message is
// committed to the outbox at once; the error says it could not be. The
// payload is sent as given.
func (a *Agent) Publish(ctx context.Context, topic string, qos byte, retain bool, payload []byte) error {
	if topic == "" || strings.ContainsAny(topic, "+#\x00") || !utf8.ValidString(topic) || len(topic) > 65535 {
		return fmt.Errorf("mqtt publish: topic %q must be non-empty UTF-8 without wildcards", topic)
	}
	if qos > 2 {
		return fmt.Errorf("mqtt publish: qos %d is not 0, 1 or 2", qos)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := a.enqueue(outMsg{Topic: topic, QoS: qos, Retain: retain, TS: a.clock.Now(), Payload: payload}); err != nil {
		return fmt.Errorf("mqtt publish: %w", err)
	}
	return nil
}
