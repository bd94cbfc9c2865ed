package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sensors/history"
)

// TestDashboard runs the agent with the listener on: the page is served at
// /, and a sensor's readings reach its chart's history (the reading sink
// feeds it); a sensor the config does not have is a JSON 404.
func TestDashboard(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.yaml")
	cfg := fmt.Sprintf(`device_id: dash
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %[1]s/agent.db}
control: {socket: %[1]s/agent.sock}
http: {enabled: true, listen: "127.0.0.1:0"}
sensors:
  - {name: air, driver: sim, interval: 1s}
`, dir)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	notify := notifySocket(t)
	var stderr syncBuffer
	stop := startAgent(t, cfgPath, notify, &stderr)
	defer stop()
	url := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+)/`).FindStringSubmatch(stderr.String())
	if url == nil {
		t.Fatalf("no listening url in the log:\n%s", stderr.String())
	}
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(url[1] + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	if resp, body := get("/"); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(string(body), "/ui/app.js") {
		t.Fatalf("GET /: %s %q\n%s", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	var h struct {
		Sensor string
		Step   int
		Series []struct {
			Name string
			T    []int64
			V    []float64
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, body := get("/sensors/air/history")
		if resp.StatusCode != 200 || json.Unmarshal(body, &h) != nil {
			t.Fatalf("history: %s %s", resp.Status, body)
		}
		if len(h.Series) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reading in the history after 20 s: %s\nlog:\n%s", body, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s := h.Series[0]; h.Sensor != "air" || h.Step != 60 || len(s.T) == 0 || len(s.T) != len(s.V) || time.Since(time.Unix(s.T[len(s.T)-1], 0)) > 2*time.Minute {
		t.Errorf("history %+v", h)
	}
	if resp, body := get("/sensors/nope/history"); resp.StatusCode != 404 || !strings.Contains(string(body), `"code":"not_found"`) {
		t.Errorf("unknown sensor: %s %s", resp.Status, body)
	}
}

// TestReadingsFeedHistory: the reading sink adds every value of a reading
// to the history, with its unit; a reload's retainHistory keeps only the
// sensors the registry still has.
func TestReadingsFeedHistory(t *testing.T) {
	reg, clk := simSensors(t, `device_id: a
hardware: {board: sim}
sensors:
  - {name: air, driver: sim, script: {values: [20.5, 21]}}
`)
	e := &extensions{sensors: reg, hist: history.New(history.DefaultStep, history.DefaultPoints)}
	sink := readingSink{log: newLogger(LogConfig{Level: "warn"}, &syncBuffer{}), hist: e.hist}
	for range 2 {
		r, err := reg.Read(context.Background(), "air")
		if err != nil {
			t.Fatal(err)
		}
		if err := sink.Publish(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	e.hist.Add("gone", "v", "", clk.Now(), 1)
	got := e.hist.Series("air")
	if len(got) != 1 || got[0].Unit != "°C" || len(got[0].Values) != 1 || got[0].Values[0] != 20.75 {
		t.Fatalf("history of air %+v, want one bucket of mean 20.75 °C", got)
	}
	e.retainHistory()
	if e.hist.Series("gone") != nil || e.hist.Series("air") == nil {
		t.Errorf("after a reload: gone %v, air %v; want gone dropped, air kept", e.hist.Series("gone"), e.hist.Series("air"))
	}
	(&extensions{}).retainHistory() // http off: no history, nothing to do
}
