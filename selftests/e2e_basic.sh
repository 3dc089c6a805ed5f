#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_basic.sh - policies/demo.yaml enforced on a real bridge: allowed,
# reply, denied, internet, gateway services, ARP and IPv6, in the attach
# mode BH_MODE (tc or xdp), with what arrives and what the counters say.
set -u
. "$(dirname "$0")/lib.sh"
need socat ping python3 nsenter
MODE=${BH_MODE:-tc}

bh_setup_demo_net
out=$(bh up -c "$BH_SRC/policies/demo.yaml" --mode "$MODE" 2>&1) &&
	ok "up --mode $MODE" || { fail "up --mode $MODE" "$out"; tap_done; exit 1; }
check "every port runs in $MODE mode" test "$(status_field "sorted(set(i['mode'] for i in s['interfaces']))")" = "['$MODE']"
check "four ports attached" test "$(status_field "len(s['interfaces'])")" = 4

C=${BH_IP4[camera]} N=${BH_IP4[nvr]} F=${BH_IP4[fridge]} L=${BH_IP4[laptop]}

# east-west, stateful
expect_pass "nvr -> camera tcp/554 connects (rule nvr-pulls-rtsp)" tcp_try nvr camera "$C" 554
expect_pass "nvr -> camera tcp/8005 connects (range 8000-8010)" tcp_try nvr camera "$C" 8005
expect_drop "nvr -> camera tcp/8011 dropped" drop_default tcp_try nvr camera "$C" 8011
expect_drop "camera -> nvr tcp/554 (reverse new flow) dropped" drop_default tcp_try camera nvr "$N" 554
expect_drop "fridge -> camera tcp/554 dropped" drop_default tcp_try fridge camera "$C" 554
expect_pass "laptop -> nvr tcp/443 connects" tcp_try laptop nvr "$N" 443
expect_drop "laptop -> nvr tcp/80 dropped" drop_default tcp_try laptop nvr "$N" 80
expect_pass "laptop pings the camera (laptop-pings)" ping_try laptop "$C"
expect_pass "laptop pings the fridge" ping_try laptop "$F"
expect_drop "fridge pings the camera: dropped" drop_default ping_try fridge "$C"
expect_drop "camera echo-request to the laptop (reverse) dropped" drop_default ping_try camera "$L"
before=$(counter pass_reply)
expect_pass "laptop pings nvr" ping_try laptop "$N"
after=$(counter pass_reply)
[ "$after" -gt "$before" ] && ok "echo replies counted as pass_reply" || fail "echo replies counted as pass_reply" "$before -> $after"

# internet
expect_pass "camera -> 203.0.113.10 tcp/443 (cameras-cloud)" tcp_try camera internet 203.0.113.10 443
expect_drop "camera -> 203.0.113.10 tcp/80 dropped (internet: deny)" drop_default tcp_try camera internet 203.0.113.10 80
expect_drop "camera -> 192.0.2.10 tcp/443 dropped" drop_default tcp_try camera internet 192.0.2.10 443
expect_pass "fridge -> 192.0.2.10 tcp/443 (appliances to internet)" tcp_try fridge internet 192.0.2.10 443
expect_pass "laptop -> 192.0.2.10 tcp/8080 (internet default allow)" tcp_try laptop internet 192.0.2.10 8080
expect_pass "laptop -> internet udp request gets its reply" udp_reply laptop internet 192.0.2.10 9999

# the gateway
for d in camera nvr fridge laptop; do
	expect_pass "$d -> gateway udp/53 (built-in dns)" udp_try "$d" gateway 192.168.50.1 53
done
expect_pass "fridge -> gateway tcp/53 (built-in dns)" tcp_try fridge gateway 192.168.50.1 53
expect_drop "fridge -> gateway tcp/22 dropped (defaults.gateway deny)" drop_default tcp_try fridge gateway 192.168.50.1 22
expect_pass "laptop pings the gateway (to: any includes it)" ping_try laptop 192.168.50.1
expect_drop "fridge pings the gateway: dropped" drop_default ping_try fridge 192.168.50.1

# ARP: devices that may not talk cannot even resolve each other
in_ns fridge ip neigh flush dev eth0 >/dev/null 2>&1
before=$(counter drop_default)
ping_try fridge "$C"
in_ns fridge ip neigh show "$C" dev eth0 | grep -q -E "lladdr" &&
	fail "fridge cannot resolve the camera's MAC" "$(in_ns fridge ip neigh show "$C")" ||
	ok "fridge cannot resolve the camera's MAC"
in_ns laptop ip neigh flush dev eth0 >/dev/null 2>&1
ping_try laptop "$C"
in_ns laptop ip neigh show "$C" dev eth0 | grep -q lladdr &&
	ok "laptop resolves the camera's MAC" || fail "laptop resolves the camera's MAC"
check "pass_arp counted" test "$(counter pass_arp)" -gt 0

# IPv6 east-west and neighbour discovery
expect_pass "nvr -> camera tcp/554 over IPv6" tcp_try nvr camera "${BH_IP6[camera]}" 554
expect_drop "fridge -> camera tcp/554 over IPv6 dropped" drop_default tcp_try fridge camera "${BH_IP6[camera]}" 554
check "pass_nd counted" test "$(counter pass_nd)" -gt 0

# multicast: mDNS only where a rule allows it
expect_pass "laptop -> mDNS 224.0.0.251:5353 reaches the fridge" udp_try laptop fridge 224.0.0.251 5353
expect_drop "fridge -> mDNS dropped (no rule)" drop_default udp_try fridge laptop 224.0.0.251 5353

# what bulkhead shows
devjson=$(bh devices --json)
check "devices lists the camera by name and group" python3 -c "
import json,sys
d={x['mac']:x for x in json.loads(sys.argv[1])}
c=d['02:00:00:00:00:11']
assert c['name']=='camera' and c['group']=='cameras' and c['packets']>0, c
f=d['02:00:00:00:00:31']
assert f['drops']>0, f" "$devjson"
check "status counts drops per reason" test "$(counter drop_default)" -gt 5
check "rule hits are counted" python3 -c "
import json,sys
s=json.loads(sys.argv[1])
h={r['rule']:r['packets'] for r in s['rules_hits']}
assert any('nvr-pulls-rtsp' in k and v>0 for k,v in h.items()), h" "$(bh status --json)"

out=$(bh down 2>&1) && ok "down" || fail "down" "$out"
check "down removed the pins" test ! -e "$BH_PIN"
check "down detached every link" test -z "$(ip -n "$GW" link show p11 | grep -o 'xdp')"
tap_done
