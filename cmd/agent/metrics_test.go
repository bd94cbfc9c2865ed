package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestMetricsEndToEnd: with http.enabled the running agent serves
// /metrics, fed by the scheduler's events, the readings and the outputs;
// the page parses with Prometheus' own parser.
func TestMetricsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cfgPath := filepath.Join(dir, "agent.yaml")
	cfg := fmt.Sprintf(`device_id: metrics
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %[1]s/agent.db}
control: {socket: %[1]s/agent.sock}
http: {enabled: true, listen: "%[2]s"}
sensors:
  - {name: air, driver: sim, interval: 1h}
actuators:
  - {name: pump, driver: sim, safety: {boot: "off", min_switch_interval: 1h}}
jobs:
  - {id: pump-on, trigger: {type: interval, hours: 1}, action: {type: actuate, actuator: pump, command: "on"}}
`, dir, addr)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	notify := notifySocket(t)
	var stderr syncBuffer
	stop := startAgent(t, cfgPath, notify, &stderr)
	defer stop()

	for _, job := range []string{"sensor-air", "pump-on"} {
		if code, _, errs := run(t, "", "jobs", "run", job, "--config", cfgPath); code != 0 {
			t.Fatalf("jobs run %s: %s", job, errs)
		}
	}
	counter := func(fams map[string]*dto.MetricFamily, name, label, value string) float64 {
		f := fams[name]
		if f == nil || f.GetType() != dto.MetricType_COUNTER {
			return -1
		}
		for _, m := range f.Metric {
			if len(m.Label) == 1 && m.Label[0].GetName() == label && m.Label[0].GetValue() == value {
				return m.Counter.GetValue()
			}
		}
		return -1
	}
	var fams map[string]*dto.MetricFamily
	deadline := time.Now().Add(10 * time.Second)
	for {
		fams = scrape(t, "http://"+addr+"/metrics")
		if counter(fams, "edgecron_job_runs_total", "job", "pump-on") == 1 && counter(fams, "edgecron_actuator_switches_total", "actuator", "pump") == 1 &&
			counter(fams, "edgecron_sensor_readings_total", "sensor", "air") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the runs never showed on the page: %v", fams)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v := counter(fams, "edgecron_job_runs_total", "job", "sensor-air"); v != 1 {
		t.Errorf("runs of sensor-air = %g, want 1", v)
	}
	// Switched on a moment ago: off is refused by min_switch_interval.
	if code, _, _ := run(t, "", "set", "pump", "off", "--config", cfgPath); code == 0 {
		t.Fatal("set pump off was not refused")
	}
	fams = scrape(t, "http://"+addr+"/metrics")
	if v := counter(fams, "edgecron_actuator_refusals_total", "actuator", "pump"); v != 1 {
		t.Errorf("refusals of pump = %g, want 1", v)
	}
	if f := fams["edgecron_store_commits_total"]; f == nil || f.Metric[0].Counter.GetValue() < 1 {
		t.Errorf("store commits: %v", f)
	}
	for _, absent := range []string{"edgecron_outbox_queued", "edgecron_mqtt_connected"} {
		if fams[absent] != nil {
			t.Errorf("%s without a broker", absent)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_resident_memory_bytes"] == nil {
		t.Error("no process series")
	}
	// Only GET (and HEAD): the listener's JSON 405 for the rest.
	res, err := http.Post("http://"+addr+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 405 || !strings.Contains(string(b), "method_not_allowed") {
		t.Errorf("POST /metrics: %d %s", res.StatusCode, b)
	}
}

func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d, %v", url, res.StatusCode, err)
	}
	return fams
}
