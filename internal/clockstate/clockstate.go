// Package clockstate decides whether the wall clock can be trusted to fire
// cron and date jobs.
//
// A Raspberry Pi has no battery-backed real-time clock: it boots with a stale
// time (fake-hwclock's last save, or systemd's build date) and steps to the
// right one when NTP synchronizes, maybe minutes later, maybe never while the
// network is down. A Watcher answers "is the clock known good yet?" from
// probes of the authorities a Linux board has:
//
//   - systemd-timesyncd's flag file /run/systemd/timesync/synchronized;
//   - the kernel's NTP status (adjtimex), which chrony, ntpd and timesyncd
//     all keep, read the way systemd reads it: a maximum error below 16 s;
//   - for Source auto, a battery-backed RTC the kernel set the clock from at
//     boot (/sys/class/rtc/rtc0/hctosys) and that still agrees with it.
//
// The last wall time the agent persisted is a lower bound only: a clock that
// reads earlier is certainly wrong and is never trusted without NTP, but a
// clock that reads later is not trusted for that alone (fake-hwclock's saved
// time is later too).
//
// Trust is latched: once a Watcher trusts the clock it never takes that back.
// The kernel's flag lapses when the NTP daemon loses its servers for hours,
// but the clock then drifts by parts per million, and stalling every cron job
// for that would be worse than the drift.
package clockstate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Source is the config's clock.source: which evidence makes the clock trusted.
type Source string

const (
	// SourceAuto trusts NTP synchronization or a battery-backed RTC that set
	// the clock at boot. The default.
	SourceAuto Source = "auto"
	// SourceNTP trusts NTP synchronization only.
	SourceNTP Source = "ntp"
	// SourceRTC trusts the clock from the start: the board keeps time with a
	// battery-backed RTC (or a GPS). A clock that reads earlier than the
	// lower bound is still distrusted until NTP synchronizes.
	SourceRTC Source = "rtc"
)

// ParseSource reads a clock.source value; "" is SourceAuto.
func ParseSource(s string) (Source, error) {
	switch src := Source(strings.ToLower(strings.TrimSpace(s))); src {
	case "":
		return SourceAuto, nil
	case SourceAuto, SourceNTP, SourceRTC:
		return src, nil
	}
	return "", fmt.Errorf("%w: %q (want auto, ntp or rtc)", ErrBadSource, s)
}

// ErrBadSource reports an unknown clock.source value.
var ErrBadSource = errors.New("clockstate: unknown clock source")

// State is the clock state <root>/info publishes.
type State string

const (
	Synced   State = "synced"
	Unsynced State = "unsynced"
)

// Kind says what a probe's yes means.
type Kind int

const (
	// KindNTP: an NTP client synchronized the clock. Counts for every Source.
	KindNTP Kind = iota
	// KindRTC: a battery-backed RTC keeps the time. Counts for SourceAuto.
	KindRTC
)

// Probe asks one authority whether the clock is right at now. A probe that
// errs counts as "no"; its error is logged when it first appears or changes.
type Probe struct {
	Name  string
	Kind  Kind
	Check func(now time.Time) (bool, error)
}

// Options configure a Watcher. Zero values take the documented defaults.
type Options struct {
	Source Source // default SourceAuto
	// NotBefore is the last wall time the agent persisted (zero if unknown):
	// a clock reading earlier is wrong unless NTP says otherwise.
	NotBefore time.Time
	// Probes default to DefaultProbes("/").
	Probes []Probe
	// PollInterval is Run's first wait between asking the probes; default
	// 5s. Each unsuccessful poll doubles it, up to MaxPollInterval (default
	// 30s): a board that just booted learns of NTP's sync within seconds,
	// and one that stays offline costs a stat and a syscall twice a minute.
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	// Now reads the wall clock; default time.Now.
	Now func() time.Time
	// After waits on the monotonic clock; default time.After. Tests pass a
	// channel they control.
	After func(time.Duration) <-chan time.Time
	// Logger defaults to slog.Default(); the caller adds its component name.
	Logger *slog.Logger
}

// DefaultProbes are the probes of a Linux board whose filesystem is at root
// ("/" in production, a testdata tree in tests).
func DefaultProbes(root string) []Probe {
	return []Probe{TimesyncdProbe(root), KernelProbe(), RTCProbe(root)}
}

// Watcher tracks whether the wall clock is trusted. Safe for concurrent use.
type Watcher struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	trusted bool
	reason  string
	errs    map[string]string // last error logged per probe
	synced  chan struct{}     // closed once trusted
}

// New returns a Watcher and asks the probes once, so Trusted is meaningful
// at once. It starts no goroutine: Run polls.
func New(o Options) (*Watcher, error) {
	src, err := ParseSource(string(o.Source))
	if err != nil {
		return nil, err
	}
	o.Source = src
	if o.Probes == nil {
		o.Probes = DefaultProbes("/")
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 5 * time.Second
	}
	if o.MaxPollInterval <= 0 {
		o.MaxPollInterval = 30 * time.Second
	}
	o.MaxPollInterval = max(o.MaxPollInterval, o.PollInterval)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	w := &Watcher{opts: o, log: o.Logger, errs: map[string]string{}, synced: make(chan struct{})}
	w.Check()
	return w, nil
}

// Trusted reports whether cron and date jobs may fire on the wall clock.
func (w *Watcher) Trusted() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.trusted
}

// State is Synced once trusted, Unsynced before.
func (w *Watcher) State() State {
	if w.Trusted() {
		return Synced
	}
	return Unsynced
}

// Reason says why the clock is trusted, or what the Watcher waits for.
func (w *Watcher) Reason() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reason
}

// Synced returns a channel closed once the clock is trusted.
func (w *Watcher) Synced() <-chan struct{} { return w.synced }

// Wait blocks until the clock is trusted (nil) or ctx ends (its error).
func (w *Watcher) Wait(ctx context.Context) error {
	select {
	case <-w.synced:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run asks the probes, PollInterval apart at first and then less often (see
// Options), until the clock is trusted, then returns nil; it returns ctx's
// error if ctx ends first. Run it once, in a goroutine the caller owns.
func (w *Watcher) Run(ctx context.Context) error {
	wait := w.opts.PollInterval
	for !w.Check() {
		select {
		case <-w.opts.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(2*wait, w.opts.MaxPollInterval)
	}
	return nil
}

// Check asks the probes now and reports whether the clock is trusted.
func (w *Watcher) Check() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.trusted {
		return true
	}
	now := w.opts.Now()
	ok, reason := w.decide(now)
	w.reason = reason
	if ok {
		w.trusted = true
		close(w.synced)
		w.log.Info("wall clock trusted", "reason", reason, "now", now.Format(time.RFC3339))
	}
	return ok
}

// decide applies the Source's policy to one round of probes. w.mu is held.
func (w *Watcher) decide(now time.Time) (bool, string) {
	early := !w.opts.NotBefore.IsZero() && now.Before(w.opts.NotBefore)
	var ntp, rtc, no []string
	for _, p := range w.opts.Probes {
		if p.Kind == KindRTC && w.opts.Source != SourceAuto {
			continue
		}
		ok, err := p.Check(now)
		w.noteErr(p.Name, err)
		switch {
		case err != nil:
			no = append(no, p.Name+": "+err.Error())
		case !ok:
			no = append(no, p.Name+": no")
		case p.Kind == KindNTP:
			ntp = append(ntp, p.Name)
		default:
			rtc = append(rtc, p.Name)
		}
	}
	if len(ntp) > 0 {
		if early {
			w.log.Warn("NTP says the clock is synchronized, though it reads earlier than the agent's last persisted time",
				"now", now.Format(time.RFC3339), "not_before", w.opts.NotBefore.Format(time.RFC3339))
		}
		return true, "ntp synchronized (" + strings.Join(ntp, ", ") + ")"
	}
	if early {
		return false, fmt.Sprintf("clock reads %s, earlier than the last persisted time %s: waiting for NTP",
			now.Format(time.RFC3339), w.opts.NotBefore.Format(time.RFC3339))
	}
	if w.opts.Source == SourceRTC {
		return true, "clock.source is rtc"
	}
	if len(rtc) > 0 {
		return true, "battery-backed rtc (" + strings.Join(rtc, ", ") + ")"
	}
	return false, "waiting for NTP (" + strings.Join(no, "; ") + ")"
}

// noteErr logs a probe's error when it first appears or changes, not on
// every poll. w.mu is held.
func (w *Watcher) noteErr(probe string, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if w.errs[probe] == msg {
		return
	}
	w.errs[probe] = msg
	if err != nil {
		w.log.Warn("clock probe failed", "probe", probe, "err", err)
	}
}
