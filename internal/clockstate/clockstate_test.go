package clockstate_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgecron/edgecron/internal/clockstate"
)

// rtcTime is the since_epoch of testdata/rtc-good.
var rtcTime = time.Unix(1795251147, 0).UTC()

// fakeProbe answers what the test sets.
type fakeProbe struct {
	mu  sync.Mutex
	ok  bool
	err error
}

func (f *fakeProbe) set(ok bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ok, f.err = ok, err
}

func (f *fakeProbe) probe(name string, kind clockstate.Kind) clockstate.Probe {
	return clockstate.Probe{Name: name, Kind: kind, Check: func(time.Time) (bool, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.ok, f.err
	}}
}

func answer(ok bool, err error) *fakeProbe { return &fakeProbe{ok: ok, err: err} }

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestPolicy(t *testing.T) {
	now := rtcTime
	later, earlier := now.Add(time.Hour), now.Add(-time.Hour)
	boom := errors.New("boom")
	tests := []struct {
		name      string
		source    clockstate.Source
		notBefore time.Time
		ntp, rtc  *fakeProbe
		want      bool
		reason    string
	}{
		{"nothing yet", clockstate.SourceAuto, time.Time{}, answer(false, nil), answer(false, nil), false, "waiting for NTP (ntp: no; rtc: no)"},
		{"ntp", clockstate.SourceAuto, time.Time{}, answer(true, nil), answer(false, nil), true, "ntp synchronized (ntp)"},
		{"ntp beats the lower bound", clockstate.SourceNTP, later, answer(true, nil), answer(false, nil), true, "ntp synchronized"},
		{"auto trusts a battery rtc", clockstate.SourceAuto, earlier, answer(false, nil), answer(true, nil), true, "battery-backed rtc (rtc)"},
		{"auto distrusts an rtc behind the lower bound", clockstate.SourceAuto, later, answer(false, nil), answer(true, nil), false, "earlier than the last persisted time"},
		{"ntp source ignores the rtc", clockstate.SourceNTP, time.Time{}, answer(false, nil), answer(true, nil), false, "waiting for NTP (ntp: no)"},
		{"rtc source trusts at once", clockstate.SourceRTC, earlier, answer(false, nil), answer(false, nil), true, "clock.source is rtc"},
		{"rtc source with a clock behind the bound", clockstate.SourceRTC, later, answer(false, nil), answer(true, nil), false, "waiting for NTP"},
		{"rtc source, behind the bound, then ntp", clockstate.SourceRTC, later, answer(true, nil), answer(false, nil), true, "ntp synchronized"},
		{"a failing probe is a no", clockstate.SourceAuto, time.Time{}, answer(true, boom), answer(false, nil), false, "ntp: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := clockstate.New(clockstate.Options{
				Source:    tt.source,
				NotBefore: tt.notBefore,
				Probes:    []clockstate.Probe{tt.ntp.probe("ntp", clockstate.KindNTP), tt.rtc.probe("rtc", clockstate.KindRTC)},
				Now:       func() time.Time { return now },
				Logger:    quiet(),
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := w.Trusted(); got != tt.want {
				t.Errorf("Trusted() = %v, want %v (reason %q)", got, tt.want, w.Reason())
			}
			if !strings.Contains(w.Reason(), tt.reason) {
				t.Errorf("Reason() = %q, want it to contain %q", w.Reason(), tt.reason)
			}
			want := clockstate.Unsynced
			if tt.want {
				want = clockstate.Synced
			}
			if w.State() != want {
				t.Errorf("State() = %q, want %q", w.State(), want)
			}
		})
	}
}

// TestTrees runs the file probes on fake /run and /sys trees.
func TestTrees(t *testing.T) {
	noKernel := answer(false, nil).probe("kernel", clockstate.KindNTP)
	tests := []struct {
		root   string
		source clockstate.Source
		now    time.Time
		want   bool
		reason string
	}{
		{"testdata/timesyncd", clockstate.SourceNTP, rtcTime, true, "ntp synchronized (timesyncd)"},
		{t.TempDir(), clockstate.SourceAuto, rtcTime, false, "timesyncd: no; kernel: no; rtc0: no"},
		{"testdata/rtc-good", clockstate.SourceAuto, rtcTime.Add(90 * time.Second), true, "battery-backed rtc (rtc0)"},
		{"testdata/rtc-good", clockstate.SourceAuto, rtcTime.Add(-3 * time.Minute), false, "rtc0: no"},
		{"testdata/rtc-good", clockstate.SourceNTP, rtcTime, false, "waiting for NTP"},
		{"testdata/rtc-notset", clockstate.SourceAuto, rtcTime, false, "rtc0: no"},
		{"testdata/rtc-invalid", clockstate.SourceAuto, rtcTime, false, `rtc0: rtc0 since_epoch "garbage\n"`},
	}
	for _, tt := range tests {
		t.Run(tt.root+"/"+string(tt.source), func(t *testing.T) {
			w, err := clockstate.New(clockstate.Options{
				Source: tt.source,
				Probes: []clockstate.Probe{clockstate.TimesyncdProbe(tt.root), noKernel, clockstate.RTCProbe(tt.root)},
				Now:    func() time.Time { return tt.now },
				Logger: quiet(),
			})
			if err != nil {
				t.Fatal(err)
			}
			if w.Trusted() != tt.want || !strings.Contains(w.Reason(), tt.reason) {
				t.Errorf("Trusted() = %v (%q), want %v (%q)", w.Trusted(), w.Reason(), tt.want, tt.reason)
			}
		})
	}
}

func TestKernelProbe(t *testing.T) {
	tests := []struct {
		maxErr  time.Duration
		err     error
		want    bool
		wantErr bool
	}{
		{250 * time.Millisecond, nil, true, false},
		{16*time.Second - time.Microsecond, nil, true, false},
		{16 * time.Second, nil, false, false}, // the kernel's value at boot
		{0, errors.New("operation not permitted"), false, true},
	}
	for _, tt := range tests {
		p := clockstate.KernelProbeWith(func() (time.Duration, error) { return tt.maxErr, tt.err })
		ok, err := p.Check(time.Time{})
		if ok != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("maxerror %v, err %v: got %v, %v", tt.maxErr, tt.err, ok, err)
		}
		if err != nil && !strings.Contains(err.Error(), "adjtimex") {
			t.Errorf("error %q does not name adjtimex", err)
		}
	}
}

// TestKernelProbeReadsTheKernel asks the real kernel: reading adjtimex needs
// no privilege, so on Linux it must answer without error.
func TestKernelProbeReadsTheKernel(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("adjtimex is Linux only")
	}
	if _, err := clockstate.KernelProbe().Check(time.Now()); err != nil {
		t.Fatalf("adjtimex read: %v", err)
	}
}

// TestRunPolls checks Run asks again on every tick, waiting longer each
// time up to the cap, and returns once trusted, without a real wait: the
// test owns the ticks.
func TestRunPolls(t *testing.T) {
	ntp := answer(false, nil)
	asked := make(chan time.Duration)
	tick := make(chan time.Time)
	w, err := clockstate.New(clockstate.Options{
		Probes:          []clockstate.Probe{ntp.probe("ntp", clockstate.KindNTP)},
		PollInterval:    4 * time.Second,
		MaxPollInterval: 20 * time.Second,
		After: func(d time.Duration) <-chan time.Time {
			asked <- d
			return tick
		},
		Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()

	for _, want := range []time.Duration{4, 8, 16, 20, 20} {
		if d := <-asked; d != want*time.Second {
			t.Errorf("Run waited %v, want %v", d, want*time.Second)
		}
		select {
		case <-w.Synced():
			t.Fatal("synced before any probe said so")
		default:
		}
		tick <- time.Time{} // poll: still no
	}
	<-asked
	ntp.set(true, nil)
	tick <- time.Time{}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := w.Wait(context.Background()); err != nil || !w.Trusted() {
		t.Fatalf("after Run: Wait %v, Trusted %v", err, w.Trusted())
	}
	// Latched: the kernel flag lapsing later does not revoke trust.
	ntp.set(false, nil)
	if !w.Check() || w.State() != clockstate.Synced {
		t.Error("trust was revoked by a later probe")
	}
}

func TestRunStopsWithContext(t *testing.T) {
	w, err := clockstate.New(clockstate.Options{
		Probes: []clockstate.Probe{answer(false, nil).probe("ntp", clockstate.KindNTP)},
		After:  func(time.Duration) <-chan time.Time { return nil }, // never ticks
		Logger: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := w.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if err := w.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
}

// recorder keeps log records for assertions.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "err" {
			rec.Message += ": " + a.Value.String()
		}
		return true
	})
	r.msgs = append(r.msgs, rec.Message)
	return nil
}

func TestProbeErrorLoggedOncePerChange(t *testing.T) {
	ntp := answer(false, errors.New("EPERM"))
	rec := &recorder{}
	w, err := clockstate.New(clockstate.Options{
		Probes: []clockstate.Probe{ntp.probe("kernel", clockstate.KindNTP)},
		Logger: slog.New(rec),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Check()
	w.Check()
	ntp.set(false, errors.New("EIO"))
	w.Check()
	w.Check()
	ntp.set(true, nil)
	w.Check()
	want := []string{"clock probe failed: EPERM", "clock probe failed: EIO", "wall clock trusted"}
	if strings.Join(rec.msgs, "|") != strings.Join(want, "|") {
		t.Errorf("logged %q, want %q", rec.msgs, want)
	}
}

func TestParseSource(t *testing.T) {
	tests := []struct {
		in   string
		want clockstate.Source
		err  bool
	}{
		{"", clockstate.SourceAuto, false},
		{"auto", clockstate.SourceAuto, false},
		{"NTP", clockstate.SourceNTP, false},
		{" rtc ", clockstate.SourceRTC, false},
		{"gps", "", true},
	}
	for _, tt := range tests {
		got, err := clockstate.ParseSource(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseSource(%q) = %q, %v", tt.in, got, err)
		}
		if err != nil && (!errors.Is(err, clockstate.ErrBadSource) || !strings.Contains(err.Error(), tt.in)) {
			t.Errorf("ParseSource(%q) error %q: want ErrBadSource naming the value", tt.in, err)
		}
	}
	if _, err := clockstate.New(clockstate.Options{Source: "gps"}); !errors.Is(err, clockstate.ErrBadSource) {
		t.Errorf("New with source gps: %v", err)
	}
}

func FuzzRTCAgrees(f *testing.F) {
	f.Add("1\n", "1795251147\n", int64(1795251147))
	f.Add("0\n", "1795251147\n", int64(1795251147))
	f.Add("1", "-5", int64(0))
	f.Add("2", "x", int64(0))
	f.Add("1", "9223372036854775807", int64(-9223372036854775808))
	f.Fuzz(func(t *testing.T, hctosys, since string, now int64) {
		ok, err := clockstate.RTCAgrees(hctosys, since, time.Unix(now, 0))
		if ok && err != nil {
			t.Fatalf("yes with an error: %v", err)
		}
		if ok && strings.TrimSpace(hctosys) != "1" {
			t.Fatalf("yes although hctosys is %q", hctosys)
		}
	})
}

func FuzzParseSource(f *testing.F) {
	for _, s := range []string{"", "auto", "ntp", "rtc", " RTC ", "gps", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, err := clockstate.ParseSource(s)
		switch {
		case err != nil && (src != "" || !errors.Is(err, clockstate.ErrBadSource)):
			t.Fatalf("ParseSource(%q) = %q, %v", s, src, err)
		case err == nil && src != clockstate.SourceAuto && src != clockstate.SourceNTP && src != clockstate.SourceRTC:
			t.Fatalf("ParseSource(%q) = %q, not a known source", s, src)
		}
	})
}
