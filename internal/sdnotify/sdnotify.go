// Package sdnotify speaks systemd's service notification protocol: READY=1
// once the agent serves, STOPPING=1 when it begins to stop, WATCHDOG=1 while
// its scheduling loop is alive, and STATUS= lines shown by `systemctl status`.
//
// The protocol is one datagram of newline-separated KEY=VALUE assignments sent
// to the unix socket named by $NOTIFY_SOCKET (a path, or an abstract socket
// when it begins with '@'). Outside systemd the variable is unset and every
// method is a no-op that returns nil, so callers never branch on it.
//
// The watchdog is fed from the scheduler's liveness hook (sched.Options.Liveness),
// which the loop calls at least once per capped wake-up; Notifier.Alive
// forwards it to systemd at most four times per watchdog period, so a busy
// loop costs nothing and a hung loop is restarted by systemd.
package sdnotify

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Notifier. Zero values take the documented defaults.
type Options struct {
	// Getenv reads the environment; default os.Getenv.
	Getenv func(string) string
	// Pid is this process's id, compared with $WATCHDOG_PID; default os.Getpid().
	Pid int
	// Now is the monotonic clock Alive rate-limits on; default time.Now.
	Now func() time.Time
}

// Notifier sends notifications to systemd. It is safe for concurrent use.
// The zero value and a nil *Notifier are disabled no-ops.
type Notifier struct {
	addr     *net.UnixAddr // nil when not under systemd
	watchdog time.Duration // 0 when the watchdog is off for this process
	now      func() time.Time

	mu      sync.Mutex
	lastPet time.Time // when Alive last sent WATCHDOG=1
	petted  bool
}

// FromEnv returns a Notifier for the environment systemd gave this process.
func FromEnv() (*Notifier, error) { return New(Options{}) }

// New reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID through
// o.Getenv. A missing NOTIFY_SOCKET yields a disabled Notifier and no error;
// a malformed WATCHDOG_USEC or WATCHDOG_PID is an error naming the variable,
// returned with a Notifier that still notifies but has no watchdog.
func New(o Options) (*Notifier, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Pid == 0 {
		o.Pid = os.Getpid()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	n := &Notifier{now: o.Now}
	sock := o.Getenv("NOTIFY_SOCKET")
	if sock == "" {
		return n, nil
	}
	if sock[0] != '/' && sock[0] != '@' {
		return n, fmt.Errorf("sdnotify: NOTIFY_SOCKET %q: want an absolute path or an @abstract name", sock)
	}
	name := sock
	if name[0] == '@' {
		name = "\x00" + name[1:] // Go's net package spells abstract sockets with a leading NUL
	}
	n.addr = &net.UnixAddr{Name: name, Net: "unixgram"}

	usec := o.Getenv("WATCHDOG_USEC")
	if usec == "" {
		return n, nil
	}
	if pid := o.Getenv("WATCHDOG_PID"); pid != "" {
		p, err := strconv.Atoi(pid)
		if err != nil || p <= 0 {
			return n, fmt.Errorf("sdnotify: WATCHDOG_PID %q: not a process id", pid)
		}
		if p != o.Pid {
			return n, nil // the watchdog belongs to another process (our parent, say)
		}
	}
	us, err := strconv.ParseInt(usec, 10, 64)
	if err != nil || us <= 0 {
		return n, fmt.Errorf("sdnotify: WATCHDOG_USEC %q: not a positive number of microseconds", usec)
	}
	n.watchdog = time.Duration(us) * time.Microsecond
	return n, nil
}

// Enabled reports whether the process runs under systemd with a notify socket.
func (n *Notifier) Enabled() bool { return n != nil && n.addr != nil }

// WatchdogInterval is the watchdog timeout systemd enforces on this process
// (WatchdogSec=), or 0 when there is none. The scheduler's capped wake-up
// (sched.Options.MaxWait) must be well below it; half is the usual choice.
func (n *Notifier) WatchdogInterval() time.Duration {
	if n == nil {
		return 0
	}
	return n.watchdog
}

// Ready tells systemd the service is up (Type=notify start-up completes),
// with an optional status line.
func (n *Notifier) Ready(status string) error { return n.send("READY=1", status) }

// Stopping tells systemd the service is shutting down, with an optional
// status line.
func (n *Notifier) Stopping(status string) error { return n.send("STOPPING=1", status) }

// Reloading tells systemd a configuration reload (SIGHUP) began; call Ready
// when it is done so `systemctl reload` reports the outcome.
func (n *Notifier) Reloading(status string) error { return n.send("RELOADING=1", status) }

// Status sets the free-form status line `systemctl status` shows.
func (n *Notifier) Status(status string) error { return n.send("", status) }

// ExtendTimeout asks systemd for d more time to finish starting or stopping
// (EXTEND_TIMEOUT_USEC), for a slow restore on an SD card.
func (n *Notifier) ExtendTimeout(d time.Duration) error {
	return n.send("EXTEND_TIMEOUT_USEC="+strconv.FormatInt(d.Microseconds(), 10), "")
}

// Watchdog sends one WATCHDOG=1 keep-alive, unconditionally.
func (n *Notifier) Watchdog() error {
	if n.WatchdogInterval() == 0 {
		return nil
	}
	return n.send("WATCHDOG=1", "")
}

// Alive is the liveness hook for the scheduling loop: it sends WATCHDOG=1
// when none was sent in the last quarter of the watchdog interval, and
// otherwise does nothing. If the loop calls it at least every M, systemd
// hears from it at least every interval/4 + M: with WatchdogSec=2min and the
// scheduler's 1m capped wake-up, every 90s at worst. So M must stay below
// three quarters of the interval. It has the signature sched.Options.Liveness wants; a send error
// is dropped here (systemd gone means nobody is listening), so a caller that
// wants it uses Watchdog.
func (n *Notifier) Alive() {
	if n.WatchdogInterval() == 0 {
		return
	}
	now := n.now()
	n.mu.Lock()
	if n.petted && now.Sub(n.lastPet) < n.watchdog/4 {
		n.mu.Unlock()
		return
	}
	n.lastPet, n.petted = now, true
	n.mu.Unlock()
	_ = n.send("WATCHDOG=1", "")
}

// Notify sends raw assignments ("KEY=VALUE"), one datagram for all of them.
func (n *Notifier) Notify(assignments ...string) error {
	return n.send(strings.Join(assignments, "\n"), "")
}

// ErrBadStatus reports a status line that would break the protocol's framing.
var ErrBadStatus = errors.New("sdnotify: status contains a newline")

func (n *Notifier) send(state, status string) error {
	if !n.Enabled() {
		return nil
	}
	if strings.ContainsAny(status, "\n\x00") {
		return fmt.Errorf("%w: %q", ErrBadStatus, status)
	}
	msg := state
	if status != "" {
		if msg != "" {
			msg += "\n"
		}
		msg += "STATUS=" + status
	}
	if msg == "" {
		return nil
	}
	conn, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sdnotify: dial %s: %w", n.addr.Name, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(msg)); err != nil {
		return fmt.Errorf("sdnotify: send %q: %w", firstLine(msg), err)
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
