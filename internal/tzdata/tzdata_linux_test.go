package tzdata

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The child of TestWithoutSystemZones: a process that sees no zone files.
const envChild = "EDGECRON_TZDATA_CHILD"

// TestWithoutSystemZones runs a child in its own user and mount namespaces
// with empty directories over every place time looks for zone files, as on
// a minimal image: time.LoadLocation and TZ must still resolve IANA zones,
// through this package alone.
func TestWithoutSystemZones(t *testing.T) {
	if os.Getenv(envChild) != "" {
		withoutSystemZones(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWithoutSystemZones$", "-test.v")
	cmd.Env = append(os.Environ(), envChild+"=1", "TZ=Europe/Berlin", "ZONEINFO=")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	switch {
	case err != nil && cmd.ProcessState == nil:
		t.Skipf("no user and mount namespaces here: %v", err)
	case strings.Contains(string(out), "--- SKIP"):
		t.Skipf("the child could not hide the zone files:\n%s", out)
	case err != nil || !strings.Contains(string(out), "--- PASS"):
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func withoutSystemZones(t *testing.T) {
	// Private, so that nothing mounted here is seen outside the namespace.
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		t.Skipf("make / private: %v", err)
	}
	dirs := []string{"/usr/share/zoneinfo", "/usr/share/lib/zoneinfo", "/usr/lib/locale/TZ", "/etc/zoneinfo",
		filepath.Join(runtime.GOROOT(), "lib", "time")}
	for _, d := range dirs {
		if _, err := os.Stat(d); err != nil {
			continue
		}
		if err := syscall.Mount("tmpfs", d, "tmpfs", 0, ""); err != nil {
			t.Skipf("hide %s: %v", d, err)
		}
	}
	if _, err := os.Stat("/usr/share/zoneinfo/Europe/Berlin"); err == nil {
		t.Fatal("the system's zone files are still visible")
	}
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatalf("LoadLocation: %v", err)
	}
	if _, off := time.Date(2026, 7, 1, 12, 0, 0, 0, loc).Zone(); off != -4*3600 {
		t.Errorf("New York in July: offset %d, want -4h", off)
	}
	if _, err := time.LoadLocation("Nowhere/City"); err == nil {
		t.Error("Nowhere/City loaded")
	}
	// TZ=Europe/Berlin names the local zone.
	if name, off := time.Date(2026, 1, 15, 12, 0, 0, 0, time.Local).Zone(); name != "CET" || off != 3600 {
		t.Errorf("local zone from TZ=Europe/Berlin: %s %d, want CET 3600", name, off)
	}
}
