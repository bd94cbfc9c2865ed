// Package ui serves the dashboard: a page at / that shows the device, its
// jobs, sensors and actuators, and drives them through the REST API
// (docs/http.md, "Dashboard"); and the one endpoint the page needs beyond
// that API, a sensor's recent values for its charts
// (GET /sensors/{name}/history, from a history.Store).
//
// The page is three static files, HTML, CSS and JavaScript without a
// framework or a build step, embedded gzipped (go generate writes
// assets/<file>.gz from assets/<file>): a browser gets them as stored, a
// client that does not accept gzip gets them decompressed. The page polls
// while it is visible; nothing runs on the device when no page is open.
package ui

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/binary"
	"io"
	"net/http"
	"strconv"
	"strings"
)

//go:generate go run gen.go

//go:embed assets/*.gz
var assets embed.FS

// Mux is where the dashboard's routes are mounted (an *http.ServeMux, or
// the HTTP server's own).
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Register mounts the page (GET /, GET /ui/{file}) and, with a history,
// GET /sensors/{name}/history on mux.
func Register(mux Mux, h *History) {
	mux.Handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveAsset(w, r, "index.html")
	}))
	mux.Handle("GET /ui/{file}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveAsset(w, r, r.PathValue("file"))
	}))
	if h != nil {
		mux.Handle("GET /sensors/{name}/history", h)
	}
}

// contentType is the type of the dashboard's files, by extension ("" for
// anything else).
func contentType(name string) string {
	switch name[strings.LastIndexByte(name, '.')+1:] {
	case "html":
		return "text/html; charset=utf-8"
	case "css":
		return "text/css; charset=utf-8"
	case "js":
		return "text/javascript; charset=utf-8"
	}
	return ""
}

// serveAsset writes the embedded file name, gzipped when the client takes
// gzip. Its ETag is the CRC-32 and length of its content (the gzip
// trailer): a browser revalidates with If-None-Match and gets a 304.
func serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	ct := contentType(name)
	gz, err := assets.ReadFile("assets/" + name + ".gz")
	if ct == "" || err != nil || len(gz) < 8 {
		notFound(w, "no file "+strconv.Quote(name)+" in the dashboard")
		return
	}
	h := w.Header()
	etag := `"` + strconv.FormatUint(binary.LittleEndian.Uint64(gz[len(gz)-8:]), 16) + `"`
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	if name == "index.html" {
		// No inline script or style, no framing (the buttons act).
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
	}
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", ct)
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(gz)))
		w.Write(gz)
		return
	}
	h.Set("Content-Length", strconv.FormatUint(uint64(binary.LittleEndian.Uint32(gz[len(gz)-4:])), 10))
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err == nil {
		_, err = io.Copy(w, zr)
	}
	_ = err // embedded, tested data; a failed write is the client's
}

// acceptsGzip reports whether an Accept-Encoding header takes gzip: it
// names gzip or * without q=0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(name)
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		if strings.HasPrefix(q, "q=") {
			if v, err := strconv.ParseFloat(q[2:], 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}
