package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edgecron/edgecron/httpapi"
)

// The http section goes through the one validation of run and
// check-config: a listener beyond loopback without credentials, a
// credentials file that is missing, a listener that is configured but not
// turned on are all refused with their key and line.
func TestHTTPConfig(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml string
		want       []string // problem substrings; none: valid
	}{
		{"off by default", "device_id: pi-1\n", nil},
		{"on, loopback default", "device_id: pi-1\nhttp:\n  enabled: true\n", nil},
		{"open with a token", "device_id: pi-1\nhttp:\n  enabled: true\n  listen: 0.0.0.0:8780\n  auth:\n    token_file: " + token + "\n", nil},
		{"kept off", "device_id: pi-1\nhttp:\n  enabled: false\n  listen: 0.0.0.0:8780\n", nil},
		{"open without credentials", "device_id: pi-1\nhttp:\n  enabled: true\n  listen: 0.0.0.0:8780\n",
			[]string{"line 4: http.listen: \"0.0.0.0:8780\" is reachable beyond this device: set http.auth"}},
		{"missing token file", "device_id: pi-1\nhttp:\n  enabled: true\n  auth:\n    token_file: " + filepath.Join(dir, "nope") + "\n",
			[]string{"line 5: http.auth.token_file: open "}},
		{"listen without enabled", "device_id: pi-1\nhttp:\n  listen: 127.0.0.1:9000\n",
			[]string{"http: the listener is off: add enabled: true"}},
		{"explicit zero", "device_id: pi-1\nhttp:\n  enabled: true\n  read_timeout: 0s\n",
			[]string{"line 4: http.read_timeout: 0s is not allowed"}},
		{"explicit zero connections", "device_id: pi-1\nhttp:\n  enabled: true\n  max_connections: 0\n",
			[]string{"line 4: http.max_connections: 0 is not allowed"}},
		{"too many connections", "device_id: pi-1\nhttp:\n  enabled: true\n  max_connections: 5000\n",
			[]string{"line 4: http.max_connections: 5000 is out of range 1..1024"}},
		{"unknown key", "device_id: pi-1\nhttp:\n  enabled: true\n  port: 80\n", []string{"port"}},
		{"tls", "device_id: pi-1\nhttp:\n  enabled: true\n  tls:\n    cert: c.pem\n    key: k.pem\n",
			[]string{"line 5: http.tls: HTTPS is not built into edgecron", "TLS proxy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig("x.yaml", []byte(tc.yaml))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if c.HTTP.Enabled && (c.HTTP.Listen == "" || c.HTTP.MaxBody == 0) {
					t.Errorf("defaults not applied: %+v", c.HTTP)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want problems %q", err, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got\n%v\nwant %q", err, w)
				}
			}
		})
	}
	c, err := ParseConfig("x.yaml", []byte("device_id: pi-1\nhttp:\n  enabled: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Listen != httpapi.DefaultListen {
		t.Errorf("listen %q, want %q", c.HTTP.Listen, httpapi.DefaultListen)
	}
	// A reload that changes http: waits for a restart, and says so.
	c2, err := ParseConfig("x.yaml", []byte("device_id: pi-1\nhttp:\n  enabled: true\n  listen: 127.0.0.1:9000\n"))
	if err != nil {
		t.Fatal(err)
	}
	if keys := restartNeeded(c, c2); strings.Join(keys, ",") != "http" {
		t.Errorf("restart needed for %v, want http", keys)
	}
}
