#!/usr/bin/env bash
# footprint.sh: measure what docs/footprint.md reports — the resident memory
# and idle CPU of a running agent with 1,000 jobs on the simulated board.
#
#   scripts/footprint.sh [BROKER_URL]     (default tcp://127.0.0.1:1883; "none" for no MQTT)
#
# HTTP=1 turns the HTTP listener on (loopback, no client ever connects), to
# compare its idle cost with HTTP unset (docs/http.md, "Cost").
#
# Builds the agent stripped, imports 1,000 jobs into a fresh store, runs it,
# lets the start settle for 20 s and prints VmRSS, RssAnon (the agent's own
# memory), RssFile (clean pages of the binary and of the bbolt map, which
# the kernel can drop), the live heap after the last garbage collection,
# and the CPU time and wake-ups over WINDOWS idle windows of WINDOW seconds
# (default one of 60), beside scripts/pahoidle, a process that only holds a
# paho connection, measured over the same windows. No job is due meanwhile:
# the cron jobs fire two hours from now or later, the interval jobs 5 to 54
# minutes after the import. Linux only (/proc). scripts/bench.sh idle runs
# it with several windows and takes the median of the per-window ratios.
#
# Besides the sentences, for scripts/bench.sh, one line per window:
#   window N AGENT_CPU_MS AGENT_WAKEUPS PAHOIDLE_CPU_MS PAHOIDLE_WAKEUPS
# and "memory NAME VmRSS_KiB RssAnon_KiB RssFile_KiB" for both processes.
set -euo pipefail
WINDOWS=${WINDOWS:-1}
WINDOW=${WINDOW:-60}
repo=$(cd "$(dirname "$0")/.." && pwd)
broker=${1:-tcp://127.0.0.1:1883}
work=$(mktemp -d)
cleanup() {
	for p in "${pid:-}" "${peer:-}"; do
		if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; fi
	done
	# The agent published its jobs retained: take them off the broker again.
	if [ "$broker" != none ] && command -v mosquitto_sub >/dev/null; then
		hostport=${broker#*://}
		timeout 5 mosquitto_sub -h "${hostport%:*}" -p "${hostport##*:}" -t "footprint-$$/#" \
			--remove-retained --retained-only -W 3 >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
cd "$repo"
flags=$(scripts/goflags.sh) # the release build's compiler flags
mapfile -t goflags <<<"$flags"
CGO_ENABLED=0 go build -trimpath "${goflags[@]}" -ldflags "-s -w" -o "$work/agent" ./cmd/agent
mqtt=""
[ "$broker" != none ] && mqtt="mqtt: {broker: $broker, prefix: footprint-$$}"
cat > "$work/a.yaml" <<YAML
device_id: footprint
timezone: UTC
clock: {source: rtc}
hardware: {board: sim}
store: {path: $work/a.db}
control: {socket: $work/a.sock}
$mqtt
actuators: [{name: relay, driver: sim}]
YAML
if [ "${HTTP:-}" = 1 ]; then
	echo 'http: {enabled: true, listen: "127.0.0.1:0"}' >>"$work/a.yaml"
fi
# Idle means no job is due: cron hours skip this UTC hour and the next
# (the measurement may cross into it); an interval's first run is one
# interval after the import.
now_h=$((10#$(date -u +%H)))
{
  echo "["
  for i in $(seq 0 999); do
    h=$(((now_h + 2 + i % 22) % 24))
    case $((i % 3)) in
      0) trig="{\"type\":\"cron\",\"minute\":\"$((i % 60))\",\"hour\":\"$h\"}" ;;
      1) trig="{\"type\":\"interval\",\"minutes\":$((5 + i % 50))}" ;;
      2) trig="{\"type\":\"cron\",\"day_of_week\":\"mon-fri\",\"hour\":\"$h\",\"minute\":\"$((i % 60))\"}" ;;
    esac
    sep=","; [ "$i" = 999 ] && sep=""
    echo "{\"id\":\"j$i\",\"trigger\":$trig,\"action\":{\"type\":\"actuate\",\"actuator\":\"relay\",\"command\":\"toggle\"}}$sep"
  done
  echo "]"
} > "$work/jobs.json"
"$work/agent" jobs import "$work/jobs.json" --config "$work/a.yaml"
# gctrace: each collection logs the live heap it left ("4->4->2 MB").
GODEBUG=gctrace=1 "$work/agent" run --config "$work/a.yaml" 2>"$work/run.log" &
pid=$!
peer=""
if [ "$broker" != none ]; then
	go build -o "$work/pahoidle" ./scripts/pahoidle
	"$work/pahoidle" "$broker" &
	peer=$!
fi
# Let the start settle: the agent publishes its 1,000 job documents
# (retained) and its outbox flusher goes quiet about 10 s after that.
sleep 20
# CPU time in nanoseconds, from the scheduler's own accounting, summed over
# every thread (Go runs goroutines on several).
cpu() { cat /proc/"$1"/task/*/schedstat | awk '{s += $1} END {print s}'; }
# Wake-ups: a thread that sleeps again after waking counts one voluntary
# context switch, so their sum over the threads counts the wake-ups.
wakes() { cat /proc/"$1"/task/*/status | awk '/^voluntary_ctxt_switches/ {s += $2} END {print s}'; }
runs() { grep -c 'msg=actuator' "$work/run.log" || true; } # each job run switches the relay
r0=$(runs)
for w in $(seq 1 "$WINDOWS"); do
	a0=$(cpu "$pid"); w0=$(wakes "$pid"); [ -n "$peer" ] && p0=$(cpu "$peer") && q0=$(wakes "$peer")
	sleep "$WINDOW"
	a1=$(cpu "$pid"); w1=$(wakes "$pid"); [ -n "$peer" ] && p1=$(cpu "$peer") && q1=$(wakes "$peer")
	if [ -n "$peer" ]; then
		awk -v w="$w" -v a="$((a1 - a0))" -v b="$((w1 - w0))" -v c="$((p1 - p0))" -v d="$((q1 - q0))" \
			'BEGIN { printf "window %d %.3f %d %.3f %d\n", w, a / 1e6, b, c / 1e6, d }'
	else
		awk -v w="$w" -v a="$((a1 - a0))" -v b="$((w1 - w0))" 'BEGIN { printf "window %d %.3f %d - -\n", w, a / 1e6, b }'
	fi
	at=$((${at:-0} + a1 - a0)); wt=$((${wt:-0} + w1 - w0))
	[ -n "$peer" ] && pt=$((${pt:-0} + p1 - p0)) && qt=$((${qt:-0} + q1 - q0))
done
r1=$(runs)
secs=$((WINDOWS * WINDOW))
grep -E '^(VmRSS|VmHWM|RssAnon|RssFile):' "/proc/$pid/status"
mem() { awk -v n="$2" '/^VmRSS:/ {r = $2} /^RssAnon:/ {a = $2} /^RssFile:/ {f = $2} END {print "memory", n, r, a, f}' "/proc/$1/status"; }
mem "$pid" agent
[ -n "$peer" ] && mem "$peer" pahoidle
grep '^gc ' "$work/run.log" | tail -1 | awk '{for (i = 1; i <= NF; i++) if ($i ~ /->.*->/) {split($i, h, "->"); print "heap: live " h[3] " MB after the last garbage collection (gc " $2 ", " substr($3, 2) " after start)"}}'
echo "jobs: $("$work/agent" jobs list --config "$work/a.yaml" | tail -n +2 | wc -l), of which ran in the idle windows: $((r1 - r0))"
awk -v t="$at" -v w="$wt" -v s="$secs" 'BEGIN { printf "idle CPU, agent:    %.2f ms in %d s, %d wake-ups\n", t / 1e6, s, w }'
if [ -n "$peer" ]; then
	awk -v t="$pt" -v w="$qt" -v s="$secs" 'BEGIN { printf "idle CPU, pahoidle: %.2f ms in %d s, %d wake-ups (a process holding only a paho connection)\n", t / 1e6, s, w }'
	kill -TERM "$peer"
	wait "$peer" || true
	peer=""
fi
kill -TERM "$pid"
wait "$pid" || true
pid=""
