package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGPIOConfig: the config.txt lines come out uncommented, one per gpio
// output at its safe level, with everything else a comment, so the output
// can be appended to config.txt as it is; a bad config changes nothing and
// exits 2.
func TestGPIOConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "agent.yaml")
	os.WriteFile(good, []byte(`device_id: t
actuators:
  - {name: pump, driver: gpio, pin: GPIO17, active_low: true}
  - {name: heater, driver: gpio, pin: GPIO18, safety: {boot: on}}
  - {name: vent, driver: gpio, pin: GPIO23, safety: {shutdown: on}}
  - {name: fan, driver: pwm}
`), 0o644)
	code, out, errs := run(t, "", "gpio-config", "--config", good)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "#") {
			lines = append(lines, strings.Fields(l)[0])
		}
	}
	if got, want := strings.Join(lines, " "), "gpio=17=op,dh gpio=18=op,dl gpio=23=op,dh"; got != want {
		t.Errorf("config.txt lines %q, want %q\n%s", got, want, out)
	}
	for _, row := range []string{"pump    GPIO17  high  high  pull-up", "heater  GPIO18  high  low   pull-down"} {
		if !strings.Contains(out, row) {
			t.Errorf("no row %q in\n%s", row, out)
		}
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("device_id: t\nactuators:\n  - {name: pump, driver: gpio}\n"), 0o644)
	if code, out, errs := run(t, "", "gpio-config", "--config", bad); code != 2 || out != "" || !strings.Contains(errs, "actuators.0.pin: is required") {
		t.Errorf("bad config: exit %d, out %q, err %q", code, out, errs)
	}
	// A device's config names files of the device: --broker off reads it
	// elsewhere, as for run and check-config.
	device := filepath.Join(dir, "device.yaml")
	os.WriteFile(device, []byte("device_id: t\nmqtt: {broker: tcp://10.0.0.5:1883, username: t, password_file: "+filepath.Join(dir, "absent.pass")+"}\nactuators:\n  - {name: pump, driver: gpio, pin: GPIO17}\n"), 0o644)
	if code, out, errs := run(t, "", "gpio-config", "--config", device); code != 2 || out != "" || !strings.Contains(errs, "mqtt.password_file") {
		t.Errorf("missing password file: exit %d, out %q, err %q", code, out, errs)
	}
	if code, out, errs := run(t, "", "gpio-config", "--config", device, "--broker", "off"); code != 0 || !strings.Contains(out, "gpio=17=op,dl") {
		t.Errorf("--broker off: exit %d, out %q, err %q", code, out, errs)
	}
	none := filepath.Join(dir, "none.yaml")
	os.WriteFile(none, []byte("device_id: t\n"), 0o644)
	if code, out, _ := run(t, "", "gpio-config", "--config", none); code != 0 || !strings.Contains(out, "no gpio outputs") {
		t.Errorf("no outputs: exit %d, %q", code, out)
	}
}
