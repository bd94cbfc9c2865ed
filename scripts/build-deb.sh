#!/usr/bin/env bash
# build-deb.sh: the edgecron Debian package of one built binary.
#
#   scripts/build-deb.sh --arch ARCH --version VERSION [--out DIR] BINARY
#   scripts/build-deb.sh --debian-version VERSION
#
# ARCH is Debian's name: armhf (give it the armv6 binary, which runs on every
# Pi), arm64 or amd64. VERSION is the binary's version as git describe
# prints it; the package gets it made Debian-valid (--debian-version prints
# that and exits):
#
#   v1.2.0                  1.2.0
#   v1.2.0-rc1              1.2.0~rc1            (before 1.2.0)
#   v1.2.0-5-gabc1234       1.2.0+git5.gabc1234  (after 1.2.0, before 1.2.1)
#   v1.2.0-5-gabc1234-dirty 1.2.0+git5.gabc1234.dirty
#
# A version that does not start with a number (after a leading v) is
# refused. The package, DIR/edgecron_<debian version>_<ARCH>.deb (default
# DIR: dist/), holds:
#
#   /usr/bin/edgecron                           BINARY, 0755
#   /usr/lib/systemd/system/edgecron.service    configs/edgecron.service
#   /etc/edgecron/agent.yaml                    configs/pi.yaml, a conffile:
#                                               an edited one is never overwritten
#   /usr/share/doc/edgecron/                    copyright, changelog, examples/
#
# and the maintainer scripts of scripts/deb/ (postinst, prerm, postrm; see
# docs/deploy.md, "The Debian package"). It is built with dpkg-deb, owned by
# root, with every file dated SOURCE_DATE_EPOCH (default: the last commit's
# time), so the same inputs give the same bytes.
#
# Environment: DEB_MAINTAINER (the Maintainer field).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
arch="" version="" out=$repo/dist binary="" print_version="" only_version=0

die() { echo "build-deb: $*" >&2; exit 1; }
bad_usage() { echo "build-deb: $*" >&2; echo "usage: $0 --arch armhf|arm64|amd64 --version VERSION [--out DIR] BINARY" >&2; exit 2; }

# debian_version VERSION prints the Debian version of a git describe
# version, or fails naming the problem.
debian_version() {
	local v=${1#v} dirty="" base pre="" n hash deb
	if [[ $v == *-dirty ]]; then dirty=1; v=${v%-dirty}; fi
	if [[ $v =~ ^(.*)-([0-9]+)-(g[0-9a-f]{4,40})$ ]]; then
		v=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]} hash=${BASH_REMATCH[3]}
	else
		n="" hash=""
	fi
	# A release number has a dot: git describe's bare commit hash (no tag)
	# may start with a digit, yet says nothing about order.
	if [[ ! $v =~ ^([0-9]+(\.[0-9A-Za-z]+)+)(-([0-9A-Za-z.-]+))?$ ]]; then
		echo "build-deb: version '$1' is not a release number (like v1.2.0, v1.2.0-rc1 or git describe's v1.2.0-5-gabc1234): tag a release or set VERSION" >&2
		return 1
	fi
	base=${BASH_REMATCH[1]}
	if [ -n "${BASH_REMATCH[4]}" ]; then pre=${BASH_REMATCH[4]//-/.}; fi
	deb=$base
	if [ -n "$pre" ]; then deb+="~$pre"; fi
	if [ -n "$n" ]; then deb+="+git$n.$hash"; fi
	if [ -n "$dirty" ]; then
		if [[ $deb == *+* ]]; then deb+=".dirty"; else deb+="+dirty"; fi
	fi
	# Debian policy 5.6.12, with neither epoch nor revision.
	[[ $deb =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || { echo "build-deb: version '$1' made '$deb', not a Debian version" >&2; return 1; }
	echo "$deb"
}

while [ "$#" -gt 0 ]; do
	case "$1" in
	--arch) [ "$#" -ge 2 ] || bad_usage "--arch needs a value"; arch=$2; shift 2 ;;
	--version) [ "$#" -ge 2 ] || bad_usage "--version needs a value"; version=$2; shift 2 ;;
	--out) [ "$#" -ge 2 ] || bad_usage "--out needs a directory"; out=$2; shift 2 ;;
	--debian-version) [ "$#" -ge 2 ] || bad_usage "--debian-version needs a value"; print_version=$2; only_version=1; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) bad_usage "unknown option $1" ;;
	*) [ -z "$binary" ] || bad_usage "more than one binary given: $binary, $1"; binary=$1; shift ;;
	esac
done

if [ "$only_version" = 1 ]; then
	debian_version "$print_version" || exit 2
	exit 0
fi

case "$arch" in
armhf | arm64 | amd64) ;;
"") bad_usage "--arch is missing" ;;
*) bad_usage "unknown architecture '$arch' (want armhf, arm64 or amd64)" ;;
esac
[ -n "$version" ] || bad_usage "--version is missing"
[ -n "$binary" ] || bad_usage "the binary is missing"
[ -f "$binary" ] || die "binary $binary not found"
deb_version=$(debian_version "$version") || exit 2
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (Debian's dpkg package): cannot build the package"

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d "$out/.deb-$arch.XXXXXX")
trap 'rm -rf "$stage"' EXIT
umask 022
chmod 0755 "$stage"

install -d "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/lib/systemd/system" \
	"$stage/usr/share/doc/edgecron/examples"
install -d -m 0750 "$stage/etc/edgecron"
install -m 0755 "$binary" "$stage/usr/bin/edgecron"
install -m 0644 "$repo/configs/edgecron.service" "$stage/usr/lib/systemd/system/edgecron.service"
install -m 0640 "$repo/configs/pi.yaml" "$stage/etc/edgecron/agent.yaml"
for f in "$repo"/configs/*.yaml "$repo"/configs/*.example; do
	install -m 0644 "$f" "$stage/usr/share/doc/edgecron/examples/"
done

doc=$stage/usr/share/doc/edgecron
cat >"$doc/copyright" <<-TEXT
	Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
	Upstream-Name: edgecron
	Source: https://github.com/edgecron/edgecron

	Files: *
	Copyright: 2026 the edgecron authors
	License: Apache-2.0

	License: Apache-2.0
	 On Debian systems the full text of the Apache License, Version 2.0, is in
	 /usr/share/common-licenses/Apache-2.0; it is also the project's LICENSE file.
	 The binary links periph.io (Apache-2.0), Eclipse Paho (EPL-2.0 or EDL-1.0),
	 bbolt (MIT) and yaml.v3 (MIT and Apache-2.0).
TEXT
# What lintian flags on purpose: Go's static binary, and the config that
# only root and the agent's group read.
install -d "$stage/usr/share/lintian/overrides"
cat >"$stage/usr/share/lintian/overrides/edgecron" <<-TEXT
	# One static Go binary: it runs on any libc, or none.
	edgecron: statically-linked-binary [usr/bin/edgecron]
	# The config may name secrets: root and the group edgecron only.
	edgecron: non-standard-dir-perm 0750 != 0755 [etc/edgecron/]
	edgecron: non-standard-file-perm 0640 != 0644 [etc/edgecron/agent.yaml]
TEXT
maintainer=${DEB_MAINTAINER:-edgecron developers <edgecron@users.noreply.github.com>}
{
	echo "edgecron ($deb_version) unstable; urgency=medium"
	echo
	echo "  * Built from edgecron $version."
	echo
	echo " -- $maintainer  $(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH" -R)"
} | gzip -9n >"$doc/changelog.gz"

for s in postinst prerm postrm; do
	install -m 0755 "$repo/scripts/deb/$s" "$stage/DEBIAN/$s"
done
echo /etc/edgecron/agent.yaml >"$stage/DEBIAN/conffiles"
(cd "$stage" && find usr -type f -printf '%P\n' | LC_ALL=C sort | sed 's#^#usr/#' | xargs md5sum) >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/conffiles" "$stage/DEBIAN/md5sums"

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<-TEXT
	Package: edgecron
	Version: $deb_version
	Architecture: $arch
	Maintainer: $maintainer
	Installed-Size: $size
	Depends: passwd
	Section: admin
	Priority: optional
	Homepage: https://github.com/edgecron/edgecron
	Description: scheduling agent for Raspberry Pi-class devices
	 edgecron runs jobs on date, interval and cron triggers (the APScheduler
	 grammar, time zones and DST done right), reads sensors and drives
	 actuators through periph.io with safety profiles, keeps its jobs in a
	 bbolt file, and takes commands and reports over MQTT. One static binary
	 and a hardened systemd unit.
TEXT

find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
deb=$out/edgecron_${deb_version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb.tmp" >/dev/null
mv -f "$deb.tmp" "$deb"
echo "$deb"
