#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_basic.sh - policies/demo.yaml enforced on a real bridge: allowed,
# reply, denied, internet, gateway services, ARP and IPv6, in the attach
# mode BH_MODE (tc, xdp or nft), with what arrives and what the counters say.
set -u
. "$(dirname "$0")/../lib.sh"
need socat ping python3 nsenter
MODE=${BH_MODE:-tc}

bh_setup_demo_net
# --mode nft: bridged IP that does not reach table inet (the probe's
# bridge left without its nf_call options: BH_TEST_BRNF_OFF) is refused
if [ "$MODE" = nft ]; then
	rc_is 2 "up --mode nft refuses when bridged IP does not reach table inet" \
		"bridged IPv4 and IPv6 do not: .*table inet saw neither.*use --mode tc" \
		env BH_TEST_BRNF_OFF=1 nsenter --net=/run/netns/$GW "$BULKHEAD" \
		--pin-dir "$BH_PIN" --state-dir "$BH_STATE" up -c "$BH_SRC/policies/demo.yaml" --mode nft
	check "the refused up left Bulkhead down" test "$(bh status --json)" = '{"up":false}'
fi
out=$(bh up -c "$BH_SRC/policies/demo.yaml" --mode "$MODE" 2>&1) &&
	ok "up --mode $MODE" || { fail "up --mode $MODE" "$out"; tap_done; exit 1; }
# what the kernel offered, kept for status; in --mode nft bridged IP seen
# to reach table inet (the br_netfilter probe)
probe=$(status_field "s['kernel']['br_netfilter_probe']")
if [ "$MODE" = nft ]; then
	case $out in
	*"br_netfilter loaded, bridged IPv4/IPv6 reach table inet (probe)"*)
		ok "up says bridged IPv4/IPv6 reach table inet (probe)" ;;
	*)	fail "up says bridged IPv4/IPv6 reach table inet (probe)" "$out" ;;
	esac
	check "status: kernel.br_netfilter_probe is ipv4 ipv6" test "$probe" = "ipv4 ipv6"
	check "status says what the probe saw" sh -c "nsenter --net=/run/netns/$GW '$BULKHEAD' --pin-dir '$BH_PIN' --state-dir '$BH_STATE' status | grep -q 'br_netfilter loaded, bridged IPv4/IPv6 reach table inet (probe), when it came up'"
else
	check "status: no br_netfilter probe in $MODE mode" test "$probe" = ""
fi
check "every port runs in $MODE mode" test "$(status_field "sorted(set(i['mode'] for i in s['interfaces']))")" = "['$MODE']"
check "four ports attached" test "$(status_field "len(s['interfaces'])")" = 4

C=${BH_IP4[camera]} N=${BH_IP4[nvr]} F=${BH_IP4[fridge]} L=${BH_IP4[laptop]}
# the devices know each other's MACs: denied flows meet the IP verdict
bh_pin_neighbours

# east-west, stateful
expect_pass "nvr -> camera tcp/554 connects (rule nvr-pulls-rtsp)" cold tcp_try nvr camera "$C" 554
expect_pass "nvr -> camera tcp/8005 connects (range 8000-8010)" cold tcp_try nvr camera "$C" 8005
expect_drop "nvr -> camera tcp/8011 dropped" drop_default pinned tcp_try nvr camera "$C" 8011
expect_drop "camera -> nvr tcp/554 (reverse new flow) dropped" drop_default pinned tcp_try camera nvr "$N" 554
expect_drop "fridge -> camera tcp/554 dropped" drop_default pinned tcp_try fridge camera "$C" 554
expect_pass "laptop -> nvr tcp/443 connects" cold tcp_try laptop nvr "$N" 443
expect_drop "laptop -> nvr tcp/80 dropped" drop_default pinned tcp_try laptop nvr "$N" 80
expect_pass "laptop pings the camera (laptop-pings)" cold ping_try laptop "$C"
expect_pass "laptop pings the fridge" cold ping_try laptop "$F"
expect_drop "fridge pings the camera: dropped" drop_default pinned ping_try fridge "$C"
expect_drop "camera echo-request to the laptop (reverse) dropped" drop_default pinned ping_try camera "$L"
before=$(counter pass_reply)
expect_pass "laptop pings nvr" cold ping_try laptop "$N"
after=$(counter pass_reply)
[ "$after" -gt "$before" ] && ok "echo replies counted as pass_reply" || fail "echo replies counted as pass_reply" "$before -> $after"

# internet
expect_pass "camera -> 203.0.113.10 tcp/443 (cameras-cloud)" cold tcp_try camera internet 203.0.113.10 443
expect_drop "camera -> 203.0.113.10 tcp/80 dropped (internet: deny)" drop_default pinned tcp_try camera internet 203.0.113.10 80
expect_drop "camera -> 192.0.2.10 tcp/443 dropped" drop_default pinned tcp_try camera internet 192.0.2.10 443
expect_pass "fridge -> 192.0.2.10 tcp/443 (appliances to internet)" cold tcp_try fridge internet 192.0.2.10 443
expect_pass "laptop -> 192.0.2.10 tcp/8080 (internet default allow)" cold tcp_try laptop internet 192.0.2.10 8080
expect_pass "laptop -> internet udp request gets its reply" cold udp_reply laptop internet 192.0.2.10 9999

# the gateway
for d in camera nvr fridge laptop; do
	expect_pass "$d -> gateway udp/53 (built-in dns)" cold udp_try "$d" gateway 192.168.50.1 53
done
expect_pass "fridge -> gateway tcp/53 (built-in dns)" cold tcp_try fridge gateway 192.168.50.1 53
expect_drop "fridge -> gateway tcp/22 dropped (defaults.gateway deny)" drop_default pinned tcp_try fridge gateway 192.168.50.1 22
expect_pass "laptop pings the gateway (to: any includes it)" cold ping_try laptop 192.168.50.1
expect_drop "fridge pings the gateway: dropped" drop_default pinned ping_try fridge 192.168.50.1

# ARP: devices that may not talk cannot even resolve each other
resolves() {	# FROM ADDR: FROM's neighbour cache learns ADDR's MAC
	neigh_unpin "$1" "$2"
	ping_try "$1" "$2"
	[ -n "$(neigh_mac "$1" "$2")" ]
}
expect_drop "fridge cannot resolve the camera's MAC (ARP dropped)" drop_default pinned resolves fridge "$C"
before=$(counter pass_arp)
expect_pass "laptop resolves the camera's MAC" cold resolves laptop "$C"
check "pass_arp counted" test "$(counter pass_arp)" -gt "$before"
expect_pass "fridge resolves the gateway's MAC" cold resolves fridge 192.168.50.1
expect_drop "fridge cannot resolve the camera's IPv6 (ND dropped)" drop_default pinned resolves fridge "${BH_IP6[camera]}"
before=$(counter pass_nd)
expect_pass "nvr resolves the camera's IPv6" cold resolves nvr "${BH_IP6[camera]}"
check "pass_nd counted" test "$(counter pass_nd)" -gt "$before"
expect_pass "fridge resolves the gateway's IPv6" cold resolves fridge fd00:50::1
bh_pin_neighbours

# IPv6 east-west and neighbour discovery
C6=${BH_IP6[camera]}
expect_pass "nvr -> camera tcp/554 over IPv6" cold tcp_try nvr camera "$C6" 554
expect_drop "nvr -> camera tcp/8011 over IPv6 dropped" drop_default pinned tcp_try nvr camera "$C6" 8011
expect_drop "camera -> nvr tcp/554 over IPv6 (reverse) dropped" drop_default pinned tcp_try camera nvr "${BH_IP6[nvr]}" 554
expect_drop "fridge -> camera tcp/554 over IPv6 dropped" drop_default pinned tcp_try fridge camera "$C6" 554
# laptop-pings says proto icmp: ICMPv4 only (icmpv6 is its own proto, docs/policy.md)
expect_drop "laptop pings the camera over IPv6: dropped (icmp is not icmpv6)" drop_default pinned ping_try laptop "$C6"
expect_drop "fridge pings the camera over IPv6: dropped" drop_default pinned ping_try fridge "$C6"
expect_pass "fridge -> gateway udp/53 over IPv6" cold udp_try fridge gateway fd00:50::1 53
expect_drop "fridge -> gateway tcp/22 over IPv6 dropped" drop_default pinned tcp_try fridge gateway fd00:50::1 22

# frames whose headers sit outside the skb's linear part (trafgen's TX_RING):
# judged like any other, never dropped as malformed
if command -v trafgen >/dev/null; then
	mal=$(counter drop_malformed); rule=$(counter pass_rule)
	got=$(ring_tcp laptop nvr 443 50)
	check "50 ring-built SYNs laptop -> nvr tcp/443 arrive ($got)" test "$got" -ge 50
	check "... counted as pass_rule, none as malformed" \
		test "$(counter pass_rule)" -ge $((rule + 50)) -a "$(counter drop_malformed)" = "$mal"
	dd=$(counter drop_default)
	got=$(ring_tcp fridge camera 554 50)
	check "50 ring-built SYNs fridge -> camera tcp/554: none arrive ($got)" test "$got" = 0
	check "... counted as drop_default, none as malformed" \
		test "$(counter drop_default)" -ge $((dd + 50)) -a "$(counter drop_malformed)" = "$mal"
else
	skip "ring-built frames" "trafgen (netsniff-ng) not installed"
fi

# multicast: mDNS only where a rule allows it, and only to the groups that
# rule names (the copy to each port is judged on its egress)
expect_drop "laptop -> mDNS 224.0.0.251:5353 withheld from the fridge (not in the mdns rule)" \
	drop_flood cold udp_try laptop fridge 224.0.0.251 5353
expect_drop "fridge -> mDNS dropped (no rule)" drop_default pinned udp_try fridge laptop 224.0.0.251 5353

# what bulkhead shows
# per-device counters: bh_devstats, or in --mode nft the sets dev_stats/dev_drops
devjson=$(bh devices --json)
check "devices lists every device by name and group, with packets" python3 -c "
import json,sys
d={x['mac']:x for x in json.loads(sys.argv[1])}
for mac,name,group in (('11','camera','cameras'),('21','nvr','nvr'),('31','fridge','appliances'),('41','laptop','laptops')):
    x=d['02:00:00:00:00:'+mac]
    assert x['name']==name and x['group']==group and x['packets']>0 and x['bytes']>0 and not x['quarantined'], x
assert d['02:00:00:00:00:31']['drops']>0, d['02:00:00:00:00:31']" "$devjson"
devpkts() {	# MAC: packets counted for it in devices --json
	bh devices --json | python3 -c "import json,sys; print([x for x in json.load(sys.stdin) if x['mac']=='$1'][0]['packets'])"
}
before=$(devpkts 02:00:00:00:00:41)
in_ns laptop ping -c 5 -i 0.05 -W 1 "$N" >/dev/null 2>&1
after=$(devpkts 02:00:00:00:00:41)
check "5 echoes from the laptop counted on the laptop ($before -> $after)" test "$after" -ge $((before + 5))
check "status counts drops per reason" test "$(counter drop_default)" -gt 5
check "rule hits are counted" python3 -c "
import json,sys
s=json.loads(sys.argv[1])
h={r['rule']:r['packets'] for r in s['rules_hits']}
assert any('nvr-pulls-rtsp' in k and v>0 for k,v in h.items()), h" "$(bh status --json)"

# a UDP rule between devices, and its replies
dd=$(counter drop_default)
before=$(devpkts 02:00:00:00:00:41)
# in --mode nft an apply keeps what up's probe saw (the switch that fails
# any probe is on): the kernel is the same, and no namespace is made
out=$(BH_TEST_BRNF_OFF=1 bh apply "$BH_SRC/selftests/policies/e2e/udp.yaml" 2>&1) && ok "apply udp.yaml" || fail "apply udp.yaml" "$out"
[ "$MODE" = nft ] &&
	check "apply keeps kernel.br_netfilter_probe" test "$(status_field "s['kernel']['br_netfilter_probe']")" = "ipv4 ipv6"
# (--mode nft replaces its tables: their counters are carried over)
check "apply keeps the counters: drop_default $dd -> $(counter drop_default), the laptop's packets $before -> $(devpkts 02:00:00:00:00:41)" \
	test "$(counter drop_default)" -ge "$dd" -a "$(devpkts 02:00:00:00:00:41)" -ge "$before"
before=$(counter pass_reply)
expect_pass "laptop -> nvr udp/514 request gets its reply (rule laptop-syslog)" cold udp_reply laptop nvr "$N" 514
check "the nvr's udp answer counted as pass_reply" test "$(counter pass_reply)" -gt "$before"
expect_pass "laptop -> nvr udp/514 over IPv6 gets its reply" cold udp_reply laptop nvr "${BH_IP6[nvr]}" 514
expect_drop "nvr -> laptop udp/514 (reverse new flow) dropped" drop_default pinned udp_try nvr laptop "$L" 514
expect_drop "laptop -> nvr udp/515 dropped" drop_default pinned udp_try laptop nvr "$N" 515
expect_drop "fridge -> nvr udp/514 dropped" drop_default pinned udp_try fridge nvr "$N" 514
expect_pass "laptop pings the camera over IPv6 (rule laptop-pings6, icmpv6)" cold ping_try laptop "$C6"
expect_drop "camera echo-request to the laptop over IPv6 (reverse) dropped" drop_default pinned ping_try camera "${BH_IP6[laptop]}"
expect_drop "fridge still cannot ping the camera over IPv6" drop_default pinned ping_try fridge "$C6"

out=$(bh down 2>&1) && ok "down" || fail "down" "$out"
check "down removed the pins" test ! -e "$BH_PIN"
check "status after down: up false" test "$(bh status --json)" = '{"up":false}'
check "down detached XDP from every port" sh -c "! nsenter --net=/run/netns/$GW bpftool net show | grep -qE '^p[0-9]+'"
check "down removed the nftables tables" sh -c "! nsenter --net=/run/netns/$GW nft list tables | grep -q bulkhead"
expect_pass "after down nothing is judged: fridge -> camera tcp/554 connects" cold tcp_try fridge camera "$C" 554
tap_done
