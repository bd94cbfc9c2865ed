package mqtt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigYAMLAndDefaults(t *testing.T) {
	in := `
broker: mqtts://broker.example:8883
username: pi
password_file: /etc/edgecron/mqtt.pass
tls: {ca: /etc/ca.pem, cert: /etc/c.pem, key: /etc/k.pem}
home_assistant: true
outbox: {max_bytes: 1MiB, max_age: 2d}
keepalive: 15s
`
	var c Config
	if err := yaml.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Prefix != "edgecron" || c.Outbox.MaxBytes != 1<<20 || c.Outbox.MaxAge.D() != 48*time.Hour ||
		c.Outbox.FlushInterval.D() != time.Minute || c.KeepAlive.D() != 15*time.Second || !c.HomeAssistant ||
		c.TLS.Key != "/etc/k.pem" {
		t.Fatalf("config = %+v", c)
	}
}

func TestConfigValidateNamesField(t *testing.T) {
	ok := Config{Broker: "tcp://127.0.0.1:1883"}.WithDefaults()
	tests := []struct {
		field string
		edit  func(*Config)
	}{
		{"mqtt.broker", func(c *Config) { c.Broker = "127.0.0.1:1883" }},
		{"mqtt.broker", func(c *Config) { c.Broker = "http://x:1" }},
		{"mqtt.brokers", func(c *Config) { c.Brokers = []string{"tcp://b:1883"} }}, // with broker: one or the other
		{"mqtt.brokers.1", func(c *Config) { c.Broker, c.Brokers = "", []string{"tcp://a:1883", "b:1883"} }},
		{"mqtt.brokers.1", func(c *Config) { c.Broker, c.Brokers = "", []string{"tcp://a:1883", "tcp://a:1883"} }},
		{"mqtt.tls", func(c *Config) {
			c.Broker, c.Brokers, c.TLS.CA = "", []string{"mqtts://a:8883", "tcp://b:1883"}, "ca.pem"
		}},
		{"mqtt.prefix", func(c *Config) { c.Prefix = "a/b" }},
		{"mqtt.prefix", func(c *Config) { c.Prefix = "#" }},
		{"mqtt.tls.key", func(c *Config) { c.TLS.Cert = "c.pem" }},
		{"mqtt.tls.cert", func(c *Config) { c.TLS.Key = "k.pem" }},
		{"mqtt.tls", func(c *Config) { c.TLS.CA = "ca.pem" }}, // with tcp://: never a silent plaintext connection
		{"mqtt.keepalive", func(c *Config) { c.KeepAlive = 1 }},
		{"mqtt.outbox.max_bytes", func(c *Config) { c.Outbox.MaxBytes = 10 }},
		{"mqtt.outbox.max_age", func(c *Config) { c.Outbox.MaxAge = 1 }},
		{"mqtt.outbox.flush_interval", func(c *Config) { c.Outbox.FlushInterval = 1 }},
	}
	for _, tt := range tests {
		c := ok
		tt.edit(&c)
		err := c.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tt.field+":") {
			t.Errorf("%s: Validate = %v", tt.field, err)
		}
	}
}

func TestPassword(t *testing.T) {
	t.Setenv(PasswordEnv, "from-env")
	if p, err := (Config{}).password(); err != nil || p != "from-env" {
		t.Fatalf("env password = %q, %v", p, err)
	}
	f := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(f, []byte("s3cret\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, err := (Config{PasswordFile: f}).password(); err != nil || p != "s3cret" {
		t.Fatalf("file password = %q, %v", p, err)
	}
	if _, err := (Config{PasswordFile: f + ".missing"}).password(); err == nil || !strings.HasPrefix(err.Error(), "mqtt.password_file:") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestConfigBrokers(t *testing.T) {
	var c Config
	if err := yaml.Unmarshal([]byte("brokers: [tcp://a:1883, 'mqtt://u:secret@b:1883']\n"), &c); err != nil {
		t.Fatal(err)
	}
	c = c.WithDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !c.Enabled() || strings.Join(c.URLs(), " ") != "tcp://a:1883 mqtt://u:secret@b:1883" {
		t.Fatalf("URLs = %q", c.URLs())
	}
	if got := BrokerName(c.URLs()[1]); strings.Contains(got, "secret") {
		t.Fatalf("BrokerName shows the password: %s", got)
	}
	one := Config{Broker: "tcp://a:1883"}
	if !one.Enabled() || len(one.URLs()) != 1 || (Config{}).Enabled() {
		t.Fatalf("Enabled/URLs of broker: wrong")
	}
}
