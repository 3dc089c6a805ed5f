#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - run every Bulkhead test and count the results.
#
#   selftests/run.sh [FILTER]      (make check; FILTER: a regular expression
#                                   matched against the suite labels below)
#
# Each test program or script prints TAP lines ("ok N - name",
# "not ok N - name", "ok N - name # SKIP why"); this counts them, and a
# program that exits non-zero without a "not ok" line counts as one failure.
# The namespace suites each make their own namespaces, pin dir and state
# dir, so they run BH_JOBS at a time (default 3; the machine's cores are
# mostly idle while they wait on the network); those that measure time
# against a limit run alone, after the others. Each suite's seconds are
# printed with its result. Last line: "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
# Debian's python3 (with its packages), not a pyenv shim that costs a second a call
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH
BUILD=${BUILD:-build}
export BUILD
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
FILTER=${1:-}
JOBS=${BH_JOBS:-3}

pass=0 fail=0 skip=0
failed_names=()
logdir=$(mktemp -d /tmp/bulkhead-tests.XXXXXX)
start_all=$(date +%s)

logname() { echo "$logdir/$(echo "$1" | tr ' /()' '____').log"; }

# count LABEL RC SECONDS: add up a finished suite's log, print its lines
count() {
	local label=$1 rc=$2 secs=$3 log p f s
	log=$(logname "$label")
	p=$(grep -Ec '^ok [0-9]+' "$log" | head -1)
	s=$(grep -Ec '^ok [0-9]+.*# ?SKIP' "$log" | head -1)
	f=$(grep -Ec '^not ok [0-9]+' "$log" | head -1)
	p=$((p - s))
	echo "=== $label (${secs} s)"
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
}

wanted() { [ -z "$FILTER" ] || echo "$1" | grep -qE -- "$FILTER"; }

# run_one LABEL CMD...: one suite, now
run_one() {
	local label=$1 t0 rc
	shift
	wanted "$label" || return 0
	t0=$(date +%s)
	"$@" >"$(logname "$label")" 2>&1
	rc=$?
	count "$label" "$rc" $(( $(date +%s) - t0 ))
}

# parallel LABEL CMD...: queue a suite for the pool; run_pool runs them
pool_labels=()
pool_cmds=()
parallel() {
	local label=$1
	shift
	wanted "$label" || return 0
	pool_labels+=("$label")
	pool_cmds+=("$(printf '%q ' "$@")")
}

# Run the queued suites JOBS at a time; count each in queue order.
run_pool() {
	local i n=${#pool_labels[@]} next=0 done_i=0
	local -A pid_of rc_of t0_of secs_of
	while [ "$done_i" -lt "$n" ]; do
		while [ "$next" -lt "$n" ] && [ "$(jobs -rp | wc -l)" -lt "$JOBS" ]; do
			t0_of[$next]=$(date +%s)
			( eval "${pool_cmds[$next]}" >"$(logname "${pool_labels[$next]}")" 2>&1
			  echo $? >"$(logname "${pool_labels[$next]}").rc"
			  date +%s >"$(logname "${pool_labels[$next]}").end" ) &
			pid_of[$next]=$!
			next=$((next + 1))
		done
		# report, in order, every suite that has finished
		while [ "$done_i" -lt "$next" ] && [ -e "$(logname "${pool_labels[$done_i]}").end" ]; do
			wait "${pid_of[$done_i]}" 2>/dev/null
			i=$done_i
			count "${pool_labels[$i]}" "$(cat "$(logname "${pool_labels[$i]}").rc")" \
				$(( $(cat "$(logname "${pool_labels[$i]}").end") - t0_of[$i] ))
			done_i=$((done_i + 1))
		done
		[ "$done_i" -lt "$n" ] && sleep 0.5
	done
	pool_labels=()
	pool_cmds=()
}

# ---- programs: unit tests, BPF_PROG_TEST_RUN, fuzz corpora -----------------------
run_one "unit: policy loader and compiler" "$BUILD/selftests/test_policy"
run_one "unit: policy loader and compiler (ASan+UBSan)" "$BUILD/asan/test_policy"
run_one "unit: policy diff" "$BUILD/selftests/test_policy_diff"
run_one "unit: policy diff (ASan+UBSan)" "$BUILD/asan/test_policy_diff"
run_one "unit: DHCP lease file parser and bindings" "$BUILD/selftests/test_leases"
run_one "unit: DHCP lease file parser and bindings (ASan+UBSan)" "$BUILD/asan/test_leases"
run_one "unit: netlink topology and state directory" "$BUILD/selftests/test_nl_state"
run_one "unit: netlink topology and state directory (ASan+UBSan)" "$BUILD/asan/test_nl_state"
run_one "unit: NFLOG deny events of --mode nft" "$BUILD/selftests/test_nflog"
run_one "unit: NFLOG deny events of --mode nft (ASan+UBSan)" "$BUILD/asan/test_nflog"
run_one "unit: flow history and views" "$BUILD/selftests/test_flows"
run_one "unit: flow history and views (ASan+UBSan)" "$BUILD/asan/test_flows"
run_one "unit: learn a draft policy from flows" "$BUILD/selftests/test_learn"
run_one "unit: learn a draft policy from flows (ASan+UBSan)" "$BUILD/asan/test_learn"
run_one "unit: detection policy, decisions, grace, blocklist" "$BUILD/selftests/test_detect"
run_one "unit: detection policy, decisions, grace, blocklist (ASan+UBSan)" "$BUILD/asan/test_detect"
run_one "bpf: verdict paths (BPF_PROG_TEST_RUN)" "$BUILD/selftests/test_verdict"
run_one "bpf: detection, bpf/lib/detect.h (BPF_PROG_TEST_RUN)" "$BUILD/selftests/test_detect_bpf"
run_one "bpf: call chains within the 512-byte stack older kernels allow" \
	python3 selftests/bpf_stack.py "$BUILD/bpf/bulkhead.bpf.o"
# >= 100,000 (frame, entry point) pairs; BH_DIFF_ARGS="--seed N --policies N --count N" for more
run_one "bpf: differential, BPF vs the reference evaluator" \
	"$BUILD/selftests/test_diff" ${BH_DIFF_ARGS:---policies 56 --count 1000}
# the same through apply's path for kernels without BPF_MAP_*_BATCH
run_one "bpf: differential, maps written one entry per syscall" \
	"$BUILD/selftests/test_diff" --no-batch --policies 16 --count 500
run_one "fuzz: harnesses over their seed corpora" bash selftests/fuzz_corpus.sh

# ---- namespace suites ---------------------------------------------------------------
# the suites, listed: a script lands in make check when it is added here.
# ALONE: they hold timing limits (a timed quarantine ending on time, an
# edit live within a limit, swaps in an echo window, event rates) that
# other suites' load would make them miss.
CLI_TESTS="cli_basic cli_valgrind cli_diff cli_plumbing cli_honest cli_detect"
E2E_TESTS="e2e_basic e2e_isolate e2e_apply e2e_spoof e2e_cold e2e_claim e2e_flood"
ALONE_TESTS="e2e_restart e2e_daemon e2e_events e2e_leases e2e_detect"
NFT_TESTS="e2e_basic e2e_isolate e2e_apply e2e_spoof e2e_cold e2e_claim e2e_flood e2e_nft_l2"
NFT_ALONE_TESTS="e2e_daemon e2e_events e2e_leases e2e_detect"

for t in $CLI_TESTS; do
	parallel "cli: $t" bash "selftests/$t.sh"
done
for mode in tc xdp; do
	for t in $E2E_TESTS; do
		parallel "e2e ($mode): $t" env BH_MODE=$mode bash "selftests/$t.sh"
	done
done
for t in $NFT_TESTS; do
	parallel "e2e (nft): $t" env BH_MODE=nft bash "selftests/$t.sh"
done
# random policies x random first packets through real namespaces, each
# dataplane against the reference evaluator (BH_DP_DIFF_SEED/_POLICIES/_COUNT)
for mode in nft tc xdp; do
	parallel "dataplane differential ($mode, namespaces)" env BH_MODE=$mode bash selftests/dataplane_diff.sh
done
# nft list table per example policy vs selftests/golden/ (make check BH_GOLDEN_UPDATE=1 rewrites them)
parallel "nft: golden tables of the example policies" bash selftests/nft_golden.sh
run_pool

# one at a time
for mode in tc xdp; do
	for t in $ALONE_TESTS; do
		run_one "e2e ($mode): $t" env BH_MODE=$mode bash "selftests/$t.sh"
	done
done
for t in $NFT_ALONE_TESTS; do
	run_one "e2e (nft): $t" env BH_MODE=nft bash "selftests/$t.sh"
done

echo
echo "logs: $logdir ($(( $(date +%s) - start_all )) s in all)"
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed:"; printf '  %s\n' "${failed_names[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
