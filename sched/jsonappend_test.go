package sched

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"
)

// The encoders the job document had before it was appended to one slice
// (through encoding/json for every string and number): the oracle that
// the appending encoders must match byte for byte.

func refJobJSON(j Job) ([]byte, error) {
	var b bytes.Buffer
	str := func(s string) {
		v, _ := json.Marshal(s)
		b.Write(v)
	}
	b.WriteString(`{"id":`)
	str(j.ID)
	b.WriteString(`,"name":`)
	str(j.Name)
	b.WriteString(`,"trigger":`)
	tr, err := refTriggerJSON(j.Trigger)
	if err != nil {
		return nil, fmt.Errorf("job %s: trigger: %w", j.ID, err)
	}
	b.Write(tr)
	if len(j.Conditions) > 0 {
		b.WriteString(`,"conditions":[`)
		for i, c := range j.Conditions {
			if i > 0 {
				b.WriteByte(',')
			}
			cb, _ := c.MarshalJSON()
			b.Write(cb)
		}
		b.WriteByte(']')
	}
	b.WriteString(`,"action":`)
	if len(j.Action.Raw) == 0 && j.Action.Type == "" {
		b.WriteString("null")
	} else {
		// Compact rather than Marshal: Marshal would HTML-escape the
		// user's parameters ("&" as "\u0026").
		ac, err := j.Action.MarshalJSON()
		if err == nil {
			err = json.Compact(&b, ac)
		}
		if err != nil {
			return nil, fmt.Errorf("job %s: action: %w", j.ID, err)
		}
	}
	b.WriteString(`,"misfire_grace_time":`)
	if j.MisfireGraceTime == nil {
		b.WriteString("null")
	} else {
		b.WriteString(formatSeconds(*j.MisfireGraceTime))
	}
	fmt.Fprintf(&b, `,"coalesce":%t,"max_instances":%d,"paused":%t`, j.Coalesce, j.MaxInstances, j.Paused)
	if j.Remote {
		b.WriteString(`,"remote":true`)
	}
	fmt.Fprintf(&b, `,"version":%d`, j.Version)
	loc := jobLocation(j)
	tm := func(t *time.Time) {
		if t == nil {
			b.WriteString("null")
			return
		}
		v := *t
		if loc != nil {
			v = v.In(loc)
		}
		str(FormatTime(v))
	}
	b.WriteString(`,"next_run_time":`)
	tm(j.NextRunTime)
	b.WriteString(`,"last_run_time":`)
	tm(j.LastRunTime)
	b.WriteString(`,"last_result":`)
	str(j.LastResult)
	b.WriteString(`,"source":`)
	str(j.Source)
	b.WriteByte('}')
	return b.Bytes(), nil
}

func refTriggerJSON(s TriggerSpec) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	for i := range specFields {
		f := &specFields[i]
		if !f.isSet(&s) {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		buf.WriteByte('"')
		buf.WriteString(f.name)
		buf.WriteString(`":`)
		var v []byte
		var err error
		switch f.kind {
		case kindString:
			v, err = json.Marshal(*f.str(&s))
		case kindNumText:
			v = []byte(*f.str(&s))
		case kindMembers:
			var parts [][]byte
			for _, m := range s.Triggers.Specs() {
				p, perr := refTriggerJSON(m)
				if perr != nil {
					return nil, perr
				}
				parts = append(parts, p)
			}
			v = append(append([]byte{'['}, bytes.Join(parts, []byte{','})...), ']')
		case kindNumber:
			v, err = json.Marshal(*f.num(&s))
		default:
			v, err = json.Marshal(string(*f.cron(&s)))
		}
		if err != nil {
			return nil, fmt.Errorf("trigger.%s: %w", f.name, err)
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "a&b<c>", `"quoted" \ back`, "tab\tnew\nline\x00", "Gewächshaus", "\u2028", "\xff\xfe", "del\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("appendString(%q) = %s, json.Marshal %s", s, got[1:], want)
		}
	})
}

func FuzzAppendNumber(f *testing.F) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 1e-6, 9.99e-7, 1e20, 1e21, 123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1)} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		want, werr := json.Marshal(v)
		got, err := appendNumber(nil, v)
		if (werr != nil) != (err != nil) || werr == nil && string(got) != string(want) {
			t.Fatalf("appendNumber(%v) = %s, %v; json.Marshal %s, %v", v, got, err, want, werr)
		}
	})
}

// FuzzJobJSON: a job decoded from any document encodes to the bytes the
// encoders of encoding/json wrote, as compact and valid JSON (callers may
// skip json.Marshal's second pass, which would only HTML-escape the
// action's parameters).
func FuzzJobJSON(f *testing.F) {
	for _, s := range []string{
		`{"id":"pump-morning","name":"Water the beds & <herbs>","trigger":{"type":"cron","hour":6,"minute":"*/5","timezone":"Europe/Berlin","jitter":5},"action":{"type":"actuate", "actuator":"pump","q":"a&b"},"misfire_grace_time":300.5,"coalesce":true,"max_instances":2,"paused":true,"remote":true}`,
		`{"id":"a","trigger":{"type":"interval","weeks":1,"days":0.5,"hours":1e-7,"seconds":30,"start_date":"2026-01-01T00:00:00+01:00"},"action":{"type":"read"}}`,
		`{"id":"d","name":"Gewächshaus \u2028","trigger":{"type":"date","run_date":"2026-11-23 06:30:00"},"action":{"type":"x","a":[1,{"b":null}]}}`,
		`{"id":"o","trigger":{"type":"or","timezone":"UTC","triggers":[{"type":"date","run_date":"2026-04-01"},{"type":"and","triggers":[{"type":"cron","hour":7},{"type":"interval","hours":5,"start_date":"2026-01-01"}]}]},"action":{"type":"read"}}`,
		`{"id":"s","trigger":{"type":"solar","event":"sunset","offset":"-30m","latitude":52.52,"longitude":-1e2},"conditions":[{"sensor":"soil","value":"moisture","below":40,"max_age":"10m"},{"time":"22:00-06:00"}],"action":{"type":"read"}}`,
		`{"id":"r","trigger":{"type":"reading","sensor":"air","above":30,"hysteresis":2,"for":"1m"},"action":{"type":"read"},"misfire_grace_time":null}`,
	} {
		f.Add([]byte(s), int64(1764000000), uint8(0))
	}
	f.Fuzz(func(t *testing.T, doc []byte, unix int64, zone uint8) {
		p, err := DecodeJob(doc, ModeImport)
		if err != nil {
			return
		}
		j := p.Job
		// The read-only fields DecodeJob leaves alone.
		at := time.Unix(unix%(1<<40), unix%1e9).In(time.FixedZone("z", int(zone)*900))
		j.NextRunTime, j.LastRunTime = &at, nil
		j.LastResult, j.Source = "ok & <done>", "mqtt"
		want, werr := refJobJSON(j)
		got, err := j.MarshalJSON()
		if (werr != nil) != (err != nil) {
			t.Fatalf("%s: MarshalJSON error %v, before %v", doc, err, werr)
		}
		if err != nil {
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s:\n got %s\nwant %s", doc, got, want)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, got); err != nil || !bytes.Equal(compact.Bytes(), got) {
			t.Fatalf("%s: MarshalJSON %s is not compact, valid JSON: %v", doc, got, err)
		}
	})
}
