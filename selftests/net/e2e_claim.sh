#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_claim.sh - the fridge claims the NVR's addresses with real tools under
# a MAC-only policy (selftests/policies/e2e/maconly.yaml: nothing bound by
# `ip:`), in the attach mode BH_MODE: gratuitous ARP (arping -U, arping -A),
# an unsolicited NA to all nodes for the NVR's link-local address
# (atk6-fake_advertise6), ARP poisoning of the gateway (arpspoof). Each is
# first shown to work on the bare bridge (the camera's or the gateway's entry
# for the NVR's address flips to the fridge's MAC), then to fail under
# bulkhead: the entries keep the NVR's MAC, drop_spoof rises and the camera's
# SYN-ACKs to the NVR never reach the fridge. Last, a camera whose cache was
# poisoned by hand does not get its replies to the fridge either.
set -u
. "$(dirname "$0")/../lib.sh"
need socat ping python3 nsenter tcpdump arping arpspoof atk6-fake_advertise6
MODE=${BH_MODE:-tc}
POL=$BH_SRC/selftests/policies/e2e/maconly.yaml

bh_setup_demo_net
C=${BH_IP4[camera]} N=${BH_IP4[nvr]} GWIP=192.168.50.1
NMAC=${BH_MAC[nvr]} FMAC=${BH_MAC[fridge]} CMAC=${BH_MAC[camera]}
lladdr() {	# NAME: the link-local IPv6 of NAME's eth0 (the gateway: br-lan)
	local dev=eth0
	[ "$1" = gateway ] && dev=br-lan
	ip -n "$(ns_of "$1")" -6 -o addr show dev "$dev" scope link |
		sed -nE 's/.* inet6 (fe80::[0-9a-f:]+)\/.*/\1/p' | head -1
}
N_LL=$(lladdr nvr) C_LL=$(lladdr camera) GW_LL=$(lladdr gateway)
[ -n "$N_LL" ] && [ -n "$C_LL" ] && [ -n "$GW_LL" ] || { fail "link-local addresses" "nvr '$N_LL' camera '$C_LL' gateway '$GW_LL'"; tap_done; exit 1; }
# the victims believe what they hear (a host's usual settings): unsolicited
# ARP accepted, no lock time on updates
sysctl_ns "${BH_NS[camera]}" net.ipv4.conf.eth0.arp_accept=1
sysctl_ns "${BH_NS[camera]}" net.ipv4.neigh.eth0.locktime=0
sysctl_ns "$GW" net.ipv4.neigh.br-lan.locktime=0
# the attacker: arping -s with an address it does not own
sysctl_ns "${BH_NS[fridge]}" net.ipv4.ip_nonlocal_bind=1

gw_neigh() {	# ADDR: the MAC the gateway's br-lan holds for ADDR
	neigh_mac gateway "$1"
}
seed() {	# NAME ADDR MAC: a used, not pinned, entry (stale: the kernel re-checks it on use)
	ip -n "$(ns_of "$1")" neigh replace "$2" lladdr "$3" dev eth0 nud stale
}
# the nvr talks first: its addresses are in use, the camera and the gateway
# hold its true MAC for them
nvr_talks() {
	bh_cold nvr camera fridge
	seed nvr "$C" "$CMAC"; seed nvr "$C_LL" "$CMAC"
	seed camera "$N" "$NMAC"; seed camera "$N_LL" "$NMAC"
	ping_try nvr "$GWIP"
	ping_try nvr "$GW_LL%eth0"
	tcp_try nvr camera "$C" 554
	# the gateway holds the nvr's MAC for both: its entry for the
	# link-local one is learnt only from an NS of the nvr, which never
	# comes when an RA refilled the nvr's entry for the gateway after
	# the flush (the echo request goes out at once, denied; the probe
	# is 5 s away). Stale, as a used entry is: a claim can overwrite it.
	ip -n "$GW" neigh replace "$N" lladdr "$NMAC" dev br-lan nud stale
	ip -n "$GW" neigh replace "$N_LL" lladdr "$NMAC" dev br-lan nud stale
	# the nvr keeps its entry for the camera: its re-probe (5 s after
	# use) would tell the camera the truth and heal a poisoned cache
	ip -n "${BH_NS[nvr]}" neigh replace "$C" lladdr "$CMAC" dev eth0 nud permanent
	ip -n "${BH_NS[nvr]}" neigh replace "$C_LL" lladdr "$CMAC" dev eth0 nud permanent
	[ "$(gw_neigh "$N")" = "$NMAC" ] && [ "$(gw_neigh "$N_LL")" = "$NMAC" ] &&
		[ "$(neigh_mac camera "$N")" = "$NMAC" ]
}
# keeps_nvr ADDR: the camera's and the gateway's entries for ADDR hold the
# nvr's MAC, or none
keeps_nvr() {
	local m
	for m in "$(neigh_mac camera "$1")" "$(gw_neigh "$1")"; do
		[ -z "$m" ] || [ "$m" = "$NMAC" ] || return 1
	done
}

# ATTACKS from the fridge: each returns 0 when it worked (an entry for the
# nvr's address now holds the fridge's MAC)
flipped() {	# ADDR
	[ "$(neigh_mac camera "$1")" = "$FMAC" ] || [ "$(gw_neigh "$1")" = "$FMAC" ]
}
arping_U() {	# gratuitous ARP requests for the nvr's IPv4
	in_ns fridge timeout 5 arping -q -U -c 3 -s "$N" -I eth0 "$N" >/dev/null 2>&1
	sleep 0.3
	flipped "$N"
}
arping_A() {	# gratuitous ARP replies for the nvr's IPv4
	in_ns fridge timeout 5 arping -q -A -c 3 -s "$N" -I eth0 "$N" >/dev/null 2>&1
	sleep 0.3
	flipped "$N"
}
na_ll() {	# unsolicited NA (override) to all nodes for the nvr's link-local
	in_ns fridge timeout 5 atk6-fake_advertise6 -n 3 -w 1 eth0 "$N_LL" >/dev/null 2>&1
	sleep 0.3
	flipped "$N_LL"
}
arpspoof_gw() {	# arpspoof: ARP replies to the gateway, "the nvr is at <fridge>"
	local pid i hit=1
	# (not through in_ns: $! must be arpspoof itself, not a subshell)
	ip netns exec "${BH_NS[fridge]}" arpspoof -i eth0 -t "$GWIP" "$N" >/dev/null 2>&1 &
	pid=$!
	# watched while it runs: on exit arpspoof re-ARPs the true MAC
	for i in $(seq 30); do
		[ "$(gw_neigh "$N")" = "$FMAC" ] && { hit=0; break; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return $hit
}
synacks_to_fridge() {	# the camera's SYN-ACKs to the nvr seen on the fridge's port
	cap_start fridge syn "tcp[tcpflags] & (tcp-syn|tcp-ack) == (tcp-syn|tcp-ack) and src host $C and dst host $N"
	tcp_try nvr camera "$C" 554
	sleep 0.2
	cap_count fridge syn
}
# the camera's entry for the nvr's IPv4 pinned to the fridge by hand: where
# does the camera's answer to the nvr go?
hand_poisoned() {
	ip -n "${BH_NS[camera]}" neigh replace "$N" lladdr "$FMAC" dev eth0 nud permanent
	synacks_to_fridge
	ip -n "${BH_NS[camera]}" neigh del "$N" dev eth0 2>/dev/null
}

# ---- controls: on the bare bridge, every attack works ------------------------------
control() {	# NAME ATTACK
	local try
	for try in 1 2 3; do
		nvr_talks || continue
		if "$2"; then
			ok "control (no bulkhead): $1 works"
			return 0
		fi
	done
	fail "control (no bulkhead): $1 works" "the attack failed 3 times even without bulkhead: the test below proves nothing"
	return 1
}
control "arping -U (gratuitous ARP request) for the nvr's IPv4 poisons a cache" arping_U
# what the SYN-ACK checks below look for: a camera so poisoned (not only the
# gateway: the control above takes either) answers the nvr at the fridge
for try in 1 2 3; do
	[ "$(neigh_mac camera "$N")" = "$FMAC" ] && break
	nvr_talks; arping_U
done
got=$(synacks_to_fridge)
check "control: a camera poisoned by arping -U sends its SYN-ACKs to the nvr to the fridge ($got)" test "$got" -gt 0
control "arping -A (gratuitous ARP reply) for the nvr's IPv4 poisons a cache" arping_A
control "atk6-fake_advertise6 for the nvr's link-local poisons a cache" na_ll
control "arpspoof -t gateway poisons the gateway's entry for the nvr" arpspoof_gw
got=$(hand_poisoned)
check "control: a camera pinned to the fridge for the nvr's IPv4 sends it the SYN-ACKs ($got)" test "$got" -gt 0

# ---- under bulkhead ------------------------------------------------------------------
out=$(bh up -c "$POL" --mode "$MODE" 2>&1) &&
	ok "up --mode $MODE (maconly.yaml: no address bound)" ||
	{ fail "up --mode $MODE" "$out"; tap_done; exit 1; }

claim() {	# NAME ATTACK ADDR
	local name=$1 attack=$2 addr=$3 got
	nvr_talks || fail "$name: the nvr's addresses are in use first" \
		"camera $(neigh_mac camera "$N"), gateway $(gw_neigh "$N") / $(gw_neigh "$N_LL")"
	expect_drop "$name: dropped, no entry flips to the fridge" drop_spoof "$attack"
	check "... the camera and the gateway still hold the nvr's MAC (or none) for $addr" keeps_nvr "$addr"
	got=$(synacks_to_fridge)
	check "... the camera's SYN-ACKs to the nvr do not reach the fridge ($got)" test "$got" = 0
}
claim "arping -U for the nvr's IPv4" arping_U "$N"
claim "arping -A for the nvr's IPv4" arping_A "$N"
claim "atk6-fake_advertise6 for the nvr's link-local" na_ll "$N_LL"
claim "arpspoof -t gateway for the nvr's IPv4" arpspoof_gw "$N"

# the reply path: the camera's answer to a flow the nvr opened, sent to the
# fridge's MAC, is a new camera -> fridge flow, not a reply (nft: the
# conntrack labels name the opener, nft_inet.c)
nvr_talks >/dev/null
dd=$(counter drop_default)
got=$(hand_poisoned)
check "a camera pinned to the fridge for the nvr's IPv4: its SYN-ACKs do not reach the fridge ($got)" test "$got" = 0
check "... judged as a new camera -> fridge flow: drop_default rose ($dd -> $(counter drop_default))" \
	test "$(counter drop_default)" -gt "$dd"

out=$(bh down 2>&1) && ok "down" || fail "down" "$out"
tap_done
