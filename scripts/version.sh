#!/usr/bin/env bash
# version.sh: the version a build of the agent is stamped with, as
# `edgecron version` prints it (make build, scripts/cross-build.sh).
#
#   scripts/version.sh [DIR]
#
# git describe of DIR's checkout (default: the repository): v1.2.0, or
# v1.2.0-5-gabc1234 five commits later, with -dirty for uncommitted
# changes. With no tag in the history, v0.0.0-<commits>-g<hash>, which
# still grows with every commit (Debian package versions rely on that:
# scripts/build-deb.sh). Outside a git checkout, v0.0.0-dev.
set -euo pipefail

dir=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if v=$(git -C "$dir" describe --tags --dirty 2>/dev/null); then
	echo "$v"
elif hash=$(git -C "$dir" describe --always --dirty 2>/dev/null); then
	echo "v0.0.0-$(git -C "$dir" rev-list --count HEAD)-g$hash"
else
	echo v0.0.0-dev
fi
