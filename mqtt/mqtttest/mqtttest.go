// Package mqtttest gives tests a real MQTT broker: the Mosquitto listening
// on 127.0.0.1:1883 when there is one (CI), otherwise an in-process
// mochi-mqtt broker, so that `go test ./...` passes on a machine with no
// broker installed. Tests that stop, restart or secure a broker start their
// own with Start: a `mosquitto` on a free loopback port when the binary is
// installed, else an in-process one. Only tests import this package.
//
// Every test takes its own random topic prefix from Prefix, whose cleanup
// clears the retained messages the test left under it.
//
// EDGECRON_TEST_BROKER overrides the choice of the shared broker: a URL
// such as tcp://127.0.0.1:1884, or "inprocess".
package mqtttest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// SharedAddr is where the shared Mosquitto listens when there is one.
const SharedAddr = "127.0.0.1:1883"

var (
	sharedOnce sync.Once
	sharedURL  string
	sharedErr  error
)

// Shared returns the URL of the broker tests share: the Mosquitto on
// 127.0.0.1:1883 when one answers, else an in-process broker started once
// for the test binary.
func Shared(t testing.TB) string {
	t.Helper()
	sharedOnce.Do(func() {
		switch env := os.Getenv("EDGECRON_TEST_BROKER"); {
		case env != "" && env != "inprocess":
			sharedURL = env
			return
		case env == "":
			if c, err := net.DialTimeout("tcp", SharedAddr, 300*time.Millisecond); err == nil {
				c.Close()
				sharedURL = "tcp://" + SharedAddr
				return
			}
		}
		var b *Broker
		b, sharedErr = startMochi(Options{}, "")
		if sharedErr == nil {
			sharedURL = b.URL
		}
	})
	if sharedErr != nil {
		t.Fatalf("mqtttest: shared broker: %v", sharedErr)
	}
	return sharedURL
}

// Options select what a broker of one's own offers.
type Options struct {
	// NoDelay starts Mosquitto with set_tcp_nodelay true (mochi always has
	// Go's default, TCP_NODELAY on).
	NoDelay bool
	// TLS serves mqtts with a fresh CA and requires a client certificate.
	TLS bool
	// InProcess forces the mochi broker even when mosquitto is installed.
	InProcess bool
	// MosquittoConf is appended to the generated mosquitto.conf (for
	// password_file, acl_file...); with it, anonymous clients are refused.
	// Start fails the test when set and mosquitto is not installed.
	MosquittoConf string
}

// Broker is a broker a test owns.
type Broker struct {
	URL  string
	Kind string // "mosquitto" or "mochi"
	// With TLS: the CA that signed the broker's certificate, and a client
	// certificate and key it accepts.
	CAFile, CertFile, KeyFile string

	addr    string
	dir     string
	conf    string
	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	server  *mochi.Server
	tlsOpts *tlsFiles
}

// Start starts a broker of the test's own on a free loopback port and
// stops it at cleanup. Sessions and retained messages survive Restart.
func Start(t testing.TB, o Options) *Broker {
	t.Helper()
	dir := t.TempDir()
	var b *Broker
	var err error
	_, lookErr := exec.LookPath("mosquitto")
	switch {
	case lookErr == nil && !o.InProcess:
		b, err = startMosquitto(o, dir)
	case o.MosquittoConf != "":
		t.Skip("mqtttest: this test needs mosquitto")
	default:
		b, err = startMochi(o, dir)
	}
	if err != nil {
		t.Fatalf("mqtttest: start broker: %v", err)
	}
	t.Cleanup(b.Stop)
	return b
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func startMosquitto(o Options, dir string) (*Broker, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	b := &Broker{URL: "tcp://" + addr, Kind: "mosquitto", addr: addr, dir: dir, conf: filepath.Join(dir, "mosquitto.conf")}
	anon := "true"
	if o.MosquittoConf != "" {
		anon = "false"
	}
	conf := fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous %s\npersistence true\npersistence_location %s/\nlog_dest file %s\nautosave_interval 0\n%s\n",
		port, anon, dir, filepath.Join(dir, "mosquitto.log"), o.MosquittoConf)
	if os.Geteuid() == 0 {
		conf += "user root\n" // else it drops to user mosquitto, who cannot write dir
	}
	if o.NoDelay {
		conf += "set_tcp_nodelay true\n"
	}
	if o.TLS {
		f, err := writeTLSFiles(dir)
		if err != nil {
			return nil, err
		}
		b.URL = "mqtts://" + addr
		b.CAFile, b.CertFile, b.KeyFile = f.ca, f.clientCert, f.clientKey
		conf += fmt.Sprintf("cafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\n", f.ca, f.serverCert, f.serverKey)
	}
	if err := os.WriteFile(b.conf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	return b, b.startProcess()
}

func (b *Broker) startProcess() error {
	cmd := exec.Command("mosquitto", "-c", b.conf)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("mosquitto: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	b.mu.Lock()
	b.cmd, b.exited = cmd, exited
	b.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", b.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(b.dir, "mosquitto.log"))
			return fmt.Errorf("mosquitto exited at start:\n%s", log)
		case <-time.After(20 * time.Millisecond): // polling a port that is not up yet
		}
		if time.Now().After(deadline) {
			b.stopProcess()
			return fmt.Errorf("mosquitto did not listen on %s within 10s", b.addr)
		}
	}
}

func (b *Broker) stopProcess() {
	b.mu.Lock()
	cmd, exited := b.cmd, b.exited
	b.cmd = nil
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(os.Interrupt) // mosquitto saves its persistence file on SIGINT/SIGTERM
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}

func startMochi(o Options, dir string) (*Broker, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := mochi.New(&mochi.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(discard{}, nil))})
	if err := s.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, err
	}
	b := &Broker{URL: "tcp://" + addr, Kind: "mochi", addr: addr, dir: dir, server: s}
	if o.TLS {
		if dir == "" {
			return nil, fmt.Errorf("TLS needs a directory")
		}
		f, err := writeTLSFiles(dir)
		if err != nil {
			return nil, err
		}
		b.tlsOpts = f
		b.URL = "mqtts://" + addr
		b.CAFile, b.CertFile, b.KeyFile = f.ca, f.clientCert, f.clientKey
	}
	if err := b.addMochiListener(); err != nil {
		return nil, err
	}
	if err := s.Serve(); err != nil {
		return nil, err
	}
	return b, nil
}

const mochiListener = "mqtttest"

func (b *Broker) addMochiListener() error {
	cfg := listeners.Config{ID: mochiListener, Address: b.addr}
	if b.tlsOpts != nil {
		tc, err := b.tlsOpts.serverConfig()
		if err != nil {
			return err
		}
		cfg.TLSConfig = tc
	}
	return b.server.AddListener(listeners.NewTCP(cfg))
}

// Stop stops the broker; Restart may start it again. Stop is idempotent.
func (b *Broker) Stop() {
	if b.Kind == "mosquitto" {
		b.stopProcess()
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.server.Listeners.Get(mochiListener); !ok {
		return
	}
	b.server.Listeners.Close(mochiListener, func(id string) {
		// Not Clients.GetByListener: it read-locks the clients twice
		// (through Len), and a client connecting meanwhile, whose
		// takeover write-locks them, deadlocked Stop (mochi v2.7.9; a
		// CI run hung in TestRestartKeepsSessionAndRetained). GetAll
		// read-locks once.
		for _, cl := range b.server.Clients.GetAll() {
			if cl.Net.Listener == id && !cl.Closed() {
				cl.Stop(fmt.Errorf("mqtttest: broker stopped"))
			}
		}
	})
	b.server.Listeners.Delete(mochiListener)
}

// Restart starts a stopped broker again on the same address, with the
// sessions and retained messages it had.
func (b *Broker) Restart(t testing.TB) {
	t.Helper()
	if b.Kind == "mosquitto" {
		if err := b.startProcess(); err != nil {
			t.Fatalf("mqtttest: restart: %v", err)
		}
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.addMochiListener(); err != nil {
		t.Fatalf("mqtttest: restart: %v", err)
	}
	b.server.Listeners.Serve(mochiListener, b.server.EstablishConnection)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Prefix returns a fresh random topic prefix for one test and, at cleanup,
// clears the retained messages left under it.
func Prefix(t testing.TB, url string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	p := "edgecron-test-" + hex.EncodeToString(b[:])
	t.Cleanup(func() { ClearRetained(t, url, p+"/#") })
	return p
}

// Client connects a paho client for a test and disconnects it at cleanup.
// A nil opts means a clean session with a random client id.
func Client(t testing.TB, url string, opts *paho.ClientOptions) paho.Client {
	t.Helper()
	if opts == nil {
		opts = paho.NewClientOptions()
	}
	if len(opts.Servers) == 0 {
		opts.AddBroker(url)
	}
	if opts.ClientID == "" {
		var b [6]byte
		rand.Read(b[:])
		opts.SetClientID("test-" + hex.EncodeToString(b[:]))
	}
	opts.SetConnectTimeout(10 * time.Second)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtttest: connect %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// Wait waits for a paho token and fails the test on error or after 10s.
func Wait(t testing.TB, tok paho.Token) {
	t.Helper()
	if !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("mqtttest: token timed out")
	}
	if err := tok.Error(); err != nil {
		t.Fatalf("mqtttest: %v", err)
	}
}

// Retained returns the retained messages under filter: topic → payload.
// It subscribes, then publishes a marker to itself: retained messages are
// delivered before it.
func Retained(t testing.TB, url, filter string) map[string][]byte {
	t.Helper()
	return RetainedAs(t, url, nil, filter)
}

// RetainedAs is Retained through a client with opts (a user and password).
func RetainedAs(t testing.TB, url string, opts *paho.ClientOptions, filter string) map[string][]byte {
	t.Helper()
	c := Client(t, url, opts)
	defer c.Disconnect(0)
	got := map[string][]byte{}
	var mu sync.Mutex
	var b [6]byte
	rand.Read(b[:])
	marker := "edgecron-test-marker/" + hex.EncodeToString(b[:])
	if opts != nil {
		marker = "edgecron/test-marker/" + hex.EncodeToString(b[:]) // inside a fleet manager's grant
	}
	done := make(chan struct{})
	// QoS 0: mochi v2.7.9 stalls a client's deliveries after sending it two
	// or more retained QoS 1 messages for one filter; a snapshot needs no QoS 1.
	Wait(t, c.Subscribe(filter, 0, func(_ paho.Client, m paho.Message) {
		if m.Retained() && len(m.Payload()) > 0 {
			mu.Lock()
			got[m.Topic()] = append([]byte(nil), m.Payload()...)
			mu.Unlock()
		}
	}))
	Wait(t, c.Subscribe(marker, 1, func(paho.Client, paho.Message) { close(done) }))
	Wait(t, c.Publish(marker, 1, false, "x"))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("mqtttest: marker not received")
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

// ClearRetained clears every retained message under filter.
func ClearRetained(t testing.TB, url, filter string) {
	t.Helper()
	msgs := Retained(t, url, filter)
	if len(msgs) == 0 {
		return
	}
	c := Client(t, url, nil)
	defer c.Disconnect(0)
	for topic := range msgs {
		Wait(t, c.Publish(topic, 1, true, []byte{}))
	}
}

// Observe subscribes to filter inside an in-process broker: f sees every
// message published on it, unaffected by Stop and Restart (no network, no
// session). It reports false, doing nothing, for a Mosquitto broker.
func (b *Broker) Observe(t testing.TB, filter string, f func(topic string, payload []byte, retained bool)) bool {
	t.Helper()
	if b.server == nil {
		return false
	}
	err := b.server.Subscribe(filter, 1, func(_ *mochi.Client, _ packets.Subscription, pk packets.Packet) {
		f(pk.TopicName, append([]byte(nil), pk.Payload...), pk.FixedHeader.Retain)
	})
	if err != nil {
		t.Fatalf("mqtttest: observe %s: %v", filter, err)
	}
	return true
}
