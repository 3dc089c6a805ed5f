#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_restart.sh - enforcement never lapses: the controller SIGKILLed in
# the middle of apply and of up, again and again, and many alternating
# policy swaps, all with an allowed-in-both and a denied-in-both flow
# running; then a closed control plane: an unprivileged user can neither
# read nor change pins, state or quarantine.
#
# make check: 50 swaps and 30 kills; make check-stress (BH_STRESS=1): 1,000
# swaps and 300 kills. BH_SWAPS, BH_KILLS: other counts.
set -u
# bh: modes tc xdp
# bh: stress
. "$(dirname "$0")/../lib.sh"
need socat ping python3 nsenter setpriv
MODE=${BH_MODE:-tc}
if [ -n "${BH_STRESS:-}" ]; then
	SWAPS=${BH_SWAPS:-1000} KILLS=${BH_KILLS:-300}
else
	SWAPS=${BH_SWAPS:-50} KILLS=${BH_KILLS:-30}
fi
A=$BH_SRC/policies/demo.yaml
B=$BH_SRC/selftests/policies/e2e/swapped.yaml

bh_setup_demo_net
out=$(bh up -c "$A" --mode "$MODE" 2>&1) && ok "up --mode $MODE" || { fail "up" "$out"; tap_done; exit 1; }
C=${BH_IP4[camera]}

# laptop -> camera ping: allowed by both policies; fridge -> camera ping:
# denied by both. Both run through everything below.
start_streams() {	# COUNT: echoes each; they end by themselves, so
			# every answer still in flight is counted
	# not through in_ns: $! must be ping itself (ip netns exec execs it)
	ip netns exec "${BH_NS[laptop]}" ping -c "$1" -i 0.01 -W 1 "$C" > "$BH_TMP/allowed" 2>&1 &
	allowed_pid=$!
	ip netns exec "${BH_NS[fridge]}" ping -c "$1" -i 0.01 -W 1 "$C" > "$BH_TMP/denied" 2>&1 &
	denied_pid=$!
	sleep 0.3
}

streaming() {
	kill -0 $allowed_pid 2>/dev/null
}

finish_streams() {	# -> sent_a recv_a sent_d recv_d
	wait $allowed_pid $denied_pid 2>/dev/null
	read -r sent_a recv_a < <(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\1 \2/p' "$BH_TMP/allowed")
	read -r sent_d recv_d < <(sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\1 \2/p' "$BH_TMP/denied")
}

# 1. alternating swaps, every one while both streams run: a stream of 200
# echoes (2 s) at a time, the next started when one ends, however long the
# swaps take on a loaded machine; every echo of every stream counted
t0=$(date +%s.%N)
n=0 swap_failed= all_sent_a=0 all_recv_a=0 all_sent_d=0 all_recv_d=0
while [ $n -lt "$SWAPS" ] && [ -z "$swap_failed" ]; do
	start_streams 200
	while [ $n -lt "$SWAPS" ] && streaming; do
		n=$((n + 1))
		[ $((n % 2)) = 1 ] && p=$B || p=$A
		bh apply "$p" >/dev/null 2>&1 || { fail "swap $n failed"; swap_failed=1; break; }
	done
	finish_streams
	all_sent_a=$((all_sent_a + sent_a)) all_recv_a=$((all_recv_a + recv_a))
	all_sent_d=$((all_sent_d + sent_d)) all_recv_d=$((all_recv_d + recv_d))
done
t1=$(date +%s.%N)
bh apply "$A" >/dev/null 2>&1
sent_a=$all_sent_a recv_a=$all_recv_a sent_d=$all_sent_d recv_d=$all_recv_d
check "$n of $SWAPS alternating swaps in $(python3 -c "print(round($t1-$t0,1))") s, all with echoes running" \
	test "$n" = "$SWAPS" -a -z "$swap_failed"
check "allowed-in-both flow: $recv_a of $sent_a echoes answered" test "$recv_a" = "$sent_a" -a "$sent_a" -gt 20
check "denied-in-both flow: $recv_d of $sent_d answered" test "$recv_d" = 0 -a "$sent_d" -gt 20

# 2. SIGKILL in the middle of apply and of up
start_streams $((KILLS * 20))
killed=0
for i in $(seq 1 "$KILLS"); do
	[ $((i % 2)) = 1 ] && p=$B || p=$A
	# nsenter execs bulkhead: $! is the controller itself
	if [ $((i % 3)) = 0 ]; then
		nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" \
			up -c "$p" --mode "$MODE" >/dev/null 2>&1 &
	else
		nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" \
			apply "$p" >/dev/null 2>&1 &
	fi
	pid=$!
	sleep "0.0$((RANDOM % 6))"
	kill -9 $pid 2>/dev/null && killed=$((killed + 1))
	wait $pid 2>/dev/null
done
check "the controller was SIGKILLed mid-run $killed times" test "$killed" -gt 0
finish_streams
check "$KILLS kills: allowed-in-both flow, $recv_a of $sent_a answered" test "$recv_a" = "$sent_a" -a "$sent_a" -gt 20
check "$KILLS kills: denied-in-both flow, $recv_d of $sent_d answered" test "$recv_d" = 0 -a "$sent_d" -gt 20
gen=$(status_field "s['generation']")
check "after the kills the state is consistent: a policy is active (generation $gen)" test -n "$gen"
out=$(bh apply "$A" 2>&1) && ok "apply after the kills succeeds" || fail "apply after kills" "$out"
# whatever a killed apply wrote into the inactive generation is purged:
# every policy map holds the active generation's keys alone
left=
for m in bh_devices:8 bh_ips:20 bh_policy:8 bh_talk:8 bh_inet:24:4; do
	IFS=: read -r name ksz off <<<"$m"
	g=$(python3 "$BH_SRC/selftests/mapfill.py" count "$BH_PIN/maps/$name" "$ksz" "${off:-0}" | tr '\n' ' ')
	[ "$(wc -w <<<"$g")" -le 1 ] || left="$left $name: $g;"
done
check "after the kills and an apply, no map holds keys of the inactive generation${left:+ ($left)}" \
	test -z "$left"
expect_pass "nvr -> camera tcp/554 after the kills" tcp_try nvr camera "$C" 554
expect_drop "fridge -> camera tcp/554 after the kills" drop_default tcp_try fridge camera "$C" 554

# 3. controllers at once (an admin's apply while a daemon's runs): serialized
before=$(counter drop_nopolicy)
start_streams 300
applies=()
for i in $(seq 1 12); do
	[ $((i % 2)) = 1 ] && p=$B || p=$A
	bh apply "$p" >/dev/null 2>&1 &
	applies+=($!)
done
wait "${applies[@]}"
finish_streams
check "12 concurrent applies: allowed-in-both flow, $recv_a of $sent_a answered" test "$recv_a" = "$sent_a"
check "12 concurrent applies: denied-in-both flow, $recv_d of $sent_d answered" test "$recv_d" = 0
check "12 concurrent applies: no packet met a half-written policy (drop_nopolicy)" \
	test "$(counter drop_nopolicy)" = "$before"
bh apply "$A" >/dev/null 2>&1

# 4. a closed control plane
check "pin dir is 0700" test "$(stat -c %a "$BH_PIN")" = 700
check "state dir is 0700" test "$(stat -c %a "$BH_STATE")" = 700
check "the saved policy is 0600" test "$(stat -c %a "$BH_STATE/policy.yaml")" = 600
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
out=$(nobody nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" isolate 02:00:00:00:00:21 2>&1)
rc=$?
check "an unprivileged user cannot isolate (exit $rc)" test $rc -ne 0
check "... and nothing was isolated" test "$(status_field "s['quarantined']")" = 0
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups cat "$BH_STATE/policy.yaml" 2>&1)
check "an unprivileged user cannot read the applied policy" test $? -ne 0
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups ls "$BH_PIN/maps" 2>&1)
check "an unprivileged user cannot list the pinned maps" test $? -ne 0
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" apply "$B" 2>&1)
rc=$?
check "an unprivileged user cannot apply a policy (exit $rc)" test $rc -ne 0
expect_drop "the policy did not change" drop_default tcp_try fridge camera "$C" 554
tap_done
