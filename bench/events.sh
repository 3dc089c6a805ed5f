#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# events.sh - how many deny events a second `bulkhead daemon` reads and
# aggregates. The kernel's rate limit (10 a second per source MAC) would
# hide the daemon's own limit, so this builds a second copy with the limits
# raised (BPF_EXTRA, in build/evbench), floods denied TCP SYNs from one
# device over PORTS destination ports (so PORTS aggregates) and reads the
# daemon's counters from its metrics endpoint: events read, drops the
# kernel could not put on the 256 KiB ring (counted as suppressed), the
# daemon's CPU time. Decides nothing; prints the figures.
#   [BH_MODE=tc|xdp|nft] bash bench/events.sh [FRAMES [PORTS [SENDERS]]]
# BH_MODE=nft: the events come through NFLOG (the nftables limits are raised
# the same way, compiled into the controller) and each one costs the daemon
# a read of its source's drop counter.
set -u
. "$(dirname "$0")/../selftests/lib.sh"
FRAMES=${1:-400000}
PORTS=${2:-64}
SENDERS=${3:-4}
EVB=$BH_SRC/build/evbench
LOG=$BH_TMP/daemon.log
POL=$BH_TMP/policy.yaml

MODE=${BH_MODE:-tc}
LIMITS="-DBH_EV_RATE=100000000 -DBH_EV_BURST=100000000 -DBH_EV_CPU_RATE=100000000 -DBH_EV_CPU_BURST=100000000"
# the BPF programs take them from BPF_EXTRA, the nftables rules (written by
# the controller) from the C compiler's command line
make -s -C "$BH_SRC" BUILD="$EVB" BPF_EXTRA="$LIMITS" CC="${CC:-gcc} $LIMITS" \
	"$EVB/bulkhead" >/dev/null || exit 1
BULKHEAD=$EVB/bulkhead
cp "$BH_SRC/policies/demo.yaml" "$POL"
bh_setup_demo_net
bh_pin_neighbours
nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" \
	daemon --policy "$POL" --mode "$MODE" 2>"$LOG" &
dpid=$!
for _ in $(seq 100); do grep -q ': ready: ' "$LOG" && break; sleep 0.1; done
grep -q ': ready: ' "$LOG" || { cat "$LOG"; exit 1; }

metric() {
	nsenter --net=/run/netns/$GW curl -s -m 5 http://127.0.0.1:9669/metrics |
		awk -v k="$1" '$1 == k { print $2 }'
}
cpu_ticks() { awk '{ print $14 + $15 }' /proc/$dpid/stat; }

ev0=$(metric bulkhead_events_total)
sup0=$(metric bulkhead_events_suppressed_total)
cpu0=$(cpu_ticks)
t0=$(date +%s%N)
for s in $(seq 1 "$SENDERS"); do
	ip netns exec "$(ns_of fridge)" env PYTHONPATH="$BH_SRC/selftests" python3 - \
		"${BH_MAC[camera]}" "${BH_MAC[fridge]}" \
		"${BH_IP4[fridge]}" "${BH_IP4[camera]}" "$PORTS" $((FRAMES / SENDERS)) <<'PY' &
import socket, sys
from pkt import tcp_syn
dmac, smac, sip, dip, ports, n = sys.argv[1:7]
frames = [tcp_syn(dmac, smac, sip, dip, 41000, 20000 + p) for p in range(int(ports))]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
for i in range(int(n)):
    s.send(frames[i % len(frames)])
PY
done
wait $(jobs -p | grep -v "^$dpid\$") 2>/dev/null
t1=$(date +%s%N)
# the daemon drains the ring: wait until its count stops moving
prev=-1
while :; do
	sleep 0.5
	cur=$(metric bulkhead_events_total)
	[ "$cur" = "$prev" ] && break
	prev=$cur
done
t2=$(date +%s%N)
ev=$(( $(metric bulkhead_events_total) - ev0 ))
cpu=$(( $(cpu_ticks) - cpu0 ))
hz=$(getconf CLK_TCK)
# the suppressed count arrives with the next event: one more frame per port
send_s=$(python3 -c "print('%.2f' % (($t1 - $t0) / 1e9))")
echo "frames sent: $FRAMES denied TCP SYNs over $PORTS ports by $SENDERS senders in $send_s s ($(python3 -c "print(int($FRAMES / (($t1 - $t0) / 1e9)))") frames/s)"
echo "mode $MODE: events the daemon read: $ev ($(python3 -c "print(int($ev / (($t1 - $t0) / 1e9)))") events/s over the flood)"
echo "the rest (ring or NFLOG socket full): $(( FRAMES - ev )) frames, counted as suppressed"
echo "daemon CPU time: $(python3 -c "print('%.2f' % ($cpu / $hz))") s for $ev events ($(python3 -c "print(int($ev / max($cpu / $hz, 0.01)))") events per CPU second)"
echo "aggregates kept: $(metric bulkhead_event_aggregates)"
kill -TERM $dpid
wait $dpid 2>/dev/null
