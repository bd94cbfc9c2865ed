package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckConfigIsRun feeds the same broken configs to check-config and
// to run: both refuse them with exit 2 and the same problems, and run
// creates nothing (no store file, no socket) before refusing.
func TestCheckConfigIsRun(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"job reads a missing sensor", "jobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: read, sensor: nope}}\n",
			`line 6: jobs.0.action.sensor: no sensor "nope"`},
		{"undeclared command", "jobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: exec, command: backup}}\n",
			"line 6: jobs.0.action.command:"},
		{"bad actuator command", "actuators: [{name: fan, driver: sim}]\njobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: actuate, actuator: fan, command: spin}}\n",
			"line 7: jobs.0.action.command:"},
		{"negative pulse", "actuators: [{name: fan, driver: sim}]\njobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: actuate, actuator: fan, command: pulse, duration: -5s}}\n",
			"line 7: jobs.0.action.duration:"},
		{"topic outside publish.allow", "publish: {allow: [farm/#]}\njobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: publish, topic: other/x, payload: hi}}\n",
			"line 7: jobs.0.action.topic:"},
		{"missing password file", "mqtt: {broker: tcp://127.0.0.1:1883, password_file: /nonexistent/pass}\n",
			"line 5: mqtt.password_file: open /nonexistent/pass: no such file"},
		{"tls with a plaintext broker", "mqtt: {broker: tcp://127.0.0.1:1883, tls: {ca: /x.pem}}\n",
			"mqtt.tls: set, but mqtt.broker"},
		{"typo", "timezon: UTC\n", `line 5: timezon: unknown key (did you mean "timezone"?)`},
		{"explicit zero", "scheduler: {workers: 0}\n", "line 5: scheduler.workers: 0 is not allowed"},
		{"long socket", "control: {socket: /tmp/" + strings.Repeat("s", 110) + "}\n", "control.socket: the path is 115 bytes long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "agent.yaml")
			store := filepath.Join(dir, "agent.db")
			body := fmt.Sprintf("device_id: v\nclock: {source: rtc}\nhardware: {board: sim}\nstore: {path: %s}\n%s", store, tc.body)
			if !strings.Contains(tc.body, "control:") {
				body += "control: {socket: " + filepath.Join(dir, "agent.sock") + "}\n"
			}
			if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			verdict := func(args ...string) (int, string) {
				var out, errs bytes.Buffer
				code := NewMain(strings.NewReader(""), &out, &errs).Run(context.Background(), args)
				return code, out.String() + errs.String()
			}
			ccCode, ccOut := verdict("check-config", "--config", cfg)
			runCode, runOut := verdict("run", "--config", cfg)
			if ccCode != exitUsage || runCode != exitUsage {
				t.Errorf("exit codes: check-config %d, run %d; want %d for both", ccCode, runCode, exitUsage)
			}
			for name, out := range map[string]string{"check-config": ccOut, "run": runOut} {
				if !strings.Contains(out, tc.want) {
					t.Errorf("%s does not say %q:\n%s", name, tc.want, out)
				}
			}
			// The same problems, word for word.
			for _, line := range strings.Split(ccOut, "\n") {
				if strings.HasPrefix(line, "  line ") || strings.HasPrefix(line, "  mqtt") {
					if !strings.Contains(runOut, line) {
						t.Errorf("run does not report check-config's %q:\n%s", line, runOut)
					}
				}
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Errorf("run left files behind before refusing: %v", ents)
			}
		})
	}
}
