#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_nft_l2.sh - --mode nft with a MAC-only policy (no member has `ip:`):
# what happens below the flows.
#   A. cold neighbour caches: an allowed flow resolves its peer (broadcast
#      ARP request, NS to the solicited-node group for an unbound target);
#      a device whose group talks to nobody still cannot ARP-scan.
#   C. address claims: an unbound address belongs to the first MAC that
#      used it; another device's gratuitous ARP, NA or forged ARP reply
#      for it is drop_spoof (each attack first shown working without
#      bulkhead).
#   B. flooded frames judged per destination port (drop_flood).
#   D. ICMP errors about a flow only from the flow's responder.
set -u
# bh: modes nft
. "$(dirname "$0")/../lib.sh"
need socat ping python3 nsenter arping arpspoof nft tcpdump nstat

bh_setup_demo_net
C=${BH_IP4[camera]} N=${BH_IP4[nvr]} F=${BH_IP4[fridge]} L=${BH_IP4[laptop]}
C6=${BH_IP6[camera]} N6=${BH_IP6[nvr]}
GWIP=192.168.50.1
NMAC=${BH_MAC[nvr]} FMAC=${BH_MAC[fridge]}
POL=$BH_TMP/l2.yaml
cat > "$POL" <<'EOF'
version: 1
interfaces: [br-lan]
defaults: {east_west: deny, internet: allow, unknown: unknown}
groups:
  cameras: {members: [{mac: "02:00:00:00:00:11", name: camera}]}
  nvr: {members: [{mac: "02:00:00:00:00:21", name: nvr}]}
  appliances: {members: [{mac: "02:00:00:00:00:31", name: fridge}]}
  laptops: {members: [{mac: "02:00:00:00:00:41", name: laptop}]}
  unknown: {}
rules:
  - {name: nvr-pulls-rtsp, from: nvr, to: cameras, proto: tcp, ports: [554]}
  - {name: mdns, from: [nvr, laptops], to: multicast, proto: udp, ports: [5353]}
EOF
# the victims believe what they hear (as in e2e_spoof)
for d in laptop nvr camera; do
	sysctl_ns "${BH_NS[$d]}" net.ipv4.conf.eth0.arp_accept=1
	sysctl_ns "${BH_NS[$d]}" net.ipv4.neigh.eth0.locktime=0
done
sysctl_ns "$GW" net.ipv4.neigh.br-lan.locktime=0
# every group-addressed frame floods (no MLD snooping): what reaches a port
# is the rules' doing alone
ip -n "$GW" link set br-lan type bridge mcast_snooping 0
sysctl_ns "${BH_NS[fridge]}" net.ipv4.ip_nonlocal_bind=1	# arping -s another's address

# the link-local address of a device (EUI-64 from its MAC)
ll_of() {
	ip -n "${BH_NS[$1]}" -6 -o addr show dev eth0 scope link |
		sed -nE 's/.*inet6 ([0-9a-f:]+)\/64.*/\1/p'
}
NLL=$(ll_of nvr)

flush_all() {
	local d
	for d in "${BH_DEVICES[@]}"; do
		ip -n "${BH_NS[$d]}" neigh flush all >/dev/null 2>&1
	done
	ip -n "$GW" neigh flush all >/dev/null 2>&1
}

# nft counter value (table bridge): drop_flood is not in the ABI's reasons
nft_ctr() {	# NAME
	nsenter --net="/run/netns/$GW" nft list counter bridge bulkhead "$1" 2>/dev/null |
		sed -nE 's/.*packets ([0-9]+).*/\1/p'
}

# ---- attacks (0 when they worked) ------------------------------------------------
# the nvr has used its addresses (its claim, under bulkhead)
nvr_speaks() {
	ping_try nvr "$GWIP"; ping_try nvr fd00:50::1
	ip netns exec "${BH_NS[nvr]}" ping -c1 -W1 -I eth0 ff02::1 >/dev/null 2>&1
	in_ns laptop ip neigh replace "$N" lladdr "$NMAC" dev eth0 nud stale
	in_ns laptop ip neigh replace "$NLL" lladdr "$NMAC" dev eth0 nud stale
	ip -n "$GW" neigh replace "$N" lladdr "$NMAC" dev br-lan nud stale
}
garp_nvr() {		# fridge: arping -U -s NVR_IP NVR_IP (gratuitous request)
	nvr_speaks
	in_ns fridge arping -q -U -c 3 -w 2 -I eth0 -s "$N" "$N" >/dev/null 2>&1
	sleep 0.3
	[ "$(neigh_mac laptop "$N")" = "$FMAC" ]
}
na_nvr_ll() {		# fridge: unsolicited NA to ff02::1 for the nvr's link-local
	nvr_speaks
	raw_send fridge na target="$NLL" count=3
	sleep 0.3
	[ "$(neigh_mac laptop "$NLL")" = "$FMAC" ]
}
arpspoof_gw() {		# fridge: arpspoof -t GATEWAY_IP NVR_IP (replies to the gateway)
	local pid
	nvr_speaks
	# SIGKILL: on SIGTERM arpspoof re-announces the true MAC
	in_ns fridge timeout -s KILL 4 arpspoof -i eth0 -t "$GWIP" "$N" >/dev/null 2>&1 &
	pid=$!
	sleep 3.5
	wait $pid 2>/dev/null
	[ "$(neigh_mac gateway "$N")" = "$FMAC" ]
}

# B. what a device hears of another's group-addressed frames
# heard ON FILTER CMD...: 0 when device ON captured a frame matching the
# tcpdump FILTER while CMD ran
heard() {
	local on=$1 filter=$2 out=$BH_TMP/heard.$RANDOM pid n
	shift 2
	in_ns "$on" timeout 5 tcpdump -U --immediate-mode -i eth0 -nn -c 1 -w "$out" "$filter" >/dev/null 2>&1 &
	pid=$!
	sleep 0.8	# tcpdump listening
	"$@" >/dev/null 2>&1
	sleep 0.5
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	n=$(tcpdump -r "$out" -nn 2>/dev/null | wc -l)
	rm -f "$out"
	[ "${n:-0}" -gt 0 ]
}
mdns_from() {	# FROM TO: FROM's mDNS datagram (224.0.0.251:5353) reaches TO
	udp_try "$1" "$2" 224.0.0.251 5353
}
dhcp_from() {	# FROM TO: FROM's DHCP discover (broadcast to udp/67) reaches TO
	local out=$BH_TMP/dhcp.$RANDOM token=disc-$RANDOM lpid
	in_ns "$2" timeout 2 socat -u UDP4-RECV:67,reuseaddr "OPEN:$out,creat,trunc" 2>/dev/null &
	lpid=$!
	sleep 0.3
	echo "$token" | in_ns "$1" timeout 1 socat -u - \
		UDP4-DATAGRAM:255.255.255.255:67,broadcast,bind=:68,reuseaddr 2>/dev/null
	sleep 0.3
	kill $lpid 2>/dev/null
	wait $lpid 2>/dev/null
	grep -q "$token" "$out" 2>/dev/null
}
arp_heard() {	# WHO ON: ON hears WHO's broadcast ARP request for the camera
	in_ns "$1" ip neigh flush all >/dev/null 2>&1
	heard "$2" "arp and ether src ${BH_MAC[$1]}" \
		in_ns "$1" arping -q -c 1 -w 1 -I eth0 "$C"
}
icmp_in() {	# NAME COUNTER: an ICMP counter of NAME's stack (nstat)
	ip netns exec "${BH_NS[$1]}" nstat -asz "$2" | awk -v k="$2" '$1 == k { print $2 }'
}
send_rs() {	# WHO: a router solicitation from WHO's link-local (to ff02::1, so a
		# device's stack that gets it counts it)
	ip netns exec "${BH_NS[$1]}" env PYTHONPATH="$BH_SRC/selftests" python3 - \
		"$(ll_of "$1")" <<'PY'
import socket, struct, sys
from pkt import ip, ipv6, l4_csum
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
src = s.getsockname()[4]
body = struct.pack('!BBHI', 133, 0, 0, 0) + bytes([1, 1]) + src
l6 = ipv6(ip(sys.argv[1]), ip('ff02::1'), 58,
          l4_csum(ip(sys.argv[1]), ip('ff02::1'), 58, body, 2), hlim=255)
for _ in range(2):
    s.send(bytes.fromhex('333300000001') + src + b'\x86\xdd' + l6)
PY
}
rs_heard() {	# WHO ON: ON's stack takes in WHO's router solicitation
	local before
	before=$(icmp_in "$2" Icmp6InRouterSolicits)
	send_rs "$1"
	sleep 0.5
	[ "$(icmp_in "$2" Icmp6InRouterSolicits)" -gt "$before" ]
}

# control NAME ATTACK: works on the bare bridge, within 3 tries
control() {
	local name=$1 try
	shift
	for try in 1 2 3; do
		if "$@"; then
			ok "control (no bulkhead): $name works"
			return
		fi
	done
	fail "control (no bulkhead): $name works" "failed 3 times without bulkhead: the test below proves nothing"
}

# ---- controls: the bare bridge -------------------------------------------------------
control "fridge's gratuitous ARP for the nvr's IPv4 poisons the laptop" garp_nvr
control "fridge's unsolicited NA for the nvr's link-local poisons the laptop" na_nvr_ll
control "arpspoof from the fridge poisons the gateway's entry for the nvr" arpspoof_gw

control "nvr's mDNS reaches the camera" mdns_from nvr camera
control "laptop's DHCP discover reaches the nvr" dhcp_from laptop nvr
control "nvr's ARP request for the camera reaches the fridge" arp_heard nvr fridge
control "laptop's router solicitation reaches the nvr" rs_heard laptop nvr

# ---- under bulkhead ------------------------------------------------------------------
out=$(bh up -c "$POL" --mode nft 2>&1) && ok "up --mode nft (MAC-only policy)" ||
	{ fail "up --mode nft" "$out"; tap_done; exit 1; }

# A. cold caches
flush_all
expect_pass "A: cold caches: nvr -> camera tcp/554 over IPv4 resolves and connects" \
	tcp_try nvr camera "$C" 554
check "A: the nvr learned the camera's MAC by ARP" test "$(neigh_mac nvr "$C")" = "${BH_MAC[camera]}"
flush_all
expect_pass "A: cold caches: nvr -> camera tcp/554 over IPv6 resolves and connects" \
	tcp_try nvr camera "$C6" 554
check "A: the nvr learned the camera's MAC by ND" test "$(neigh_mac nvr "$C6")" = "${BH_MAC[camera]}"
flush_all
arpscan() {	# fridge (talks to nobody) ARPs for the nvr
	in_ns fridge arping -q -c 2 -w 2 -I eth0 "$N" >/dev/null 2>&1
}
expect_drop "A: the fridge (no east-west rule) cannot ARP for the nvr" drop_default arpscan
ndscan() {	# ... nor solicit its IPv6 address
	in_ns fridge ip -6 neigh flush all >/dev/null 2>&1
	ping_try fridge "$N6"
}
expect_drop "A: ... nor solicit the nvr's IPv6" drop_default ndscan

# C. claims: the nvr's addresses are the nvr's once it has used them
attack() {	# name counter attack
	local name=$1 ctr=$2
	shift 2
	expect_drop "$name" "$ctr" "$@"
}
attack "C: fridge's gratuitous ARP for the nvr's IPv4: drop_spoof, the laptop keeps the nvr" \
	drop_spoof garp_nvr
attack "C: fridge's NA for the nvr's link-local: drop_spoof" drop_spoof na_nvr_ll
attack "C: arpspoof -t gateway nvr: drop_spoof, the gateway keeps the nvr" drop_spoof arpspoof_gw
check "C: the gateway still maps the nvr's IPv4 to the nvr" \
	test "$(neigh_mac gateway "$N")" = "$NMAC"
forged_src() {	# fridge -> gateway udp/53 from the nvr's IPv4
	udp_try fridge gateway "$GWIP" 53 "$N"
}
attack "C: fridge -> gateway udp/53 from the nvr's (claimed) IPv4: drop_spoof" drop_spoof forged_src
expect_pass "C: the nvr itself keeps using its IPv4" udp_try nvr gateway "$GWIP" 53
claims=$(nsenter --net="/run/netns/$GW" nft list set bridge bulkhead claim4)
check "C: claim4 holds the nvr's IPv4 . the nvr's MAC" \
	grep -q "$N . $NMAC" <<< "$claims"
# a rewrite of the tables (isolate, release) keeps the claims
bh isolate 02:00:00:00:99:99 >/dev/null 2>&1
bh release 02:00:00:00:99:99 >/dev/null 2>&1
claims=$(nsenter --net="/run/netns/$GW" nft list set bridge bulkhead claim4)
check "C: the claims survive a rewrite of the tables" grep -q "$N . $NMAC" <<< "$claims"
attack "C: ... and still hold: fridge's gratuitous ARP for the nvr's IPv4 dropped" \
	drop_spoof garp_nvr

# D. ICMP errors about a live nvr -> camera flow (nvr port 40555 -> 554)
icmp_err() {	# FROM FAMILY(4|6): FROM sends the nvr "unreachable" quoting the flow
	local from=$1 fam=$2 sip dip inner_s inner_d
	if [ "$fam" = 4 ]; then sip=${BH_IP4[$from]} dip=$N inner_s=$N inner_d=$C
	else sip=${BH_IP6[$from]} dip=$N6 inner_s=$N6 inner_d=$C6; fi
	ip netns exec "${BH_NS[$from]}" env PYTHONPATH="$BH_SRC/selftests" python3 - \
		"$sip" "$dip" "$inner_s" "$inner_d" "$NMAC" <<'PY'
import socket, struct, sys
from pkt import ip, mac, ipv4, ipv6, l4_csum
sip, dip, isrc, idst, dmac = sys.argv[1:]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
src = s.getsockname()[4]
tcp = struct.pack('!HHI', 40555, 554, 1)
if ':' in sip:
    inner = ipv6(ip(isrc), ip(idst), 6, tcp + bytes(12))
    body = struct.pack('!BBHI', 1, 4, 0, 0) + inner	# port unreachable
    l3 = ipv6(ip(sip), ip(dip), 58, l4_csum(ip(sip), ip(dip), 58, body, 2))
    et = b'\x86\xdd'
else:
    inner = ipv4(ip(isrc), ip(idst), 6, tcp + bytes(12))[:28]
    body = struct.pack('!BBHI', 3, 3, 0, 0) + inner
    l3 = ipv4(ip(sip), ip(dip), 1, l4_csum(b'', b'', 1, body, 2))
    et = b'\x08\x00'
for _ in range(3):
    s.send(mac(dmac) + src + et + l3)
PY
}
err_heard() {	# FROM FAMILY: the nvr takes in FROM's ICMP error
	local before
	local k=IcmpInDestUnreachs
	[ "$2" = 6 ] && k=Icmp6InDestUnreachs
	before=$(icmp_in nvr $k)
	icmp_err "$1" "$2"
	sleep 0.5
	[ "$(icmp_in nvr $k)" -gt "$before" ]
}
flow_up() {	# FAMILY: a live nvr -> camera tcp/554 flow from port 40555
	local dst=$C
	[ "$1" = 6 ] && dst="[$C6]"
	in_ns camera timeout 12 socat TCP6-LISTEN:554,reuseaddr,ipv6only=0 EXEC:'sleep 11' \
		>/dev/null 2>&1 &
	sleep 0.3
	in_ns nvr timeout 11 socat EXEC:'sleep 10' TCP:$dst:554,sourceport=40555,reuseaddr \
		>/dev/null 2>&1 &
	sleep 0.7
}
for fam in 4 6; do
	flow_up $fam
	expect_drop "D: IPv$fam: the fridge's ICMP error about the nvr -> camera flow: drop_spoof" \
		drop_spoof err_heard fridge $fam
	before=$(counter pass_reply)
	check "D: IPv$fam: the camera's own (the responder's) ICMP error reaches the nvr" \
		err_heard camera $fam
	check "D: IPv$fam: ... as pass_reply" test "$(counter pass_reply)" -gt "$before"
	sleep 10
done

# B. flooded frames, per destination port (every port has spoken by now)
flood_drop() {	# NAME CMD...: nothing arrives, drop_flood rises
	local name=$1 before after
	shift
	before=$(nft_ctr drop_flood)
	if "$@"; then
		fail "$name" "got through: $*"
		return
	fi
	after=$(nft_ctr drop_flood)
	if [ "${after:-0}" -gt "${before:-0}" ]; then
		ok "$name (drop_flood +$((after - before)))"
	else
		fail "$name" "blocked, but drop_flood did not rise ($before -> $after)"
	fi
}
for d in camera nvr fridge laptop; do ping_try "$d" "$GWIP"; done
expect_pass "B: nvr's mDNS reaches the laptop (laptops -> multicast udp/5353)" mdns_from nvr laptop
flood_drop "B: nvr's mDNS does not reach the camera (neither nvr -> cameras nor cameras -> multicast)" \
	mdns_from nvr camera
expect_pass "B: laptop's mDNS reaches the nvr" mdns_from laptop nvr
flood_drop "B: laptop's DHCP discover does not reach the nvr (the gateway's only)" dhcp_from laptop nvr
expect_pass "B: nvr's ARP request for the camera reaches the camera" arp_heard nvr camera
flood_drop "B: ... not the fridge (nvr and appliances do not talk)" arp_heard nvr fridge
flood_drop "B: laptop's router solicitation does not reach the nvr" rs_heard laptop nvr
expect_pass "B: the gateway's own ARP reaches the fridge (never filtered)" \
	heard fridge "arp and ether src 02:00:00:00:00:01" \
	ip netns exec "$GW" arping -q -c 1 -w 1 -I br-lan "$F"
bh isolate "${BH_MAC[laptop]}" >/dev/null 2>&1
flood_drop "B: the laptop quarantined: nvr's mDNS no longer reaches it" mdns_from nvr laptop
bh release "${BH_MAC[laptop]}" >/dev/null 2>&1
expect_pass "B: released: it does again" mdns_from nvr laptop
tap_done
