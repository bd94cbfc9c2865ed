#!/usr/bin/env bash
# cross-build.sh: static edgecron agent binaries for the boards it runs on.
#
#   scripts/cross-build.sh [TARGET...]
#
# TARGETs (default: all): armv6 (Pi Zero/1), armv7 (Pi 2/3, 32-bit OS),
# arm64 (Pi 3/4/5, 64-bit OS), amd64. Each lands in $OUT as
# edgecron-linux-<target>, built with CGO_ENABLED=0 -trimpath, the release
# compiler flags of scripts/goflags.sh and -ldflags "-s -w -X
# main.version=$VERSION" (armv6 adds -R 0x4000: see ldflags_for);
# With them, scripts/build-deb.sh makes the Debian packages of the targets
# that have one: edgecron_<version>_armhf.deb (the armv6 binary, which runs
# on every Pi), _arm64.deb and _amd64.deb, each replacing an older package
# of its architecture in $OUT. $OUT/SHA256SUMS covers every
# binary and package in $OUT (check with: cd dist && sha256sum -c
# SHA256SUMS).
#
# Environment:
#   OUT      output directory (default: dist/ in the repository)
#   VERSION  version stamped into the binary (default: scripts/version.sh,
#            git describe; with no tag in the history v0.0.0-<commits>-g<hash>,
#            so that package versions still grow with every commit)
#   DEBS     0: no Debian packages. Without dpkg-deb there are none either,
#            and the script says so; with CI=true that is a failure.
#   PKG      main package to build (default: ./cmd/agent)
#   MODDIR   module directory PKG is relative to (default: the repository)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$repo/dist}
PKG=${PKG:-./cmd/agent}
MODDIR=${MODDIR:-$repo}
GO=${GO:-go}

if [ -z "${VERSION:-}" ]; then
	VERSION=$("$repo/scripts/version.sh" "$MODDIR")
fi
DEBS=${DEBS:-1}

all_targets=(armv6 armv7 arm64 amd64)
if [ "$#" -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

# env_for TARGET prints the GOOS/GOARCH/GOARM assignments of a target.
env_for() {
	case "$1" in
	armv6) echo "GOOS=linux GOARCH=arm GOARM=6" ;;
	armv7) echo "GOOS=linux GOARCH=arm GOARM=7" ;;
	arm64) echo "GOOS=linux GOARCH=arm64" ;;
	amd64) echo "GOOS=linux GOARCH=amd64" ;;
	*) return 1 ;;
	esac
}

# ldflags_for TARGET prints the target's extra linker flags. armv6: segments
# aligned to 16 KiB instead of Go's 64 KiB, which only a 64-bit kernel with
# 64 KiB pages running 32-bit programs needs (golang/go#18408). An ARMv6
# board (Pi Zero, Pi 1) runs a 32-bit kernel, whose pages are 4 KiB; the
# file loses up to 48 KiB of padding at each segment boundary, none of it
# ever mapped, and stays within its 8 MiB budget (docs/footprint.md).
ldflags_for() {
	case "$1" in
	armv6) echo "-R 0x4000" ;;
	*) echo "" ;;
	esac
}

flags=$("$repo/scripts/goflags.sh")
mapfile -t goflags <<<"$flags"

for t in "${targets[@]}"; do
	if ! env_for "$t" >/dev/null; then
		echo "cross-build: unknown target '$t' (want one of: ${all_targets[*]})" >&2
		exit 2
	fi
done

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
echo "cross-build: $PKG version $VERSION into $OUT"

built=()
for t in "${targets[@]}"; do
	bin="edgecron-linux-$t"
	# shellcheck disable=SC2046 # word splitting of the assignments is wanted
	env CGO_ENABLED=0 $(env_for "$t") \
		"$GO" build -C "$MODDIR" -trimpath "${goflags[@]}" \
		-ldflags "-s -w $(ldflags_for "$t") -X main.version=$VERSION" \
		-o "$OUT/$bin.tmp" "$PKG"
	mv -f "$OUT/$bin.tmp" "$OUT/$bin"
	built+=("$bin")
	size=$(wc -c <"$OUT/$bin")
	awk -v n="$bin" -v s="$size" 'BEGIN { printf "  %-20s %10d bytes  %6.2f MiB\n", n, s, s / 1048576 }'
done

# deb_arch_for TARGET prints the Debian architecture whose package holds
# the target's binary, or fails for a target without a package.
deb_arch_for() {
	case "$1" in
	armv6) echo armhf ;;
	arm64) echo arm64 ;;
	amd64) echo amd64 ;;
	*) return 1 ;;
	esac
}

debs=0
if [ "$DEBS" != 0 ]; then
	if ! command -v dpkg-deb >/dev/null; then
		echo "cross-build: dpkg-deb not found (Debian's dpkg package): Debian packages NOT built" >&2
		if [ "${CI:-}" = true ]; then exit 1; fi
	else
		for t in "${targets[@]}"; do
			arch=$(deb_arch_for "$t") || continue
			# As each binary replaces the last, the package replaces the
			# last of its architecture: one .deb per architecture to copy.
			rm -f "$OUT"/edgecron_*_"$arch".deb
			deb=$("$repo/scripts/build-deb.sh" --arch "$arch" --version "$VERSION" --out "$OUT" "$OUT/edgecron-linux-$t")
			debs=$((debs + 1))
			size=$(wc -c <"$deb")
			awk -v n="${deb##*/}" -v s="$size" 'BEGIN { printf "  %-36s %10d bytes  %6.2f MiB\n", n, s, s / 1048576 }'
		done
	fi
fi

# The sums cover every binary and package in OUT, so building one target
# after another leaves a complete SHA256SUMS.
(
	cd "$OUT"
	sums=()
	for f in edgecron-linux-* edgecron_*.deb; do
		case "$f" in *.tmp | 'edgecron-linux-*' | 'edgecron_*.deb') ;; *) sums+=("$f") ;; esac
	done
	sha256sum "${sums[@]}" >SHA256SUMS.tmp
	mv -f SHA256SUMS.tmp SHA256SUMS
)
echo "cross-build: ${#built[@]} binaries, $debs Debian packages, sums in $OUT/SHA256SUMS"
