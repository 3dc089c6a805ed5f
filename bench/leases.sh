#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# leases.sh - what DHCP leases cost: `bulkhead apply` with no lease file
# and with N leases (devices not in the policy, each binding its address),
# and under the daemon the time from a lease file written in place (as
# dnsmasq does) to the new epoch, taken from the daemon's log line, and
# from a rewrite that changes only host names (no apply). Runs in its own
# namespaces (selftests/lib.sh), prints the figures; decides nothing.
#   bash bench/leases.sh [MODE [LEASES [RUNS]]]
set -u
. "$(dirname "$0")/../selftests/lib.sh"
MODE=${1:-tc}
N=${2:-8192}
RUNS=${3:-10}
POL=$BH_TMP/policy.yaml
LEASES=$BH_TMP/dnsmasq.leases
LOG=$BH_TMP/daemon.log

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
stats() {	# LABEL N1 N2 ...: median and max
	local label=$1
	shift
	printf '%s\n' "$@" | sort -n | awk -v l="$label" \
		'{ v[NR] = $1 } END { printf "%s: median %d ms, max %d ms (%d runs)\n", l, v[int((NR + 1) / 2)], v[NR], NR }'
}
gen() {	# COUNT HOSTPREFIX: COUNT leases of 10.x.y.z to 02:01:.. MACs
	python3 - "$1" "$2" <<'PY'
import sys, time
n, pfx, end = int(sys.argv[1]), sys.argv[2], int(time.time()) + 86400
for i in range(n):
    print("%d 02:01:00:00:%02x:%02x 10.1.%d.%d %s%d 01:02" % (end, i >> 8, i & 255, i >> 8, i & 255, pfx, i))
PY
}
applies() { grep -c 'DHCP leases .*applied (epoch' "$LOG"; }

bh_setup_demo_net
{ cat "$BH_SRC/policies/demo.yaml"; echo "dhcp: {leases: $LEASES}"; } > "$POL"
: > "$LEASES"
bh up -c "$POL" --mode "$MODE" >/dev/null

t_none=() t_full=()
for _ in $(seq "$RUNS"); do
	: > "$LEASES"
	t0=$(ms_now); bh apply "$POL" >/dev/null; t_none+=($(( $(ms_now) - t0 )))
	gen "$N" h > "$LEASES"
	t0=$(ms_now); bh apply "$POL" >/dev/null; t_full+=($(( $(ms_now) - t0 )))
done
echo "# mode $MODE, $N leases of devices not in the policy"
stats "apply, no leases" "${t_none[@]}"
stats "apply, $N leases bound" "${t_full[@]}"

nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" \
	daemon --policy "$POL" --mode "$MODE" --metrics off 2>"$LOG" &
dpid=$!
for _ in $(seq 100); do grep -q ': ready: ' "$LOG" && break; sleep 0.1; done
t_bind=() t_name=() napply=0
for i in $(seq "$RUNS"); do
	# one lease more or less: the bindings change, an apply
	a0=$(applies)
	gen $((N - i % 2)) h > "$BH_TMP/l"
	t0=$(ms_now); cat "$BH_TMP/l" > "$LEASES"
	while [ "$(applies)" -le "$a0" ]; do sleep 0.005; done
	t_bind+=($(( $(ms_now) - t0 )))
	# the same leases, other host names: no apply, the saved copy rewritten
	a0=$(applies)
	gen $((N - i % 2)) n$i > "$BH_TMP/l"
	t0=$(ms_now); cat "$BH_TMP/l" > "$LEASES"
	while ! grep -q " n${i}0 " "$BH_STATE/leases"; do
		sleep 0.005
	done
	t_name+=($(( $(ms_now) - t0 )))
	napply=$((napply + $(applies) - a0))
done
stats "daemon: a lease added or removed, file write to applied" "${t_bind[@]}"
stats "daemon: host names only, file write to names saved" "${t_name[@]}"
echo "daemon: applies for the host-name rewrites: $napply"
[ -n "${BH_LEASES_BENCH_LOG:-}" ] && grep "DHCP leases" "$LOG"
kill "$dpid"
wait "$dpid" 2>/dev/null
