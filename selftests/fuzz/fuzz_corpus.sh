#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fuzz_corpus.sh - run each libFuzzer harness once over its seed corpus
# (ASan + UBSan): no crash, no leak, no undefined behaviour on any input.
# `make fuzz` runs them for longer, mutating.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
n=0 failed=0
for f in policy frame leases flowline blocklist ctflow; do
	bin=$BUILD/fuzz/fuzz_$f
	corpus=selftests/fuzz/corpus/$f
	n=$((n + 1))
	count=$(ls "$corpus" | wc -l)
	out=$("$bin" -runs=0 "$corpus" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && ! echo "$out" | grep -qE "ERROR: |runtime error"; then
		echo "ok $n - fuzz_$f: $count corpus inputs, no sanitizer report"
	else
		echo "not ok $n - fuzz_$f over its corpus (exit $rc)"
		echo "$out" | grep -E "ERROR|runtime error|SUMMARY" | head -5 | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
done
echo "1..$n"
[ $failed -eq 0 ]
