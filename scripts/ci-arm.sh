#!/usr/bin/env bash
# ci-arm.sh: run the agent and the core tests on 32- and 64-bit ARM under
# qemu user emulation, as a Pi would run them.
#
#   scripts/ci-arm.sh
#
# 1. Installs Debian's qemu-user-static when missing (apt-get, as root or
#    through password-less sudo). Without it the ARM checks are NOT run: the
#    script says so and why, and exits 0.
# 2. Cross-builds armv6, armv7 and arm64 (scripts/cross-build.sh) and holds
#    the armv6 binary to the footprint budget (SIZE_BUDGET_KIB, default
#    8704 = 8.5 MiB).
# 3. Runs each binary explicitly under qemu-arm-static / qemu-aarch64-static
#    (binfmt is not mounted here): `edgecron version`, `edgecron next` compared
#    with the native build, and a short `edgecron run` on the simulated board
#    with a bbolt store in a temp dir: `edgecron jobs list` must reach it through
#    its control socket, its interval job must run, SIGTERM must stop it with
#    exit 0, and `edgecron jobs export` must then read the job from the store.
# 4. Vets every package for linux/arm and linux/arm64, and runs the sched,
#    store, clockstate and sdnotify tests as GOARCH=arm GOARM=6 under
#    qemu-arm-static (32-bit catches 64-bit atomic alignment bugs); a test
#    that spawns a child binary launches it through $EDGECRON_TEST_EXEC.
#
# Environment: RUN_SECONDS (how long `edgecron run` runs, default 4),
# SIZE_BUDGET_KIB (default 8704), KEEP=1 keeps the work directory. With
# CI=true a check that cannot run (no qemu to be had) fails the script.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
RUN_SECONDS=${RUN_SECONDS:-4}
SIZE_BUDGET_KIB=${SIZE_BUDGET_KIB:-8704}

say() { echo "ci-arm: $*"; }
fail() { echo "ci-arm: FAIL: $*" >&2; exit 1; }
not_run() {
	echo "ci-arm: ARM checks were NOT run: $*" >&2
	# In CI a check that cannot run is a failure, never a silent skip.
	if [ "${CI:-}" = true ]; then exit 1; fi
	exit 0
}

# ---- 1. qemu ----------------------------------------------------------------

have_qemu() { command -v qemu-arm-static >/dev/null && command -v qemu-aarch64-static >/dev/null; }

if ! have_qemu; then
	if [ "$(id -u)" = 0 ]; then
		as_root=()
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		as_root=(sudo -n)
	else
		not_run "qemu-user-static is not installed, and installing it needs root (or password-less sudo)"
	fi
	command -v apt-get >/dev/null || not_run "qemu-user-static is not installed and there is no apt-get to install it"
	say "installing qemu-user-static"
	if ! "${as_root[@]}" apt-get update -qq >/tmp/ci-arm-apt.log 2>&1 ||
		! DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq qemu-user-static >>/tmp/ci-arm-apt.log 2>&1; then
		tail -5 /tmp/ci-arm-apt.log >&2 || true
		not_run "apt-get could not install qemu-user-static (log: /tmp/ci-arm-apt.log)"
	fi
	have_qemu || not_run "qemu-user-static installed, yet qemu-arm-static or qemu-aarch64-static is missing"
fi
say "$(qemu-arm-static --version | head -1)"

work=$(mktemp -d)
agent_pid=""
cleanup() {
	if [ -n "$agent_pid" ]; then kill -KILL "$agent_pid" 2>/dev/null || true; fi
	if [ "${KEEP:-0}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# ---- 2. cross-build ---------------------------------------------------------

OUT=$work/dist DEBS=0 scripts/cross-build.sh armv6 armv7 arm64 amd64
dist=$work/dist
size=$(wc -c <"$dist/edgecron-linux-armv6")
budget=$((SIZE_BUDGET_KIB * 1024))
if [ "$size" -gt "$budget" ]; then
	fail "edgecron-linux-armv6 is $size bytes, over the ${SIZE_BUDGET_KIB} KiB budget"
fi
say "armv6 binary $size bytes, within the ${SIZE_BUDGET_KIB} KiB budget"

# ---- 3. the binaries under qemu ---------------------------------------------

trigger='{"type":"cron","hour":"6"}'
from=2026-03-28T00:00:00Z
native_next=$(TZ=UTC "$dist/edgecron-linux-amd64" next --trigger "$trigger" --from "$from" --count 3) ||
	fail "native edgecron next failed"
want_next=$'2026-03-28T06:00:00Z\n2026-03-29T06:00:00Z\n2026-03-30T06:00:00Z'
[ "$native_next" = "$want_next" ] || fail "native edgecron next printed:
$native_next
want:
$want_next"

# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds; false
# after SECONDS, or at once when the agent has exited.
wait_for() {
	local tries=$(($1 * 5))
	shift
	until "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		if [ "$tries" -le 0 ] || ! kill -0 "$agent_pid" 2>/dev/null; then return 1; fi
		sleep 0.2
	done
}

# gone_within SECONDS: true once the agent process has exited.
gone_within() {
	local tries=$(($1 * 5))
	while kill -0 "$agent_pid" 2>/dev/null; do
		tries=$((tries - 1))
		if [ "$tries" -le 0 ]; then return 1; fi
		sleep 0.2
	done
}

# stop_with MESSAGE: kill the agent, show its log, fail.
run_name="" run_dir=""
stop_with() {
	kill -KILL "$agent_pid" 2>/dev/null || true
	wait "$agent_pid" 2>/dev/null || true
	agent_pid=""
	cat "$run_dir/log" >&2
	fail "$run_name: $*"
}

# run_agent NAME QEMU BINARY: a short `edgecron run` on the simulated board with
# a bbolt store and an interval job that runs a command every second. The
# wall clock may be untrusted here; interval jobs run regardless.
run_agent() {
	local qemu=$2 bin=$3 dir rc out
	run_name=$1
	dir=$(mktemp -d "$work/run-$run_name.XXXX")
	run_dir=$dir
	cat >"$dir/agent.yaml" <<-YAML
		device_id: ci-arm-$run_name
		hardware: {board: sim}
		mqtt: {broker: "tcp://127.0.0.1:1"}
		store: {path: $dir/agent.db}
		control: {socket: $dir/agent.sock}
		commands:
		  mark: {argv: [$(command -v touch), $dir/ran], timeout: 10s}
		jobs:
		  - id: tick
		    trigger: {type: interval, seconds: 1}
		    action: {type: exec, command: mark}
	YAML
	local agent=("$qemu" "$bin")
	out=$(timeout 60 "${agent[@]}" check-config --config "$dir/agent.yaml" 2>&1) || fail "$run_name: check-config: $out"

	"${agent[@]}" run --config "$dir/agent.yaml" --hardware sim --db "$dir/agent.db" >"$dir/log" 2>&1 &
	agent_pid=$!
	# Through the control socket, as `edgecron jobs` reaches a running agent.
	wait_for 30 test -S "$dir/agent.sock" || stop_with "run opened no control socket at $dir/agent.sock"
	out=$(timeout 60 "${agent[@]}" jobs list --config "$dir/agent.yaml" 2>&1) || stop_with "jobs list through the socket: $out"
	case "$out" in *tick*) ;; *) stop_with "jobs list through the socket does not list job tick: $out" ;; esac
	wait_for 20 test -e "$dir/ran" || stop_with "the interval job did not run its command"
	sleep "$RUN_SECONDS"
	kill -0 "$agent_pid" 2>/dev/null || stop_with "run exited before SIGTERM"

	kill -TERM "$agent_pid"
	gone_within 20 || stop_with "run did not stop within 20 s of SIGTERM"
	rc=0
	wait "$agent_pid" || rc=$?
	agent_pid=""
	if [ "$rc" != 0 ]; then
		cat "$dir/log" >&2
		fail "$run_name: run exited $rc after SIGTERM, want 0"
	fi
	# The agent is gone: jobs export reads the bbolt file directly.
	out=$(timeout 60 "${agent[@]}" jobs export --config "$dir/agent.yaml" 2>&1) || fail "$run_name: jobs export from the store: $out"
	case "$out" in *'"tick"'*) ;; *) fail "$run_name: the store has no job tick after the run: $out" ;; esac
}

for target in armv6 armv7 arm64; do
	bin=$dist/edgecron-linux-$target
	qemu="qemu-arm-static"
	if [ "$target" = arm64 ]; then qemu="qemu-aarch64-static"; fi

	out=$(timeout 60 "$qemu" "$bin" version) || fail "$target: edgecron version failed: $out"
	[ -n "$out" ] || fail "$target: edgecron version printed nothing"
	say "$target: version: $out"

	got=$(TZ=UTC timeout 60 "$qemu" "$bin" next --trigger "$trigger" --from "$from" --count 3) ||
		fail "$target: edgecron next failed"
	[ "$got" = "$native_next" ] || fail "$target: edgecron next printed:
$got
while amd64 printed:
$native_next"
	say "$target: next: $(echo "$got" | tr '\n' ' ')"

	run_agent "$target" "$qemu" "$bin"
	say "$target: run: control socket answered, interval job ran, stopped on SIGTERM with 0, store exported"
done

# ---- 4. every package vetted for ARM, the core tests on 32-bit ARM ----------

# Files behind build tags (linux/arm, 32-bit struct fields) compile only here.
for arch in arm arm64; do
	GOOS=linux GOARCH=$arch GOARM=6 CGO_ENABLED=0 go vet ./... || fail "go vet for linux/$arch"
done
say "go vet ./... passed for linux/arm and linux/arm64"

pkgs=()
# clockstate reads the kernel's 32-bit struct timex here, for real.
for p in ./sched/... ./store/... ./internal/clockstate ./internal/sdnotify; do
	if [ -d "${p%/...}" ]; then pkgs+=("$p"); fi
done
say "go test on linux/arm GOARM=6 under qemu: ${pkgs[*]}"
EDGECRON_TEST_EXEC=qemu-arm-static GOOS=linux GOARCH=arm GOARM=6 CGO_ENABLED=0 \
	go test -count=1 -timeout 10m -exec qemu-arm-static "${pkgs[@]}"

say "ARM checks passed"
