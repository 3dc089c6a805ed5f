#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh - `make bench`: run the benchmarks and write docs/benchmarks.md.
# Every figure is a ratio measured in one run on this (shared, noisy)
# machine; nothing here decides whether tests pass.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
REPEAT=${BENCH_REPEAT:-1000000}
RUNS=${BENCH_RUNS:-5}
out=docs/benchmarks.md

echo "  BENCH    verdict cost (BPF_PROG_TEST_RUN, repeat $REPEAT, median of $RUNS)"
table=$("$BUILD/bench/bench_verdict" "$REPEAT" "$RUNS")
echo "$table"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
	echo "# Benchmarks"
	echo
	echo "Written by \`make bench\` (bench/run.sh). Every figure comes from one run on"
	echo "one machine; the machine is shared and noisy, so compare ratios measured"
	echo "in the same run, not absolute figures across runs."
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $cpu, $(nproc) CPUs, $(free -g | awk '/Mem:/ {print $2}') GiB"
	echo "- kernel: $(uname -r)"
	echo "- command: \`make bench\` (BENCH_REPEAT=$REPEAT BENCH_RUNS=$RUNS)"
	echo
	echo "## 1. Verdict cost per packet"
	echo
	echo "Each path's frame is run $REPEAT times by BPF_PROG_TEST_RUN through"
	echo "Bulkhead's program and through an empty program returning the same"
	echo "action (the floor: the cost of the hook itself); the kernel reports the"
	echo "mean ns per run, the table shows the median of $RUNS such runs and the"
	echo "ratio to the floor. The policy is a small one (4 groups, 3 rules); the"
	echo "lookups are exact-match hashes and one LPM trie, so their cost does not"
	echo "grow with the policy (scaling runs are not measured yet)."
	echo
	echo "$table"
	echo
	echo "Reading it: the XDP floor is a few ns, so XDP ratios mostly show the"
	echo "absolute cost of parsing and 5 to 8 map lookups (source device,"
	echo "quarantine twice, gateway MAC, policy chain, conntrack, counters per"
	echo "reason / device / rule). The tc floor includes building the skb"
	echo "context, so tc ratios are smaller for the same work. Repeating one frame"
	echo "measures the warm-cache case: a new flow's first packet, which inserts"
	echo "into the LRU conntrack map, is not isolated here."
} > "$out"
echo "  WROTE    $out"
