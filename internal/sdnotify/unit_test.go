package sdnotify_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const unitPath = "../../configs/edgecron.service"

// unitFile is a systemd unit as section -> key -> values, in file order.
type unitFile map[string]map[string][]string

func parseUnit(t *testing.T, path string) unitFile {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open unit: %v", err)
	}
	defer f.Close()
	u := unitFile{}
	section := ""
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		switch {
		case s == "" || s[0] == '#' || s[0] == ';':
		case s[0] == '[' && s[len(s)-1] == ']':
			section = s[1 : len(s)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(s, "=")
			if !ok || section == "" || strings.HasSuffix(s, `\`) {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", path, line, s)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return u
}

// last is the effective value of a single-valued key.
func (u unitFile) last(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

// words are the space-separated values of a list key, over all its lines.
func (u unitFile) words(section, key string) []string {
	var w []string
	for _, v := range u[section][key] {
		w = append(w, strings.Fields(v)...)
	}
	return w
}

// TestUnitKeys checks the unit says what the agent and the issue rely on.
func TestUnitKeys(t *testing.T) {
	u := parseUnit(t, unitPath)
	exact := []struct{ section, key, want string }{
		{"Service", "Type", "notify"},
		{"Service", "NotifyAccess", "main"},
		{"Service", "ExecStart", "/usr/bin/edgecron run --config /etc/edgecron/agent.yaml"},
		// A reload reports its outcome (docs/cli.md), where SIGHUP could not.
		{"Service", "ExecReload", "/usr/bin/edgecron reload --config /etc/edgecron/agent.yaml"},
		{"Service", "Restart", "on-failure"},
		{"Service", "User", "edgecron"},
		{"Service", "StateDirectory", "edgecron"},
		{"Service", "RuntimeDirectory", "edgecron"},
		{"Service", "WorkingDirectory", "/var/lib/edgecron"},
		{"Service", "ProtectSystem", "strict"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "KillMode", "mixed"},
		{"Install", "WantedBy", "multi-user.target"},
	}
	for _, c := range exact {
		if got := u.last(c.section, c.key); got != c.want {
			t.Errorf("[%s] %s = %q, want %q", c.section, c.key, got, c.want)
		}
	}
	groups := u.words("Service", "SupplementaryGroups")
	for _, g := range []string{"gpio", "i2c"} {
		if !slices.Contains(groups, g) {
			t.Errorf("SupplementaryGroups %v lacks %s", groups, g)
		}
	}
	// The scheduler's capped wake-up (sched.Options.MaxWait) defaults to one
	// minute; the watchdog must allow two of them.
	wd, err := parseSpan(u.last("Service", "WatchdogSec"))
	if err != nil {
		t.Errorf("WatchdogSec: %v", err)
	} else if wd < 2*time.Minute {
		t.Errorf("WatchdogSec = %v, want at least twice the scheduler's 1m capped wake-up", wd)
	}
	// Settings that would break the agent on a Pi.
	for _, key := range []string{"PrivateDevices", "ProtectClock", "ProtectKernelTunables", "DynamicUser"} {
		if v := u.last("Service", key); v != "" && v != "no" {
			t.Errorf("%s=%s: breaks GPIO/I2C access or the clock check (see the unit's comments)", key, v)
		}
	}
	if f := u.words("Service", "SystemCallFilter"); len(f) > 0 && !slices.Contains(f, "adjtimex") {
		t.Errorf("SystemCallFilter %v denies adjtimex, which the clock check needs", f)
	}
}

// parseSpan reads the systemd time spans this unit uses ("90", "90s", "2min").
func parseSpan(s string) (time.Duration, error) {
	unit := time.Second
	n, ok := strings.CutSuffix(s, "min")
	if ok {
		unit = time.Minute
	} else {
		n = strings.TrimSuffix(s, "s")
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%q is not a time span this test reads (N, Ns or Nmin)", s)
	}
	return time.Duration(f * float64(unit)), nil
}

// verifiableUnit writes a copy of the unit whose ExecStart names an
// executable stand-in: systemd-analyze insists that the binary exists.
func verifiableUnit(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "ExecStart=/usr/bin/edgecron ") {
		t.Fatal("ExecStart does not run /usr/bin/edgecron")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "edgecron")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(dir, "edgecron.service")
	// Every command line of the unit (ExecStart, ExecReload) runs the binary.
	text := strings.ReplaceAll(string(raw), "=/usr/bin/edgecron ", "="+bin+" ")
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return unit
}

// TestUnitVerifies lints the unit with systemd's own parser.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: unit not verified")
	}
	out, err := exec.Command(analyze, "verify", "--man=no", verifiableUnit(t)).CombinedOutput()
	// verify reports unknown keys and bad values on stderr yet exits 0: any
	// output at all is a finding.
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestUnitExposure keeps the hardening from eroding: systemd's own rating
// of the unit (0 safest, 10 unconfined) must stay at or below 5.0, "OK".
func TestUnitExposure(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: exposure not rated")
	}
	out, err := exec.Command(analyze, "security", "--offline=yes", "--threshold=50", "--no-pager", verifiableUnit(t)).CombinedOutput()
	if !strings.Contains(string(out), "Overall exposure level") {
		t.Skipf("this systemd-analyze cannot rate a unit file offline (systemd < 250?): %v", err)
	}
	if err != nil {
		t.Errorf("exposure above 5.0: %v\n%s", err, out)
	}
}
