#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - find every Bulkhead test, run them in parallel, count the results.
#
#   selftests/run.sh [--stress] [FILTER]
#
# make check runs it bare; make check-stress with --stress. FILTER: a
# regular expression matched against the suite labels ("unit: test_policy",
# "prog: test_verdict", "net (tc): e2e_basic", "cli: cli_basic", ...).
#
# The suites are found by their folder (selftests/KIND/), never listed here:
#   unit/test_*.c      cmocka programs: build/selftests/NAME, and the same
#                      under ASan+UBSan, build/asan/NAME
#   prog/test_*(.c|/)  BPF_PROG_TEST_RUN programs: build/selftests/NAME
#   prog/*.py          checks of the BPF object, python3
#   net/*.sh           namespace suites, once per dataplane: BH_MODE=xdp, tc, nft
#   cli/*.sh golden/*.sh fuzz/*.sh   scripts, once
#   make check-headers (when the Makefile has it): headers compile on their own
# Tags in a test's own text (a comment line) say the rest:
#   bh: args ARGS...   run it with these arguments ($BUILD expanded); one run
#                      per such line (the arguments in the label when several)
#   bh: modes M...     net/ suites: only these dataplanes (default xdp tc nft)
#   bh: alone          run it on its own, after the others (e.g. a timing limit
#                      other suites' load would break)
#   bh: stress         it is in the stress tier too (make check-stress, which
#                      runs only those, one at a time, with BH_STRESS=1 and
#                      BH_TIME_SCALE=1): a longer run (BH_STRESS), or its
#                      wall-clock limits unscaled, on an idle machine
#
# Each program or script prints TAP lines ("ok N - name", "not ok N - name",
# "ok N - name # SKIP why"); this counts them, and a suite that exits
# non-zero without a "not ok" line counts as one failure. Every suite makes
# its own namespaces, pin dir and state dir, so BH_JOBS run at a time
# (default: three per core, at least 3: the suites mostly wait, for
# denied tries to time out, and their traffic goes through one helper
# process each (nsh.py); with a dozen processes a try, 2 per core already
# kept a 2-core machine 89% busy, now 3 per core do),
# the longest first by the last run's times ($BUILD/selftests/times), with
# BH_TIME_SCALE=3 (lib.sh) unless set. --stress: one at a time, scale 1.
# Each suite's seconds (wall clock, and CPU: user + system of all its
# processes) are printed with its result. Last line:
# "N passed, N failed, N skipped".
set -u
shopt -s nullglob
cd "$(dirname "$0")/.."
# Debian's python3 (with its packages), not a pyenv shim that costs a second a call
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH
BUILD=${BUILD:-build}
export BUILD
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cores=$(nproc 2>/dev/null || echo 2)
JOBS=${BH_JOBS:-$(( cores * 3 > 3 ? cores * 3 : 3 ))}
# suites running side by side wait longer for the same thing: their
# wall-clock limits (lib.sh's scaled) are tripled, unless one is given
export BH_TIME_SCALE=${BH_TIME_SCALE:-3}
STRESS=
if [ "${1:-}" = --stress ]; then
	# the long runs, one at a time, with the limits as written
	STRESS=1 JOBS=1
	export BH_STRESS=1 BH_TIME_SCALE=1
	shift
fi
FILTER=${1:-}
TIMES=$BUILD/selftests/times

pass=0 fail=0 skip=0
failed_names=()
logdir=$(mktemp -d /tmp/bulkhead-tests.XXXXXX)
start_all=$(date +%s)

# logname LABEL: sets LOG, the suite's log file (no subshell: run_pool's
# loop is the one process that lives through the whole run)
logname() { LOG=$logdir/${1//[ \/()]/_}.log; }

# cpu_secs LOG: the CPU seconds (user + system, children included) that
# run_suite wrote beside LOG, rounded; "?" when there are none
cpu_secs() {
	awk '{ for (i = 1; i <= NF; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] } }
	     END { if (NR) printf "%.0f", t; else printf "?" }' "$1.times" 2>/dev/null || echo '?'
}

# count LABEL RC SECONDS: add up a finished suite's log, print its lines
count() {
	local label=$1 rc=$2 secs=$3 log p f s t LOG
	logname "$label"
	log=$LOG
	p=$(grep -Ec '^ok [0-9]+' "$log" | head -1)
	s=$(grep -Ec '^ok [0-9]+.*# ?SKIP' "$log" | head -1)
	f=$(grep -Ec '^not ok [0-9]+' "$log" | head -1)
	# TAP's "not ok N - name # TODO why": a known gap, printed, counted
	# with the skipped (not as passed, not as a new failure)
	t=$(grep -Ec '^not ok [0-9]+.*# ?TODO' "$log" | head -1)
	p=$((p - s)); f=$((f - t)); s=$((s + t))
	echo "=== $label (${secs} s, cpu $(cpu_secs "$log") s)"
	grep -E '^(not )?ok [0-9]+|^# ' "$log" | sed 's/^/    /'
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "    not ok - $label exited with status $rc"
		tail -n 20 "$log" | sed 's/^/    | /'
	elif [ "$f" -gt 0 ]; then
		grep -vE '^(not )?ok [0-9]+' "$log" | tail -n 40 | sed 's/^/    | /'
	fi
	[ "$f" -gt 0 ] && failed_names+=("$label")
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	printf '%s\t%s\n' "$secs" "$label" >> "$logdir/times"
}

wanted() { [ -z "$FILTER" ] || echo "$1" | grep -qE -- "$FILTER"; }

# tag FILE NAME: the values of FILE's "bh: NAME ..." lines, one per line
tag() {
	sed -nE "s/^[#/* ]*bh: $2( (.*))?\$/\\2/p" "$1" | sed "s|\\\$BUILD|$BUILD|g"
}
has_tag() { grep -qE "^[#/* ]*bh: $2( |\$)" "$1"; }

# queue LABEL FILE CMD...: a suite for the pool, or for the lone runs after it
pool_labels=() pool_cmds=() alone_labels=() alone_cmds=()
queue() {
	local label=$1 file=$2
	shift 2
	wanted "$label" || return 0
	if [ -n "$STRESS" ] && ! has_tag "$file" stress; then
		return 0
	fi
	if has_tag "$file" alone; then
		alone_labels+=("$label")
		alone_cmds+=("$(printf '%q ' "$@")")
	else
		pool_labels+=("$label")
		pool_cmds+=("$(printf '%q ' "$@")")
	fi
}

# queue_runs LABEL FILE CMD...: once, or once per "bh: args" line (the
# arguments in the label when there are several)
queue_runs() {
	local label=$1 file=$2 args n
	shift 2
	n=$(tag "$file" args | grep -c .)
	if [ "$n" -eq 0 ]; then
		queue "$label" "$file" "$@"
		return
	fi
	while IFS= read -r args; do
		# shellcheck disable=SC2086  # the tag's words are the arguments
		queue "$label${args:+$([ "$n" -gt 1 ] && echo " $args")}" "$file" "$@" $args
	done < <(tag "$file" args)
}

# the last run's seconds of LABEL; in a fresh clone (as CI has) those of
# selftests/times.default (a make check of this machine, kept in git);
# unknown there too: 60 for a namespace suite, 20 for a cli one, else 0, so
# the long ones still start first
last_secs() {
	local guess=0 t=$TIMES
	case $1 in
	net*) guess=60 ;;
	cli*) guess=20 ;;
	esac
	[ -r "$t" ] || t=selftests/times.default
	[ -r "$t" ] || { echo "$guess"; return; }
	awk -F '\t' -v l="$1" -v g="$guess" '$2 == l { s = $1; found = 1 }
		END { print found ? s + 0 : g }' "$t"
}

# cpu_ticks: busy and total jiffies of every core so far (/proc/stat; guest
# time is counted in user already)
cpu_ticks() {
	local cpu user nice sys idle iowait irq softirq steal rest busy
	read -r cpu user nice sys idle iowait irq softirq steal rest < /proc/stat
	busy=$(( user + nice + sys + irq + softirq + steal ))
	echo "$busy $(( busy + idle + iowait ))"
}

# run_pool: the queued suites, JOBS at a time (longest first); each counted
# as it finishes. The loop sleeps in wait -n until a suite ends: it starts
# no process while it waits (a poll started hundreds a minute).
run_pool() {
	local n=${#pool_labels[@]} i next=0 done_n=0 running=0 pid rc LOG
	local -a order
	local -A idx_of t0_of
	[ "$n" -gt 0 ] || return 0
	mapfile -t order < <(for i in "${!pool_labels[@]}"; do
		printf '%s\t%s\n' "$(last_secs "${pool_labels[$i]}")" "$i"
	done | sort -t $'\t' -k1,1nr -k2,2n | cut -f2)
	while [ "$done_n" -lt "$n" ]; do
		while [ "$next" -lt "$n" ] && [ "$running" -lt "$JOBS" ]; do
			i=${order[$next]}
			logname "${pool_labels[$i]}"
			t0_of[$i]=$EPOCHSECONDS
			( eval "${pool_cmds[$i]}" >"$LOG" 2>&1 </dev/null
			  echo $? >"$LOG.rc"
			  times >"$LOG.times" ) &
			idx_of[$!]=$i
			next=$((next + 1))
			running=$((running + 1))
		done
		pid=
		wait -n -p pid
		[ -n "$pid" ] && [ -n "${idx_of[$pid]:-}" ] || continue
		i=${idx_of[$pid]}
		unset "idx_of[$pid]"
		logname "${pool_labels[$i]}"
		rc=1
		read -r rc < "$LOG.rc"
		count "${pool_labels[$i]}" "$rc" $(( EPOCHSECONDS - t0_of[$i] ))
		done_n=$((done_n + 1))
		running=$((running - 1))
	done
}

# run_alone: the suites tagged "bh: alone", one at a time
run_alone() {
	local i t0 LOG
	for i in "${!alone_labels[@]}"; do
		logname "${alone_labels[$i]}"
		t0=$EPOCHSECONDS
		( eval "${alone_cmds[$i]}" >"$LOG" 2>&1 </dev/null
		  rc=$?
		  times >"$LOG.times"
		  exit $rc )
		count "${alone_labels[$i]}" $? $(( EPOCHSECONDS - t0 ))
	done
}

# ---- find the suites -------------------------------------------------------------------
for f in selftests/unit/test_*.c; do
	t=$(basename "$f" .c)
	queue_runs "unit: $t" "$f" "$BUILD/selftests/$t"
	queue_runs "unit: $t (ASan+UBSan)" "$f" "$BUILD/asan/$t"
done
for f in selftests/prog/test_*; do
	t=$(basename "$f" .c)
	[ -d "$f" ] && f=$f/main.c
	queue_runs "prog: $t" "$f" "$BUILD/selftests/$t"
done
for f in selftests/prog/*.py; do
	queue_runs "prog: $(basename "$f" .py)" "$f" python3 "$f"
done
for f in selftests/net/*.sh; do
	t=$(basename "$f" .sh)
	modes=$(tag "$f" modes)
	for m in ${modes:-xdp tc nft}; do
		queue_runs "net ($m): $t" "$f" env BH_MODE="$m" bash "$f"
	done
done
for f in selftests/cli/*.sh selftests/golden/*.sh selftests/fuzz/*.sh; do
	k=$(basename "$(dirname "$f")")
	queue_runs "$k: $(basename "$f" .sh)" "$f" bash "$f"
done
# the BPF headers compile on their own, where the Makefile can check it
check_headers() {
	if make -s check-headers; then
		echo "ok 1 - make check-headers: every header compiles on its own"
	else
		echo "not ok 1 - make check-headers"
		return 1
	fi
	echo "1..1"
}
if [ -z "$STRESS" ] && make -n check-headers >/dev/null 2>&1 && wanted "build: check-headers"; then
	pool_labels+=("build: check-headers")
	pool_cmds+=(check_headers)
fi

echo "# $(( ${#pool_labels[@]} + ${#alone_labels[@]} )) suites, $JOBS at a time${STRESS:+ (stress)}"
read -r busy0 all0 < <(cpu_ticks)
run_pool
run_alone
read -r busy1 all1 < <(cpu_ticks)

# keep each suite's seconds for the next run's order
if [ -z "$STRESS" ] && [ -d "$BUILD/selftests" ] && [ -e "$logdir/times" ]; then
	cat "$TIMES" "$logdir/times" 2>/dev/null |
		awk -F '\t' '{ s[$2] = $1 } END { for (l in s) printf "%s\t%s\n", s[l], l }' |
		sort -t "$(printf '\t')" -k1,1nr > "$TIMES.new" && mv "$TIMES.new" "$TIMES"
fi
echo
# how busy the machine was (every process, ours or not): below 100% the
# cores waited, above nothing more can run at once
echo "logs: $logdir ($(( $(date +%s) - start_all )) s in all, the cores $(( all1 > all0 ? 100 * (busy1 - busy0) / (all1 - all0) : 0 ))% busy)"
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed:"; printf '  %s\n' "${failed_names[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
