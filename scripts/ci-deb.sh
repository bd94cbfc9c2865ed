#!/usr/bin/env bash
# ci-deb.sh: build the real amd64 Debian package and install it into a
# throwaway root, as CI does.
#
#   sudo scripts/ci-deb.sh
#
# 1. Installs what the check needs when missing (dpkg-deb, unshare, chroot,
#    useradd, lintian: Debian's dpkg, util-linux, coreutils, passwd and
#    lintian), with apt-get.
# 2. Builds edgecron_<version>_amd64.deb with scripts/cross-build.sh and
#    checks it with lintian (errors and warnings fail; the package has no
#    manual page yet).
# 3. Runs TestDebianVersion, TestBuildDeb and TestDebInstall (scripts/) on
#    it: TestDebInstall installs, upgrades, removes and purges the package
#    with the real dpkg in a copy-on-write overlay of /, so the real binary's
#    check-config runs in the postinst. CI=true makes a test that cannot run
#    fail instead of skipping.
#
# It needs root (a mount namespace, dpkg). Without root, or without apt-get
# to install a missing tool, the check is NOT run: the script says so and
# why, and fails with CI=true. KEEP=1 keeps the work directory.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

say() { echo "ci-deb: $*"; }
not_run() {
	echo "ci-deb: the Debian package checks were NOT run: $*" >&2
	if [ "${CI:-}" = true ]; then exit 1; fi
	exit 0
}

[ "$(id -u)" = 0 ] || not_run "installing into a throwaway root needs root (a mount namespace and dpkg)"

missing=()
for tool in dpkg-deb:dpkg unshare:util-linux chroot:coreutils useradd:passwd lintian:lintian; do
	command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
	command -v apt-get >/dev/null || not_run "missing ${missing[*]} and no apt-get to install them"
	say "installing ${missing[*]}"
	if ! apt-get update -qq >/tmp/ci-deb-apt.log 2>&1 ||
		! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>/tmp/ci-deb-apt.log 2>&1; then
		tail -5 /tmp/ci-deb-apt.log >&2 || true
		not_run "apt-get could not install ${missing[*]} (log: /tmp/ci-deb-apt.log)"
	fi
fi

work=$(mktemp -d)
cleanup() { if [ "${KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT

OUT=$work/dist scripts/cross-build.sh amd64
debs=("$work"/dist/edgecron_*_amd64.deb)
[ -f "${debs[0]}" ] || { echo "ci-deb: FAIL: cross-build.sh made no amd64 package" >&2; exit 1; }
say "testing ${debs[0]##*/} ($(wc -c <"${debs[0]}") bytes)"
lintian --fail-on error,warning --suppress-tags no-manual-page "${debs[0]}" ||
	{ echo "ci-deb: FAIL: lintian (above)" >&2; exit 1; }
say "lintian: no errors or warnings"
if ! CI=true EDGECRON_DEB=${debs[0]} go test -count=1 -v -run '^(TestDebianVersion|TestBuildDeb|TestDebInstall)$' ./scripts/ >"$work/test.log" 2>&1; then
	cat "$work/test.log" >&2
	echo "ci-deb: FAIL: the package tests failed (above)" >&2
	exit 1
fi
grep -E '^(--- |ok)' "$work/test.log"
say "Debian package checks passed"
