package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/edgecron/edgecron/control"
	"github.com/edgecron/edgecron/httpapi"
	"github.com/edgecron/edgecron/internal/clockstate"
	"github.com/edgecron/edgecron/internal/sdnotify"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/store"
)

func init() {
	register("run", "run the agent (systemd runs this)", (*Main).run)
}

// shutdownGrace bounds how long a stop waits for running jobs.
const shutdownGrace = 20 * time.Second

func (m *Main) run(ctx context.Context, args []string) error {
	f, err := m.parseConfigFlags("run", args)
	if err != nil {
		return err
	}
	// The one validation (check-config runs the same), before anything is
	// created: a refused config leaves no store file behind.
	c, err := f.load()
	if err != nil {
		return err
	}
	log := newLogger(c.Log, m.Stderr)
	a := &agent{cfg: c, flags: f, log: log, reloads: make(chan reloadRequest)}
	return a.run(ctx)
}

func newLogger(lc LogConfig, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(lc.Level))
	o := &slog.HandlerOptions{Level: lvl}
	if lc.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// agent is one run of the agent: everything `edgecron run` wires together.
type agent struct {
	cfg *Config
	// started is the config the agent was started with: the keys a reload
	// does not apply (restartNeeded) are compared with it, not with the
	// last file reloaded.
	started *Config
	flags   configFlags
	log     *slog.Logger
	notify  *sdnotify.Notifier
	store   *store.Store
	sched   *sched.Scheduler
	hs      *handlers
	ctl     *control.Server
	http    *httpapi.Server // nil while http.enabled is off
	clock   *clockstate.Watcher
	ext     extensions
	// reloads carries the control socket's reload requests to the main
	// loop, which runs them as it runs SIGHUP's, one at a time.
	reloads chan reloadRequest
	// hwClock times the outputs' pulses, max_on and broker_lost states;
	// nil is the system clock. Tests set a fake one.
	hwClock sched.Clock
	// unstamped: the stop must leave no validation stamp (stamp.go).
	unstamped bool
}

func (a *agent) run(ctx context.Context) (err error) {
	c, log := a.cfg, a.log
	a.started = c
	if a.notify, err = sdnotify.FromEnv(); err != nil {
		log.Warn("systemd notify socket unusable", "err", err)
	}
	log.Info("starting", "version", version, "device", c.DeviceID, "zone", zoneName(c.location), "config", c.path, "store", c.Store.Path, "board", c.Hardware.Board)

	a.store, err = store.Open(c.Store.Path, store.Options{MaxSize: int(c.Store.MaxSize.N()), Timeout: 5 * time.Second})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: is another agent running on %s?", err, c.Store.Path)
	}
	if errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrNotExist) {
		// Typically an example config tried as a user: /var/lib/edgecron
		// is the service's StateDirectory.
		return fmt.Errorf("%w (store.path: pass --db FILE for a file you can write)", err)
	}
	if err != nil {
		return err
	}
	defer func() {
		if cerr := a.store.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	meta := a.store.Meta()
	if meta.Unclean {
		log.Warn("the previous run did not stop cleanly: run state since its last checkpoint was lost (see docs/durability.md)", "boots", meta.Boots)
	}

	clk := sched.NewSystemClock()
	a.clock, err = clockstate.New(clockstate.Options{Source: clockstate.Source(c.Clock.Source), NotBefore: meta.LastCleanShutdown, Logger: log})
	if err != nil {
		return fmt.Errorf("clock: %w", err)
	}
	cw := a.clock
	boot := sched.Boot{ID: kernelBootID()}
	if boot.ID == "" {
		log.Warn("no kernel boot id (" + bootIDPath + "): boot jobs will not run")
	}
	// Loading the jobs is a burst of allocation. When the stamp vouches for
	// the stored actions, its survivors are nearly all kept: collecting
	// while the heap grows from nothing marks the same jobs again at every
	// doubling (a third of the start-up CPU at 10,000 jobs) and slows the
	// load with its write barriers, so there is no collection until the
	// agent is ready: the usual pace resumes right after it told systemd.
	// The loaded heap is at its goal then (at 10,000 jobs 6 MB against 6
	// MB, GODEBUG=gctrace=1), so restored any sooner, the first collection
	// began while the control socket opened and answered, and its assists
	// slowed both.
	// When every action is validated (a first start, a new binary or
	// config), most of what the handlers' decoding allocates is garbage at
	// once: collections then let the heap reuse its pages instead of
	// touching new ones, each a page fault, and the usual pace holds.
	validated := a.actionsValidated(meta.Stamp, c)
	gcDone := func() {}
	if validated {
		gcDone = startupGC()
	}
	defer gcDone() // on an early return
	a.sched = sched.New(a.store, sched.Options{
		Clock: clk, Location: c.location, Site: c.site(), Boot: boot, Workers: c.Scheduler.Workers, JobDefaults: c.defaults, Limits: c.limits,
		CheckpointInterval: c.Store.CheckpointInterval.D(), MaxWait: livenessWait(a.notify),
		Logger: log, Liveness: a.notify.Alive, Inputs: &a.ext,
		ActionsValidated: validated,
	})
	if err := a.ext.setup(ctx, a); err != nil {
		return err
	}
	defer a.ext.close(a)
	a.hs, err = buildHandlers(c, log, a.ext.handlerDeps(clk))
	if err != nil {
		return err
	}
	defer a.hs.close() // outputs to their shutdown state, after the scheduler stopped
	if err := a.hs.register(a.sched); err != nil {
		return err
	}
	if err := a.sched.Load(ctx); err != nil {
		return err
	}
	damaged, err := a.store.Damaged(ctx) // those the Load just kept aside
	if err != nil {
		return err
	}
	for _, d := range damaged {
		log.Error("store: a damaged record is kept aside; the other jobs run", "job", d.ID, "record", d.Kind, "problem", d.Problem,
			"recover", "stop the agent, run `edgecron db salvage`, re-create the job (docs/durability.md)")
	}
	if err := a.syncJobs(ctx); err != nil {
		return fmt.Errorf("jobs from %s: %w", c.path, err)
	}
	trusted := cw.Trusted()
	a.sched.SetClockTrusted(trusted)
	clockCtx, stopClock := context.WithCancel(ctx)
	clockDone := make(chan struct{})
	go func() { // owned here: ends with clockCtx
		defer close(clockDone)
		if err := cw.Run(clockCtx); err == nil {
			a.sched.SetClockTrusted(true)
			log.Info("wall clock trusted: cron and date jobs fire", "source", c.Clock.Source)
		}
	}()
	defer func() { stopClock(); <-clockDone }()
	if !trusted {
		log.Warn("wall clock not trusted yet: cron and date jobs wait for it, interval jobs run (clock.source rtc or --clock rtc trusts it from the start)", "why", cw.Reason())
	}

	a.ctl, err = control.Listen(c.Control.Socket, a.sched, a, log.With("component", "control"))
	if errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrNotExist) {
		// /run/edgecron is the service's RuntimeDirectory.
		return fmt.Errorf("%w (control.socket: pass --socket PATH for a directory you can write)", err)
	}
	if err != nil {
		return err
	}
	defer a.ctl.Close()
	if err := a.startHTTP(); err != nil {
		return err
	}
	defer a.stopHTTP(context.Background()) // on an early return; a stop closes it before the scheduler
	if err := a.ext.start(ctx, a); err != nil {
		return err
	}
	if err := a.sched.Start(ctx); err != nil {
		return err
	}
	// Take SIGHUP before telling systemd we are ready: a reload sent right
	// after READY=1 must not kill the agent.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	n := a.sched.Len()
	log.Info("running", "jobs", n, "clock", cw.State())
	a.notify.Ready(fmt.Sprintf("running %d jobs", n))
	gcDone()
	for {
		select {
		case <-hup:
			a.reload(ctx)
			continue
		case req := <-a.reloads:
			notes, err := a.reload(ctx)
			req.done <- reloadOutcome{notes, err}
			continue
		case <-ctx.Done():
		}
		break
	}

	log.Info("stopping")
	a.notify.Stopping("stopping")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	a.stopHTTP(sctx)
	if err := a.sched.Shutdown(sctx, true); err != nil {
		log.Error("scheduler shutdown", "err", err)
	}
	a.stamp() // recorded by the store's close, after everything below

	if err := a.ext.stop(a); err != nil {
		log.Info("stopped, with telemetry lost")
		return err
	}
	log.Info("stopped")
	return nil
}

// livenessWait caps the scheduler's timer wait so that its wake-ups feed
// the systemd watchdog in time (see sdnotify.Notifier.Alive).
func livenessWait(n *sdnotify.Notifier) time.Duration {
	w := sched.DefaultMaxWait
	if iv := n.WatchdogInterval(); iv > 0 && iv/2 < w {
		w = iv / 2
	}
	return w
}

// reload re-reads the config file (SIGHUP, `edgecron reload`) and returns
// nil when it was applied (with the changed keys that wait for a
// restart), else why it was rejected; either way the
// outcome is logged and published as an event on MQTT. An invalid file is
// rejected before anything changes (the one validation of check-config
// and run); jobs are synchronised with the file. Sensors and actuators
// are applied first (the sync validates read and actuate jobs against
// them). If a later step rejects the config, what the steps before it
// applied is put back: the running actuators and sensors (ext.restore, so
// that the running jobs keep reading and switching them) and the
// handlers' commands and publish rules. Putting back can fail in part
// (logged); the agent then records no validation stamp at its stop.
func (a *agent) reload(ctx context.Context) (notes []string, err error) {
	a.notify.Reloading("reloading " + a.cfg.path)
	defer a.notify.Ready("reloaded")
	// Whatever the outcome (a rejected reload puts sensors and actuators
	// back), Home Assistant's discovery follows the ones now running.
	defer a.ext.rediscover()
	applying := false
	defer func() {
		if err != nil {
			a.log.Error("reload: config rejected, keeping the running one", "err", err)
			err = reloadError(err)
			if applying {
				// Putting back what was applied may have failed in
				// part (logged): the handlers may accept what no one
				// config file does.
				a.unstamped = true
			}
		}
		a.ext.reloaded(a.cfg.path, reloadProblems(err))
	}()
	c, err := a.flags.load()
	if err != nil {
		return nil, err
	}
	applying = true
	if err := a.ext.reload(ctx, a, c); err != nil {
		return nil, err
	}
	if err := a.hs.update(c); err != nil {
		a.ext.restore(ctx, a)
		return nil, err
	}
	old := a.cfg
	a.cfg = c
	if err := a.syncJobs(ctx); err != nil {
		// Put back what the steps before applied: a rejected reload
		// leaves the running config as it was.
		a.cfg = old
		if err := a.hs.update(old); err != nil {
			a.log.Error("reload: restoring the running config's commands and publish rules", "err", err)
		}
		a.ext.restore(ctx, a)
		return nil, fmt.Errorf("jobs: %w", err)
	}
	// Unchanged and remote jobs are checked against the new sensors,
	// actuators and commands: one that now names something gone is kept,
	// paused and invalid; one whose sensor came back runs again.
	if ids := a.sched.Revalidate(); len(ids) > 0 {
		a.log.Warn("reload: jobs whose validity changed", "jobs", ids)
	}
	a.ext.setGroups(a, c.Groups)
	a.ext.retainHistory()
	a.log.Info("reloaded", "config", c.path, "jobs", len(c.jobs), "sensors", len(c.Sensors))
	if keys := restartNeeded(a.started, c); len(keys) > 0 {
		a.log.Warn("reload: changed keys wait for a restart: restart the agent to apply them", "keys", keys)
		notes = append(notes, fmt.Sprintf("not applied until a restart (systemctl restart edgecron): %s", strings.Join(keys, ", ")))
	}
	return notes, nil
}

// syncJobs makes the scheduler's config jobs the file's jobs plus the read
// jobs of sensors that declare an interval. A file job whose id a job added
// over MQTT or the CLI holds is skipped by the scheduler (remote jobs are
// never dropped) and logged here.
func (a *agent) syncJobs(ctx context.Context) error {
	all := append(append([]sched.Patch(nil), a.cfg.jobs...), a.ext.sensorJobs(a.cfg)...)
	skipped, err := a.sched.SyncConfig(ctx, all)
	if err != nil {
		return err
	}
	for _, err := range skipped {
		a.log.Error("config job skipped", "err", err, "config", a.cfg.path)
	}
	return nil
}

// startupGC pauses the collector (GOGC=off) and returns the function that
// restores the pace set before (GOGC, 100 by default); calling it again
// does nothing. The heap then peaks at what the load allocates: at 10,000
// jobs whose actions need no validation 6 MB, of which 4 MB stay
// (GODEBUG=gctrace=1 of a restart; docs/performance.md). A pace set below 100 (GOGC=50 for a
// tight memory budget, or off) is left alone: whoever set it chose memory
// over CPU; a GOMEMLIMIT still holds, since the runtime collects at its
// limit whatever the pace. The pace is the process's: agents started side
// by side in one process (tests) share one pause, ended when the last of
// them is loaded.
func startupGC() (restore func()) {
	startupPace.Lock()
	defer startupPace.Unlock()
	if startupPace.n == 0 {
		startupPace.prev = debug.SetGCPercent(-1)
		if startupPace.prev >= 0 && startupPace.prev < 100 {
			debug.SetGCPercent(startupPace.prev)
		}
	}
	startupPace.n++
	done := false
	return func() {
		startupPace.Lock()
		defer startupPace.Unlock()
		if done {
			return
		}
		done = true
		if startupPace.n--; startupPace.n == 0 {
			debug.SetGCPercent(startupPace.prev)
		}
	}
}

var startupPace struct {
	sync.Mutex
	n    int // agents loading now
	prev int // the pace before the first of them
}
