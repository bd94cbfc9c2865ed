package mqtt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/mqtt"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/store"
	"github.com/edgecron/edgecron/store/outbox"
)

// latencies collects one duration per operation and reports p50 and p99.
type latencies []time.Duration

func (l latencies) report(b *testing.B) (p50, p99 time.Duration) {
	if len(l) == 0 {
		return 0, 0
	}
	slices.Sort(l)
	p50, p99 = l[len(l)/2], l[min(len(l)-1, len(l)*99/100)]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	return p50, p99
}

// p99s keeps the results of the sub-benchmarks of one run so the last can
// compare them.
var p99s sync.Map

// BenchmarkMQTT runs, in one process and on one broker started with
// set_tcp_nodelay true: a bare paho QoS 1 request/echo, the store's commit,
// and request→reply for a job change through the agent (target: p99 ≤ echo
// p99 + commit p99 + 0.5 ms); then a group command acknowledged by 100
// agents; and the echo on a Mosquitto with default settings (Nagle).
func BenchmarkMQTT(b *testing.B) {
	broker := mqtttest.Start(b, mqtttest.Options{NoDelay: true})
	b.Run("echo", func(b *testing.B) { benchEcho(b, broker.URL, "echo") })
	b.Run("commit", benchCommit)
	b.Run("request", func(b *testing.B) { benchRequest(b, broker.URL) })
	b.Run("group100", func(b *testing.B) { benchGroup(b, broker.URL, 100) })
	if broker.Kind == "mosquitto" {
		plain := mqtttest.Start(b, mqtttest.Options{})
		b.Run("echo-default-mosquitto", func(b *testing.B) { benchEcho(b, plain.URL, "echo-default") })
	}
}

func benchEcho(b *testing.B, url, name string) {
	prefix := mqtttest.Prefix(b, url)
	echo := mqtttest.Client(b, url, nil)
	mqtttest.Wait(b, echo.Subscribe(prefix+"/req", 1, func(c paho.Client, m paho.Message) {
		c.Publish(prefix+"/res", 1, false, m.Payload())
	}))
	got := make(chan struct{}, 1)
	req := mqtttest.Client(b, url, nil)
	mqtttest.Wait(b, req.Subscribe(prefix+"/res", 1, func(paho.Client, paho.Message) { got <- struct{}{} }))
	var lat latencies
	payload := []byte(`{"id":"x","op":"modify","job_id":"bench","changes":{"name":"n"}}`)
	for b.Loop() {
		start := time.Now()
		req.Publish(prefix+"/req", 1, false, payload)
		<-got
		lat = append(lat, time.Since(start))
	}
	_, p99 := lat.report(b)
	p99s.Store(name, p99)
}

func benchCommit(b *testing.B) {
	st, err := store.Open(filepath.Join(b.TempDir(), "agent.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	s := sched.New(st, sched.Options{Logger: quiet()})
	s.Handle("test", sched.HandlerFunc{RunFunc: func(context.Context, sched.Run) (sched.Result, error) { return nil, nil }}, sched.HandlerOptions{})
	if err := s.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	p, _ := sched.DecodeJob([]byte(jobDoc("bench", 60)), sched.ModeAdd)
	job, err := s.Add(context.Background(), p, sched.AddOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var lat latencies
	for b.Loop() {
		j := job
		j.Version++
		j.Name = fmt.Sprint(j.Version)
		start := time.Now()
		if err := st.Commit(context.Background(), []sched.Change{{ID: j.ID, Job: j, PrevVersion: job.Version}}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		job = j
	}
	_, p99 := lat.report(b)
	p99s.Store("commit", p99)
}

// benchDevice is an agent over the real bbolt store, its outbox in the
// same file.
func benchDevice(b *testing.B, url, prefix, id string, groups ...string) (*mqtt.Agent, func()) {
	st, err := store.Open(filepath.Join(b.TempDir(), id+".db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s := sched.New(st, sched.Options{Logger: quiet()})
	s.Handle("test", sched.HandlerFunc{RunFunc: func(context.Context, sched.Run) (sched.Result, error) { return nil, nil }}, sched.HandlerOptions{})
	if err := s.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	ob, err := outbox.Open(st.DB(), outbox.Options{MaxBytes: 1 << 20, MaxAge: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	a, err := mqtt.New(mqtt.Config{Broker: url, Prefix: prefix}, mqtt.Deps{
		DeviceID: id, Groups: groups, Scheduler: s, Outbox: ob, Logger: quiet(),
		Backoff: mqtt.Backoff{Min: 10 * time.Millisecond, Max: 100 * time.Millisecond},
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	return a, func() {
		cancel()
		<-done
		s.Shutdown(context.Background(), true)
		st.Close()
	}
}

func benchRequest(b *testing.B, url string) {
	prefix := mqtttest.Prefix(b, url)
	id := uid(prefix, "bench")
	_, stop := benchDevice(b, url, prefix, id)
	defer stop()
	r := newRequester(b, url, prefix)
	r.waitOnline(id)
	if rep := r.do(id, `{"id":"add","op":"add","job":`+jobDoc("bench", 60)+`}`); rep.Status != "accepted" {
		b.Fatal(rep)
	}
	replies := make(chan mqtt.Reply, 1)
	c := mqtttest.Client(b, url, nil)
	mqtttest.Wait(b, c.Subscribe(prefix+"/"+id+"/jobs/res", 1, func(_ paho.Client, m paho.Message) {
		var rep mqtt.Reply
		json.Unmarshal(m.Payload(), &rep)
		replies <- rep
	}))
	var lat latencies
	i := 0
	for b.Loop() {
		i++
		payload := fmt.Sprintf(`{"id":"r%d","op":"modify","job_id":"bench","changes":{"name":"n%d"}}`, i, i)
		start := time.Now()
		c.Publish(prefix+"/"+id+"/jobs/cmd", 1, false, payload)
		rep := <-replies
		lat = append(lat, time.Since(start))
		if rep.Status != "accepted" {
			b.Fatalf("reply %+v", rep)
		}
	}
	_, p99 := lat.report(b)
	echo, ok1 := p99s.Load("echo")
	commit, ok2 := p99s.Load("commit")
	if ok1 && ok2 {
		budget := echo.(time.Duration) + commit.(time.Duration) + 500*time.Microsecond
		b.Logf("request p99 %s; target ≤ echo p99 %s + commit p99 %s + 0.5ms = %s: met=%v",
			p99, echo, commit, budget, p99 <= budget)
	}
}

func benchGroup(b *testing.B, url string, n int) {
	prefix := mqtttest.Prefix(b, url)
	r := newRequester(b, url, prefix)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uid(prefix, fmt.Sprintf("g%03d", i))
		_, stop := benchDevice(b, url, prefix, ids[i], "all")
		defer stop()
	}
	for _, id := range ids {
		r.waitOnline(id)
	}
	var mu sync.Mutex
	acks := map[string]int{}
	all := make(chan struct{}, 1)
	c := mqtttest.Client(b, url, nil)
	mqtttest.Wait(b, c.Subscribe(prefix+"/+/jobs/res", 1, func(_ paho.Client, m paho.Message) {
		var rep mqtt.Reply
		json.Unmarshal(m.Payload(), &rep)
		mu.Lock()
		acks[rep.ID]++
		if acks[rep.ID] == n {
			all <- struct{}{}
		}
		mu.Unlock()
	}))
	var lat latencies
	i := 0
	for b.Loop() {
		i++
		payload := fmt.Sprintf(`{"id":"g%d","op":"add","job":%s,"replace_existing":true}`, i, jobDoc("vent", 60+i))
		start := time.Now()
		c.Publish(prefix+"/groups/all/jobs/cmd", 1, false, payload)
		<-all
		lat = append(lat, time.Since(start))
	}
	lat.report(b)
}
