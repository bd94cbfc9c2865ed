#!/usr/bin/env bash
# Hardware-in-the-loop tests: the unmodified, statically built agent on a
# stock Debian kernel in qemu-system-x86_64, qemu-system-aarch64 -M virt
# and qemu-system-arm -M virt (the armv6 build the Pi Zero runs, on Debian's
# armhf kernel), under TCG, against the kernel's own
# GPIO simulator (gpio-sim: lines named like a Pi's GPIO17) and I2C
# simulator (i2c-stub, with BME280, ADS1115 and PCA9685 registers), through
# the GPIO character device and the sysfs GPIO path, with the kernel's gpio
# tracepoints as the witness of every level a line took. The checks are in
# scripts/hil/guest.sh; see README.md ("Hardware-in-the-loop tests") and
# docs/hardware.md.
#
# Debian's 6.1 kernel does not build gpio-sim (nor irq_sim, which it needs),
# and its i2c-stub answers SMBus only: the three are built here, at run
# time, from Debian's linux-source of the same version against its
# linux-headers (GPL-2.0; irq_sim gets generic_handle_irq instead of the
# unexported irq_to_desc, i2c-stub scripts/hil/i2c-stub-plain-i2c.patch).
# Nothing derived from the kernel's sources is kept in this repository
# beyond that patch.
#
# The arm64 and armhf kernels, headers and busybox come through a private
# APT_CONFIG (the host's dpkg is untouched); their modules are cross-built
# with gcc-aarch64-linux-gnu and gcc-arm-linux-gnueabihf. Downloads and builds are cached under $HIL_CACHE
# (/var/cache/edgecron-hil); a fresh machine needs apt-get and the Debian
# bookworm archive. Any step that fails fails the script: nothing is
# skipped. Prints "N passed, N failed" last; exit status 1 on any failure.
#
#   scripts/ci-hil.sh                 # amd64, arm64 and armhf
#   HIL_ARCHS=amd64 scripts/ci-hil.sh # one; HIL_DEBUG=1 prints the guest's logs too
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# Exact versions: a glob would fetch every kernel of the archive.
KPKG=6.1.176-1
KVER=6.1.0-50
CACHE=${HIL_CACHE:-/var/cache/edgecron-hil}
TIMEOUT=${HIL_TIMEOUT:-300}
read -r -a ARCHS <<< "${HIL_ARCHS:-amd64 arm64 armhf}"

# Per Debian architecture: the kernel flavour, Go's GOARCH (and GOARM),
# the kernel's ARCH and cross compiler, the machine and its console.
declare -A FLAVOUR=([amd64]=amd64 [arm64]=arm64 [armhf]=armmp)
declare -A GOARCH_OF=([amd64]=amd64 [arm64]=arm64 [armhf]=arm)
declare -A KARCH=([amd64]=x86 [arm64]=arm64 [armhf]=arm)
declare -A CROSS=([amd64]="" [arm64]=aarch64-linux-gnu- [armhf]=arm-linux-gnueabihf-)
declare -A QEMU=([amd64]="qemu-system-x86_64 -M pc" [arm64]="qemu-system-aarch64 -M virt -cpu cortex-a72"
	[armhf]="qemu-system-arm -M virt -cpu cortex-a15")
declare -A CONSOLE=([amd64]=ttyS0 [arm64]=ttyAMA0 [armhf]=ttyAMA0)

say() { echo "ci-hil: $*" >&2; }
die() {
	say "FAILED: $*"
	echo "0 passed, 1 failed"
	exit 1
}

mkdir -p "$CACHE"
WORK=$(mktemp -d /tmp/ci-hil.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# --- host packages ------------------------------------------------------------
# The amd64 headers also bring linux-headers-$KVER-common and
# linux-kbuild-6.1, which the ARM module builds use too.
pkgs=(busybox-static cpio patch make gcc "linux-headers-$KVER-amd64=$KPKG" "linux-source-6.1=$KPKG")
for a in "${ARCHS[@]}"; do
	case $a in
	amd64) pkgs+=(qemu-system-x86) ;;
	arm64) pkgs+=(qemu-system-arm gcc-aarch64-linux-gnu) ;;
	armhf) pkgs+=(qemu-system-arm gcc-arm-linux-gnueabihf) ;;
	*) die "HIL_ARCHS: unknown architecture $a (amd64, arm64, armhf)" ;;
	esac
done
missing=()
for p in "${pkgs[@]}"; do
	name=${p%%=*} want=${p#*=}
	have=$(dpkg-query -W -f='${Status} ${Version}' "$name" 2>/dev/null || true)
	case $have in
	"install ok installed "*) [[ $p != *=* || $have == *" $want" ]] || missing+=("$p") ;;
	*) missing+=("$p") ;;
	esac
done
if ((${#missing[@]})); then
	command -v apt-get > /dev/null || die "apt-get not found: install ${missing[*]} by hand"
	say "installing ${missing[*]}"
	if [[ ! -f $CACHE/apt-updated ]] || [[ -n $(find "$CACHE/apt-updated" -mmin +1440) ]]; then
		apt-get update -qq || die "apt-get update"
		touch "$CACHE/apt-updated"
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
		> "$WORK/apt.log" 2>&1 || {
		tail -20 "$WORK/apt.log" >&2
		die "apt-get install ${missing[*]}"
	}
fi

# fetch ARCH DIR PKG...: downloads packages of a foreign architecture
# through a private apt configuration (its own lists, cache and an empty
# dpkg status) into DIR.
fetch() {
	local arch=$1 dir=$2 A=$CACHE/apt-$1
	shift 2
	mkdir -p "$A/state/lists/partial" "$A/cache/archives/partial" "$A/parts" "$dir"
	touch "$A/state/status"
	cat > "$A/sources.list" <<-EOF
		deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
		deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
		deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
	EOF
	cat > "$A/apt.conf" <<-EOF
		APT::Architecture "$arch";
		APT::Architectures { "$arch"; };
		APT::Sandbox::User "root";
		Dir::State "$A/state";
		Dir::State::status "$A/state/status";
		Dir::Cache "$A/cache";
		Dir::Etc::SourceList "$A/sources.list";
		Dir::Etc::SourceParts "$A/parts";
		Dir::Etc::Preferences "$A/parts/none";
		Dir::Etc::PreferencesParts "$A/parts";
	EOF
	APT_CONFIG=$A/apt.conf apt-get update -qq > "$WORK/apt-$arch.log" 2>&1 || {
		cat "$WORK/apt-$arch.log" >&2
		die "apt-get update ($arch, private APT_CONFIG)"
	}
	(cd "$dir" && APT_CONFIG=$A/apt.conf apt-get download "$@") > "$WORK/apt-$arch.log" 2>&1 || {
		cat "$WORK/apt-$arch.log" >&2
		die "apt-get download $* ($arch)"
	}
}

# kernel ARCH: unpacks the kernel (and for ARM the headers and busybox)
# into $CACHE/$KVER-FLAVOUR/root and leaves the bootable image in
# $CACHE/$KVER-FLAVOUR/boot.img.
kernel() {
	local a=$1 f=${FLAVOUR[$1]} K=$CACHE/$KVER-${FLAVOUR[$1]}
	[[ -f $K/boot.img ]] && return
	say "fetching the $a kernel $KVER-$f $KPKG"
	rm -rf "$K" && mkdir -p "$K/deb"
	if [[ $a == amd64 ]]; then
		# The package lists may be missing or stale (an image that dropped
		# them after installing): update once and try again.
		(cd "$K/deb" && apt-get download "linux-image-$KVER-amd64=$KPKG") > "$WORK/dl.log" 2>&1 ||
			{ apt-get update -qq && (cd "$K/deb" && apt-get download "linux-image-$KVER-amd64=$KPKG"); } \
				>> "$WORK/dl.log" 2>&1 || {
			cat "$WORK/dl.log" >&2
			die "apt-get download linux-image-$KVER-amd64=$KPKG"
		}
	else
		fetch "$a" "$K/deb" "linux-image-$KVER-$f=$KPKG" "linux-headers-$KVER-$f=$KPKG" busybox-static
	fi
	for d in "$K"/deb/*.deb; do
		dpkg-deb -x "$d" "$K/root" || die "unpack $d"
	done
	rm -rf "$K/deb"
	if [[ $a == amd64 ]]; then
		# The uncompressed kernel boots through PVH: seconds faster under
		# TCG. The kernel's own scripts/extract-vmlinux (GPL-2.0).
		tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$WORK" linux-source-6.1/scripts/extract-vmlinux ||
			die "extract-vmlinux from linux-source"
		sh "$WORK/linux-source-6.1/scripts/extract-vmlinux" "$K/root/boot/vmlinuz-$KVER-amd64" > "$K/boot.tmp" ||
			die "extract vmlinux"
	else
		# qemu boots ARM's vmlinuz as it is (an Image, a zImage); the
		# headers find the common headers and kbuild through these links.
		mkdir -p "$K/root/usr/lib"
		ln -sfn /usr/lib/linux-kbuild-6.1 "$K/root/usr/lib/linux-kbuild-6.1"
		ln -sfn "/usr/src/linux-headers-$KVER-common" "$K/root/usr/src/linux-headers-$KVER-common"
		cp "$K/root/boot/vmlinuz-$KVER-$f" "$K/boot.tmp"
	fi
	mv "$K/boot.tmp" "$K/boot.img"
}

# modules ARCH: gpio-sim, irq_sim and the plain-I2C i2c-stub, built from
# linux-source-6.1 for the kernel; prints their directory.
modules() {
	local a=$1 f=${FLAVOUR[$1]} sum M B S hdr
	sum=$(cat scripts/hil/i2c-stub-plain-i2c.patch "$0" | sha256sum | cut -c1-12)
	M=$CACHE/modules-$KVER-$f-$sum
	if [[ ! -f $M/i2c-stub.ko ]]; then
		say "building gpio-sim, irq_sim and i2c-stub for $KVER-$f"
		B=$WORK/mod-$a
		S=$WORK/src-$a/linux-source-6.1
		mkdir -p "$B" "$WORK/src-$a"
		tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$WORK/src-$a" \
			linux-source-6.1/drivers/gpio/gpio-sim.c linux-source-6.1/drivers/gpio/gpiolib.h \
			linux-source-6.1/kernel/irq/irq_sim.c linux-source-6.1/drivers/i2c/i2c-stub.c ||
			die "extract sources from linux-source-6.1"
		(cd "$S" && patch -p1 -s < "$ROOT/scripts/hil/i2c-stub-plain-i2c.patch") || die "patch i2c-stub"
		cp "$S/drivers/gpio/gpio-sim.c" "$S/drivers/gpio/gpiolib.h" "$S/kernel/irq/irq_sim.c" "$S/drivers/i2c/i2c-stub.c" "$B/"
		grep -q 'handle_simple_irq(irq_to_desc(irqnum));' "$B/irq_sim.c" || die "irq_sim.c: the irq_to_desc call to replace is gone"
		sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$B/irq_sim.c"
		# No module alias for device-tree matching (configfs creates the
		# device): the host's modpost would size of_device_id for 64 bits.
		grep -q '^MODULE_DEVICE_TABLE(of, gpio_sim_of_match);' "$B/gpio-sim.c" || die "gpio-sim.c: its OF device table is gone"
		sed -i '/^MODULE_DEVICE_TABLE(of, gpio_sim_of_match);/d' "$B/gpio-sim.c"
		printf '\nMODULE_LICENSE("GPL");\nMODULE_DESCRIPTION("Interrupt simulator, built out of tree");\n' >> "$B/irq_sim.c"
		echo 'obj-m := irq_sim.o gpio-sim.o i2c-stub.o' > "$B/Kbuild"
		if [[ $a == amd64 ]]; then
			hdr=(-C "/usr/src/linux-headers-$KVER-amd64")
		else
			hdr=(-C "$CACHE/$KVER-$f/root/usr/src/linux-headers-$KVER-$f" ARCH="${KARCH[$a]}" CROSS_COMPILE="${CROSS[$a]}")
		fi
		make -s "${hdr[@]}" M="$B" modules > "$WORK/kbuild-$a.log" 2>&1 || {
			tail -30 "$WORK/kbuild-$a.log" >&2
			die "build the $a modules"
		}
		rm -rf "$WORK/ko-$a" && mkdir -p "$WORK/ko-$a"
		cp "$B"/*.ko "$WORK/ko-$a/"
		rm -rf "$CACHE/modules-$KVER-$f-"* # older builds go
		mv "$WORK/ko-$a" "$M"
	fi
	echo "$M"
}

# run ARCH: builds the initramfs and boots it; appends the result lines,
# prefixed with ARCH, to $WORK/results.
run() {
	local a=$1 f=${FLAVOUR[$1]} K=$CACHE/$KVER-${FLAVOUR[$1]} M IR busybox qemu append rc
	kernel "$a"
	M=$(modules "$a")
	say "building the static agent and hiltool for $a"
	# armhf runs the armv6 build, the one a Pi Zero or Pi 1 runs, with the
	# release build's flags.
	# shellcheck disable=SC2046 # one flag per line
	CGO_ENABLED=0 GOOS=linux GOARCH=${GOARCH_OF[$a]} GOARM=6 go build -trimpath $(scripts/goflags.sh) -o "$WORK/$a/edgecron" ./cmd/agent ||
		die "go build ./cmd/agent ($a)"
	CGO_ENABLED=0 GOOS=linux GOARCH=${GOARCH_OF[$a]} GOARM=6 go build -trimpath -o "$WORK/$a/hiltool" ./scripts/hil/hiltool ||
		die "go build hiltool ($a)"
	IR=$WORK/$a/initramfs
	mkdir -p "$IR"/{bin,lib/modules,proc,sys,dev,tmp,run,etc,var}
	busybox=/bin/busybox
	[[ $a != amd64 ]] && busybox=$K/root/bin/busybox
	cp "$busybox" "$IR/bin/busybox" || die "busybox for $a (package busybox-static)"
	[[ $(od -An -c -N4 "$IR/bin/busybox" | tr -d ' ') == 177ELF ]] || die "$busybox is not an ELF binary"
	cp "$WORK/$a/edgecron" "$WORK/$a/hiltool" "$IR/bin/"
	cp scripts/hil/guest.sh "$IR/init"
	chmod +x "$IR/init"
	cp "$M"/*.ko "$IR/lib/modules/"
	for m in fs/configfs/configfs.ko drivers/i2c/i2c-dev.ko; do
		cp "$K/root/lib/modules/$KVER-$f/kernel/$m" "$IR/lib/modules/" || die "module $m ($a)"
	done
	(cd "$IR" && find . | cpio -o -H newc --quiet > "$WORK/$a/initramfs.cpio") || die "cpio ($a)"

	read -r -a qemu <<< "${QEMU[$a]}"
	append="console=${CONSOLE[$a]} quiet panic=-1"
	[[ -n ${HIL_DEBUG:-} ]] && append+=" HIL_DEBUG"
	say "booting $KVER-$f in ${qemu[0]} (TCG)"
	set +e
	timeout "$TIMEOUT" "${qemu[@]}" -accel tcg -m 512 -smp 1 -nographic -nic none -no-reboot \
		-kernel "$K/boot.img" -initrd "$WORK/$a/initramfs.cpio" -append "$append" \
		< /dev/null > "$WORK/$a/console.log" 2>&1
	rc=$?
	set -e
	# A result line may follow the firmware's text on the same console line.
	tr -d '\r' < "$WORK/$a/console.log" | sed 's/.*\(HIL \(PASS\|FAIL\|END\)\)/\1/' > "$WORK/$a/console.txt"
	if [[ -n ${HIL_DEBUG:-} ]]; then cat "$WORK/$a/console.txt"; fi
	grep '^HIL \(PASS\|FAIL\) ' "$WORK/$a/console.txt" | sed "s/^HIL \([A-Z]*\) /HIL \1 [$a] /" | tee -a "$WORK/results" || true
	if ! grep -q '^HIL END' "$WORK/$a/console.txt"; then
		say "the $a guest did not finish (qemu status $rc); its console:"
		tail -40 "$WORK/$a/console.txt" >&2
		echo "HIL FAIL [$a] the guest did not finish" | tee -a "$WORK/results"
	fi
}

touch "$WORK/results"
for a in "${ARCHS[@]}"; do
	run "$a"
done
passed=$(grep -c '^HIL PASS ' "$WORK/results" || true)
failed=$(grep -c '^HIL FAIL ' "$WORK/results" || true)
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
