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
	"compress/flate"
	_ "embed"
	"encoding/binary"
	"io"
	"net/http"
	"strconv"
	"strings"
)

//go:generate go run gen.go

// The files, gzipped by gen.go. Strings, not an embed.FS: three names need
// no file system (6 KB less in the binary).
var (
	//go:embed assets/index.html.gz
	indexHTML string
	//go:embed assets/app.js.gz
	appJS string
	//go:embed assets/style.css.gz
	styleCSS string
)

// asset returns the gzipped file name and its content type; "" for a file
// that is not in the dashboard.
func asset(name string) (gz, ctype string) {
	switch name {
	case "index.html":
		return indexHTML, "text/html; charset=utf-8"
	case "app.js":
		return appJS, "text/javascript; charset=utf-8"
	case "style.css":
		return styleCSS, "text/css; charset=utf-8"
	}
	return "", ""
}

// Register mounts the page (GET /, GET /ui/{file}) and, with a history,
// GET /sensors/{name}/history with handle: an *http.ServeMux's Handle, or
// the HTTP server's own. (A function, not an interface with a Handle
// method: such an interface would keep ServeMux.Handle, and with it
// net/http's pattern parser, in the agent's binary.)
func Register(handle func(pattern string, h http.Handler), h *History) {
	handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveAsset(w, r, "index.html")
	}))
	handle("GET /ui/{file}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveAsset(w, r, r.PathValue("file"))
	}))
	if h != nil {
		handle("GET /sensors/{name}/history", h)
	}
}

// gzipHeader is the length of the header gen.go's gzip streams start with
// (no name, comment or extra field); 8 bytes of trailer end them: the
// CRC-32 and the length of the content.
const gzipHeader, gzipTrailer = 10, 8

// serveAsset writes the embedded file name, gzipped when the client takes
// gzip. Its ETag is the CRC-32 and length of its content (the gzip
// trailer): a browser revalidates with If-None-Match and gets a 304.
func serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	gz, ct := asset(name)
	if ct == "" {
		notFound(w, "no file "+strconv.Quote(name)+" in the dashboard")
		return
	}
	trailer := gz[len(gz)-gzipTrailer:]
	etag := `"` + strconv.FormatUint(binary.LittleEndian.Uint64([]byte(trailer)), 16) + `"`
	// Canonical keys, set directly.
	h := w.Header()
	h["Etag"] = []string{etag}
	h["Cache-Control"] = []string{"no-cache"}
	h["Vary"] = []string{"Accept-Encoding"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	if name == "index.html" {
		// No inline script or style, no framing (the buttons act).
		h["Content-Security-Policy"] = []string{"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"}
	}
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = []string{ct}
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h["Content-Encoding"] = []string{"gzip"}
		h["Content-Length"] = []string{strconv.Itoa(len(gz))}
		io.WriteString(w, gz)
		return
	}
	// The DEFLATE stream between header and trailer, inflated by the
	// decompressor the binary has anyway (internal/tzdata).
	h["Content-Length"] = []string{strconv.FormatUint(uint64(binary.LittleEndian.Uint32([]byte(trailer[4:]))), 10)}
	fr := flate.NewReader(strings.NewReader(gz[gzipHeader : len(gz)-gzipTrailer]))
	io.Copy(w, fr) // embedded, tested data; a failed write is the client's
	fr.Close()
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
