package schedtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// RunStoreTests is the conformance suite of sched.Store. open must return a
// new, empty store for each call (for example on a file in t.TempDir()) and
// arrange its closing with t.Cleanup.
//
// What it holds a store to:
//   - Commit is all or nothing: one failing change leaves every other change
//     of the commit unapplied.
//   - PrevVersion: 0 means the job must be absent, a positive value must equal
//     the stored version, a negative value skips the check; a mismatch is an
//     error matching sched.ErrVersionConflict. Changes of one commit are
//     checked in order, each against the state the earlier ones left.
//   - Put replaces the whole job (a field absent from the new job is absent
//     after it); Delete removes; deleting an absent job with PrevVersion -1
//     succeeds.
//   - Load hands over every job, in order of id, and stops at its
//     function's first error, returning it.
//   - Load returns every job with every field as it was put: times compare
//     Equal (their zone may change, not their instant; nanoseconds kept),
//     MisfireGraceTime keeps nil apart from zero, Action keeps its type and
//     its JSON value (whitespace, escaping and key order aside), TriggerSpec
//     keeps every field.
//   - SaveRunState changes only NextRunTime, LastRunTime and LastResult of
//     jobs that exist, clears a nil time, and ignores jobs that do not exist.
//   - What a caller does with a job after Commit or Load does not reach the
//     store.
//   - A receipt change stores its receipt (every field, replacing one of the
//     same request id) and deletes those in Forget, in the same all-or-nothing
//     transaction as the job changes beside it; LoadReceipts returns them.
//     A receipt change with job fields or a malformed request id fails the
//     whole commit.
func RunStoreTests(t *testing.T, open func(t *testing.T) sched.Store) {
	t.Helper()
	tests := []struct {
		name string
		f    func(t *testing.T, s sched.Store)
	}{
		{"Empty", testEmpty},
		{"RoundTripEveryField", testRoundTrip},
		{"PutReplaces", testPutReplaces},
		{"Delete", testDelete},
		{"PrevVersion", testPrevVersion},
		{"CommitAtomic", testCommitAtomic},
		{"CommitInOrder", testCommitInOrder},
		{"SaveRunState", testSaveRunState},
		{"NoAliasing", testNoAliasing},
		{"ManyJobs", testManyJobs},
		{"Receipts", testReceipts},
		{"ReceiptAtomic", testReceiptAtomic},
		{"ReceiptRefused", testReceiptRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.f(t, open(t))
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func dur(d time.Duration) *time.Duration { return &d }
func tp(t time.Time) *time.Time          { return &t }

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load location %s: %v", name, err)
	}
	return loc
}

func action(t *testing.T, raw string) sched.Action {
	t.Helper()
	var a sched.Action
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		t.Fatalf("action %s: %v", raw, err)
	}
	return a
}

// sampleJobs returns jobs that between them set every field of sched.Job to
// a non-zero value, and leave each optional one nil, with a trigger of every
// type, and one trigger with every field of sched.TriggerSpec set.
func sampleJobs(t *testing.T) []sched.Job {
	berlin := mustLoc(t, "Europe/Berlin")
	lordHowe := mustLoc(t, "Australia/Lord_Howe")
	return []sched.Job{
		{
			ID:   "pump-morning",
			Name: "Water the beds — Gewächshaus ☀",
			Trigger: sched.TriggerSpec{Type: "cron", Year: "2026-2030", Month: "jan-mar,nov", Day: "last fri",
				Week: "*/2", DayOfWeek: "mon-fri", Hour: "6", Minute: "30", Second: "0",
				StartDate: "2026-01-01", EndDate: "2030-12-31 23:59:59", Jitter: 2.5, Timezone: "Europe/Berlin"},
			Action:           action(t, `{"type":"actuate","actuator":"pump","command":"pulse","duration":"30s","nested":{"a":[1,2.5,"x",null,true]}}`),
			MisfireGraceTime: dur(300 * time.Second),
			Coalesce:         true,
			MaxInstances:     3,
			Paused:           true,
			Remote:           true,
			Version:          7,
			NextRunTime:      tp(time.Date(2026, 11, 23, 6, 30, 0, 0, berlin)),
			LastRunTime:      tp(time.Date(2026, 11, 20, 6, 30, 0, 123456789, berlin)),
			LastResult:       "invalid: actuator \"pump\" is not configured",
			Source:           sched.SourceConfig,
		},
		{
			ID:               "A.b_c-9",
			Trigger:          sched.TriggerSpec{Type: "interval", Weeks: 1, Days: 2, Hours: 3, Minutes: 4, Seconds: 5.25, StartDate: "2026-11-21T09:00:00.5+10:30", EndDate: "2027-01-01", Jitter: 1, Timezone: "Australia/Lord_Howe"},
			Action:           sched.Action{Type: "read", Raw: []byte(`{"type":"read","sensor":"air"}`)},
			MisfireGraceTime: dur(0),
			MaxInstances:     1,
			Version:          1,
			NextRunTime:      tp(time.Date(2026, 11, 21, 9, 0, 0, 500_000_000, lordHowe)),
			Source:           sched.SourceMQTT,
		},
		{
			ID:               "once",
			Trigger:          sched.TriggerSpec{Type: "date", RunDate: "2026-12-24 18:00:00"},
			Action:           action(t, `{"type":"exec","command":"backup","args":["--full"]}`),
			MisfireGraceTime: dur(1500 * time.Millisecond),
			Version:          1 << 40,
			LastRunTime:      tp(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)),
			LastResult:       "ok",
			Source:           sched.SourceCLI,
		},
		{
			ID:      "crontab",
			Trigger: sched.TriggerSpec{Type: "cron", Expr: "30 6 * * 1-5"},
			Action:  action(t, `{"type":"publish","topic":"home/x/set","payload":"{\"on\":true}","qos":1,"retain":false}`),
			Version: 2,
			Source:  sched.SourceMQTT,
		},
		{
			ID: "monthly",
			Trigger: sched.TriggerSpec{Type: "calendarinterval", Years: 1, Months: 2, Weeks: 3, Days: 4, Hour: "5", Minute: "6", Second: "7",
				StartDate: "2026-01-31", EndDate: "2030-01-01", Jitter: 2, Timezone: "Europe/Berlin"},
			Action: sched.Action{Type: "read", Raw: []byte(`{"type":"read","sensor":"air"}`)}, MaxInstances: 1, Version: 1, Source: sched.SourceMQTT,
		},
		{
			ID: "combined",
			Trigger: sched.TriggerSpec{Type: "or", Jitter: 5, Timezone: "UTC", Triggers: sched.NewMembers(
				sched.TriggerSpec{Type: "and", Triggers: sched.NewMembers(
					sched.TriggerSpec{Type: "cron", DayOfWeek: "mon-fri", Hour: "6"},
					sched.TriggerSpec{Type: "calendarinterval", Weeks: 2, Hour: "6", StartDate: "2026-06-08"})},
				sched.TriggerSpec{Type: "date", RunDate: "2027-01-01 00:00:00"})},
			Action: sched.Action{Type: "read", Raw: []byte(`{"type":"read","sensor":"air"}`)}, MaxInstances: 1, Version: 1, Source: sched.SourceMQTT,
		},
		{
			ID: "dusk",
			Trigger: sched.TriggerSpec{Type: "solar", Event: "dusk", Twilight: "nautical", Offset: "-30m", DayOfWeek: "mon-fri",
				Latitude: "52.52", Longitude: "-0.0", StartDate: "2026-04-01", Jitter: 30},
			Action: sched.Action{Type: "read", Raw: []byte(`{"type":"read","sensor":"air"}`)}, MaxInstances: 1, Version: 1, Source: sched.SourceMQTT,
		},
		{
			ID:      "at-boot",
			Trigger: sched.TriggerSpec{Type: "boot", Delay: "90s", LastBootID: "5d2c8e1e-1c1f-4e0a-9a43-0c0d5d0e2f11"},
			Action:  sched.Action{Type: "read", Raw: []byte(`{"type":"read","sensor":"air"}`)}, MaxInstances: 1, Version: 1, Source: sched.SourceConfig,
		},
		{
			ID:      "every-trigger-field",
			Trigger: everyTriggerField(),
			Action:  sched.Action{Type: "read", Raw: []byte(`{"type":"read","sensor":"air"}`)}, MaxInstances: 1, Version: 1, Source: sched.SourceMQTT,
		},
	}
}

// everyTriggerField returns a TriggerSpec with every field set, found by
// reflection, so a field added to TriggerSpec that a store forgets to keep
// fails the suite. It is no valid trigger: a store keeps specs as given.
func everyTriggerField() sched.TriggerSpec {
	var s sched.TriggerSpec
	v := reflect.ValueOf(&s).Elem()
	for i := 0; i < v.NumField(); i++ {
		switch f := v.Field(i); {
		case f.Kind() == reflect.String:
			f.SetString(fmt.Sprintf("v%d", i))
		case f.Kind() == reflect.Float64:
			f.SetFloat(float64(i) + 0.25)
		case f.Type() == reflect.TypeOf(sched.Members{}):
			f.Set(reflect.ValueOf(sched.NewMembers(sched.TriggerSpec{Type: "cron", Hour: "6"}, sched.TriggerSpec{Type: "date", RunDate: "x"})))
		default:
			panic("schedtest: TriggerSpec field " + v.Type().Field(i).Name + " of a kind the suite does not know: teach everyTriggerField")
		}
	}
	return s
}

// JobDiff describes how got differs from want, or returns "" when they are
// the same job by the rules of RunStoreTests.
func JobDiff(want, got sched.Job) string {
	var d []string
	add := func(field string, w, g any) { d = append(d, fmt.Sprintf("%s: got %v, want %v", field, g, w)) }
	if want.ID != got.ID {
		add("ID", want.ID, got.ID)
	}
	if want.Name != got.Name {
		add("Name", want.Name, got.Name)
	}
	if want.Trigger != got.Trigger {
		add("Trigger", fmt.Sprintf("%+v", want.Trigger), fmt.Sprintf("%+v", got.Trigger))
	}
	if len(want.Conditions) != len(got.Conditions) || fmt.Sprint(want.Conditions) != fmt.Sprint(got.Conditions) {
		add("Conditions", want.Conditions, got.Conditions)
	}
	if want.Action.Type != got.Action.Type {
		add("Action.Type", want.Action.Type, got.Action.Type)
	}
	if !sameJSON(want.Action.Raw, got.Action.Raw) {
		add("Action.Raw", string(want.Action.Raw), string(got.Action.Raw))
	}
	switch {
	case (want.MisfireGraceTime == nil) != (got.MisfireGraceTime == nil):
		add("MisfireGraceTime", durString(want.MisfireGraceTime), durString(got.MisfireGraceTime))
	case want.MisfireGraceTime != nil && *want.MisfireGraceTime != *got.MisfireGraceTime:
		add("MisfireGraceTime", durString(want.MisfireGraceTime), durString(got.MisfireGraceTime))
	}
	if want.Coalesce != got.Coalesce {
		add("Coalesce", want.Coalesce, got.Coalesce)
	}
	if want.MaxInstances != got.MaxInstances {
		add("MaxInstances", want.MaxInstances, got.MaxInstances)
	}
	if want.Paused != got.Paused {
		add("Paused", want.Paused, got.Paused)
	}
	if want.Remote != got.Remote {
		add("Remote", want.Remote, got.Remote)
	}
	if want.Version != got.Version {
		add("Version", want.Version, got.Version)
	}
	if !timeEqual(want.NextRunTime, got.NextRunTime) {
		add("NextRunTime", timeString(want.NextRunTime), timeString(got.NextRunTime))
	}
	if !timeEqual(want.LastRunTime, got.LastRunTime) {
		add("LastRunTime", timeString(want.LastRunTime), timeString(got.LastRunTime))
	}
	if want.LastResult != got.LastResult {
		add("LastResult", want.LastResult, got.LastResult)
	}
	if want.Source != got.Source {
		add("Source", want.Source, got.Source)
	}
	if len(d) == 0 {
		return ""
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "job %q:", want.ID)
	for _, s := range d {
		b.WriteString("\n\t" + s)
	}
	return b.String()
}

// sameJSON reports whether a and b hold the same JSON value: whitespace,
// escaping and the order of object keys aside; numbers compare by their text.
func sameJSON(a, b []byte) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	va, erra := decodeAny(a)
	vb, errb := decodeAny(b)
	if erra != nil || errb != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

func decodeAny(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func durString(d *time.Duration) string {
	if d == nil {
		return "nil"
	}
	return d.String()
}

func timeEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func timeString(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return t.Format(time.RFC3339Nano)
}

func load(t *testing.T, s sched.Store) map[string]sched.Job {
	t.Helper()
	jobs, err := LoadAll(ctxT(t), s)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	m := make(map[string]sched.Job, len(jobs))
	for i, j := range jobs {
		if _, dup := m[j.ID]; dup {
			t.Fatalf("Load returned job %q twice", j.ID)
		}
		if i > 0 && jobs[i-1].ID > j.ID {
			t.Fatalf("Load handed over job %q after %q: not in order of id", j.ID, jobs[i-1].ID)
		}
		m[j.ID] = j
	}
	return m
}

// wantJobs checks that the store holds exactly want.
func wantJobs(t *testing.T, s sched.Store, want ...sched.Job) {
	t.Helper()
	got := load(t, s)
	for _, w := range want {
		g, ok := got[w.ID]
		if !ok {
			t.Errorf("job %q missing after Load", w.ID)
			continue
		}
		if d := JobDiff(w, g); d != "" {
			t.Error(d)
		}
		delete(got, w.ID)
	}
	var extra []string
	for id := range got {
		extra = append(extra, id)
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("Load returned jobs never put or already deleted: %q", extra)
	}
}

func put(j sched.Job, prev int64) sched.Change {
	return sched.Change{ID: j.ID, Job: j, PrevVersion: prev}
}
func del(id string, prev int64) sched.Change {
	return sched.Change{Delete: true, ID: id, PrevVersion: prev}
}

func commit(t *testing.T, s sched.Store, cs ...sched.Change) {
	t.Helper()
	if err := s.Commit(ctxT(t), cs); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func commitConflict(t *testing.T, s sched.Store, what string, cs ...sched.Change) {
	t.Helper()
	err := s.Commit(ctxT(t), cs)
	if err == nil {
		t.Fatalf("%s: Commit succeeded, want a version conflict", what)
	}
	if !errors.Is(err, sched.ErrVersionConflict) {
		t.Fatalf("%s: Commit error %v (code %s) does not match sched.ErrVersionConflict", what, err, sched.ErrorCode(err))
	}
}

func simple(id string, version int64) sched.Job {
	return sched.Job{
		ID:      id,
		Trigger: sched.TriggerSpec{Type: "interval", Seconds: 10, StartDate: "2026-11-21T09:00:00Z"},
		Action:  sched.Action{Type: "read", Raw: []byte(`{"type":"read","sensor":"air"}`)},
		Version: version, MaxInstances: 1, Source: sched.SourceMQTT,
	}
}

func testEmpty(t *testing.T, s sched.Store) {
	wantJobs(t, s)
	commit(t, s) // an empty commit is fine
	if err := s.SaveRunState(ctxT(t), nil); err != nil {
		t.Fatalf("SaveRunState(nil): %v", err)
	}
	wantJobs(t, s)
}

func testRoundTrip(t *testing.T, s sched.Store) {
	jobs := sampleJobs(t)
	var cs []sched.Change
	for _, j := range jobs {
		cs = append(cs, put(j, 0))
	}
	commit(t, s, cs...)
	wantJobs(t, s, jobs...)
	// Round trip again: what Load returned must store back unchanged.
	loaded := load(t, s)
	cs = cs[:0]
	for _, j := range jobs {
		l := loaded[j.ID]
		cs = append(cs, put(l, l.Version))
	}
	commit(t, s, cs...)
	wantJobs(t, s, jobs...)
}

func testPutReplaces(t *testing.T, s sched.Store) {
	j := sampleJobs(t)[0]
	commit(t, s, put(j, 0))
	// A replacement with fewer fields: nothing of the old one survives.
	r := sched.Job{
		ID:      j.ID,
		Trigger: sched.TriggerSpec{Type: "date", RunDate: "2027-01-01T00:00:00Z"},
		Action:  sched.Action{Type: "read", Raw: []byte(`{"type":"read","sensor":"soil"}`)},
		Version: j.Version + 1,
		Source:  sched.SourceMQTT,
	}
	commit(t, s, put(r, j.Version))
	wantJobs(t, s, r)
	// Skipping the check (-1) replaces whatever is there.
	r2 := simple(j.ID, 1)
	commit(t, s, put(r2, -1))
	wantJobs(t, s, r2)
}

func testDelete(t *testing.T, s sched.Store) {
	a, b := simple("a", 1), simple("b", 4)
	commit(t, s, put(a, 0), put(b, 0))
	commit(t, s, del("a", 1))
	wantJobs(t, s, b)
	commit(t, s, del("b", -1))
	wantJobs(t, s)
	commit(t, s, del("never-there", -1))
	wantJobs(t, s)
	// A deleted id can be added again as new.
	commit(t, s, put(a, 0))
	wantJobs(t, s, a)
}

func testPrevVersion(t *testing.T, s sched.Store) {
	a := simple("a", 3)
	commit(t, s, put(a, 0))
	commitConflict(t, s, "put with PrevVersion 0 over an existing job", put(simple("a", 1), 0))
	commitConflict(t, s, "put with a stale PrevVersion", put(simple("a", 4), 2))
	commitConflict(t, s, "put with a future PrevVersion", put(simple("a", 4), 4))
	commitConflict(t, s, "put with PrevVersion on an absent job", put(simple("b", 2), 1))
	commitConflict(t, s, "delete with a stale PrevVersion", del("a", 2))
	commitConflict(t, s, "delete with PrevVersion 0 of an existing job", del("a", 0))
	commitConflict(t, s, "delete with PrevVersion of an absent job", del("b", 1))
	wantJobs(t, s, a)

	a4 := simple("a", 4)
	a4.Name = "now at 4"
	commit(t, s, put(a4, 3))
	wantJobs(t, s, a4)
	a5 := simple("a", 5)
	commit(t, s, put(a5, -1))
	wantJobs(t, s, a5)
	commit(t, s, put(simple("b", 1), -1)) // -1 also creates
	wantJobs(t, s, a5, simple("b", 1))
}

func testCommitAtomic(t *testing.T, s sched.Store) {
	a, b := simple("a", 1), simple("b", 1)
	commit(t, s, put(a, 0), put(b, 0))

	a2 := simple("a", 2)
	a2.Name = "changed"
	c := simple("c", 1)
	// The failing change first, last and in the middle: nothing applies.
	for _, cs := range [][]sched.Change{
		{put(simple("b", 2), 7), put(a2, 1), put(c, 0), del("b", 1)},
		{put(a2, 1), put(c, 0), del("b", 1), put(simple("a", 9), 0)},
		{put(a2, 1), del("zzz", 3), put(c, 0)},
		{del("a", 1), put(c, 0), put(simple("c", 2), 0)}, // c was put within this commit
	} {
		commitConflict(t, s, "commit with one stale change", cs...)
		wantJobs(t, s, a, b)
	}
	// The same changes without the bad one all apply.
	commit(t, s, put(a2, 1), put(c, 0), del("b", 1))
	wantJobs(t, s, a2, c)
}

func testCommitInOrder(t *testing.T, s sched.Store) {
	a1, a2 := simple("a", 1), simple("a", 2)
	a2.Name = "second"
	// Add then modify in one commit: the second change sees the first.
	commit(t, s, put(a1, 0), put(a2, 1))
	wantJobs(t, s, a2)
	// Delete then add again in one commit.
	a3 := simple("a", 1)
	a3.Name = "re-added"
	commit(t, s, del("a", 2), put(a3, 0))
	wantJobs(t, s, a3)
	// Put then delete in one commit leaves nothing.
	commit(t, s, put(simple("b", 1), 0), del("b", 1))
	wantJobs(t, s, a3)
}

func testSaveRunState(t *testing.T, s sched.Store) {
	berlin := mustLoc(t, "Europe/Berlin")
	jobs := sampleJobs(t)
	var cs []sched.Change
	for _, j := range jobs {
		cs = append(cs, put(j, 0))
	}
	commit(t, s, cs...)

	next := time.Date(2026, 11, 24, 6, 30, 0, 0, berlin)
	last := time.Date(2026, 11, 23, 6, 30, 1, 987654321, berlin)
	states := []sched.RunState{
		{ID: jobs[0].ID, NextRunTime: &next, LastRunTime: &last, LastResult: "ok"},
		{ID: jobs[1].ID, NextRunTime: nil, LastRunTime: &last, LastResult: "error: exit status 3"},
		{ID: "vanished", NextRunTime: &next, LastRunTime: &last, LastResult: "ok"},
		{ID: jobs[2].ID, NextRunTime: nil, LastRunTime: nil, LastResult: ""},
	}
	if err := s.SaveRunState(ctxT(t), states); err != nil {
		t.Fatalf("SaveRunState: %v", err)
	}
	want := append([]sched.Job(nil), jobs...)
	want[0].NextRunTime, want[0].LastRunTime, want[0].LastResult = &next, &last, "ok"
	want[1].NextRunTime, want[1].LastRunTime, want[1].LastResult = nil, &last, "error: exit status 3"
	want[2].NextRunTime, want[2].LastRunTime, want[2].LastResult = nil, nil, ""
	wantJobs(t, s, want...) // no job "vanished" appeared; versions untouched

	// Run state for a job deleted since is ignored, not an error.
	commit(t, s, del(jobs[3].ID, jobs[3].Version))
	if err := s.SaveRunState(ctxT(t), []sched.RunState{{ID: jobs[3].ID, NextRunTime: &next, LastResult: "ok"}}); err != nil {
		t.Fatalf("SaveRunState of a deleted job: %v", err)
	}
	rest := want[4:] // the jobs after the deleted one
	wantJobs(t, s, append(want[:3:3], rest...)...)

	// A later Put carries its own run state, replacing the saved one.
	j0 := want[0]
	j0.Version++
	j0.NextRunTime, j0.LastRunTime, j0.LastResult = nil, nil, ""
	commit(t, s, put(j0, want[0].Version))
	wantJobs(t, s, append([]sched.Job{j0, want[1], want[2]}, rest...)...)
}

func testNoAliasing(t *testing.T, s sched.Store) {
	j := sampleJobs(t)[0]
	orig := CopyJob(j)
	commit(t, s, put(j, 0))
	// The caller keeps using its job after Commit.
	*j.MisfireGraceTime = time.Hour
	*j.NextRunTime = j.NextRunTime.Add(time.Hour)
	*j.LastRunTime = j.LastRunTime.Add(time.Hour)
	for i := range j.Action.Raw {
		if j.Action.Raw[i] == 'p' {
			j.Action.Raw[i] = 'q'
		}
	}
	wantJobs(t, s, orig)
	// ...and changes what Load returned.
	l := load(t, s)[orig.ID]
	*l.MisfireGraceTime = time.Minute
	*l.NextRunTime = time.Time{}
	if len(l.Action.Raw) > 0 {
		l.Action.Raw[len(l.Action.Raw)-1] = ' '
	}
	wantJobs(t, s, orig)
	// Run state given to SaveRunState is not kept by reference either.
	next := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.SaveRunState(ctxT(t), []sched.RunState{{ID: orig.ID, NextRunTime: &next, LastRunTime: orig.LastRunTime, LastResult: orig.LastResult}}); err != nil {
		t.Fatalf("SaveRunState: %v", err)
	}
	want := CopyJob(orig)
	want.NextRunTime = tp(next)
	next = next.Add(time.Hour)
	wantJobs(t, s, want)
}

func testManyJobs(t *testing.T, s sched.Store) {
	const n = 2000
	base := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	jobs := make([]sched.Job, n)
	cs := make([]sched.Change, n)
	for i := range jobs {
		j := simple(fmt.Sprintf("job-%04d", i), int64(i%5+1))
		j.Name = fmt.Sprintf("job number %d", i)
		j.NextRunTime = tp(base.Add(time.Duration(i) * time.Second))
		if i%3 == 0 {
			j.MisfireGraceTime = dur(time.Duration(i) * time.Second)
		}
		jobs[i], cs[i] = j, put(j, 0)
	}
	commit(t, s, cs...)
	wantJobs(t, s, jobs...)

	// Load stops at fn's first error.
	stop := errors.New("enough")
	var seen int
	if err := s.Load(ctxT(t), func(*sched.Job) error { seen++; return stop }); !errors.Is(err, stop) || seen != 1 {
		t.Fatalf("Load with a function failing at once: %d jobs handed over, %v; want 1, %v", seen, err, stop)
	}

	// Run state for all of them in one call.
	states := make([]sched.RunState, n)
	for i := range jobs {
		last := *jobs[i].NextRunTime
		next := last.Add(time.Minute)
		states[i] = sched.RunState{ID: jobs[i].ID, NextRunTime: &next, LastRunTime: &last, LastResult: "ok"}
		jobs[i].LastRunTime, jobs[i].NextRunTime, jobs[i].LastResult = &last, &next, "ok"
	}
	if err := s.SaveRunState(ctxT(t), states); err != nil {
		t.Fatalf("SaveRunState: %v", err)
	}
	wantJobs(t, s, jobs...)

	// Delete every other one in one commit.
	cs = cs[:0]
	var kept []sched.Job
	for i, j := range jobs {
		if i%2 == 0 {
			cs = append(cs, del(j.ID, j.Version))
		} else {
			kept = append(kept, j)
		}
	}
	commit(t, s, cs...)
	wantJobs(t, s, kept...)
}

func receipt(id, job string, version int64, at time.Time) *sched.Receipt {
	return &sched.Receipt{RequestID: id, At: at, Kind: string(sched.EventModified), JobID: job, Version: version}
}

func wantReceipts(t *testing.T, s sched.Store, want ...*sched.Receipt) {
	t.Helper()
	got, err := s.LoadReceipts(ctxT(t))
	if err != nil {
		t.Fatalf("LoadReceipts: %v", err)
	}
	byID := map[string]sched.Receipt{}
	for _, r := range got {
		byID[r.RequestID] = r
	}
	if len(byID) != len(got) || len(got) != len(want) {
		t.Fatalf("LoadReceipts = %+v, want %d receipts", got, len(want))
	}
	for _, w := range want {
		g, ok := byID[w.RequestID]
		if !ok || !g.At.Equal(w.At) || g.Kind != w.Kind || g.JobID != w.JobID || g.Version != w.Version {
			t.Errorf("receipt %q = %+v (present %v), want %+v", w.RequestID, g, ok, *w)
		}
	}
}

func testReceipts(t *testing.T, s sched.Store) {
	at := time.Date(2026, 11, 21, 9, 0, 0, 123456789, time.UTC)
	wantReceipts(t, s)
	// Beside a job change, alone (a run), with a long UTF-8 id, and every kind.
	r1 := receipt("req-1", "a", 1, at)
	r1.Kind = string(sched.EventAdded)
	commit(t, s, put(simple("a", 1), 0), sched.Change{Receipt: r1})
	run := &sched.Receipt{RequestID: "réq-" + strings.Repeat("x", sched.MaxRequestID-5), At: at.Add(time.Second),
		Kind: string(sched.EventSubmitted), JobID: "a", Version: 1}
	commit(t, s, sched.Change{Receipt: run})
	rm := &sched.Receipt{RequestID: "req-3", At: at.Add(2 * time.Second), Kind: string(sched.EventRemoved), JobID: "a", Version: 1}
	commit(t, s, del("a", 1), sched.Change{Receipt: rm})
	wantJobs(t, s)
	wantReceipts(t, s, r1, run, rm)
	// Forget deletes (an absent id is ignored); a new receipt replaces one of the same id.
	r1b := receipt("req-1", "b", 7, at.Add(time.Hour))
	commit(t, s, sched.Change{Receipt: r1b, Forget: []string{"req-3", "never-stored"}})
	wantReceipts(t, s, r1b, run)
	commit(t, s, sched.Change{Forget: []string{run.RequestID}})
	wantReceipts(t, s, r1b)
}

func testReceiptAtomic(t *testing.T, s sched.Store) {
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	old := receipt("old", "a", 1, at)
	commit(t, s, put(simple("a", 1), 0), sched.Change{Receipt: old})
	// The job change fails: neither the new receipt nor the forgetting of
	// the old one happens.
	commitConflict(t, s, "receipt beside a stale change",
		sched.Change{Receipt: receipt("new", "a", 2, at), Forget: []string{"old"}}, put(simple("a", 2), 5))
	wantReceipts(t, s, old)
	wantJobs(t, s, simple("a", 1))
	commit(t, s, put(simple("a", 2), 1), sched.Change{Receipt: receipt("new", "a", 2, at), Forget: []string{"old"}})
	wantReceipts(t, s, receipt("new", "a", 2, at))
}

func testReceiptRefused(t *testing.T, s sched.Store) {
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	for name, c := range map[string]sched.Change{
		"job id too":  {ID: "a", Receipt: receipt("r", "a", 1, at)},
		"delete too":  {Delete: true, Receipt: receipt("r", "a", 1, at)},
		"empty id":    {Receipt: receipt("", "a", 1, at)},
		"long id":     {Receipt: receipt(strings.Repeat("x", sched.MaxRequestID+1), "a", 1, at)},
		"invalid id":  {Receipt: receipt("a\xff", "a", 1, at)},
		"forget + id": {ID: "a", Forget: []string{"x"}},
	} {
		if err := s.Commit(ctxT(t), []sched.Change{put(simple("z", 1), 0), c}); err == nil {
			t.Errorf("%s: commit accepted", name)
		}
	}
	wantJobs(t, s)
	wantReceipts(t, s)
}
