package sdnotify_test

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/internal/sdnotify"
)

// fakeSystemd is a NOTIFY_SOCKET listener standing in for PID 1.
type fakeSystemd struct {
	t    *testing.T
	conn *net.UnixConn
	path string
}

func listen(t *testing.T) *fakeSystemd {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("listen %s: %v", path, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &fakeSystemd{t: t, conn: conn, path: path}
}

// next returns the next datagram. A send completes before the sender's call
// returns, so the datagram is already queued; the deadline only turns a
// missing one into a failure instead of a hang.
func (f *fakeSystemd) next() string {
	f.t.Helper()
	buf := make([]byte, 4096)
	if err := f.conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		f.t.Fatal(err)
	}
	n, _, err := f.conn.ReadFromUnix(buf)
	if err != nil {
		f.t.Fatalf("no datagram: %v", err)
	}
	return string(buf[:n])
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func newNotifier(t *testing.T, m map[string]string, now func() time.Time) *sdnotify.Notifier {
	t.Helper()
	n, err := sdnotify.New(sdnotify.Options{Getenv: env(m), Pid: 42, Now: now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func TestMessages(t *testing.T) {
	sd := listen(t)
	n := newNotifier(t, map[string]string{"NOTIFY_SOCKET": sd.path, "WATCHDOG_USEC": "30000000"}, nil)
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"ready", func() error { return n.Ready("") }, "READY=1"},
		{"ready with status", func() error { return n.Ready("12 jobs, clock synced") }, "READY=1\nSTATUS=12 jobs, clock synced"},
		{"stopping", func() error { return n.Stopping("stopping: outputs to shutdown state") }, "STOPPING=1\nSTATUS=stopping: outputs to shutdown state"},
		{"reloading", func() error { return n.Reloading("") }, "RELOADING=1"},
		{"status", func() error { return n.Status("waiting for NTP") }, "STATUS=waiting for NTP"},
		{"watchdog", n.Watchdog, "WATCHDOG=1"},
		{"extend timeout", func() error { return n.ExtendTimeout(90 * time.Second) }, "EXTEND_TIMEOUT_USEC=90000000"},
		{"raw", func() error { return n.Notify("MAINPID=7", "STATUS=x") }, "MAINPID=7\nSTATUS=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatalf("send: %v", err)
			}
			if got := sd.next(); got != tt.want {
				t.Errorf("datagram = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAbstractSocket(t *testing.T) {
	name := "edgecron-sdnotify-test-" + strings.ReplaceAll(t.Name(), "/", "-") + time.Now().Format("150405.000000000")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "\x00" + name, Net: "unixgram"})
	if err != nil {
		t.Skipf("abstract unix sockets unavailable: %v", err)
	}
	defer conn.Close()
	n := newNotifier(t, map[string]string{"NOTIFY_SOCKET": "@" + name}, nil)
	if err := n.Ready(""); err != nil {
		t.Fatalf("Ready: %v", err)
	}
	sd := &fakeSystemd{t: t, conn: conn}
	if got := sd.next(); got != "READY=1" {
		t.Errorf("datagram = %q, want READY=1", got)
	}
}

func TestDisabledIsNoOp(t *testing.T) {
	var nilN *sdnotify.Notifier
	for name, n := range map[string]*sdnotify.Notifier{
		"no NOTIFY_SOCKET": newNotifier(t, map[string]string{"WATCHDOG_USEC": "1000000"}, nil),
		"nil":              nilN,
		"zero":             {},
	} {
		t.Run(name, func(t *testing.T) {
			if n.Enabled() {
				t.Error("Enabled() = true")
			}
			if d := n.WatchdogInterval(); d != 0 {
				t.Errorf("WatchdogInterval() = %v, want 0", d)
			}
			for i, err := range []error{n.Ready("x"), n.Stopping(""), n.Reloading(""), n.Status("s"),
				n.Watchdog(), n.ExtendTimeout(time.Second), n.Notify("READY=1")} {
				if err != nil {
					t.Errorf("call %d: %v", i, err)
				}
			}
			n.Alive()
		})
	}
}

func TestWatchdogEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    time.Duration
		wantErr string
	}{
		{"none", map[string]string{}, 0, ""},
		{"ours", map[string]string{"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": "42"}, 2 * time.Minute, ""},
		{"no pid given", map[string]string{"WATCHDOG_USEC": "500000"}, 500 * time.Millisecond, ""},
		{"another process", map[string]string{"WATCHDOG_USEC": "120000000", "WATCHDOG_PID": "41"}, 0, ""},
		{"bad usec", map[string]string{"WATCHDOG_USEC": "2min"}, 0, "WATCHDOG_USEC"},
		{"zero usec", map[string]string{"WATCHDOG_USEC": "0"}, 0, "WATCHDOG_USEC"},
		{"bad pid", map[string]string{"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "me"}, 0, "WATCHDOG_PID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["NOTIFY_SOCKET"] = "/run/systemd/notify"
			n, err := sdnotify.New(sdnotify.Options{Getenv: env(tt.env), Pid: 42})
			if tt.wantErr == "" && err != nil {
				t.Fatalf("New: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("New error = %v, want one naming %s", err, tt.wantErr)
			}
			if !n.Enabled() {
				t.Error("a watchdog problem disabled notifications")
			}
			if got := n.WatchdogInterval(); got != tt.want {
				t.Errorf("WatchdogInterval() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBadSocketName(t *testing.T) {
	_, err := sdnotify.New(sdnotify.Options{Getenv: env(map[string]string{"NOTIFY_SOCKET": "notify.sock"})})
	if err == nil || !strings.Contains(err.Error(), "NOTIFY_SOCKET") {
		t.Fatalf("error = %v, want one naming NOTIFY_SOCKET", err)
	}
}

// TestAliveRateLimit checks that the liveness hook, called on every loop
// turn, reaches systemd at most four times per watchdog interval, and that a
// loop calling it at its capped wake-up keeps systemd fed with a margin.
func TestAliveRateLimit(t *testing.T) {
	sd := listen(t)
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	n := newNotifier(t, map[string]string{"NOTIFY_SOCKET": sd.path, "WATCHDOG_USEC": "120000000"}, func() time.Time { return now })
	steps := []struct {
		advance time.Duration
		sends   bool
	}{
		{0, true},                 // first call always pets
		{10 * time.Second, false}, // 10s < 30s
		{19 * time.Second, false}, // 29s
		{time.Second, true},       // 30s: a quarter of the interval
		{29 * time.Second, false}, // 29s
		{60 * time.Second, true},  // a full capped wake-up later: 89s since the last pet, under 120s
		{60 * time.Second, true},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		n.Alive()
		if err := n.Status("mark"); err != nil { // a marker shows whether Alive sent first
			t.Fatal(err)
		}
		got := sd.next()
		if s.sends {
			if got != "WATCHDOG=1" {
				t.Fatalf("step %d: datagram = %q, want WATCHDOG=1", i, got)
			}
			got = sd.next()
		}
		if got != "STATUS=mark" {
			t.Fatalf("step %d: datagram = %q, want the marker (sends=%v)", i, got, s.sends)
		}
	}
}

func TestAliveWithoutWatchdogSendsNothing(t *testing.T) {
	sd := listen(t)
	n := newNotifier(t, map[string]string{"NOTIFY_SOCKET": sd.path}, nil)
	n.Alive()
	if err := n.Watchdog(); err != nil {
		t.Fatal(err)
	}
	if err := n.Status("mark"); err != nil {
		t.Fatal(err)
	}
	if got := sd.next(); got != "STATUS=mark" {
		t.Errorf("datagram = %q, want only the marker", got)
	}
}

func TestErrors(t *testing.T) {
	sd := listen(t)
	n := newNotifier(t, map[string]string{"NOTIFY_SOCKET": sd.path}, nil)
	if err := n.Status("two\nlines"); !errors.Is(err, sdnotify.ErrBadStatus) {
		t.Errorf("Status with a newline: %v, want ErrBadStatus", err)
	}
	gone := newNotifier(t, map[string]string{"NOTIFY_SOCKET": filepath.Join(t.TempDir(), "absent.sock")}, nil)
	err := gone.Ready("")
	if err == nil || !strings.Contains(err.Error(), "absent.sock") {
		t.Errorf("Ready to a missing socket: %v, want an error naming it", err)
	}
}
