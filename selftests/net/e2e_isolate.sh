#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_isolate.sh - quarantine: a live TCP session stops at once, new flows
# both ways fail, quarantine.allow services still work, release restores,
# the quarantine survives down/up, the nftables lock holds with the BPF
# programs gone, and bad MACs are refused.
set -u
. "$(dirname "$0")/../lib.sh"
need socat ping python3 nsenter nft
MODE=${BH_MODE:-tc}
CAM=02:00:00:00:00:11

bh_setup_demo_net
out=$(bh up -c "$BH_SRC/policies/demo.yaml" --mode "$MODE" 2>&1) &&
	ok "up --mode $MODE" || { fail "up" "$out"; tap_done; exit 1; }
C=${BH_IP4[camera]}

# live_start PORT FILE: a live session, the nvr streams a numbered line
# every 50 ms to the camera's PORT, the camera writes them to FILE
live_start() {
	in_ns camera timeout 20 socat -u TCP-LISTEN:$1,reuseaddr "OPEN:$2,creat,trunc" &
	listener=$!
	wait_until "$(scaled 1000)" listening camera "TCP-LISTEN:$1" "$listener"
	(for i in $(seq 1 300); do echo "line $i"; nap 0.05; done) |
		in_ns nvr timeout 20 socat -u - "TCP:$C:$1" 2>/dev/null &
	streamer=$!
}
ct_flows() {	# PORT: the gateway's kernel conntrack entries of the live session
	nsenter --net=/run/netns/$GW grep -c "dst=$C sport=[0-9]* dport=$1 " /proc/net/nf_conntrack
}
live=$BH_TMP/live
bh_cold nvr camera	# the session starts from cold caches: its ARP must pass too
live_start 8001 "$live"
more_lines() {	# FILE N: more than N lines (none while the file is not there)
	local n
	n=$(wc -l 2>/dev/null < "$1")
	test "${n:-0}" -gt "$2"
}
wait_until "$(scaled 3000)" more_lines "$live" 10
n0=$(wc -l < "$live")
check "the live session flows before isolate ($n0 lines)" test "$n0" -gt 10
[ "$MODE" = nft ] &&	# only nftables makes the kernel track bridged flows
	check "the kernel tracks the live session before isolate" test "$(ct_flows 8001)" -ge 1

# the lock's bridge hooks exist only while a device is quarantined: none
# yet, so bridged frames pay no nftables traversal
lock_hooks() {
	ip netns exec $GW nft list table bridge bulkhead | grep -Ec 'hook (forward|input|output) '
}
check "no quarantine: the lock has no bridge hook" test "$(lock_hooks)" = 0
out=$(bh isolate $CAM --reason "e2e test" 2>&1) && ok "isolate $CAM" || fail "isolate" "$out"
check "isolated: the lock hooks forward, input and output" test "$(lock_hooks)" = 3
sleep 0.3
n1=$(wc -l < "$live")
sleep 1.5
n2=$(wc -l < "$live")
# at most what was in flight when isolate returned
check "the live session stopped ($n1 -> $n2 lines in 1.5 s)" test "$n2" -le $((n1 + 1))
check "isolate deleted the kernel's conntrack entries of the session" test "$(ct_flows 8001)" = 0
check "drop_quarantine counted" test "$(counter drop_quarantine)" -gt 0
check "status shows 1 quarantined" test "$(status_field "s['quarantined']")" = 1
kill $listener $streamer 2>/dev/null
check "devices marks the camera" python3 -c "
import json,sys
d={x['mac']:x for x in json.loads(sys.argv[1])}
assert d['$CAM']['quarantined'] is True" "$(bh devices --json)"

expect_drop "new nvr -> camera tcp/554 dropped" drop_quarantine pinned tcp_try nvr camera "$C" 554
expect_drop "camera -> internet dropped" drop_quarantine pinned tcp_try camera internet 203.0.113.10 443
expect_drop "laptop pings the isolated camera: dropped" drop_quarantine pinned ping_try laptop "$C"
expect_pass "the camera's DNS to the gateway still works (quarantine.allow)" cold udp_try camera gateway 192.168.50.1 53
check "pass_qsvc counted" test "$(counter pass_qsvc)" -gt 0
expect_drop "the camera's ping of the gateway is dropped" drop_quarantine pinned ping_try camera 192.168.50.1

# the second lock: nftables alone keeps it cut off, even from the gateway
check "nft set holds the camera" sh -c "ip netns exec $GW nft list set bridge bulkhead quarantine | grep -q $CAM"
# unpinning the links detaches them: nothing else holds them. Before 6.6
# (clsact, no tc links) the tc programs are filters that outlive their
# marker pins: removed by hand, as an admin would (tc filter del)
for l in $(ls "$BH_PIN/links"); do rm -f "$BH_PIN/links/$l"; done
for p in $(ip -n "$GW" -o link show master br-lan | awk -F': ' '{print $2}' | cut -d@ -f1); do
	for dir in ingress egress; do
		[ -z "$(tc -n "$GW" filter show dev "$p" "$dir" 2>/dev/null)" ] ||
			tc -n "$GW" filter del dev "$p" "$dir"
	done
done
before=$(counter drop_quarantine)
if udp_try camera nvr "${BH_IP4[nvr]}" 7000; then
	fail "with the BPF programs gone, nftables still drops camera -> nvr"
else
	ok "with the BPF programs gone, nftables still drops camera -> nvr"
fi
if [ "${BH_MODE:-tc}" = nft ]; then
	skip "the BPF programs are really gone" "--mode nft runs no BPF program; status counts nftables drops too"
else
check "the BPF programs are really gone (their counter did not move)" \
	test "$(counter drop_quarantine)" = "$before"
fi
if ping_try gateway "$C"; then
	fail "the gateway itself cannot reach the isolated camera"
else
	ok "the gateway itself cannot reach the isolated camera"
fi
expect_pass "with BPF gone, the camera's DNS still works" cold udp_try camera gateway 192.168.50.1 53
out=$(bh up -c "$BH_SRC/policies/demo.yaml" --mode "$MODE" 2>&1) && ok "up again re-attaches" || fail "up again" "$out"

out=$(bh release $CAM 2>&1) && ok "release $CAM" || fail "release" "$out"
# the devices' neighbour caches marked each other failed during the
# quarantine: allow them a few seconds to resolve again
again() {
	for _ in 1 2 3 4; do
		tcp_try nvr camera "$C" 554 && return 0
		sleep 1
	done
	return 1
}
expect_pass "nvr -> camera tcp/554 works again" cold again
check "nft set is empty after release" sh -c "! ip netns exec $GW nft list set bridge bulkhead quarantine | grep -q $CAM"
check "released the last one: the lock's hooks are gone" test "$(lock_hooks)" = 0

# persistence across down/up (a reboot keeps the state dir)
bh isolate $CAM >/dev/null 2>&1
bh down >/dev/null 2>&1
check "quarantine saved in the state dir" grep -q "$CAM" "$BH_STATE/quarantine"
out=$(bh up -c "$BH_SRC/policies/demo.yaml" --mode "$MODE" 2>&1) && ok "up after down" || fail "up after down" "$out"
expect_drop "the camera is still isolated after down/up" drop_quarantine pinned tcp_try nvr camera "$C" 554
bh release $CAM >/dev/null 2>&1

# a device with no bound address: its live flows are found through the
# addresses it used (BPF conntrack) and the gateway's neighbour table
sed 's/name: camera, ip: \[[^]]*\]/name: camera/' "$BH_SRC/policies/demo.yaml" > "$BH_TMP/unbound.yaml"
out=$(bh up -c "$BH_TMP/unbound.yaml" --mode "$MODE" 2>&1) &&
	ok "up with the camera unbound" || fail "up unbound" "$out"
live_start 8002 "$live.2"
ping_try gateway "$C"	# the gateway has talked to the camera: a neighbour entry
sleep 1
[ "$MODE" = nft ] &&
	check "the kernel tracks the unbound camera's session" test "$(ct_flows 8002)" -ge 1
out=$(bh isolate $CAM 2>&1) && ok "isolate the unbound camera" || fail "isolate unbound" "$out"
n1=$(wc -l < "$live.2")
sleep 1.5
check "its live session stopped ($n1 -> $(wc -l < "$live.2") lines in 1.5 s)" \
	test "$(wc -l < "$live.2")" -le $((n1 + 1))
check "isolate deleted the kernel's conntrack entries of the unbound camera" test "$(ct_flows 8002)" = 0
kill $listener $streamer 2>/dev/null
bh release $CAM >/dev/null 2>&1
out=$(bh up -c "$BH_SRC/policies/demo.yaml" --mode "$MODE" 2>&1) || fail "up demo again" "$out"

# a device not in the policy can be isolated before it is ever seen
out=$(bh isolate 02:00:00:00:99:99 2>&1) && ok "isolate a MAC never seen" || fail "isolate unseen" "$out"
bh release 02:00:00:00:99:99 >/dev/null 2>&1

for mac in ff:ff:ff:ff:ff:ff 01:00:5e:00:00:01 00:00:00:00:00:00 02:00:00:00:00:01 nonsense; do
	bh isolate $mac >/dev/null 2>&1
	rc=$?
	check "isolate $mac refused with exit 1" test $rc = 1
done
tap_done
