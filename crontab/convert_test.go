package crontab

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/edgecron/edgecron/command"
	"github.com/edgecron/edgecron/sched"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fragment is what `edgecron crontab import` prints, decoded strictly.
type fragment struct {
	Commands command.Config `yaml:"commands"`
	Jobs     []struct {
		ID      string            `yaml:"id"`
		Name    string            `yaml:"name"`
		Trigger map[string]string `yaml:"trigger"`
		Action  map[string]string `yaml:"action"`
	} `yaml:"jobs"`
}

func convertFile(t *testing.T, name string, o Options) (Result, []byte) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o.Source = name
	res, err := Convert(f, o)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	var buf bytes.Buffer
	if err := res.WriteYAML(&buf); err != nil {
		t.Fatalf("WriteYAML: %v", err)
	}
	golden := filepath.Join("testdata", strings.TrimSuffix(name, ".crontab")+".yaml")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("fragment differs from %s (go test -update rewrites it):\n%s", golden, buf.Bytes())
	}
	return res, buf.Bytes()
}

// checkFragment decodes the fragment as the config loader would and checks
// that every command is valid and every job compiles and names its command.
func checkFragment(t *testing.T, out []byte) fragment {
	t.Helper()
	var fr fragment
	dec := yaml.NewDecoder(bytes.NewReader(out))
	dec.KnownFields(true)
	if err := dec.Decode(&fr); err != nil {
		t.Fatalf("the fragment does not decode: %v", err)
	}
	if err := fr.Commands.Validate(); err != nil {
		t.Errorf("commands: %v", err)
	}
	if len(fr.Jobs) != len(fr.Commands) {
		t.Errorf("%d jobs for %d commands", len(fr.Jobs), len(fr.Commands))
	}
	for _, j := range fr.Jobs {
		if !sched.IDPattern.MatchString(j.ID) {
			t.Errorf("job id %q is not a valid id", j.ID)
		}
		if _, ok := fr.Commands[j.Action["command"]]; !ok || j.Action["type"] != "exec" {
			t.Errorf("job %s: action %v names no converted command", j.ID, j.Action)
		}
		spec := sched.TriggerSpec{Type: j.Trigger["type"], Expr: j.Trigger["expr"], Timezone: j.Trigger["timezone"]}
		if _, err := spec.Compile(time.UTC); err != nil {
			t.Errorf("job %s: trigger %v: %v", j.ID, j.Trigger, err)
		}
	}
	return fr
}

func TestConvertUserCrontab(t *testing.T) {
	res, out := convertFile(t, "pi.crontab", Options{})
	fr := checkFragment(t, out)

	type entry struct {
		line                 int
		name, expr, tz, argv string
		boot                 bool
	}
	var got []entry
	for _, c := range res.Entries {
		got = append(got, entry{c.Line, c.Name, c.Expr, c.Timezone, strings.Join(c.Command.Argv, " | "), c.Boot})
	}
	want := []entry{
		{10, "start-stream", "", "", "/bin/bash | -c | /home/pi/bin/start-stream.sh >/dev/null 2>&1", true},
		{11, "libcamera-still", "*/10 6-20 * * *", "", "/bin/bash | -c | /usr/bin/libcamera-still -n -o /home/pi/photos/$(date +%Y%m%d-%H%M).jpg >/dev/null 2>&1", false},
		{14, "backup", "30 2 * * mon-fri", "", `/bin/bash | -c | cd /home/pi && nice -n 10 ./backup.sh --incremental "$BACKUP_DIR"`, false},
		{15, "backup-2", "30 2 * * sun", "", `/bin/bash | -c | cd /home/pi && nice -n 10 ./backup.sh --full "$BACKUP_DIR"`, false},
		{18, "logrotate", "0 0 * * *", "", "/bin/bash | -c | /usr/sbin/logrotate --state /home/pi/.logrotate.state /home/pi/logrotate.conf", false},
		{19, "python3", "0 */4 * * *", "", "/bin/bash | -c | python3 /home/pi/sensors/upload.py --batch   # indented, tabs", false},
		{22, "vents", "15 8 * jun-aug *", "", "/bin/bash | -c | /home/pi/bin/vents open", false},
		{23, "vents-2", "45 17 * 6-8 *", "", "/bin/bash | -c | /home/pi/bin/vents close", false},
		{24, "report", "0 9 1,15 * *", "", `/bin/bash | -c | /home/pi/bin/report.sh | mail -s "report" pi`, false},
		{30, "never", "0 0 * * *", "", "/bin/bash | -c | * /home/pi/bin/never.sh", false},
		{33, "vents-3", "0 7 * * 1-5", "Europe/Berlin", "/bin/bash | -c | /home/pi/bin/vents open", false},
	}
	if len(got) != len(want) {
		t.Errorf("converted %d entries, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	for _, c := range res.Entries {
		if c.Command.Env["PATH"] != "/home/pi/bin:/usr/local/bin:/usr/bin:/bin" || c.Command.Env["BACKUP_DIR"] != "/mnt/nas/backups" {
			t.Errorf("line %d: env = %v", c.Line, c.Command.Env)
		}
		if _, ok := c.Command.Env["MAILTO"]; ok {
			t.Errorf("line %d: MAILTO leaked into env", c.Line)
		}
		if (c.Line == 30) != strings.Contains(c.Warning, "looks like a time field") {
			t.Errorf("line %d: warning %q", c.Line, c.Warning)
		}
	}

	wantSkipped := map[int]string{
		27: "unescaped % at column 14 of the command: cron turns % into a newline",
		31: `schedule "61 * * * *"`,
		34: `unknown schedule "@every"`,
	}
	for _, n := range res.Skipped {
		w, ok := wantSkipped[n.Line]
		if !ok || !strings.Contains(n.Reason, w) {
			t.Errorf("skipped %s; want a reason containing %q", n, w)
		}
		delete(wantSkipped, n.Line)
	}
	for line, w := range wantSkipped {
		t.Errorf("line %d was not reported (%s)", line, w)
	}

	wantVars := map[int]string{4: "ignored: edgecron sends no mail", 5: "applied: the entries below run as [/bin/bash, -c, <command>]",
		6: "applied: set in the env", 7: "applied: set in the env", 32: "applied: the time zone"}
	for _, n := range res.Variables {
		if w := wantVars[n.Line]; w == "" || !strings.Contains(n.Reason, w) {
			t.Errorf("variable %s; want %q", n, w)
		}
		delete(wantVars, n.Line)
	}
	for line, w := range wantVars {
		t.Errorf("variable on line %d was not reported (%s)", line, w)
	}

	// Every line not converted and every variable is named in the header,
	// and every entry carries its original line as a comment.
	for _, n := range append(res.Skipped, res.Variables...) {
		if !bytes.Contains(out, []byte("# line "+strconv.Itoa(n.Line)+": ")) && !bytes.Contains(out, []byte("#   line "+strconv.Itoa(n.Line)+": ")) {
			t.Errorf("line %d is not named in the fragment", n.Line)
		}
	}
	for _, c := range res.Entries {
		if bytes.Count(out, []byte("# line "+strconv.Itoa(c.Line)+": "+c.Text+"\n")) != 2 {
			t.Errorf("line %d is not a comment over its command and its job", c.Line)
		}
	}
	if len(fr.Jobs) != len(res.Entries) {
		t.Errorf("fragment has %d jobs", len(fr.Jobs))
	}
}

func TestConvertSystemCrontab(t *testing.T) {
	if !IsSystemPath("/etc/crontab") || !IsSystemPath("/etc/cron.d/backup") || IsSystemPath("/var/spool/cron/crontabs/pi") {
		t.Error("IsSystemPath")
	}
	res, out := convertFile(t, "system.crontab", Options{System: true})
	checkFragment(t, out)
	var names []string
	for _, c := range res.Entries {
		names = append(names, c.Name)
		if !strings.Contains(c.Warning, "edgecron runs it as its own user") {
			t.Errorf("line %d: warning %q", c.Line, c.Warning)
		}
	}
	if got := strings.Join(names, " "); got != "cron.hourly cron.daily cron.weekly poll fan-init" {
		t.Errorf("names = %s", got)
	}
	if len(res.Skipped) != 0 {
		t.Errorf("skipped = %v", res.Skipped)
	}
	if res.Entries[3].Command.Argv[0] != "/bin/sh" || !strings.Contains(string(out), `cron ran this as user "pi"`) {
		t.Errorf("entry = %+v", res.Entries[3])
	}
}

func TestConvertEmptyCrontab(t *testing.T) {
	res, err := Convert(strings.NewReader("# nothing\n\nMAILTO=\"\"\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	fr := checkFragment(t, buf.Bytes())
	if len(fr.Commands) != 0 || !strings.Contains(buf.String(), "commands: {}\njobs: []\n") {
		t.Errorf("fragment:\n%s", buf.String())
	}
}

func TestConvertRefusesHugeLines(t *testing.T) {
	in := "0 0 * * * /x\n0 0 * * * " + strings.Repeat("y", maxLine) + "\n"
	_, err := Convert(strings.NewReader(in), Options{})
	if err == nil || !strings.Contains(err.Error(), "crontab line 2: longer than") {
		t.Errorf("Convert = %v", err)
	}
}

func TestCommandName(t *testing.T) {
	tests := map[string]string{
		"/usr/local/bin/backup.sh --full":                        "backup",
		"cd /home/pi && nice -n 10 ./backup.sh":                  "backup",
		"flock -n /tmp/sync.lock rsync -a /a /b":                 "rsync",
		"timeout 30s /opt/Take Photo.py":                         "take",
		"sleep $((RANDOM % 60)); /usr/bin/curl -fsS https:x":     "curl",
		"FOO=1 BAR=2 /opt/app/Run_Me":                            "run_me",
		"test -x /usr/sbin/anacron || run-parts /etc/cron.daily": "cron.daily",
		"[ -x /usr/bin/a ] && /usr/bin/b":                        "b",
		"*":                                                      "cron",
		"echo ---":                                               "echo",
		"/opt/ÜBER/x":                                            "x",
		"/opt/über":                                              "ber",
	}
	for in, want := range tests {
		if got := commandName(in); got != want {
			t.Errorf("commandName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzConvert: every line is accounted for exactly once, and whatever the
// commands contain, the fragment reads back to the same commands.
func FuzzConvert(f *testing.F) {
	for _, name := range []string{"pi.crontab", "system.crontab"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), name == "system.crontab")
	}
	f.Add("* * * * * echo \"a: b\" #c\n@hourly x: y\nA='b'\n", false)
	f.Fuzz(func(t *testing.T, in string, system bool) {
		res, err := Convert(strings.NewReader(in), Options{System: system})
		if err != nil {
			return // a line over maxLine
		}
		seen := map[int]int{}
		for _, c := range res.Entries {
			seen[c.Line]++
		}
		for _, n := range append(res.Variables, res.Skipped...) {
			seen[n.Line]++
		}
		for i, line := range strings.Split(in, "\n") {
			l, err := ParseLine(line, system)
			counted := err != nil || l.Kind == Variable || l.Kind == Entry
			if (seen[i+1] == 1) != counted || seen[i+1] > 1 {
				t.Fatalf("line %d %q accounted for %d times", i+1, line, seen[i+1])
			}
		}
		var buf bytes.Buffer
		if err := res.WriteYAML(&buf); err != nil {
			t.Fatal(err)
		}
		var fr fragment
		dec := yaml.NewDecoder(&buf)
		dec.KnownFields(true)
		if err := dec.Decode(&fr); err != nil {
			t.Fatalf("fragment does not decode: %v\n%s", err, buf.String())
		}
		if len(fr.Commands) != len(res.Entries) || len(fr.Jobs) != len(res.Entries) {
			t.Fatalf("%d entries, fragment has %d commands and %d jobs", len(res.Entries), len(fr.Commands), len(fr.Jobs))
		}
		for i, c := range res.Entries {
			got := fr.Commands[c.Name]
			if strings.Join(got.Argv, "\x00") != strings.Join(c.Command.Argv, "\x00") || len(got.Env) != len(c.Command.Env) {
				t.Fatalf("command %s read back as %+v, want %+v", c.Name, got, c.Command)
			}
			if fr.Jobs[i].ID != c.Name || fr.Jobs[i].Trigger["expr"] != c.Expr {
				t.Fatalf("job %d = %+v", i, fr.Jobs[i])
			}
		}
	})
}
