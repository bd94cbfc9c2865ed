#!/usr/bin/env bash
# install.sh: install (or upgrade, or uninstall) the edgecron agent on a Pi.
#
#   sudo scripts/install.sh [--config FILE] [BINARY]
#   sudo scripts/install.sh --uninstall
#
# Creates the edgecron system user and the gpio/i2c groups where the OS lacks
# them; installs the agent to /usr/local/bin/edgecron (BINARY, or the dist/
# binary that fits this board), the unit to
# /etc/systemd/system/edgecron.service, the example configs to
# /usr/local/share/edgecron/examples and, only when none exists yet,
# /etc/edgecron/agent.yaml (from --config, default configs/pi.yaml, which
# drives no pins); then enables and (re)starts the service. Running it again
# is an upgrade: the binary and unit are replaced, the config and the store
# (/var/lib/edgecron) are kept.
#
# Options:
#   --config FILE    example config to install as agent.yaml when none exists
#   --uninstall      stop and remove the service, binary and unit; keep the
#                    config, the store, the user and the groups
#   --root DIR       install into DIR instead of / (an image, a test);
#                    DESTDIR=DIR does the same. Implies --no-systemctl.
#   --no-systemctl   do not reload, enable, start or stop the service
#   --print-binary   print the dist/ binary this machine would get, and exit
#   -h, --help       this text
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${DESTDIR:-/}
config=$repo/configs/pi.yaml
binary=""
uninstall=0
use_systemctl=auto
print_binary=0

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
die() { echo "install: $*" >&2; exit 1; }
bad_usage() { echo "install: $*" >&2; echo "try: $0 --help" >&2; exit 2; }
say() { echo "install: $*"; }

while [ "$#" -gt 0 ]; do
	case "$1" in
	--config) [ "$#" -ge 2 ] || bad_usage "--config needs a file"; config=$2; shift 2 ;;
	--config=*) config=${1#*=}; shift ;;
	--root) [ "$#" -ge 2 ] || bad_usage "--root needs a directory"; ROOT=$2; shift 2 ;;
	--root=*) ROOT=${1#*=}; shift ;;
	--uninstall) uninstall=1; shift ;;
	--no-systemctl) use_systemctl=no; shift ;;
	--print-binary) print_binary=1; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) bad_usage "unknown option $1" ;;
	*) [ -z "$binary" ] || bad_usage "more than one binary given: $binary, $1"; binary=$1; shift ;;
	esac
done

# board_target names the cross-build target for this machine. The userland
# decides, not the kernel: Raspberry Pi OS 32-bit runs a 64-bit kernel on a
# Pi 4 (uname says aarch64) under an armhf userland, and the unit's
# SystemCallArchitectures=native admits only the userland's architecture.
board_target() {
	local deb machine
	deb=$(dpkg --print-architecture 2>/dev/null || true)
	machine=$(uname -m)
	case "$deb" in
	arm64) echo arm64; return ;;
	amd64) echo amd64; return ;;
	armel) echo armv6; return ;;
	armhf) case "$machine" in armv6*) echo armv6 ;; *) echo armv7 ;; esac; return ;;
	"") ;;
	*) die "no edgecron build for the $deb architecture" ;;
	esac
	case "$machine" in
	aarch64 | arm64) echo arm64 ;;
	armv7* | armv8*) echo armv7 ;;
	armv6*) echo armv6 ;;
	x86_64 | amd64) echo amd64 ;;
	*) die "no edgecron build for a $machine machine" ;;
	esac
}

if [ "$print_binary" = 1 ]; then
	target=$(board_target) || exit 1
	echo "$repo/dist/edgecron-linux-$target"
	exit 0
fi

ROOT=${ROOT%/}
real_root=0
if [ -z "$ROOT" ]; then real_root=1; fi
if [ "$use_systemctl" = auto ]; then
	if [ "$real_root" = 1 ] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		use_systemctl=yes
	else
		use_systemctl=no
	fi
fi
if [ "$real_root" = 1 ] && [ "$(id -u)" != 0 ]; then
	die "installing into / needs root: run it with sudo (or use --root DIR)"
fi
if [ "$real_root" = 0 ]; then
	[ -d "$ROOT" ] || die "--root $ROOT is not a directory"
	ROOT=$(cd "$ROOT" && pwd) # useradd --root takes absolute paths only
fi

unit=edgecron.service
bin_path=$ROOT/usr/local/bin/edgecron
unit_path=$ROOT/etc/systemd/system/$unit
# Before the rename, the binary was /usr/local/bin/agent and the unit
# edgecron-agent.service; an install or uninstall removes them, so two agents
# never run on one config and store.
old_unit=edgecron-agent.service
old_unit_path=$ROOT/etc/systemd/system/$old_unit
old_bin_path=$ROOT/usr/local/bin/agent
conf_dir=$ROOT/etc/edgecron
examples=$ROOT/usr/local/share/edgecron/examples

systemctl_do() {
	if [ "$use_systemctl" = yes ]; then systemctl "$@"; fi
}

# ---- accounts -------------------------------------------------------------

# has_entry passwd|group NAME: the user or group NAME exists (in ROOT's
# etc/passwd or etc/group under --root).
has_entry() {
	if [ "$real_root" = 1 ]; then
		getent "$1" "$2" >/dev/null
		return
	fi
	[ -f "$ROOT/etc/$1" ] && grep -q "^$2:" "$ROOT/etc/$1"
}

# free_id FILE: the highest unused system id (100-999) in ROOT/etc/FILE, the
# way useradd allocates them; used only when useradd cannot run on ROOT.
free_id() {
	awk -F: '{ used[$3] = 1 } END { for (i = 999; i >= 100; i--) if (!(i in used)) { print i; exit } }' "$ROOT/etc/$1"
}

# native_tools: groupadd/useradd can work on ROOT (they chroot into it).
native_tools() {
	command -v groupadd >/dev/null && command -v useradd >/dev/null && [ "$(id -u)" = 0 ]
}

add_group() {
	local name=$1 gid
	if has_entry group "$name"; then return; fi
	if [ "$real_root" = 1 ]; then
		groupadd --system "$name"
	elif native_tools; then
		groupadd --system --root "$ROOT" "$name"
	else
		[ -f "$ROOT/etc/group" ] || die "$ROOT/etc/group missing: cannot add group $name"
		gid=$(free_id group)
		echo "$name:x:$gid:" >>"$ROOT/etc/group"
		if [ -f "$ROOT/etc/gshadow" ]; then echo "$name:!::" >>"$ROOT/etc/gshadow"; fi
	fi
	say "created group $name"
}

add_user() {
	local name=edgecron gid uid
	if has_entry passwd "$name"; then return; fi
	local args=(--system --home-dir /var/lib/edgecron --no-create-home --shell /usr/sbin/nologin --comment "edgecron agent")
	if has_entry group "$name"; then args+=(--gid "$name"); else args+=(--user-group); fi
	if [ "$real_root" = 1 ]; then
		useradd "${args[@]}" "$name"
	elif native_tools; then
		useradd --root "$ROOT" "${args[@]}" "$name" 2> >(grep -v "missing or non-executable shell" >&2)
	else
		[ -f "$ROOT/etc/passwd" ] || die "$ROOT/etc/passwd missing: cannot add user $name"
		add_group "$name"
		gid=$(awk -F: -v n="$name" '$1 == n { print $3 }' "$ROOT/etc/group")
		uid=$(free_id passwd)
		echo "$name:x:$uid:$gid:edgecron agent:/var/lib/edgecron:/usr/sbin/nologin" >>"$ROOT/etc/passwd"
		if [ -f "$ROOT/etc/shadow" ]; then echo "$name:!*:::::::" >>"$ROOT/etc/shadow"; fi
	fi
	say "created system user $name"
}

# chown_edgecron FILE: make FILE root:edgecron where we may (as root),
# with the target's own group id, not the host's, under --root.
chown_edgecron() {
	local gid
	if [ "$(id -u)" != 0 ]; then return; fi
	gid=$(awk -F: '$1 == "edgecron" { print $3 }' "$ROOT/etc/group" 2>/dev/null || true)
	if [ "$real_root" = 1 ]; then gid=edgecron; fi
	if [ -n "$gid" ]; then chown "0:$gid" "$1"; fi
}

# remove_old_names: stop and remove the agent installed under its old names.
remove_old_names() {
	if [ ! -f "$old_unit_path" ]; then return; fi
	systemctl_do disable --now "$old_unit" || true
	rm -f "$old_unit_path" "$old_bin_path"
	say "removed $old_unit and $old_bin_path (the names before edgecron)"
}

# ---- uninstall ------------------------------------------------------------

if [ "$uninstall" = 1 ]; then
	if [ -f "$unit_path" ]; then
		systemctl_do disable --now "$unit" || true
	fi
	remove_old_names
	rm -f "$unit_path" "$bin_path"
	rm -rf "$examples"
	rmdir "$ROOT/usr/local/share/edgecron" 2>/dev/null || true
	systemctl_do daemon-reload
	say "removed the agent, its unit and the examples"
	say "kept: $ROOT/etc/edgecron (config), $ROOT/var/lib/edgecron (store), the edgecron user and groups"
	say "to purge them: rm -rf $ROOT/etc/edgecron $ROOT/var/lib/edgecron && userdel edgecron"
	exit 0
fi

# ---- install --------------------------------------------------------------

# The Debian package and this script install to different places; two
# copies would fight over one unit name, config and store.
# shellcheck disable=SC2016 # ${Status} is dpkg-query's, not the shell's
if [ "$real_root" = 1 ] && dpkg-query -W -f '${Status}' edgecron 2>/dev/null | grep -q 'ok installed'; then
	die "the edgecron Debian package is installed: upgrade it with: sudo apt install ./edgecron_VERSION_ARCH.deb"
fi

if [ -z "$binary" ]; then
	binary=$repo/dist/edgecron-linux-$(board_target)
	[ -f "$binary" ] || die "$binary not found: run scripts/cross-build.sh first, or pass the binary's path"
fi
[ -f "$binary" ] || die "binary $binary not found"
[ -f "$config" ] || die "example config $config not found: pass one with --config FILE"
[ -f "$repo/configs/$unit" ] || die "$repo/configs/$unit not found"

for g in gpio i2c; do add_group "$g"; done
add_user

# The binary is replaced by rename, so a running agent keeps its old inode
# until the restart below.
install -d -m 0755 "$ROOT/usr/local/bin"
install -m 0755 "$binary" "$bin_path.new"
mv -f "$bin_path.new" "$bin_path"
say "installed $bin_path"

# The unit in configs/ is the Debian package's, which runs /usr/bin/edgecron.
install -d -m 0755 "$ROOT/etc/systemd/system"
sed 's#/usr/bin/edgecron #/usr/local/bin/edgecron #g' "$repo/configs/$unit" >"$unit_path.new"
chmod 0644 "$unit_path.new"
mv -f "$unit_path.new" "$unit_path"
say "installed $unit_path"

install -d -m 0755 "$examples"
for f in "$repo"/configs/*.yaml; do
	if [ -f "$f" ]; then install -m 0644 "$f" "$examples/"; fi
done

# The config is readable by the agent's group, never overwritten.
install -d -m 0750 "$conf_dir"
chown_edgecron "$conf_dir"
if [ -e "$conf_dir/agent.yaml" ]; then
	say "kept the existing $conf_dir/agent.yaml"
else
	install -m 0640 "$config" "$conf_dir/agent.yaml"
	chown_edgecron "$conf_dir/agent.yaml"
	say "installed $conf_dir/agent.yaml from $config"
fi

if [ "$use_systemctl" = no ]; then
	remove_old_names
	say "systemctl not used: enable and start it with: systemctl enable --now $unit"
	exit 0
fi

# As the service's user, who must be able to read every file the config
# names (a password_file).
check=("$bin_path" check-config --config /etc/edgecron/agent.yaml)
if command -v runuser >/dev/null; then check=(runuser -u edgecron -- "${check[@]}"); fi
if ! "${check[@]}"; then
	die "/etc/edgecron/agent.yaml does not pass this agent's check-config; a running agent was left as it was: fix the file and run this script again"
fi
remove_old_names
systemctl daemon-reload
systemctl enable "$unit"
systemctl restart "$unit"
if systemctl is-active --quiet "$unit"; then
	say "$unit is running: journalctl -u $unit -f"
else
	systemctl --no-pager status "$unit" || true
	die "$unit did not start"
fi
