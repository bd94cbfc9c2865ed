package scripts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// need skips a test whose tools are missing, but fails it in CI (CI=true),
// where .ci/run has installed them: a check that cannot run is never a
// silent pass there.
func need(t *testing.T, ok bool, why string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot run in CI: %s", why)
	}
	t.Skip(why)
}

func have(tool string) bool {
	_, err := exec.LookPath(tool)
	return err == nil
}

// debianVersion runs build-deb.sh --debian-version v.
func debianVersion(t *testing.T, v string) (string, int) {
	t.Helper()
	out, code := run(t, nil, nil, "scripts/build-deb.sh", "--debian-version", v)
	return strings.TrimSpace(out), code
}

// debVersionRE is a Debian version with neither epoch nor revision
// (policy 5.6.12), what build-deb.sh promises.
var debVersionRE = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)

func TestDebianVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"v1.2.0", "1.2.0"},
		{"1.2.0", "1.2.0"},
		{"v1.2", "1.2"},
		{"v2024.01", "2024.01"},
		{"v1.2.0-rc1", "1.2.0~rc1"},
		{"v1.2.0-rc.1", "1.2.0~rc.1"},
		{"v1.2.0-5-gabc1234", "1.2.0+git5.gabc1234"},
		{"v1.2.0-rc1-5-gabc1234", "1.2.0~rc1+git5.gabc1234"},
		{"v1.2.0-dirty", "1.2.0+dirty"},
		{"v1.2.0-5-gabc1234-dirty", "1.2.0+git5.gabc1234.dirty"},
		{"v0.0.0-278-g7e95944", "0.0.0+git278.g7e95944"}, // cross-build.sh with no tag
		// Refused: no release number.
		{"7e95944", ""}, // git describe --always without a tag
		{"1234567", ""},
		{"dev", ""},
		{"", ""},
		{"v", ""},
		{"v1", ""},
		{"v1.2.0 beta", ""},
		{"v1.2.0_1", ""},
		{"-v1.2.0", ""},
	}
	for _, tt := range tests {
		got, code := debianVersion(t, tt.in)
		switch {
		case tt.want == "" && (code != 2 || !strings.Contains(got, "is not a release number")):
			t.Errorf("%q: exit %d %q, want it refused (exit 2) as not a release number", tt.in, code, got)
		case tt.want != "" && (code != 0 || got != tt.want):
			t.Errorf("%q: exit %d %q, want %q", tt.in, code, got, tt.want)
		}
	}

	// The order dpkg sees is the order of the releases and commits.
	if !have("dpkg") {
		t.Skip("no dpkg: version order not checked")
	}
	order := []string{"v0.0.0-3-gaaaaaaa", "v0.0.0-12-gbbbbbbb", "v1.2.0-rc1", "v1.2.0-rc1-4-gccccccc",
		"v1.2.0-rc2", "v1.2.0", "v1.2.0-dirty", "v1.2.0-1-gddddddd", "v1.2.0-1-gddddddd-dirty", "v1.2.0-10-geeeeeee", "v1.2.1"}
	for i := 1; i < len(order); i++ {
		a, _ := debianVersion(t, order[i-1])
		b, _ := debianVersion(t, order[i])
		if err := exec.Command("dpkg", "--compare-versions", a, "lt", b).Run(); err != nil {
			t.Errorf("dpkg does not order %s (%s) before %s (%s)", a, order[i-1], b, order[i])
		}
	}
}

// FuzzDebianVersion: whatever the version string, build-deb.sh prints a
// valid Debian version or refuses it by name; it never prints a version
// dpkg-deb would reject.
func FuzzDebianVersion(f *testing.F) {
	for _, s := range []string{"v1.2.0", "v1.2.0-rc1-5-gabc1234-dirty", "7e95944", "v1..2", "v1.2.0--1", "v1.2.0-5-g", "1.2.3-4-5-gabcd"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if strings.ContainsRune(v, 0) || !utf8.ValidString(v) {
			t.Skip("not an argument a shell passes on")
		}
		got, code := debianVersion(t, v)
		switch code {
		case 0:
			if !debVersionRE.MatchString(got) {
				t.Errorf("%q made %q, not a Debian version", v, got)
			}
		case 2:
			if !strings.HasPrefix(got, "build-deb: version ") {
				t.Errorf("%q refused without naming the version: %q", v, got)
			}
		default:
			t.Errorf("%q: exit %d %q", v, code, got)
		}
	})
}

// buildFakeDeb packs a package around a stand-in binary whose check-config
// accepts a config unless it contains the word invalid or runs as another
// user than the service's, and returns its path.
func buildFakeDeb(t *testing.T, version string) string {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "edgecron")
	write(t, bin, "#!/bin/sh\ncase \"$1\" in\ncheck-config) [ \"$(id -un)\" = edgecron ] && ! grep -q invalid \"$3\" ;;\nversion) echo edgecron "+version+" ;;\nesac\n", 0o755)
	out, code := run(t, nil, []string{"SOURCE_DATE_EPOCH=1700000000"}, "scripts/build-deb.sh", "--arch", "amd64", "--version", version, "--out", dir, bin)
	if code != 0 {
		t.Fatalf("build-deb.sh: exit %d\n%s", code, out)
	}
	return strings.TrimSpace(out)
}

// TestBuildDeb checks the package's control fields, files, modes and
// conffiles, and that bad arguments build nothing.
func TestBuildDeb(t *testing.T) {
	need(t, have("dpkg-deb"), "no dpkg-deb: Debian packages not built")
	deb := buildFakeDeb(t, "v1.2.0-5-gabc1234")
	if filepath.Base(deb) != "edgecron_1.2.0+git5.gabc1234_amd64.deb" {
		t.Errorf("package file %s", deb)
	}
	field := func(name string) string {
		out, err := exec.Command("dpkg-deb", "--field", deb, name).Output()
		if err != nil {
			t.Fatalf("dpkg-deb --field %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	for name, want := range map[string]string{"Package": "edgecron", "Version": "1.2.0+git5.gabc1234", "Architecture": "amd64", "Depends": "passwd"} {
		if got := field(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	out, err := exec.Command("dpkg-deb", "--contents", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{} // path -> "mode owner"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		files[strings.TrimPrefix(f[len(f)-1], ".")] = f[0] + " " + f[1]
	}
	want := map[string]string{
		"/":                 "drwxr-xr-x root/root",
		"/usr/bin/edgecron": "-rwxr-xr-x root/root",
		"/usr/lib/systemd/system/edgecron.service": "-rw-r--r-- root/root",
		"/etc/edgecron/":                           "drwxr-x--- root/root",
		"/etc/edgecron/agent.yaml":                 "-rw-r----- root/root",
		"/usr/share/doc/edgecron/copyright":        "-rw-r--r-- root/root",
		"/usr/share/doc/edgecron/changelog.gz":     "-rw-r--r-- root/root",
		"/usr/share/doc/edgecron/examples/pi.yaml": "-rw-r--r-- root/root",
	}
	for path, mode := range want {
		if files[path] != mode {
			t.Errorf("%s: %q, want %q", path, files[path], mode)
		}
	}
	ctl := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "--control", deb, ctl).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --control: %v %s", err, out)
	}
	if got := read(t, ctl+"/conffiles"); got != "/etc/edgecron/agent.yaml\n" {
		t.Errorf("conffiles: %q", got)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		if read(t, ctl+"/"+s) != read(t, "deb/"+s) {
			t.Errorf("the package's %s is not scripts/deb/%s", s, s)
		}
		if st, err := os.Stat(ctl + "/" + s); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s mode: %v %v", s, st.Mode(), err)
		}
	}
	// The unit and the conffile are the repository's.
	x := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "--extract", deb, x).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --extract: %v %s", err, out)
	}
	if read(t, x+"/usr/lib/systemd/system/edgecron.service") != read(t, "../configs/edgecron.service") {
		t.Error("the packaged unit is not configs/edgecron.service")
	}
	if read(t, x+"/etc/edgecron/agent.yaml") != read(t, "../configs/pi.yaml") {
		t.Error("the packaged agent.yaml is not configs/pi.yaml")
	}
	// Debian's own checker, where it is installed (scripts/ci-deb.sh runs it
	// on the real package in CI); a manual page is all it may miss.
	if have("lintian") {
		if o, err := exec.Command("lintian", "--fail-on", "error,warning", "--suppress-tags", "no-manual-page", deb).CombinedOutput(); err != nil {
			t.Errorf("lintian: %v\n%s", err, o)
		}
	}
	// The same inputs give the same bytes.
	if again := buildFakeDeb(t, "v1.2.0-5-gabc1234"); read(t, again) != read(t, deb) {
		t.Error("two builds of the same inputs differ")
	}

	bin := filepath.Join(t.TempDir(), "edgecron")
	write(t, bin, "#!/bin/sh\n", 0o755)
	outDir := t.TempDir()
	bad := []struct {
		args []string
		msg  string
	}{
		{[]string{"--arch", "i386", "--version", "v1.0.0", bin}, "unknown architecture 'i386'"},
		{[]string{"--version", "v1.0.0", bin}, "--arch is missing"},
		{[]string{"--arch", "amd64", bin}, "--version is missing"},
		{[]string{"--arch", "amd64", "--version", "v1.0.0"}, "the binary is missing"},
		{[]string{"--arch", "amd64", "--version", "7e95944", bin}, "is not a release number"},
		{[]string{"--arch", "amd64", "--version", "v1.0.0", bin + ".missing"}, "not found"},
	}
	for _, b := range bad {
		out, code := run(t, nil, nil, "scripts/build-deb.sh", append([]string{"--out", outDir}, b.args...)...)
		if code == 0 || !strings.Contains(out, b.msg) {
			t.Errorf("%v: exit %d %q, want a failure saying %q", b.args, code, out, b.msg)
		}
	}
	if entries, _ := os.ReadDir(outDir); len(entries) != 0 {
		t.Errorf("refused builds left %v", entries)
	}
}

// repack returns a copy of deb whose Version is version.
func repack(t *testing.T, deb, version, dir string) string {
	t.Helper()
	tree := t.TempDir()
	if out, err := exec.Command("dpkg-deb", "--raw-extract", deb, tree).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --raw-extract: %v %s", err, out)
	}
	ctl := tree + "/DEBIAN/control"
	text := regexp.MustCompile(`(?m)^Version: .*$`).ReplaceAllString(read(t, ctl), "Version: "+version)
	write(t, ctl, text, 0o644)
	out := filepath.Join(dir, "edgecron_"+version+".deb")
	if o, err := exec.Command("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", tree, out).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb --build: %v %s", err, o)
	}
	return out
}

// TestDebInstall installs the amd64 package with the real dpkg, useradd and
// deb-systemd-helper into a throwaway root: a copy-on-write overlay of this
// machine's own / in a private mount namespace, entered with chroot. First
// as in a chroot or an image build (no systemd running), then with systemd
// "running" (a /run/systemd/system directory, and deb-systemd-invoke and
// systemctl replaced by fakes that log their calls): install, an upgrade
// that keeps an edited config, an upgrade the new binary's check-config
// refuses, remove and purge. EDGECRON_DEB names the package to test (CI
// passes the real one); without it a package is built around a stand-in
// binary. Needs root, unshare(1), overlayfs and dpkg: a Debian machine.
func TestDebInstall(t *testing.T) {
	need(t, os.Geteuid() == 0, "needs root for a mount namespace and dpkg")
	need(t, have("unshare") && have("dpkg") && have("dpkg-deb") && have("chroot"), "needs unshare, chroot, dpkg and dpkg-deb")
	deb := os.Getenv("EDGECRON_DEB")
	if deb == "" {
		deb = buildFakeDeb(t, "v1.0.0")
	}
	work := t.TempDir()
	debs := t.TempDir()
	for _, v := range []string{"1.0.0", "2.0.0", "3.0.0"} {
		repack(t, deb, v, debs)
	}
	probe := exec.Command("unshare", "--mount", "--propagation", "private", "bash", "-c",
		"set -e; mkdir -p "+work+"/p/u "+work+"/p/w "+work+"/p/m; mount -t tmpfs tmpfs "+work+"/p/u; mkdir "+work+"/p/u/u "+work+"/p/u/w; "+
			"mount -t overlay overlay -o lowerdir=/,upperdir="+work+"/p/u/u,workdir="+work+"/p/u/w "+work+"/p/m")
	if out, err := probe.CombinedOutput(); err != nil {
		need(t, false, "no overlay mount of / in a mount namespace: "+strings.TrimSpace(string(out)))
	}

	steps := `set -eu
work=` + work + `
mkdir -p $work/ov
mount -t tmpfs tmpfs $work/ov
mkdir -p $work/ov/u $work/ov/w $work/m
m=$work/m
mount -t overlay overlay -o lowerdir=/,upperdir=$work/ov/u,workdir=$work/ov/w $m
mount -t proc proc $m/proc
mount --rbind /dev $m/dev
mount -t tmpfs tmpfs $m/run
mount -t tmpfs tmpfs $m/tmp
cp ` + debs + `/*.deb $m/tmp/
inroot() { chroot $m env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }
log=$work/log
# This machine's own edgecron, if any, is not the throwaway root's.
if inroot dpkg-query -W edgecron >/dev/null 2>&1; then inroot dpkg --purge edgecron >/dev/null; fi
if inroot getent passwd edgecron >/dev/null; then inroot userdel edgecron; fi
if inroot getent group edgecron >/dev/null; then inroot groupdel edgecron; fi

dpkg_do() { # dpkg ARGS..., its exit code logged, its output kept
	if inroot dpkg --force-confold "$@" >>$work/out 2>&1; then echo "dpkg $1: ok"; else echo "dpkg $1: exit $?"; fi >>$log
}
state() {
	echo "package: $(inroot dpkg-query -W -f '${Version} ${db:Status-Abbrev}' edgecron 2>/dev/null || echo none)"
	for f in /usr/bin/edgecron /usr/lib/systemd/system/edgecron.service /etc/edgecron /etc/edgecron/agent.yaml /var/lib/edgecron /var/lib/edgecron/agent.db; do
		if [ -e $m$f ]; then inroot stat -c '%n %a %U:%G' $f; else echo "$f absent"; fi
	done
	wants=/etc/systemd/system/multi-user.target.wants/edgecron.service
	if inroot test -e $wants; then echo "enabled"; elif inroot test -L $wants; then echo "enabled, dangling"; else echo "not enabled"; fi
	if [ -f $m/etc/edgecron/agent.yaml ]; then
		if grep -q '^# edited' $m/etc/edgecron/agent.yaml; then echo "agent.yaml: edited"
		elif [ -f $m/usr/share/doc/edgecron/examples/pi.yaml ] && cmp -s $m/etc/edgecron/agent.yaml $m/usr/share/doc/edgecron/examples/pi.yaml; then echo "agent.yaml: as shipped"
		else echo "agent.yaml: other"; fi
	fi
	if c=$(inroot dpkg-query -W -f '${Conffiles}' edgecron 2>/dev/null); then echo "conffiles:$(echo "$c" | awk '{ printf " %s", $1 }')"; fi
	if u=$(inroot getent passwd edgecron); then
		echo "user: $(echo "$u" | cut -d: -f1,6,7) groups: $(inroot id -nG edgecron | tr ' ' '\n' | sort | tr '\n' ' ')"
	else
		echo "user: none"
	fi
}

echo "== A: install, no systemd running" >>$log
dpkg_do --install /tmp/edgecron_1.0.0.deb
state >>$log
echo '# edited' >>$m/etc/edgecron/agent.yaml
echo store >$m/var/lib/edgecron/agent.db
echo "== A: upgrade" >>$log
dpkg_do --install /tmp/edgecron_2.0.0.deb
state >>$log
echo "== A: remove" >>$log
dpkg_do --remove edgecron
state >>$log
echo "== A: purge" >>$log
dpkg_do --purge edgecron
state >>$log

mkdir -p $m/run/systemd/system
for f in deb-systemd-invoke systemctl; do
	printf '#!/bin/sh\necho "%s $*" >>/tmp/calls\n' $f >$m/usr/bin/$f
done
calls() { if [ -f $m/tmp/calls ]; then grep '^deb-systemd-invoke' $m/tmp/calls || true; rm -f $m/tmp/calls; fi; }
echo "== B: install, systemd running" >>$log
dpkg_do --install /tmp/edgecron_1.0.0.deb
calls >>$log
echo "== B: upgrade" >>$log
dpkg_do --install /tmp/edgecron_2.0.0.deb
calls >>$log
echo "== B: upgrade, the config refused" >>$log
echo 'invalid' >>$m/etc/edgecron/agent.yaml
dpkg_do --install /tmp/edgecron_3.0.0.deb
calls >>$log
echo "== B: remove" >>$log
dpkg_do --remove edgecron
calls >>$log
state >>$log
`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "bash", "-c", steps)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("namespace run: %v\n%s\ndpkg output:\n%s", err, out, readIf(work+"/out"))
	}
	got := read(t, work+"/log")
	want := `== A: install, no systemd running
dpkg --install: ok
package: 1.0.0 ii 
/usr/bin/edgecron 755 root:root
/usr/lib/systemd/system/edgecron.service 644 root:root
/etc/edgecron 750 root:edgecron
/etc/edgecron/agent.yaml 640 root:edgecron
/var/lib/edgecron 750 edgecron:edgecron
/var/lib/edgecron/agent.db absent
enabled
agent.yaml: as shipped
conffiles: /etc/edgecron/agent.yaml
user: edgecron:/var/lib/edgecron:/usr/sbin/nologin groups: edgecron gpio i2c 
== A: upgrade
dpkg --install: ok
package: 2.0.0 ii 
/usr/bin/edgecron 755 root:root
/usr/lib/systemd/system/edgecron.service 644 root:root
/etc/edgecron 750 root:edgecron
/etc/edgecron/agent.yaml 640 root:edgecron
/var/lib/edgecron 750 edgecron:edgecron
/var/lib/edgecron/agent.db 644 root:root
enabled
agent.yaml: edited
conffiles: /etc/edgecron/agent.yaml
user: edgecron:/var/lib/edgecron:/usr/sbin/nologin groups: edgecron gpio i2c 
== A: remove
dpkg --remove: ok
package: 2.0.0 rc 
/usr/bin/edgecron absent
/usr/lib/systemd/system/edgecron.service absent
/etc/edgecron 750 root:edgecron
/etc/edgecron/agent.yaml 640 root:edgecron
/var/lib/edgecron 750 edgecron:edgecron
/var/lib/edgecron/agent.db 644 root:root
enabled, dangling
agent.yaml: edited
conffiles: /etc/edgecron/agent.yaml
user: edgecron:/var/lib/edgecron:/usr/sbin/nologin groups: edgecron gpio i2c 
== A: purge
dpkg --purge: ok
package: none
/usr/bin/edgecron absent
/usr/lib/systemd/system/edgecron.service absent
/etc/edgecron absent
/etc/edgecron/agent.yaml absent
/var/lib/edgecron absent
/var/lib/edgecron/agent.db absent
not enabled
user: edgecron:/var/lib/edgecron:/usr/sbin/nologin groups: edgecron gpio i2c 
== B: install, systemd running
dpkg --install: ok
deb-systemd-invoke start edgecron.service
== B: upgrade
dpkg --install: ok
deb-systemd-invoke restart edgecron.service
== B: upgrade, the config refused
dpkg --install: ok
== B: remove
dpkg --remove: ok
deb-systemd-invoke stop edgecron.service
package: 3.0.0 rc 
/usr/bin/edgecron absent
/usr/lib/systemd/system/edgecron.service absent
/etc/edgecron 750 root:edgecron
/etc/edgecron/agent.yaml 640 root:edgecron
/var/lib/edgecron 750 edgecron:edgecron
/var/lib/edgecron/agent.db absent
not enabled
agent.yaml: other
conffiles: /etc/edgecron/agent.yaml
user: edgecron:/var/lib/edgecron:/usr/sbin/nologin groups: edgecron gpio i2c 
`
	if got != want {
		t.Errorf("throwaway root:\n%s\nwant:\n%s\ndpkg output:\n%s", got, want, readIf(work+"/out"))
	}
	if out := readIf(work + "/out"); !strings.Contains(out, "does not pass check-config") {
		t.Errorf("the refused upgrade did not say why the service was not restarted:\n%s", out)
	}
}

func readIf(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
