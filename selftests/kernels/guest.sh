#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest.sh - stage two of the kernel rig, PID 1 inside the QEMU guest (see
# run.sh). The root is the host's / (9p, read-only) under a tmpfs overlay;
# /rig is the rig's writable output share with job.env. Mounts what the
# tests need, puts the guest kernel's module tree at /lib/modules/$(uname -r),
# loads the modules in modules.dep order with insmod, runs each suite (x mode)
# from the host's checkout, writes SUITE.MODE.tap and a results.tsv line per
# run into /rig, and powers off.
set -u
. /rig/job.env
export PATH HOME=/root TERM=dumb LANG=C.UTF-8 LC_ALL=C.UTF-8
KV=$(uname -r)
BB=$BH_RIG_BUSYBOX

say() { echo "RIG: $*"; }

poweroff_now() {
	sync
	"$BB" poweroff -f
	echo o > /proc/sysrq-trigger
	sleep 5
}

# ---- the file systems -------------------------------------------------------
mount -t tmpfs -o mode=0755 tmpfs /run
# a fresh /tmp hides the host's: a checkout, kernel cache or busybox of the
# host's /tmp (a clone in /tmp/x, as the README suggests) is bound back
keep=
for p in "$BH_RIG_SRC" "$BH_RIG_MODTREE" "$BH_RIG_BUSYBOX" "$BH_RIG_KMOD"; do
	case $p in /tmp/*) keep="$keep $p" ;; esac
done
n=0
for p in $keep; do
	n=$((n + 1))
	if [ -d "$p" ]; then mkdir -p "/run/hosttmp/$n"; else mkdir -p /run/hosttmp; : > "/run/hosttmp/$n"; fi
	mount --bind "$p" "/run/hosttmp/$n"
done
mount -t tmpfs -o mode=1777 tmpfs /tmp
n=0
for p in $keep; do
	n=$((n + 1))
	if [ -d "/run/hosttmp/$n" ]; then mkdir -p "$p"; else mkdir -p "${p%/*}"; : > "$p"; fi
	mount --bind "/run/hosttmp/$n" "$p"
done
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# no udev: the links it would make
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount -t bpf bpf /sys/fs/bpf
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
hostname bh-rig-guest
ip link set lo up

# ---- modules -----------------------------------------------------------------
# the package's tree (modules.dep written on the host by the kmod package's
# depmod) where modprobe and the kernel's autoloader look for it
mkdir -p "/lib/modules/$KV"
mount --bind "$BH_RIG_MODTREE" "/lib/modules/$KV"
# kmod: the host's if it has one (visible through 9p), else the kmod
# package's binary from the rig's cache, so the kernel's request_module()
# (veth, nft expressions, ...) works as on an installed Debian
if [ -n "$BH_RIG_KMOD" ] && ! [ -x /usr/sbin/modprobe ] && ! [ -x /sbin/modprobe ]; then
	for t in modprobe insmod rmmod lsmod depmod modinfo; do
		ln -sf "$BH_RIG_KMOD" "/usr/sbin/$t"
	done
fi

declare -A MODPATH MODDEP BUILTIN
while IFS=: read -r p deps; do
	n=${p##*/}; n=${n%%.ko*}; n=${n//-/_}
	MODPATH[$n]=$p
	MODDEP[$n]=$deps
done < "/lib/modules/$KV/modules.dep"
while read -r p; do
	n=${p##*/}; n=${n%%.ko*}; n=${n//-/_}
	BUILTIN[$n]=1
done < "/lib/modules/$KV/modules.builtin"

modload() {	# name: load it and what it depends on, deepest first, with insmod
	local n=${1//-/_} d p
	[ -n "${BUILTIN[$n]:-}" ] && return 0
	[ -e "/sys/module/$n/initstate" ] && return 0
	p=${MODPATH[$n]:-}
	if [ -z "$p" ]; then
		say "module $n: not in $KV's tree"
		return 1
	fi
	for d in ${MODDEP[$n]}; do
		d=${d##*/}; d=${d%%.ko*}
		modload "$d" || return 1
	done
	case $p in
	*.xz)	xz -dc "/lib/modules/$KV/$p" > /tmp/.rigmod.ko || return 1
		"$BB" insmod /tmp/.rigmod.ko; local rc=$?
		rm -f /tmp/.rigmod.ko ;;
	*)	"$BB" insmod "/lib/modules/$KV/$p"; local rc=$? ;;
	esac
	[ $rc -eq 0 ] || say "insmod $n failed ($rc)"
	return $rc
}

loaded=
for m in $BH_RIG_PRELOAD; do
	modload "$m" && loaded="$loaded $m"
done
say "modules loaded:$loaded"
say "br_netfilter: $([ -e /sys/module/br_netfilter/initstate ] && echo loaded || echo 'not loaded')"

# ---- the suites ----------------------------------------------------------------
cat /proc/version > /rig/version.txt
: > /rig/results.tsv
export BUILD=$BH_RIG_BUILD_REL BULKHEAD=$BH_RIG_SRC/$BH_RIG_BUILD_REL/bulkhead
export BH_TIME_SCALE CMOCKA_MESSAGE_OUTPUT=TAP

count() {	# pattern file
	grep -Ec "$1" "$2" 2>/dev/null
}

# script SUITE: the suite's script, in whichever selftests/ folder it is
script() {
	local f
	for f in "$BH_RIG_SRC"/selftests/*/"$1".sh; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

run_suite() {	# suite mode
	local s=$1 m=$2 log cmd start rc p f sk secs
	log=/rig/$s.$m.tap
	if [ -x "$BH_RIG_SRC/$BH_RIG_BUILD_REL/selftests/$s" ]; then
		cmd=("$BH_RIG_SRC/$BH_RIG_BUILD_REL/selftests/$s")
	else
		cmd=(bash "$(script "$s")")
	fi
	say "run $s (mode $m)"
	start=$(date +%s)
	(
		cd "$BH_RIG_SRC" || exit 125
		[ "$m" = - ] || export BH_MODE=$m
		exec timeout -k 10 "$BH_RIG_SUITE_TIMEOUT" "${cmd[@]}"
	) > "$log" 2>&1 < /dev/null
	rc=$?
	secs=$(( $(date +%s) - start ))
	p=$(count '^ok [0-9]+' "$log")
	sk=$(count '^ok [0-9]+.*# ?SKIP' "$log")
	f=$(count '^not ok [0-9]+' "$log")
	p=$((p - sk))
	# like selftests/run.sh: a non-zero exit without a "not ok" is one failure
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	[ "$rc" -eq 124 ] && echo "# rig: killed after ${BH_RIG_SUITE_TIMEOUT}s" >> "$log"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$m" "$p" "$f" "$sk" "$rc" "$secs" >> /rig/results.tsv
	say "done $s (mode $m): $p passed, $f failed, $sk skipped, exit $rc, ${secs}s"
	sync
}

main() {
	local s m modes
	for s in $BH_RIG_SUITES; do
		# SUITE:MODE,MODE: this suite in these modes only
		modes=$BH_RIG_MODES
		case $s in *:*) modes=${s#*:}; modes=${modes//,/ }; s=${s%%:*} ;; esac
		if script "$s" >/dev/null && grep -q BH_MODE "$(script "$s")"; then
			for m in $modes; do run_suite "$s" "$m"; done
		else
			run_suite "$s" -
		fi
	done
}
main &
wait $!

dmesg > /rig/dmesg.txt 2>&1
cat /proc/modules > /rig/modules.txt
say "all suites done"
echo ok > /rig/done
poweroff_now
