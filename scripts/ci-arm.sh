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
#    the armv6 binary to the footprint budget (SIZE_BUDGET_MIB, default 8).
# 3. Runs each binary explicitly under qemu-arm-static / qemu-aarch64-static
#    (binfmt is not mounted here): `agent version`, `agent next` compared
#    with the native build, and a short `agent run` on the simulated board
#    with a bbolt store in a temp dir, stopped by SIGTERM, which must exit 0.
# 4. Runs the sched and store tests as GOARCH=arm GOARM=6 under
#    qemu-arm-static (32-bit catches 64-bit atomic alignment bugs); a test
#    that spawns a child binary launches it through $EDGECRON_TEST_EXEC.
#
# Environment: RUN_SECONDS (how long `agent run` runs, default 4),
# SIZE_BUDGET_MIB (default 8), KEEP=1 keeps the work directory.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
RUN_SECONDS=${RUN_SECONDS:-4}
SIZE_BUDGET_MIB=${SIZE_BUDGET_MIB:-8}

say() { echo "ci-arm: $*"; }
fail() { echo "ci-arm: FAIL: $*" >&2; exit 1; }
not_run() {
	echo "ci-arm: ARM checks were NOT run: $*" >&2
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

OUT=$work/dist scripts/cross-build.sh armv6 armv7 arm64 amd64
dist=$work/dist
size=$(wc -c <"$dist/agent-linux-armv6")
budget=$((SIZE_BUDGET_MIB * 1024 * 1024))
if [ "$size" -gt "$budget" ]; then
	fail "agent-linux-armv6 is $size bytes, over the ${SIZE_BUDGET_MIB} MiB budget"
fi
say "armv6 binary $size bytes, within the ${SIZE_BUDGET_MIB} MiB budget"

# ---- 3. the binaries under qemu ---------------------------------------------

trigger='{"type":"cron","hour":"6"}'
from=2026-03-28T00:00:00Z
native_next=$(TZ=UTC "$dist/agent-linux-amd64" next --trigger "$trigger" --from "$from" --count 3) ||
	fail "native agent next failed"
want_next=$'2026-03-28T06:00:00Z\n2026-03-29T06:00:00Z\n2026-03-30T06:00:00Z'
[ "$native_next" = "$want_next" ] || fail "native agent next printed:
$native_next
want:
$want_next"

# run_agent QEMU BINARY: a short `agent run` on the simulated board.
run_agent() {
	local qemu=$1 bin=$2 dir rc
	dir=$(mktemp -d "$work/run.XXXX")
	cat >"$dir/agent.yaml" <<-YAML
		device_id: ci-arm
		hardware: {board: sim}
		mqtt: {broker: "tcp://127.0.0.1:1"}
		store: {path: $dir/agent.db}
		control: {socket: $dir/agent.sock}
		log: {level: debug}
	YAML
	"$qemu" "$bin" run --config "$dir/agent.yaml" --hardware sim --db "$dir/agent.db" >"$dir/log" 2>&1 &
	agent_pid=$!
	# Up once the store file exists (opened at start), then let it run.
	for _ in $(seq 1 50); do
		[ -e "$dir/agent.db" ] && break
		kill -0 "$agent_pid" 2>/dev/null || break
		sleep 0.2
	done
	sleep "$RUN_SECONDS"
	if ! kill -0 "$agent_pid" 2>/dev/null; then
		wait "$agent_pid" && rc=0 || rc=$?
		agent_pid=""
		cat "$dir/log" >&2
		fail "$(basename "$bin") run exited early with status $rc"
	fi
	[ -e "$dir/agent.db" ] || { cat "$dir/log" >&2; fail "$(basename "$bin") run made no store at $dir/agent.db"; }
	kill -TERM "$agent_pid"
	rc=0
	for _ in $(seq 1 100); do # up to 20 s to stop
		kill -0 "$agent_pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$agent_pid" 2>/dev/null; then
		cat "$dir/log" >&2
		fail "$(basename "$bin") run did not stop within 20 s of SIGTERM"
	fi
	wait "$agent_pid" || rc=$?
	agent_pid=""
	if [ "$rc" != 0 ]; then
		cat "$dir/log" >&2
		fail "$(basename "$bin") run exited $rc after SIGTERM, want 0"
	fi
}

for target in armv6 armv7 arm64; do
	bin=$dist/agent-linux-$target
	qemu="qemu-arm-static"
	if [ "$target" = arm64 ]; then qemu="qemu-aarch64-static"; fi

	out=$(timeout 60 "$qemu" "$bin" version) || fail "$target: agent version failed: $out"
	[ -n "$out" ] || fail "$target: agent version printed nothing"
	say "$target: version: $out"

	got=$(TZ=UTC timeout 60 "$qemu" "$bin" next --trigger "$trigger" --from "$from" --count 3) ||
		fail "$target: agent next failed"
	[ "$got" = "$native_next" ] || fail "$target: agent next printed:
$got
while amd64 printed:
$native_next"
	say "$target: next: $(echo "$got" | tr '\n' ' ')"

	run_agent "$qemu" "$bin"
	say "$target: run: started, ran ${RUN_SECONDS}s, stopped on SIGTERM with 0"
done

# ---- 4. the core tests on 32-bit ARM ----------------------------------------

pkgs=()
for p in ./sched/... ./store/...; do
	if [ -d "${p%/...}" ]; then pkgs+=("$p"); fi
done
say "go test on linux/arm GOARM=6 under qemu: ${pkgs[*]}"
EDGECRON_TEST_EXEC=qemu-arm-static GOOS=linux GOARCH=arm GOARM=6 CGO_ENABLED=0 \
	go test -count=1 -timeout 10m -exec qemu-arm-static "${pkgs[@]}"

say "ARM checks passed"
