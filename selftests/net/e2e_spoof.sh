#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_spoof.sh - a device forging what it is: IP sources bound to another
# MAC (or the gateway's, or none of its own), gratuitous ARP, forged ARP
# replies and unsolicited neighbour advertisements claiming other devices'
# or the gateway's addresses, the gateway's MAC as source, rogue router
# advertisements and DHCP offers. Each attack is first shown to work on
# the bare bridge (the control), then to fail under bulkhead: nothing
# arrives, no neighbour cache is poisoned, and drop_spoof / drop_rogue rise.
set -u
. "$(dirname "$0")/../lib.sh"
need socat ping python3 nsenter
MODE=${BH_MODE:-tc}

bh_setup_demo_net
bh_add_device stranger 51		# not in the policy: group unknown
C=${BH_IP4[camera]} F=${BH_IP4[fridge]} L=${BH_IP4[laptop]}
GWIP=192.168.50.1 GWMAC=02:00:00:00:00:01
FMAC=${BH_MAC[fridge]} CMAC=${BH_MAC[camera]}
C6=${BH_IP6[camera]}
# the victim believes what it hears: unsolicited ARP accepted, no lock
# time on updates, router advertisements accepted (the defaults for a host)
sysctl_ns "${BH_NS[laptop]}" net.ipv4.conf.eth0.arp_accept=1
sysctl_ns "${BH_NS[laptop]}" net.ipv4.neigh.eth0.locktime=0
sysctl_ns "${BH_NS[laptop]}" net.ipv6.conf.eth0.accept_ra=1
sysctl_ns "${BH_NS[laptop]}" net.ipv6.conf.eth0.forwarding=0

# the laptop's cache holds the true MACs of the camera and the gateway
learn() {
	in_ns laptop ip neigh flush dev eth0 >/dev/null 2>&1
	ping_try laptop "$C"; ping_try laptop "$GWIP"
	ping_try laptop "$C6"; ping_try laptop fd00:50::1; ping_try laptop "$F"
	# an entry takes another MAC only from a frame a jiffy (4 ms here)
	# after its last update, even with locktime 0: an attack sent at once
	# failed 3 times in 3
	nap 0.05
}

# ATTACKS: each returns 0 when it worked
garp_camera() {		# fridge: "192.168.50.11 is at <fridge>" (gratuitous request)
	raw_send fridge arp op=request spa="$C" tpa="$C" count=3
	sleep 0.3
	[ "$(neigh_mac laptop "$C")" = "$FMAC" ]
}
arp_reply_camera() {	# fridge: gratuitous reply for the camera's address
	raw_send fridge arp op=reply spa="$C" tpa="$C" count=3
	sleep 0.3
	[ "$(neigh_mac laptop "$C")" = "$FMAC" ]
}
arp_reply_gateway() {	# fridge -> laptop unicast: "the gateway is at <fridge>"
	raw_send fridge arp op=reply dst="${BH_MAC[laptop]}" spa="$GWIP" \
		tha="${BH_MAC[laptop]}" tpa="$L" count=3
	sleep 0.3
	[ "$(neigh_mac laptop "$GWIP")" = "$FMAC" ]
}
arp_other_sha() {	# the fridge's own address, announced with another MAC
	raw_send fridge arp op=request sha=02:00:00:00:00:99 spa="$F" tpa="$F" count=3
	sleep 0.3
	[ "$(neigh_mac laptop "$F")" = 02:00:00:00:00:99 ]
}
gw_mac_source() {	# a frame with the gateway's MAC as source
	raw_send fridge arp op=request src=$GWMAC sha=$GWMAC spa="$F" tpa="$F" count=3
	sleep 0.3
	[ "$(neigh_mac laptop "$F")" = $GWMAC ]
}
na_camera() {		# fridge: unsolicited NA, override, for the camera's IPv6
	raw_send fridge na target="$C6" count=3
	sleep 0.3
	[ "$(neigh_mac laptop "$C6")" = "$FMAC" ]
}
na_gateway() {		# ... for the gateway's IPv6
	raw_send fridge na target=fd00:50::1 count=3
	sleep 0.3
	[ "$(neigh_mac laptop fd00:50::1)" = "$FMAC" ]
}
rogue_ra() {		# fridge: "I am a router, here is fd00:66::/64"
	in_ns laptop ip -6 route flush proto ra >/dev/null 2>&1
	raw_send fridge ra prefix=fd00:66::/64 count=2
	sleep 0.5
	[ -n "$(in_ns laptop ip -6 route show default proto ra)" ] ||
		in_ns laptop ip -6 addr show dev eth0 | grep -q fd00:66:
}
unrogue() {		# what a successful rogue RA left on the laptop
	local a
	in_ns laptop ip -6 route flush proto ra >/dev/null 2>&1
	for a in $(in_ns laptop ip -6 -o addr show dev eth0 | grep -oE 'fd00:66:[0-9a-f:]+/64'); do
		in_ns laptop ip -6 addr del "$a" dev eth0
	done
	in_ns laptop ip -6 route del fd00:66::/64 dev eth0 >/dev/null 2>&1
	true
}
rogue_dhcp() {		# fridge: a DHCP offer (udp 67 -> 68, broadcast) to all
	local out=$BH_TMP/dhcp.$RANDOM token=offer-$RANDOM lpid
	in_ns laptop timeout 2 socat -u UDP4-RECV:68,reuseaddr "OPEN:$out,creat,trunc" 2>/dev/null &
	lpid=$!
	sleep 0.3
	echo "$token" | in_ns fridge timeout 1 socat -u - \
		UDP4-DATAGRAM:255.255.255.255:68,broadcast,bind=:67,reuseaddr 2>/dev/null
	sleep 0.3
	kill $lpid 2>/dev/null
	wait $lpid 2>/dev/null
	grep -q "$token" "$out" 2>/dev/null
}
# forged IP sources: a DNS query to the gateway (a service every device may use)
dns_from() {		# DEVICE SRC-IP
	case $2 in
	*:*) udp_try "$1" gateway fd00:50::1 53 "$2" ;;
	*) udp_try "$1" gateway "$GWIP" 53 "$2" ;;
	esac
}

# ---- controls: on the bare bridge, every attack works --------------------------
# control NAME ATTACK...: the attack works without bulkhead, within 3 tries
# (CI once saw the laptop's cache keep the old MAC on a busy machine)
control() {
	local name=$1 try
	shift
	for try in 1 2 3; do
		learn
		if "$@"; then
			ok "control (no bulkhead): $name works"
			return
		fi
	done
	fail "control (no bulkhead): $name works" "the attack failed 3 times even without bulkhead: the test below proves nothing"
}
control "gratuitous ARP for the camera's IP poisons the laptop" garp_camera
control "gratuitous ARP reply for the camera's IP" arp_reply_camera
control "forged ARP reply for the gateway's IP" arp_reply_gateway
control "ARP with a sender MAC not the frame's source" arp_other_sha
control "the gateway's MAC as source" gw_mac_source
control "unsolicited NA for the camera's IPv6" na_camera
control "unsolicited NA for the gateway's IPv6" na_gateway
control "rogue router advertisement" rogue_ra
unrogue
control "rogue DHCP offer" rogue_dhcp
control "DNS query from the camera's IP" dns_from fridge "$C"

# ---- under bulkhead --------------------------------------------------------------
out=$(bh up -c "$BH_SRC/policies/demo.yaml" --mode "$MODE" 2>&1) &&
	ok "up --mode $MODE" || { fail "up --mode $MODE" "$out"; tap_done; exit 1; }

# IP sources
expect_pass "fridge -> gateway udp/53 from its own IPv4" cold dns_from fridge "$F"
expect_pass "fridge -> gateway udp/53 from its own IPv6" cold dns_from fridge "${BH_IP6[fridge]}"
expect_drop "fridge -> gateway udp/53 from the camera's IPv4: dropped" drop_spoof dns_from fridge "$C"
expect_drop "fridge -> gateway udp/53 from the camera's IPv6: dropped" drop_spoof dns_from fridge "$C6"
expect_drop "fridge -> gateway udp/53 from the gateway's IPv4: dropped" drop_spoof dns_from fridge "$GWIP"
expect_drop "fridge -> gateway udp/53 from an unbound IPv4 (.99): dropped" drop_spoof dns_from fridge 192.168.50.99
expect_drop "fridge -> gateway udp/53 from an unbound IPv6: dropped" drop_spoof dns_from fridge fd00:50::99
expect_pass "stranger (unknown group, nothing bound) -> gateway udp/53 from its own IPv4" cold dns_from stranger "${BH_IP4[stranger]}"
expect_drop "stranger -> gateway udp/53 from the camera's IPv4: dropped" drop_spoof dns_from stranger "$C"
expect_drop "fridge -> internet udp from the laptop's IPv4 (whose internet is open): dropped" drop_spoof \
	udp_try fridge internet 192.0.2.10 9999 "$L"

# ARP / ND
attack() {	# name counter attack
	local name=$1 ctr=$2
	shift 2
	learn
	expect_drop "$name" "$ctr" "$@"
}
attack "gratuitous ARP for the camera's IP: dropped, the laptop's cache keeps the camera" drop_spoof garp_camera
attack "gratuitous ARP reply for the camera's IP: dropped" drop_spoof arp_reply_camera
attack "forged ARP reply for the gateway's IP: dropped" drop_spoof arp_reply_gateway
attack "ARP with a sender MAC not the frame's source: dropped" drop_spoof arp_other_sha
attack "the gateway's MAC as source: dropped" drop_spoof gw_mac_source
attack "unsolicited NA for the camera's IPv6: dropped" drop_spoof na_camera
attack "unsolicited NA for the gateway's IPv6: dropped" drop_spoof na_gateway
attack "rogue router advertisement: dropped, no route or address on the laptop" drop_rogue rogue_ra
unrogue
attack "rogue DHCP offer: dropped" drop_rogue rogue_dhcp
check "the laptop still maps the camera to the camera" test "$(neigh_mac laptop "$C")" = "$CMAC"

# what a device may announce: its own addresses
before=$(counter pass_arp)
raw_send fridge arp op=request spa="$F" tpa="$F" count=2
sleep 0.3
check "the fridge's gratuitous ARP for its own IP passes (pass_arp rises)" test "$(counter pass_arp)" -gt "$before"
before=$(counter pass_nd)
raw_send fridge na target="${BH_IP6[fridge]}" count=2
sleep 0.3
check "the fridge's unsolicited NA for its own IPv6 passes (pass_nd rises)" test "$(counter pass_nd)" -gt "$before"
# GSO/GRO super-packets: a device's TSO path hands the gateway's port one
# skb of up to 64 KiB with one set of headers (in xdp mode the frame is
# judged as the driver gives it). Not one byte of a denied flow may pass,
# and an allowed bulk transfer arrives whole.
if command -v ethtool >/dev/null; then
	PY=$BH_SRC/selftests/net/dataplane_diff.py
	ip netns exec "$GW" ethtool -K p41 gro on >/dev/null 2>&1
	nsenter --net="/run/netns/${BH_NS[camera]}" python3 "$PY" listen packet "$BH_TMP/gro-cam" \
		> "$BH_TMP/gro-cam.ready" 2>&1 &
	lst=$!
	for _ in $(seq 50); do grep -qs ready "$BH_TMP/gro-cam.ready" && break; sleep 0.1; done
	ctr_bytes() { bh status --json | python3 -c "import json,sys; print(json.load(sys.stdin)['counters']['$1']['bytes'])"; }
	pk=$(counter drop_default) by=$(ctr_bytes drop_default)
	sent=$(in_ns fridge python3 "$PY" segments "$F" "$C" "$CMAC" 554 10 2>&1 && echo sent)
	sleep 0.5
	kill -TERM $lst; wait $lst 2>/dev/null
	got=$(grep -c . "$BH_TMP/gro-cam" 2>/dev/null)
	dpk=$(( $(counter drop_default) - pk )) dby=$(( $(ctr_bytes drop_default) - by ))
	check "10 super-packets (GSO, 56 KB each) were sent by the fridge" test "$sent" = sent
	check "... of a denied flow (fridge -> camera tcp/554): not one segment arrives ($got)" \
		test "${got:-0}" = 0
	check "... every byte counted as dropped ($dby bytes in $dpk verdicts)" \
		test "$dby" -ge $((10 * 40 * 1400))
	if [ "$MODE" != xdp ]; then
		check "... judged whole, once per super-packet ($MODE: $dpk verdicts)" test "$dpk" -le 20
	fi
	head -c 4000000 /dev/urandom > "$BH_TMP/bulk"
	in_ns nvr timeout 20 socat -u TCP6-LISTEN:443,reuseaddr,ipv6only=0 "OPEN:$BH_TMP/bulk.got,creat,trunc" &
	rcv=$!
	sleep 0.3
	in_ns laptop timeout 20 socat -u "OPEN:$BH_TMP/bulk" "TCP:${BH_IP4[nvr]}:443"
	wait $rcv
	check "an allowed 4 MB transfer laptop -> nvr tcp/443 (TSO, GRO on) arrives whole" \
		cmp -s "$BH_TMP/bulk" "$BH_TMP/bulk.got"
else
	skip "GRO super-packets" "ethtool not installed"
fi
tap_done
