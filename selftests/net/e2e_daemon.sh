#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_daemon.sh - bulkhead daemon: it comes up with nothing pinned; an
# edit of the policy file written in place and one renamed over it are
# live within a bounded time (traffic flips both ways); an invalid edit is
# logged as file:line:col and the running policy stays; a port added to the
# bridge, and one deleted and re-created, is protected within a second; a
# timed quarantine ends on time; SIGKILL leaves enforcement on and a restart
# takes over (a port added and an edit made meanwhile are picked up); one
# daemon at a time; SIGTERM exits cleanly and leaves enforcement on.
set -u
# bh: stress
. "$(dirname "$0")/../lib.sh"
need socat ping python3 nsenter nft arping
MODE=${BH_MODE:-tc}
P=$BH_SRC/selftests/policies/e2e
DEMO=$BH_SRC/policies/demo.yaml
ETC=$BH_TMP/etc
POL=$ETC/policy.yaml
LOG=$BH_TMP/daemon.log
CAM=02:00:00:00:00:11
EDIT_LIMIT_MS=$(scaled 5000)	# an edit is live within this
PORT_LIMIT_MS=$(scaled 1000)	# a new port is protected within this
mkdir -p "$ETC"
cp "$DEMO" "$POL"
: > "$LOG"

bh_setup_demo_net
bh_pin_neighbours
C=${BH_IP4[camera]}

# ---- helpers -----------------------------------------------------------------


daemon_start() {	# the daemon in the background; DPID is bulkhead itself
	nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" \
		daemon --policy "$POL" --mode "$MODE" 2>>"$LOG" &
	DPID=$!
}

readies() { grep -c ': ready: ' "$LOG"; }
ready_count_is() { [ "$(readies)" -ge "$1" ]; }
logged() { grep -qF -- "$1" "$LOG"; }
ifindex_of() { ip -n "$GW" -o link show "$1" | cut -d: -f1; }
port_attached() {	# PORT IFINDEX: status lists PORT on IFINDEX (no python: polled)
	bh status --json | grep -qF "{\"name\":\"$1\",\"ifindex\":$2,"
}
quarantined_is() { bh status --json | grep -qF "\"quarantined\":$1,"; }

# write_inplace FILE: its content into $POL by truncate + write (one fd)
write_inplace() { cat "$1" > "$POL"; }
# write_rename FILE: a new file in the same directory, renamed over $POL
write_rename() { cp "$1" "$ETC/.policy.yaml.new" && mv -f "$ETC/.policy.yaml.new" "$POL"; }
# write_link FILE: $POL removed, a hard link made in its place (IN_CREATE
# only); the other name goes, or the next edit through it would alias $POL
write_link() {
	cp "$1" "$ETC/.policy.yaml.lnk" && rm -f "$POL" && ln "$ETC/.policy.yaml.lnk" "$POL" &&
		rm -f "$ETC/.policy.yaml.lnk"
}

# edit_live NAME HOW FILE: the edit is applied (the epoch moves) in time
edit_live() {
	local name=$1 how=$2 file=$3 e0
	e0=$(bh_epoch)
	"$how" "$file"
	if wait_until $EDIT_LIMIT_MS bh_epoch_above "$e0"; then
		ok "$name: live in $WAITED_MS ms (limit $EDIT_LIMIT_MS)"
	else
		fail "$name: live within $EDIT_LIMIT_MS ms" "epoch still $(bh_epoch); log: $(tail -n 3 "$LOG")"
	fi
}

demo_enforced() {	# NAME: the demo policy's two marker flows
	expect_pass "$1: nvr -> camera tcp/554 passes" cold tcp_try nvr camera "$C" 554
	expect_drop "$1: fridge -> camera tcp/554 dropped" drop_default pinned tcp_try fridge camera "$C" 554
}

swapped_enforced() {	# NAME: both marker flows flipped
	expect_pass "$1: fridge -> camera tcp/554 passes" cold tcp_try fridge camera "$C" 554
	expect_drop "$1: nvr -> camera tcp/554 dropped" drop_default pinned tcp_try nvr camera "$C" 554
}

# ---- up, edits ---------------------------------------------------------------

check "bulkhead daemon --help" sh -c "'$BULKHEAD' daemon --help | grep -q '^Usage: bulkhead daemon'"
daemon_start
if wait_until $(scaled 60000) ready_count_is 1; then
	ok "the daemon is ready in $WAITED_MS ms, nothing was pinned"
else
	fail "the daemon is ready" "log: $(cat "$LOG")"
	tap_done
	exit 1
fi
check "it came up itself (log: 'up: policy')" logged "up: policy $POL"
check "status: up, mode $MODE" test "$(status_field "s['up'] and s['interfaces'][0]['mode']")" = "$MODE"
demo_enforced "at start"

edit_live "an edit written in place" write_inplace "$P/swapped.yaml"
swapped_enforced "after the in-place edit"
edit_live "an edit written to a new file and renamed over" write_rename "$DEMO"
demo_enforced "after the rename-over edit"

# invalid edits: logged with file:line:col, nothing changes
e0=$(bh_epoch)
write_rename "$P/bad-group.yaml"
if wait_until $EDIT_LIMIT_MS logged "$POL:6:25: unknown group 'nvr'"; then
	ok "an invalid edit (renamed over) is logged as $POL:6:25 ($WAITED_MS ms)"
else
	fail "an invalid edit is logged as file:line:col" "log: $(tail -n 5 "$LOG")"
fi
write_inplace "$P/bad-syntax.yaml"
if wait_until $EDIT_LIMIT_MS logged "$POL:3:1: YAML syntax error"; then
	ok "an invalid edit (in place) is logged as $POL:3:1 ($WAITED_MS ms)"
else
	fail "an invalid edit is logged as file:line:col" "log: $(tail -n 5 "$LOG")"
fi
check "the log says the running policy stays" logged "not applied, the running policy stays in force (epoch $e0)"
check "the epoch did not move ($e0)" test "$(bh_epoch)" = "$e0"
demo_enforced "after the invalid edits"
edit_live "a valid edit after the invalid ones" write_inplace "$P/swapped.yaml"
swapped_enforced "after the invalid edits were fixed"
edit_live "a new file linked into place" write_link "$P/swapped.yaml"
swapped_enforced "after the linked edit"
edit_live "back to the demo policy" write_rename "$DEMO"

# ---- ports -------------------------------------------------------------------

# timed from the moment the port joins the bridge, with the daemon idle
bh_add_device newcam 51 nomaster
idx=$(ifindex_of p51)
sleep 1
bh_bridge_port 51
if wait_until $PORT_LIMIT_MS port_attached p51 "$idx"; then
	ok "a port added to the bridge is protected in $WAITED_MS ms (limit $PORT_LIMIT_MS)"
else
	fail "a port added to the bridge is protected within $PORT_LIMIT_MS ms" "status: $(bh status)"
fi
ip -n "${BH_NS[newcam]}" neigh replace "$C" lladdr "$CAM" dev eth0 nud permanent
expect_drop "the new device (unknown group) -> camera tcp/554 dropped" \
	drop_default pinned tcp_try newcam camera "$C" 554
check "the log names the port" logged "port p51: protected ($MODE)"

old=$(ifindex_of p31)
ip -n "$GW" link del p31
check "a deleted port is unpinned" wait_until $PORT_LIMIT_MS logged "port p31: gone"
bh_add_device fridge2 31 nomaster
ip netns del "${BH_NS[fridge]}"
BH_NS[fridge]=${BH_NS[fridge2]}
ip -n "${BH_NS[fridge]}" neigh replace "$C" lladdr "$CAM" dev eth0 nud permanent
idx=$(ifindex_of p31)
sleep 1
bh_bridge_port 31
if [ "$idx" != "$old" ] && wait_until $PORT_LIMIT_MS port_attached p31 "$idx"; then
	ok "a port deleted and re-created (ifindex $old -> $idx) is protected again in $WAITED_MS ms"
else
	fail "a re-created port is protected within $PORT_LIMIT_MS ms" "status: $(bh status)"
fi
expect_drop "the re-created port is judged: fridge -> camera tcp/554 dropped" \
	drop_default pinned tcp_try fridge camera "$C" 554

# ---- a MAC that moves to another port ----------------------------------------

# the bridge learns the camera's MAC on p11; then newcam (p51) sends with
# it and the camera's address (what Bulkhead judges is then the camera's:
# docs/security.md, MAC spoofing): a move, logged and an event; the camera
# speaking again moves it back
moves() { grep -c ' moved from port ' "$LOG"; }
ev_has() { bh events 2>/dev/null | grep -qE -- "$1"; }
evj_has() { bh events --json 2>/dev/null | grep -qE -- "$1"; }
GWIP=192.168.50.1
# an ARP request for the gateway: every device may resolve it, so the
# bridge learns the sender whatever the policy says of its traffic
arp_gw() { in_ns "$1" timeout 3 arping -q -c 1 -w 1 -I eth0 "${@:2}" "$GWIP" >/dev/null 2>&1; }
arp_gw camera
m0=$(moves)
NCMAC=$(ip -n "${BH_NS[newcam]}" -o link show eth0 | sed -nE 's/.*link\/ether ([0-9a-f:]+).*/\1/p')
ip -n "${BH_NS[newcam]}" link set eth0 address "$CAM"
ip -n "${BH_NS[newcam]}" addr add "$C/24" dev eth0
arp_gw newcam -s "$C"
if wait_until $(scaled 3000) logged "$CAM moved from port p11 to port p51"; then
	ok "a MAC seen on p11, then on p51: logged as a move in $WAITED_MS ms"
else
	fail "a MAC moving from p11 to p51 is logged" "log: $(grep moved "$LOG" | tail -3)"
fi
check "events: camera mac_move: from port p11 to port p51" \
	wait_until $(scaled 3000) ev_has "^camera mac_move: from port p11 to port p51 x1"
check "events --json: kind mac_move, from_port, to_port" \
	evj_has '"kind":"mac_move".*"from_port":"p11","to_port":"p51"'
ip -n "${BH_NS[newcam]}" addr del "$C/24" dev eth0
ip -n "${BH_NS[newcam]}" link set eth0 address "$NCMAC"
arp_gw camera
check "the camera speaking on p11 again: a move back" \
	wait_until $(scaled 3000) logged "$CAM moved from port p51 to port p11"
arp_gw newcam
sleep 1
check "devices that stay on their ports are no moves: 2 logged ($(($(moves) - m0)))" \
	test "$(($(moves) - m0))" = 2

# ---- timed quarantine --------------------------------------------------------

for d in 5x 10 0s "" -3s 1.5h 2H 3661d; do
	out=$(bh isolate $CAM --for "$d" 2>&1)
	rc=$?
	if [ $rc = 1 ] && grep -qE "not a duration|longer than" <<<"$out"; then
		ok "isolate --for '$d' refused: exit 1, '$(head -n 1 <<<"$out" | cut -c1-60)...'"
	else
		fail "isolate --for '$d' refused with exit 1 and a reason" "exit $rc: $out"
	fi
done
check "nothing was isolated by them" quarantined_is 0

# pinned before the clock starts: the denied check below runs inside the
# timed window, QSECS long (3 s, times BH_TIME_SCALE: the checks inside it
# take longer on a loaded or emulated machine)
QSECS=$((3 * BH_TIME_SCALE))
bh_pin_neighbours
t0=$(ms_now)
out=$(bh isolate $CAM --for ${QSECS}s 2>&1) && ok "isolate $CAM --for ${QSECS}s" || fail "isolate --for ${QSECS}s" "$out"
left=$(status_field "[q['remaining'] for q in s['quarantine'] if q['mac'] == '$CAM'][0]")
# read a second or so after the isolate: a second per time scale of slack
check "status --json shows the time left ($left s)" test "$left" -ge $((QSECS - BH_TIME_SCALE)) -a "$left" -le $((QSECS + 1))
check "status shows it as text" grep -qE "$CAM \([0-9]+s left\)" <<<"$(bh status)"
check "devices shows it" python3 -c "
import json,sys
d={x['mac']:x for x in json.loads(sys.argv[1])}
assert d['$CAM']['quarantined'] is True and $((QSECS - 2 * BH_TIME_SCALE)) <= d['$CAM']['remaining'] <= $((QSECS + 1)), d['$CAM']" "$(bh devices --json)"
expect_drop "during the quarantine: nvr -> camera tcp/554 dropped" \
	drop_quarantine tcp_try nvr camera "$C" 554
if wait_until $((QSECS * 1000 + $(scaled 3000))) quarantined_is 0; then
	el=$(( $(ms_now) - t0 ))
	# the end is a whole second, rounded up: QSECS to QSECS + 1 s, and the poll
	check "the quarantine ended on time: $el ms after isolate --for ${QSECS}s ($((QSECS * 1000)) to $((QSECS * 1000 + $(scaled 1600))))" \
		test "$el" -ge $((QSECS * 1000)) -a "$el" -le $((QSECS * 1000 + $(scaled 1600)))
else
	fail "the quarantine ended within $((QSECS * 1000 + $(scaled 3000))) ms" "status: $(bh status)"
fi
# the release is visible in status before the daemon logs it
check "the log says it ended" wait_until $(scaled 1000) logged "$CAM: timed quarantine"
check "the nftables set is empty again" sh -c "! ip netns exec $GW nft list set bridge bulkhead quarantine | grep -q $CAM"
check "the state dir no longer lists it" sh -c "! grep -q $CAM '$BH_STATE/quarantine'"
again() {
	for _ in 1 2 3; do
		tcp_try nvr camera "$C" 554 && return 0
		sleep 0.5
	done
	return 1
}
expect_pass "after the quarantine: nvr -> camera tcp/554 passes again" cold again

# ---- SIGKILL, restart ---------------------------------------------------------

# an allowed stream across the kill and the restart: not one echo lost
ip netns exec "${BH_NS[laptop]}" ping -c 200 -i 0.05 -W 1 "$C" > "$BH_TMP/ping" 2>&1 &
pinger=$!
sleep 0.5
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
check "the daemon is gone after SIGKILL" sh -c "! kill -0 $DPID 2>/dev/null"
check "the pins stay" test -e "$BH_PIN/maps/bh_active"
expect_drop "with the daemon killed: fridge -> camera tcp/554 still dropped" \
	drop_default pinned tcp_try fridge camera "$C" 554
expect_drop "with the daemon killed: newcam -> camera tcp/554 still dropped" \
	drop_default pinned tcp_try newcam camera "$C" 554
# meanwhile: an edit and a port nobody handles until the daemon is back
write_inplace "$P/swapped.yaml"
bh_add_device cam2 61
idx=$(ifindex_of p61)
n=$(readies)
daemon_start
if wait_until $(scaled 60000) ready_count_is $((n + 1)); then
	ok "restarted, ready in $WAITED_MS ms"
else
	fail "restarted" "log: $(tail -n 5 "$LOG")"
fi
check "it took over what was pinned" logged "took over what was pinned: policy $POL"
check "the port added meanwhile is protected" port_attached p61 "$idx"
ip -n "${BH_NS[cam2]}" neigh replace "$C" lladdr "$CAM" dev eth0 nud permanent
expect_drop "cam2 (unknown group) -> camera tcp/554 dropped" \
	drop_default pinned tcp_try cam2 camera "$C" 554
swapped_enforced "the edit made meanwhile is live"
wait $pinger
loss=$(grep -oE '[0-9.]+% packet loss' "$BH_TMP/ping")
check "laptop -> camera echoes across the kill and the restart: $loss" test "$loss" = "0% packet loss"
edit_live "after the restart, edits are live again" write_rename "$DEMO"
demo_enforced "after the restart"
e0=$(bh_epoch)
kill -HUP "$DPID"
check "SIGHUP: the policy is applied again" wait_until $EDIT_LIMIT_MS bh_epoch_above "$e0"
check "SIGHUP: logged" logged "SIGHUP: reading the policy"
check "SIGHUP: the daemon still runs" kill -0 "$DPID"

# one daemon at a time
out=$(timeout 10 nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" \
	--state-dir "$BH_STATE" daemon --policy "$POL" 2>&1)
rc=$?
check "a second daemon is refused (exit $rc)" test $rc = 1
check "... saying which one runs" grep -q "another daemon runs .*(pid $DPID)" <<<"$out"
check "the first one still runs" kill -0 "$DPID"

# ---- an up and a down by hand while it runs -------------------------------------

n0=$(wc -l < "$LOG")
out=$(bh down 2>&1) && ok "down by hand while the daemon runs" || fail "down by hand" "$out"
check "the log says Bulkhead is down (one line, no port 'gone')" \
	wait_until $(scaled 3000) logged "Bulkhead is down (a down by hand)"
check "... and no port is logged as gone" sh -c "! tail -n +$((n0 + 1)) '$LOG' | grep -q ': gone, unpinned'"
echo "# an edit while down" >> "$POL"
check "an edit while down: not applied, no policy runs (not 'stays in force')" \
	wait_until $(scaled 3000) logged "not applied: Bulkhead is down, no policy runs"
out=$(bh up -c "$POL" --mode "$MODE" 2>&1) && ok "up by hand while the daemon runs" || fail "up by hand" "$out"
check "the log says Bulkhead is up again" wait_until $(scaled 3000) logged "Bulkhead is up again"

# ---- SIGTERM -------------------------------------------------------------------

kill -TERM "$DPID"
if wait_until $(scaled 3000) sh -c "! kill -0 $DPID 2>/dev/null"; then
	wait "$DPID"
	rc=$?
	check "SIGTERM: exited in $WAITED_MS ms with status $rc" test "$rc" = 0
else
	fail "SIGTERM: exits within 3 s"
fi
check "the log says enforcement stays" logged "SIGTERM: exiting; enforcement stays in place"
check "the pins stay" test -e "$BH_PIN/maps/bh_active"
check "status: still up, 6 ports" test "$(status_field "len(s['interfaces'])")" = 6
expect_drop "after SIGTERM: fridge -> camera tcp/554 still dropped" \
	drop_default pinned tcp_try fridge camera "$C" 554
expect_pass "after SIGTERM: nvr -> camera tcp/554 passes" cold tcp_try nvr camera "$C" 554

if [ "$tap_failed" -gt 0 ]; then
	echo "# daemon log:"
	sed 's/^/#   /' "$LOG"
fi
tap_done
