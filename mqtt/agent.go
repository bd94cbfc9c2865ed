package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/api"
	"github.com/edgecron/edgecron/sched"
)

// Queue sizes. A full command queue answers "busy"; telemetry that finds
// its queue full waits behind it in the overflow (see overflowLocked).
const (
	cmdQueue         = 256
	teleQueue        = 4096
	replayBatch      = 100
	publishTimeout   = 30 * time.Second
	connectTimeout   = 10 * time.Second
	subscribeTimeout = 5 * time.Second
	opTimeout        = 30 * time.Second
)

// Stats counts what the agent refused or replayed; docs/mqtt.md lists
// them. Every refusal is also logged.
type Stats struct {
	Requests        uint64 // requests with a readable id
	Replayed        uint64 // answered from the replay cache
	Rejected        uint64 // rejected replies sent
	Unreadable      uint64 // payloads whose id could not be read (no reply)
	Oversize        uint64 // payloads over 64 KiB, refused unread
	RetainedIgnored uint64 // retained commands and set payloads ignored
	Busy            uint64 // commands refused because the queue was full
	SetErrors       uint64 // actuator commands refused (see docs/mqtt.md)
	Spilled         uint64 // telemetry that found the queue full and waited behind it in the overflow
	Connects        uint64 // connections made (subscribed) since the start: each after the first is a reconnect
}

type counters struct {
	requests, replayed, rejected, unreadable, oversize, retained, busy, setErrors, spilled, connects atomic.Uint64
}

// inbound is a message handed from paho's router to the worker.
type inbound struct {
	topic   string
	group   string // set for a group command
	payload []byte
	set     string // actuator name for a set command
	live    bool   // a set command that arrived after the connection barrier (see actuate.go)
	ack     func() // acknowledges a command to the broker once handled (see onMessage)
	jobDoc  string // job id of a retained job document seen at connection
	left    string // a group of a retained member document of this device that it is no longer in
	ha      bool   // a retained discovery config of this device, seen at connection
	haJob   string // job id of a Home Assistant job command (haWhat: run or enabled)
	haWhat  string
}

// Agent connects one device to the broker. Build it with New, run it with
// Run; it is also the Publisher of the publish action and the sink of
// readings and actuator state.
type Agent struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	topics Topics
	clock  sched.Clock
	opts   []*paho.ClientOptions // one per broker, in the order of cfg.URLs()
	api    *api.Service          // the request pipeline (Deps.API, or one of its own)
	bootID string

	cmds     chan inbound
	tele     chan outMsg
	pending  chan pendingPub
	lost     chan struct{}
	kick     chan struct{}
	haKick   chan struct{} // announce every discovery config
	haDiff   chan struct{} // announce what changed (Rediscover)
	flushDue chan struct{} // arms the flusher: see flushSoon

	connMu    sync.Mutex    // taken before mu: orders OnConnection calls with the changes they report
	mu        sync.Mutex    // guards the fields below; orders sends with outbox appends
	client    paho.Client   // a fresh one per connection: see connLoop
	down      chan struct{} // closed when the connection of client is lost
	connected bool
	broker    int       // index of the broker of client (cfg.URLs())
	live      bool      // connected and the outbox drained: telemetry goes straight out
	inflight  int       // live publishes the watcher has not settled yet
	settled   sync.Cond // on mu: signalled when inflight drops to 0
	gen       uint64    // connections lost so far
	held      [][]byte  // replies waiting for the connection to be set up
	heldBytes int       // their size, within maxHeldBytes
	flushing  bool      // setup is sending held: later replies queue behind them
	started   time.Time
	stats     counters
	haSeq     atomic.Uint64 // numbers the requests made from Home Assistant commands

	// qmu orders enqueue with the sender and the stop: it guards the
	// fields below and the sends on tele (never closed under a send).
	qmu         sync.Mutex
	qstate      queueState
	overflow    []outMsg // see overflowLocked
	overBytes   int64
	overDropped uint64
	stopBatch   []outMsg // the overflow when Run began to stop: the sender's last batch

	announced map[string][]byte // discovery configs published: topic → payload; the worker's

	// The connection barrier of set commands (see actuate.go).
	gateMu     sync.Mutex
	barrier    string        // this connection's nonce
	gateOpen   bool          // the barrier came back
	gateWarned bool          // the barrier did not come back in time: warned
	gateFrom   time.Duration // when the connection began, monotonic

	stateMu sync.Mutex        // orders state updates with their republishing
	states  map[string][]byte // the last state payload of each actuator

	runOnce   sync.Once
	stopped   chan struct{}
	lastInfo  string
	groupsMu  sync.Mutex
	groups    []string                  // the groups it is in: Deps.Groups, then SetGroups
	lastError atomic.Pointer[LastError] // for <root>/info

	// docResults is the last_result of each job's document as last
	// published from its events (guarded by mu; see showRun).
	docResults map[string]string
}

// queueState says where enqueue puts telemetry.
type queueState int

const (
	queueOpen     queueState = iota // to the sender, through tele (or the overflow)
	queueStopping                   // Run is stopping: the overflow, which Run commits after the sender's last batch
	queueClosed                     // Run has returned (or never ran): the outbox, committed at once
)

// New checks cfg and deps and builds an Agent; it does not connect.
func New(cfg Config, deps Deps) (*Agent, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, errors.New("mqtt.broker: required")
	}
	if err := validLevel(deps.DeviceID); err != nil {
		return nil, fmt.Errorf("device_id: %w", err)
	}
	for _, g := range deps.Groups {
		if err := validLevel(g); err != nil {
			return nil, fmt.Errorf("groups: %w", err)
		}
	}
	if deps.Scheduler == nil || deps.Outbox == nil {
		return nil, errors.New("mqtt: Deps.Scheduler and Deps.Outbox are required")
	}
	if deps.Clock == nil {
		deps.Clock = sched.NewSystemClock()
	}
	if deps.Location == nil {
		deps.Location = time.Local
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.ClockSynced == nil {
		deps.ClockSynced = func() bool {
			_, err := os.Stat("/run/systemd/timesync/synchronized")
			return err == nil
		}
	}
	if deps.Backoff.Min <= 0 {
		deps.Backoff.Min = time.Second
	}
	if deps.Backoff.Max < deps.Backoff.Min {
		deps.Backoff.Max = max(2*time.Minute, deps.Backoff.Min)
	}
	if deps.API == nil {
		deps.API = api.New(api.Deps{Scheduler: deps.Scheduler, Actuators: deps.Actuators, Clock: deps.Clock,
			Location: deps.Location, Site: deps.Site, Logger: deps.Logger.With("component", "mqtt")})
	}
	a := &Agent{
		cfg: cfg, deps: deps,
		log:      deps.Logger.With("component", "mqtt"),
		topics:   NewTopics(cfg.Prefix, deps.DeviceID),
		clock:    deps.Clock,
		api:      deps.API,
		bootID:   deps.BootID,
		cmds:     make(chan inbound, cmdQueue),
		tele:     make(chan outMsg, teleQueue),
		pending:  make(chan pendingPub, teleQueue),
		lost:     make(chan struct{}, 1),
		kick:     make(chan struct{}, 1),
		haKick:   make(chan struct{}, 1),
		haDiff:   make(chan struct{}, 1),
		flushDue: make(chan struct{}, 1),
		stopped:  make(chan struct{}),
		states:   map[string][]byte{},
	}
	a.settled.L = &a.mu
	deps.API.OnRefused(a.actuatorRefused) // refusals over HTTP are reported here too
	a.groups = append([]string(nil), deps.Groups...)
	if a.bootID == "" {
		a.bootID = readBootID()
	}
	for _, b := range cfg.URLs() {
		o, err := a.clientOptions(b)
		if err != nil {
			return nil, err
		}
		a.opts = append(a.opts, o)
	}
	a.client = paho.NewClient(a.opts[0])
	a.down = make(chan struct{})
	close(a.down)
	return a, nil
}

func readBootID() string {
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		return strings.TrimSpace(string(b))
	}
	var r [16]byte
	rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// ClientID is the MQTT client id of a device: edgecron-<device_id>.
func ClientID(deviceID string) string { return "edgecron-" + deviceID }

func (a *Agent) clientOptions(broker string) (*paho.ClientOptions, error) {
	o := paho.NewClientOptions()
	o.AddBroker(broker)
	o.SetClientID(ClientID(a.deps.DeviceID))
	// MQTT 3.1.1 only: paho would retry a refused CONNECT as MQTT 3.1,
	// doubling each failed attempt (NATS logs it as "older protocol").
	o.SetProtocolVersion(4)
	o.SetCleanSession(false)
	o.SetKeepAlive(a.cfg.KeepAlive.D())
	o.SetPingTimeout(10 * time.Second)
	o.SetConnectTimeout(connectTimeout)
	o.SetWriteTimeout(publishTimeout)
	o.SetAutoReconnect(false) // our own loop backs off with jitter
	o.SetConnectRetry(false)
	// Not ResumeSubs: onConnect subscribes on every connection, and paho's
	// resume would send that SUBSCRIBE a second time when it races it
	// (each SUBSCRIBE makes the broker resend the retained messages).
	o.SetResumeSubs(false)
	// Order matters: the one handler only queues, so it never blocks the
	// client, and requests keep the order they were published in.
	o.SetOrderMatters(true)
	o.SetAutoAckDisabled(true) // see onMessage
	o.SetDefaultPublishHandler(a.onMessage)
	o.SetConnectionLostHandler(a.onLost)
	o.SetWill(a.topics.Status(), "offline", 1, true)
	if a.cfg.Username != "" {
		o.SetUsername(a.cfg.Username)
	}
	pw, err := a.cfg.password()
	if err != nil {
		return nil, err
	}
	if pw != "" {
		o.SetPassword(pw)
	}
	tc, err := a.cfg.tlsConfig(broker)
	if err != nil {
		return nil, err
	}
	if tc != nil {
		o.SetTLSConfig(tc)
	}
	return o, nil
}

// Topics returns the agent's topic tree.
func (a *Agent) Topics() Topics { return a.topics }

// Stats returns the agent's counters.
func (a *Agent) Stats() Stats {
	s := &a.stats
	return Stats{
		Requests: s.requests.Load(), Replayed: s.replayed.Load(), Rejected: s.rejected.Load(),
		Unreadable: s.unreadable.Load(), Oversize: s.oversize.Load(), RetainedIgnored: s.retained.Load(),
		Busy: s.busy.Load(), SetErrors: s.setErrors.Load(), Spilled: s.spilled.Load(), Connects: s.connects.Load(),
	}
}

// Connected reports whether the agent is connected to the broker now.
func (a *Agent) Connected() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.connected
}

// Run connects (and reconnects) to the broker, serves requests and
// publishes telemetry until ctx is cancelled; then it publishes status
// offline, disconnects, commits the outbox and returns. Telemetry that
// arrives after that is committed to the outbox as it comes. Run may be
// called once.
func (a *Agent) Run(ctx context.Context) error {
	first := false
	a.runOnce.Do(func() { first = true })
	if !first {
		return errors.New("mqtt: Run called twice")
	}
	defer close(a.stopped)
	a.started = a.clock.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	unlisten := a.deps.Scheduler.Listen(a.onEvent)

	var wg sync.WaitGroup
	loops := []func(context.Context){a.connLoop, a.worker, a.flusher, a.drainer}
	for _, f := range loops {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	// The sender and the watcher outlive ctx: they drain their queues
	// after the loops stop, live while connected, else into the outbox.
	senderDone := make(chan struct{})
	watcherDone := make(chan struct{})
	go func() { defer close(senderDone); a.sender() }()
	go func() { defer close(watcherDone); a.watcher() }()

	<-ctx.Done()
	unlisten()
	wg.Wait()
	// A clean stop sends what is queued before it says offline: the last
	// telemetry (outputs driven to their shutdown state) must reach the
	// broker now, not at the next start. Bounded: what is not acknowledged
	// in time goes to the outbox.
	a.setQueue(queueStopping)
	<-senderDone
	a.waitSettled(stopSettle)
	a.cleanStop()
	close(a.pending)
	<-watcherDone
	// From here on nothing flushes the outbox for us: telemetry that
	// still comes (a job that outlived the scheduler's shutdown, an output
	// changed late) is committed as it arrives. What came since the sender
	// returned follows what the watcher put in the outbox.
	a.setQueue(queueClosed)
	if err := a.deps.Outbox.Flush(); err != nil {
		return fmt.Errorf("mqtt: final outbox flush: %w", err)
	}
	return nil
}

// setQueue moves the telemetry queue to state s. Stopping closes tele
// and hands the overflow to the sender as its last batch: it drains tele,
// sends that batch and returns, however much telemetry keeps coming (that
// waits in the overflow again). Closed moves what is left in the queue and
// the overflow to the outbox (the sender has returned, or never ran).
func (a *Agent) setQueue(s queueState) {
	a.qmu.Lock()
	defer a.qmu.Unlock()
	if a.qstate == queueOpen {
		close(a.tele)
		a.stopBatch, a.overflow, a.overBytes = a.overflow, nil, 0
	}
	a.qstate = s
	if s != queueClosed {
		return
	}
	for m := range a.tele {
		a.deps.Outbox.Append(m.TS, encodeRecord(m))
	}
	for _, m := range append(a.stopBatch, a.overflow...) {
		a.deps.Outbox.Append(m.TS, encodeRecord(m))
	}
	if a.overDropped > 0 {
		a.deps.Outbox.CountDropped(a.overDropped)
	}
	a.stopBatch, a.overflow, a.overBytes, a.overDropped = nil, nil, 0, 0
}

// Close waits for Run to return (it returns once its context is
// cancelled). When Run was never called, it commits whatever telemetry was
// queued to the outbox; from then on telemetry is committed as it comes.
func (a *Agent) Close() error {
	first := false
	a.runOnce.Do(func() { first = true })
	if !first {
		<-a.stopped
		return nil
	}
	defer close(a.stopped)
	a.setQueue(queueClosed)
	if err := a.deps.Outbox.Flush(); err != nil {
		return fmt.Errorf("mqtt: outbox flush: %w", err)
	}
	return nil
}

// stopSettle bounds how long a clean stop waits for queued telemetry to be
// acknowledged.
const stopSettle = 2 * time.Second

// waitSettled waits, at most d, until no live publish awaits its
// acknowledgement (or the connection is gone).
func (a *Agent) waitSettled(d time.Duration) {
	done := make(chan struct{})
	go func() { // ends once the watcher settles the last publish
		a.mu.Lock()
		for a.inflight > 0 && a.connected {
			a.settled.Wait()
		}
		a.mu.Unlock()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// cleanStop publishes status offline (the clean-stop counterpart of the
// Last Will) and disconnects.
func (a *Agent) cleanStop() {
	a.mu.Lock()
	wasConnected := a.connected
	a.connected, a.live = false, false // markDown below: not a loss for OnConnection
	c := a.client
	a.mu.Unlock()
	if wasConnected {
		tok := c.Publish(a.topics.Status(), 1, true, "offline")
		if !tok.WaitTimeout(2*time.Second) || tok.Error() != nil {
			a.log.Warn("clean stop: status offline not acknowledged", "err", tok.Error())
		}
	}
	if c.IsConnectionOpen() {
		c.Disconnect(250)
	}
	// Publishes still in flight will not complete: the watcher moves
	// them to the outbox.
	a.markDown(c)
}

// connLoop connects and, after a loss, reconnects with capped exponential
// backoff and jitter. With several brokers, a failed attempt moves on to
// the next one (the backoff runs on across them); after a loss the first
// attempt goes to the broker it was on.
func (a *Agent) connLoop(ctx context.Context) {
	failures, flaps := 0, 0
	idx := 0
	for {
		select { // a loss signalled for an earlier connection is stale
		case <-a.lost:
		default:
		}
		// A fresh paho client for every connection. The broker keeps the
		// session (clean session off); the old client's unacknowledged
		// publishes go to the outbox (see watcher). Reusing one client
		// would let paho resend its stored packets, and that resend races
		// paho's own writer (a data race in paho 1.5.1).
		c := paho.NewClient(a.opts[idx])
		broker := BrokerName(a.cfg.URLs()[idx])
		barrier := a.resetGate()
		a.mu.Lock()
		gen := a.gen
		a.client, a.down, a.broker = c, make(chan struct{}), idx
		a.mu.Unlock()
		tok := c.Connect()
		select {
		case <-tok.Done(): // bounded by paho: connectTimeout to dial, as much for the CONNACK
		case <-ctx.Done():
			// A stop does not wait for a CONNACK that may never come.
			// paho's Disconnect aborts the attempt once it next checks
			// its status, which ends that goroutine.
			go c.Disconnect(0)
			a.markDown(c)
			return
		}
		if err := tok.Error(); err != nil {
			a.markDown(c)
			failures++
			if failures == 1 || failures%10 == 0 {
				a.log.Warn("cannot connect to broker", "broker", broker, "attempt", failures, "err", err)
			}
			idx = (idx + 1) % len(a.opts)
			if !a.sleep(ctx, a.backoff(failures)) {
				return
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if failures > 0 {
			a.log.Info("connected to broker", "broker", broker, "after_attempts", failures+1)
		} else {
			a.log.Info("connected to broker", "broker", broker)
		}
		failures = 0
		// Set up only now that the Connect token is done: paho resends
		// its stored packets before that, and publishing or subscribing
		// meanwhile (as paho's OnConnect handler would) races that resend.
		up := a.clock.Elapsed()
		a.setup(gen, barrier)
		select {
		case <-ctx.Done():
			return
		case <-a.lost:
		}
		// A connection lost soon after it was made, again and again, is
		// most often a second client with our client id: the broker lets
		// one session per id, so the two take it from each other (215
		// times in 30 s). Back off as after failures, and say so.
		if a.clock.Elapsed()-up >= stableAfter {
			flaps = 0
			continue
		}
		flaps++
		if flaps == 2 || flaps%10 == 0 {
			a.log.Warn("connection lost again soon after connecting: is another agent running with this device_id? "+
				"The broker keeps one session per client id, and two clients with the same one take it from each other",
				"client_id", ClientID(a.deps.DeviceID), "short_connections", flaps, "within", stableAfter)
		}
		if !a.sleep(ctx, a.backoff(flaps)) {
			return
		}
	}
}

// stableAfter is how long a connection must last for its loss not to
// count as a flap (see connLoop).
const stableAfter = 30 * time.Second

// BrokerName is a broker URL as logs and <root>/info show it: any password
// in it is masked.
func BrokerName(broker string) string {
	if u, err := url.Parse(broker); err == nil {
		return u.Redacted()
	}
	return broker
}

// Broker returns the URL (BrokerName) of the broker the agent is connected
// to, or "" while it is not connected.
func (a *Agent) Broker() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.connected {
		return ""
	}
	return BrokerName(a.cfg.URLs()[a.broker])
}

// backoff returns the wait after the n-th failed attempt.
func (a *Agent) backoff(n int) time.Duration {
	d := a.deps.Backoff.Min
	for i := 1; i < n && d < a.deps.Backoff.Max; i++ {
		d *= 2
	}
	d = min(d, a.deps.Backoff.Max)
	return d/2 + mrand.N(d/2+1)
}

func (a *Agent) sleep(ctx context.Context, d time.Duration) bool {
	t := a.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C():
		return true
	}
}

// setup subscribes, announces, republishes state and starts draining the
// outbox on a new connection. It works only for the connection of
// generation gen: if that one is lost meanwhile, it stops and the next
// connection's setup takes over.
func (a *Agent) setup(gen uint64, barrier string) {
	c := a.cur()
	// <root>/jobs/+ covers <root>/jobs/cmd (no overlapping subscription:
	// a broker delivers a message once per matching filter) and brings
	// the retained job documents at each connection, so that those of
	// jobs removed while the agent was away are cleared.
	filters := map[string]byte{a.topics.Job("+"): 1, a.topics.ActuatorSet("+"): 1}
	for _, g := range a.Groups() {
		filters[a.topics.GroupCmd(g)] = 1
	}
	// The device's retained member documents come back: those of groups
	// it left are cleared (roster.go).
	// QoS 0: a snapshot (one missed is checked at the next connection).
	filters[a.topics.Member("+", a.deps.DeviceID)] = 0
	if a.cfg.HomeAssistant {
		filters[a.haStatus()] = 1
		if !a.cfg.HomeAssistantJobs.None {
			filters[a.haJobTopic("+", "+")] = 1
		}
	}
	// The device's own retained discovery configs come back: those of
	// entities it no longer has are cleared (with home_assistant off, all).
	filters[a.haConfigFilter()] = 1
	for attempt := 1; ; attempt++ {
		tok := c.SubscribeMultiple(filters, nil)
		ok := tok.WaitTimeout(subscribeTimeout)
		if ok && tok.Error() == nil {
			break
		}
		if !c.IsConnectionOpen() || a.stale(gen) {
			return // lost: onLost reconnects, the next onConnect subscribes
		}
		a.log.Error("subscribe not acknowledged", "attempt", attempt, "err", tok.Error())
		if attempt == 3 {
			// The connection is up but useless: start a fresh one. No
			// other connection can exist while this one is open.
			c.Disconnect(0)
			a.onLost(c, errors.New("subscribe not acknowledged 3 times"))
			return
		}
	}
	a.connMu.Lock()
	a.mu.Lock()
	if a.gen != gen {
		a.mu.Unlock()
		a.connMu.Unlock()
		return
	}
	a.connected, a.flushing = true, true
	a.stats.connects.Add(1)
	a.mu.Unlock()
	if a.deps.OnConnection != nil {
		a.deps.OnConnection(true)
	}
	a.connMu.Unlock()
	a.flushHeld()
	// Subscribed: what was queued for the session while the device was
	// away arrives before this comes back (see actuate.go).
	c.Publish(a.topics.Job(barrierLevel), 1, false, barrier)
	c.Publish(a.topics.Status(), 1, true, "online")
	a.publishMembership()
	a.publishInfo(true)
	a.signal(a.haKick)
	// The current job documents and actuator states follow whatever the
	// outbox still holds, so the broker's retained state ends at the
	// truth, also after a broker restart that lost it.
	for _, j := range a.deps.Scheduler.List() {
		a.keep(a.jobState(j.ID, &j))
	}
	a.republishStates()
	a.signal(a.kick)
}

// stale reports whether the connection of generation gen was lost.
func (a *Agent) stale(gen uint64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gen != gen
}

func (a *Agent) onLost(c paho.Client, err error) {
	if !a.markDown(c) {
		return // an earlier connection's client
	}
	a.log.Warn("connection to broker lost", "err", err)
	a.signal(a.lost)
}

// markDown records that client c's connection is gone, if c is the
// current client, and reports whether it was. The loss of a connection
// the agent was using is told to OnConnection.
func (a *Agent) markDown(c paho.Client) bool {
	a.connMu.Lock()
	defer a.connMu.Unlock()
	a.mu.Lock()
	if c != a.client {
		a.mu.Unlock()
		return false
	}
	was := a.connected
	a.connected, a.live = false, false
	a.gen++
	select {
	case <-a.down:
	default:
		close(a.down)
	}
	a.mu.Unlock()
	if was && a.deps.OnConnection != nil {
		a.deps.OnConnection(false)
	}
	return true
}

// cur returns the paho client of the current (or last) connection.
func (a *Agent) cur() paho.Client {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.client
}

// token is the part of a paho token the agent waits on.
type token interface {
	Done() <-chan struct{}
	Error() error
}

// acked waits for tok: true once the broker acknowledged, false when it
// failed, when the connection it was sent on went down, or after
// publishTimeout.
func acked(tok token, down <-chan struct{}) bool {
	t := time.NewTimer(publishTimeout)
	defer t.Stop()
	select {
	case <-tok.Done():
		return tok.Error() == nil
	case <-down:
		select { // acknowledged just before the loss?
		case <-tok.Done():
			return tok.Error() == nil
		default:
			return false
		}
	case <-t.C:
		return false
	}
}

func (a *Agent) signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// onMessage is paho's handler for every subscription. It never blocks: it
// filters and queues for the worker.
//
// Acknowledgements are manual (SetAutoAckDisabled): a command is
// acknowledged to the broker only once the worker has handled it, so that
// a crash before that has the broker deliver it again at the next
// connection (where its receipt, if it was applied, keeps it from being
// applied twice). Everything else is acknowledged here, at once.
func (a *Agent) onMessage(_ paho.Client, m paho.Message) {
	topic := m.Topic()
	in := inbound{topic: topic}
	queued := false
	defer func() {
		if !queued {
			m.Ack()
		}
	}()
	switch {
	case topic == a.haStatus():
		if strings.EqualFold(strings.TrimSpace(string(m.Payload())), "online") {
			a.signal(a.haKick)
		}
		return
	case topic == a.topics.Cmd():
	case strings.HasSuffix(topic, "/members/"+a.deps.DeviceID):
		// Only retained documents matter: our own live ones come back too.
		if g, _, ok := a.topics.memberFromTopic(topic); ok && m.Retained() && len(m.Payload()) > 0 && !a.inGroup(g) {
			select {
			case a.cmds <- inbound{topic: topic, left: g}:
			default: // checked again at the next connection
			}
		}
		return
	case strings.HasPrefix(topic, a.topics.Prefix+"/groups/"):
		for _, g := range a.Groups() {
			if topic == a.topics.GroupCmd(g) {
				in.group = g
			}
		}
		if in.group == "" {
			return
		}
	case topic == a.topics.Job(barrierLevel):
		if !m.Retained() {
			a.openGate(m.Payload())
		}
		return
	case a.isHAConfig(topic):
		// Only retained configs matter: our own live ones come back too.
		if m.Retained() && len(m.Payload()) > 0 && len(m.Payload()) <= MaxPayload {
			select {
			case a.cmds <- inbound{topic: topic, ha: true, payload: m.Payload()}:
			default: // checked again at the next connection
			}
		}
		return
	case strings.HasPrefix(topic, a.topics.Job("")):
		// A job document (or our own reply). Only retained documents
		// matter: our own live ones come back too.
		id := strings.TrimPrefix(topic, a.topics.Job(""))
		if m.Retained() && len(m.Payload()) > 0 && id != "res" && sched.IDPattern.MatchString(id) {
			select {
			case a.cmds <- inbound{topic: topic, jobDoc: id}:
			default: // checked again at the next connection
			}
		}
		return
	case strings.HasPrefix(topic, a.haJobPrefix()):
		id, what, ok := a.haJobFromTopic(topic)
		if !ok {
			a.log.Debug("message on an unexpected topic ignored", "topic", topic)
			return
		}
		in.haJob, in.haWhat = id, what
		in.live = a.gateLive()
	default:
		name, ok := a.topics.actuatorFromSet(topic)
		if !ok {
			a.log.Debug("message on an unexpected topic ignored", "topic", topic)
			return
		}
		in.set = name
		in.live = a.gateLive()
	}
	if m.Retained() {
		a.stats.retained.Add(1)
		a.log.Warn("retained command ignored: commands must not be retained", "topic", topic, "bytes", len(m.Payload()))
		return
	}
	if len(m.Payload()) > MaxPayload {
		a.stats.oversize.Add(1)
		a.log.Warn("payload refused unread: larger than 64 KiB", "topic", topic, "bytes", len(m.Payload()))
		return
	}
	in.payload = m.Payload()
	in.ack = m.Ack
	select {
	case a.cmds <- in:
		queued = true
		a.log.Debug("command queued", "topic", topic, "waiting", len(a.cmds))
	default:
		a.stats.busy.Add(1)
		a.log.Warn("command queue full; command refused", "topic", topic)
		id := ""
		switch {
		case in.set != "":
			sr, _ := api.DecodeSetRequest(in.payload)
			id = sr.ID
		case in.haJob == "":
			req, _ := DecodeRequest(in.payload)
			id = req.ID
		}
		if id != "" {
			a.sendReply(Reply{ID: id, Status: StatusRejected, Code: sched.CodeInternal, Actuator: in.set,
				Error: "agent busy: command queue full, retry with the same id"})
		}
	}
}

// worker handles commands one at a time, in arrival order.
func (a *Agent) worker(ctx context.Context) {
	for {
		if ctx.Err() != nil {
			return // a stop handles no further command: unacknowledged, they come again
		}
		select {
		case <-ctx.Done():
			return
		case in := <-a.cmds:
			switch {
			case in.jobDoc != "":
				a.clearIfGone(in.jobDoc)
			case in.left != "":
				a.leaveGroup(in.left)
			case in.ha:
				a.clearUnannounced(in.topic, in.payload)
			case in.set != "":
				a.handleSet(ctx, in)
			case in.haJob != "" && !in.live:
				a.staleHAJob(in)
			case in.haJob != "":
				a.handleHAJob(ctx, in)
			default:
				a.handleRequest(ctx, in)
			}
			if in.ack != nil {
				in.ack() // handled: the broker may forget it (see onMessage)
			}
		case <-a.haKick:
			a.publishDiscovery(true)
		case <-a.haDiff:
			a.publishDiscovery(false)
		}
	}
}

// clearIfGone clears the retained document of a job that no longer
// exists (removed while the agent was away, e.g. by `edgecron jobs remove`).
func (a *Agent) clearIfGone(id string) {
	if _, err := a.deps.Scheduler.Get(id); sched.ErrorCode(err) == sched.CodeNotFound {
		a.log.Info("clearing the retained document of a job that no longer exists", "job", id)
		a.keep(a.jobState(id, nil))
	}
}
