package mqtttest

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func TestSharedRetainedAndClear(t *testing.T) {
	url := Shared(t)
	p := Prefix(t, url)
	c := Client(t, url, nil)
	Wait(t, c.Publish(p+"/a", 1, true, "1"))
	Wait(t, c.Publish(p+"/b/c", 1, true, "2"))
	got := Retained(t, url, p+"/#")
	if string(got[p+"/a"]) != "1" || string(got[p+"/b/c"]) != "2" || len(got) != 2 {
		t.Fatalf("retained = %q", got)
	}
	ClearRetained(t, url, p+"/#")
	if got := Retained(t, url, p+"/#"); len(got) != 0 {
		t.Fatalf("after clear: %q", got)
	}
}

// TestRestartKeepsSessionAndRetained checks what the agent's tests rely
// on: a persistent session's queued QoS 1 message and retained messages
// survive a broker restart.
func TestRestartKeepsSessionAndRetained(t *testing.T) {
	for _, inproc := range []bool{false, true} {
		b := Start(t, Options{InProcess: inproc})
		t.Run(b.Kind, func(t *testing.T) {
			opts := paho.NewClientOptions().SetClientID("sess-" + b.Kind).SetCleanSession(false)
			got := make(chan string, 1)
			opts.SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
			sub := Client(t, b.URL, opts)
			Wait(t, sub.Subscribe("q/x", 1, nil))
			sub.Disconnect(0)

			pub := Client(t, b.URL, nil)
			Wait(t, pub.Publish("q/x", 1, false, "queued"))
			Wait(t, pub.Publish("q/r", 1, true, "kept"))
			pub.Disconnect(0)
			b.Stop()
			b.Restart(t)

			if r := Retained(t, b.URL, "q/#"); string(r["q/r"]) != "kept" {
				t.Errorf("retained after restart: %q", r)
			}
			Client(t, b.URL, opts)
			select {
			case m := <-got:
				if m != "queued" {
					t.Errorf("queued message = %q", m)
				}
			case <-time.After(10 * time.Second):
				t.Error("queued message not delivered after restart")
			}
		})
	}
}

func TestTLSBroker(t *testing.T) {
	for _, inproc := range []bool{false, true} {
		b := Start(t, Options{TLS: true, InProcess: inproc})
		t.Run(b.Kind, func(t *testing.T) {
			caPEM, err := os.ReadFile(b.CAFile)
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(caPEM)
			cert, err := tls.LoadX509KeyPair(b.CertFile, b.KeyFile)
			if err != nil {
				t.Fatal(err)
			}
			opts := paho.NewClientOptions().SetTLSConfig(&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}})
			c := Client(t, b.URL, opts)
			Wait(t, c.Publish("t", 1, false, "x"))

			// Without the client certificate the broker refuses.
			bad := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL).SetTLSConfig(&tls.Config{RootCAs: pool}))
			if tok := bad.Connect(); tok.Wait() && tok.Error() == nil {
				bad.Disconnect(0)
				t.Fatal("connected without a client certificate")
			}
		})
	}
}
