#!/usr/bin/env bash
# ci-fleet.sh: the short fleet benchmark (bench/fleet, docs/performance.md
# "Fleet"): 20 real agents against a Mosquitto restarted under them, and 20
# agents spread over a three-node NATS cluster with MQTT, one node stopped.
# Every agent must come back and answer a group command before and after;
# the figures are printed, not judged (CI machines vary).
#
#   scripts/ci-fleet.sh [AGENTS]
#
# Installs mosquitto and nats-server with apt-get when missing. Without
# them the check is NOT run: the script says so and exits 0, except with
# CI=true, where that fails.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
n=${1:-20}

say() { echo "ci-fleet: $*"; }
not_run() {
	echo "ci-fleet: the fleet benchmark was NOT run: $*" >&2
	if [ "${CI:-}" = true ]; then exit 1; fi
	exit 0
}

missing=()
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	sudo=""
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || not_run "${missing[*]} missing and there is no root or sudo to install them"
		sudo="sudo -n"
	fi
	$sudo apt-get update -qq || not_run "apt-get update failed"
	$sudo apt-get install -y -qq "${missing[@]}" >/dev/null || not_run "apt-get install ${missing[*]} failed"
fi
export PATH="$PATH:/usr/sbin"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/edgecron" ./cmd/agent
go build -o "$work/fleet" ./bench/fleet
for broker in mosquitto nats; do
	say "$n agents, $broker"
	"$work/fleet" -n "$n" -broker "$broker" -bin "$work/edgecron" -idle 3s -wait 2m -json "$work/$broker.json"
done
say "ok"
