package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/httpapi"
	"github.com/edgecron/edgecron/internal/units"
)

// start runs a server for cfg with an echo route at POST /echo and a
// GET /hello, and returns its base URL.
func start(t *testing.T, cfg httpapi.Config) (*httpapi.Server, string) {
	t.Helper()
	cfg.Enabled = true
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	srv, err := httpapi.New(cfg, httpapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteJSON(w, 200, map[string]string{"hello": "world"})
	})
	srv.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := httpapi.ReadBody(r)
		if err != nil {
			httpapi.WriteError(w, "", err)
			return
		}
		w.Write(b)
	})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return srv, "http://" + srv.Addr()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// errorBody decodes a JSON error response and checks its status and code.
func checkError(t *testing.T, res *http.Response, status int, code string) httpapi.ErrorBody {
	t.Helper()
	defer res.Body.Close()
	var e httpapi.ErrorBody
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if err := json.NewDecoder(res.Body).Decode(&e); err != nil {
		t.Fatalf("error body: %v", err)
	}
	if res.StatusCode != status || string(e.Code) != code || e.Status != "rejected" || e.Error == "" {
		t.Errorf("got %d %+v, want %d code %s", res.StatusCode, e, status, code)
	}
	return e
}

func do(t *testing.T, c *http.Client, method, url string, body string, hdr ...string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestLoopbackWithoutAuth(t *testing.T) {
	_, url := start(t, httpapi.Config{})
	res := do(t, nil, "GET", url+"/hello", "")
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
}

func TestAuth(t *testing.T) {
	cfg := httpapi.Config{Listen: "127.0.0.1:0", Auth: httpapi.AuthConfig{
		TokenFile: writeFile(t, "token", "s3cret-token\n"), Username: "admin", PasswordFile: writeFile(t, "pw", "pa55\r\nignored line\n")}}
	_, url := start(t, cfg)
	for _, tc := range []struct {
		name string
		hdr  []string
		ok   bool
	}{
		{"none", nil, false},
		{"right bearer", []string{"Authorization", "Bearer s3cret-token"}, true},
		{"bearer, any case", []string{"Authorization", "bearer s3cret-token"}, true},
		{"wrong bearer", []string{"Authorization", "Bearer s3cret-tokeN"}, false},
		{"bearer prefix of the token", []string{"Authorization", "Bearer s3cret"}, false},
		{"empty bearer", []string{"Authorization", "Bearer "}, false},
		{"right basic", []string{"Authorization", basic("admin", "pa55")}, true},
		{"wrong basic password", []string{"Authorization", basic("admin", "pa56")}, false},
		{"wrong basic user", []string{"Authorization", basic("root", "pa55")}, false},
		{"token as basic password", []string{"Authorization", basic("admin", "s3cret-token")}, false},
		{"other scheme", []string{"Authorization", "Digest x"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := do(t, nil, "GET", url+"/hello", "", tc.hdr...)
			if tc.ok {
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Fatalf("status %d", res.StatusCode)
				}
				return
			}
			e := checkError(t, res, 401, "unauthorized")
			if strings.Contains(e.Error, "s3cret") || strings.Contains(e.Error, "pa55") {
				t.Errorf("the error tells a secret: %s", e.Error)
			}
			if ch := res.Header.Get("WWW-Authenticate"); !strings.Contains(ch, "Bearer") || !strings.Contains(ch, "Basic") {
				t.Errorf("WWW-Authenticate %q", ch)
			}
		})
	}
	// Unknown paths are behind authentication too: they tell nothing.
	checkError(t, do(t, nil, "GET", url+"/nowhere", ""), 401, "unauthorized")
}

func basic(u, p string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(u, p)
	return r.Header.Get("Authorization")
}

func TestConfigRefusesOpenListenerWithoutAuth(t *testing.T) {
	token := writeFile(t, "token", "t\n")
	for _, tc := range []struct {
		listen string
		auth   httpapi.AuthConfig
		want   string // "" valid
	}{
		{"127.0.0.1:8780", httpapi.AuthConfig{}, ""},
		{"[::1]:8780", httpapi.AuthConfig{}, ""},
		{"localhost:8780", httpapi.AuthConfig{}, ""},
		{"0.0.0.0:8780", httpapi.AuthConfig{}, "http.listen: \"0.0.0.0:8780\" is reachable beyond this device"},
		{":8780", httpapi.AuthConfig{}, "reachable beyond this device"},
		{"192.168.1.20:8780", httpapi.AuthConfig{}, "reachable beyond this device"},
		{"pi.local:8780", httpapi.AuthConfig{}, "reachable beyond this device"},
		{"0.0.0.0:8780", httpapi.AuthConfig{TokenFile: token}, ""},
		{"0.0.0.0:8780", httpapi.AuthConfig{Username: "u"}, "http.auth: username and password_file go together"},
		{"127.0.0.1", httpapi.AuthConfig{}, "http.listen: \"127.0.0.1\" is not host:port"},
	} {
		err := httpapi.Config{Enabled: true, Listen: tc.listen, Auth: tc.auth}.WithDefaults().Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.listen, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s %+v: got %v, want %q", tc.listen, tc.auth, err, tc.want)
		}
	}
	_, err := httpapi.New(httpapi.Config{Enabled: true, Listen: "0.0.0.0:0"}, httpapi.Options{})
	if err == nil {
		t.Fatal("New took an open listener without credentials")
	}
	err = httpapi.Config{Enabled: true, Auth: httpapi.AuthConfig{TokenFile: writeFile(t, "empty", "\n")}}.WithDefaults().CheckFiles()
	if err == nil || !strings.Contains(err.Error(), "http.auth.token_file") {
		t.Errorf("an empty token file: %v", err)
	}
}

func TestNoRouteIsJSON(t *testing.T) {
	_, url := start(t, httpapi.Config{})
	checkError(t, do(t, nil, "GET", url+"/nowhere", ""), 404, "not_found")
	res := do(t, nil, "DELETE", url+"/hello", "")
	checkError(t, res, 405, "method_not_allowed")
	if a := res.Header.Get("Allow"); !strings.Contains(a, "GET") {
		t.Errorf("Allow %q", a)
	}
}

func TestBodyLimit(t *testing.T) {
	_, url := start(t, httpapi.Config{MaxBody: 1 << 10})
	big := strings.Repeat("x", 1<<10+1)
	// Declared too long: refused before the handler.
	checkError(t, do(t, nil, "POST", url+"/echo", big), 413, "too_large")
	// Not declared (chunked): the handler's read stops at the limit.
	req, _ := http.NewRequest("POST", url+"/echo", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	checkError(t, res, 413, "too_large")
	// At the limit: taken.
	res = do(t, nil, "POST", url+"/echo", big[1:])
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || len(b) != 1<<10 {
		t.Errorf("at the limit: %d, %d bytes", res.StatusCode, len(b))
	}
}

func TestCrossOriginChangeRefused(t *testing.T) {
	_, url := start(t, httpapi.Config{})
	checkError(t, do(t, nil, "POST", url+"/echo", "x", "Sec-Fetch-Site", "cross-site"), 403, "forbidden")
	checkError(t, do(t, nil, "POST", url+"/echo", "x", "Origin", "https://evil.example"), 403, "forbidden")
	res := do(t, nil, "POST", url+"/echo", "x", "Sec-Fetch-Site", "same-origin")
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("same origin: %d", res.StatusCode)
	}
	res = do(t, nil, "GET", url+"/hello", "", "Sec-Fetch-Site", "cross-site")
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("a cross-site read: %d", res.StatusCode)
	}
}

// TestTLSRefused: HTTPS is not built in (docs/http.md, "HTTPS"), so a
// config that asks for it is refused by name, with the way to get it,
// and nothing listens.
func TestTLSRefused(t *testing.T) {
	cfg := httpapi.Config{Enabled: true, TLS: &httpapi.TLSConfig{Cert: "cert.pem", Key: "key.pem"}}.WithDefaults()
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "http.tls: HTTPS is not built into edgecron") || !strings.Contains(err.Error(), "TLS proxy") {
		t.Fatalf("Validate: %v", err)
	}
	if _, err := httpapi.New(cfg, httpapi.Options{}); err == nil {
		t.Fatal("New accepted a tls section")
	}
}

// A client that sends half a request and stalls is cut off by the
// configured header timeout; the test waits for the server to close the
// connection, with a generous bound only against a hang.
func TestSlowClientCutOff(t *testing.T) {
	ms := units.Duration(50 * time.Millisecond)
	_, url := start(t, httpapi.Config{ReadHeaderTimeout: ms, ReadTimeout: ms})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /hello HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(time.Minute))
	_, err = bufio.NewReader(conn).ReadString('\n')
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a stalled client's connection open")
	}
	if err == nil {
		t.Fatal("the server answered a request whose headers never ended")
	}
}

// With max_connections 1, a second client waits until the first one's
// connection closes.
func TestMaxConnections(t *testing.T) {
	_, url := start(t, httpapi.Config{MaxConnections: 1})
	addr := strings.TrimPrefix(url, "http://")
	first, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(first, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(first), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("first: %v %v", res, err)
	}
	res.Body.Close()
	// The first connection stays open (keep-alive): the second waits.
	done := make(chan int, 1)
	go func() {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := c.Get(url + "/hello")
		if err != nil {
			t.Error(err)
			done <- 0
			return
		}
		res.Body.Close()
		done <- res.StatusCode
	}()
	select {
	case <-done:
		t.Fatal("a second connection was served while the only slot was taken")
	default: // (this check can miss a bug, never invent one)
	}
	first.Close()
	select {
	case code := <-done:
		if code != 200 {
			t.Fatalf("second: %d", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the second client was not served after the first left")
	}
}
