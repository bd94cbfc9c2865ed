package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/mqtt/mqtttest"
)

// TestReloadReadSet runs the agent with a broker and drives it from the
// command line: reload reports accepted and rejected (with every problem,
// exit code to match, an event on <root>/events each time), read and set
// go through the running agent; once it stopped, they open the board.
func TestReloadReadSet(t *testing.T) {
	b := mqtttest.Start(t, mqtttest.Options{})
	prefix := mqtttest.Prefix(t, b.URL)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.yaml")
	write := func(extra string) {
		t.Helper()
		cfg := fmt.Sprintf(`device_id: hw
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: %[1]s/agent.db}
control: {socket: %[1]s/agent.sock}
mqtt: {broker: %[2]q, prefix: %[3]q}
sensors:
  - {name: air, driver: sim, round: 1}
actuators:
  - {name: fan, driver: sim, safety: {max_on: 10m}}
%[4]s`, dir, b.URL, prefix, extra)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("")

	events := make(chan string, 64)
	sub := mqtttest.Client(t, b.URL, nil)
	defer sub.Disconnect(0)
	mqtttest.Wait(t, sub.Subscribe(prefix+"/hw/events", 1, func(_ paho.Client, m paho.Message) { events <- string(m.Payload()) }))
	event := func(want string) string {
		t.Helper()
		deadline := time.After(30 * time.Second)
		for {
			select {
			case e := <-events:
				if strings.Contains(e, want) {
					return e
				}
			case <-deadline:
				t.Fatalf("no event with %q on %s/hw/events", want, prefix)
			}
		}
	}

	notify := notifySocket(t)
	var stderr syncBuffer
	stop := startAgent(t, cfgPath, notify, &stderr)

	// Accepted.
	write("jobs:\n  - {id: j, trigger: {type: interval, hours: 1}, action: {type: read, sensor: air}}\n")
	code, out, errs := run(t, "", "reload", "--config", cfgPath)
	if code != exitOK || !strings.Contains(out, "reloaded") {
		t.Fatalf("reload: exit %d: %s %s", code, out, errs)
	}
	event(`"event":"config_reloaded"`)
	if code, out, _ := run(t, "", "jobs", "list", "--config", cfgPath); code != 0 || !strings.Contains(out, "\nj ") {
		t.Errorf("the reloaded job is not there:\n%s", out)
	}
	// Applied, but a key the running agent was built with waits for a
	// restart: the report says which.
	write("jobs:\n  - {id: j, trigger: {type: interval, hours: 1}, action: {type: read, sensor: air}}\nscheduler: {workers: 3}\n")
	code, out, errs = run(t, "", "reload", "--config", cfgPath)
	if code != exitOK || !strings.Contains(out, "note: not applied until a restart (systemctl restart edgecron): scheduler.workers") {
		t.Errorf("reload with a restart-only change: exit %d:\n%s%s", code, out, errs)
	}
	// The note compares the file with what the agent runs on, not with
	// the last file reloaded: the same file again still waits for the
	// restart, and the file put back as it was needs none.
	code, out, errs = run(t, "", "reload", "--config", cfgPath)
	if code != exitOK || !strings.Contains(out, "note: not applied until a restart (systemctl restart edgecron): scheduler.workers") {
		t.Errorf("the same restart-only change reloaded again: exit %d:\n%s%s", code, out, errs)
	}
	write("jobs:\n  - {id: j, trigger: {type: interval, hours: 1}, action: {type: read, sensor: air}}\n")
	code, out, errs = run(t, "", "reload", "--config", cfgPath)
	if code != exitOK || strings.Contains(out, "note:") {
		t.Errorf("the running config put back: exit %d:\n%s%s", code, out, errs)
	}

	// Rejected: every problem, exit 2, the agent runs on.
	write("jobs:\n  - {id: j, trigger: {type: interval, hours: 1}, action: {type: read, sensor: soil}}\nlog: {level: loud}\n")
	code, out, errs = run(t, "", "reload", "--config", cfgPath)
	if code != exitUsage || !strings.Contains(out, "rejected: 2 problem(s)") ||
		!strings.Contains(out, `line 13: jobs.0.action.sensor: no sensor "soil"`) || !strings.Contains(out, "line 14: log.level:") {
		t.Errorf("rejected reload: exit %d:\n%s%s", code, out, errs)
	}
	e := event(`"event":"config_rejected"`)
	if !strings.Contains(e, `jobs.0.action.sensor`) {
		t.Errorf("rejected event without the problem: %s", e)
	}
	code, out, _ = run(t, "", "reload", "--config", cfgPath, "--json")
	var rep struct {
		Status   string   `json:"status"`
		Problems []string `json:"problems"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitUsage || rep.Status != "rejected" || len(rep.Problems) != 2 {
		t.Errorf("reload --json: exit %d, %+v, %v:\n%s", code, rep, err, out)
	}

	// read and set through the running agent.
	code, out, errs = run(t, "", "read", "air", "--config", cfgPath)
	if code != 0 || !strings.HasPrefix(out, "air  temperature=") || !strings.Contains(out, "°C") {
		t.Errorf("read air: exit %d: %s %s", code, out, errs)
	}
	code, out, _ = run(t, "", "read", "air", "--config", cfgPath, "--json")
	var rd readingJSON
	if err := json.Unmarshal([]byte(out), &rd); err != nil || code != 0 || rd.Sensor != "air" || len(rd.Values) == 0 {
		t.Errorf("read --json: exit %d, %v:\n%s", code, err, out)
	}
	if code, _, errs := run(t, "", "read", "soil", "--config", cfgPath); code != exitUsage || !strings.Contains(errs, `no sensor "soil"`) {
		t.Errorf("read soil: exit %d: %s", code, errs)
	}
	if code, out, errs := run(t, "", "set", "fan", "on", "--config", cfgPath); code != 0 || !strings.HasPrefix(out, "fan: on") {
		t.Errorf("set fan on: exit %d: %q %s", code, out, errs)
	}
	// The safety profile applies: a pulse over max_on is refused.
	if code, _, errs := run(t, "", "set", "fan", "pulse", "1h", "--config", cfgPath); code != exitFailure || !strings.Contains(errs, "max_on") {
		t.Errorf("set fan pulse 1h: exit %d: %s", code, errs)
	}
	code, out, _ = run(t, "", "set", "fan", "set", "0.25", "--config", cfgPath, "--json")
	var st stateJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 || st.Actuator != "fan" || !st.On || st.Value == nil || *st.Value != 0.25 {
		t.Errorf("set --json: exit %d, %v: %s", code, err, out)
	}
	stop()

	// No agent: the board itself (the file is fixed first: it must be valid).
	write("")
	code, out, errs = run(t, "", "read", "air", "--config", cfgPath, "--broker", "off")
	if code != 0 || !strings.HasPrefix(out, "air  temperature=") {
		t.Errorf("offline read: exit %d: %s %s", code, out, errs)
	}
	if code, out, errs := run(t, "", "set", "fan", "off", "--config", cfgPath); code != 0 || !strings.HasPrefix(out, "fan: off") {
		t.Errorf("offline set off: exit %d: %q %s", code, out, errs)
	}
	// on holds until the command is interrupted: here, at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var o, eb syncBuffer
	if code := NewMain(strings.NewReader(""), &o, &eb).Run(ctx, []string{"set", "fan", "on", "--config", cfgPath}); code != 0 ||
		!strings.HasPrefix(o.String(), "fan: on") || !strings.Contains(eb.String(), "Ctrl-C") {
		t.Errorf("offline set on: exit %d: %q %s", code, o.String(), eb.String())
	}
	if code, _, errs := run(t, "", "reload", "--config", cfgPath); code != exitFailure || !strings.Contains(errs, "no agent answers") {
		t.Errorf("reload without an agent: exit %d: %s", code, errs)
	}
}

func TestParseSetArgs(t *testing.T) {
	for _, tc := range []struct {
		words string
		want  actuators.Command
		err   string
	}{
		{"on", actuators.Command{Name: actuators.On}, ""},
		{"OFF", actuators.Command{Name: actuators.Off}, ""},
		{"toggle", actuators.Command{Name: actuators.Toggle}, ""},
		{"pulse 5s", actuators.Command{Name: actuators.Pulse, Duration: 5 * time.Second}, ""},
		{"set 0.4", actuators.Command{Name: actuators.SetTo, Value: 0.4}, ""},
		{"pulse -5s", actuators.Command{}, "duration"},
		{"pulse", actuators.Command{}, "pulse takes 2 word(s)"},
		{"set 1.5", actuators.Command{}, "value"},
		{"set half", actuators.Command{}, "not a number"},
		{"on now", actuators.Command{}, "on takes 1 word(s)"},
		{"spin", actuators.Command{}, `unknown command "spin"`},
	} {
		_, cmd, err := parseSetArgs(strings.Fields(tc.words))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || exitCode(err) != exitUsage {
				t.Errorf("%q: err %v (exit %d), want %q, exit 2", tc.words, err, exitCode(err), tc.err)
			}
			continue
		}
		if err != nil || cmd != tc.want {
			t.Errorf("%q = %+v, %v; want %+v", tc.words, cmd, err, tc.want)
		}
	}
}

// FuzzParseSetArgs: any words give a usage error (exit 2) or a payload the
// MQTT parser reads as the same command.
func FuzzParseSetArgs(f *testing.F) {
	for _, s := range []string{"on", "pulse 5s", "set 0.4", "set NaN", "pulse 1e9h", "toggle x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := strings.Fields(s)
		if len(words) == 0 {
			return
		}
		payload, cmd, err := parseSetArgs(words)
		if err != nil {
			if exitCode(err) != exitUsage {
				t.Fatalf("%q: %v maps to exit %d", s, err, exitCode(err))
			}
			return
		}
		again, err := actuators.ParseSetPayload(payload)
		if err != nil || again != cmd {
			t.Fatalf("%q: payload %s reads back as %+v, %v; want %+v", s, payload, again, err, cmd)
		}
	})
}
