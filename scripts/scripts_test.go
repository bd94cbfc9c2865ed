// Package scripts_test runs the shell scripts of scripts/ the way a user
// and CI do: install.sh into a temporary root, cross-build.sh on a tiny
// main, and shellcheck over all of them where it is installed.
package scripts_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// run runs a script from the repository root with a clean DESTDIR and
// returns its combined output and exit code.
func run(t *testing.T, cred *syscall.Credential, env []string, script string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "DESTDIR=")
	cmd.Env = append(cmd.Env, env...)
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("%s %v: %v\n%s", script, args, err, out)
	return "", -1
}

// runEnv runs a script from the repository root with exactly env.
func runEnv(t *testing.T, env []string, script string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Dir = ".."
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("%s %v: %v\n%s", script, args, err, out)
	return "", -1
}

func goEnv(t *testing.T, key string) string {
	t.Helper()
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", key, err)
	}
	return strings.TrimSpace(string(out))
}

func write(t *testing.T, path, text string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// entries returns the lines of an /etc/passwd-style file whose name is name.
func entries(t *testing.T, path, name string) [][]string {
	var out [][]string
	for _, line := range strings.Split(read(t, path), "\n") {
		f := strings.Split(line, ":")
		if f[0] == name {
			out = append(out, f)
		}
	}
	return out
}

func TestInstall(t *testing.T) {
	modes := []struct {
		name string
		cred *syscall.Credential // nil: as the test runs
	}{{"as invoked", nil}}
	if os.Geteuid() == 0 {
		// Unprivileged, useradd cannot chroot: the script edits the files.
		modes = append(modes, struct {
			name string
			cred *syscall.Credential
		}{"unprivileged", &syscall.Credential{Uid: 65534, Gid: 65534}})
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { testInstall(t, m.cred) })
	}
}

func testInstall(t *testing.T, cred *syscall.Credential) {
	if cred != nil {
		unit, err := filepath.Abs("../configs/edgecron.service")
		if err != nil {
			t.Fatal(err)
		}
		probe := exec.Command("test", "-r", unit) // by absolute path, as the script reads it
		probe.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if err := probe.Run(); err != nil {
			t.Skipf("the repository is not readable by uid %d (%v)", cred.Uid, err)
		}
	}
	tmp := t.TempDir()
	root := filepath.Join(tmp, "root")
	open := os.FileMode(0o644)
	if cred != nil {
		open = 0o666
	}
	write(t, root+"/etc/passwd", "root:x:0:0:root:/root:/bin/bash\npi:x:1000:1000::/home/pi:/bin/bash\n", open)
	write(t, root+"/etc/group", "root:x:0:\npi:x:1000:\n", open)
	write(t, root+"/etc/shadow", "root:*::0:99999:7:::\npi:*::0:99999:7:::\n", open)
	write(t, root+"/etc/gshadow", "root:*::\npi:!::\n", open)
	bin := filepath.Join(tmp, "agent")
	write(t, bin, "#!/bin/sh\necho agent v1\n", 0o755)
	conf := filepath.Join(tmp, "example.yaml")
	write(t, conf, "device_id: test-pi\n", 0o644)
	if cred != nil {
		for _, d := range []string{filepath.Dir(tmp), tmp, root, root + "/etc"} {
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
		}
	}
	install := func(args ...string) string {
		t.Helper()
		out, code := run(t, cred, nil, "scripts/install.sh", append([]string{"--root", root}, args...)...)
		if code != 0 {
			t.Fatalf("install.sh %v: exit %d\n%s", args, code, out)
		}
		return out
	}

	// The unit runs the binary where install.sh puts it, not the package's.
	unit := strings.ReplaceAll(read(t, "../configs/edgecron.service"), "=/usr/bin/edgecron ", "=/usr/local/bin/edgecron ")
	if !strings.Contains(unit, "ExecStart=/usr/local/bin/edgecron run ") {
		t.Fatal("configs/edgecron.service does not run /usr/bin/edgecron")
	}
	// An install from before the rename, which the first run removes.
	write(t, root+"/usr/local/bin/agent", "#!/bin/sh\necho agent v0\n", 0o755)
	write(t, root+"/etc/systemd/system/edgecron-agent.service", "[Service]\n", 0o644)
	if cred != nil { // as an earlier install by the same user left them
		for _, d := range []string{"/usr", "/usr/local", "/usr/local/bin", "/usr/local/bin/agent", "/etc/systemd", "/etc/systemd/system"} {
			if err := os.Chown(root+d, int(cred.Uid), int(cred.Gid)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := 1; i <= 2; i++ { // the second run must change nothing
		out := install("--config", conf, bin)
		if got := read(t, root+"/usr/local/bin/edgecron"); got != "#!/bin/sh\necho agent v1\n" {
			t.Errorf("run %d: binary = %q", i, got)
		}
		if st, err := os.Stat(root + "/usr/local/bin/edgecron"); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("run %d: binary mode: %v %v", i, st.Mode(), err)
		}
		if read(t, root+"/etc/systemd/system/edgecron.service") != unit {
			t.Errorf("run %d: the installed unit differs from configs/edgecron.service", i)
		}
		if got := read(t, root+"/etc/edgecron/agent.yaml"); got != "device_id: test-pi\n" {
			t.Errorf("run %d: agent.yaml = %q", i, got)
		}
		for _, g := range []string{"gpio", "i2c", "edgecron"} {
			if n := len(entries(t, root+"/etc/group", g)); n != 1 {
				t.Errorf("run %d: group %s appears %d times", i, g, n)
			}
		}
		users := entries(t, root+"/etc/passwd", "edgecron")
		if len(users) != 1 {
			t.Fatalf("run %d: user edgecron appears %d times\n%s", i, len(users), out)
		}
		if grp := entries(t, root+"/etc/group", "edgecron"); users[0][3] != grp[0][2] {
			t.Errorf("run %d: edgecron's gid %s is not group edgecron's %s", i, users[0][3], grp[0][2])
		}
		if users[0][5] != "/var/lib/edgecron" || users[0][6] != "/usr/sbin/nologin" {
			t.Errorf("run %d: edgecron user = %v", i, users[0])
		}
		for _, gone := range []string{"/usr/local/bin/agent", "/etc/systemd/system/edgecron-agent.service"} {
			if _, err := os.Stat(root + gone); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("run %d left the old %s (%v)", i, gone, err)
			}
		}
		if strings.Contains(out, "edgecron-agent.service") != (i == 1) {
			t.Errorf("run %d said it removed the old unit (or the first did not):\n%s", i, out)
		}
		if strings.Contains(out, "created") != (i == 1) {
			t.Errorf("run %d created accounts (or the first did not):\n%s", i, out)
		}
	}
	if len(entries(t, root+"/etc/passwd", "pi")) != 1 {
		t.Error("the existing user pi was lost")
	}

	// An upgrade replaces the binary and keeps an edited config.
	write(t, root+"/etc/edgecron/agent.yaml", "device_id: edited\n", 0o640)
	write(t, bin, "#!/bin/sh\necho agent v2\n", 0o755)
	out := install("--config", conf, bin)
	if got := read(t, root+"/usr/local/bin/edgecron"); !strings.Contains(got, "v2") {
		t.Errorf("upgrade: binary = %q", got)
	}
	if got := read(t, root+"/etc/edgecron/agent.yaml"); got != "device_id: edited\n" {
		t.Errorf("upgrade overwrote the config: %q", got)
	}
	if !strings.Contains(out, "kept the existing") {
		t.Errorf("upgrade did not say it kept the config:\n%s", out)
	}

	// Uninstall, twice, keeps the config and the store.
	write(t, root+"/var/lib/edgecron/agent.db", "store", 0o640)
	for i := 1; i <= 2; i++ {
		install("--uninstall")
		for _, gone := range []string{"/usr/local/bin/edgecron", "/etc/systemd/system/edgecron.service", "/usr/local/share/edgecron"} {
			if _, err := os.Stat(root + gone); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("uninstall %d left %s (%v)", i, gone, err)
			}
		}
		if read(t, root+"/var/lib/edgecron/agent.db") != "store" || read(t, root+"/etc/edgecron/agent.yaml") != "device_id: edited\n" {
			t.Errorf("uninstall %d lost the store or the config", i)
		}
	}
}

// TestInstallDefaults installs with no --config: configs/pi.yaml becomes
// agent.yaml and every example lands in the examples directory.
func TestInstallDefaults(t *testing.T) {
	root := t.TempDir()
	write(t, root+"/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644)
	write(t, root+"/etc/group", "root:x:0:\n", 0o644)
	bin := filepath.Join(t.TempDir(), "agent")
	write(t, bin, "#!/bin/sh\n", 0o755)
	if out, code := run(t, nil, nil, "scripts/install.sh", "--root", root, bin); code != 0 {
		t.Fatalf("install.sh: exit %d\n%s", code, out)
	}
	if read(t, root+"/etc/edgecron/agent.yaml") != read(t, "../configs/pi.yaml") {
		t.Error("agent.yaml is not configs/pi.yaml")
	}
	examples, err := filepath.Glob("../configs/*.yaml")
	if err != nil || len(examples) == 0 {
		t.Fatalf("no example configs: %v", err)
	}
	for _, e := range examples {
		if read(t, root+"/usr/local/share/edgecron/examples/"+filepath.Base(e)) != read(t, e) {
			t.Errorf("example %s not installed as is", filepath.Base(e))
		}
	}
}

// TestExampleConfigsUseHostDefaults keeps the example configs honest: none
// sets the device's name or the scheduler's zone, which default to the
// host's hostname and zone; their comments show how to set them.
func TestExampleConfigsUseHostDefaults(t *testing.T) {
	files, err := filepath.Glob("../configs/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example configs: %v", err)
	}
	for _, f := range files {
		section := ""
		for i, line := range strings.Split(read(t, f), "\n") {
			key, _, ok := strings.Cut(strings.TrimSpace(line), ":")
			if !ok || strings.HasPrefix(key, "#") || strings.HasPrefix(key, "-") {
				continue
			}
			if !strings.HasPrefix(line, " ") {
				section = key
			}
			path := key
			if section != key {
				path = section + "." + key
			}
			switch path {
			case "device_id", "timezone", "scheduler.timezone":
				t.Errorf("%s:%d sets %s; the example must default to the host's (a comment may show how to set it)", f, i+1, path)
			}
		}
		for _, want := range []string{"# device_id:", "# timezone:"} {
			if !strings.Contains(read(t, f), want) {
				t.Errorf("%s does not show how to set %s", f, strings.TrimPrefix(want, "# "))
			}
		}
	}
}

func TestInstallRefuses(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--bogus"}, 2, "unknown option --bogus"},
		{[]string{"--root"}, 2, "--root needs a directory"},
		{[]string{"--root", root, "a", "b"}, 2, "more than one binary"},
		{[]string{"--root", root, filepath.Join(root, "nope")}, 1, "nope not found"},
		{[]string{"--root", filepath.Join(root, "missing"), "x"}, 1, "is not a directory"},
	}
	for _, tt := range tests {
		out, code := run(t, nil, nil, "scripts/install.sh", tt.args...)
		if code != tt.code || !strings.Contains(out, tt.msg) {
			t.Errorf("install.sh %v: exit %d %q, want exit %d and %q", tt.args, code, out, tt.code, tt.msg)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("a refused install wrote into the root: %v", entries)
	}
}

// TestBoardTarget checks the binary chosen per board, with dpkg and uname
// faked on PATH.
func TestBoardTarget(t *testing.T) {
	tests := []struct {
		deb, machine, want string
	}{
		{"armhf", "armv6l", "armv6"},  // Pi Zero / 1, Raspberry Pi OS 32-bit
		{"armhf", "armv7l", "armv7"},  // Pi 2 / 3, 32-bit
		{"armhf", "aarch64", "armv7"}, // Pi 4, 64-bit kernel under a 32-bit userland
		{"arm64", "aarch64", "arm64"}, // Pi 3 / 4 / 5, 64-bit OS
		{"armel", "armv6l", "armv6"},  // Debian armel
		{"amd64", "x86_64", "amd64"},  // a PC
		{"", "aarch64", "arm64"},      // no dpkg
		{"", "armv7l", "armv7"},       // no dpkg
		{"", "armv6l", "armv6"},       // no dpkg
		{"", "mips", "no edgecron build"},
		{"i386", "i686", "no edgecron build"},
	}
	for _, tt := range tests {
		t.Run(tt.deb+"-"+tt.machine, func(t *testing.T) {
			dir := t.TempDir()
			dpkg := "#!/bin/sh\nexit 1\n"
			if tt.deb != "" {
				dpkg = "#!/bin/sh\necho " + tt.deb + "\n"
			}
			write(t, dir+"/dpkg", dpkg, 0o755)
			write(t, dir+"/uname", "#!/bin/sh\necho "+tt.machine+"\n", 0o755)
			out, code := run(t, nil, []string{"PATH=" + dir + ":" + os.Getenv("PATH")}, "scripts/install.sh", "--print-binary")
			wantCode := 0
			if strings.HasPrefix(tt.want, "no ") {
				wantCode = 1
			} else if !strings.HasSuffix(strings.TrimSpace(out), "/dist/edgecron-linux-"+tt.want) {
				t.Errorf("got %q, want the dist/ path of %s", out, tt.want)
			}
			if code != wantCode || !strings.Contains(out, tt.want) {
				t.Errorf("exit %d %q, want exit %d and %q", code, out, wantCode, tt.want)
			}
		})
	}
}

// TestCrossBuild builds a tiny main for two targets and checks the sums,
// the sizes and the stamped version.
func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	mod, out := t.TempDir(), t.TempDir()
	write(t, mod+"/go.mod", "module tiny\n\ngo 1.25\n", 0o644)
	write(t, mod+"/main.go", "package main\n\nvar version = \"dev\"\n\nfunc main() { println(\"agent\", version) }\n", 0o644)
	env := []string{"OUT=" + out, "MODDIR=" + mod, "PKG=.", "VERSION=v0.0.0-test"}
	if !have("dpkg-deb") { // not a Debian machine (ci-deb.sh insists on one)
		env = append(env, "DEBS=0")
	}
	text, code := run(t, nil, env, "scripts/cross-build.sh", "amd64", "armv6")
	if code != 0 {
		t.Fatalf("cross-build: exit %d\n%s", code, text)
	}
	sums := read(t, out+"/SHA256SUMS")
	files := []string{"edgecron-linux-amd64", "edgecron-linux-armv6"}
	if have("dpkg-deb") { // the armv6 binary goes into the armhf package
		files = append(files, "edgecron_0.0.0~test_amd64.deb", "edgecron_0.0.0~test_armhf.deb")
		o, err := exec.Command("dpkg-deb", "--field", out+"/edgecron_0.0.0~test_armhf.deb", "Architecture").Output()
		if err != nil || strings.TrimSpace(string(o)) != "armhf" {
			t.Errorf("armhf package: Architecture %q (%v)", o, err)
		}
		x := t.TempDir()
		if o, err := exec.Command("dpkg-deb", "--extract", out+"/edgecron_0.0.0~test_armhf.deb", x).CombinedOutput(); err != nil {
			t.Errorf("dpkg-deb --extract: %v %s", err, o)
		} else if read(t, x+"/usr/bin/edgecron") != read(t, out+"/edgecron-linux-armv6") {
			t.Error("the armhf package does not hold the armv6 binary")
		}
	}
	for _, b := range files {
		if !strings.Contains(sums, "  "+b+"\n") {
			t.Errorf("SHA256SUMS lacks %s:\n%s", b, sums)
		}
		if !strings.Contains(text, b) || !strings.Contains(text, "MiB") {
			t.Errorf("output does not give %s's size:\n%s", b, text)
		}
	}
	check := exec.Command("sha256sum", "-c", "SHA256SUMS")
	check.Dir = out
	if o, err := check.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, o)
	}
	// The release flags (goflags.sh) reach the build: its settings, which
	// go version -m reads back, carry the tag that leaves out HTTP/2.
	if o, err := exec.Command("go", "version", "-m", out+"/edgecron-linux-armv6").CombinedOutput(); err != nil ||
		!bytes.Contains(o, []byte("-tags=nethttpomithttp2")) {
		t.Errorf("go version -m: %v\n%s\nwant the build tag nethttpomithttp2", err, o)
	}
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		o, err := exec.Command(out + "/edgecron-linux-amd64").CombinedOutput()
		if err != nil || !bytes.Contains(o, []byte("agent v0.0.0-test")) {
			t.Errorf("stamped binary says %q (%v), want the version", o, err)
		}
	}
	if have("dpkg-deb") { // a new version replaces the package of its architecture
		again := append(env[:len(env):len(env)], "VERSION=v0.0.1-test")
		if text, code := run(t, nil, again, "scripts/cross-build.sh", "amd64"); code != 0 {
			t.Fatalf("cross-build again: exit %d\n%s", code, text)
		}
		debs, _ := filepath.Glob(out + "/*.deb")
		for i := range debs {
			debs[i] = filepath.Base(debs[i])
		}
		if strings.Join(debs, " ") != "edgecron_0.0.0~test_armhf.deb edgecron_0.0.1~test_amd64.deb" {
			t.Errorf("packages after a second build: %v", debs)
		}
		sums = read(t, out+"/SHA256SUMS")
		if strings.Contains(sums, "edgecron_0.0.0~test_amd64.deb") || !strings.Contains(sums, "edgecron_0.0.1~test_amd64.deb") {
			t.Errorf("SHA256SUMS after a second build:\n%s", sums)
		}
	}
	if text, code := run(t, nil, env, "scripts/cross-build.sh", "mips"); code != 2 || !strings.Contains(text, "unknown target 'mips'") {
		t.Errorf("unknown target: exit %d %q", code, text)
	}

	// Without dpkg-deb the binaries are built and the packages are not, and
	// the script says so; in CI that is a failure.
	farm := t.TempDir()
	for _, tool := range []string{"bash", "env", "go", "dirname", "mkdir", "mv", "wc", "awk", "sha256sum", "cat", "sed"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(farm, tool)); err != nil {
			t.Fatal(err)
		}
	}
	noDeb := append([]string{"PATH=" + farm, "HOME=" + os.Getenv("HOME"), "GOCACHE=" + goEnv(t, "GOCACHE"), "GOPATH=" + goEnv(t, "GOPATH")},
		"OUT="+t.TempDir(), "MODDIR="+mod, "PKG=.", "VERSION=v0.0.0-test")
	for _, ci := range []string{"", "true"} {
		text, code := runEnv(t, append(noDeb, "CI="+ci), "scripts/cross-build.sh", "amd64")
		wantCode := map[string]int{"": 0, "true": 1}[ci]
		if code != wantCode || !strings.Contains(text, "dpkg-deb not found") || !strings.Contains(text, "Debian packages NOT built") {
			t.Errorf("no dpkg-deb, CI=%q: exit %d, want %d saying the packages were not built:\n%s", ci, code, wantCode, text)
		}
	}

	// With no tag in the history the version still grows with every
	// commit; DEBS=0 builds no package.
	if !have("git") {
		return
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one"},
		{"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "two"}} {
		if o, err := exec.Command("git", append([]string{"-C", mod}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, o)
		}
	}
	out2 := t.TempDir()
	text, code = run(t, nil, []string{"OUT=" + out2, "MODDIR=" + mod, "PKG=.", "VERSION=", "DEBS=0"}, "scripts/cross-build.sh", "amd64")
	if code != 0 || !strings.Contains(text, "version v0.0.0-2-g") || !strings.Contains(text, "0 Debian packages") {
		t.Errorf("untagged build: exit %d\n%s\nwant version v0.0.0-2-g<hash> and no package", code, text)
	}
	if debs, _ := filepath.Glob(out2 + "/*.deb"); len(debs) != 0 {
		t.Errorf("DEBS=0 built %v", debs)
	}
}

func TestShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck not installed: scripts not linted")
	}
	files, err := filepath.Glob("*.sh")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts found: %v", err)
	}
	files = append(files, "deb/postinst", "deb/prerm", "deb/postrm")
	if out, err := exec.Command(sc, files...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// TestCIArmWithoutQemu checks that ci-arm.sh, where qemu cannot be had,
// says the ARM checks were not run and why, and exits 0. PATH holds only
// fakes and the few tools the script needs before it gives up.
func TestCIArmWithoutQemu(t *testing.T) {
	tests := []struct {
		name  string
		fakes map[string]string
		want  string
	}{
		{"not root", map[string]string{"id": "#!/bin/sh\necho 1000\n"}, "installing it needs root"},
		{"apt-get fails", map[string]string{
			"id":      "#!/bin/sh\necho 0\n",
			"apt-get": "#!/bin/sh\necho 'E: Unable to locate package' >&2\nexit 100\n",
		}, "apt-get could not install qemu-user-static"},
		{"no apt-get", map[string]string{"id": "#!/bin/sh\necho 0\n"}, "there is no apt-get"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range tt.fakes {
				write(t, filepath.Join(dir, name), text, 0o755)
			}
			for _, tool := range []string{"dirname", "tail", "cat"} {
				p, err := exec.LookPath(tool)
				if err != nil {
					t.Skipf("%s not found", tool)
				}
				if err := os.Symlink(p, filepath.Join(dir, tool)); err != nil {
					t.Fatal(err)
				}
			}
			bash, err := exec.LookPath("bash")
			if err != nil {
				t.Skip("no bash")
			}
			cmd := exec.Command(bash, "scripts/ci-arm.sh")
			cmd.Dir = ".."
			cmd.Env = []string{"PATH=" + dir, "HOME=" + dir}
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "ARM checks were NOT run: ") || !strings.Contains(string(out), tt.want) {
				t.Errorf("exit %v, output:\n%s\nwant exit 0 saying %q", err, out, tt.want)
			}
		})
	}
}

// TestInstallOnTheRealRoot runs install.sh the way it runs on a Pi — into /,
// with systemd — inside a private mount namespace whose /etc, /usr/local and
// /run are empty tmpfs mounts, and with getent, groupadd, useradd, chown and
// systemctl replaced by fakes that log their calls. It needs root and
// unshare(1); elsewhere it skips.
func TestInstallOnTheRealRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a mount namespace")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare")
	}
	if out, err := exec.Command(unshare, "--mount", "--propagation", "private", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot make a mount namespace: %v %s", err, out)
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	log, db := dir+"/calls.log", dir+"/accounts"
	// Raspberry Pi OS has gpio; an earlier attempt left the group edgecron
	// without its user.
	write(t, db, "group root\npasswd root\ngroup gpio\ngroup edgecron\n", 0o644)
	logCall := "echo \"$(basename \"$0\") $*\" >>" + log + "\n"
	fakes := map[string]string{
		"getent":    "#!/bin/sh\ngrep -qx \"$1 $2\" " + db + " || exit 2\n",
		"groupadd":  "#!/bin/sh\n" + logCall + "eval \"name=\\${$#}\"\necho \"group $name\" >>" + db + "\n",
		"useradd":   "#!/bin/sh\n" + logCall + "eval \"name=\\${$#}\"\necho \"passwd $name\" >>" + db + "\ncase \" $* \" in *' --user-group '*) echo \"group $name\" >>" + db + ";; esac\n",
		"chown":     "#!/bin/sh\n" + logCall,
		"runuser":   "#!/bin/sh\n" + logCall + "shift 3\nexec \"$@\"\n",
		"systemctl": "#!/bin/sh\n" + logCall,
	}
	for name, text := range fakes {
		write(t, dir+"/bin/"+name, text, 0o755)
	}
	// The agent: check-config fails while the file says so.
	write(t, dir+"/agent", "#!/bin/sh\n"+logCall+"! grep -q invalid \"$3\"\n", 0o755)
	write(t, dir+"/example.yaml", "device_id: pi\n", 0o644)

	steps := `set -e
mount -t tmpfs tmpfs /etc
mount -t tmpfs tmpfs /usr/local
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system /etc/systemd/system /usr/local/bin
echo '[Service]' >/etc/systemd/system/edgecron-agent.service
echo old >/usr/local/bin/agent
export PATH=` + dir + `/bin:$PATH
inst() { bash ` + repo + `/scripts/install.sh "$@" >>` + dir + `/out 2>&1; echo "exit $?" >>` + log + `; }
echo "== install" >>` + log + `
inst --config ` + dir + `/example.yaml ` + dir + `/agent
echo "== again" >>` + log + `
inst --config ` + dir + `/example.yaml ` + dir + `/agent
echo "== rejected config" >>` + log + `
echo invalid >>/etc/edgecron/agent.yaml
inst ` + dir + `/agent || true
echo "== the Debian package installed" >>` + log + `
printf '#!/bin/sh\nprintf "install ok installed"\n' >` + dir + `/bin/dpkg-query
chmod +x ` + dir + `/bin/dpkg-query
inst ` + dir + `/agent || true
grep -c 'the edgecron Debian package is installed' ` + dir + `/out >>` + log + `
rm ` + dir + `/bin/dpkg-query
echo "== uninstall" >>` + log + `
inst --uninstall
for f in /usr/local/bin/edgecron /usr/local/bin/agent /etc/systemd/system/edgecron.service /etc/systemd/system/edgecron-agent.service /etc/edgecron/agent.yaml; do
	if [ -e "$f" ]; then echo "left $f"; fi
done >>` + log + `
`
	cmd := exec.Command(unshare, "--mount", "--propagation", "private", "bash", "-c", steps)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("namespace run: %v\n%s", err, out)
	}
	got := read(t, log)
	want := `== install
groupadd --system i2c
useradd --system --home-dir /var/lib/edgecron --no-create-home --shell /usr/sbin/nologin --comment edgecron agent --gid edgecron edgecron
chown 0:edgecron /etc/edgecron
chown 0:edgecron /etc/edgecron/agent.yaml
runuser -u edgecron -- /usr/local/bin/edgecron check-config --config /etc/edgecron/agent.yaml
edgecron check-config --config /etc/edgecron/agent.yaml
systemctl disable --now edgecron-agent.service
systemctl daemon-reload
systemctl enable edgecron.service
systemctl restart edgecron.service
systemctl is-active --quiet edgecron.service
exit 0
== again
chown 0:edgecron /etc/edgecron
runuser -u edgecron -- /usr/local/bin/edgecron check-config --config /etc/edgecron/agent.yaml
edgecron check-config --config /etc/edgecron/agent.yaml
systemctl daemon-reload
systemctl enable edgecron.service
systemctl restart edgecron.service
systemctl is-active --quiet edgecron.service
exit 0
== rejected config
chown 0:edgecron /etc/edgecron
runuser -u edgecron -- /usr/local/bin/edgecron check-config --config /etc/edgecron/agent.yaml
edgecron check-config --config /etc/edgecron/agent.yaml
exit 1
== the Debian package installed
exit 1
1
== uninstall
systemctl disable --now edgecron.service
systemctl daemon-reload
exit 0
left /etc/edgecron/agent.yaml
`
	if got != want {
		t.Errorf("calls:\n%s\nwant:\n%s\nscript output:\n%s", got, want, read(t, dir+"/out"))
	}
}
