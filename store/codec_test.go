package store

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/edgecron/edgecron/sched"
)

func TestCodecRoundTrip(t *testing.T) {
	berlin := time.FixedZone("", 3600)
	at := func(t time.Time) *time.Time { return &t }
	grace := 90 * time.Second
	full := testJob("full", 42)
	full.Trigger = sched.TriggerSpec{
		Type: "cron", RunDate: "r", Year: "2026", Month: "1-6", Day: "last", Week: "*/2", DayOfWeek: "mon-fri",
		Hour: "6", Minute: "30", Second: "0", Expr: "e", StartDate: "s", EndDate: "e2", Timezone: "Europe/Berlin",
		Weeks: 1, Days: 2, Hours: 3, Minutes: 4, Seconds: 5.5, Jitter: 6,
	}
	full.Paused = true
	tests := []struct {
		name string
		job  sched.Job
	}{
		{"every field", full},
		{"zero job", sched.Job{ID: "z"}},
		// Each type's own fields: records lost them until the field list grew.
		{"calendarinterval", sched.Job{ID: "ci", Trigger: sched.TriggerSpec{Type: "calendarinterval", Years: 1, Months: 2, Days: 3, Hour: "6"}}},
		{"solar", sched.Job{ID: "so", Trigger: sched.TriggerSpec{Type: "solar", Event: "dusk", Twilight: "nautical", Offset: "-30m",
			Latitude: "52.52", Longitude: "-1e2", DayOfWeek: "mon-fri"}}},
		{"and/or", sched.Job{ID: "ao", Trigger: sched.TriggerSpec{Type: "or", Jitter: 5, Triggers: sched.NewMembers(
			sched.TriggerSpec{Type: "cron", Hour: "7"},
			sched.TriggerSpec{Type: "and", Triggers: sched.NewMembers(sched.TriggerSpec{Type: "cron", Hour: "6"}, sched.TriggerSpec{Type: "date", RunDate: "2026-04-01"})})}}},
		{"conditions", sched.Job{ID: "co", Trigger: sched.TriggerSpec{Type: "cron", Hour: "6"}, Conditions: []sched.Condition{
			{Sensor: "soil", Value: "moisture", Below: "40", MaxAge: "10m"}, {Output: "pump", State: "off"},
			{Time: "08:00-18:00", Days: "mon-fri"}, {Clock: "trusted"}}}},
		{"boot", sched.Job{ID: "bo", Trigger: sched.TriggerSpec{Type: "boot", Delay: "90s", LastBootID: "5d2c"}}},
		{"reading", sched.Job{ID: "re", Trigger: sched.TriggerSpec{Type: "reading", Sensor: "air", Value: "temperature", Above: "30",
			Below: "40", Hysteresis: "2", Change: "1", Edge: "both", Level: "high", For: "1m", Cooldown: "15m"}}},
		{"no grace limit", func() sched.Job { j := testJob("g", 1); j.MisfireGraceTime = nil; return j }()},
		{"negative numbers", sched.Job{ID: "n", Version: -3, MaxInstances: -1, MisfireGraceTime: &grace,
			Trigger: sched.TriggerSpec{Type: "interval", Seconds: math.Copysign(0, -1), Minutes: -2, Jitter: math.Inf(1)}}},
		{"utf-8 and long text", sched.Job{ID: "u", Name: strings.Repeat("Gießkanne 🌱", 500), LastResult: "invalid: actuator \"pump\" vanished"}},
		{"times in zones", sched.Job{ID: "t", NextRunTime: at(time.Date(2026, 3, 29, 3, 0, 0, 0, berlin)),
			LastRunTime: at(time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC))}},
		{"local time", sched.Job{ID: "l", NextRunTime: at(time.Date(2026, 7, 1, 12, 0, 0, 0, time.Local))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got sched.Job
			got.ID = tt.job.ID
			if err := decodeJob(appendJob(nil, &tt.job), &got); err != nil {
				t.Fatalf("decodeJob: %v", err)
			}
			if err := decodeRun(appendRun(nil, runStateOf(&tt.job)), &got); err != nil {
				t.Fatalf("decodeRun: %v", err)
			}
			if d := diffJob(got, tt.job); d != "" {
				t.Error(d)
			}
			if _, off := time.Now().Zone(); off != 0 && got.NextRunTime != nil && tt.job.NextRunTime.Location() == time.Local && got.NextRunTime.Location() != time.Local {
				t.Errorf("a local time came back in %v", got.NextRunTime.Location())
			}
			if v, err := peekVersion(appendJob(nil, &tt.job)); err != nil || v != tt.job.Version {
				t.Errorf("peekVersion = %d, %v; want %d", v, err, tt.job.Version)
			}
		})
	}
}

func TestCodecRejects(t *testing.T) {
	good := testJob("a", 1)
	rec := appendJob(nil, &good)
	run := appendRun(nil, runStateOf(&good))
	tests := []struct {
		name string
		job  bool
		val  []byte
		says string
	}{
		{"empty job", true, nil, "truncated"},
		{"newer job record", true, append([]byte{9}, rec[1:]...), "unknown job record version 9"},
		{"cut job", true, rec[:len(rec)-3], "truncated"},
		{"trailing bytes", true, append(append([]byte{}, rec...), 0), "trailing"},
		{"unknown flags", true, append([]byte{1, 0x80}, rec[2:]...), "unknown flags"},
		{"huge length", true, []byte{1, 0, 2, 2, 0xff, 0xff, 0xff, 0xff, 0x0f}, "truncated"},
		{"bad varint", true, []byte{1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "malformed number"},
		{"empty run", false, nil, "truncated"},
		{"newer run record", false, append([]byte{2}, run[1:]...), "unknown run state record version 2"},
		{"cut run", false, run[:5], "truncated"},
		{"bad nanoseconds", false, []byte{1, 1, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0, 0}, "invalid time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var j sched.Job
			var err error
			if tt.job {
				err = decodeJob(tt.val, &j)
			} else {
				err = decodeRun(tt.val, &j)
			}
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("err = %v, want one saying %q", err, tt.says)
			}
		})
	}
}

// TestCodecSmallerThanJSON keeps the encoding honest about its purpose.
func TestCodecSmallerThanJSON(t *testing.T) {
	j := testJob("pump-morning", 3)
	bin := len(appendJob(nil, &j)) + len(appendRun(nil, runStateOf(&j)))
	js, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if bin*2 > len(js) {
		t.Errorf("binary record %d bytes, Go JSON %d bytes: expected less than half", bin, len(js))
	}
}

func FuzzDecodeJob(f *testing.F) {
	j := testJob("a", 7)
	f.Add(appendJob(nil, &j))
	f.Add(appendJob(nil, &sched.Job{}))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var got sched.Job
		rec := bytes.Clone(b)
		if err := decodeJob(rec, &got); err != nil {
			return
		}
		// Whatever decodes re-encodes to a record that decodes to the
		// same job (compared by its canonical encoding: NaN != NaN).
		enc := appendJob(nil, &got)
		// The job holds none of the record's memory, which is bbolt's and
		// valid only within the transaction.
		scribble(rec)
		if enc2 := appendJob(nil, &got); !bytes.Equal(enc, enc2) {
			t.Fatalf("the job changed with the record's memory:\n before %x\n after  %x", enc, enc2)
		}
		var again sched.Job
		if err := decodeJob(enc, &again); err != nil {
			t.Fatalf("re-decoding %x: %v", enc, err)
		}
		if enc2 := appendJob(nil, &again); !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip differs:\n in  %x\n out %x", enc, enc2)
		}
		// Decoded into the Job of another record, as a load decodes, it
		// is the same job: only the strings the two share are kept.
		into := testJob("b", 8)
		into.Trigger.Type, into.Action.Type = got.Trigger.Type, got.Action.Type
		if err := decodeJob(enc, &into); err != nil {
			t.Fatalf("decoding %x into another job: %v", enc, err)
		}
		if enc2 := appendJob(nil, &into); !bytes.Equal(enc, enc2) {
			t.Fatalf("decoded into another job, it differs:\n in  %x\n out %x", enc, enc2)
		}
	})
}

// TestTriggerFieldsCoverTheSpec: the record's table of trigger fields
// reaches every field of sched.TriggerSpec. A field left out would be lost
// by every commit, and decodeJob, which sets each field the table names,
// would leave the one before's in it.
func TestTriggerFieldsCoverTheSpec(t *testing.T) {
	var spec sched.TriggerSpec
	v := reflect.ValueOf(&spec).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Float64:
			f.SetFloat(1)
		default:
			if f.Type() != reflect.TypeFor[sched.Members]() {
				t.Fatalf("TriggerSpec.%s: a %s; teach this test and the record about it", v.Type().Field(i).Name, f.Type())
			}
			f.Set(reflect.ValueOf(sched.NewMembers(sched.TriggerSpec{Type: "boot"})))
		}
	}
	for _, f := range triggerFields {
		switch {
		case f.members:
			spec.Triggers = sched.Members{}
		case f.num != nil:
			*f.num(&spec) = 0
		default:
			*f.str(&spec) = ""
		}
	}
	if spec != (sched.TriggerSpec{}) {
		t.Errorf("fields the record's table does not reach: %+v", spec)
	}
}

// TestDecodeSharesNeighboursStrings: a record decoded into the Job of the
// one before keeps the strings the two have in common, and copies the
// others; a load thus copies a trigger's type or time zone once, not once
// per job.
func TestDecodeSharesNeighboursStrings(t *testing.T) {
	a, b := testJob("a", 1), testJob("b", 2)
	b.Trigger.Hour, b.Action.Type = "7", "read"
	var j sched.Job
	if err := decodeJob(appendJob(nil, &a), &j); err != nil {
		t.Fatal(err)
	}
	first := j
	if err := decodeJob(appendJob(nil, &b), &j); err != nil {
		t.Fatal(err)
	}
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	for _, f := range []struct {
		name         string
		before, now  string
		want, shared bool
	}{
		{"source", first.Source, j.Source, j.Source == b.Source, true},
		{"trigger type", first.Trigger.Type, j.Trigger.Type, j.Trigger.Type == b.Trigger.Type, true},
		{"time zone", first.Trigger.Timezone, j.Trigger.Timezone, j.Trigger.Timezone == b.Trigger.Timezone, true},
		{"start date", first.Trigger.StartDate, j.Trigger.StartDate, j.Trigger.StartDate == b.Trigger.StartDate, true},
		{"hour", string(first.Trigger.Hour), string(j.Trigger.Hour), j.Trigger.Hour == "7", false},
		{"action type", first.Action.Type, j.Action.Type, j.Action.Type == "read", false},
		{"name", first.Name, j.Name, j.Name == b.Name, false},
	} {
		if !f.want {
			t.Errorf("%s: %q after decoding b", f.name, f.now)
		}
		if same(f.before, f.now) != f.shared {
			t.Errorf("%s: shared with the record before: %v, want %v", f.name, !f.shared, f.shared)
		}
	}
}

func FuzzDecodeRun(f *testing.F) {
	j := testJob("a", 7)
	f.Add(appendRun(nil, runStateOf(&j)))
	f.Add(appendRun(nil, sched.RunState{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var got sched.Job
		rec := bytes.Clone(b)
		if err := decodeRun(rec, &got); err != nil {
			return
		}
		enc := appendRun(nil, runStateOf(&got))
		var again sched.Job
		if err := decodeRun(enc, &again); err != nil {
			t.Fatalf("re-decoding: %v", err)
		}
		if d := diffJob(again, got); d != "" {
			t.Fatal(d)
		}
		scribble(rec) // bbolt's memory: the run state holds none of it
		if enc2 := appendRun(nil, runStateOf(&got)); !bytes.Equal(enc, enc2) {
			t.Fatalf("the run state changed with the record's memory:\n before %x\n after  %x", enc, enc2)
		}
	})
}

// scribble overwrites b, as bbolt reuses a record's memory once its
// transaction has ended.
func scribble(b []byte) {
	for i := range b {
		b[i] ^= 0xa5
	}
}

// BenchmarkDecode decodes one job with its run state from the binary
// records and, as the peer, from its JSON document with encoding/json.
func BenchmarkDecode(b *testing.B) {
	j := benchJob(1)
	rec, run := appendJob(nil, &j), appendRun(nil, runStateOf(&j))
	doc, err := json.Marshal(j)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("binary", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var got sched.Job
			if err := decodeJob(rec, &got); err != nil {
				b.Fatal(err)
			}
			if err := decodeRun(run, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var d jsonJob
			if err := json.Unmarshal(doc, &d); err != nil {
				b.Fatal(err)
			}
			_ = d.job()
		}
	})
}
