#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# daemon.sh - what `bulkhead daemon` costs: the reload time of an edit
# (from the rename over the policy file to the new epoch being active, seen
# by polling `status --json`), the time a port added to the bridge takes to
# be protected, and the daemon's CPU time and RSS while idle. Runs in its own
# namespaces (selftests/lib.sh), prints the figures; decides nothing.
#   bash bench/daemon.sh [EDITS [IDLE_SECONDS]]
set -u
. "$(dirname "$0")/../selftests/lib.sh"
EDITS=${1:-20}
IDLE=${2:-60}
POL=$BH_TMP/etc/policy.yaml
LOG=$BH_TMP/daemon.log
A=$BH_SRC/policies/demo.yaml
B=$BH_SRC/selftests/policies/e2e/swapped.yaml

ms_now() { echo $(( $(date +%s%N) / 1000000 )); }
epoch() { bh status --json | sed -nE 's/.*"epoch":([0-9]+).*/\1/p'; }
stats() {	# LABEL N1 N2 ...: median and max
	local label=$1
	shift
	printf '%s\n' "$@" | sort -n | awk -v l="$label" \
		'{ v[NR] = $1 } END { printf "%s: median %d ms, max %d ms (%d runs)\n", l, v[int((NR + 1) / 2)], v[NR], NR }'
}

bh_setup_demo_net
mkdir -p "$(dirname "$POL")"
cp "$A" "$POL"
nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" \
	daemon --policy "$POL" --mode tc 2>"$LOG" &
dpid=$!
for _ in $(seq 100); do grep -q ': ready: ' "$LOG" && break; sleep 0.1; done
grep -q ': ready: ' "$LOG" || { cat "$LOG"; exit 1; }

# reload: rename a new file over the policy, poll the epoch
times=()
for i in $(seq 1 "$EDITS"); do
	[ $((i % 2)) = 1 ] && src=$B || src=$A
	e0=$(epoch)
	cp "$src" "$POL.new"
	sleep 0.2
	t0=$(ms_now)
	mv -f "$POL.new" "$POL"
	while [ "$(epoch)" = "$e0" ]; do :; done
	times+=($(( $(ms_now) - t0 )))
done
stats "reload after a rename-over edit (to the new epoch in status)" "${times[@]}"
sleep 0.5	# the epoch flips before the apply ends and logs
applied=$(sed -nE 's/.*applied \(epoch [0-9]+, ([0-9]+) ms\).*/\1/p' "$LOG")
stats "  of which the apply itself (the daemon's log)" $applied

# a port joining the bridge, to its pinned link
times=()
for hh in 71 72 73 74 75; do
	bh_add_device "dev$hh" "$hh" nomaster
	sleep 0.5
	t0=$(ms_now)
	bh_bridge_port "$hh"
	while [ ! -e "$BH_PIN/links/tcx-in:p$hh" ]; do sleep 0.005; done
	times+=($(( $(ms_now) - t0 )))
done
stats "port added to the bridge until its ingress link is pinned" "${times[@]}"

# idle: no edit, no port change, no quarantine
sleep 2
wakeups() { awk '/^voluntary_ctxt_switches/ { print $2 }' /proc/$dpid/status; }
read -r u0 s0 < <(awk '{ print $14, $15 }' /proc/$dpid/stat)
w0=$(wakeups)
sleep "$IDLE"
read -r u1 s1 < <(awk '{ print $14, $15 }' /proc/$dpid/stat)
w1=$(wakeups)
hz=$(getconf CLK_TCK)
echo "idle for $IDLE s: CPU $(( (u1 - u0 + s1 - s0) * 1000 / hz )) ms (user+system)," \
	"$((w1 - w0)) wakeups (voluntary context switches)"
grep -c . "$LOG" | xargs echo "log lines in all:"
echo "memory: $(awk '/^VmRSS/ { print $2, $3 }' /proc/$dpid/status) RSS, $(awk '/^VmHWM/ { print $2, $3 }' /proc/$dpid/status) peak RSS"
kill -TERM $dpid
wait $dpid
