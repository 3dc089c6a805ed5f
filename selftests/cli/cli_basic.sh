#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cli_basic.sh - the CLI without a network: --help for every subcommand,
# exit codes for bad input, check on every example policy and on the bad
# corpus, and a pin dir that is not on a bpffs refused.
set -u
cd "$(dirname "$0")/../.."
BULKHEAD=${BULKHEAD:-${BUILD:-build}/bulkhead}
n=0 failed=0

tap() {	# status name [detail]
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ $# -gt 2 ] && echo "#   $3"
		failed=$((failed + 1))
	fi
}

expect_rc() {	# want name cmd...
	local want=$1 name=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		tap ok "$name"
	else
		tap fail "$name" "exit $rc, wanted $want: $(echo "$out" | head -3)"
	fi
}

tmp=$(mktemp -d /tmp/bh-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export BULKHEAD_PIN_DIR=/sys/fs/bpf/bh-cli-$$ BULKHEAD_STATE_DIR=$tmp/state

expect_rc 0 "bulkhead --help" "$BULKHEAD" --help
for c in up down check apply diff isolate release status devices explain daemon flows learn; do
	out=$("$BULKHEAD" "$c" --help 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && echo "$out" | grep -q "^Usage: bulkhead $c"; then
		tap ok "bulkhead $c --help"
	else
		tap fail "bulkhead $c --help" "exit $rc: $out"
	fi
done
expect_rc 1 "no command: exit 1" "$BULKHEAD"
expect_rc 1 "unknown command: exit 1" "$BULKHEAD" frobnicate
expect_rc 1 "unknown option: exit 1" "$BULKHEAD" status --frob
expect_rc 1 "up --mode bogus: exit 1" "$BULKHEAD" up --mode bogus -c policies/demo.yaml
expect_rc 1 "check without a file: exit 1" "$BULKHEAD" check
expect_rc 1 "check of a missing file: exit 1" "$BULKHEAD" check "$tmp/nope.yaml"
expect_rc 1 "isolate a malformed MAC: exit 1" "$BULKHEAD" isolate 02:00:00:00:00
expect_rc 1 "isolate ff:ff:ff:ff:ff:ff: exit 1" "$BULKHEAD" isolate ff:ff:ff:ff:ff:ff
expect_rc 1 "isolate a multicast MAC: exit 1" "$BULKHEAD" isolate 01:00:5e:00:00:01
expect_rc 1 "isolate 00:00:00:00:00:00: exit 1" "$BULKHEAD" isolate 00:00:00:00:00:00
expect_rc 1 "release a MAC that is not isolated: exit 1" "$BULKHEAD" release 02:00:00:00:99:99
expect_rc 1 "isolate with two MACs: exit 1" "$BULKHEAD" isolate 02:00:00:00:00:11 02:00:00:00:00:21
expect_rc 1 "isolate --for without a unit: exit 1" "$BULKHEAD" isolate 02:00:00:00:00:11 --for 30
expect_rc 1 "isolate --for 0s: exit 1" "$BULKHEAD" isolate 02:00:00:00:00:11 --for 0s
expect_rc 1 "daemon --mode bogus: exit 1" "$BULKHEAD" daemon --mode bogus
expect_rc 1 "daemon with an argument: exit 1" "$BULKHEAD" daemon extra

# isolate while down is remembered for the next up
expect_rc 0 "isolate while down is saved" "$BULKHEAD" isolate 02:00:00:00:99:01 --reason "test reason"
if grep -q "02:00:00:00:99:01" "$tmp/state/quarantine" 2>/dev/null; then
	tap ok "quarantine file holds the MAC"
else
	tap fail "quarantine file holds the MAC"
fi
mode=$(stat -c %a "$tmp/state")
[ "$mode" = 700 ] && tap ok "state dir is 0700" || tap fail "state dir is 0700" "mode $mode"
mode=$(stat -c %a "$tmp/state/quarantine")
[ "$mode" = 600 ] && tap ok "quarantine file is 0600" || tap fail "quarantine file is 0600" "mode $mode"
expect_rc 0 "release while down" "$BULKHEAD" release 02:00:00:00:99:01
expect_rc 0 "isolate --for 1h30m while down is saved" "$BULKHEAD" isolate 02:00:00:00:99:02 --for 1h30m
read -r _ since until _ < <(grep "02:00:00:00:99:02" "$tmp/state/quarantine")
if [ -n "${until:-}" ] && [ $((until - since)) -ge 5400 ] && [ $((until - since)) -le 5401 ]; then
	tap ok "... with its end 5400 s after its start (rounded up to a second)"
else
	tap fail "... with its end 5400 s after its start" "since ${since:-?} until ${until:-?}"
fi
expect_rc 0 "release it" "$BULKHEAD" release 02:00:00:00:99:02

out=$("$BULKHEAD" status 2>&1)
echo "$out" | grep -q "down" && tap ok "status while down says down" || tap fail "status while down" "$out"
out=$("$BULKHEAD" status --json 2>&1)
[ "$out" = '{"up":false}' ] && tap ok "status --json while down" || tap fail "status --json while down" "$out"

for f in policies/*.yaml; do
	expect_rc 0 "check $f" "$BULKHEAD" check "$f"
done
for f in selftests/policies/bad/*.yaml; do
	[ -e "$f" ] || continue
	out=$("$BULKHEAD" check "$f" 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq 1 ] && echo "$out" | grep -qE "^$f:[0-9]+:[0-9]+: "; then
		tap ok "check $f: exit 1 with file:line:col"
	else
		tap fail "check $f: exit 1 with file:line:col" "exit $rc: $(echo "$out" | head -2)"
	fi
done

# explain: the reference evaluator's answer and the rule that decides
out=$("$BULKHEAD" explain -c policies/demo.yaml nvr camera tcp/554 2>&1)
echo "$out" | grep -q "PASS" && echo "$out" | grep -q "nvr-pulls-rtsp" &&
	tap ok "explain nvr camera tcp/554: PASS by nvr-pulls-rtsp" ||
	tap fail "explain nvr camera tcp/554" "$out"
out=$("$BULKHEAD" explain -c policies/demo.yaml fridge camera tcp/554 2>&1)
echo "$out" | grep -q "DROP" && echo "$out" | grep -q "defaults.east_west is deny" &&
	tap ok "explain fridge camera tcp/554: DROP by the east_west default" ||
	tap fail "explain fridge camera tcp/554" "$out"
out=$("$BULKHEAD" explain -c policies/demo.yaml camera 203.0.113.10 tcp/443 2>&1)
echo "$out" | grep -q "PASS" && echo "$out" | grep -q "cameras-cloud" &&
	tap ok "explain camera 203.0.113.10 tcp/443: PASS by cameras-cloud" ||
	tap fail "explain camera internet" "$out"
expect_rc 1 "explain with an unknown source: exit 1" "$BULKHEAD" explain -c policies/demo.yaml nobody camera tcp/80
expect_rc 1 "explain tcp without a port: exit 1" "$BULKHEAD" explain -c policies/demo.yaml fridge camera tcp
expect_rc 1 "explain sctp: exit 1" "$BULKHEAD" explain -c policies/demo.yaml fridge camera sctp/1

# a pin dir that is not on a bpffs is refused
out=$("$BULKHEAD" --pin-dir "$tmp/pins" up -c policies/demo.yaml 2>&1)
rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "not on a bpf filesystem"; then
	tap ok "a pin dir off bpffs is refused"
else
	tap fail "a pin dir off bpffs is refused" "exit $rc: $out"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
