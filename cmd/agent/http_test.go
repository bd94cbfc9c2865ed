package main

import (
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
)

// TestRunHTTP runs the agent with the listener on and drives it over
// HTTP as a user would: the status, the jobs, an actuator; behind a token.
func TestRunHTTP(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("e2e-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "agent.yaml")
	cfg := fmt.Sprintf(`device_id: e2e-http
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %[1]s/agent.db}
control: {socket: %[1]s/agent.sock}
http:
  enabled: true
  listen: 127.0.0.1:0
  auth: {token_file: %[2]s}
sensors:
  - {name: air, driver: sim}
actuators:
  - {name: relay, driver: sim}
jobs:
  - {id: hourly, trigger: {type: interval, hours: 1}, action: {type: read, sensor: air}}
`, dir, token)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	notify := notifySocket(t)
	var stderr syncBuffer
	stop := startAgent(t, cfgPath, notify, &stderr)
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	listening := regexp.MustCompile(`msg=listening component=http url=(http://127\.0\.0\.1:\d+)/`)
	stderr.waitFor(t, "listening", func(log string) bool { return listening.MatchString(log) })
	base := listening.FindStringSubmatch(stderr.String())[1]
	if strings.Contains(stderr.String(), "e2e-token") {
		t.Fatal("the token is in the log")
	}
	call := func(method, path, ctype, body string, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth {
			req.Header.Set("Authorization", "Bearer e2e-token")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := call("GET", "/scheduler", "", "", false); code != 401 {
		t.Errorf("without the token: %d", code)
	}
	code, body := call("GET", "/scheduler", "", "", true)
	var st struct {
		Device string
		Jobs   int
		Clock  struct{ Trusted bool }
		MQTT   *struct{}
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 200 || st.Device != "e2e-http" || st.Jobs != 1 || !st.Clock.Trusted || st.MQTT != nil {
		t.Fatalf("status: %d %s", code, body)
	}
	if code, body := call("POST", "/scheduler/jobs/hourly/run", "", "", true); code != 200 || !strings.Contains(body, `"id":"hourly"`) {
		t.Fatalf("run: %d %s", code, body)
	}
	// The run reads the sensor: its reading shows (polled, within a
	// bound against a hang).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, body := call("GET", "/sensors/air", "", "", true)
		if code == 200 && strings.Contains(body, `"ts":`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("air, after the run: %d %s", code, body)
		}
	}
	// A config job is the file's: HTTP may not change it.
	if code, body := call("DELETE", "/scheduler/jobs/hourly", "", "", true); code != 409 || !strings.Contains(body, "remote: true") {
		t.Errorf("remove a file job: %d %s", code, body)
	}
	if code, body := call("POST", "/actuators/relay", "text/plain", "ON", true); code != 200 || !strings.Contains(body, `"state":"ON"`) {
		t.Fatalf("relay ON: %d %s", code, body)
	}
	if code, body := call("GET", "/actuators/relay", "", "", true); code != 200 || !strings.Contains(body, `"state":"ON"`) {
		t.Errorf("relay: %d %s", code, body)
	}
	stop()
	stop = nil
	if _, err := http.Get(base + "/scheduler"); err == nil {
		t.Error("the listener outlived the agent")
	}
}
