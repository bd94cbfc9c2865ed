package sched

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// kindSamples is one valid document per registered trigger type. Every
// type runs TestTriggerKindConformance; a type registered without a
// sample fails it.
var kindSamples = map[string]string{
	TriggerDate:             `{"type":"date","run_date":"2026-12-24 18:00:00"}`,
	TriggerInterval:         `{"type":"interval","minutes":90,"start_date":"2026-11-21T09:00:00Z"}`,
	TriggerCron:             `{"type":"cron","day_of_week":"mon-fri","hour":"6","minute":"30"}`,
	TriggerCalendarInterval: `{"type":"calendarinterval","months":1,"hour":"8","start_date":"2026-01-31"}`,
	TriggerAnd:              `{"type":"and","triggers":[{"type":"cron","day":"1-7","hour":"6"},{"type":"cron","day_of_week":"mon","hour":"6"}]}`,
	TriggerOr:               `{"type":"or","triggers":[{"type":"cron","hour":"6"},{"type":"solar","event":"sunset"}]}`,
	TriggerSolar:            `{"type":"solar","event":"sunset","offset":"-30m","day_of_week":"mon-fri"}`,
	TriggerBoot:             `{"type":"boot","delay":"90s"}`,
	TriggerReading:          `{"type":"reading","sensor":"air","above":30}`,
}

// TestTriggerKindConformance: what every trigger type must do. Its
// document decodes strictly and reads back as written, survives the
// scheduler's packed form, compiles, refuses a field of another type by
// name, and its fire times (if it has any) strictly increase.
func TestTriggerKindConformance(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	env := Env{Location: berlin, Site: &Site{Latitude: 52.52, Longitude: 13.405}, Boot: Boot{ID: "b", At: from}}
	// A stored job of a type this program does not know counts as cron.
	if name := triggerKinds[kindNum("sundial")].name; name != TriggerCron {
		t.Errorf("an unknown type counts as %q, want cron", name)
	}
	for i := range triggerKinds {
		k := &triggerKinds[i]
		t.Run(k.name, func(t *testing.T) {
			doc, ok := kindSamples[k.name]
			if !ok {
				t.Fatalf("no sample document for the registered type %q: add one to kindSamples", k.name)
			}
			var s TriggerSpec
			if err := json.Unmarshal([]byte(doc), &s); err != nil {
				t.Fatal(err)
			}
			if b, err := json.Marshal(s); err != nil || string(b) != doc {
				t.Errorf("reads back as %s (%v), want %s", b, err, doc)
			}
			if got := unpackSpec(packSpec(s)); got != s {
				t.Errorf("packed round trip: %+v, want %+v", got, s)
			}
			if kindOf(s.Type) != k {
				t.Errorf("kindOf(%q) is not its registry entry", s.Type)
			}
			tr, err := s.CompileEnv(env)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			// A key of no type but date is refused, naming it.
			if k.name != TriggerDate {
				bad := strings.TrimSuffix(doc, "}") + `,"run_date":"2027-01-01"}`
				var b TriggerSpec
				if err := json.Unmarshal([]byte(bad), &b); err == nil || !strings.Contains(err.Error(), "trigger.run_date: not a field of") {
					t.Errorf("%s: error %v, want trigger.run_date refused", bad, err)
				}
			}
			times, err := Preview(s, env, from, 5)
			if err != nil {
				t.Fatalf("preview: %v", err)
			}
			for i := 1; i < len(times); i++ {
				if !times[i].After(times[i-1]) {
					t.Fatalf("fire times do not increase: %v", times)
				}
			}
			if n, _ := tr.Next(time.Time{}, from); !n.IsZero() && n.Before(from) && !k.oneShot && k.name != TriggerBoot {
				t.Errorf("first fire time %s before %s", n, from)
			}
		})
	}
}
