// Command fleet is the fleet benchmark (docs/performance.md, "Fleet"): N
// real agents (the edgecron binary, --hardware sim, each in a temp dir of its
// own) as separate processes against a broker it starts itself, either one
// Mosquitto or a three-node NATS cluster with its MQTT listener. It measures
// what a fleet operator cares about and nothing the unit tests do:
//
//   - the replies to one group command sent the way `edgecron ctl --group`
//     sends it (first, median, p99, last; every member must answer),
//   - the agents' memory as PSS (shared pages split between the processes
//     that share them, so N agents are not counted N times) and their idle
//     CPU,
//   - the time until every agent is back online after a broker restart
//     (Mosquitto) or after one NATS node is stopped (its agents fail over to
//     the others), and a second group command that every agent must answer.
//
// It exits non-zero when an agent is lost (never online, no answer, no
// failover); targets missed are reported, not failed, since the figures
// depend on the machine (the load average is recorded with them).
//
//	go run ./bench/fleet -n 100 -broker mosquitto
//	go run ./bench/fleet -n 100 -broker nats
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt"
)

func main() {
	n := flag.Int("n", 20, "number of agents")
	kind := flag.String("broker", "mosquitto", "mosquitto or nats (a three-node cluster)")
	bin := flag.String("bin", "", "the edgecron binary (default: built from this checkout)")
	idle := flag.Duration("idle", 10*time.Second, "how long idle CPU is measured")
	wait := flag.Duration("wait", 2*time.Minute, "how long to wait for all agents online, replies, failover")
	out := flag.String("json", "", "also write the results to this file")
	keep := flag.Bool("keep", false, "keep the temp dir (agents' configs and logs, broker logs) and print its path")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, *n, *kind, *bin, *idle, *wait, *keep)
	if res != nil {
		res.print()
		if *out != "" {
			b, _ := json.MarshalIndent(res, "", "  ")
			if werr := os.WriteFile(*out, append(b, '\n'), 0o644); werr != nil {
				log.Print(werr)
			}
		}
	}
	if err != nil {
		log.Fatalf("fleet: FAIL: %v", err)
	}
}

// Results are the figures of one run.
type Results struct {
	Broker         string  `json:"broker"`
	Agents         int     `json:"agents"`
	CPUs           int     `json:"cpus"`
	LoadBefore     string  `json:"loadavg_before"`
	StartToOnlineS float64 `json:"start_to_all_online_s"`
	Command1       Latency `json:"group_command"`
	PSSTotalMiB    float64 `json:"pss_total_mib"`
	PSSPerAgentMiB float64 `json:"pss_per_agent_mib"`
	RSSPerAgentMiB float64 `json:"rss_per_agent_mib"`
	IdleCPUPercent float64 `json:"idle_cpu_percent_total"` // of one core, all agents together
	// Recovery is the broker restart (mosquitto) or the node stop (nats).
	Recovery      string  `json:"recovery"`
	RecoveryMoved int     `json:"recovery_agents"` // agents that had to reconnect
	RecoveryS     float64 `json:"recovery_to_all_online_s"`
	Command2      Latency `json:"group_command_after_recovery"`
	LoadAfter     string  `json:"loadavg_after"`
}

// Latency summarises the replies to one group command.
type Latency struct {
	Replies  int     `json:"replies"`
	FirstMS  float64 `json:"first_ms"`
	MedianMS float64 `json:"median_ms"`
	P99MS    float64 `json:"p99_ms"`
	LastMS   float64 `json:"last_ms"`
}

func (l Latency) String() string {
	return fmt.Sprintf("%d replies: first %.0f ms, median %.0f ms, p99 %.0f ms, last %.0f ms", l.Replies, l.FirstMS, l.MedianMS, l.P99MS, l.LastMS)
}

func (r *Results) print() {
	fmt.Printf("fleet benchmark: %d agents on %s (%d CPUs; load before %s, after %s)\n", r.Agents, r.Broker, r.CPUs, r.LoadBefore, r.LoadAfter)
	fmt.Printf("  start → all online        %.1f s\n", r.StartToOnlineS)
	fmt.Printf("  group command             %s\n", r.Command1)
	fmt.Printf("  memory (PSS)              %.1f MiB total, %.2f MiB per agent (RSS %.2f MiB per agent)\n", r.PSSTotalMiB, r.PSSPerAgentMiB, r.RSSPerAgentMiB)
	fmt.Printf("  idle CPU                  %.2f %% of one core, all agents\n", r.IdleCPUPercent)
	fmt.Printf("  %-25s %d agents back online in %.1f s\n", r.Recovery, r.RecoveryMoved, r.RecoveryS)
	fmt.Printf("  group command after it    %s\n", r.Command2)
}

func run(ctx context.Context, n int, kind, bin string, idle, wait time.Duration, keep bool) (*Results, error) {
	if n < 1 {
		return nil, errors.New("-n: at least 1")
	}
	dir, err := os.MkdirTemp("", "edgecron-fleet-")
	if err != nil {
		return nil, err
	}
	if keep {
		defer log.Printf("fleet: kept %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if bin == "" {
		bin = filepath.Join(dir, "edgecron")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/agent")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build the agent (run from the repository root, or pass -bin): %w", err)
		}
	}
	res := &Results{Broker: kind, Agents: n, CPUs: runtime.NumCPU(), LoadBefore: loadavg()}

	var b cluster
	switch kind {
	case "mosquitto":
		b, err = startMosquitto(dir)
	case "nats":
		b, err = startNATS(dir)
	default:
		return nil, fmt.Errorf("-broker: %q is neither mosquitto nor nats", kind)
	}
	if err != nil {
		return nil, err
	}
	defer b.stopAll()
	urls := b.urls()
	prefix := "fleetbench"

	// The monitor: every device's status, on the first node.
	mon, err := newMonitor(urls[0], prefix)
	if err != nil {
		return nil, err
	}
	defer mon.close()

	// The agents; through NATS spread over the nodes (agent i starts on
	// node i mod 3, the others follow in its list).
	agents := make([]*agent, n)
	start := time.Now()
	for i := range agents {
		list := make([]string, len(urls))
		for j := range urls {
			list[j] = urls[(i+j)%len(urls)]
		}
		a, err := startAgent(bin, dir, prefix, fmt.Sprintf("dev-%04d", i), list)
		if err != nil {
			stopAgents(agents)
			return nil, err
		}
		agents[i] = a
	}
	defer stopAgents(agents)
	ids := make([]string, n)
	for i, a := range agents {
		ids[i] = a.id
	}
	if err := mon.waitOnline(ctx, ids, start, wait); err != nil {
		return res, fmt.Errorf("start: %w", err)
	}
	res.StartToOnlineS = time.Since(start).Seconds()
	cfg := mqtt.Config{Broker: urls[0], Prefix: prefix}
	if err := waitRoster(ctx, cfg, n, wait); err != nil {
		return res, err
	}

	// Idle: settled agents, no traffic.
	time.Sleep(3 * time.Second) // a benchmark: let the start's work finish before measuring idle
	res.IdleCPUPercent, err = idleCPU(agents, idle)
	if err != nil {
		return res, err
	}
	pss, rss, err := memory(agents)
	if err != nil {
		return res, err
	}
	res.PSSTotalMiB, res.PSSPerAgentMiB, res.RSSPerAgentMiB = pss, pss/float64(n), rss/float64(n)

	job := `{"id":"bench","trigger":{"type":"interval","hours":1},"action":{"type":"actuate","actuator":"relay","command":"toggle"}}`
	res.Command1, err = groupCommand(ctx, cfg, n, wait, mqtt.Request{ID: "bench-add", Op: "add", Job: json.RawMessage(job)})
	if err != nil {
		return res, err
	}

	// Recovery.
	var moved []string
	mark := time.Now()
	switch kind {
	case "mosquitto":
		res.Recovery = "broker restart"
		moved = ids
		if err := b.restart(0); err != nil {
			return res, err
		}
		mark = time.Now() // the broker listens again
		mon.close()
		if mon, err = newMonitor(urls[0], prefix); err != nil {
			return res, err
		}
	case "nats":
		res.Recovery = "one NATS node stopped"
		// Its agents: those whose info names it.
		devs, err := mqtt.Fleet(ctx, cfg, "")
		if err != nil {
			return res, err
		}
		for _, d := range devs {
			if d.Info != nil && d.Info.Broker == urls[2] {
				moved = append(moved, d.DeviceID)
			}
		}
		if len(moved) == 0 {
			return res, fmt.Errorf("no agent is on node 3 (%s)", urls[2])
		}
		mark = time.Now()
		b.stop(2)
	}
	res.RecoveryMoved = len(moved)
	if err := mon.waitOnline(ctx, moved, mark, wait); err != nil {
		return res, fmt.Errorf("%s: %w", res.Recovery, err)
	}
	res.RecoveryS = mon.lastOnline(moved).Sub(mark).Seconds()
	if err := waitRoster(ctx, cfg, n, wait); err != nil {
		return res, err
	}
	res.Command2, err = groupCommand(ctx, cfg, n, wait, mqtt.Request{ID: "bench-pause", Op: "pause", JobID: "bench"})
	res.LoadAfter = loadavg()
	return res, err
}

// groupCommand sends req to group "bench" as `edgecron ctl --group` does and
// summarises the latencies; every one of the n members must accept.
func groupCommand(ctx context.Context, cfg mqtt.Config, n int, wait time.Duration, req mqtt.Request) (Latency, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	replies, err := mqtt.SendGroup(ctx, cfg, "bench", req, mqtt.GroupOptions{})
	var lat []time.Duration
	for _, r := range replies {
		if r.Outcome == mqtt.OutcomeAccepted {
			lat = append(lat, r.Latency)
		}
	}
	l := summarize(lat)
	if err != nil {
		return l, err
	}
	if len(lat) != n {
		return l, fmt.Errorf("group command %s: %d of %d agents accepted", req.ID, len(lat), n)
	}
	return l, nil
}

func summarize(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d)-1)+0.5))] }
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	return Latency{Replies: len(d), FirstMS: ms(d[0]), MedianMS: ms(q(0.5)), P99MS: ms(q(0.99)), LastMS: ms(d[len(d)-1])}
}

// waitRoster waits until the roster of group bench lists n members.
func waitRoster(ctx context.Context, cfg mqtt.Config, n int, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		devs, err := mqtt.Fleet(c, cfg, "bench")
		cancel()
		if err == nil && len(devs) == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("roster: %d of %d members after %s (%v)", len(devs), n, wait, err)
		}
		time.Sleep(200 * time.Millisecond) // a benchmark polling the broker, not a test
	}
}

// --- agents ---

type agent struct {
	id   string
	cmd  *exec.Cmd
	done chan struct{} // closed once it exited
}

func startAgent(bin, dir, prefix, id string, brokers []string) (*agent, error) {
	d := filepath.Join(dir, id)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, err
	}
	q := make([]string, len(brokers))
	for i, b := range brokers {
		q[i] = strconv.Quote(b)
	}
	cfg := fmt.Sprintf(`device_id: %s
groups: [bench]
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %s/agent.db}
control: {socket: %s/agent.sock}
log: {level: info}
mqtt: {brokers: [%s], prefix: %s}
actuators:
  - {name: relay, driver: sim}
`, id, d, d, strings.Join(q, ", "), prefix)
	path := filepath.Join(d, "agent.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(d, "agent.log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--config", path)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start agent %s: %w", id, err)
	}
	a := &agent{id: id, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(a.done) }()
	return a, nil
}

func stopAgents(agents []*agent) {
	var wg sync.WaitGroup
	for _, a := range agents {
		if a == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-a.done:
			case <-time.After(20 * time.Second):
				a.cmd.Process.Kill()
				<-a.done
			}
		}()
	}
	wg.Wait()
}

// memory returns the agents' summed PSS and RSS in MiB.
func memory(agents []*agent) (pss, rss float64, err error) {
	for _, a := range agents {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", a.cmd.Process.Pid))
		if err != nil {
			return 0, 0, fmt.Errorf("agent %s: %w (exited? see its agent.log)", a.id, err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			kb, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "Pss:":
				pss += kb / 1024
			case "Rss:":
				rss += kb / 1024
			}
		}
	}
	return pss, rss, nil
}

// idleCPU returns the CPU the agents used over d, in percent of one core.
func idleCPU(agents []*agent, d time.Duration) (float64, error) {
	ticks := func() (float64, error) {
		var sum float64
		for _, a := range agents {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", a.cmd.Process.Pid))
			if err != nil {
				return 0, fmt.Errorf("agent %s: %w", a.id, err)
			}
			s := string(b)
			f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // after "pid (comm) "
			ut, _ := strconv.ParseFloat(f[11], 64)                   // utime, field 14
			st, _ := strconv.ParseFloat(f[12], 64)                   // stime, field 15
			sum += ut + st
		}
		return sum, nil
	}
	t0, err := ticks()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	time.Sleep(d)
	t1, err := ticks()
	if err != nil {
		return 0, err
	}
	const hz = 100 // USER_HZ on Linux
	return (t1 - t0) / hz / time.Since(start).Seconds() * 100, nil
}

// --- the monitor: every device's status ---

type monitor struct {
	c      paho.Client
	mu     sync.Mutex
	online map[string]time.Time // last "online" seen, when
	notify chan struct{}
}

func newMonitor(url, prefix string) (*monitor, error) {
	m := &monitor{online: map[string]time.Time{}, notify: make(chan struct{}, 1)}
	o := paho.NewClientOptions().AddBroker(url).SetClientID(mqtt.NewRequestID()).SetCleanSession(true).
		SetConnectTimeout(5 * time.Second).SetAutoReconnect(false)
	deadline := time.Now().Add(30 * time.Second)
	for {
		m.c = paho.NewClient(o)
		tok := m.c.Connect()
		if tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("monitor: connect %s: %v", url, tok.Error())
		}
		time.Sleep(10 * time.Millisecond) // the broker is starting
	}
	tok := m.c.Subscribe(prefix+"/+/status", 1, func(_ paho.Client, msg paho.Message) {
		if string(msg.Payload()) != "online" {
			return
		}
		id := strings.TrimSuffix(strings.TrimPrefix(msg.Topic(), prefix+"/"), "/status")
		m.mu.Lock()
		m.online[id] = time.Now()
		m.mu.Unlock()
		select {
		case m.notify <- struct{}{}:
		default:
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return nil, fmt.Errorf("monitor: subscribe: %v", tok.Error())
	}
	return m, nil
}

func (m *monitor) close() { m.c.Disconnect(100) }

// waitOnline waits until every device of ids said online after since.
func (m *monitor) waitOnline(ctx context.Context, ids []string, since time.Time, wait time.Duration) error {
	deadline := time.After(wait)
	for {
		missing := 0
		m.mu.Lock()
		for _, id := range ids {
			if !m.online[id].After(since) {
				missing++
			}
		}
		m.mu.Unlock()
		if missing == 0 {
			return nil
		}
		select {
		case <-m.notify:
		case <-deadline:
			return fmt.Errorf("%d of %d agents not online after %s", missing, len(ids), wait)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (m *monitor) lastOnline(ids []string) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	var last time.Time
	for _, id := range ids {
		if t := m.online[id]; t.After(last) {
			last = t
		}
	}
	return last
}

// --- brokers ---

type cluster interface {
	urls() []string
	stop(i int)
	restart(i int) error
	stopAll()
}

type node struct {
	name, addr, conf string
	cmd              *exec.Cmd
	done             chan struct{}
}

type procCluster struct {
	bin   string
	args  func(conf string) []string
	nodes []*node
}

func (p *procCluster) urls() []string {
	u := make([]string, len(p.nodes))
	for i, n := range p.nodes {
		u[i] = "tcp://" + n.addr
	}
	return u
}

func (p *procCluster) start(i int) error {
	n := p.nodes[i]
	cmd := exec.Command(p.bin, p.args(n.conf)...)
	logf, err := os.OpenFile(n.conf+".log", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", p.bin, err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(n.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", n.addr, 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-n.done:
			return fmt.Errorf("%s %s exited at start: see %s.log", p.bin, n.name, n.conf)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s %s does not listen on %s", p.bin, n.name, n.addr)
		}
	}
}

func (p *procCluster) stop(i int) {
	n := p.nodes[i]
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
	n.cmd = nil
}

func (p *procCluster) restart(i int) error {
	p.stop(i)
	return p.start(i)
}

func (p *procCluster) stopAll() {
	for i := range p.nodes {
		p.stop(i)
	}
}

// startMosquitto starts one Mosquitto on a free loopback port, with
// set_tcp_nodelay (docs/mqtt.md, "Latency") and without persistence: a
// restart loses every session and retained message, the worst case.
func startMosquitto(dir string) (cluster, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	conf := filepath.Join(dir, "mosquitto.conf")
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`listener %s 127.0.0.1
allow_anonymous true
set_tcp_nodelay true
persistence false
max_queued_messages 10000
max_inflight_messages 100
`, port)), 0o644)
	if err != nil {
		return nil, err
	}
	p := &procCluster{bin: "mosquitto", args: func(c string) []string { return []string{"-c", c} },
		nodes: []*node{{name: "mosquitto", addr: addr, conf: conf}}}
	if err := p.start(0); err != nil {
		return nil, err
	}
	return p, nil
}

// startNATS starts three nats-server nodes clustered by routes to each
// other, each with JetStream (its own store) and an MQTT listener.
func startNATS(dir string) (cluster, error) {
	type ports struct{ client, cluster, mqtt string }
	var ps [3]ports
	for i := range ps {
		var err error
		if ps[i].client, err = freeAddr(); err != nil {
			return nil, err
		}
		if ps[i].cluster, err = freeAddr(); err != nil {
			return nil, err
		}
		if ps[i].mqtt, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	p := &procCluster{bin: "nats-server", args: func(c string) []string { return []string{"-c", c} }}
	for i := range ps {
		var routes []string
		for j := range ps {
			if j != i {
				routes = append(routes, "nats-route://"+ps[j].cluster)
			}
		}
		name := fmt.Sprintf("n%d", i+1)
		conf := filepath.Join(dir, name+".conf")
		err := os.WriteFile(conf, []byte(fmt.Sprintf(`server_name: %s
listen: %s
jetstream { store_dir: %q }
cluster {
  name: edgecron-bench
  listen: %s
  routes: [%s]
}
mqtt {
  listen: %s
  # every MQTT asset (sessions, retained, queued messages) on all three
  # nodes: one node may go
  stream_replicas: 3
  consumer_replicas: 3
}
`, name, ps[i].client, filepath.Join(dir, name+"-js"), ps[i].cluster, strings.Join(routes, ", "), ps[i].mqtt)), 0o644)
		if err != nil {
			return nil, err
		}
		p.nodes = append(p.nodes, &node{name: name, addr: ps[i].mqtt, conf: conf})
	}
	// The nodes start together: JetStream (which MQTT needs) waits for a
	// quorum before the MQTT listener comes up.
	errs := make(chan error, len(p.nodes))
	for i := range p.nodes {
		go func() { errs <- p.start(i) }()
	}
	for range p.nodes {
		if err := <-errs; err != nil {
			p.stopAll()
			return nil, err
		}
	}
	return p, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
