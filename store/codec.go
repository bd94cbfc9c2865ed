package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// Records are a compact binary encoding, versioned per record by their
// first byte, so that one record format can be replaced by another without
// rewriting the whole file. Loading 10,000 jobs is dominated by decoding:
// a record is read in place and a job with its run state decodes with 12
// small allocations (its text fields, its action, its run times) where its
// JSON document costs over a hundred (BenchmarkDecode).
//
// Job record, version 1 (the key is the job id):
//
//	byte     1 (record version)
//	byte     flags: 1 coalesce, 2 paused, 4 remote, 8 misfire grace set,
//	         16 conditions follow the action
//	varint   Version
//	varint   MaxInstances
//	varint   MisfireGraceTime in nanoseconds (only with flag 8)
//	string   Name, Source (uvarint length, bytes)
//	uvarint  trigger presence mask: bit i set when trigger field i is not zero
//	...      the present trigger fields, in triggerFields order: strings as
//	         above, numbers as 8 bytes little-endian IEEE 754, and/or
//	         members as a string holding their JSON array
//	string   action type
//	bytes    action JSON (uvarint length, bytes)
//	string   conditions, a JSON array (only with flag 16)
//
// Run state record, version 1 (the key is the job id):
//
//	byte     1 (record version)
//	byte     flags: 1 next run time set, 2 last run time set
//	time     NextRunTime, LastRunTime when set: varint Unix seconds,
//	         uvarint nanoseconds, varint zone offset in seconds
//	string   LastResult
const (
	jobRecordV1 = 1
	runRecordV1 = 1
)

const (
	flagCoalesce = 1 << iota
	flagPaused
	flagRemote
	flagMisfire
	flagConditions
)

const (
	flagNext = 1 << iota
	flagLast
)

// The trigger fields in record order: bit i of the record's trigger mask
// is triggerFields[i]. The first twenty are the original ones; a new field
// is appended at the end (older records simply lack its bit; an older
// agent refuses a record with a bit it does not know).
const (
	tfType = iota
	tfRunDate
	tfYear
	tfMonth
	tfDay
	tfWeek
	tfDayOfWeek
	tfHour
	tfMinute
	tfSecond
	tfExpr
	tfStartDate
	tfEndDate
	tfTimezone
	tfWeeks // first number
	tfDays
	tfHours
	tfMinutes
	tfSeconds
	tfJitter
)

// triggerField is one trigger field of the record: a string, a number, or
// the and/or members (a JSON array of trigger documents).
type triggerField struct {
	str     func(t *sched.TriggerSpec) *string
	num     func(t *sched.TriggerSpec) *float64
	members bool
}

// triggerFields: each entry a literal of functions that capture nothing, so
// that the linker lays the table out as data (built by calls, it took 4 KB
// of start-up code on armv6).
var triggerFields = []triggerField{
	{str: func(t *sched.TriggerSpec) *string { return &t.Type }},
	{str: func(t *sched.TriggerSpec) *string { return &t.RunDate }},
	{str: func(t *sched.TriggerSpec) *string { return (*string)(&t.Year) }},
	{str: func(t *sched.TriggerSpec) *string { return (*string)(&t.Month) }},
	{str: func(t *sched.TriggerSpec) *string { return (*string)(&t.Day) }},
	{str: func(t *sched.TriggerSpec) *string { return (*string)(&t.Week) }},
	{str: func(t *sched.TriggerSpec) *string { return (*string)(&t.DayOfWeek) }},
	{str: func(t *sched.TriggerSpec) *string { return (*string)(&t.Hour) }},
	{str: func(t *sched.TriggerSpec) *string { return (*string)(&t.Minute) }},
	{str: func(t *sched.TriggerSpec) *string { return (*string)(&t.Second) }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Expr }},
	{str: func(t *sched.TriggerSpec) *string { return &t.StartDate }},
	{str: func(t *sched.TriggerSpec) *string { return &t.EndDate }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Timezone }},
	{num: func(t *sched.TriggerSpec) *float64 { return &t.Weeks }},
	{num: func(t *sched.TriggerSpec) *float64 { return &t.Days }},
	{num: func(t *sched.TriggerSpec) *float64 { return &t.Hours }},
	{num: func(t *sched.TriggerSpec) *float64 { return &t.Minutes }},
	{num: func(t *sched.TriggerSpec) *float64 { return &t.Seconds }},
	{num: func(t *sched.TriggerSpec) *float64 { return &t.Jitter }},
	// Added with calendarinterval, solar, and/or, boot and reading
	// triggers, which records lost until then.
	{num: func(t *sched.TriggerSpec) *float64 { return &t.Years }},
	{num: func(t *sched.TriggerSpec) *float64 { return &t.Months }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Event }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Twilight }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Offset }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Latitude }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Longitude }},
	{members: true},
	{str: func(t *sched.TriggerSpec) *string { return &t.Delay }},
	{str: func(t *sched.TriggerSpec) *string { return &t.LastBootID }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Sensor }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Value }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Above }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Below }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Hysteresis }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Change }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Edge }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Level }},
	{str: func(t *sched.TriggerSpec) *string { return &t.For }},
	{str: func(t *sched.TriggerSpec) *string { return &t.Cooldown }},
}

// set reports whether the field has a value in t.
func (f *triggerField) set(t *sched.TriggerSpec) bool {
	switch {
	case f.members:
		return t.Triggers.Len() > 0
	case f.num != nil:
		v := *f.num(t)
		return v != 0 || math.Signbit(v)
	}
	return *f.str(t) != ""
}

// errTruncated means a record ended before its last field.
var errTruncated = errors.New("record is truncated")

// appendJob appends the job record of j (everything but its ID and run
// state) to b.
func appendJob(b []byte, j *sched.Job) []byte {
	var flags byte
	if j.Coalesce {
		flags |= flagCoalesce
	}
	if j.Paused {
		flags |= flagPaused
	}
	if j.Remote {
		flags |= flagRemote
	}
	if j.MisfireGraceTime != nil {
		flags |= flagMisfire
	}
	if len(j.Conditions) > 0 {
		flags |= flagConditions
	}
	b = append(b, jobRecordV1, flags)
	b = binary.AppendVarint(b, j.Version)
	b = binary.AppendVarint(b, int64(j.MaxInstances))
	if j.MisfireGraceTime != nil {
		b = binary.AppendVarint(b, int64(*j.MisfireGraceTime))
	}
	b = appendString(b, j.Name)
	b = appendString(b, j.Source)

	t := &j.Trigger
	var mask uint64
	for i := range triggerFields {
		if triggerFields[i].set(t) {
			mask |= 1 << i
		}
	}
	b = binary.AppendUvarint(b, mask)
	for i := range triggerFields {
		f := &triggerFields[i]
		switch {
		case mask&(1<<i) == 0:
		case f.members:
			// Members are rare: their JSON documents will do.
			doc, _ := json.Marshal(t.Triggers.Specs())
			b = appendString(b, string(doc))
		case f.num != nil:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(*f.num(t)))
		default:
			b = appendString(b, *f.str(t))
		}
	}

	b = appendString(b, j.Action.Type)
	b = binary.AppendUvarint(b, uint64(len(j.Action.Raw)))
	b = append(b, j.Action.Raw...)
	if len(j.Conditions) > 0 {
		doc, _ := json.Marshal(j.Conditions)
		b = appendString(b, string(doc))
	}
	return b
}

// appendRun appends the run state record of r (its ID excluded) to b.
func appendRun(b []byte, r sched.RunState) []byte {
	var flags byte
	if r.NextRunTime != nil {
		flags |= flagNext
	}
	if r.LastRunTime != nil {
		flags |= flagLast
	}
	b = append(b, runRecordV1, flags)
	if r.NextRunTime != nil {
		b = appendTime(b, *r.NextRunTime)
	}
	if r.LastRunTime != nil {
		b = appendTime(b, *r.LastRunTime)
	}
	return appendString(b, r.LastResult)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	_, off := t.Zone()
	b = binary.AppendVarint(b, t.Unix())
	b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	return binary.AppendVarint(b, int64(off))
}

// reader decodes a record in place: the record is bbolt's memory, valid
// only within the transaction. string copies out each text field a job
// keeps, so that no job keeps its whole record alive.
type reader struct {
	s   []byte
	off int
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *reader) byte() byte {
	if r.err != nil || r.off >= len(r.s) {
		r.fail(errTruncated)
		return 0
	}
	c := r.s[r.off]
	r.off++
	return c
}

func (r *reader) uvarint() uint64 {
	var x uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break
			}
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	r.fail(errors.New("record has a malformed number"))
	return 0
}

func (r *reader) varint() int64 {
	ux := r.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// bytes returns the next length-prefixed string of the record in place:
// it is valid only as long as the record.
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.s)-r.off) {
		r.fail(errTruncated)
		return nil
	}
	b := r.s[r.off : r.off+int(n)]
	r.off += int(n)
	return b
}

// string returns a copy of the next length-prefixed string of the record.
func (r *reader) string() string { return string(r.bytes()) }

// stringOr returns the next string, or was when they are equal, without
// copying it again. A load decodes every record into the Job of the one
// before it, and neighbours mostly share their source, action type and
// trigger type, time zone and dates: those strings are kept once, not
// copied per job and dropped when the scheduler has packed them.
func (r *reader) stringOr(was string) string {
	if b := r.bytes(); string(b) != was {
		return string(b)
	}
	return was
}

func (r *reader) float() float64 {
	if r.err != nil || len(r.s)-r.off < 8 {
		r.fail(errTruncated)
		return 0
	}
	s := r.s[r.off : r.off+8]
	r.off += 8
	u := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	return math.Float64frombits(u)
}

func (r *reader) time() time.Time {
	sec := r.varint()
	nsec := r.uvarint()
	off := r.varint()
	if r.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 || off <= -24*3600 || off >= 24*3600 {
		r.fail(errors.New("record has an invalid time"))
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	return inZone(t, int(off))
}

// inZone returns t in UTC for offset 0, in time.Local when its offset at t
// matches, and in a fixed zone otherwise (as time.Time.UnmarshalBinary).
func inZone(t time.Time, off int) time.Time {
	if off == 0 {
		return t.UTC()
	}
	if _, local := t.In(time.Local).Zone(); local == off {
		return t.In(time.Local)
	}
	return t.In(time.FixedZone("", off))
}

func (r *reader) end() {
	if r.err == nil && r.off != len(r.s) {
		r.fail(fmt.Errorf("record has %d unexpected trailing bytes", len(r.s)-r.off))
	}
}

// decodeJob decodes a job record into j (which keeps its ID and run
// state). A string field equal to the one j holds keeps j's (stringOr).
func decodeJob(val []byte, j *sched.Job) error {
	if len(val) == 0 {
		return errTruncated
	}
	if val[0] != jobRecordV1 {
		return fmt.Errorf("unknown job record version %d (written by a newer agent?)", val[0])
	}
	r := reader{s: val, off: 1}
	flags := r.byte()
	if flags&^(flagCoalesce|flagPaused|flagRemote|flagMisfire|flagConditions) != 0 {
		return fmt.Errorf("record has unknown flags %#x", flags)
	}
	j.Coalesce = flags&flagCoalesce != 0
	j.Paused = flags&flagPaused != 0
	j.Remote = flags&flagRemote != 0
	j.Version = r.varint()
	mi := r.varint()
	if mi < math.MinInt32 || mi > math.MaxInt32 {
		r.fail(fmt.Errorf("record has max_instances %d out of range", mi))
	}
	j.MaxInstances = int(mi)
	j.MisfireGraceTime = nil
	if flags&flagMisfire != 0 {
		d := time.Duration(r.varint())
		j.MisfireGraceTime = &d
	}
	j.Name = r.string()
	j.Source = r.stringOr(j.Source)

	mask := r.uvarint()
	if mask>>len(triggerFields) != 0 {
		r.fail(fmt.Errorf("record has unknown trigger fields (mask %#x)", mask))
	}
	// Every field of the trigger is set, an absent one to its zero value
	// (the table covers them all: TestTriggerFieldsCoverTheSpec), and a
	// string equal to the one j holds stays j's (stringOr).
	for i := range triggerFields {
		f, present := &triggerFields[i], mask&(1<<i) != 0
		switch {
		case f.members:
			j.Trigger.Triggers = sched.Members{}
			if present {
				var specs []sched.TriggerSpec
				if err := json.Unmarshal(r.bytes(), &specs); err != nil && r.err == nil {
					r.fail(fmt.Errorf("record has bad trigger members: %w", err))
				}
				j.Trigger.Triggers = sched.NewMembers(specs...)
			}
		case f.num != nil:
			v := 0.0
			if present {
				v = r.float()
			}
			*f.num(&j.Trigger) = v
		case present:
			p := f.str(&j.Trigger)
			*p = r.stringOr(*p)
		default:
			*f.str(&j.Trigger) = ""
		}
	}

	j.Action.Type = r.stringOr(j.Action.Type)
	j.Action.Raw = nil
	if raw := r.bytes(); len(raw) > 0 {
		j.Action.Raw = bytes.Clone(raw)
	}
	j.Conditions = nil
	if flags&flagConditions != 0 {
		doc := r.bytes()
		if r.err == nil {
			if err := json.Unmarshal(doc, &j.Conditions); err != nil {
				r.fail(fmt.Errorf("record has bad conditions: %w", err))
			}
		}
	}
	r.end()
	return r.err
}

// decodeRun decodes a run state record into the run state fields of j.
func decodeRun(val []byte, j *sched.Job) error {
	if len(val) == 0 {
		return errTruncated
	}
	if val[0] != runRecordV1 {
		return fmt.Errorf("unknown run state record version %d (written by a newer agent?)", val[0])
	}
	r := reader{s: val, off: 1}
	flags := r.byte()
	if flags&^(flagNext|flagLast) != 0 {
		return fmt.Errorf("record has unknown flags %#x", flags)
	}
	j.NextRunTime, j.LastRunTime = nil, nil
	if flags&flagNext != 0 {
		t := r.time()
		j.NextRunTime = &t
	}
	if flags&flagLast != 0 {
		t := r.time()
		j.LastRunTime = &t
	}
	j.LastResult = r.string()
	r.end()
	return r.err
}

// peekVersion returns the Version of a job record without decoding it all.
func peekVersion(val []byte) (int64, error) {
	if len(val) < 2 {
		return 0, errTruncated
	}
	if val[0] != jobRecordV1 {
		return 0, fmt.Errorf("unknown job record version %d (written by a newer agent?)", val[0])
	}
	v, n := binary.Varint(val[2:])
	if n <= 0 {
		return 0, errTruncated
	}
	return v, nil
}

// runStateOf returns the run state of j.
func runStateOf(j *sched.Job) sched.RunState {
	return sched.RunState{ID: j.ID, NextRunTime: j.NextRunTime, LastRunTime: j.LastRunTime, LastResult: j.LastResult}
}

// emptyRun reports whether r carries nothing worth a record.
func emptyRun(r sched.RunState) bool {
	return r.NextRunTime == nil && r.LastRunTime == nil && r.LastResult == ""
}
