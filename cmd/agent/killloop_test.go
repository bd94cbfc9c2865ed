package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched/schedtest"
	"github.com/edgecron/edgecron/store"
)

// The kill loop runs the agent as its own process (this test binary,
// re-executed into TestKillLoopChild, which runs `edgecron run`), sends
// every op over MQTT — job requests and actuator commands, each with its
// own id, QoS 1, into the device's persistent session — SIGKILLs the agent
// at random moments, restarts it, re-sends old ids among new ones, and
// finally sends every id once more. Then it checks that no id was applied
// twice:
//   - the job "m" (modify and reschedule requests) is at version 1 + the
//     number of those ids: each applied exactly once, none twice;
//   - no add was refused as a conflict (an add applied twice is);
//   - the job "r" ran at most once per run id (a run's id is committed
//     before it starts: one cut short by a kill is lost, never repeated);
//   - each actuator command id was carried out at most once (the agent
//     logs "actuator command" once per id, after committing the id; a
//     kill between the two loses the command, never repeats it);
//   - every job the loop added and removed is gone exactly when its
//     removal was accepted (an add refused as busy and retried can come
//     after a removal that found nothing: then the job stays, as the
//     sender's order asks); every other job is there.
//
// EDGECRON_KILL_CYCLES sets the number of kills (default 6: the short
// loop of `make test`; CI's soak runs more).
const (
	envKillCfg    = "EDGECRON_KILL_CHILD_CONFIG"
	envKillCycles = "EDGECRON_KILL_CYCLES"
)

// TestKillLoopChild is the agent process of TestKillLoop.
func TestKillLoopChild(t *testing.T) {
	cfg := os.Getenv(envKillCfg)
	if cfg == "" {
		t.Skip("the agent process of TestKillLoop")
	}
	os.Exit(NewMain(strings.NewReader(""), os.Stdout, os.Stderr).Run(context.Background(), []string{"run", "--config", cfg}))
}

type klRequest struct {
	id, topic, payload string
	kind               string // add, addrm, remove, modify, run, set, other
}

func TestKillLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("kill loop skipped in -short mode")
	}
	cycles := 6
	if s := os.Getenv(envKillCycles); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", envKillCycles, s)
		}
		cycles = n
	}
	url := mqtttest.Shared(t)
	prefix := mqtttest.Prefix(t, url)
	dir := t.TempDir()
	device := "kl" + strings.TrimPrefix(prefix, "edgecron-test-")
	root := prefix + "/" + device
	runs := filepath.Join(dir, "runs.log")
	cfgPath := filepath.Join(dir, "agent.yaml")
	cfg := fmt.Sprintf(`device_id: %[4]s
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %[1]s/agent.db}
control: {socket: %[1]s/agent.sock}
log: {level: info}
mqtt: {broker: %[2]q, prefix: %[3]q}
commands:
  mark: {argv: [/bin/sh, -c, 'echo "$1" >> %[5]s', mark], args: ["[a-z0-9-]+"], min_args: 1, timeout: 10s}
actuators:
  - {name: pump, driver: sim}
`, dir, url, prefix, device, runs)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}

	// The requester: a clean session that outlives every agent process.
	var mu sync.Mutex
	var replies []map[string]any
	online := make(chan struct{}, 16)
	markers := map[string]chan struct{}{} // under mu: a channel closed when that id's reply comes
	req := mqtttest.Client(t, url, paho.NewClientOptions().SetClientID("kl-req-"+device))
	mqtttest.Wait(t, req.Subscribe(root+"/jobs/res", 1, func(_ paho.Client, m paho.Message) {
		var r map[string]any
		if json.Unmarshal(m.Payload(), &r) == nil {
			mu.Lock()
			replies = append(replies, r)
			if id, _ := r["id"].(string); markers[id] != nil {
				close(markers[id])
				delete(markers, id)
			}
			mu.Unlock()
		}
	}))
	mqtttest.Wait(t, req.Subscribe(root+"/status", 1, func(_ paho.Client, m paho.Message) {
		if string(m.Payload()) == "online" && !m.Retained() {
			select {
			case online <- struct{}{}:
			default:
			}
		}
	}))
	send := func(r klRequest) { mqtttest.Wait(t, req.Publish(r.topic, 1, false, r.payload)) }
	// jobDoc is a job document; fields, when given, go in before its
	// trigger.
	jobDoc := func(id string, fields ...string) string {
		var extra string
		for _, f := range fields {
			extra += f + ","
		}
		return fmt.Sprintf(`{"id":%q,%s"trigger":{"type":"interval","hours":24},"action":{"type":"exec","command":"mark","args":[%q]}}`, id, extra, id)
	}
	jobReq := func(id, kind, body string) klRequest {
		return klRequest{id: id, kind: kind, topic: root + "/jobs/cmd", payload: `{"id":"` + id + `",` + body + `}`}
	}

	var logs []string // one stderr file per agent process
	var proc *exec.Cmd
	start := func() {
		t.Helper()
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("agent-%d.log", len(logs))))
		if err != nil {
			t.Fatal(err)
		}
		logs = append(logs, f.Name())
		proc = exec.Command(os.Args[0], "-test.run=^TestKillLoopChild$", "-test.count=1")
		proc.Env = append(os.Environ(), envKillCfg+"="+cfgPath)
		proc.Stdout, proc.Stderr = f, f
		if err := proc.Start(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	kill := func() {
		t.Helper()
		proc.Process.Kill()
		proc.Wait()
	}
	waitOnline := func() {
		t.Helper()
		select {
		case <-online:
		case <-time.After(30 * time.Second):
			t.Fatal("the agent never came online")
		}
	}
	defer func() {
		if proc != nil && proc.ProcessState == nil {
			kill()
		}
	}()

	// The jobs the loop works on, before the first kill.
	start()
	waitOnline()
	var all []klRequest
	for _, r := range []klRequest{
		jobReq("setup-m", "add", `"op":"add","job":`+jobDoc("m")),
		// Run requests of r come back to back (a restart's backlog, the
		// final pass): with max_instances 1, a run asked while the one
		// before still runs is refused as a conflict, as documented, and
		// its id would never be accepted.
		jobReq("setup-r", "add", `"op":"add","job":`+jobDoc("r", `"max_instances":100`)),
		jobReq("setup-p", "add", `"op":"add","job":`+jobDoc("p")),
	} {
		send(r)
		all = append(all, r)
	}

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 13))
	for c := range cycles {
		if c > 0 {
			start()
		}
		batch := []klRequest{
			jobReq(fmt.Sprintf("add-%d", c), "add", `"op":"add","job":`+jobDoc(fmt.Sprintf("keep-%d", c))),
			jobReq(fmt.Sprintf("addrm-%d", c), "addrm", `"op":"add","job":`+jobDoc(fmt.Sprintf("gone-%d", c))),
			jobReq(fmt.Sprintf("mod-%d", c), "modify", fmt.Sprintf(`"op":"modify","job_id":"m","changes":{"name":"mod-%d"}`, c)),
			jobReq(fmt.Sprintf("resched-%d", c), "modify", fmt.Sprintf(`"op":"reschedule","job_id":"m","trigger":{"type":"interval","hours":%d}`, 24+c)),
			jobReq(fmt.Sprintf("pause-%d", c), "other", `"op":"pause","job_id":"p"`),
			jobReq(fmt.Sprintf("resume-%d", c), "other", `"op":"resume","job_id":"p"`),
			jobReq(fmt.Sprintf("run-%d", c), "run", `"op":"run","job_id":"r"`),
			jobReq(fmt.Sprintf("get-%d", c), "other", `"op":"get","job_id":"m"`),
			jobReq(fmt.Sprintf("list-%d", c), "other", `"op":"list"`),
			jobReq(fmt.Sprintf("rm-%d", c), "remove", fmt.Sprintf(`"op":"remove","job_id":"gone-%d"`, c)),
			{id: fmt.Sprintf("set-%d", c), kind: "set", topic: root + "/actuators/pump/set",
				payload: fmt.Sprintf(`{"id":"set-%d","command":"toggle","expires_at":"2099-01-01T00:00:00Z"}`, c)},
		}
		// Old ids again, in their old order, among the new ones.
		for _, r := range all {
			if rng.IntN(4) == 0 {
				batch = append(batch, r)
			}
		}
		for _, r := range batch {
			send(r)
		}
		for _, r := range batch[:11] {
			all = append(all, r)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(400 * time.Millisecond)))) // the kill moment: random by design
		kill()
	}

	// listAfter sends reqs, then a list request of that id, and waits
	// (at most 30 s) for the list's reply: requests are handled in order,
	// so it says reqs were. It reports whether the list was accepted (not
	// refused as busy).
	listAfter := func(id string, reqs ...klRequest) bool {
		marker := jobReq(id, "other", `"op":"list"`)
		done := make(chan struct{})
		mu.Lock()
		markers[marker.id] = done
		mu.Unlock()
		for _, r := range reqs {
			send(r)
		}
		send(marker)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
		}
		mu.Lock()
		defer mu.Unlock()
		for _, r := range replies {
			if r["id"] == marker.id && r["status"] == "accepted" {
				return true
			}
		}
		return false
	}
	// The broker's session holds what the last cycles sent while the agent
	// was down: it arrives first, and may fill the agent's command queue.
	// A request refused as busy and retried after those behind it were
	// handled is applied after them: rm-N answered not_found (and replayed
	// as such for its id from then on) before its addrm-N, retried, adds
	// a job nothing removes — what the sender asked for, not what this
	// test means. Let the backlog drain first: a list request accepted (not
	// refused) was handled after all of it.
	start()
	for i := 0; !listAfter(fmt.Sprintf("drain-%d", i)); i++ {
		if i == 50 {
			t.Fatal("the agent's session backlog never drained")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Every id once more, in order, to the agent left running, 100 at a
	// time: the reply to a list request sent after each chunk says the
	// chunk was handled (requests are handled in order). An id refused as
	// busy (internal) or whose reply was dropped goes again in the next
	// round.
	final := func(r map[string]any) bool { return r["code"] != nil && r["code"] != "internal" }
	pending := all
	for round := 0; len(pending) > 0; round++ {
		if round == 10 {
			b, _ := os.ReadFile(logs[len(logs)-1])
			t.Fatalf("%d ids still without a final reply after %d rounds; the agent's log:\n%s", len(pending), round, b)
		}
		for i := 0; i < len(pending); i += 100 {
			listAfter(fmt.Sprintf("final-%d-%d", round, i), pending[i:min(i+100, len(pending))]...)
		}
		mu.Lock()
		got := map[string]bool{}
		for _, r := range replies {
			if id, _ := r["id"].(string); final(r) {
				got[id] = true
			}
		}
		mu.Unlock()
		var again []klRequest
		for _, r := range pending {
			if !got[r.id] {
				again = append(again, r)
			}
		}
		pending = again
	}
	kill()

	// What the requester saw.
	mu.Lock()
	defer mu.Unlock()
	kinds := map[string]string{}
	for _, r := range all {
		kinds[r.id] = r.kind
	}
	answered := map[string]bool{}
	replayed := 0
	for _, r := range replies {
		if r["replayed"] == true {
			replayed++
		}
		id, _ := r["id"].(string)
		answered[id] = answered[id] || r["status"] == "accepted"
		if kinds[id] == "add" || kinds[id] == "addrm" {
			if r["code"] == "conflict" {
				t.Errorf("add %s refused as a conflict: applied twice? %v", id, r)
			}
		}
	}
	nMod, nRun := 0, 0
	for _, r := range all {
		switch r.kind {
		case "modify":
			nMod++
		case "run":
			nRun++
		}
		if r.kind != "remove" && !answered[r.id] {
			t.Errorf("%s never accepted; its replies: %s", r.id, repliesTo(replies, r.id))
		}
	}

	// What the agent did.
	st, err := store.Open(filepath.Join(dir, "agent.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	jobs, err := schedtest.LoadAll(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]int64{}
	for _, j := range jobs {
		have[j.ID] = j.Version
	}
	if have["m"] != int64(1+nMod) {
		t.Errorf("job m at version %d after %d modify/reschedule ids: want %d (each applied exactly once)", have["m"], nMod, 1+nMod)
	}
	stayed := 0 // gone-N kept: the add applied after a removal that found nothing
	for c := range cycles {
		if _, ok := have[fmt.Sprintf("keep-%d", c)]; !ok {
			t.Errorf("keep-%d missing", c)
		}
		// gone-N is gone once its removal was accepted, and there if it
		// never was. Most cycles remove it; but an add refused as busy
		// (a restart's backlog fills the command queue) and retried is
		// applied after the removal the sender had sent behind it, which
		// found no job: the sender's order then asks for the job to stay
		// (a removal that found nothing changed nothing, so no receipt
		// keeps its reply across a restart, and a later one may find the
		// job). The final pass sends every id once more, so a removal
		// applied before a kill took its reply is answered from its
		// receipt.
		add, rm := fmt.Sprintf("addrm-%d", c), fmt.Sprintf("rm-%d", c)
		_, there := have[fmt.Sprintf("gone-%d", c)]
		if there {
			stayed++
		}
		if removed := answered[rm]; there == removed {
			t.Errorf("gone-%d there: %v, its removal accepted: %v; the replies to its add and removal, in order: %s", c, there, removed, repliesTo(replies, add, rm))
		}
	}
	ran := 0
	if b, err := os.ReadFile(runs); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l == "r" {
				ran++
			}
		}
	}
	if ran > nRun {
		t.Errorf("job r ran %d times for %d run ids", ran, nRun)
	}
	applied := map[string]int{}
	for _, path := range logs {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			l := sc.Text()
			if !strings.Contains(l, `msg="actuator command"`) {
				continue
			}
			for _, f := range strings.Fields(l) {
				if id, ok := strings.CutPrefix(f, "id="); ok {
					applied[id]++
				}
			}
		}
		f.Close()
	}
	for id, n := range applied {
		if n > 1 {
			t.Errorf("actuator command %s carried out %d times", id, n)
		}
	}
	t.Logf("%d kills, %d ids (%d modify, %d run: ran %d), %d replies (%d from a receipt after a restart), %d actuator commands carried out, %d added jobs kept by the order of a busy add's retry",
		cycles, len(all), nMod, nRun, ran, len(replies), replayed, len(applied), stayed)
}

// repliesTo lists the replies to the request ids, in the order they came:
// what a failure needs to tell an agent that lost a change from a sender
// whose retry came after the request behind it.
func repliesTo(replies []map[string]any, ids ...string) string {
	var b strings.Builder
	for _, r := range replies {
		if id, _ := r["id"].(string); slices.Contains(ids, id) {
			fmt.Fprintf(&b, "\n  %s: %v %v replayed=%v %v", id, r["status"], r["code"], r["replayed"], r["error"])
		}
	}
	return b.String()
}
