#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - the kernel test rig: run Bulkhead's suites on Debian 12's own
# kernels (bookworm's 6.1 and the 6.12 backport) under QEMU.
#
#   selftests/kernels/run.sh [--kernel 6.1|6.12|all] [--suites "test_verdict e2e_basic ..."]
#                            [--modes "tc xdp nft"] [options]      (--help for all)
#   make check-kernels [KERNELS=6.1] [SUITES="..."] [MODES="..."]
#
# For each kernel: `apt-get download` the newest linux-image package of that
# series (nothing else is fetched, and only from the configured Debian
# repositories) into a cache dir that later runs reuse, `dpkg-deb -x` it,
# write its modules.dep with the kmod package's depmod, build a small
# initramfs (busybox-static and the 9p/virtio/overlay modules in modules.dep
# order), and boot it with QEMU's TCG (not KVM: this machine's /dev/kvm is a
# nested KVM on which Debian kernels hang). The guest's root is this
# machine's / shared read-only over 9p under a tmpfs overlay; it runs the
# suites from this checkout's build (built here first: `make`, `make tests`)
# and writes TAP logs and results.tsv to a second, writable 9p share
# ($BUILD/kernels/KERNEL/), then powers off. One guest at a time (a lock).
# At the end: a table kernel x suite x mode, printed and written into
# docs/kernels.md between the rig's markers.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
cd "$SRC"
BUILD=${BUILD:-build}
CACHE=${BH_KERNEL_CACHE:-/var/cache/bulkhead-kernels}
KERNELS=all
SUITES="test_verdict e2e_basic e2e_isolate e2e_apply"
MODES="tc xdp nft"
TIME_SCALE=${BH_TIME_SCALE:-3}
KTIMEOUT=${BH_RIG_TIMEOUT:-5400}		# per kernel, seconds
STIMEOUT=${BH_RIG_SUITE_TIMEOUT:-1500}		# per suite run, seconds
# what the kernel would autoload on an installed system (the guest can do
# that too, see guest.sh, but loading them first keeps runs alike);
# br_netfilter is left out on purpose: nothing loads it on a real gateway,
# and whether Bulkhead copes with that is part of what is measured
PRELOAD="bridge veth nf_tables sch_ingress cls_bpf nfnetlink_log"
DO_BUILD=1
REPORT_ONLY=
DOC=$SRC/docs/kernels.md
# tsc=reliable: under TCG the kernel finds the TSCs "unsynchronized" and
# falls back to the HPET, which makes every clock read a trap (the suites
# read the clock all the time); the guest's TSC is QEMU's, reliable enough
APPEND=${BH_RIG_APPEND:-}

usage() {
	cat <<EOF
usage: $0 [options]
  --kernel 6.1|6.12|all     kernels to boot (default all: 6.1 then 6.12)
  --suites "S ..."          suites: selftests/*/S.sh or $BUILD/selftests/S
                            (default "$SUITES"); S:M,M runs S in
                            modes M only (e.g. e2e_apply:tc,nft)
  --modes "M ..."           BH_MODE values for the suites that read BH_MODE
                            (default "$MODES"); the others run once (mode -)
  --time-scale N            BH_TIME_SCALE in the guest (default $TIME_SCALE)
  --timeout S               per kernel, seconds (default $KTIMEOUT)
  --suite-timeout S         per suite run, seconds (default $STIMEOUT)
  --preload-br-netfilter    insmod br_netfilter before the suites (default: not)
  --no-build                do not run make / make tests first
  --no-doc                  do not rewrite the table in docs/kernels.md
  --report-only             boot nothing: the table from the last runs' results
Environment: BH_KERNEL_CACHE (default /var/cache/bulkhead-kernels), BUILD,
BH_RIG_APPEND (extra kernel command line).
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNELS=$2; shift ;;
	--suites) SUITES=$2; shift ;;
	--modes) MODES=$2; shift ;;
	--time-scale) TIME_SCALE=$2; shift ;;
	--timeout) KTIMEOUT=$2; shift ;;
	--suite-timeout) STIMEOUT=$2; shift ;;
	--preload-br-netfilter) PRELOAD="$PRELOAD br_netfilter" ;;
	--no-build) DO_BUILD= ;;
	--no-doc) DOC= ;;
	--report-only) REPORT_ONLY=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "unknown option: $1" >&2; usage >&2; exit 1 ;;
	esac
	shift
done
case $KERNELS in
all) KERNELS="6.1 6.12" ;;
6.1|6.12) ;;
*) echo "--kernel: 6.1, 6.12 or all" >&2; exit 1 ;;
esac
case $BUILD in /*) echo "BUILD must be relative to the checkout" >&2; exit 1 ;; esac
[ "$(id -u)" = 0 ] || { echo "the rig needs root (apt-get, 9p of /)" >&2; exit 1; }

say() { printf '  %-8s %s\n' "$1" "$2"; }
die() { echo "run.sh: $*" >&2; exit 2; }

if [ -z "$REPORT_ONLY" ]; then
# ---- host tools ---------------------------------------------------------------------
need_pkgs=
command -v qemu-system-x86_64 >/dev/null || need_pkgs="$need_pkgs qemu-system-x86"
command -v xz >/dev/null || need_pkgs="$need_pkgs xz-utils"
if [ -n "$need_pkgs" ]; then
	say DEPS "installing:$need_pkgs"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $need_pkgs >/dev/null ||
		die "cannot install$need_pkgs"
fi

mkdir -p "$CACHE/debs" "$CACHE/tools"
exec 9>"$CACHE/rig.lock"
if ! flock -n 9; then
	say LOCK "another rig run holds $CACHE/rig.lock, waiting (one guest at a time)"
	flock 9
fi

# apt-get download PKG into $CACHE/debs unless a .deb of it is there
fetch_deb() {	# package -> prints the .deb path
	local pkg=$1 f
	f=$(ls "$CACHE/debs/${pkg}_"*.deb 2>/dev/null | sort -V | tail -1)
	if [ -z "$f" ]; then
		say FETCH "$pkg" >&2
		( cd "$CACHE/debs" && apt-get download -q "$pkg" >/dev/null 2>&1 ) ||
		( apt-get update -q >/dev/null 2>&1; cd "$CACHE/debs" && apt-get download -q "$pkg" >/dev/null 2>&1 ) ||
			return 1
		f=$(ls "$CACHE/debs/${pkg}_"*.deb 2>/dev/null | sort -V | tail -1)
	fi
	[ -n "$f" ] && echo "$f"
}

# the newest package of a series: unsigned image first (the same kernel as
# the signed one, without the EFI signature QEMU does not need)
resolve_pkg() {	# 6.1|6.12
	local re p
	case $1 in
	6.1) re='^linux-image-6\.1\.0-[0-9]+-amd64' ;;
	6.12) re='^linux-image-6\.12\.[0-9]+\+deb12-amd64' ;;
	esac
	for suffix in -unsigned ''; do
		p=$(apt-cache search --names-only "$re$suffix\$" 2>/dev/null | awk '{print $1}' | sort -V | tail -1)
		[ -n "$p" ] && { echo "$p"; return 0; }
	done
	# no apt lists: the newest one already in the cache
	p=$(ls "$CACHE/debs/" 2>/dev/null | grep -E "${re#^}(-unsigned)?_" | sort -V | tail -1)
	[ -n "$p" ] && echo "${p%%_*}"
}

# busybox-static (the initramfs, and poweroff in the guest) and kmod
# (depmod here, modprobe in the guest when this machine has none)
unpack_tool() {	# package dir
	local deb
	[ -e "$2/.done" ] && return 0
	deb=$(fetch_deb "$1") || die "cannot apt-get download $1"
	rm -rf "$2" && mkdir -p "$2" && dpkg-deb -x "$deb" "$2" && touch "$2/.done"
}
unpack_tool busybox-static "$CACHE/tools/busybox-static"
unpack_tool kmod "$CACHE/tools/kmod"
BB=$CACHE/tools/busybox-static/bin/busybox
KMOD=$CACHE/tools/kmod/bin/kmod
ln -sf "$KMOD" "$CACHE/tools/depmod"
[ -x "$BB" ] && [ -x "$KMOD" ] || die "busybox-static or kmod missing in $CACHE/tools"

# ---- build on the host ----------------------------------------------------------
if [ -n "$DO_BUILD" ]; then
	say MAKE "all, tests (BUILD=$BUILD)"
	make -s BUILD="$BUILD" all >/dev/null && make -s BUILD="$BUILD" tests >/dev/null ||
		die "make failed"
fi
[ -x "$BUILD/bulkhead" ] || die "$BUILD/bulkhead is not built (make, make tests)"
fi

# ---- modules.dep closures ---------------------------------------------------------
declare -A MODPATH MODDEP BUILTIN SEEN
ORDER=()
read_moddep() {	# modtree
	local p deps n
	MODPATH=() MODDEP=() BUILTIN=()
	while IFS=: read -r p deps; do
		n=${p##*/}; n=${n%%.ko*}; n=${n//-/_}
		MODPATH[$n]=$p MODDEP[$n]=$deps
	done < "$1/modules.dep"
	while read -r p; do
		n=${p##*/}; n=${n%%.ko*}; n=${n//-/_}
		BUILTIN[$n]=1
	done < "$1/modules.builtin"
}
closure() {	# name: append to ORDER what it needs, then it
	local n=${1//-/_} d
	[ -n "${BUILTIN[$n]:-}" ] && return 0
	[ -n "${SEEN[$n]:-}" ] && return 0
	[ -n "${MODPATH[$n]:-}" ] || die "module $n is not in the kernel's tree"
	SEEN[$n]=1
	for d in ${MODDEP[$n]}; do
		d=${d##*/}; closure "${d%%.ko*}"
	done
	ORDER+=("$n")
}

# ---- one kernel ---------------------------------------------------------------
prepare_kernel() {	# series -> sets PKG PKGVER KROOT KVER VMLINUZ INITRD
	local deb stage m
	PKG=$(resolve_pkg "$1")
	[ -n "$PKG" ] || die "no linux-image package for $1 (apt-cache search)"
	deb=$(fetch_deb "$PKG") || die "cannot apt-get download $PKG"
	PKGVER=$(dpkg-deb -f "$deb" Version)
	KROOT=$CACHE/root/$PKG
	if ! [ -e "$KROOT/.done" ]; then
		say EXTRACT "$PKG $PKGVER"
		rm -rf "$KROOT" && mkdir -p "$KROOT" && dpkg-deb -x "$deb" "$KROOT" || die "dpkg-deb -x $deb"
		KVER=$(ls "$KROOT/lib/modules")
		# the package ships no modules.dep (its postinst runs depmod)
		"$CACHE/tools/depmod" -b "$KROOT" "$KVER" || die "depmod $KVER"
		touch "$KROOT/.done"
	fi
	KVER=$(ls "$KROOT/lib/modules")
	VMLINUZ=$KROOT/boot/vmlinuz-$KVER
	INITRD=$KROOT/initrd.img
	if ! [ -e "$INITRD" ] || [ "$SRC/selftests/kernels/init.sh" -nt "$INITRD" ]; then
		say INITRD "$KVER: busybox-static, 9p, virtio, overlay"
		stage=$(mktemp -d /tmp/bh-rig-initrd.XXXXXX)
		mkdir -p "$stage/bin" "$stage/modules"
		cp "$BB" "$stage/bin/busybox"
		install -m 0755 "$SRC/selftests/kernels/init.sh" "$stage/init"
		read_moddep "$KROOT/lib/modules/$KVER"
		SEEN=() ORDER=()
		for m in virtio_pci 9pnet_virtio 9p overlay; do closure "$m"; done
		for m in "${ORDER[@]}"; do
			case ${MODPATH[$m]} in
			*.xz) xz -dc "$KROOT/lib/modules/$KVER/${MODPATH[$m]}" > "$stage/modules/$m.ko" ;;
			*) cp "$KROOT/lib/modules/$KVER/${MODPATH[$m]}" "$stage/modules/$m.ko" ;;
			esac
			echo "$m.ko" >> "$stage/modules/order"
		done
		( cd "$stage" && find . | "$BB" cpio -o -H newc 2>/dev/null ) | gzip -1 > "$INITRD.tmp" &&
			mv "$INITRD.tmp" "$INITRD" || die "cannot write $INITRD"
		rm -rf "$stage"
	fi
}

boot_guest() {	# series out: one boot; sets BOOT_RC (qemu's exit, 124 timeout)
	local line
	say BOOT "$PKG ($PKGVER, $KVER) under TCG, at most ${KTIMEOUT}s"
	timeout -k 10 "$KTIMEOUT" qemu-system-x86_64 \
		-accel tcg,thread=multi -cpu max -smp 2 -m 4096 \
		-nographic -no-reboot -nic none \
		-kernel "$VMLINUZ" -initrd "$INITRD" \
		-append "console=ttyS0 rdinit=/init panic=-1 loglevel=4 tsc=reliable $APPEND" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$2,mount_tag=rigout,security_model=none" \
		< /dev/null 2>&1 |
	while IFS= read -r line; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >> "$2/console.log"
		case $line in	# (the first one may follow the firmware's escapes)
		*RIG:\ *) printf '  %-8s [%4ss] %s\n' "$1" "$(( $(date +%s) - start ))" "${line#*RIG: }" ;;
		esac
	done
	BOOT_RC=${PIPESTATUS[0]}
}

run_kernel() {	# series
	local out start rc kmod
	prepare_kernel "$1"
	out=$SRC/$BUILD/kernels/$1
	rm -rf "$out" && mkdir -p "$out"
	kmod=$KMOD
	cat > "$out/job.env" <<EOF
BH_RIG_GUEST='$SRC/selftests/kernels/guest.sh'
BH_RIG_SRC='$SRC'
BH_RIG_BUILD_REL='$BUILD'
BH_RIG_MODTREE='$KROOT/lib/modules/$KVER'
BH_RIG_BUSYBOX='$BB'
BH_RIG_KMOD='$kmod'
BH_RIG_PRELOAD='$PRELOAD'
BH_RIG_SUITES='$SUITES'
BH_RIG_MODES='$MODES'
BH_RIG_SUITE_TIMEOUT='$STIMEOUT'
BH_TIME_SCALE='$TIME_SCALE'
PATH='$PATH'
EOF
	echo "$PKG $PKGVER" > "$out/package.txt"
	date -u +%Y-%m-%d > "$out/date.txt"
	start=$(date +%s)
	boot_guest "$1" "$out"
	rc=$BOOT_RC
	# a guest that died before it ran anything (seen once: a 6.12 guest
	# panicked in an interrupt 1.5 s into the boot under TCG): once more,
	# the first console kept, and said in the report
	if ! [ -e "$out/done" ] && [ "$rc" != 124 ] && ! ls "$out"/*.tap >/dev/null 2>&1; then
		mv "$out/console.log" "$out/console.1.log"
		say RETRY "$1: the guest stopped before any suite ran (qemu exit $rc); booting once more"
		tail -n 5 "$out/console.1.log" | sed 's/^/    | /'
		echo "the first boot stopped before any suite ran (qemu exit $rc, console.1.log): booted again" \
			> "$out/retried"
		boot_guest "$1" "$out"
		rc=$BOOT_RC
	fi
	echo "$(( $(date +%s) - start ))" > "$out/seconds.txt"
	if ! [ -e "$out/done" ]; then
		[ "$rc" = 124 ] && echo "timeout after ${KTIMEOUT}s" > "$out/incomplete" ||
			echo "guest stopped early (qemu exit $rc), see console.log" > "$out/incomplete"
		say ERROR "$1: $(cat "$out/incomplete")"
		tail -n 15 "$out/console.log" | sed 's/^/    | /'
	fi
}

if [ -z "$REPORT_ONLY" ]; then
	for k in $KERNELS; do
		run_kernel "$k"
	done
fi
exec 9>&-

# ---- the table -----------------------------------------------------------------------
# the table covers the last run of each kernel (a run of one kernel keeps
# the other's rows), each with the suites and modes it was asked for
MEASURED=
for k in 6.1 6.12; do
	[ -e "$BUILD/kernels/$k/job.env" ] && MEASURED="$MEASURED $k"
done
KERNELS=$MEASURED

expected_runs() {	# kernel: the suite x mode pairs it was asked for
	local s m f modes BH_RIG_SUITES BH_RIG_MODES
	eval "$(grep -E '^BH_RIG_(SUITES|MODES)=' "$BUILD/kernels/$1/job.env")"
	for s in $BH_RIG_SUITES; do
		modes=$BH_RIG_MODES
		case $s in *:*) modes=${s#*:}; modes=${modes//,/ }; s=${s%%:*} ;; esac
		f=$(ls selftests/*/"$s".sh 2>/dev/null | head -1)
		if [ -n "$f" ] && grep -q BH_MODE "$f"; then
			for m in $modes; do printf '%s\t%s\n' "$s" "$m"; done
		else
			printf '%s\t-\n' "$s"
		fi
	done
}

table() {
	local k out s m p f sk rc secs row kv
	echo "| kernel | suite | mode | passed | failed | skipped | time |"
	echo "|---|---|---|---:|---:|---:|---:|"
	for k in $KERNELS; do
		out=$BUILD/kernels/$k
		kv=$(awk '{print $3}' "$out/version.txt" 2>/dev/null)
		while IFS=$'\t' read -r s m; do
			row=$(awk -F'\t' -v s="$s" -v m="$m" '$1==s && $2==m' "$out/results.tsv" 2>/dev/null)
			if [ -n "$row" ]; then
				IFS=$'\t' read -r s m p f sk rc secs <<<"$row"
				[ "$rc" = 124 ] && secs="$secs (killed)"
				echo "| ${kv:-$k} | $s | $m | $p | $f | $sk | ${secs}s |"
			elif [ -s "$out/$s.$m.tap" ]; then	# the guest stopped during it
				p=$(grep -Ec '^ok [0-9]+' "$out/$s.$m.tap")
				sk=$(grep -Ec '^ok [0-9]+.*# ?SKIP' "$out/$s.$m.tap")
				f=$(grep -Ec '^not ok [0-9]+' "$out/$s.$m.tap")
				echo "| ${kv:-$k} | $s | $m | $((p - sk)) | $f (cut off) | $sk | - |"
			else
				echo "| ${kv:-$k} | $s | $m | - | not run | - | - |"
			fi
		done < <(expected_runs "$k")
	done
}

failures() {	# how each kernel run went, the first lines of each failed run
	local k out s m p f sk rc secs
	for k in $KERNELS; do
		out=$BUILD/kernels/$k
		echo "- **$k**: \`$(cat "$out/package.txt" 2>/dev/null)\`," \
			"\`$(cut -d' ' -f1-3 "$out/version.txt" 2>/dev/null)\`," \
			"run on $(cat "$out/date.txt" 2>/dev/null) in $(cat "$out/seconds.txt" 2>/dev/null) s (boot, suites, power-off)" \
			"$( [ -e "$out/retried" ] && echo "- $(cat "$out/retried")")" \
			"$( [ -e "$out/incomplete" ] && echo "- INCOMPLETE: $(cat "$out/incomplete")")"
		[ -e "$out/results.tsv" ] || continue
		while IFS=$'\t' read -r s m p f sk rc secs; do
			[ "$f" -gt 0 ] || continue
			echo "  - $s ($m): $f failed, exit $rc:"
			echo "    \`\`\`"
			grep -E '^(not ok|#)|^ERROR|libbpf: prog .*(failed|: -)|[Tt]oo large|Invalid argument|cannot' \
				"$out/$s.$m.tap" | grep -v '^# rig' | awk '!seen[$0]++' | head -n 14 | sed 's/^/    /'
			[ "$(grep -c '^not ok' "$out/$s.$m.tap")" -gt 0 ] || tail -n 5 "$out/$s.$m.tap" | sed 's/^/    /'
			echo "    \`\`\`"
		done < "$out/results.tsv"
		for t in "$out"/*.tap; do	# a run the guest did not finish
			[ -e "$t" ] || continue
			t=${t##*/}; t=${t%.tap}; s=${t%.*}; m=${t##*.}
			awk -F'\t' -v s="$s" -v m="$m" '$1==s && $2==m { f = 1 } END { exit !f }' \
				"$out/results.tsv" && continue
			echo "  - $s ($m): cut off after $(grep -cE '^(not )?ok [0-9]+' "$out/$t.tap") checks:"
			echo "    \`\`\`"
			grep -E '^not ok' "$out/$t.tap" | head -n 30 | sed 's/^/    /'
			echo "    \`\`\`"
		done
	done
}

echo
TABLE=$(table)
FAILS=$(failures)
echo "$TABLE"
echo
echo "$FAILS"
echo
echo "logs: $BUILD/kernels/KERNEL/ (SUITE.MODE.tap, console.log, dmesg.txt)"

if [ -n "$DOC" ] && [ -e "$DOC" ]; then
	gen=$(mktemp)
	{
		echo "<!-- rig:begin (written by selftests/kernels/run.sh; edit above or below) -->"
		echo "Measured by the rig on $(date -u +%Y-%m-%d) (host kernel $(uname -r), QEMU TCG," \
			"2 vCPUs, BH_TIME_SCALE=$TIME_SCALE, modules preloaded: $PRELOAD);" \
			"reproduce with \`make check-kernels\`" \
			"(or per kernel: \`selftests/kernels/run.sh --kernel K --suites \"...\" --modes \"...\"\`)."
		echo
		echo "$TABLE"
		echo
		echo "Kernels, run times and the failed checks (first lines of each failed run):"
		echo
		echo "$FAILS"
		echo "<!-- rig:end -->"
	} > "$gen"
	awk -v gen="$gen" '
		/^<!-- rig:begin/ { while ((getline l < gen) > 0) print l; skip = 1; next }
		/^<!-- rig:end/ { skip = 0; next }
		!skip' "$DOC" > "$DOC.tmp" && mv "$DOC.tmp" "$DOC"
	rm -f "$gen"
	say DOC "$DOC"
fi

# the counts over every kernel, suite and mode, as make check prints them
# (a suite that did not run, or was cut off, counts as one failure)
awk -F'|' 'NR > 2 {
	p += $5; sk += $7
	if ($6 ~ /not run|cut off/) f += ($6 + 0 > 0 ? $6 + 0 : 1); else f += $6
} END { printf "%d passed, %d failed, %d skipped\n", p, f, sk }' <<<"$TABLE"

# exit 1 if anything failed or did not run
! grep -qE '\| (not run|[0-9]+ \(cut off\)) \|' <<<"$TABLE" &&
	! awk -F'|' 'NR > 2 && $6+0 > 0 { bad = 1 } END { exit !bad }' <<<"$TABLE"
