#!/bin/busybox sh
# The hardware-in-the-loop checks, run as /init inside the virtual machine
# that scripts/ci-hil.sh boots: a stock Debian kernel with gpio-sim and a
# plain-I2C i2c-stub (built at CI time from the kernel's sources), busybox,
# the static edgecron binary and hiltool (scripts/hil/hiltool).
#
# Every check prints one line, "HIL PASS name" or "HIL FAIL name: why";
# the last line is "HIL END". The host counts them.
# No set -e or -u: a failed step is reported by its check, and /init must
# reach "HIL END" and power off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t tracefs tracefs /sys/kernel/tracing
ifconfig lo 127.0.0.1 up

pass() { echo "HIL PASS $1"; }
fail() { echo "HIL FAIL $1: $2"; }
# check NAME WANT GOT
check() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want $2, got $3"; fi
}
die() {
	echo "HIL FAIL setup: $*"
	echo "HIL END"
	poweroff -f
}

for m in configfs irq_sim gpio-sim i2c-dev; do
	insmod /lib/modules/$m.ko || die "insmod $m"
done
# bme280 at 0x76 (writes are register/value pairs), ads1115 at 0x48 (16-bit
# registers), pca9685 at 0x40.
insmod /lib/modules/i2c-stub.ko chip_addr=0x76,0x48,0x40 word_addr=0x48 pair_addr=0x76 || die "insmod i2c-stub"
mount -t configfs none /sys/kernel/config || die "configfs"

# --- gpio-sim: one chip, lines named like a Raspberry Pi's -------------------
# offset: name       use
#  0  GPIO17  pump    active_low, boot off, shutdown off
#  1  GPIO18  heater  boot off, shutdown off
#  2  GPIO22  fan     active_low, boot on, shutdown off
#  3  GPIO23  vent    boot on, shutdown on
#  4  GPIO24  door    input, pull up
#  5  GPIO25  rain    counter, falling edges, pull up
#  6  GPIO26  (negative control: driven by periph's own gpioioctl)
#  7  GPIO27  valve   active_low, added by a reload
#  8  -       spump   active_low, boot off, through the sysfs GPIO path
#  9  -       slamp   boot on, shutdown off, through the sysfs GPIO path
G=/sys/kernel/config/gpio-sim/hil
mkdir $G $G/bank0 || die "gpio-sim configfs"
echo 10 > $G/bank0/num_lines
echo hil-gpio > $G/bank0/label
i=0
for n in GPIO17 GPIO18 GPIO22 GPIO23 GPIO24 GPIO25 GPIO26 GPIO27; do
	mkdir $G/bank0/line$i
	echo $n > $G/bank0/line$i/name
	i=$((i + 1))
done
echo 1 > $G/live || die "gpio-sim live"
SIM=/sys/devices/platform/$(cat $G/dev_name)/$(cat $G/bank0/chip_name)
BASE=
for c in /sys/class/gpio/gpiochip*; do
	[ "$(cat $c/label)" = hil-gpio ] && BASE=$(cat $c/base)
done
[ -n "$BASE" ] || die "no sysfs base for the gpio-sim chip"
S8=GPIO$((BASE + 8))
S9=GPIO$((BASE + 9))

# simval OFFSET: the line's level as gpio-sim sees it; simpull OFFSET LEVEL
# sets what the outside world pulls it to (a board's pull resistor).
simval() { cat $SIM/sim_gpio$1/value; }
simpull() {
	if [ "$2" = 1 ]; then echo pull-up > $SIM/sim_gpio$1/pull; else echo pull-down > $SIM/sim_gpio$1/pull; fi
}
# Before the agent starts, every relay line rests at its unsafe level (a
# floating input can read either): the bias and the exit levels checked
# below then come from the agent alone. The negative control's line rests
# off (high, active-low), so any low it shows is a glitch.
simpull 0 0; simpull 1 1; simpull 2 0; simpull 3 0; simpull 7 0
simpull 8 0; simpull 9 1
simpull 6 1
simpull 4 1; simpull 5 1

# --- I2C registers -------------------------------------------------------------
# BME280: chip id, the datasheet's example calibration (BMP280 datasheet
# 3.12 / 8.2: T1=27504 T2=26435 T3=-1000 P1=36477 P2=-10685 P3=3024 P4=2855
# P5=140 P6=-7 P7=15500 P8=-14600 P9=6000), humidity calibration H1=75
# H2=362 H3=0 H4=324 H5=50 H6=30, raw adc_T=519888 adc_P=415148 adc_H=27136.
B=0x76
i2cset -y 0 $B 0xd0 0x60 b || die "i2cset bme280"
set -- 0x70 0x6b 0x43 0x67 0x18 0xfc 0x7d 0x8e 0x43 0xd6 0xd0 0x0b 0x27 0x0b 0x8c 0x00 \
	0xf9 0xff 0x8c 0x3c 0xf8 0xc6 0x70 0x17
r=0x88
for v in "$@"; do i2cset -y 0 $B $r $v b; r=$(printf '0x%x' $((r + 1))); done
i2cset -y 0 $B 0xa1 75 b
set -- 0x6a 0x01 0x00 0x14 0x24 0x03 0x1e
r=0xe1
for v in "$@"; do i2cset -y 0 $B $r $v b; r=$(printf '0x%x' $((r + 1))); done
set -- 0x65 0x5a 0xc0 0x7e 0xed 0x00 0x6a 0x00
r=0xf7
for v in "$@"; do i2cset -y 0 $B $r $v b; r=$(printf '0x%x' $((r + 1))); done
# ADS1115: conversion register 0x4000 (16384 counts).
i2cset -y 0 0x48 0x00 0x4000 w || die "i2cset ads1115"

# --- the agent ------------------------------------------------------------------
hiltool broker 127.0.0.1:1883 > /tmp/mqtt.log 2>&1 &
TR=/sys/kernel/tracing
echo 1 > $TR/events/gpio/enable || die "gpio tracepoints"

# The negative control: periph's own request-then-set path on GPIO26 (an
# active-low line resting off, high) must show the glitch the checks below
# look for, or the checks could not fail.
gpionr() { echo $((BASE + $1)); }
# values OFFSET: the levels traced for the line, in order, one string.
values() {
	grep "gpio_value: $(gpionr $1) set" $TR/trace | sed 's/.* set //' | tr -d '\n'
}
echo > $TR/trace
hiltool periph-out GPIO26 1 || fail periph-control "hiltool periph-out failed"
v=$(values 6)
case $v in
0*) pass "negative control: periph's gpioioctl shows the glitch (levels $v)" ;;
*) fail "negative control" "periph's path showed no glitch (levels '$v'): the glitch check proves nothing" ;;
esac
echo > $TR/trace

mkdir -p /etc/edgecron /var/lib/edgecron
write_config() { # $1: extra actuator entries
	cat > /etc/edgecron/agent.yaml <<EOF
device_id: hil
hardware: {board: auto}
clock: {source: rtc}
store: {path: /var/lib/edgecron/agent.db}
control: {socket: /run/edgecron.sock}
mqtt: {broker: "tcp://127.0.0.1:1883", prefix: edgecron}
sensors:
  - {name: door, driver: gpio, pin: GPIO24, pull: up}
  - {name: rain, driver: gpio, pin: GPIO25, pull: up, mode: counter, edge: falling}
  - {name: air, driver: bme280, bus: "0", address: 0x76}
  - {name: soil, driver: ads1115, bus: "0", address: 0x48, channel: "0", max_voltage: 4.096}
actuators:
  - {name: pump, driver: gpio, pin: GPIO17, active_low: true}
  - {name: heater, driver: gpio, pin: GPIO18, safety: {shutdown: ${HEATER_SHUTDOWN:-off}}}
  - {name: fan, driver: gpio, pin: GPIO22, active_low: true, safety: {boot: on}}
  - {name: vent, driver: gpio, pin: GPIO23, safety: {boot: on, shutdown: on}}
  - {name: spump, driver: gpio, pin: $S8, active_low: true}
  - {name: slamp, driver: gpio, pin: $S9, safety: {boot: on}}
  - {name: led, driver: pca9685, bus: "0", address: 0x40, channel: 3, frequency: 1000}
$1
jobs:
  - {id: toggle-pump, trigger: {type: date, run_date: "2099-01-01T00:00:00Z"}, action: {type: actuate, actuator: pump, command: toggle}}
  - {id: toggle-heater, trigger: {type: date, run_date: "2099-01-01T00:00:00Z"}, action: {type: actuate, actuator: heater, command: toggle}}
  - {id: toggle-spump, trigger: {type: date, run_date: "2099-01-01T00:00:00Z"}, action: {type: actuate, actuator: spump, command: toggle}}
  - {id: led-half, trigger: {type: date, run_date: "2099-01-01T00:00:00Z"}, action: {type: actuate, actuator: led, command: set, value: 0.5}}
  - {id: read-door, trigger: {type: date, run_date: "2099-01-01T00:00:00Z"}, action: {type: read, sensor: door}}
  - {id: read-rain, trigger: {type: date, run_date: "2099-01-01T00:00:00Z"}, action: {type: read, sensor: rain}}
  - {id: read-air, trigger: {type: date, run_date: "2099-01-01T00:00:00Z"}, action: {type: read, sensor: air}}
  - {id: read-soil, trigger: {type: date, run_date: "2099-01-01T00:00:00Z"}, action: {type: read, sensor: soil}}
EOF
}
write_config ""
edgecron run --config /etc/edgecron/agent.yaml > /tmp/agent.log 2>&1 &
AGENT=$!

# wait_for CMD...: up to 10 s for CMD to succeed.
wait_for() {
	n=0
	while ! "$@" 2>/dev/null; do
		n=$((n + 1))
		[ $n -ge 100 ] && return 1
		sleep 0.1
	done
}
wait_for grep -q "msg=running" /tmp/agent.log || {
	cat /tmp/agent.log
	die "the agent did not start"
}

# --- start: boot levels with no glitch ----------------------------------------
# Every level traced for a relay line since the agent started is its boot
# level: it never showed another one first.
check "start: pump (active_low, boot off) traced levels" 1 "$(values 0)"
check "start: heater (boot off) traced levels" 0 "$(values 1)"
check "start: fan (active_low, boot on) traced levels" 0 "$(values 2)"
check "start: vent (boot on) traced levels" 1 "$(values 3)"
check "start: spump (sysfs path, active_low, boot off) traced levels" 1 "$(values 8)"
check "start: slamp (sysfs path, boot on) traced levels" 1 "$(values 9)"
check "start: pump line level (gpio-sim)" 1 "$(simval 0)"
check "start: fan line level (gpio-sim)" 0 "$(simval 2)"
# The bias toward each output's shutdown level, as the kernel applied it.
check "start: pump bias toward off (pull-up)" pull-up "$(cat $SIM/sim_gpio0/pull)"
check "start: heater bias toward off (pull-down)" pull-down "$(cat $SIM/sim_gpio1/pull)"
check "start: vent bias toward shutdown on (pull-up)" pull-up "$(cat $SIM/sim_gpio3/pull)"

# edgecron gpio-config prints the bias the agent requests: the kernel's.
edgecron gpio-config --config /etc/edgecron/agent.yaml > /tmp/gpio-config.txt
printed_bias() { awk -v n="$1" '$1 == "#" && $2 == n { print $6 }' /tmp/gpio-config.txt; }
for o in pump:0 heater:1 fan:2 vent:3; do
	check "gpio-config: ${o%:*} bias as the kernel applied it" "$(cat "$SIM/sim_gpio${o#*:}/pull")" "$(printed_bias "${o%:*}")"
done
check "gpio-config: pump config.txt line" "gpio=17=op,dh" "$(grep '^gpio=17=' /tmp/gpio-config.txt | cut -f1)"

# --- commands ------------------------------------------------------------------
run() { edgecron jobs run "$1" --config /etc/edgecron/agent.yaml > /dev/null || fail "jobs run $1" "failed"; }
run toggle-pump
wait_for test "$(simval 0)" = 0
check "toggle: pump on drives its line low" 0 "$(simval 0)"
run toggle-heater
wait_for test "$(simval 1)" = 1
check "toggle: heater on drives its line high" 1 "$(simval 1)"
run toggle-spump
wait_for test "$(simval 8)" = 0
check "toggle: spump (sysfs) on drives its line low" 0 "$(simval 8)"
wait_for grep -q "edgecron/hil/actuators/pump/state ON" /tmp/mqtt.log
check "toggle: pump state ON on MQTT" 1 "$(grep -c 'edgecron/hil/actuators/pump/state ON' /tmp/mqtt.log)"

# --- inputs: bias and edges ------------------------------------------------------
# last TOPIC: the last payload published on edgecron/hil/TOPIC.
last() { grep "^edgecron/hil/$1 " /tmp/mqtt.log | tail -n 1 | cut -d' ' -f2-; }
# value JSON KEY: a number from a reading's "values".
value() {
	echo "$1" | sed -n 's/.*"values":{\([^}]*\)}.*/\1/p' | tr ',' '\n' | sed -n "s/^\"$2\":\(.*\)/\1/p"
}
readings() { grep -c "^edgecron/hil/sensors/$1 " /tmp/mqtt.log; }
newer() { [ "$(readings $1)" -gt "$2" ]; }
read_sensor() { # read_sensor NAME: runs its read job, waits for its reading
	before=$(readings $1)
	run read-$1
	wait_for newer $1 $before || fail "read $1" "no new reading on MQTT"
	last sensors/$1
}
check "input: door line pulled up by its bias" 1 "$(simval 4)"
check "input: door reads 1 with pull up" 1 "$(value "$(read_sensor door)" state)"
simpull 4 0
check "input: door reads 0 when driven low" 0 "$(value "$(read_sensor door)" state)"
for _ in 1 2 3; do
	simpull 5 0
	sleep 0.05
	simpull 5 1
	sleep 0.05
done
check "counter: three falling edges counted" 3 "$(value "$(read_sensor rain)" pulses)"

# --- I2C ---------------------------------------------------------------------------
air=$(read_sensor air)
# The datasheets' floating-point compensation formulas (BMP280 8.1, BME280 8.1).
want=$(awk 'BEGIN {
	T1=27504; T2=26435; T3=-1000; P1=36477; P2=-10685; P3=3024; P4=2855; P5=140; P6=-7
	P7=15500; P8=-14600; P9=6000; H1=75; H2=362; H3=0; H4=324; H5=50; H6=30
	aT=519888; aP=415148; aH=27136
	v1=(aT/16384-T1/1024)*T2; v2=(aT/131072-T1/8192)*(aT/131072-T1/8192)*T3; tf=v1+v2; T=tf/5120
	v1=tf/2-64000; v2=v1*v1*P6/32768; v2=v2+v1*P5*2; v2=v2/4+P4*65536
	v1=(P3*v1*v1/524288+P2*v1)/524288; v1=(1+v1/32768)*P1
	p=1048576-aP; p=(p-v2/4096)*6250/v1; v1=P9*p*p/2147483648; v2=p*P8/32768; p=p+(v1+v2+P7)/16
	h=tf-76800; h=(aH-(H4*64+H5/16384*h))*(H2/65536*(1+H6/67108864*h*(1+H3/67108864*h)))
	h=h*(1-H1*h/524288); if (h>100) h=100; if (h<0) h=0
	printf "%.4f %.4f %.4f", T, p/100, h }')
near() { # near NAME WANT GOT TOLERANCE
	if awk -v w="$2" -v g="$3" -v t="$4" 'BEGIN { d=w-g; if (d<0) d=-d; exit !(g!="" && d<=t) }'; then
		pass "$1 ($3, formula $2)"
	else
		fail "$1" "got '$3', the datasheet formula gives $2 (tolerance $4)"
	fi
}
set -- $want
near "bme280: temperature °C" "$1" "$(value "$air" temperature)" 0.02
near "bme280: pressure hPa" "$2" "$(value "$air" pressure)" 0.05
near "bme280: humidity %" "$3" "$(value "$air" humidity)" 0.1
# ADS1115 at ±4.096 V full scale: 16384 counts are 16384 * 4.096 / 32768 V.
near "ads1115: voltage V" 2.048 "$(value "$(read_sensor soil)" voltage)" 0.0001
run led-half
wait_for test "$(i2cget -y 0 0x40 0x15 b)" = 0x08
# LED3_OFF (0x14, 0x15) = 0.5 * 4096 = 2048 = 0x0800, LED3_ON = 0.
check "pca9685: LED3_OFF for duty 0.5" "0x00 0x08" "$(i2cget -y 0 0x40 0x14 b) $(i2cget -y 0 0x40 0x15 b)"

# --- reload: a new output comes up at its boot level, no glitch; a changed ---------
# shutdown state changes the held line's bias at once.
HEATER_SHUTDOWN=on write_config "  - {name: valve, driver: gpio, pin: GPIO27, active_low: true}"
kill -HUP $AGENT
wait_for test -n "$(values 7)"
check "reload: valve (active_low, boot off) traced levels" 1 "$(values 7)"
wait_for test "$(cat $SIM/sim_gpio1/pull)" = pull-up
check "reload: heater's bias follows its new shutdown state (pull-up)" pull-up "$(cat $SIM/sim_gpio1/pull)"

# --- stop and exit ---------------------------------------------------------------
kill -TERM $AGENT
wait $AGENT
check "exit: agent stopped with status 0" 0 $?
check "exit: pump released, held off by its bias (high)" 1 "$(simval 0)"
check "exit: heater released, held at shutdown on by its new bias (high)" 1 "$(simval 1)"
check "exit: fan released, held off by its bias (high)" 1 "$(simval 2)"
check "exit: vent released, held at shutdown on by its bias (high)" 1 "$(simval 3)"
check "exit: valve released, held off by its bias (high)" 1 "$(simval 7)"
check "exit: spump (sysfs) stays exported at its shutdown level (high)" 1 "$(simval 8)"
check "exit: slamp (sysfs) stays exported at its shutdown level (low)" 0 "$(simval 9)"

# --- restart: from released lines, still no glitch ---------------------------------
echo > $TR/trace
write_config ""
edgecron run --config /etc/edgecron/agent.yaml > /tmp/agent2.log 2>&1 &
AGENT=$!
wait_for grep -q "msg=running" /tmp/agent2.log || fail restart "the agent did not start again"
check "restart: pump traced levels" 1 "$(values 0)"
check "restart: fan traced levels" 0 "$(values 2)"

# --- crash: killed with the pump on, no shutdown state driven ------------------------
run toggle-pump
wait_for test "$(simval 0)" = 0
check "crash: pump on before the kill" 0 "$(simval 0)"
kill -KILL $AGENT
wait $AGENT
check "crash: pump released, held off by its bias (high)" 1 "$(simval 0)"

if grep -q "HIL_DEBUG" /proc/cmdline; then
	echo "--- agent log"; cat /tmp/agent.log
	echo "--- mqtt"; cat /tmp/mqtt.log
	echo "--- trace"; cat $TR/trace
fi
echo "HIL END"
poweroff -f
