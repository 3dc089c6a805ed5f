#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# compile_equiv.sh - the compiler of this tree against a reference build:
# every example, good, bad and e2e policy and RAND random ones (with and
# without duplicate devices, and with many) are loaded and compiled by both, and all the
# diagnostics and map entries must be identical.
#
#   compile_equiv.sh REF_COMPILE_DUMP [RAND]
#
# REF_COMPILE_DUMP is selftests/tools/compile_dump.c linked with the reference
# policy.o and compile.o (e.g. those of the main branch).
set -e
ref=$1
n=${2:-200}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$src/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$build/bpf" -I"$src/bpf" -I"$src/userspace" \
	$(pkg-config --cflags yaml-0.1) "$src/selftests/tools/compile_dump.c" \
	"$build/userspace/policy.o" "$build/userspace/policy_yaml.o" "$build/userspace/compile.o" \
	$(pkg-config --libs yaml-0.1) -o "$tmp/dump"
cd "$src"
set -- policies/*.yaml selftests/policies/*/*.yaml
for i in $(seq 1 "$n"); do
	python3 selftests/tools/randpolicy.py "$i" > "$tmp/r$i.yaml"
	python3 selftests/tools/randpolicy.py "$i" --dups > "$tmp/d$i.yaml"
	python3 selftests/tools/randpolicy.py "$i" --dense > "$tmp/x$i.yaml"
	set -- "$@" "$tmp/r$i.yaml" "$tmp/d$i.yaml" "$tmp/x$i.yaml"
done
python3 bench/genpolicy.py --rules 3000 --devices 500 --yaml "$tmp/gen1.yaml"
python3 bench/genpolicy.py --base net --rules 2000 --devices 102 --yaml "$tmp/gen2.yaml"
set -- "$@" "$tmp/gen1.yaml" "$tmp/gen2.yaml"
"$ref" "$@" > "$tmp/ref.out"
"$tmp/dump" "$@" > "$tmp/new.out"
if ! cmp -s "$tmp/ref.out" "$tmp/new.out"; then
	diff "$tmp/ref.out" "$tmp/new.out" | head -40
	echo "compile_equiv: FAIL ($# policies)"
	exit 1
fi
echo "compile_equiv: $# policies, $(grep -c '^pol ' "$tmp/new.out") policy entries, $(grep -c '^diag ' "$tmp/new.out") diagnostics: identical"
