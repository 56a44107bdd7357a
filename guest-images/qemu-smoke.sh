#!/bin/sh
# qemu-smoke.sh - boots every 64-bit test kernel under QEMU (TCG by default)
# and checks its output lines and exit status. Not part of the Maven build
# (QEMU is not a build dependency); run it after `make`:
#
#   ./qemu-smoke.sh [images-dir]          (default target/images)
#   ACCEL=kvm CPU=qemu64 ./qemu-smoke.sh  (another accelerator / CPU model)
#
# Exit status 0 when every check passed. Each QEMU run has a timeout.
set -u
IMG=${1:-target/images}
ACCEL=${ACCEL:-tcg}
CPU=${CPU:-max}
T=${TIMEOUT:-120}
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-smoke: qemu-system-x86_64 not found (apt-get install qemu-system-x86)" >&2; exit 2; }

PASS=33   # (0x10 << 1) | 1
FAIL=35   # (0x11 << 1) | 1
failures=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# check <description> <expected status> <actual status> <grep -E pattern>...
check() {
    what=$1; want=$2; got=$3; shift 3
    ok=1
    [ "$got" = "$want" ] || ok=0
    for pat in "$@"; do grep -Eq -- "$pat" "$out" || { ok=0; echo "  missing: $pat"; }; done
    if [ $ok = 1 ]; then echo "ok   $what"; else
        echo "FAIL $what (status $got, expected $want)"; sed 's/^/  | /' "$out" | cut -c1-160
        failures=$((failures + 1)); fi
}

# qemu <kernel> <append> [args...] -> status in $st, output in $out
qemu() {
    k=$1; append=$2; shift 2
    timeout "$T" qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" -display none -serial stdio \
        -net none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel "$IMG/$k.elf" -append "$append" "$@" </dev/null >"$out.raw" 2>/dev/null
    st=$?
    tr -d '\r' <"$out.raw" >"$out"; rm -f "$out.raw"
}

qemu cpuinfo "" -smp 4,sockets=4 -m 256M
check "cpuinfo -smp 4,sockets=4" $PASS $st '^mp table .* checksum=ok' '^mp cpu apic=3 enabled=1 bsp=0' \
    '^cpu apic=3 .* pkg=3 ' '^cpus online=4 mp_entries=4 mp_disabled=0$'
qemu cpuinfo "apic_ids=1,2,3,4,5,6,7" -smp 8,sockets=2,cores=2,threads=2 -m 256M
check "cpuinfo -smp 8,sockets=2,cores=2,threads=2 apic_ids=1..7" $PASS $st \
    '^cpu apic=7 x2apic_id=7 pkg=1 die=0 core=1 thread=1 ' '^cpus online=8 mp_entries=2 mp_disabled=0$'
qemu cpuinfo "" -smp 2,sockets=4,maxcpus=4 -m 256M
check "cpuinfo -smp 2,sockets=4,maxcpus=4" $PASS $st '^mp cpu apic=2 enabled=0 bsp=0' \
    '^cpus online=2 mp_entries=4 mp_disabled=2$'

qemu meminfo "wait=1" -m 256M
check "meminfo 256M wait=1" $PASS $st '^e820 base=0x100000 len=0x[0-9a-f]+ type=1$' \
    '^var addr=0x[0-9a-f]+ value=0x6a6b766d2d766172$' '^verified bytes=[0-9]+ pages=[0-9]+ ' \
    '^var unchanged' '^meminfo done$'
qemu meminfo "step=64" -m 4608M
check "meminfo 4.5G step=64" $PASS $st '^e820 base=0x100000000 ' 'above_4g_pages=[1-9][0-9]*' '^meminfo done$'

qemu exits "out=100 port=0x80 in=10 port=0x80 cpuid=100 mmio=10 addr=0xd0000000"
check "exits" $PASS $st '^out count=100 port=0x80' '^in count=10 port=0x80' '^cpuid count=100 ' \
    '^mmio count=10 addr=0xd0000000' '^exits done$'
qemu exits "out=1"
check "exits (bad cmdline)" $FAIL $st '^fail cmdline: out= and in= need port=$'

# 200 expected; TCG coalesces PIT ticks when the host is busy, so accept 100..229.
for via in pic ioapic; do
    qemu ticks "via=$via"
    check "ticks via=$via" $PASS $st "^ticks irq0=(1[0-9][0-9]|2[0-2][0-9]) seconds=2 hz=100 via=$via$"
done

qemu rtc ""
check "rtc" $PASS $st '^rtc [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$' '^rtc status a=0x.. b=0x.. c=0x.. d=0x80$'

for via in pic ioapic; do
    { sleep 2; printf 'hello world\nquit\n'; } | timeout "$T" qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" \
        -display none -serial stdio -net none -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
        -kernel "$IMG/echo.elf" -append "via=$via" >"$out.raw" 2>/dev/null
    st=$?; tr -d '\r' <"$out.raw" >"$out"; rm -f "$out.raw"
    check "echo via=$via" $PASS $st '^echo ready$' '^echo: HELLO WORLD$' '^echo: QUIT$' '^echo bye$'
done

# acpi: SeaBIOS's tables (ACPI 1.0 RSDP, FADT revision 1); S3 wakes on the RTC alarm.
qemu acpi "" -smp 4,maxcpus=8 -m 256M
check "acpi" $PASS $st '^rsdp addr=0x[0-9a-f]+ rev=0 oem="BOCHS " .* checksum=ok$' '^table sig=APIC .* checksum=ok$' \
    '^madt cpus=8 enabled=4 ' '^madt iso bus=0 irq=0 gsi=2 flags=0x0$' \
    '^fadt rev=1 sci=9 smi_cmd=0xb2 pm1a_evt=0x600 pm1a_cnt=0x604 pm_tmr=0x608 pm_tmr_len=4 tmr_val_ext=0 ' \
    '^sleep s3=1 s5=0$' '^pmtimer ticks=[0-9]+ interval_ms=100 rate_hz=[0-9]+ ' '^acpi ok$'
qemu acpi "power=s5" -m 256M
check "acpi power=s5" 0 $st '^s5 now$'
qemu acpi "power=s3" -m 256M
check "acpi power=s3 (RTC alarm wakes, SeaBIOS jumps to the FACS vector)" $PASS $st '^s3 now$' '^woke up$'

# reboot: without -no-reboot QEMU resets and boots the kernel again each time
timeout "$T" qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" -display none -serial stdio -net none \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$IMG/reboot.elf" </dev/null >"$out.raw" 2>/dev/null
st=$?; tr -d '\r' <"$out.raw" >"$out"; rm -f "$out.raw"
check "reboot (all four methods)" $PASS $st '^boot 4$' '^reset method=4 name=triple$' '^boot 5$' '^all resets done$'
qemu reboot ""
check "reboot -no-reboot (QEMU ends at the first reset)" 0 $st '^boot 1$' '^reset method=1 name=i8042$'

# legacy-probe: SeaBIOS ran first, so its option ROMs, RSDP, SMBIOS and MP pointer are in the area
qemu legacy-probe "" -m 128M
check "legacy-probe" $PASS $st '^block c0000 zero=' '^block fc000 zero=' '^rom at=0xc0000 ' '^rsdp at=0xf[0-9a-f]{4}$' \
    '^smbios at=0xf[0-9a-f]{4} anchor=_SM' '^mp at=0xf[0-9a-f]{4}$' '^legacy-probe done$'

if [ $failures -eq 0 ]; then echo "qemu-smoke: all passed"; else echo "qemu-smoke: $failures failed"; fi
[ $failures -eq 0 ]
