#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_flood.sh - who gets a copy of a flooded frame, in the attach mode
# BH_MODE. The bridge floods broadcast and multicast to every port (here
# with multicast snooping off: every group flooded, the worst case); a copy
# may reach only a device the sender may talk to by the policy
# (selftests/policies/e2e/flood.yaml: the demo policy with
# `{from: [laptops, nvr], to: multicast, proto: udp, ports: [5353, 1900]}`).
# Every device captures (tcpdump) while one sends: a router solicitation and
# an MLD report (for the gateway only), mDNS, SSDP, a UDP broadcast, ARP
# requests. A withheld copy is counted as drop_flood. DHCP from the
# gateway's dnsmasq keeps working.
set -u
. "$(dirname "$0")/../lib.sh"
need socat ping python3 nsenter tcpdump arping
MODE=${BH_MODE:-tc}
POL=$BH_SRC/selftests/policies/e2e/flood.yaml

bh_setup_demo_net
ip -n "$GW" link set br-lan type bridge mcast_snooping 0
C=${BH_IP4[camera]} N=${BH_IP4[nvr]} F=${BH_IP4[fridge]} L=${BH_IP4[laptop]}

declare -A GOT
# flood SENDER FILTER CMD...: CMD sends from SENDER while the gateway and
# every other device capture SENDER's frames matching FILTER; GOT[name]:
# how many each saw
flood() {
	local sender=$1 filter=$2 d
	shift 2
	for d in gateway "${BH_DEVICES[@]}"; do
		[ "$d" = "$sender" ] && continue
		cap_start "$d" fl "ether src ${BH_MAC[$sender]} and ($filter)" ||
			echo "# tcpdump on $d did not start: $(cat "$BH_TMP/cap-$d-fl.err")"
	done
	sleep 0.1
	"$@" >/dev/null 2>&1
	sleep 0.4
	for d in gateway "${BH_DEVICES[@]}"; do
		[ "$d" = "$sender" ] && continue
		GOT[$d]=$(cap_count "$d" fl)
	done
}
reaches() {	# WHAT NAME...: each of them got a copy
	local what=$1 d
	shift
	for d in "$@"; do
		check "$what reaches the $d (${GOT[$d]} frames)" test "${GOT[$d]:-0}" -gt 0
	done
}
withheld() {	# WHAT NAME...: none of them got a copy
	local what=$1 d
	shift
	for d in "$@"; do
		check "$what does not reach the $d (${GOT[$d]} frames)" test "${GOT[$d]:-1}" = 0
	done
}
# the frames (the RS and the MLD report carry marks the kernel's own lack:
# source fe80::4242, group ff05::4242)
RS_F="icmp6 and src host fe80::4242"
MLD_F="ip6 and ether dst 33:33:00:00:00:16 and ip6[72:4] == 0x4242"
send_rs() { raw_send "$1" rs sip=fe80::4242 count=2; }
send_mld() { raw_send "$1" mld group=ff05::4242 count=2; }
send_udp() {	# NAME ADDR PORT: two datagrams (to a broadcast address: SO_BROADCAST)
	local opt= i
	[ "$2" = 255.255.255.255 ] && opt=,broadcast
	for i in 1 2; do
		echo "bh-flood" | in_ns "$1" timeout 1 socat -u - "UDP4-DATAGRAM:$2:$3$opt"
	done
}
send_arp() {	# NAME ADDR: one broadcast ARP request for ADDR (from cold caches)
	bh_cold "$1"
	in_ns "$1" timeout 2 arping -c 1 -w 1 -I eth0 "$2"
}
flood_ctr() {	# drop_flood's packets, or "missing"
	status_field "s['counters'].get('drop_flood', {}).get('packets', 'missing')"
}

# ---- control: the bare bridge floods every copy ----------------------------------------
flood laptop "$RS_F" send_rs laptop
reaches "control (no bulkhead): the laptop's router solicitation" gateway fridge camera
flood laptop "udp dst port 5353" send_udp laptop 224.0.0.251 5353
reaches "control (no bulkhead): the laptop's mDNS" fridge camera nvr

# ---- under bulkhead ------------------------------------------------------------------
out=$(bh up -c "$POL" --mode "$MODE" 2>&1) &&
	ok "up --mode $MODE (flood.yaml)" || { fail "up --mode $MODE" "$out"; tap_done; exit 1; }
fl0=$(flood_ctr)
check "status --json counts drop_flood (${fl0})" test "$fl0" != missing
# --mode nft learns a port's devices from their frames only: every device
# speaks once, as on a real LAN (the BPF modes also read the bridge's FDB
# at up, so there the receivers stay silent)
if [ "$MODE" = nft ]; then
	for d in camera nvr fridge laptop; do ping_try "$d" 192.168.50.1; done
fi

flood laptop "$RS_F" send_rs laptop
reaches "the laptop's router solicitation" gateway
withheld "the laptop's router solicitation" camera nvr fridge
flood laptop "$MLD_F" send_mld laptop
reaches "the laptop's MLD report" gateway
withheld "the laptop's MLD report" camera nvr fridge

flood laptop "udp dst port 5353" send_udp laptop 224.0.0.251 5353
reaches "the laptop's mDNS (rule discovery)" nvr
withheld "the laptop's mDNS" fridge camera
flood laptop "udp dst port 1900" send_udp laptop 239.255.255.250 1900
reaches "the laptop's SSDP (rule discovery)" nvr
withheld "the laptop's SSDP" fridge camera
flood nvr "udp dst port 5353" send_udp nvr 224.0.0.251 5353
reaches "the nvr's mDNS (rule discovery)" laptop
withheld "the nvr's mDNS" fridge camera
dd=$(counter drop_default)
flood fridge "udp dst port 5353" send_udp fridge 224.0.0.251 5353
withheld "the fridge's mDNS (no rule)" camera nvr laptop gateway
check "... dropped at the fridge's port: drop_default rose" test "$(counter drop_default)" -gt "$dd"
dd=$(counter drop_default)
flood laptop "udp dst port 9999" send_udp laptop 255.255.255.255 9999
withheld "the laptop's UDP broadcast to port 9999 (no rule)" camera nvr fridge
check "... dropped: drop_default rose" test "$(counter drop_default)" -gt "$dd"

flood laptop "arp" send_arp laptop "$N"
reaches "the laptop's ARP request for the nvr's address" nvr camera
flood nvr "arp" send_arp nvr "$L"
reaches "the nvr's ARP request for the laptop's address" laptop camera
withheld "the nvr's ARP request (the nvr never talks to appliances)" fridge

fl1=$(flood_ctr)
check "the withheld copies are counted: drop_flood $fl0 -> $fl1" \
	test "$fl1" != missing -a "$fl0" != missing -a "${fl1/missing/0}" -gt "${fl0/missing/0}"

# ---- DHCP from the gateway still works -------------------------------------------------
if command -v dnsmasq >/dev/null && command -v udhcpc >/dev/null; then
	printf '#!/bin/sh\n[ "$1" = bound ] && echo "$ip" > %s\nexit 0\n' "$BH_TMP/lease" > "$BH_TMP/udhcpc.sh"
	chmod +x "$BH_TMP/udhcpc.sh"
	nsenter --net=/run/netns/$GW dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--port=0 --interface=br-lan --bind-interfaces --user=root \
		--dhcp-range=192.168.50.100,192.168.50.120,255.255.255.0,2m \
		--dhcp-leasefile="$BH_TMP/dnsmasq.leases" --pid-file="$BH_TMP/dnsmasq.pid" \
		--log-facility="$BH_TMP/dnsmasq.log" &
	sleep 0.5
	bh_cold fridge
	# (dnsmasq pings an address for 3 s before it offers it: -t 6)
	in_ns fridge timeout 10 udhcpc -i eth0 -n -q -f -t 6 -T 1 -s "$BH_TMP/udhcpc.sh" >"$BH_TMP/udhcpc.log" 2>&1
	check "udhcpc on the fridge gets a lease from the gateway's dnsmasq ($(cat "$BH_TMP/lease" 2>/dev/null))" \
		grep -qE '^192\.168\.50\.1[0-2][0-9]$' "$BH_TMP/lease"
	kill "$(cat "$BH_TMP/dnsmasq.pid" 2>/dev/null)" 2>/dev/null
else
	skip "DHCP through bulkhead" "dnsmasq or udhcpc not installed (.ci/deps.sh)"
fi

out=$(bh down 2>&1) && ok "down" || fail "down" "$out"
tap_done
