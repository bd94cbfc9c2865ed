package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/edgecron/edgecron/sched"
)

func TestTriggerSummary(t *testing.T) {
	for doc, want := range map[string]string{
		`{"type":"calendarinterval","months":1,"hour":8,"start_date":"2026-01-31"}`:                            "calendarinterval[months=1, hour='8']",
		`{"type":"or","triggers":[{"type":"cron","hour":6},{"type":"date","run_date":"2027-01-01"}]}`:          "or[cron[hour='6'], date[2027-01-01]]",
		`{"type":"solar","event":"sunset","offset":"-30m","day_of_week":"mon-fri","timezone":"Europe/Berlin"}`: "solar[event='sunset', offset='-30m', day_of_week='mon-fri', timezone='Europe/Berlin']",
		`{"type":"boot","delay":"2m"}`: "boot[delay='2m']",
	} {
		var spec sched.TriggerSpec
		if err := json.Unmarshal([]byte(doc), &spec); err != nil {
			t.Fatal(err)
		}
		if got := triggerSummary(spec); got != want {
			t.Errorf("%s: %s, want %s", doc, got, want)
		}
	}
}

func TestKernelBootID(t *testing.T) {
	old := bootIDPath
	defer func() { bootIDPath = old }()
	bootIDPath = filepath.Join(t.TempDir(), "boot_id")
	if id := kernelBootID(); id != "" {
		t.Errorf("no file: %q", id)
	}
	os.WriteFile(bootIDPath, []byte("5d2c8e1e-1c1f-4e0a-9a43-0c0d5d0e2f11\n"), 0o444)
	if id := kernelBootID(); id != "5d2c8e1e-1c1f-4e0a-9a43-0c0d5d0e2f11" {
		t.Errorf("boot id %q", id)
	}
}
