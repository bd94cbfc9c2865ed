package sched_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

var berlinSite = &sched.Site{Latitude: 52.52, Longitude: 13.405}

func solarPreview(t *testing.T, doc string, env sched.Env, from string, n int) []string {
	t.Helper()
	var spec sched.TriggerSpec
	if err := json.Unmarshal([]byte(doc), &spec); err != nil {
		t.Fatal(err)
	}
	ts, err := sched.Preview(spec, env, rfc(t, from), n)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ts))
	for i, x := range ts {
		out[i] = x.Format(time.RFC3339)
	}
	return out
}

func TestSolarNext(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	env := sched.Env{Location: berlin, Site: berlinSite}
	tests := []struct {
		name, doc, from string
		n               int
		want            string
	}{
		// Within seconds of the astral reference (TestSunAgainstAstral):
		// Berlin sunset 2026-06-21 19:33:18 UTC, sunrise 06-22 02:43:19,
		// dawn 12-21 06:33:13; Quito sunrise 03-20 11:17:59.
		{"sunset", `{"type":"solar","event":"sunset"}`, "2026-06-21T12:00:00+02:00", 2,
			"2026-06-21T21:33:14+02:00 2026-06-22T21:33:23+02:00"},
		{"after today's sunset: tomorrow", `{"type":"solar","event":"sunrise"}`, "2026-06-21T05:00:00+02:00", 1,
			"2026-06-22T04:43:24+02:00"},
		{"offset before the event", `{"type":"solar","event":"sunset","offset":"-30m"}`, "2026-06-21T12:00:00+02:00", 1,
			"2026-06-21T21:03:14+02:00"},
		{"sunset on weekdays", `{"type":"solar","event":"sunset","day_of_week":"mon-fri"}`, "2026-06-19T22:00:00+02:00", 2,
			"2026-06-22T21:33:23+02:00 2026-06-23T21:33:30+02:00"},
		{"noon", `{"type":"solar","event":"noon"}`, "2026-06-21T00:00:00+02:00", 1, "2026-06-21T13:08:12+02:00"},
		{"dawn is civil by default", `{"type":"solar","event":"dawn"}`, "2026-12-21T00:00:00+01:00", 1, "2026-12-21T07:33:18+01:00"},
		{"nautical dusk", `{"type":"solar","event":"dusk","twilight":"nautical"}`, "2026-12-21T12:00:00+01:00", 1, "2026-12-21T17:19:56+01:00"},
		{"a site of its own, in UTC", `{"type":"solar","event":"sunrise","latitude":-0.1807,"longitude":-78.4678,"timezone":"UTC"}`,
			"2026-03-20T00:00:00Z", 1, "2026-03-20T11:17:54Z"},
		{"end_date", `{"type":"solar","event":"sunrise","end_date":"2026-06-22 12:00:00"}`, "2026-06-21T12:00:00+02:00", 5,
			"2026-06-22T04:43:24+02:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(solarPreview(t, tc.doc, env, tc.from, tc.n), " ")
			if got != tc.want {
				t.Errorf("%s from %s:\n got %s\nwant %s", tc.doc, tc.from, got, tc.want)
			}
		})
	}
}

// Tromsø's polar night has no sunrise from late November to mid January:
// those days are skipped, and the midnight sun has no sunset.
func TestSolarPolarDaysSkipped(t *testing.T) {
	oslo := mustLoc(t, "Europe/Oslo")
	env := sched.Env{Location: oslo, Site: &sched.Site{Latitude: 69.6492, Longitude: 18.9553}}
	got := solarPreview(t, `{"type":"solar","event":"sunrise"}`, env, "2026-11-25T00:00:00+01:00", 4)
	if want := "2026-11-25T10:43:27+01:00 2026-11-26T10:57:05+01:00 2026-11-27T11:20:50+01:00 2027-01-15T11:34:55+01:00"; strings.Join(got, " ") != want {
		t.Errorf("sunrises around the polar night:\n got %v\nwant %s", got, want)
	}
	// The sunset of May 16th is after midnight; then none until July.
	got = solarPreview(t, `{"type":"solar","event":"sunset"}`, env, "2026-05-15T12:00:00+02:00", 4)
	if want := "2026-05-15T23:48:27+02:00 2026-05-17T00:02:56+02:00 2026-05-18T00:28:28+02:00 2026-07-27T00:13:15+02:00"; strings.Join(got, " ") != want {
		t.Errorf("sunsets around the midnight sun:\n got %v\nwant %s", got, want)
	}
}

func TestSolarErrors(t *testing.T) {
	env := sched.Env{Location: time.UTC, Site: berlinSite}
	tests := []struct {
		doc  string
		env  sched.Env
		want string
	}{
		{`{"type":"solar"}`, env, "trigger.event: required: sunrise, sunset, dawn, dusk or noon"},
		{`{"type":"solar","event":"moonrise"}`, env, `trigger.event: "moonrise": want sunrise`},
		{`{"type":"solar","event":"sunset","offset":"soon"}`, env, `trigger.offset: "soon": want a duration`},
		{`{"type":"solar","event":"sunset","offset":"25h"}`, env, `trigger.offset: "25h"`},
		{`{"type":"solar","event":"sunset","twilight":"nautical"}`, env, "trigger.twilight: only for dawn and dusk"},
		{`{"type":"solar","event":"dusk","twilight":"deep"}`, env, `trigger.twilight: "deep": want civil, nautical or astronomical`},
		{`{"type":"solar","event":"sunset"}`, sched.Env{Location: time.UTC}, "trigger.latitude: no location: give latitude and longitude, or set location in the config"},
		{`{"type":"solar","event":"sunset","latitude":91,"longitude":0}`, env, "trigger.latitude: 91: must be from -90 to 90"},
		{`{"type":"solar","event":"sunset","latitude":50}`, env, "trigger.longitude: required with latitude"},
		{`{"type":"solar","event":"sunset","latitude":"50","longitude":0}`, env, "trigger.latitude: must be a number of degrees, not a string"},
		{`{"type":"solar","event":"sunset","day_of_week":"mon-xyz"}`, env, "trigger.day_of_week: "},
		{`{"type":"solar","event":"sunset","hour":5}`, env, "trigger.hour: not a field of a solar trigger"},
	}
	for _, tc := range tests {
		var spec sched.TriggerSpec
		err := json.Unmarshal([]byte(tc.doc), &spec)
		if err == nil {
			_, err = spec.CompileEnv(tc.env)
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s:\n error %v\n want %q", tc.doc, err, tc.want)
		}
	}
}

func BenchmarkSolarNext(b *testing.B) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for _, ev := range []string{"sunset", "dawn", "noon"} {
		spec := sched.TriggerSpec{Type: "solar", Event: ev, DayOfWeek: "mon-fri"}
		tr, err := spec.CompileEnv(sched.Env{Location: berlin, Site: berlinSite})
		if err != nil {
			b.Fatal(err)
		}
		from := make([]time.Time, 1024)
		for i := range from {
			from[i] = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i)*8*time.Hour + 17*time.Minute)
		}
		b.Run(ev, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				tr.Next(time.Time{}, from[i&1023])
			}
		})
	}
}
