package ui

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/httpapi"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/sensors/history"
)

type names map[string]bool

func (n names) Has(s string) bool { return n[s] }

func newServer(t *testing.T, h *History) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	Register(mux.Handle, h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches path without the transport's own gzip handling.
func get(t *testing.T, srv *httptest.Server, method, path string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func source(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("assets", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAssets(t *testing.T) {
	srv := newServer(t, nil)
	for _, tc := range []struct{ path, file, ctype string }{
		{"/", "index.html", "text/html; charset=utf-8"},
		{"/ui/index.html", "index.html", "text/html; charset=utf-8"},
		{"/ui/app.js", "app.js", "text/javascript; charset=utf-8"},
		{"/ui/style.css", "style.css", "text/css; charset=utf-8"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			want := source(t, tc.file)
			resp, body := get(t, srv, "GET", tc.path, "Accept-Encoding", "br, gzip;q=0.8")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("gzip: %s, Content-Type %q, Content-Encoding %q", resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"))
			}
			if got := gunzip(t, body); !bytes.Equal(got, want) {
				t.Fatalf("gzip: the body is not assets/%s", tc.file)
			}
			if resp.Header.Get("Vary") != "Accept-Encoding" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("headers %v", resp.Header)
			}
			etag := resp.Header.Get("ETag")

			resp, body = get(t, srv, "GET", tc.path)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != tc.ctype || resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, want) {
				t.Fatalf("plain: %s, Content-Type %q, Content-Encoding %q, %d bytes, want assets/%s", resp.Status,
					resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"), len(body), tc.file)
			}
			if resp.Header.Get("Content-Length") != strconv.Itoa(len(want)) || resp.Header.Get("ETag") != etag || etag == "" {
				t.Errorf("plain: Content-Length %s, ETag %s (gzipped: %s)", resp.Header.Get("Content-Length"), resp.Header.Get("ETag"), etag)
			}

			resp, body = get(t, srv, "GET", tc.path, "If-None-Match", etag, "Accept-Encoding", "gzip")
			if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("If-None-Match: %s, %d bytes", resp.Status, len(body))
			}
			resp, body = get(t, srv, "HEAD", tc.path, "Accept-Encoding", "gzip")
			if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("HEAD: %s, %d bytes, %q", resp.Status, len(body), resp.Header.Get("Content-Type"))
			}
		})
	}
	if resp, _ := get(t, srv, "GET", "/"); !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("the page's Content-Security-Policy is %q", resp.Header.Get("Content-Security-Policy"))
	}
	// Paths no route takes are the server's to answer (httpapi: a JSON
	// 404 too); a file that is not in the dashboard is the route's.
	for _, path := range []string{"/ui/", "/index.html", "/ui/a/b.js"} {
		if resp, _ := get(t, srv, "GET", path); resp.StatusCode != 404 {
			t.Errorf("GET %s: %s, want 404", path, resp.Status)
		}
	}
	for _, path := range []string{"/ui/nope.js", "/ui/app.js.gz", "/ui/gen.go", "/ui/..%2fgen.go", "/ui/assets"} {
		resp, body := get(t, srv, "GET", path, "Accept-Encoding", "gzip")
		var e httpapi.ErrorBody
		if resp.StatusCode != 404 || json.Unmarshal(body, &e) != nil || e.Code != sched.CodeNotFound {
			t.Errorf("GET %s: %s %s, want a JSON not_found", path, resp.Status, body)
		}
	}
	if resp, _ := get(t, srv, "POST", "/"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %s, want 405", resp.Status)
	}
}

// TestPageLinks: every file the page loads is served.
func TestPageLinks(t *testing.T) {
	srv := newServer(t, nil)
	links := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(source(t, "index.html")), -1)
	if len(links) < 2 {
		t.Fatalf("links %v: want the script and the style sheet", links)
	}
	for _, l := range links {
		if strings.HasPrefix(l[1], "data:") {
			continue
		}
		if resp, _ := get(t, srv, "GET", l[1]); resp.StatusCode != 200 {
			t.Errorf("the page loads %s: %s", l[1], resp.Status)
		}
	}
}

// TestAssetsCurrent: the embedded files are the sources in assets/,
// gzipped with the 10-byte header serveAsset skips (else: go generate
// ./httpapi/ui).
func TestAssetsCurrent(t *testing.T) {
	files, err := filepath.Glob("assets/*")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, f := range files {
		name := filepath.Base(f)
		if strings.HasSuffix(name, ".gz") {
			if _, err := os.Stat(strings.TrimSuffix(f, ".gz")); err != nil {
				t.Errorf("%s has no source: %v", f, err)
			}
			continue
		}
		n++
		gz, ct := asset(name)
		if ct == "" {
			t.Errorf("assets/%s is not served: add it to asset()", name)
			continue
		}
		disk, err := os.ReadFile(f + ".gz")
		if err != nil || string(disk) != gz {
			t.Errorf("assets/%s.gz is not the embedded file: %v", name, err)
		}
		if !bytes.Equal(gunzip(t, []byte(gz)), source(t, name)) {
			t.Errorf("assets/%s.gz is out of date: run go generate ./httpapi/ui", name)
		}
		if gz[3] != 0 { // FLG: FNAME, FEXTRA, FCOMMENT... make the header longer
			t.Errorf("assets/%s.gz: header flags %#x, want none", name, gz[3])
		}
	}
	if n != 3 {
		t.Errorf("%d files in assets/, want index.html, app.js and style.css", n)
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"":                     false,
		"gzip":                 true,
		"gzip, deflate, br":    true,
		"br;q=1.0, gzip;q=0.8": true,
		"deflate, br":          false,
		"gzip;q=0":             false,
		"gzip; q=0.0":          false,
		"*":                    true,
		"identity":             false,
		"x-gzip":               true,
		"gzipx":                false,
	} {
		if got := acceptsGzip(h); got != want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestHistory(t *testing.T) {
	st := history.New(time.Minute, 10)
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	st.Add("air", "temperature", "°C", t0, 21)
	st.Add("air", "temperature", "°C", t0.Add(30*time.Second), 21.5)
	st.Add("air", "humidity", "%", t0, 40.1)
	st.Add("air", "temperature", "°C", t0.Add(time.Minute), 22.1)
	srv := newServer(t, &History{Store: st, Sensors: names{"air": true, "soil": true}})

	resp, body := get(t, srv, "GET", "/sensors/air/history")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s %q: %s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	want := `{"sensor":"air","step":60,"series":[` +
		`{"name":"temperature","unit":"°C","t":[1796385600,1796385660],"v":[21.25,22.1]},` +
		`{"name":"humidity","unit":"%","t":[1796385600],"v":[40.1]}]}` // t0 is 1796385600
	if string(body) != want+"\n" {
		t.Errorf("got  %s\nwant %s", body, want)
	}
	if resp, body := get(t, srv, "GET", "/sensors/soil/history"); resp.StatusCode != 200 || string(body) != `{"sensor":"soil","step":60,"series":[]}`+"\n" {
		t.Errorf("a sensor without readings: %s %s", resp.Status, body)
	}
	resp, body = get(t, srv, "GET", "/sensors/nope/history")
	var e httpapi.ErrorBody
	if resp.StatusCode != 404 || json.Unmarshal(body, &e) != nil || e.Code != sched.CodeNotFound || !strings.Contains(e.Error, `"nope"`) {
		t.Errorf("an unknown sensor: %s %s", resp.Status, body)
	}
}
