#!/usr/bin/env bash
# CI: Home Assistant's view of the agent. Renders every template of the
# golden discovery configs (mqtt/testdata/ha, captured from the broker by
# TestHomeAssistantGolden) with Debian's python3-jinja2, in Jinja2's
# sandboxed environment as Home Assistant does (scripts/ha-render.py).
# Installs python3-jinja2 when it is missing; any failure fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=/usr/bin/python3
if ! "$PY" -c 'import jinja2' 2>/dev/null; then
	echo "ci-ha: installing python3-jinja2"
	if ! command -v apt-get >/dev/null; then
		echo "ci-ha: FAIL: python3-jinja2 is missing and there is no apt-get to install it" >&2
		exit 1
	fi
	SUDO=
	[ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-jinja2 >/dev/null
	"$PY" -c 'import jinja2' # fails the run if the install did not work
fi
echo "ci-ha: jinja2 $("$PY" -c 'import jinja2; print(jinja2.__version__)') at $PY"
# The golden files are what the agent publishes now (checked by make
# test); render them.
"$PY" scripts/ha-render.py mqtt/testdata/ha
