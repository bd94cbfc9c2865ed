package httpapi

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/edgecron/edgecron/internal/units"
)

// Defaults of the http config section (docs/http.md).
const (
	// DefaultListen is where the listener binds when turned on without a
	// listen address: loopback only, so no credentials are needed.
	DefaultListen            = "127.0.0.1:8780"
	DefaultMaxBody           = 64 << 10
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultReadTimeout       = 10 * time.Second
	DefaultWriteTimeout      = 30 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxConnections    = 32
)

// Config is the http section of the agent's config file. The listener is
// off unless Enabled.
type Config struct {
	Enabled bool   `yaml:"enabled"`
	Listen  string `yaml:"listen"`
	// Auth is required whenever Listen is not a loopback address.
	Auth AuthConfig `yaml:"auth"`
	// TLS is refused when present: see TLSConfig.
	TLS *TLSConfig `yaml:"tls"`
	// MaxBody bounds a request body; a larger one is refused with 413.
	MaxBody units.Bytes `yaml:"max_body"`
	// Timeouts against slow or idle clients (net/http.Server's).
	ReadHeaderTimeout units.Duration `yaml:"read_header_timeout"`
	ReadTimeout       units.Duration `yaml:"read_timeout"`
	WriteTimeout      units.Duration `yaml:"write_timeout"`
	IdleTimeout       units.Duration `yaml:"idle_timeout"`
	// MaxConnections bounds the connections open at once; more wait to
	// be accepted until one closes.
	MaxConnections int `yaml:"max_connections"`
}

// AuthConfig names the files holding the credentials a client must show:
// a bearer token, or a user name with a password (basic auth), or both.
// The secrets are read from files, never from the config itself, and are
// never logged.
type AuthConfig struct {
	TokenFile    string `yaml:"token_file"`
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
}

// TLSConfig is what an http.tls section would name. HTTPS is not built
// into the agent: its server handshake adds 131 KB to the armv6 binary,
// which its 8.5 MiB budget cannot hold beside the rest of the listener
// (docs/footprint.md). The section is read only so that a config that has
// one is refused by name, with the way to get HTTPS instead (docs/http.md,
// "HTTPS"), rather than as an unknown key.
type TLSConfig struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	for _, d := range []struct {
		v   *units.Duration
		def time.Duration
	}{
		{&c.ReadHeaderTimeout, DefaultReadHeaderTimeout},
		{&c.ReadTimeout, DefaultReadTimeout},
		{&c.WriteTimeout, DefaultWriteTimeout},
		{&c.IdleTimeout, DefaultIdleTimeout},
	} {
		if *d.v == 0 {
			*d.v = units.Duration(d.def)
		}
	}
	return c
}

// Validate checks c (after WithDefaults) without reading any file; each
// problem is a line "http.<key>: message". Listening beyond loopback
// without credentials is refused.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("http.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		bad("listen", "%q is not host:port (e.g. %s, or 0.0.0.0:8780 with http.auth)", c.Listen, DefaultListen)
	} else if port == "" {
		bad("listen", "%q has no port", c.Listen)
	} else if !Loopback(host) && !c.Auth.Set() {
		bad("listen", "%q is reachable beyond this device: set http.auth (token_file, or username and password_file)", c.Listen)
	}
	if (c.Auth.Username == "") != (c.Auth.PasswordFile == "") {
		bad("auth", "username and password_file go together")
	}
	if strings.ContainsRune(c.Auth.Username, ':') {
		bad("auth.username", "must not contain ':' (basic auth splits on it)")
	}
	if c.TLS != nil {
		bad("tls", "HTTPS is not built into edgecron (it does not fit the armv6 binary's size budget): keep the listener on loopback and put a TLS proxy in front of it, or reach it through an SSH tunnel (docs/http.md, \"HTTPS\")")
	}
	if c.MaxConnections < 1 || c.MaxConnections > 1024 {
		bad("max_connections", "%d is out of range 1..1024", c.MaxConnections)
	}
	if c.MaxBody < 1<<10 || c.MaxBody > 16<<20 {
		bad("max_body", "%s is out of range 1KiB..16MiB", c.MaxBody)
	}
	for _, d := range []struct {
		key string
		v   units.Duration
	}{
		{"read_header_timeout", c.ReadHeaderTimeout},
		{"read_timeout", c.ReadTimeout},
		{"write_timeout", c.WriteTimeout},
		{"idle_timeout", c.IdleTimeout},
	} {
		if d.v.D() < time.Millisecond || d.v.D() > time.Hour {
			bad(d.key, "%s is out of range 1ms..1h", d.v)
		}
	}
	return errors.Join(errs...)
}

// Set reports whether any credentials are configured.
func (a AuthConfig) Set() bool { return a.TokenFile != "" || a.Username != "" }

// Loopback reports whether host (of a listen address) reaches this device
// only: localhost or a loopback IP. An empty host or 0.0.0.0 listens on
// every interface.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// CheckFiles reads the files c names (token, password) as the server does, so that a missing or unreadable one is
// reported before the agent starts.
func (c Config) CheckFiles() error {
	_, err := c.load()
	return err
}

// secrets is what the files of a Config hold.
type secrets struct {
	token, user, password string
}

func (c Config) load() (secrets, error) {
	var s secrets
	var errs []error
	var err error
	if c.Auth.TokenFile != "" {
		if s.token, err = readSecret(c.Auth.TokenFile); err != nil {
			errs = append(errs, fmt.Errorf("http.auth.token_file: %w", err))
		}
	}
	if c.Auth.PasswordFile != "" {
		s.user = c.Auth.Username
		if s.password, err = readSecret(c.Auth.PasswordFile); err != nil {
			errs = append(errs, fmt.Errorf("http.auth.password_file: %w", err))
		}
	}
	return s, errors.Join(errs...)
}

// readSecret returns the first line of file, which must not be empty.
func readSecret(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", fmt.Errorf("%s: the first line is empty", file)
	}
	return line, nil
}
