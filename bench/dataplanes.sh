#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dataplanes.sh - Bulkhead next to what an admin would use instead, on one
# bridge with veth ports (selftests/lib.sh's gateway): the same allowed
# pairs as a Bulkhead policy (tc, XDP, and nft mode once the CLI has it),
# as a plain nftables bridge ruleset, as ebtables-nft and as iptables-nft
# rules (bridged through br_netfilter), one rule per allowed pair, and no
# filter at all. One traffic generator: trafgen sends a fixed count of one
# allowed UDP flow (tx -> rx, udp/9; its rule sits in the middle of the
# list) from the tx namespace; the rx namespace drops at its ingress and
# its rx counter says how much the bridge delivered.
#
#   bench/dataplanes.sh DATAFILE   (Markdown on stdout, progress on stderr)
#
# Env: BENCH_DP_RULES (default "10 1000 10000"), BENCH_DP_PKTS (packets a
# run, 300000), BENCH_DP_RUNS (runs, medians count; 11), BENCH_DP_DPS (the
# rows, default all; "none bh-nft" for the nft mode alone, none first: it
# is the baseline of +ns/pkt).
set -u
. "$(dirname "$0")/../selftests/lib.sh"
DATA=${1:?usage: dataplanes.sh DATAFILE}
RULES=${BENCH_DP_RULES:-10 1000 10000}
PKTS=${BENCH_DP_PKTS:-300000}
RUNS=${BENCH_DP_RUNS:-11}
EMPTY=$BH_SRC/${BUILD:-build}/bench/empty.bpf.o
DPS=${BENCH_DP_DPS:-none xdp-floor bh-tc bh-xdp bh-nft nft ebtables iptables}

declare -A LABEL=(
	[none]="no filter (bare bridge)"
	[xdp-floor]="empty XDP program on the port (the XDP hook on veth)"
	[bh-tc]="Bulkhead, tc"
	[bh-xdp]="Bulkhead, XDP"
	[bh-nft]="Bulkhead, nft mode"
	[nft]="nftables, bridge forward chain, one rule per pair"
	[ebtables]="ebtables-nft, FORWARD, one rule per pair"
	[iptables]="iptables-nft via br_netfilter, FORWARD, conntrack + one rule per pair"
)

log() { echo "  $*" >&2; }

for t in trafgen nft ebtables-nft-restore iptables-nft-restore nsenter python3; do
	command -v $t >/dev/null || { log "dataplanes: $t is missing (make deps)"; exit 2; }
done
NFT_MODE=0
"$BULKHEAD" up --help 2>&1 | grep -q nft && NFT_MODE=1

bh_setup_gateway
bh_add_device tx 11
bh_add_device rx 21
bh_pin_neighbours

# the reference: a second gateway namespace with a bare bridge and its own
# tx/rx pair, measured in turn with the filtered one, so that the machine's
# noise falls on both alike (lib.sh's cleanup deletes it with the devices)
REF=bh-ref-$SUF
BH_DEVICES+=(ref)
BH_NS[ref]=$REF
ip netns add "$REF"
ip -n "$REF" link add br-lan type bridge
ip -n "$REF" link set br-lan up
gw=$GW
GW=$REF
bh_add_device rtx 11
bh_add_device rrx 21
GW=$gw

# br_netfilter is built in and on by default in a new namespace: off, so
# that only the iptables row pays for it
for ns in "$GW" "$REF"; do
	for k in iptables ip6tables arptables; do
		sysctl_ns "$ns" net.bridge.bridge-nf-call-$k=0
	done
done
# static forwarding entries: no flooding while a bridge has not learnt rx
bridge -n "$GW" fdb replace "${BH_MAC[rx]}" dev p21 master static
bridge -n "$REF" fdb replace "${BH_MAC[rrx]}" dev p21 master static
for d in rx rrx; do
	ip netns exec "${BH_NS[$d]}" nft "add table netdev rxdrop;
		add chain netdev rxdrop in { type filter hook ingress device eth0 priority 0; policy drop; }"
done

frame() {	# PORT: one tx -> rx UDP frame to PORT, as a trafgen config
	echo "{ eth(da=${BH_MAC[rx]}, sa=${BH_MAC[tx]}, type=0x0800),
		ipv4(saddr=${BH_IP4[tx]}, daddr=${BH_IP4[rx]}, ttl=64),
		udp(sp=40000, dp=$1), fill(0x41, 18) }"
}
frame 9 > "$BH_TMP/allowed.cfg"
frame 10 > "$BH_TMP/denied.cfg"

rx_packets() {	# DEVICE
	nsenter --net="/run/netns/${BH_NS[$1]}" sed -n 's/^ *eth0://p' /proc/net/dev |
		awk '{ print $2 }'
}

# -t 0: one sendto() a frame, so every skb is linear, as a device's own
# stack sends small frames (TX_RING frames carry all but the Ethernet
# header in page fragments; see docs/benchmarks.md)
send() {	# DEVICE CFG COUNT
	nsenter --net="/run/netns/${BH_NS[$1]}" trafgen -o eth0 -i "$2" -n "$3" -P 1 \
		-t 0 --no-sock-mem -Q -C >/dev/null 2>&1
}

run() {		# TX RX COUNT: sets PPS (delivered to RX per second) and GOT
	local b a t0 t1
	b=$(rx_packets "$2")
	t0=$(date +%s%N)
	send "$1" "$BH_TMP/allowed.cfg" "$3"
	t1=$(date +%s%N)
	sleep 0.05
	a=$(rx_packets "$2")
	GOT=$((a - b))
	PPS=$((GOT * 1000000000 / (t1 - t0)))
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# half the interquartile range: how far the middle half of the runs spread
halfiqr() { tr ' ' '\n' | grep . | sort -g |
	awk '{ v[NR] = $1 } END { printf "%.0f", (v[int(NR * 3 / 4 + 0.5)] - v[int(NR / 4 + 0.5)]) / 2 }'; }

# RUNS runs, each through the filtered bridge and the reference (in turn
# first); sets KPPS (median, filtered), DIFF (median of the runs' ns/packet
# over the reference), SPREAD (half the interquartile range of those) and DELIVERED (% of what was sent, worst run). A
# probe of 2000 packets sizes the runs to about 0.5 s (at most
# BENCH_DP_PKTS), so slow rulesets do not take minutes.
measure() {
	local r n p b got pps= diff=
	DELIVERED=100
	run tx rx 2000
	n=$((PPS / 2))
	[ "$n" -lt 2000 ] && n=2000
	[ "$n" -gt "$PKTS" ] && n=$PKTS
	for r in $(seq "$RUNS"); do
		[ $((r % 2)) = 0 ] && { run rtx rrx "$n"; b=$PPS; }
		run tx rx "$n"
		p=$PPS
		got=$GOT
		[ $((r % 2)) = 1 ] && { run rtx rrx "$n"; b=$PPS; }
		[ $((got * 100 / n)) -lt "$DELIVERED" ] && DELIVERED=$((got * 100 / n))
		pps="$pps $p"
		diff="$diff $(awk -v p="$p" -v b="$b" 'BEGIN { if (p > 0 && b > 0) print 1e9 / p - 1e9 / b }')"
	done
	KPPS=$(echo "$pps" | median | awk '{ printf ($1 < 100000 ? "%.1f" : "%.0f"), $1 / 1000 }')
	DIFF=$(echo "$diff" | median)
	SPREAD=$(echo "$diff" | halfiqr)
}

dp_on() {	# DATAPLANE RULES
	local p=$BH_TMP/p$2
	case $1 in
	none) ;;
	xdp-floor) ip -n "$GW" link set dev p11 xdpdrv object "$EMPTY" program empty_xdp_pass ;;
	bh-tc) bh up -c "$p.yaml" --mode tc >/dev/null ;;
	bh-xdp) bh up -c "$p.yaml" --mode xdp >/dev/null ;;
	bh-nft) bh up -c "$p.yaml" --mode nft >/dev/null ;;
	nft) ip netns exec "$GW" nft -f "$p.nft" ;;
	ebtables) ip netns exec "$GW" ebtables-nft-restore < "$p.eb" ;;
	iptables)
		sysctl_ns "$GW" net.bridge.bridge-nf-call-iptables=1
		ip netns exec "$GW" iptables-nft-restore < "$p.ipt" ;;
	esac
}

dp_off() {
	case $1 in
	xdp-floor) ip -n "$GW" link set dev p11 xdpdrv off ;;
	bh-*) bh down >/dev/null ;;
	nft) ip netns exec "$GW" nft delete table bridge bench_filter ;;
	ebtables) ip netns exec "$GW" nft delete table bridge filter ;;
	iptables)
		ip netns exec "$GW" nft delete table ip filter
		sysctl_ns "$GW" net.bridge.bridge-nf-call-iptables=0 ;;
	esac
}

# the filter is really in the path: a denied port does not get through
filters() {
	local b a
	b=$(rx_packets rx)
	send tx "$BH_TMP/denied.cfg" 1000
	sleep 0.05
	a=$(rx_packets rx)
	[ $((a - b)) -lt 10 ]
}

: > "$DATA"
declare -A RES
for n in $RULES; do
	python3 "$BH_SRC/bench/genpolicy.py" --base net --rules "$n" --devices 102 \
		--yaml "$BH_TMP/p$n.yaml" --nft "$BH_TMP/p$n.nft" \
		--ebtables "$BH_TMP/p$n.eb" --iptables "$BH_TMP/p$n.ipt"
	for d in $DPS; do
		if [ $d = bh-nft ] && [ $NFT_MODE = 0 ]; then
			RES[$d,$n]=" nft mode: not yet available | - |"
			continue
		fi
		log "DP       $n rules: ${LABEL[$d]}"
		if ! dp_on $d "$n"; then
			log "dataplanes: setting up $d failed"
			RES[$d,$n]=" failed | - |"
			dp_off $d 2>/dev/null
			continue
		fi
		case $d in
		none|xdp-floor) ;;
		*) filters || log "dataplanes: $d at $n rules let a denied port through" ;;
		esac
		measure
		[ "$DELIVERED" -lt 90 ] &&
			log "dataplanes: $d at $n rules delivered only $DELIVERED% of what was sent"
		dp_off $d
		# over no filter: both measured against the reference, so a
		# difference between the two bridges themselves cancels out
		[ $d = none ] && BASE=$DIFF
		ADDED=$(awk -v d="$DIFF" -v b="$BASE" 'BEGIN { printf "%+.0f", d - b }')
		RES[$d,$n]=" $KPPS | $ADDED ±$SPREAD |"
		echo "$d $n $KPPS $ADDED $DELIVERED $SPREAD" >> "$DATA"
	done
done

printf '| dataplane |'
for n in $RULES; do printf ' %s rules: kpps | +ns/pkt |' "$n"; done
printf '\n|---|'
for n in $RULES; do printf -- '---:|---:|'; done
printf '\n'
for d in $DPS; do
	printf '| %s |' "${LABEL[$d]}"
	for n in $RULES; do printf '%s' "${RES[$d,$n]}"; done
	printf '\n'
done
