package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/edgecron/edgecron/sched"
)

// Options are what a Server is wired to besides its Config.
type Options struct {
	Logger *slog.Logger
}

// Server is the HTTP listener. Build it with New, add routes with Handle,
// then Start it; Shutdown stops it. Every route is behind the same
// authentication, body limit and JSON errors.
type Server struct {
	cfg    Config
	log    *slog.Logger
	sec    secrets
	auth   bool // credentials are required (configured; always beyond loopback)
	routes routes
	cop    *http.CrossOriginProtection
	srv    *http.Server
	mu     sync.Mutex
	ln     net.Listener
	served chan struct{} // closed when Serve returned
}

// New checks cfg, reads its credential files and builds a Server;
// it does not listen.
func New(cfg Config, o Options) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sec, err := cfg.load()
	if err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, log: log.With("component", "http"), sec: sec, auth: cfg.Auth.Set()}
	// A web page the user visits elsewhere must not drive the device
	// through their browser (the listener on loopback takes no
	// credentials): changes from another origin are refused.
	s.cop = http.NewCrossOriginProtection()
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout.D(),
		ReadTimeout:       cfg.ReadTimeout.D(),
		WriteTimeout:      cfg.WriteTimeout.D(),
		IdleTimeout:       cfg.IdleTimeout.D(),
		MaxHeaderBytes:    16 << 10,
		// Handshake failures and broken connections of scanners and
		// stalled clients: worth a debug line, not a warning.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	// HTTP/1.1 only, which every client speaks: release builds leave out
	// net/http's bundled HTTP/2 (the nethttpomithttp2 tag, see
	// scripts/goflags.sh).
	s.srv.Protocols = new(http.Protocols)
	s.srv.Protocols.SetHTTP1(true)
	return s, nil
}

// Handle registers h for pattern, a method and an exact path whose
// segments may be wildcards ("GET /metrics", "GET /sensors/{name}",
// "GET /{$}" for the root alone; see routes), behind the server's
// authentication and limits. Call it before Start.
func (s *Server) Handle(pattern string, h http.Handler) { s.routes.add(pattern, h) }

// HandleFunc is Handle for a function.
func (s *Server) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	s.routes.add(pattern, http.HandlerFunc(h))
}

// MaxBody is the largest request body a handler may read.
func (s *Server) MaxBody() int64 { return s.cfg.MaxBody.N() }

// Start listens on the configured address and serves in the background
// until Shutdown.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("http.listen: %w", err)
	}
	ln = newLimitListener(ln, s.cfg.MaxConnections)
	s.mu.Lock()
	s.ln = ln
	s.served = make(chan struct{})
	s.mu.Unlock()
	s.log.Info("listening", "url", "http://"+ln.Addr().String()+"/", "auth", s.auth)
	if host, _, _ := net.SplitHostPort(s.cfg.Listen); !Loopback(host) {
		s.log.Warn("the listener is reachable beyond this device over plain HTTP: credentials and data cross the network unencrypted; "+
			"on an untrusted network keep it on loopback behind a TLS proxy or an SSH tunnel (docs/http.md, \"HTTPS\")", "listen", s.cfg.Listen)
	}
	go func() { // ends when Shutdown closes the listener
		defer close(s.served)
		err := s.srv.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("listener failed: the HTTP API is off until a restart", "err", err)
		}
	}()
	return nil
}

// Addr is the address the server listens on ("" before Start).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops listening and waits, until ctx ends, for the requests
// being served; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	served := s.served
	s.mu.Unlock()
	if served == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
	}
	<-served
	return err
}

// ServeHTTP checks the credentials, bounds the body and routes r; a path
// or method no route takes gets a JSON 404 or 405.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.auth && !s.authorized(r) {
		var ch []string
		if s.sec.token != "" {
			ch = append(ch, `Bearer realm="edgecron"`)
		}
		if s.sec.user != "" {
			ch = append(ch, `Basic realm="edgecron", charset="UTF-8"`)
		}
		w.Header().Set("WWW-Authenticate", strings.Join(ch, ", "))
		s.log.Debug("request refused: credentials missing or wrong", "remote", r.RemoteAddr, "method", r.Method, "path", r.URL.Path)
		refuse(w, CodeUnauthorized, "credentials missing or wrong (docs/http.md: Authentication)")
		return
	}
	if r.ContentLength > s.MaxBody() {
		refuse(w, CodeTooLarge, fmt.Sprintf("request body larger than %d bytes (http.max_body)", s.MaxBody()))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxBody())
	if err := s.cop.Check(r); err != nil {
		refuse(w, CodeForbidden, "cross-origin request refused: a page of another origin may not change this device")
		return
	}
	h, allow := s.routes.find(r)
	switch {
	case h != nil:
		h.ServeHTTP(w, r)
	case len(allow) > 0:
		a := strings.Join(allow, ", ")
		w.Header().Set("Allow", a)
		refuse(w, CodeMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, a))
	default:
		refuse(w, sched.CodeNotFound, "no such path: "+r.URL.Path+" (docs/http.md lists the routes)")
	}
}

// authorized reports whether r carries the configured bearer token or
// basic-auth credentials; compared in constant time.
func (s *Server) authorized(r *http.Request) bool {
	if u, p, ok := r.BasicAuth(); ok {
		return s.sec.user != "" && equal(u, s.sec.user) && equal(p, s.sec.password)
	}
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return s.sec.token != "" && equal(strings.TrimSpace(h[7:]), s.sec.token)
	}
	return false
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// ReadBody reads r's body within the server's limit. Its error is a
// refusal to pass to WriteError: too_large (413) over the limit,
// bad_request when the body cannot be read.
func ReadBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, &sched.Error{Code: CodeTooLarge, Message: fmt.Sprintf("request body larger than %d bytes (http.max_body)", mbe.Limit)}
	case err != nil:
		return nil, &sched.Error{Code: sched.CodeBadRequest, Message: "reading the request body: " + err.Error(), Err: err}
	}
	return b, nil
}

// limitListener accepts at most cap(slots) connections open at once: a
// flood of connections, stalled or not, takes that many and no more of
// the device's memory; the others wait in the kernel's backlog.
type limitListener struct {
	net.Listener
	slots  chan struct{}
	closed chan struct{}
	once   sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed: // a shutdown does not wait for a slot
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitConn gives its slot back when closed, once.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
