#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - run every Bulkhead test and count the results.
# Each test program or script prints TAP lines ("ok N - name",
# "not ok N - name", "ok N - name # SKIP why"); this counts them, and a
# program that exits non-zero without a "not ok" line counts as one failure.
# Last line: "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
# Debian's python3 (with its packages), not a pyenv shim that costs a second a call
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH
BUILD=${BUILD:-build}
export BUILD
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

pass=0 fail=0 skip=0
failed_names=()
logdir=$(mktemp -d /tmp/bulkhead-tests.XXXXXX)

run_one() {	# label command...
	local label=$1; shift
	local log="$logdir/$(echo "$label" | tr ' /' '__').log"
	echo "=== $label"
	"$@" >"$log" 2>&1
	local rc=$?
	local p f s
	p=$(grep -Ec '^ok [0-9]+' "$log" | head -1)
	s=$(grep -Ec '^ok [0-9]+.*# ?SKIP' "$log" | head -1)
	f=$(grep -Ec '^not ok [0-9]+' "$log" | head -1)
	p=$((p - s))
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
run_one "bpf: verdict paths (BPF_PROG_TEST_RUN)" "$BUILD/selftests/test_verdict"
run_one "bpf: call chains within the 512-byte stack older kernels allow" \
	python3 selftests/bpf_stack.py "$BUILD/bpf/bulkhead.bpf.o"
# >= 100,000 (frame, entry point) pairs; BH_DIFF_ARGS="--seed N --policies N --count N" for more
run_one "bpf: differential, BPF vs the reference evaluator" \
	"$BUILD/selftests/test_diff" ${BH_DIFF_ARGS:---policies 56 --count 1000}
# the same through apply's path for kernels without BPF_MAP_*_BATCH
run_one "bpf: differential, maps written one entry per syscall" \
	"$BUILD/selftests/test_diff" --no-batch --policies 16 --count 500
run_one "fuzz: harnesses over their seed corpora" bash selftests/fuzz_corpus.sh
# the suites, listed: a script lands in make check when it is added here
CLI_TESTS="cli_basic cli_valgrind cli_diff cli_plumbing cli_honest"
E2E_TESTS="e2e_basic e2e_isolate e2e_apply e2e_restart e2e_spoof e2e_daemon e2e_events e2e_leases
	e2e_cold e2e_claim e2e_flood"
for t in $CLI_TESTS; do
	run_one "cli: $t" bash "selftests/$t.sh"
done
for mode in tc xdp; do
	for t in $E2E_TESTS; do
		run_one "e2e ($mode): $t" env BH_MODE=$mode bash "selftests/$t.sh"
	done
done
# random policies x random first packets through real namespaces, each
# dataplane against the reference evaluator (BH_DP_DIFF_SEED/_POLICIES/_COUNT)
for mode in nft tc xdp; do
	run_one "dataplane differential ($mode, namespaces)" env BH_MODE=$mode bash selftests/dataplane_diff.sh
done
# nft list table per example policy vs selftests/golden/ (make check BH_GOLDEN_UPDATE=1 rewrites them)
run_one "nft: golden tables of the example policies" bash selftests/nft_golden.sh
# the whole policy in nftables alone (up --mode nft)
NFT_TESTS="e2e_basic e2e_isolate e2e_apply e2e_spoof e2e_daemon e2e_events e2e_leases
	e2e_cold e2e_claim e2e_flood"
for t in $NFT_TESTS; do
	run_one "e2e (nft): $t" env BH_MODE=nft bash "selftests/$t.sh"
done

echo
echo "logs: $logdir"
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed:"; printf '  %s\n' "${failed_names[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
