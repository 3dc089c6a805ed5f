#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - `make demo`: a gateway with bridge br-lan, a camera, an NVR, a
# fridge and a laptop in network namespaces, an "internet" host behind the
# gateway; policies/demo.yaml loaded; real flows tried and shown; then the
# fridge is isolated. Exit status 0 only if every flow did what the policy
# says. Each flow that should pass starts from cold neighbour caches (its
# ARP / ND must pass too); each that should be dropped from pinned ones
# (the IP verdict decides). Everything is removed afterwards.
set -u
. "$(dirname "$0")/lib.sh"
need socat ping python3 nsenter
MODE=${BH_MODE:-auto}
bad=0

say() { printf '%s\n' "$*"; }

flow() {	# expect label cmd...
	local want=$1 label=$2 got
	shift 2
	if "$@"; then got=PASS; else got=DROP; fi
	if [ "$got" = "$want" ]; then
		printf '  %-44s %s\n' "$label" "$got"
	else
		printf '  %-44s %s   <-- expected %s\n' "$label" "$got" "$want"
		bad=$((bad + 1))
	fi
}

say "Building the demo network (namespaces *-$SUF)..."
bh_setup_demo_net
C=${BH_IP4[camera]} N=${BH_IP4[nvr]} F=${BH_IP4[fridge]} L=${BH_IP4[laptop]}
say
say "policies/demo.yaml:"
grep -E '^\s+- \{' "$BH_SRC/policies/demo.yaml" | sed 's/^ */    /'
say
bh up -c "$BH_SRC/policies/demo.yaml" --mode "$MODE" | sed 's/^/  /' || exit 1
say
say "Flows (real connections between the namespaces):"
flow PASS "nvr    -> camera   tcp/554  (RTSP)" cold tcp_try nvr camera "$C" 554
flow DROP "camera -> nvr      tcp/554  (no rule back)" pinned tcp_try camera nvr "$N" 554
flow DROP "fridge -> camera   tcp/554" pinned tcp_try fridge camera "$C" 554
flow DROP "fridge -> laptop   tcp/22" pinned tcp_try fridge laptop "$L" 22
flow PASS "laptop -> nvr      tcp/443  (web UI)" cold tcp_try laptop nvr "$N" 443
flow PASS "laptop -> fridge   ping" cold ping_try laptop "$F"
flow DROP "fridge -> camera   ping" pinned ping_try fridge "$C"
flow PASS "camera -> 203.0.113.10 tcp/443 (its cloud)" cold tcp_try camera internet 203.0.113.10 443
flow DROP "camera -> 192.0.2.10   tcp/443 (elsewhere)" pinned tcp_try camera internet 192.0.2.10 443
flow PASS "fridge -> 192.0.2.10   tcp/443" cold tcp_try fridge internet 192.0.2.10 443
flow PASS "fridge -> gateway  udp/53   (DNS, built in)" cold udp_try fridge gateway 192.168.50.1 53
flow DROP "fridge -> gateway  tcp/22" pinned tcp_try fridge gateway 192.168.50.1 22

say
say "Isolating the fridge:"
bh isolate "${BH_MAC[fridge]}" --reason "demo: suspicious traffic" | sed 's/^/  /'
flow DROP "fridge -> 192.0.2.10   tcp/443" pinned tcp_try fridge internet 192.0.2.10 443
flow DROP "laptop -> fridge   ping" pinned ping_try laptop "$F"
flow PASS "fridge -> gateway  udp/53   (quarantine.allow: dns)" cold udp_try fridge gateway 192.168.50.1 53
flow PASS "nvr    -> camera   tcp/554  (others unaffected)" cold tcp_try nvr camera "$C" 554

say
say "What bulkhead saw:"
bh devices | sed 's/^/  /'
say
bh status | sed -n '/verdicts:/,$p' | sed 's/^/  /'
say
if [ "$bad" -eq 0 ]; then
	say "Demo OK: every flow behaved as policies/demo.yaml says. Cleaning up."
else
	say "Demo FAILED: $bad flow(s) did not behave as the policy says."
fi
[ "$bad" -eq 0 ]
