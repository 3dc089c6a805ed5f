#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# detect.sh - detection, the whole chain: from a device's first probe of a
# port scan to its quarantine being in force (the dataplane counts the
# probes and puts a signal on bh_signals, the daemon reads it, decides and
# isolates through the controller, the quarantine map is written, the
# next probe is dropped as drop_quarantine). A device sends one TCP SYN
# every BENCH_DET_GAP_US to the next port of a LAN host (denied by the
# policy: failed attempts), BENCH_DET_PROBES of them; every probe meets a
# verdict, so the probes dropped as drop_quarantine are those sent after
# the quarantine was in force, and the first of them gives the time.
#
#   bench/detect.sh DATAFILE   (Markdown on stdout, progress on stderr;
#                              DATAFILE: "detect MODE probes ms" lines)
#
# Env: BENCH_DET_MODES ("tc xdp nft"), BENCH_DET_TRIALS (3), BENCH_DET_PROBES
# (1000), BENCH_DET_GAP_US (1000).
set -u
. "$(dirname "$0")/../selftests/lib.sh"
MODES=${BENCH_DET_MODES:-tc xdp nft}
TRIALS=${BENCH_DET_TRIALS:-3}
PROBES=${BENCH_DET_PROBES:-1000}
GAP_US=${BENCH_DET_GAP_US:-1000}
ACT=15
DATA=${1:?usage: detect.sh DATAFILE}
POL=$BH_TMP/detect.yaml
LOG=$BH_TMP/daemon.log

log() { echo "  $*" >&2; }

for t in nsenter python3; do
	command -v $t >/dev/null || { log "detect: $t is missing (make deps)"; exit 2; }
done

bh_setup_gateway
bh_add_device scanner 61
bh_add_device target 21
bh_pin_neighbours
cat > "$POL" <<EOF
version: 1
interfaces: [br-lan]
defaults: {east_west: deny, internet: allow, unknown: unknown}
groups:
  things:
    members:
      - {mac: "${BH_MAC[scanner]}", name: scanner, ip: [${BH_IP4[scanner]}]}
      - {mac: "${BH_MAC[target]}", name: target, ip: [${BH_IP4[target]}]}
  unknown: {}
detect:
  port_scan: {watch: 8, act: $ACT, window: 5m, action: isolate}
EOF

# probe: PROBES SYNs, one per GAP_US, to ports 10000.. of the target; the
# send time of each (CLOCK_REALTIME ns) into $BH_TMP/ts, one a line. A
# non-blocking connect closed at once: one SYN, never retransmitted.
probe() {
	in_ns scanner python3 - "${BH_IP4[target]}" "$PROBES" "$GAP_US" "$BH_TMP/ts" <<'PY'
import socket, sys, time
addr, n, gap, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) * 1000, sys.argv[4]
ts = []
t0 = time.monotonic_ns()
for i in range(n):
    while time.monotonic_ns() < t0 + i * gap:
        pass
    s = socket.socket()
    s.setblocking(False)
    ts.append(time.time_ns())
    try:
        s.connect((addr, 10000 + i))
    except BlockingIOError:
        pass
    except OSError:
        pass
    s.close()
with open(out, 'w') as f:
    f.write('\n'.join(map(str, ts)) + '\n')
PY
}

quarantined() { bh status --json | grep -qF "\"mac\":\"${BH_MAC[scanner]}\","; }

: > "$DATA"
echo "| mode | trial | probes sent | probes before the quarantine was in force | first probe to quarantine in force, ms | reason recorded |"
echo "|---|---:|---:|---:|---:|---|"
for mode in $MODES; do
	: > "$LOG"
	nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" \
		daemon --policy "$POL" --mode "$mode" --metrics off 2>>"$LOG" &
	dpid=$!
	if ! wait_until 90000 grep -q ': ready: ' "$LOG" || [ ! -e "$BH_PIN/maps/bh_signals" ]; then
		log "detect: no daemon with detection in --mode $mode: $(tail -2 "$LOG")"
		echo "| $mode | - | not measured: no detection in this mode | | | |"
		kill $dpid 2>/dev/null
		wait $dpid 2>/dev/null
		continue
	fi
	for t in $(seq "$TRIALS"); do
		log "DETECT   $mode, trial $t"
		q0=$(counter drop_quarantine)
		probe
		sleep 0.5
		q1=$(counter drop_quarantine)
		dropped=$((q1 - q0))
		before=$((PROBES - dropped))
		reason=$(status_field "([q['reason'] for q in s['quarantine'] if q['mac'] == '${BH_MAC[scanner]}'] + ['(not quarantined)'])[0]")
		if [ "$dropped" -gt 0 ] && quarantined; then
			ms=$(awk -v k="$before" 'NR == 1 { t0 = $1 } NR == k + 1 { printf "%.1f", ($1 - t0) / 1e6 }' "$BH_TMP/ts")
			echo "detect $mode $before $ms" >> "$DATA"
		else
			ms="not quarantined"
			log "detect: $mode trial $t not quarantined; daemon: $(tail -3 "$LOG")"
		fi
		echo "| $mode | $t | $PROBES | $before | $ms | $reason |"
		# a fresh start: released, its detection state forgotten (--for)
		bh release scanner --for 1s >/dev/null 2>&1
		sleep 2.2	# past the grace, which counts whole seconds
	done
	kill $dpid 2>/dev/null
	wait $dpid 2>/dev/null
	bh down >/dev/null 2>&1
done
