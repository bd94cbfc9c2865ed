package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/sched"
)

// TestExampleConfigs loads every example config shipped in configs/: as
// written, the only problem allowed is a file the device holds (the MQTT
// password); with --hardware sim --broker off each works on any machine.
func TestExampleConfigs(t *testing.T) {
	files, err := filepath.Glob("../../configs/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("example configs: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			_, err := LoadConfig(f)
			var ce *ConfigError
			if errors.As(err, &ce) {
				for _, p := range ce.Problems {
					if p.Path != "mqtt.password_file" {
						t.Errorf("%s: %s", f, p)
					}
				}
			} else if err != nil {
				t.Fatal(err)
			}
			c, err := LoadConfigWith(f, Overrides{Hardware: "sim", Broker: "off"})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(c.jobs) + len((&extensions{}).sensorJobs(c)); n == 0 {
				t.Errorf("%s declares no jobs and no sensor interval", f)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := ParseConfig("x.yaml", []byte("device_id: pi-1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Path != "/var/lib/edgecron/agent.db" || c.Store.CheckpointInterval.D() != time.Minute ||
		c.Store.MaxSize.N() != 64<<20 || c.Hardware.Board != "auto" || c.Scheduler.Workers != 10 ||
		c.Control.Socket != "/run/edgecron/agent.sock" || c.Log.Level != "info" || c.location != time.Local {
		t.Errorf("defaults: %+v", c)
	}
	if c.limits != sched.DefaultLimits() || c.limits.MinInterval != time.Second || c.limits.MaxInstances != 100 || c.limits.MaxPendingRuns != 1000 {
		t.Errorf("limits: %+v", c.limits)
	}
	if g := c.defaults.MisfireGraceTime; g == nil || *g != 300*time.Second || !c.defaults.Coalesce || c.defaults.MaxInstances != 1 {
		t.Errorf("job defaults: %+v", c.defaults)
	}
}

// TestConfigProblems: each bad config names the field and the line.
func TestConfigProblems(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string // substrings of the problems, in order
	}{
		{"unknown top key", "device_id: a\nmqt: {}\n", []string{`line 2: mqt: unknown key (did you mean "mqtt"?)`}},
		{"typo", "device_id: a\ntimezon: UTC\n", []string{`line 2: timezon: unknown key (did you mean "timezone"?)`}},
		{"nested typo", "device_id: a\nlog:\n  level: info\n  fromat: json\n", []string{`line 4: log.fromat: unknown key (did you mean "format"?)`}},
		{"typo in a list entry", "device_id: a\nsensors:\n  - {name: t, driver: sim, intervall: 5s}\n", []string{`line 3: sensors.0.intervall: unknown key (did you mean "interval"?)`}},
		{"no near key", "device_id: a\nstore: {colour: red}\n", []string{`line 2: store.colour: unknown key (known: path, checkpoint_interval, max_size)`}},
		{"bool", "device_id: a\nmqtt: {broker: tcp://h:1883, home_assistant: maybe}\n", []string{`line 2: mqtt.home_assistant: must be true or false, not "maybe"`}},
		{"list wanted", "device_id: a\ngroups: kitchen\n", []string{`line 2: groups: must be a list, not "kitchen"`}},
		{"mapping wanted", "device_id: a\nstore: [1, 2]\n", []string{"line 2: store: must be a mapping of keys, not a list"}},
		{"empty file", "", []string{"line 1: the file is empty"}},
		{"only comments", "# nothing here\n", []string{"line 1: the file is empty"}},
		{"indented a space too little", "device_id: a\nlog:\n  level: info\n format: text\n", []string{"line 4: did not find expected key"}},
		{"unclosed bracket", "device_id: a\ngroups: [a, b\nlog: {level: info}\n", []string{"line 2: "}},
		{"explicit zero workers", "device_id: a\nscheduler: {workers: 0}\n", []string{"line 2: scheduler.workers: 0 is not allowed: leave the key out for the default (10)"}},
		{"explicit zero checkpoint", "device_id: a\nstore:\n  checkpoint_interval: 0s\n", []string{"line 3: store.checkpoint_interval: 0s is not allowed"}},
		{"explicit zero sensor timeout", "device_id: a\nsensors:\n  - {name: t, driver: sim}\n  - {name: u, driver: sim, timeout: 0s}\n", []string{"line 4: sensors.1.timeout: 0s is not allowed: leave the key out for the default (10s)"}},
		{"explicit zero max_on", "device_id: a\nactuators:\n  - name: fan\n    driver: sim\n    safety: {max_on: 0}\n", []string{"line 5: actuators.0.safety.max_on: 0 is not allowed: leave the key out for the default (no limit)"}},
		{"explicit zero keepalive", "device_id: a\nmqtt: {broker: tcp://h:1883, keepalive: 0}\n", []string{"line 2: mqtt.keepalive: 0 is not allowed"}},
		{"tls with tcp", "device_id: a\nmqtt:\n  broker: tcp://h:1883\n  tls: {ca: /x.pem}\n", []string{"mqtt.tls: set, but mqtt.broker \"tcp://h:1883\" is plaintext: write mqtts://h:1883"}},
		{"missing password file", "device_id: a\nmqtt:\n  broker: tcp://h:1883\n  password_file: /nonexistent/mqtt.pass\n", []string{"line 4: mqtt.password_file: open /nonexistent/mqtt.pass: no such file"}},
		{"socket path too long", "device_id: a\ncontrol: {socket: /run/" + strings.Repeat("x", 120) + "}\n", []string{"line 2: control.socket: the path is 125 bytes long; a Unix socket path can have at most 107"}},
		{"job reads a missing sensor", "device_id: a\njobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: read, sensor: nope}}\n", []string{`line 3: jobs.0.action.sensor: no sensor "nope"`}},
		{"job runs an undeclared command", "device_id: a\njobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: exec, command: backup}}\n", []string{"line 3: jobs.0.action.command:"}},
		{"bad actuator command", "device_id: a\nactuators: [{name: fan, driver: sim}]\njobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: actuate, actuator: fan, command: spin}}\n", []string{"line 4: jobs.0.action.command:"}},
		{"negative pulse", "device_id: a\nactuators: [{name: fan, driver: sim}]\njobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: actuate, actuator: fan, command: pulse, duration: -5s}}\n", []string{"line 4: jobs.0.action.duration:"}},
		{"topic outside publish.allow", "device_id: a\npublish: {allow: [farm/#]}\njobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: publish, topic: other/x, payload: hi}}\n", []string{"line 4: jobs.0.action.topic:"}},
		{"unknown action type", "device_id: a\njobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: fly}}\n", []string{`line 3: jobs.0.action.type: unknown action type "fly"`}},
		{"bad device id", "device_id: \"a/b\"\n", []string{"line 1: device_id:", "must match"}},
		{"latitude out of range", "device_id: a\nlocation:\n  latitude: 95\n  longitude: 13.4\n", []string{"line 3: location.latitude: 95: must be from -90 to 90 degrees"}},
		{"location half given", "device_id: a\nlocation: {latitude: 52.5}\n", []string{"line 2: location: give both latitude and longitude"}},
		{"solar job without a location", "device_id: a\njobs:\n  - {id: j, trigger: {type: solar, event: sunset}, action: {type: fly}}\n", []string{"line 3: jobs.0.trigger.latitude: no location"}},
		{"bad zone", "device_id: a\ntimezone: Mars/Olympus\n", []string{"line 2: timezone: unknown time zone"}},
		{"zones disagree", "device_id: a\ntimezone: UTC\nscheduler: {timezone: Europe/Berlin}\n", []string{"line 3: scheduler.timezone:"}},
		{"board", "device_id: a\nhardware:\n  board: pi9\n", []string{"line 3: hardware.board:", "use auto, sim"}},
		{"durations", "device_id: a\nstore:\n  checkpoint_interval: soon\n", []string{"line 3: store.checkpoint_interval: invalid duration"}},
		{"sizes", "device_id: a\nstore: {max_size: lots}\n", []string{"line 2: store.max_size: invalid size"}},
		{"workers", "device_id: a\nscheduler:\n  workers: -3\n", []string{"line 3: scheduler.workers:"}},
		{"defaults", "device_id: a\nscheduler:\n  job_defaults:\n    coalesce: maybe\n    max_instances: 0\n    misfire: 3\n",
			[]string{"line 4: scheduler.job_defaults.coalesce", "line 5: scheduler.job_defaults.max_instances", "line 6: scheduler.job_defaults.misfire: unknown key"}},
		{"several at once", "device_id: a\nlog: {level: loud, format: xml}\nclock: {source: sundial}\n",
			[]string{"log.level", "log.format", "line 3: clock.source"}},
		{"type errors and the rest at once", "device_id: a\nscheduler:\n  workers: many\nlog: {level: loud}\nmqtt: {qos: 7}\nclock: {source: sundial}\n",
			[]string{`line 3: scheduler.workers: must be a whole number, not "many"`, "log.level", "line 6: clock.source"}},
		{"unknown key and the rest at once", "device_id: a\nmqt: {}\nlog: {level: loud}\n",
			[]string{"line 2: mqt: unknown key", "line 3: log.level"}},
		{"bad values go on to the rest", "device_id: a\nsensors:\n  - {name: t, driver: sim, interval: fast}\nstore: {max_size: lots}\nlog: {level: loud}\n",
			[]string{"line 3: sensors.0.interval: invalid duration", "line 4: store.max_size: invalid size", "line 5: log.level"}},
		{"publish filter", "device_id: a\nsensors:\n  - name: t\n    driver: sim\n    publish: {deadband: 0.5}\n", []string{"line 5: sensors.0.publish.deadband: applies only with publish.on_change: true"}},
		{"bad deadband and the rest", "device_id: a\nsensors:\n  - name: t\n    driver: sim\n    publish:\n      on_change: true\n      deadband: 5 percent\nlog: {level: loud}\n",
			[]string{`line 7: sensors.0.publish.deadband: invalid deadband "5 percent"`, "line 8: log.level"}},
		{"sim script", "device_id: a\nsensors:\n  - name: t\n    driver: sim\n    script:\n      wave: saw\n", []string{`line 6: sensors.0.script.wave: must be sine, triangle or square, got "saw"`}},
		{"a value of the wrong kind in a flow mapping", "device_id: a\nsensors:\n  - {name: u, driver: bme280, bus: [1]}\nlog: {level: loud}\n",
			[]string{"line 3: sensors.0.bus: must be a single value, not a list", "line 4: log.level"}},
		{"not a mapping", "- a\n- b\n", []string{"line 1:", "mapping"}},
		{"syntax", "device_id: a\n  b: [\n", []string{"line"}},
		{"job without id", "device_id: a\njobs:\n  - trigger: {type: interval, seconds: 5}\n    action: {type: read, sensor: x}\n",
			[]string{"line 3: jobs.0:", "needs an id"}},
		{"job bad field", "device_id: a\njobs:\n  - id: j\n    trigger: {type: interval, seconds: 5}\n    action: {type: read, sensor: x}\n    colour: red\n",
			[]string{"jobs.0.colour"}},
		{"job bad trigger", "device_id: a\njobs:\n  - id: j\n    trigger:\n      type: cron\n      hour: 25\n    action: {type: read, sensor: x}\n",
			[]string{"line 6: jobs.0.trigger.hour"}},
		{"limits out of range", "device_id: a\nscheduler:\n  min_interval: 0.5ms\n  max_instances: 20000\n  max_pending_runs: -1\n",
			[]string{"line 3: scheduler.min_interval: 500µs is out of range 1ms..1h", "line 4: scheduler.max_instances: 20000 is out of range", "line 5: scheduler.max_pending_runs"}},
		{"job beyond the limits", "device_id: a\njobs:\n  - {id: f, trigger: {type: interval, seconds: 0.000001}, action: {type: read, sensor: x}}\n  - {id: m, trigger: {type: interval, seconds: 5}, action: {type: read, sensor: x}, max_instances: 101}\n",
			[]string{"line 3: jobs.0.trigger: the interval is 1µs: at least 1s on this device (scheduler.min_interval)", "line 4: jobs.1.max_instances: 101 is over this device's limit of 100"}},
		{"job beyond lowered limits", "device_id: a\nscheduler: {min_interval: 1m, max_instances: 2, job_defaults: {max_instances: 3}}\njobs:\n  - {id: f, trigger: {type: interval, seconds: 30}, action: {type: read, sensor: x}}\n",
			[]string{"scheduler.job_defaults.max_instances: 3 is over scheduler.max_instances (2)", "line 4: jobs.0.trigger: the interval is 30s: at least 1m0s"}},
		{"duplicate job", "device_id: a\njobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: read, sensor: x}}\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: read, sensor: x}}\n",
			[]string{"line 4: jobs.1.id: duplicate job id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig("bad.yaml", []byte(tc.yaml))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a *ConfigError", err)
			}
			if exitCode(err) != exitUsage {
				t.Errorf("exit code %d, want %d", exitCode(err), exitUsage)
			}
			msg := err.Error()
			last := 0
			for _, w := range tc.want {
				i := strings.Index(msg[last:], w)
				if i < 0 {
					t.Fatalf("problems do not say %q (in order):\n%s", w, msg)
				}
				last += i
			}
		})
	}
}

// TestNodeJSONKeepsDates: an unquoted date stays the text the user wrote,
// so a naive time is read in the trigger's zone, not as UTC.
func TestNodeJSONKeepsDates(t *testing.T) {
	c, err := ParseConfig("x.yaml", []byte(`device_id: a
jobs:
  - id: once
    trigger: {type: date, run_date: 2030-06-01 08:00:00, timezone: Europe/Berlin}
    action: {type: publish, topic: x/y, payload: {n: 0x10}}
publish: {allow: ["x/#"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.jobs[0].Job.Trigger.RunDate; got != "2030-06-01 08:00:00" {
		t.Errorf("run_date = %q", got)
	}
	if raw := string(c.jobs[0].Job.Action.Raw); !strings.Contains(raw, `"n":16`) {
		t.Errorf("action = %s", raw)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("device_id: a\n"))
	f.Add([]byte("device_id: a\njobs:\n  - {id: j, trigger: {type: cron, hour: 6}, action: {type: read, sensor: x}}\n"))
	f.Add([]byte("scheduler: {job_defaults: {misfire_grace_time: null}}\n"))
	f.Add([]byte("&a [*a]"))
	f.Add([]byte("timezon: UTC\nlog:\n  levl: info\n"))
	f.Add([]byte("log:\n  level: info\n format: text\n"))
	f.Add([]byte("scheduler: {workers: 0}\nstore: {checkpoint_interval: 0s}\n"))
	f.Add([]byte("groups: [a, b\nlog: {level: info}\n"))
	f.Add([]byte("sensors: [{name: t, driver: sim}]\njobs:\n  - {id: j, trigger: {type: interval, seconds: 5}, action: {type: read, sensor: u}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig("fuzz.yaml", data)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
		if err != nil && exitCode(err) != exitUsage {
			t.Fatalf("config error %v maps to exit %d", err, exitCode(err))
		}
	})
}
