#!/usr/bin/env bash
# Hardware-in-the-loop tests: the unmodified, statically built agent on a
# stock Debian kernel in qemu-system-x86_64 (TCG), against the kernel's own
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
# Downloads and builds are cached under $HIL_CACHE (/var/cache/edgecron-hil);
# a fresh machine needs apt-get and the Debian bookworm archive. Any step
# that fails fails the script: nothing is skipped. Prints "N passed,
# N failed" last; exit status 1 on any failure.
#
#   scripts/ci-hil.sh            # HIL_DEBUG=1 prints the guest's logs too
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# Exact versions: a glob would fetch every kernel of the archive.
KPKG=6.1.176-1
KABI=6.1.0-50-amd64
CACHE=${HIL_CACHE:-/var/cache/edgecron-hil}
TIMEOUT=${HIL_TIMEOUT:-300}

say() { echo "ci-hil: $*" >&2; }
die() {
	say "FAILED: $*"
	echo "0 passed, 1 failed"
	exit 1
}

mkdir -p "$CACHE"
WORK=$(mktemp -d /tmp/ci-hil.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# --- packages --------------------------------------------------------------
pkgs=(qemu-system-x86 busybox-static cpio patch make gcc
	"linux-headers-$KABI=$KPKG" "linux-source-6.1=$KPKG")
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

# --- the kernel ----------------------------------------------------------------
KDIR=$CACHE/$KABI
if [[ ! -f $KDIR/vmlinux ]]; then
	say "fetching linux-image-$KABI $KPKG"
	rm -rf "$KDIR" && mkdir -p "$KDIR/deb"
	(cd "$KDIR/deb" && apt-get download "linux-image-$KABI=$KPKG") > "$WORK/dl.log" 2>&1 || {
		cat "$WORK/dl.log" >&2
		die "apt-get download linux-image-$KABI=$KPKG"
	}
	dpkg-deb -x "$KDIR"/deb/*.deb "$KDIR/root" || die "unpack the kernel package"
	rm -rf "$KDIR/deb"
	# The kernel's own scripts/extract-vmlinux (GPL-2.0), from linux-source.
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$WORK" linux-source-6.1/scripts/extract-vmlinux ||
		die "extract-vmlinux from linux-source"
	# The uncompressed kernel boots through PVH: seconds faster under TCG.
	sh "$WORK/linux-source-6.1/scripts/extract-vmlinux" "$KDIR/root/boot/vmlinuz-$KABI" > "$KDIR/vmlinux.tmp" ||
		die "extract vmlinux"
	mv "$KDIR/vmlinux.tmp" "$KDIR/vmlinux"
fi

# --- modules built from the kernel's sources ---------------------------------------
patch_sum=$(cat scripts/hil/i2c-stub-plain-i2c.patch "$0" | sha256sum | cut -c1-12)
MODS=$CACHE/modules-$KABI-$patch_sum
if [[ ! -f $MODS/i2c-stub.ko ]]; then
	say "building gpio-sim, irq_sim and i2c-stub for $KABI"
	B=$WORK/mod
	mkdir -p "$B"
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$WORK" \
		linux-source-6.1/drivers/gpio/gpio-sim.c linux-source-6.1/drivers/gpio/gpiolib.h \
		linux-source-6.1/kernel/irq/irq_sim.c linux-source-6.1/drivers/i2c/i2c-stub.c ||
		die "extract sources from linux-source-6.1"
	S=$WORK/linux-source-6.1
	(cd "$S" && patch -p1 -s < "$ROOT/scripts/hil/i2c-stub-plain-i2c.patch") || die "patch i2c-stub"
	cp "$S/drivers/gpio/gpio-sim.c" "$S/drivers/gpio/gpiolib.h" "$S/kernel/irq/irq_sim.c" "$S/drivers/i2c/i2c-stub.c" "$B/"
	grep -q 'handle_simple_irq(irq_to_desc(irqnum));' "$B/irq_sim.c" || die "irq_sim.c: the irq_to_desc call to replace is gone"
	sed -i 's/handle_simple_irq(irq_to_desc(irqnum));/generic_handle_irq(irqnum);/' "$B/irq_sim.c"
	printf '\nMODULE_LICENSE("GPL");\nMODULE_DESCRIPTION("Interrupt simulator, built out of tree");\n' >> "$B/irq_sim.c"
	echo 'obj-m := irq_sim.o gpio-sim.o i2c-stub.o' > "$B/Kbuild"
	make -s -C "/usr/src/linux-headers-$KABI" M="$B" modules > "$WORK/kbuild.log" 2>&1 || {
		tail -30 "$WORK/kbuild.log" >&2
		die "build the modules"
	}
	mkdir -p "$MODS.tmp"
	cp "$B"/*.ko "$MODS.tmp/"
	rm -rf "$MODS" && mv "$MODS.tmp" "$MODS"
fi

# --- the initramfs --------------------------------------------------------------
say "building the static agent and hiltool"
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -o "$WORK/edgecron" ./cmd/agent || die "go build ./cmd/agent"
CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -o "$WORK/hiltool" ./scripts/hil/hiltool || die "go build hiltool"
IR=$WORK/initramfs
mkdir -p "$IR"/{bin,lib/modules,proc,sys,dev,tmp,run,etc,var}
cp /bin/busybox "$IR/bin/busybox" || die "busybox (package busybox-static)"
file_type=$(od -An -c -N4 "$IR/bin/busybox" | tr -d ' ')
[[ $file_type == 177ELF ]] || die "/bin/busybox is not an ELF binary"
cp "$WORK/edgecron" "$WORK/hiltool" "$IR/bin/"
cp scripts/hil/guest.sh "$IR/init"
chmod +x "$IR/init"
cp "$MODS"/*.ko "$IR/lib/modules/"
for m in fs/configfs/configfs.ko drivers/i2c/i2c-dev.ko; do
	cp "$KDIR/root/lib/modules/$KABI/kernel/$m" "$IR/lib/modules/" || die "module $m"
done
(cd "$IR" && find . | cpio -o -H newc --quiet > "$WORK/initramfs.cpio") || die "cpio"

# --- boot and check ------------------------------------------------------------
say "booting $KABI in qemu-system-x86_64 (TCG)"
append="console=ttyS0 quiet panic=-1"
[[ -n ${HIL_DEBUG:-} ]] && append+=" HIL_DEBUG"
set +e
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -M pc -m 512 -smp 1 -nographic -nic none -no-reboot \
	-kernel "$KDIR/vmlinux" -initrd "$WORK/initramfs.cpio" -append "$append" < /dev/null > "$WORK/console.log" 2>&1
rc=$?
set -e
# A result line may follow the firmware's text on the same console line.
tr -d '\r' < "$WORK/console.log" | sed 's/.*\(HIL \(PASS\|FAIL\|END\)\)/\1/' > "$WORK/console.txt"
if [[ -n ${HIL_DEBUG:-} ]]; then cat "$WORK/console.txt"; else grep '^HIL ' "$WORK/console.txt" || true; fi
passed=$(grep -c '^HIL PASS ' "$WORK/console.txt" || true)
failed=$(grep -c '^HIL FAIL ' "$WORK/console.txt" || true)
if ! grep -q '^HIL END' "$WORK/console.txt"; then
	say "the guest did not finish (qemu status $rc); its console:"
	tail -40 "$WORK/console.txt" >&2
	failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
((failed == 0))
