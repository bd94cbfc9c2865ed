package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/edgecron/edgecron/control"
	"github.com/edgecron/edgecron/internal/lazyre"
	"github.com/edgecron/edgecron/sched"
	"github.com/edgecron/edgecron/store"
)

func init() {
	register("jobs", "list, inspect, export, import and change jobs (through a running agent, or offline)", (*Main).jobs)
	register("db", "compact or check the store file (offline)", (*Main).db)
}

const jobsUsage = "jobs list|get ID|export|import FILE|pause ID|resume ID|remove ID|run ID [--config FILE] [--db PATH] [--socket PATH] [--json]"

// storeFlags are the flags of the commands that reach the job store.
type storeFlags struct {
	config *string
	db     *string
	socket *string
	json   *bool
	set    map[string]bool
}

func (m *Main) storeFlagSet(name, usage string) (*storeFlags, func([]string) ([]string, error)) {
	fs := m.newFlags(name, usage)
	sf := &storeFlags{
		config: fs.String("config", defaultConfigPath, "config file"),
		db:     fs.String("db", "", "store file (default: the config's store.path)"),
		socket: fs.String("socket", "", "the running agent's control socket (default: the config's control.socket)"),
		json:   fs.Bool("json", false, "list: print the job documents (JSON) instead of the table"),
	}
	return sf, func(args []string) ([]string, error) {
		pos, err := parseFlags(fs, args)
		sf.set = map[string]bool{}
		fs.Visit(func(f *flag.Flag) { sf.set[f.Name] = true })
		return pos, err
	}
}

// load returns the config: the file when it exists or was named; the
// defaults when only --db was given and the default file is absent.
func (sf *storeFlags) load() (*Config, error) {
	var (
		c   *Config
		err error
	)
	ov := Overrides{Store: *sf.db, Socket: *sf.socket}
	if _, serr := os.Stat(*sf.config); !sf.set["config"] && *sf.db != "" && errors.Is(serr, os.ErrNotExist) {
		c, err = ParseConfigWith("(defaults)", []byte("device_id: offline\n"), ov)
	} else {
		c, err = LoadConfigWith(*sf.config, ov)
	}
	return c, err
}

var entryField = lazyre.New(`^\[(\d+)\]\.?(.*)$`)

// byJobID rewrites an import error that names an entry of the array by
// its index ("[3].trigger.hour") to name the job by its id
// (job "pump-morning": trigger.hour); an entry without an id is named by
// its position, counted from 1.
func byJobID(data []byte, err error) error {
	var se *sched.Error
	if !errors.As(err, &se) {
		return err
	}
	m := entryField.FindStringSubmatch(se.Field)
	if m == nil {
		return err
	}
	i, _ := strconv.Atoi(m[1])
	name := fmt.Sprintf("entry %d (no id)", i+1)
	var entries []json.RawMessage
	if json.Unmarshal(data, &entries) == nil && i < len(entries) {
		var doc struct {
			ID any `json:"id"`
		}
		if json.Unmarshal(entries[i], &doc) == nil {
			if id, ok := doc.ID.(string); ok && id != "" {
				name = fmt.Sprintf("job %q", id)
			}
		}
	}
	c := *se
	c.Field = ""
	c.Message = name + ": " + se.Message
	if m[2] != "" {
		c.Message = name + ": " + m[2] + ": " + se.Message
	}
	return &c
}

// socketOf reads control.socket from the config file without validating
// the rest (the file may have become invalid while an agent runs on the
// version it accepted); "" when the file cannot be read.
func (sf *storeFlags) socketOf() string {
	if *sf.socket != "" {
		return *sf.socket
	}
	return socketFromFile(*sf.config)
}

// jobsAPI is what the jobs subcommands use, from a running agent's control
// socket or from the store opened directly.
type jobsAPI interface {
	Get(id string) (sched.Job, error)
	PauseJob(ctx context.Context, id string, o sched.OpOptions) (sched.Job, error)
	ResumeJob(ctx context.Context, id string, o sched.OpOptions) (sched.Job, error)
	Remove(ctx context.Context, id string, o sched.OpOptions) (sched.Job, error)
	RunNow(ctx context.Context, id string, o sched.OpOptions) error
}

type remoteJobs struct{ *control.Client }

type localJobs struct {
	*sched.Scheduler
	path string
}

func (l localJobs) RunNow(context.Context, string, sched.OpOptions) error {
	return fmt.Errorf("run needs the running agent (no agent answers on its control socket; the store %s was opened directly)", l.path)
}

func (m *Main) jobs(ctx context.Context, args []string) error {
	sf, parse := m.storeFlagSet("jobs", jobsUsage)
	pos, err := parse(args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("missing subcommand: %s", jobsUsage)
	}
	sub, rest := pos[0], pos[1:]
	wantArgs := map[string]int{"list": 0, "export": 0, "get": 1, "import": 1, "pause": 1, "resume": 1, "remove": 1, "run": 1}
	n, ok := wantArgs[sub]
	if !ok {
		return usagef("unknown jobs subcommand %q: %s", sub, jobsUsage)
	}
	if len(rest) != n {
		return usagef("jobs %s takes %d argument(s), got %d", sub, n, len(rest))
	}
	c, cerr := sf.load()
	socket := ""
	if c != nil {
		socket = c.Control.Socket
	} else if socket = sf.socketOf(); socket == "" {
		return cerr
	}
	var (
		importData []byte
		importJobs []sched.Patch // decoded here, so a bad file fails before anything is opened
	)
	if sub == "import" {
		if importData, err = m.readArg("@" + rest[0]); err != nil {
			return usageError{err}
		}
		if importJobs, err = sched.DecodeJobs(importData, sched.ModeImport); err != nil {
			return fmt.Errorf("%s: %w", rest[0], byJobID(importData, err))
		}
	}

	// A running agent holds the store: go through its control socket.
	// It runs on the config it accepted, so a file edited since (and
	// not valid) does not stand in the way.
	if cl, err := control.Dial(socket); err == nil {
		return m.jobsDo(ctx, sub, rest, *sf.json, remoteJobs{cl}, func() ([]sched.Job, error) { return cl.ListErr(ctx) },
			func() ([]sched.Job, error) {
				jobs, err := cl.ImportRaw(ctx, importData)
				return jobs, byJobID(importData, err)
			})
	} else if cerr != nil {
		return cerr
	} else if !errors.Is(err, control.ErrNoAgent) {
		return err
	}

	readOnly := sub == "list" || sub == "get" || sub == "export"
	if _, err := os.Stat(c.Store.Path); errors.Is(err, os.ErrNotExist) && readOnly {
		return fmt.Errorf("no store at %s (the agent has not run yet, or --db names another file)", c.Store.Path)
	}
	st, err := store.Open(c.Store.Path, store.Options{ReadOnly: readOnly, Timeout: time.Second, MaxSize: int(c.Store.MaxSize.N())})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("the running agent holds %s, but its control socket %s does not answer: %w", c.Store.Path, c.Control.Socket, err)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	s, closeHandlers, err := offlineScheduler(ctx, c, st)
	if err != nil {
		return err
	}
	defer closeHandlers()
	err = m.jobsDo(ctx, sub, rest, *sf.json, localJobs{s, c.Store.Path}, func() ([]sched.Job, error) { return s.List(), nil },
		func() ([]sched.Job, error) {
			jobs, err := s.Import(ctx, importJobs, sched.OpOptions{Source: sched.SourceCLI})
			return jobs, byJobID(importData, err)
		})
	if serr := s.Shutdown(ctx, false); serr != nil && err == nil && !readOnly {
		err = serr
	}
	return err
}

// offlineScheduler loads the store's jobs into a scheduler that never
// fires, with the config's handlers so that changes are validated exactly
// as the running agent validates them.
func offlineScheduler(ctx context.Context, c *Config, st sched.Store) (*sched.Scheduler, func(), error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	hs, err := buildHandlers(c, log, handlerDeps{offline: true})
	if err != nil {
		return nil, nil, err
	}
	// Inputs too: reading triggers and conditions name sensors and
	// outputs, checked as the running agent and check-config check them.
	s := sched.New(st, sched.Options{Location: c.location, Site: c.site(), JobDefaults: c.defaults, Limits: c.limits,
		Workers: c.Scheduler.Workers, Logger: log, Inputs: hs.inputs})
	if err := hs.register(s); err != nil {
		hs.close()
		return nil, nil, err
	}
	if err := s.Load(ctx); err != nil {
		hs.close()
		return nil, nil, err
	}
	return s, hs.close, nil
}

func (m *Main) jobsDo(ctx context.Context, sub string, rest []string, asJSON bool, api jobsAPI, list func() ([]sched.Job, error), imp func() ([]sched.Job, error)) error {
	o := sched.OpOptions{Source: sched.SourceCLI}
	var (
		j   sched.Job
		err error
	)
	switch sub {
	case "list":
		jobs, err := list()
		if err != nil {
			return err
		}
		if asJSON {
			sortByNextRun(jobs)
			return writeJSON(m.Stdout, jobs)
		}
		return printJobTable(m.Stdout, jobs)
	case "export":
		jobs, err := list()
		if err != nil {
			return err
		}
		sort.Slice(jobs, func(a, b int) bool { return jobs[a].ID < jobs[b].ID })
		return writeJSON(m.Stdout, jobs)
	case "import":
		jobs, err := imp()
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "imported %d job(s)\n", len(jobs))
		return nil
	case "get":
		j, err = api.Get(rest[0])
	case "pause":
		j, err = api.PauseJob(ctx, rest[0], o)
	case "resume":
		j, err = api.ResumeJob(ctx, rest[0], o)
	case "remove":
		j, err = api.Remove(ctx, rest[0], o)
	case "run":
		if err := api.RunNow(ctx, rest[0], o); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "job %s submitted\n", rest[0])
		return nil
	}
	if err != nil {
		return err
	}
	return writeJSON(m.Stdout, j)
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// printJobTable prints jobs as APScheduler's print_jobs does: id, trigger,
// next run, state; by next run time, paused and ended jobs last.
func printJobTable(w io.Writer, jobs []sched.Job) error {
	sortByNextRun(jobs)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTRIGGER\tNEXT RUN\tSTATE")
	for _, j := range jobs {
		next := "-"
		if j.NextRunTime != nil {
			next = sched.FormatTime(*j.NextRunTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", j.ID, triggerSummary(j.Trigger), next, jobState(j))
	}
	if len(jobs) == 0 {
		fmt.Fprintln(tw, "(no jobs)")
	}
	return tw.Flush()
}

// sortByNextRun orders jobs as the table shows them: by next run time,
// paused and ended jobs last, ties by id.
func sortByNextRun(jobs []sched.Job) {
	sort.SliceStable(jobs, func(a, b int) bool {
		na, nb := jobs[a].NextRunTime, jobs[b].NextRunTime
		switch {
		case na == nil && nb == nil:
			return jobs[a].ID < jobs[b].ID
		case na == nil || nb == nil:
			return nb == nil
		case !na.Equal(*nb):
			return na.Before(*nb)
		}
		return jobs[a].ID < jobs[b].ID
	})
}

func jobState(j sched.Job) string {
	switch {
	case strings.HasPrefix(j.LastResult, "invalid:"):
		return j.LastResult
	case j.Paused:
		return "paused"
	case j.Trigger.Type == sched.TriggerReading:
		return "on readings" // no fire times: docs/automations.md
	case j.Trigger.Type == sched.TriggerBoot && j.NextRunTime == nil:
		return "next boot" // ran in this boot: docs/triggers.md#boot
	case j.NextRunTime == nil:
		return "ended"
	}
	return "scheduled"
}

// triggerSummary writes a trigger the way APScheduler prints one:
// cron[day_of_week='mon-fri', hour='6'], interval[0:01:30], date[...].
func triggerSummary(t sched.TriggerSpec) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, fmt.Sprintf("%s='%s'", k, v))
		}
	}
	switch t.Type {
	case "cron":
		if t.Expr != "" {
			add("expr", t.Expr)
		}
		add("year", string(t.Year))
		add("month", string(t.Month))
		add("day", string(t.Day))
		add("week", string(t.Week))
		add("day_of_week", string(t.DayOfWeek))
		add("hour", string(t.Hour))
		add("minute", string(t.Minute))
		add("second", string(t.Second))
	case "interval":
		d := time.Duration((t.Weeks*7*86400 + t.Days*86400 + t.Hours*3600 + t.Minutes*60 + t.Seconds) * float64(time.Second))
		parts = append(parts, d.String())
	case "date":
		parts = append(parts, t.RunDate)
	case "calendarinterval":
		for _, u := range []struct {
			name string
			v    float64
		}{{"years", t.Years}, {"months", t.Months}, {"weeks", t.Weeks}, {"days", t.Days}} {
			if u.v != 0 {
				parts = append(parts, fmt.Sprintf("%s=%g", u.name, u.v))
			}
		}
		add("hour", string(t.Hour))
		add("minute", string(t.Minute))
		add("second", string(t.Second))
	case "and", "or":
		for _, m := range t.Triggers.Specs() {
			parts = append(parts, triggerSummary(m))
		}
	case "solar":
		add("event", t.Event)
		add("twilight", t.Twilight)
		add("offset", t.Offset)
		add("day_of_week", string(t.DayOfWeek))
		add("latitude", t.Latitude)
		add("longitude", t.Longitude)
	case "boot":
		add("delay", t.Delay)
	case "reading":
		for _, f := range []struct{ k, v string }{{"sensor", t.Sensor}, {"value", t.Value}, {"above", t.Above}, {"below", t.Below},
			{"hysteresis", t.Hysteresis}, {"change", t.Change}, {"edge", t.Edge}, {"level", t.Level}, {"for", t.For}, {"cooldown", t.Cooldown}} {
			add(f.k, f.v)
		}
	}
	if t.Timezone != "" {
		add("timezone", t.Timezone)
	}
	return t.Type + "[" + strings.Join(parts, ", ") + "]"
}

// dbUsage also tells how to recover a damaged store (docs/durability.md).
const dbUsage = `db check|compact|salvage [--config FILE] [--db PATH]   (the agent stopped)

  check    report the file: every page, the meta data, every job record
  compact  rewrite the file without its free pages
  salvage  take the damaged job records out (printed as JSON, raw record in
           base64) so that the file checks ok; re-create those jobs after

A damaged store: a job whose record is damaged is kept aside at start (the
others run; the log names it): run salvage. A file whose structure is
damaged (truncated, empty, unreadable pages) is refused untouched: keep a
copy, restore a backup or move the file away (the config file's jobs come
back at the next start).`

func (m *Main) db(ctx context.Context, args []string) error {
	sf, parse := m.storeFlagSet("db", dbUsage)
	pos, err := parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "compact" && pos[0] != "check" && pos[0] != "salvage") {
		return usagef("usage: %s", dbUsage)
	}
	c, err := sf.load()
	if err != nil {
		return err
	}
	opts := store.Options{Timeout: time.Second, MaxSize: int(c.Store.MaxSize.N())}
	if _, err := os.Stat(c.Store.Path); err != nil {
		return fmt.Errorf("store %s: %w", c.Store.Path, err)
	}
	if pos[0] == "check" {
		opts.ReadOnly = true
		rep, err := store.Check(c.Store.Path, opts)
		if rep != nil {
			fmt.Fprintln(m.Stdout, rep)
		}
		return lockedHint(c, err)
	}
	if pos[0] == "salvage" {
		got, err := store.Salvage(c.Store.Path, opts)
		if err != nil {
			return lockedHint(c, err)
		}
		if got == nil {
			got = []store.Damaged{}
		}
		if err := writeJSON(m.Stdout, got); err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "%s: %d damaged record(s) taken out; keep the output above to re-create those jobs\n", c.Store.Path, len(got))
		return nil
	}
	res, err := store.CompactFile(c.Store.Path, opts)
	if err != nil {
		return lockedHint(c, err)
	}
	fmt.Fprintf(m.Stdout, "%s: compacted from %d to %d bytes\n", c.Store.Path, res.Before, res.After)
	return nil
}

func lockedHint(c *Config, err error) error {
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: stop the agent first (systemctl stop edgecron); db %s works offline only", err, c.Store.Path)
	}
	return err
}
