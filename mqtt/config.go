package mqtt

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/edgecron/edgecron/internal/units"
)

// PasswordEnv is the environment variable holding the broker password when
// no password_file is configured.
const PasswordEnv = "EDGECRON_MQTT_PASSWORD"

// Defaults of the mqtt config section.
const (
	DefaultPrefix        = "edgecron"
	DefaultKeepAlive     = 30 * time.Second
	DefaultOutboxBytes   = 8 << 20
	DefaultOutboxAge     = 7 * 24 * time.Hour
	DefaultFlushInterval = time.Minute
	// DefaultDiscoveryPrefix is Home Assistant's own default.
	DefaultDiscoveryPrefix = "homeassistant"
)

// Config is the mqtt section of the agent's config file (CONTRACTS.md §5).
// Broker, or Brokers for a cluster (the agent fails over between them), is
// where the agent connects; with neither, MQTT is off.
type Config struct {
	Broker        string    `yaml:"broker"`
	Brokers       []string  `yaml:"brokers"`
	Prefix        string    `yaml:"prefix"`
	Username      string    `yaml:"username"`
	PasswordFile  string    `yaml:"password_file"`
	TLS           TLSConfig `yaml:"tls"`
	HomeAssistant bool      `yaml:"home_assistant"`
	// DiscoveryPrefix is Home Assistant's discovery prefix (default
	// homeassistant); Home Assistant announces itself on <it>/status.
	DiscoveryPrefix string `yaml:"discovery_prefix"`
	// HomeAssistantJobs says which jobs appear in Home Assistant: all
	// (default), none, or a list of job ids.
	HomeAssistantJobs JobSelection `yaml:"home_assistant_jobs"`
	// ConfigurationURL, when set, is the device's link in Home Assistant
	// (a web page about this device: a dashboard, a wiki page).
	ConfigurationURL string `yaml:"configuration_url"`
	// ReadJobEvents publishes the submitted and executed events of read
	// jobs, and their job document after every run; by default a read
	// job's run publishes only its reading (docs/mqtt.md).
	ReadJobEvents bool           `yaml:"read_job_events"`
	Outbox        OutboxConfig   `yaml:"outbox"`
	KeepAlive     units.Duration `yaml:"keepalive"`
}

// TLSConfig names the files for mqtts:// brokers. CA verifies the broker;
// Cert and Key, together, authenticate the client.
type TLSConfig struct {
	CA   string `yaml:"ca"`
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// OutboxConfig bounds the telemetry kept while the broker is away.
type OutboxConfig struct {
	MaxBytes      units.Bytes    `yaml:"max_bytes"`
	MaxAge        units.Duration `yaml:"max_age"`
	FlushInterval units.Duration `yaml:"flush_interval"`
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.DiscoveryPrefix == "" {
		c.DiscoveryPrefix = DefaultDiscoveryPrefix
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = units.Duration(DefaultKeepAlive)
	}
	if c.Outbox.MaxBytes == 0 {
		c.Outbox.MaxBytes = DefaultOutboxBytes
	}
	if c.Outbox.MaxAge == 0 {
		c.Outbox.MaxAge = units.Duration(DefaultOutboxAge)
	}
	if c.Outbox.FlushInterval == 0 {
		c.Outbox.FlushInterval = units.Duration(DefaultFlushInterval)
	}
	return c
}

// Enabled reports whether a broker is configured.
func (c Config) Enabled() bool { return c.Broker != "" || len(c.Brokers) > 0 }

// URLs returns the brokers in the order the agent tries them: Brokers, or
// the one Broker.
func (c Config) URLs() []string {
	if len(c.Brokers) > 0 {
		return c.Brokers
	}
	if c.Broker != "" {
		return []string{c.Broker}
	}
	return nil
}

// Validate checks c (after WithDefaults) and names the field at fault as
// its config key, e.g. "mqtt.tls.key".
func (c Config) Validate() error {
	if c.Broker != "" && len(c.Brokers) > 0 {
		return errors.New("mqtt.brokers: set together with mqtt.broker: list every broker under mqtt.brokers and remove mqtt.broker")
	}
	key := "mqtt.broker"
	if len(c.Brokers) > 0 {
		key = "mqtt.brokers"
	}
	seen := map[string]int{}
	for i, b := range c.URLs() {
		k := key
		if len(c.Brokers) > 0 {
			k = fmt.Sprintf("mqtt.brokers.%d", i)
		}
		if err := validBroker(b); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		if j, dup := seen[b]; dup {
			return fmt.Errorf("%s: %q is listed twice (also mqtt.brokers.%d)", k, b, j)
		}
		seen[b] = i
	}
	if err := validLevel(c.Prefix); err != nil {
		return fmt.Errorf("mqtt.prefix: %w", err)
	}
	if err := validLevel(c.DiscoveryPrefix); err != nil {
		return fmt.Errorf("mqtt.discovery_prefix: %w", err)
	}
	if err := c.HomeAssistantJobs.validate(); err != nil {
		return fmt.Errorf("mqtt.home_assistant_jobs: %w", err)
	}
	if c.ConfigurationURL != "" {
		u, err := url.Parse(c.ConfigurationURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("mqtt.configuration_url: %q is not an http:// or https:// URL", c.ConfigurationURL)
		}
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		if c.TLS.Cert == "" {
			return errors.New("mqtt.tls.cert: required with mqtt.tls.key")
		}
		return errors.New("mqtt.tls.key: required with mqtt.tls.cert")
	}
	// TLS files with a plaintext URL would connect without TLS (the
	// password in clear): refuse rather than guess.
	for i, b := range c.URLs() {
		k := key
		if len(c.Brokers) > 0 {
			k = fmt.Sprintf("mqtt.brokers.%d", i)
		}
		if u, _ := url.Parse(b); (u.Scheme == "tcp" || u.Scheme == "mqtt") && c.TLS != (TLSConfig{}) {
			return fmt.Errorf("mqtt.tls: set, but %s %q is plaintext: write mqtts://%s (TLS) or remove mqtt.tls", k, b, u.Host)
		}
	}
	if c.KeepAlive.D() < time.Second {
		return fmt.Errorf("mqtt.keepalive: %s is below 1s", c.KeepAlive)
	}
	if c.Outbox.MaxBytes < 4096 {
		return fmt.Errorf("mqtt.outbox.max_bytes: %s is below 4096", c.Outbox.MaxBytes)
	}
	if c.Outbox.MaxAge.D() < time.Minute {
		return fmt.Errorf("mqtt.outbox.max_age: %s is below 1m", c.Outbox.MaxAge)
	}
	if d := c.Outbox.FlushInterval.D(); d < 10*time.Millisecond || d > time.Hour {
		return fmt.Errorf("mqtt.outbox.flush_interval: %s is outside 10ms..1h", c.Outbox.FlushInterval)
	}
	return nil
}

// validBroker checks one broker URL.
func validBroker(b string) error {
	u, err := url.Parse(b)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL such as tcp://host:1883 or mqtts://host:8883", b)
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts":
	default:
		return fmt.Errorf("scheme %q not supported (tcp, mqtt, mqtts, ssl, tls)", u.Scheme)
	}
	return nil
}

// validLevel checks that s can be one MQTT topic level of ours.
func validLevel(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if len(s) > 128 {
		return errors.New("longer than 128 bytes")
	}
	if strings.ContainsAny(s, "/+#\x00") {
		return fmt.Errorf("%q must not contain '/', '+', '#' or NUL", s)
	}
	return nil
}

// CheckFiles reads the files c names (password_file, the TLS CA, client
// certificate and key) as a connection would, so that a missing or
// unreadable one is reported before the agent starts.
func (c Config) CheckFiles() error {
	var errs []error
	if _, err := c.password(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.tlsConfig(c.firstURL()); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// password returns the broker password: the first line of password_file,
// else $EDGECRON_MQTT_PASSWORD, else "". It is never logged.
func (c Config) password() (string, error) {
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("mqtt.password_file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimRight(line, "\r"), nil
	}
	return os.Getenv(PasswordEnv), nil
}

func (c Config) firstURL() string {
	if u := c.URLs(); len(u) > 0 {
		return u[0]
	}
	return ""
}

// tlsConfig builds the client TLS config for broker, or nil for plain tcp
// without any TLS files.
func (c Config) tlsConfig(broker string) (*tls.Config, error) {
	u, _ := url.Parse(broker)
	secure := u != nil && (u.Scheme == "mqtts" || u.Scheme == "ssl" || u.Scheme == "tls")
	if !secure && c.TLS == (TLSConfig{}) {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if u != nil {
		tc.ServerName = u.Hostname()
	}
	if c.TLS.CA != "" {
		pem, err := os.ReadFile(c.TLS.CA)
		if err != nil {
			return nil, fmt.Errorf("mqtt.tls.ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt.tls.ca: no PEM certificate in %s", c.TLS.CA)
		}
		tc.RootCAs = pool
	}
	if c.TLS.Cert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLS.Cert, c.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("mqtt.tls.cert: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
