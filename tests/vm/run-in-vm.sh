#!/bin/bash
# Runs one command inside a throw-away qemu VM that boots Debian's kernel with a
# pure cgroup v2 hierarchy (every controller enabled) and sees the host's root
# filesystem read-only under a tmpfs overlay.  See tests/vm/README.md.
#
# usage: tests/vm/run-in-vm.sh [--timeout SECS] [--env NAME=VALUE]... [--machine q35|pc|microvm] [--systemd [--cgroup-layout unified|hybrid|legacy]] -- CMD [ARGS...]
#        tests/vm/run-in-vm.sh --check    (exit 0 if a VM can run, else 77; builds the cache)
#
# CMD runs as root in the caller's working directory with SKIFF_IN_VM=1 (plus
# SKIFF and SKIFF_* from the caller's environment, and --env settings); its
# stdout and stderr come out on our stdout, and we exit with its status.
# Exits 77 after one line "vm: unavailable: REASON" when qemu or a Debian
# kernel is missing, 124 when the timeout expires, 125 when the VM fails.
# The default machine is q35: microvm boots as fast but has no HPET/PM timer,
# and under TCG on a busy host its kernel often hangs at boot after failing
# to calibrate the TSC against the PIT.
# --systemd boots Debian's systemd as PID 1 (skiff-vm.target, system bus,
# logind) and runs CMD as the service skiff-vm-job.service instead.
# --cgroup-layout hybrid|legacy (with --systemd) boots the kernel with its v1
# controllers and lets systemd mount them (systemd.unified_cgroup_hierarchy=0):
# hybrid adds cgroup2 at /sys/fs/cgroup/unified, legacy has no cgroup2.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${SKIFF_VM_CACHE:-/var/tmp/skiff-vm}
TIMEOUT=600
MACHINE=${SKIFF_VM_MACHINE:-q35}
MEM=${SKIFF_VM_MEM:-1024}
SMP=${SKIFF_VM_SMP:-2}
ENVS=()
CHECK=
SYSTEMD=
LAYOUT=unified

usage() {
	echo "usage: $0 [--timeout SECS] [--env NAME=VALUE]... [--machine q35|pc|microvm] [--systemd [--cgroup-layout unified|hybrid|legacy]] -- CMD [ARGS...]" >&2
	exit 2
}
unavailable() {
	echo "vm: unavailable: $*"
	exit 77
}
fail() {
	echo "vm: $*" >&2
	exit 125
}

while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) [ $# -ge 2 ] || usage; TIMEOUT=$2; shift 2 ;;
	--timeout=*) TIMEOUT=${1#*=}; shift ;;
	--env) [ $# -ge 2 ] || usage; ENVS+=("$2"); shift 2 ;;
	--env=*) ENVS+=("${1#*=}"); shift ;;
	--machine) [ $# -ge 2 ] || usage; MACHINE=$2; shift 2 ;;
	--machine=*) MACHINE=${1#*=}; shift ;;
	--systemd) SYSTEMD=1; shift ;;
	--cgroup-layout) [ $# -ge 2 ] || usage; LAYOUT=$2; shift 2 ;;
	--cgroup-layout=*) LAYOUT=${1#*=}; shift ;;
	--check) CHECK=1; shift ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[ $# -gt 0 ] || [ -n "$CHECK" ] || usage
case "$TIMEOUT" in '' | *[!0-9]*) usage ;; esac
case "$MACHINE" in microvm | q35 | pc) ;; *) usage ;; esac
case "$LAYOUT" in unified) ;; hybrid | legacy) [ -n "$SYSTEMD" ] || usage ;; *) usage ;; esac
for e in "${ENVS[@]}"; do
	case "$e" in [A-Za-z_]*=*) ;; *) usage ;; esac
done

# --- what we need --------------------------------------------------------
QEMU=$(command -v qemu-system-x86_64) || unavailable "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
KVER=
for k in $(ls -v /boot/vmlinuz-* 2>/dev/null); do
	v=${k#/boot/vmlinuz-}
	[ -r "$k" ] && [ -f "/lib/modules/$v/modules.dep" ] && KVER=$v
done
[ -n "$KVER" ] || unavailable "no Debian kernel with modules in /boot and /lib/modules (apt-get install linux-image-amd64)"
KERNEL=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 || unavailable "static busybox missing (apt-get install busybox-static)"
[ "$(id -u)" = 0 ] || unavailable "needs root (9p passthrough of the host root)"
[ -z "$SYSTEMD" ] || [ -x /lib/systemd/systemd ] || unavailable "--systemd: /lib/systemd/systemd is not installed (apt-get install systemd)"

# --- the initramfs, cached by kernel version and the inputs' hash ---------
MODULES="virtio_mmio virtio_pci virtio_console 9pnet_virtio 9p overlay"
key=$( (cat "$HERE/init" "$HERE/reaper.c" "$0" "$HERE"/systemd/*; echo "$MODULES"; stat -c %s.%Y "$BUSYBOX") | sha256sum | cut -c1-16)
INITRD=$CACHE/initramfs-$KVER-$key.cpio
mkdir -p "$CACHE/jobs" || fail "cannot create $CACHE"

build_initramfs() {
	local t order=() seen=" " m line path deps d i
	command -v cpio >/dev/null || unavailable "cpio is not installed"
	command -v cc >/dev/null || unavailable "no C compiler for the VM's init (apt-get install build-essential)"
	t=$(mktemp -d "$CACHE/build.XXXXXX") || return 1
	mkdir -p "$t/bin" "$t/modules" "$t/proc" "$t/sys" "$t/dev" "$t/newroot"
	cp "$BUSYBOX" "$t/bin/busybox"
	for a in $("$BUSYBOX" --list); do
		[ "$a" = busybox ] || ln -s busybox "$t/bin/$a"
	done
	install -m 0755 "$HERE/init" "$t/init"
	mkdir -p "$t/systemd"
	cp "$HERE"/systemd/* "$t/systemd/"
	cc -static -O2 -Wall -o "$t/reaper" "$HERE/reaper.c" || { rm -rf "$t"; fail "cannot build reaper"; }
	# modules.dep lists a module's whole dependency closure, loaded last-first
	for m in $MODULES; do
		line=$(grep -E "/${m}\.ko(\.(xz|zst|gz))?:" "$MODDIR/modules.dep") ||
			{ rm -rf "$t"; unavailable "kernel $KVER has no module $m"; }
		path=${line%%:*}
		read -r -a deps <<<"${line#*:}"
		for ((i = ${#deps[@]} - 1; i >= -1; i--)); do
			if [ "$i" -ge 0 ]; then d=${deps[$i]}; else d=$path; fi
			case "$seen" in *" $d "*) continue ;; esac
			seen="$seen$d "
			order+=("$d")
		done
	done
	: >"$t/modules/order"
	for d in "${order[@]}"; do
		m=${d##*/}
		case "$d" in
		*.ko.xz) m=${m%.xz}; xz -dc "$MODDIR/$d" >"$t/modules/$m" ;;
		*.ko.zst) m=${m%.zst}; zstd -qdc "$MODDIR/$d" >"$t/modules/$m" ;;
		*.ko.gz) m=${m%.gz}; gzip -dc "$MODDIR/$d" >"$t/modules/$m" ;;
		*) cp "$MODDIR/$d" "$t/modules/$m" ;;
		esac || { rm -rf "$t"; fail "cannot copy module $d"; }
		echo "$m" >>"$t/modules/order"
	done
	(cd "$t" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) >"$t.cpio" ||
		{ rm -rf "$t" "$t.cpio"; fail "cannot write the initramfs"; }
	rm -rf "$t"
	mv -f "$t.cpio" "$INITRD"
}
if [ ! -s "$INITRD" ]; then
	exec 9>"$CACHE/lock"
	flock 9
	[ -s "$INITRD" ] || build_initramfs
	exec 9>&-
fi
# Other checkouts (worktrees) may use other images right now: remove only
# those nobody has booted for a day (each run touches the image it boots).
touch "$INITRD"
find "$CACHE" -maxdepth 1 -name 'initramfs-*.cpio' -mmin +1440 ! -path "$INITRD" -delete 2>/dev/null

# --- the kernel: booting the uncompressed ELF through PVH skips the xz
# decompression, which takes seconds under TCG; fall back to the bzImage
BOOT_KERNEL=$KERNEL
if [ "${SKIFF_VM_PVH:-1}" = 1 ]; then
	VMLINUX=$CACHE/vmlinux-$KVER
	if [ ! -s "$VMLINUX" ] && command -v xz >/dev/null; then
		off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$KERNEL" 2>/dev/null | head -n 1 | cut -d: -f1)
		if [ -n "$off" ] && tail -c +$((off + 1)) "$KERNEL" | xz -dcq --single-stream >"$VMLINUX.$$" 2>/dev/null &&
			[ "$(head -c 4 "$VMLINUX.$$" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			mv -f "$VMLINUX.$$" "$VMLINUX"
		else
			rm -f "$VMLINUX.$$"
		fi
	fi
	[ -s "$VMLINUX" ] && BOOT_KERNEL=$VMLINUX
fi

if [ -n "$CHECK" ]; then
	echo "vm: available: kernel $KVER, $QEMU"
	exit 0
fi

# --- the job: a bash script the guest runs, plus where its output goes ----
find "$CACHE/jobs" -mindepth 1 -maxdepth 1 -name 'job.*' -mmin +360 -exec rm -rf {} + 2>/dev/null
JOB=$(mktemp -d "$CACHE/jobs/job.XXXXXX") || fail "cannot create a job directory"
QPID=
TAILPID=
cleanup() {
	[ -n "$QPID" ] && kill -TERM "$QPID" 2>/dev/null
	[ -n "$TAILPID" ] && kill "$TAILPID" 2>/dev/null
	[ -n "$QPID" ] && wait "$QPID" 2>/dev/null
	if [ -n "${SKIFF_VM_KEEP:-}" ]; then
		echo "vm: job directory kept: $JOB" >&2
	else
		rm -rf "$JOB"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

cwd=$(pwd -P)
printf '%s' "$cwd" >"$JOB/cwd"
{
	echo "cd -- $(printf '%q' "$cwd") || { echo 'vm: cannot enter $(printf '%q' "$cwd") in the guest' >&2; exit 125; }"
	echo "export SKIFF_IN_VM=1"
	while IFS= read -r n; do
		case "$n" in SKIFF | SKIFF_*) [ "$n" = SKIFF_IN_VM ] || echo "export $n=$(printf '%q' "${!n}")" ;; esac
	done < <(compgen -e)
	for e in "${ENVS[@]}"; do
		echo "export ${e%%=*}=$(printf '%q' "${e#*=}")"
	done
	printf 'exec'
	printf ' %q' "$@"
	echo
} >"$JOB/job.sh"
: >"$JOB/out"
: >"$JOB/status"

APPEND="console=ttyS0 quiet rdinit=/init panic=-1 reboot=t mitigations=off random.trust_cpu=on"
# unified_cgroup_hierarchy=0 alone is what hosts set, and systemd 252 mounts a
# hybrid tree for it; legacy_systemd_cgroup_controller=1 drops the cgroup2 part.
case "$LAYOUT" in
unified) APPEND="$APPEND cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1" ;;
hybrid) APPEND="$APPEND systemd.unified_cgroup_hierarchy=0" ;;
legacy) APPEND="$APPEND systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1" ;;
esac
APPEND="$APPEND skiffvm.cgroups=$LAYOUT ${SKIFF_VM_APPEND:-} skiffvm.job=$JOB/job.sh"
[ -n "$SYSTEMD" ] && APPEND="$APPEND skiffvm.systemd=1 systemd.unit=skiff-vm.target"
if [ "$MACHINE" = microvm ]; then
	MACH=(-machine microvm,isa-serial=on,rtc=on,pit=on,pic=on)
	DEV=device
else
	MACH=(-machine "$MACHINE")
	DEV=pci
fi
QARGS=(
	"${MACH[@]}" -accel tcg,thread=multi -cpu max -m "$MEM" -smp "$SMP"
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "$BOOT_KERNEL" -initrd "$INITRD" -append "$APPEND"
	-serial "file:$JOB/console.log"
	-fsdev "local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap"
	-device "virtio-9p-$DEV,fsdev=hostroot,mount_tag=hostroot"
	-device "virtio-serial-$DEV"
	-chardev "file,id=out,path=$JOB/out" -device virtserialport,chardev=out,name=skiff.out
	-chardev "file,id=status,path=$JOB/status" -device virtserialport,chardev=status,name=skiff.status
)

# qemu dies with timeout(1), and timeout(1) with us, even on SIGKILL
START=$(date +%s.%N)
setpriv --pdeathsig KILL timeout -k 5 "$TIMEOUT" setpriv --pdeathsig KILL "$QEMU" "${QARGS[@]}" \
	</dev/null >"$JOB/qemu.log" 2>&1 &
QPID=$!
tail -c +1 -s 0.1 --pid="$QPID" -f "$JOB/out" &
TAILPID=$!
wait "$QPID"
qrc=$?
QPID=
wait "$TAILPID"
TAILPID=
END=$(date +%s.%N)
[ -n "${SKIFF_VM_TIMING:-}" ] && awk -v a="$START" -v b="$END" 'BEGIN { printf "vm: %.2fs from qemu start to poweroff\n", b - a }' >&2

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "vm: timed out after ${TIMEOUT}s" >&2
	exit 124
fi
status=$(sed -n 's/^exit \([0-9][0-9]*\)$/\1/p' "$JOB/status" | tail -n 1)
if [ -z "$status" ]; then
	echo "vm: the guest reported no exit status (qemu exit $qrc)" >&2
	tail -n 20 "$JOB/qemu.log" "$JOB/console.log" >&2 2>/dev/null
	exit 125
fi
exit "$status"
