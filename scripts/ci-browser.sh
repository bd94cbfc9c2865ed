#!/usr/bin/env bash
# ci-browser.sh: the dashboard tested in a real browser (docs/http.md,
# "Dashboard"). Debian's chromium, headless, driven by playwright-core from
# npm (scripts/ci-browser.cjs), against an agent built from this tree and
# run on the demo's config (configs/demo.yaml: its jobs, sensor and
# outputs) with the HTTP listener on behind basic auth, its own store and
# socket in a scratch directory, and its own Mosquitto on a free port:
#
#   1. the page loads and lists every job of the config;
#   2. an actuator's "on" and "off" show in its card;
#   3. a click on "run" produces the job's executed event on MQTT
#      (mosquitto_sub on <root>/events) and its row shows the result;
#   4. a config-file job's "pause" is disabled; a job added over the REST
#      API pauses on a click and its row changes, "resume" changes it back;
#   5. the sensor's chart draws (an SVG path with points and a width);
#   6. the page fits a phone's 375 px, and reported no error (a script
#      error, a failed request, a refused change) on the way.
#
# Installs what is missing with apt-get (chromium, nodejs, npm,
# mosquitto, mosquitto-clients) and playwright-core with npm into the
# scratch directory, never into the repository. Without them the check is
# NOT run: the script says so and exits 0, except with CI=true, where that
# fails. KEEP=1 keeps the scratch directory: the logs, and screenshots of
# the page (wide.png and phone.png, or failure.png).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

say() { echo "ci-browser: $*"; }
fail() { echo "ci-browser: FAIL: $*" >&2; exit 1; }
not_run() {
	echo "ci-browser: the browser test was NOT run: $*" >&2
	# In CI a check that cannot run is a failure, never a silent skip.
	if [ "${CI:-}" = true ]; then exit 1; fi
	exit 0
}

# ---- what it needs ----------------------------------------------------------

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_sub >/dev/null || missing+=(mosquitto-clients)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		as_root=()
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		as_root=(sudo -n)
	else
		not_run "${missing[*]} missing, and installing them needs root (or password-less sudo)"
	fi
	command -v apt-get >/dev/null || not_run "${missing[*]} missing and there is no apt-get to install them"
	say "installing ${missing[*]}"
	if ! "${as_root[@]}" apt-get update -qq >/tmp/ci-browser-apt.log 2>&1 ||
		! DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq "${missing[@]}" >>/tmp/ci-browser-apt.log 2>&1; then
		tail -5 /tmp/ci-browser-apt.log >&2 || true
		not_run "apt-get could not install ${missing[*]} (log: /tmp/ci-browser-apt.log)"
	fi
fi
export PATH="$PATH:/usr/sbin"
[ -x /usr/bin/chromium ] || not_run "no /usr/bin/chromium after the install"
say "$(/usr/bin/chromium --version 2>/dev/null || echo chromium), node $(node --version)"

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP:-}" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# playwright-core: the driver only (it downloads no browser), into the
# scratch directory.
mkdir -p "$work/npm"
if ! (cd "$work/npm" && npm install --silent --no-audit --no-fund --no-save playwright-core@1 >"$work/npm.log" 2>&1); then
	tail -5 "$work/npm.log" >&2 || true
	not_run "npm could not install playwright-core (log: $work/npm.log)"
fi
playwright="$work/npm/node_modules/playwright-core"
[ -f "$playwright/package.json" ] || not_run "playwright-core is not in $work/npm after npm install"
say "playwright-core $(node -p "require('$playwright/package.json').version")"

# ---- the broker and the agent -----------------------------------------------

free_port() {
	node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
mport=$(free_port)
hport=$(free_port)
[ "$mport" != "$hport" ] || hport=$(free_port)

cat >"$work/mosquitto.conf" <<CONF
listener $mport 127.0.0.1
allow_anonymous true
persistence false
CONF
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
pids+=($!)

go build -o "$work/edgecron" ./cmd/agent

# The demo's config with this run's broker, store, socket and device, and
# the listener on behind basic auth. Each substitution must have matched.
printf 'ci-browser-%s\n' "$RANDOM$RANDOM" >"$work/http.pass"
device=ci-browser
sed -e "s|^mqtt:|device_id: $device\ntimezone: UTC\nmqtt:|" \
	-e "s|^  listen: 127.0.0.1:8780|  listen: 127.0.0.1:$hport\n  auth: {username: ci, password_file: $work/http.pass}|" \
	-e "s|broker: tcp://127.0.0.1:1883|broker: tcp://127.0.0.1:$mport|" \
	-e "s|path: ./edgecron-demo.db|path: $work/agent.db|" \
	-e "s|socket: ./edgecron-demo.sock|socket: $work/agent.sock|" \
	-e "s|interval: 10s|interval: 2s|" \
	configs/demo.yaml >"$work/agent.yaml"
for want in "device_id: $device" "listen: 127.0.0.1:$hport" "password_file: $work/http.pass" "broker: tcp://127.0.0.1:$mport" "path: $work/agent.db" "socket: $work/agent.sock" "interval: 2s"; do
	grep -qF "$want" "$work/agent.yaml" || fail "configs/demo.yaml changed: no '$want' in the test's copy (edit this script)"
done
jobs=$(sed -n 's/^  - id: *\([A-Za-z0-9_.-]*\).*/\1/p' "$work/agent.yaml" | tr '\n' ' ')
[ -n "$jobs" ] || fail "no jobs found in configs/demo.yaml"

"$work/edgecron" check-config --config "$work/agent.yaml" >/dev/null || fail "the test's config is refused"
mosquitto_sub -h 127.0.0.1 -p "$mport" -t "edgecron/$device/events" -v >"$work/events.log" 2>&1 &
pids+=($!)
"$work/edgecron" run --config "$work/agent.yaml" >"$work/agent.log" 2>&1 &
agent=$!
pids+=("$agent")

url="http://127.0.0.1:$hport/"
for _ in $(seq 1 100); do
	grep -q 'msg=listening' "$work/agent.log" && break
	kill -0 "$agent" 2>/dev/null || { tail -20 "$work/agent.log" >&2; fail "the agent exited"; }
	sleep 0.1
done
grep -q 'msg=listening' "$work/agent.log" || { tail -20 "$work/agent.log" >&2; fail "the agent does not listen on $url"; }
say "agent on $url, broker on 127.0.0.1:$mport"

# ---- the browser ------------------------------------------------------------

if ! PLAYWRIGHT="$playwright" URL="$url" HTTP_USER=ci HTTP_PASSWORD="$(head -1 "$work/http.pass")" \
	JOBS="$jobs" EVENTS="$work/events.log" PROFILE="$work/profile" SHOT="$work/failure.png" \
	node scripts/ci-browser.cjs; then
	echo "--- agent log (last 30 lines)" >&2
	tail -30 "$work/agent.log" >&2 || true
	echo "--- events" >&2
	tail -10 "$work/events.log" >&2 || true
	[ "${KEEP:-}" = 1 ] || echo "ci-browser: run with KEEP=1 to keep the logs and the screenshot" >&2
	exit 1
fi
