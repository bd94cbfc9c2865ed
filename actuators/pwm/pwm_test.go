package pwm

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edgecron/edgecron/actuators"
	"github.com/edgecron/edgecron/board/boardtest"
	"github.com/edgecron/edgecron/sched/schedtest"
)

// sysfs copies the fake /sys tree to a temporary directory the test may
// write.
func sysfs(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS("testdata/sys")); err != nil {
		t.Fatal(err)
	}
	return root
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func TestChannel(t *testing.T) {
	root := sysfs(t)
	dir := filepath.Join(root, "class/pwm/pwmchip0/pwm0")
	tests := []struct {
		invert bool
		v      float64
		duty   string
	}{
		{false, 0, "0"},
		{false, 0.4, "16000"},
		{false, 1, "40000"},
		{true, 0.25, "30000"},
	}
	for _, tt := range tests {
		c, err := Open(filepath.Join(root, "class/pwm"), 0, 0, 25000, tt.invert)
		if err != nil {
			t.Fatal(err)
		}
		if got := read(t, filepath.Join(dir, "period")); got != "40000" {
			t.Fatalf("period %s", got)
		}
		if err := c.Set(tt.v); err != nil {
			t.Fatal(err)
		}
		if got := read(t, filepath.Join(dir, "duty_cycle")); got != tt.duty {
			t.Errorf("invert %v, %v: duty %s, want %s", tt.invert, tt.v, got, tt.duty)
		}
		if got := read(t, filepath.Join(dir, "enable")); got != "1" {
			t.Errorf("enable %s", got)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	root := sysfs(t)
	tests := []struct {
		chip, ch int
		want     string
	}{
		{1, 0, "chip: "},
		{0, 5, "channel: pwmchip0 has 2 channels, no channel 5"},
		{0, 1, "pwm1 did not appear after export"},
	}
	for _, tt := range tests {
		_, err := Open(filepath.Join(root, "class/pwm"), tt.chip, tt.ch, 1000, false)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("chip %d channel %d: got %v, want %q", tt.chip, tt.ch, err, tt.want)
		}
	}
	if got := read(t, filepath.Join(root, "class/pwm/pwmchip0/export")); got != "1" {
		t.Errorf("export got %q", got)
	}
}

func TestThroughTheSet(t *testing.T) {
	root := sysfs(t)
	hw := &boardtest.Hardware{Root: root}
	s, err := actuators.Build([]actuators.Config{{Name: "fan", Driver: "pwm", Frequency: 100}}, hw, schedtest.NewFakeClock(time.Time{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply("fan", actuators.Command{Name: actuators.SetTo, Value: 0.5}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "class/pwm/pwmchip0/pwm0/duty_cycle")); got != "5000000" {
		t.Fatalf("duty %s", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(root, "class/pwm/pwmchip0/pwm0/duty_cycle")); got != "0" {
		t.Fatalf("duty after shutdown %s", got)
	}
}

// TestWaitsForUdev: right after an export the files may not be writable
// yet; Open retries on permission errors, a bounded number of times.
func TestWaitsForUdev(t *testing.T) {
	root := sysfs(t)
	denied := 3
	var waits []time.Duration
	writeFile = func(path, v string) error {
		if denied > 0 {
			denied--
			return &os.PathError{Op: "open", Path: path, Err: os.ErrPermission}
		}
		return write(path, v)
	}
	sleep = func(d time.Duration) { waits = append(waits, d) }
	t.Cleanup(func() { writeFile, sleep = write, time.Sleep })

	if _, err := Open(filepath.Join(root, "class/pwm"), 0, 0, 1000, false); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 3 {
		t.Fatalf("waited %v", waits)
	}

	denied, waits = 1000, nil
	_, err := Open(filepath.Join(root, "class/pwm"), 0, 0, 1000, false)
	if !errors.Is(err, os.ErrPermission) || len(waits) != udevRetries {
		t.Fatalf("got %v after %d waits", err, len(waits))
	}
}
