package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// Server serves the control socket.
type Server struct {
	jobs  Jobs
	agent Agent // nil: reload, read and set are refused
	log   *slog.Logger
	ln    net.Listener
	path  string
	wg    sync.WaitGroup
	ctx   context.Context
	stop  context.CancelFunc
}

// Listen creates the socket at path with mode 0660 (a stale socket left by
// a crash is replaced; any other file there is an error) and serves it
// until Close. agent may be nil.
func Listen(path string, jobs Jobs, agent Agent, log *slog.Logger) (*Server, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control socket %s: a file that is not a socket is in the way", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("control socket %s: another agent is listening on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket %s: remove stale socket: %w", path, err)
		}
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{jobs: jobs, agent: agent, log: log, ln: ln, path: path, ctx: ctx, stop: stop}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Close stops accepting, waits for requests in flight and removes the socket.
func (s *Server) Close() error {
	s.stop()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				s.log.Error("control socket accept", "err", err)
			}
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.handle(c)
		}()
	}
}

func (s *Server) handle(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(ioTimeout))
	r := bufio.NewReader(c)
	line, err := readLine(r)
	if errors.Is(err, io.EOF) {
		return // a probe (Dial) connects and hangs up without a request
	}
	var rep reply
	if err != nil {
		rep = rejected(sched.FieldError("request", "%v", err))
	} else {
		rep = s.dispatch(line)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		b, _ = json.Marshal(rejected(fmt.Errorf("encode reply: %w", err)))
	}
	// The operation took what it took; the reply gets its own time.
	c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := c.Write(append(b, '\n')); err != nil {
		s.log.Warn("control socket reply", "err", err)
	}
}

func (s *Server) dispatch(line []byte) reply {
	var req request
	if err := strictUnmarshal(line, &req); err != nil {
		return rejected(sched.FieldError("request", "%v", err))
	}
	o := sched.OpOptions{Source: sched.SourceCLI}
	ctx := s.ctx
	needID := func() error {
		if req.JobID == "" {
			return sched.FieldError("job_id", "is required for %s", req.Op)
		}
		return nil
	}
	one := func(j sched.Job, err error) reply {
		if err != nil {
			return rejected(err)
		}
		return reply{Status: "accepted", Code: sched.CodeOK, Job: &jobDoc{j}}
	}
	switch req.Op {
	case "list":
		return reply{Status: "accepted", Code: sched.CodeOK, Jobs: nonNil(s.jobs.List())}
	case "get", "pause", "resume", "remove", "run":
		if err := needID(); err != nil {
			return rejected(err)
		}
		switch req.Op {
		case "get":
			return one(s.jobs.Get(req.JobID))
		case "pause":
			return one(s.jobs.PauseJob(ctx, req.JobID, o))
		case "resume":
			return one(s.jobs.ResumeJob(ctx, req.JobID, o))
		case "remove":
			return one(s.jobs.Remove(ctx, req.JobID, o))
		default:
			if err := s.jobs.RunNow(ctx, req.JobID, o); err != nil {
				return rejected(err)
			}
			return reply{Status: "accepted", Code: sched.CodeOK}
		}
	case "import":
		ps, err := sched.DecodeJobs(req.Jobs, sched.ModeImport)
		if err != nil {
			return rejected(err)
		}
		jobs, err := s.jobs.Import(ctx, ps, o)
		if err != nil {
			return rejected(err)
		}
		return reply{Status: "accepted", Code: sched.CodeOK, Jobs: nonNil(jobs)}
	case "reload", "read", "set":
		return s.agentOp(ctx, req)
	case "":
		return rejected(sched.FieldError("op", "is required"))
	}
	return rejected(sched.FieldError("op", "unknown op %q (list, get, pause, resume, remove, run, import, reload, read, set)", req.Op))
}

// agentOp serves the ops on the agent rather than its jobs.
func (s *Server) agentOp(ctx context.Context, req request) reply {
	if s.agent == nil {
		return rejected(sched.Errorf(sched.CodeInternal, "%s: not served on this socket", req.Op))
	}
	if req.Op != "reload" && req.Name == "" {
		return rejected(sched.FieldError("name", "is required for %s", req.Op))
	}
	var (
		res json.RawMessage
		err error
	)
	switch req.Op {
	case "reload":
		msgs, err := s.agent.Reload(ctx)
		if err != nil {
			rep := rejected(err)
			rep.Problems = msgs
			return rep
		}
		return reply{Status: "accepted", Code: sched.CodeOK, Notes: msgs}
	case "read":
		res, err = s.agent.Read(ctx, req.Name)
	default:
		if len(req.Payload) == 0 {
			return rejected(sched.FieldError("payload", "is required for set"))
		}
		res, err = s.agent.Set(ctx, req.Name, req.Payload)
	}
	if err != nil {
		return rejected(err)
	}
	return reply{Status: "accepted", Code: sched.CodeOK, Result: res}
}

func nonNil(j []sched.Job) []jobDoc {
	if j == nil {
		return []jobDoc{}
	}
	return docs(j)
}

func rejected(err error) reply {
	rep := reply{Status: "rejected", Code: sched.ErrorCode(err), Error: err.Error()}
	var se *sched.Error
	if errors.As(err, &se) {
		rep.Field = se.Field
	}
	return rep
}
