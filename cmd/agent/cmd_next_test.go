package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs the agent in-process with the given stdin and returns its exit
// code, stdout and stderr.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := NewMain(strings.NewReader(stdin), &out, &errb)
	code := m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

func TestNext(t *testing.T) {
	dir := t.TempDir()
	trigFile := filepath.Join(dir, "t.json")
	os.WriteFile(trigFile, []byte(`{"type":"interval","minutes":90,"start_date":"2026-11-21T00:00:00Z"}`), 0o644)
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		out   string // exact stdout
		err   string // substring of stderr
	}{
		{name: "cron weekdays Berlin",
			args: []string{"next", "--trigger", `{"type":"cron","day_of_week":"mon-fri","hour":6,"minute":"30","timezone":"Europe/Berlin"}`,
				"--from", "2026-11-21T00:00:00Z", "--count", "3"},
			out: "2026-11-23T06:30:00+01:00\n2026-11-24T06:30:00+01:00\n2026-11-25T06:30:00+01:00\n"},
		{name: "reading trigger: fires on readings",
			args: []string{"next", "--trigger", `{"type":"reading","sensor":"air","above":30,"hysteresis":2}`},
			out:  "fires on readings of air\n"},
		{name: "reading trigger refused", code: 2,
			args: []string{"next", "--trigger", `{"type":"reading","sensor":"air","above":30,"edge":"rising"}`},
			err:  "one of above/below"},
		{name: "interval from file",
			args: []string{"next", "--trigger", "@" + trigFile, "--from", "2026-11-21T01:00:00Z", "--count", "2"},
			out:  "2026-11-21T01:30:00Z\n2026-11-21T03:00:00Z\n"},
		{name: "stdin",
			stdin: `{"type":"cron","expr":"0 12 * * 0","timezone":"UTC"}`,
			args:  []string{"next", "--trigger", "-", "--from", "2026-11-21T00:00:00Z", "--count", "1"},
			out:   "2026-11-22T12:00:00Z\n"},
		{name: "date in the past still printed",
			args: []string{"next", "--trigger", `{"type":"date","run_date":"2020-01-01T10:00:00+01:00","timezone":"Europe/Berlin"}`, "--from", "2026-11-21T00:00:00Z"},
			out:  "2020-01-01T10:00:00+01:00\n"},
		{name: "ends early",
			args: []string{"next", "--trigger", `{"type":"interval","hours":1,"start_date":"2026-11-21T00:00:00Z","end_date":"2026-11-21T02:00:00Z","timezone":"UTC"}`,
				"--from", "2026-11-21T00:00:00Z", "--count", "10"},
			out: "2026-11-21T00:00:00Z\n2026-11-21T01:00:00Z\n2026-11-21T02:00:00Z\n"},
		{name: "sub-second times print their fraction; whole seconds as before",
			args: []string{"next", "--trigger", `{"type":"interval","seconds":0.5,"start_date":"2026-11-21T00:00:00Z","timezone":"UTC"}`,
				"--from", "2026-11-21T00:00:00Z", "--count", "3"},
			out: "2026-11-21T00:00:00Z\n2026-11-21T00:00:00.5Z\n2026-11-21T00:00:01Z\n"},
		{name: "calendarinterval monthly on the 31st",
			args: []string{"next", "--trigger", `{"type":"calendarinterval","months":1,"hour":8,"start_date":"2026-01-31","timezone":"Europe/Berlin"}`,
				"--from", "2026-02-01T00:00:00Z", "--count", "3"},
			out: "2026-03-31T08:00:00+02:00\n2026-05-31T08:00:00+02:00\n2026-07-31T08:00:00+02:00\n"},
		{name: "or of two crons",
			args: []string{"next", "--trigger", `{"type":"or","timezone":"UTC","triggers":[{"type":"cron","hour":6},{"type":"cron","hour":18,"day_of_week":"sun"}]}`,
				"--from", "2026-11-21T07:00:00Z", "--count", "3"},
			out: "2026-11-22T06:00:00Z\n2026-11-22T18:00:00Z\n2026-11-23T06:00:00Z\n"},
		{name: "boot: as if the machine booted at --from",
			args: []string{"next", "--trigger", `{"type":"boot","delay":"90s","timezone":"UTC"}`, "--from", "2026-11-21T00:00:00Z", "--count", "3"},
			out:  "2026-11-21T00:01:30Z\n"},
		{name: "an and that never agrees", code: 2, err: "trigger.triggers: the triggers of the and found no time they all agree on",
			args: []string{"next", "--trigger", `{"type":"and","triggers":[{"type":"cron","hour":6},{"type":"cron","hour":7}]}`}},
		{name: "bad field", code: 2, err: "trigger.hour",
			args: []string{"next", "--trigger", `{"type":"cron","hour":"25"}`}},
		{name: "unknown field", code: 2, err: "trigger.colour",
			args: []string{"next", "--trigger", `{"type":"cron","hour":"1","colour":"red"}`}},
		{name: "not json", code: 2, err: "trigger",
			args: []string{"next", "--trigger", `{type: cron`}},
		{name: "missing trigger", code: 2, err: "--trigger is required", args: []string{"next"}},
		{name: "bad count", code: 2, err: "--count", args: []string{"next", "--trigger", `{"type":"cron","hour":"1"}`, "--count", "0"}},
		{name: "bad from", code: 2, err: "--from", args: []string{"next", "--trigger", `{"type":"cron","hour":"1"}`, "--from", "yesterday"}},
		{name: "unknown flag", code: 2, err: "flag provided but not defined", args: []string{"next", "--frm", "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := run(t, tc.stdin, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.code, errs)
			}
			if tc.code == 0 && out != tc.out {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tc.out)
			}
			if !strings.Contains(errs, tc.err) {
				t.Errorf("stderr %q does not mention %q", errs, tc.err)
			}
		})
	}
}

// With --config, a solar trigger takes the config's location and zone.
func TestNextSolarFromConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.yaml")
	// A device's config: its mqtt section names a file of the device,
	// which a preview on another machine does not need.
	os.WriteFile(cfg, []byte("device_id: pi-1\ntimezone: Europe/Berlin\nlocation: {latitude: 52.52, longitude: 13.405}\n"+
		"mqtt: {broker: tcp://10.0.0.5:1883, username: pi-1, password_file: /nonexistent/edgecron/mqtt.pass}\n"), 0o644)
	code, out, errs := run(t, "", "next", "--config", cfg, "--trigger", `{"type":"solar","event":"sunset","offset":"-30m","day_of_week":"mon-fri"}`,
		"--from", "2026-06-19T22:00:00+02:00", "--count", "2")
	if want := "2026-06-22T21:03:23+02:00\n2026-06-23T21:03:30+02:00\n"; code != 0 || out != want {
		t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr: %s", code, out, want, errs)
	}
	code, _, errs = run(t, "", "next", "--trigger", `{"type":"solar","event":"sunset"}`)
	if code != 2 || !strings.Contains(errs, "no location") {
		t.Errorf("without a location: exit %d, stderr %s", code, errs)
	}
}

func TestNextBatch(t *testing.T) {
	f := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(f, []byte(`[
	  {"trigger":{"type":"cron","hour":"6","timezone":"UTC"},"from":"2026-11-21T00:00:00Z","count":2},
	  {"trigger":{"type":"cron","hour":"99"},"count":2},
	  {"trigger":{"type":"date","run_date":"2027-01-01 00:00:00","timezone":"UTC"},"from":"2026-11-21T00:00:00Z"},
	  {"trigger":{"type":"and","timezone":"UTC","triggers":[{"type":"cron","day":"1-7","hour":6},{"type":"calendarinterval","weeks":1,"hour":6,"start_date":"2026-11-23"}]},"from":"2026-11-21T00:00:00Z","count":2}
	]`), 0o644)
	code, out, errs := run(t, "", "next", "--batch", f)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res []struct {
		Next  []string `json:"next"`
		Error string   `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if len(res) != 4 {
		t.Fatalf("%d results", len(res))
	}
	if strings.Join(res[0].Next, ",") != "2026-11-21T06:00:00Z,2026-11-22T06:00:00Z" || res[0].Error != "" {
		t.Errorf("item 0: %+v", res[0])
	}
	if res[1].Next == nil || len(res[1].Next) != 0 || !strings.Contains(res[1].Error, "trigger.hour") {
		t.Errorf("item 1: %+v", res[1])
	}
	if strings.Join(res[2].Next, ",") != "2027-01-01T00:00:00Z" {
		t.Errorf("item 2: %+v", res[2])
	}
	if strings.Join(res[3].Next, ",") != "2026-12-07T06:00:00Z,2027-01-04T06:00:00Z" || res[3].Error != "" {
		t.Errorf("item 3: %+v", res[3])
	}
	if !strings.Contains(out, `"next": []`) {
		t.Errorf("a bad item must print \"next\": [], got %s", out)
	}
	if code, _, errs := run(t, "", "next", "--batch", f+".missing"); code != 2 {
		t.Errorf("missing batch file: exit %d (%s)", code, errs)
	}
}
