package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// ErrNoAgent means no agent listens on the socket: the caller may open the
// store directly.
var ErrNoAgent = errors.New("control: no agent is running")

// Client talks to a running agent: the operations of Jobs, with ImportRaw
// in place of Import.
type Client struct {
	path string
}

// Dial checks that an agent listens on path. It returns ErrNoAgent when the
// socket is missing or nobody accepts on it.
func Dial(path string) (*Client, error) {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return nil, ErrNoAgent
		}
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
	c.Close()
	return &Client{path: path}, nil
}

func (c *Client) call(ctx context.Context, req request) (reply, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.path)
	if err != nil {
		return reply{}, fmt.Errorf("control socket %s: %w", c.path, err)
	}
	defer conn.Close()
	within := func(d time.Duration) time.Time {
		t := time.Now().Add(d)
		if dl, ok := ctx.Deadline(); ok && dl.Before(t) {
			t = dl
		}
		return t
	}
	conn.SetWriteDeadline(within(ioTimeout))
	b, err := json.Marshal(req)
	if err != nil {
		return reply{}, err
	}
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return reply{}, fmt.Errorf("control socket: send: %w", err)
	}
	// The request is sent: wait for the operation, not just for a line.
	wait := within(opTimeout)
	conn.SetReadDeadline(wait)
	line, err := readLine(bufio.NewReader(conn))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return reply{}, fmt.Errorf("control socket: no reply by %s: the agent may still apply the %s request (check with jobs list)", wait.Format(time.TimeOnly), req.Op)
		}
		return reply{}, fmt.Errorf("control socket: reply: %w", err)
	}
	var rep reply
	if err := json.Unmarshal(line, &rep); err != nil {
		return reply{}, fmt.Errorf("control socket: bad reply: %w", err)
	}
	if rep.Status != "accepted" {
		code := rep.Code
		if code == "" {
			code = sched.CodeInternal
		}
		// Keep the field apart from the message, as the server had it.
		msg := rep.Error
		if rep.Field != "" {
			msg = strings.TrimPrefix(msg, rep.Field+": ")
		}
		return rep, &sched.Error{Code: code, Field: rep.Field, Message: msg}
	}
	return rep, nil
}

func (c *Client) one(ctx context.Context, op, id string) (sched.Job, error) {
	rep, err := c.call(ctx, request{Op: op, JobID: id})
	if err != nil {
		return sched.Job{}, err
	}
	if rep.Job == nil {
		return sched.Job{}, fmt.Errorf("control socket: %s reply without a job", op)
	}
	return rep.Job.Job, nil
}

// Get returns one job.
func (c *Client) Get(id string) (sched.Job, error) { return c.one(context.Background(), "get", id) }

// List returns every job; an error yields nil (use ListErr to see it).
func (c *Client) List() []sched.Job {
	jobs, _ := c.ListErr(context.Background())
	return jobs
}

// ListErr returns every job.
func (c *Client) ListErr(ctx context.Context) ([]sched.Job, error) {
	rep, err := c.call(ctx, request{Op: "list"})
	return jobsOf(rep.Jobs), err
}

// PauseJob pauses a job.
func (c *Client) PauseJob(ctx context.Context, id string, _ sched.OpOptions) (sched.Job, error) {
	return c.one(ctx, "pause", id)
}

// ResumeJob resumes a job.
func (c *Client) ResumeJob(ctx context.Context, id string, _ sched.OpOptions) (sched.Job, error) {
	return c.one(ctx, "resume", id)
}

// Remove removes a job.
func (c *Client) Remove(ctx context.Context, id string, _ sched.OpOptions) (sched.Job, error) {
	return c.one(ctx, "remove", id)
}

// RunNow runs a job once now.
func (c *Client) RunNow(ctx context.Context, id string, _ sched.OpOptions) error {
	_, err := c.call(ctx, request{Op: "run", JobID: id})
	return err
}

// ImportRaw sends a JSON array of job documents, as read from a file, for
// an all-or-nothing import by the agent. The bytes go unchanged, so fields
// left out stay left out (and take the agent's defaults).
func (c *Client) ImportRaw(ctx context.Context, docs []byte) ([]sched.Job, error) {
	rep, err := c.call(ctx, request{Op: "import", Jobs: json.RawMessage(docs)})
	return jobsOf(rep.Jobs), err
}

// Reload asks the agent to re-read and apply its config file. A rejected
// file returns its problems with the error (code bad_request); an applied
// one, the changes that wait for a restart.
func (c *Client) Reload(ctx context.Context) ([]string, error) {
	rep, err := c.call(ctx, request{Op: "reload"})
	if err != nil {
		return rep.Problems, err
	}
	return rep.Notes, nil
}

// Read takes one reading of a sensor through the agent.
func (c *Client) Read(ctx context.Context, sensor string) (json.RawMessage, error) {
	rep, err := c.call(ctx, request{Op: "read", Name: sensor})
	return rep.Result, err
}

// Set applies a set payload to an actuator through the agent and returns
// its state.
func (c *Client) Set(ctx context.Context, actuator string, payload []byte) (json.RawMessage, error) {
	rep, err := c.call(ctx, request{Op: "set", Name: actuator, Payload: payload})
	return rep.Result, err
}

func readLine(r *bufio.Reader) ([]byte, error) {
	var buf bytes.Buffer
	for {
		chunk, err := r.ReadSlice('\n')
		buf.Write(chunk)
		if buf.Len() > maxMessage {
			return nil, fmt.Errorf("message over %d bytes", maxMessage)
		}
		if err == nil {
			return bytes.TrimSpace(buf.Bytes()), nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && buf.Len() > 0 {
			return bytes.TrimSpace(buf.Bytes()), nil
		}
		return nil, err
	}
}

func strictUnmarshal(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the request")
	}
	return nil
}
