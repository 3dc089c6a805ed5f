#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cli_honest.sh - no command claims what it did not see (issue 14): a pin
# dir off bpffs, missing or out of reach is an error (exit 2), never
# "down"; a pin dir that looks down while the bridge's ports carry another
# instance's programs is an error too; a second instance's up is refused
# and its down leaves the first one's nftables tables; permission problems
# are "permission denied: PATH" (exit 2); every --json command prints a
# JSON error object on failure.
set -u
. "$(dirname "$0")/../lib.sh"
need nsenter setpriv nft python3
MODE=${BH_MODE:-tc}
[ "$MODE" = nft ] && MODE=tc
P=$BH_SRC/policies/demo.yaml

# a JSON error object on stdout: {"error":"...","exit":N}
json_err() {	# WANT-EXIT NAME CMD...
	local want=$1 name=$2 out
	shift 2
	out=$("$@" 2>/dev/null)
	if echo "$out" | python3 -c "
import json,sys
o=json.loads(sys.stdin.read())
sys.exit(0 if o.get('exit')==$want and o.get('error') else 1)" 2>/dev/null; then
		ok "$name"
	else
		fail "$name" "stdout: $out"
	fi
}

quiet() { "$@" >/dev/null 2>&1; }
gw() { nsenter --net=/run/netns/$GW "$BULKHEAD" "$@"; }
OTHER_PIN=/sys/fs/bpf/bh-other-$SUF
OTHER_STATE=$BH_TMP/other
bh_other() { gw --pin-dir "$OTHER_PIN" --state-dir "$OTHER_STATE" "$@"; }

bh_setup_gateway
bh_add_device camera 11
bh_add_device fridge 31

# ---- pin dirs where nothing can be seen ------------------------------------
rc_is 2 "status with a pin dir whose parent does not exist: exit 2" "does not exist" \
	gw --pin-dir /sys/fs/bfp/bulkhead --state-dir "$BH_STATE" status
rc_is 2 "status with a pin dir off bpffs: exit 2" "not on a bpf filesystem" \
	gw --pin-dir "$BH_TMP/pins" --state-dir "$BH_STATE" status
json_err 2 "status --json with a pin dir off bpffs: a JSON error" \
	gw --pin-dir "$BH_TMP/pins" --state-dir "$BH_STATE" status --json
rc_is 2 "devices with a pin dir off bpffs: exit 2" "not on a bpf filesystem" \
	gw --pin-dir "$BH_TMP/pins" --state-dir "$BH_STATE" devices
rc_is 2 "isolate with a pin dir off bpffs: exit 2, nothing queued" "not on a bpf filesystem" \
	gw --pin-dir "$BH_TMP/pins" --state-dir "$BH_STATE" isolate 02:00:00:00:00:31
check "... and the quarantine file holds nothing" test ! -s "$BH_STATE/quarantine"
rc_is 2 "down with a pin dir off bpffs: exit 2" "not on a bpf filesystem" \
	gw --pin-dir "$BH_TMP/pins" --state-dir "$BH_STATE" down

out=$(bh up -c "$P" --mode "$MODE" 2>&1) && ok "up --mode $MODE" ||
	{ fail "up" "$out"; tap_done; exit 1; }

# ip netns exec remounts /sys: /sys/fs/bpf there is no bpffs
rc_is 2 "status under 'ip netns exec' (sysfs remounted): exit 2, not down" \
	"not on a bpf filesystem.*ip netns exec" \
	ip netns exec "$GW" "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" status
rc_is 2 "isolate under 'ip netns exec': exit 2" "not on a bpf filesystem" \
	ip netns exec "$GW" "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" isolate 02:00:00:00:00:31

# a typo in --pin-dir, while Bulkhead is up with the right one
TYPO=/sys/fs/bpf/bh-typo-$SUF
rc_is 2 "status with a mistyped pin dir while up: exit 2 naming the port" \
	"port p(11|31) carries Bulkhead's program bulkhead_" \
	gw --pin-dir "$TYPO" --state-dir "$BH_STATE" status
json_err 2 "status --json with a mistyped pin dir while up: a JSON error" \
	gw --pin-dir "$TYPO" --state-dir "$BH_STATE" status --json
rc_is 2 "isolate with a mistyped pin dir while up: exit 2, not queued" \
	"port p(11|31) carries Bulkhead's program" \
	gw --pin-dir "$TYPO" --state-dir "$OTHER_STATE" isolate 02:00:00:00:00:31
check "... and nothing was saved" test ! -s "$OTHER_STATE/quarantine"
rc_is 2 "devices with a mistyped pin dir while up: exit 2" "carries Bulkhead's program" \
	gw --pin-dir "$TYPO" --state-dir "$BH_STATE" devices
rc_is 2 "down with a mistyped pin dir while up: exit 2" "carries Bulkhead's program" \
	gw --pin-dir "$TYPO" --state-dir "$BH_STATE" down
check "... and Bulkhead is still up" test "$(status_field "s['up']")" = True

# ---- a second instance ----------------------------------------------------
rc_is 2 "a second instance's up on the same bridge is refused (exit 2)" \
	"port p(11|31) carries Bulkhead's program" bh_other up -c "$P" --mode "$MODE"
check "... and the first one keeps its ports" test "$(status_field "len(s['interfaces'])")" = 2
rc_is 0 "the first instance's up again: adopts its own links" "up, policy" \
	bh up -c "$P" --mode "$MODE"

# ---- the medium items: say what is odd -------------------------------------
rc_is 0 "isolate of a MAC neither in the policy nor seen: warns (a typo?)" "a typo\\?" \
	bh isolate 02:00:00:00:77:77
bh release 02:00:00:00:77:77 >/dev/null 2>&1
out=$(bh isolate 02:00:00:00:00:11 2>&1)
if [ $? -eq 0 ] && ! echo "$out" | grep -q "typo"; then ok "isolate of a policy device: no warning"
else fail "isolate of a policy device: no warning" "$out"; fi
bh release 02:00:00:00:00:11 >/dev/null 2>&1
# by name, as explain takes it
rc_is 0 "isolate by the device's name (camera)" "02:00:00:00:00:11" bh isolate camera
check "... the camera's MAC is the one quarantined" \
	test "$(status_field "s['quarantined']")" = 1
rc_is 0 "release by name" "02:00:00:00:00:11 released" bh release camera
rc_is 1 "isolate of a name no device has: exit 1, says so" "nor a device name" \
	bh isolate no-such-device
rc_is 0 "events with no daemon running: says only the daemon collects events" \
	"only the daemon" bh events

# ---- permission problems --------------------------------------------------
nobody() { nsenter --net=/run/netns/$GW setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" "$@"; }
rc_is 2 "status as nobody: exit 2, permission denied" "permission denied: " nobody status
json_err 2 "status --json as nobody: a JSON error, not {\"up\":false}" nobody status --json
rc_is 2 "devices as nobody: exit 2, permission denied" "permission denied: " nobody devices
rc_is 2 "explain -c FILE as nobody: exit 2, permission denied (not out of memory)" \
	"permission denied: " nobody explain -c "$P" fridge camera tcp/554
rc_is 2 "isolate as nobody: exit 2" "ermission denied" nobody isolate 02:00:00:00:00:31
json_err 2 "events --json as nobody: a JSON error" nobody events --json

# ---- --json on failure -----------------------------------------------------
json_err 1 "diff --json of a policy that does not validate: a JSON error" \
	bh diff --json "$BH_SRC/selftests/policies/bad/$(ls "$BH_SRC/selftests/policies/bad" | head -1)"
json_err 1 "diff --json while down: a JSON error" bh_other diff --json "$P"
json_err 1 "explain --json with an unknown source: a JSON error" \
	bh explain --json -c "$P" nobody-here camera tcp/80
json_err 1 "check --json of a missing file: a JSON error" bh check --json "$BH_TMP/nope.yaml"

# ---- --leases belongs to the command it is given to --------------------------
LA=$BH_TMP/a.leases LB=$BH_TMP/b.leases POL=$BH_TMP/policy.yaml LOG=$BH_TMP/daemon.log
: > "$LA"
echo "$(( $(date +%s) + 3600 )) 02:00:00:00:00:62 192.168.50.62 host-b *" > "$LB"
{ cat "$P"; echo "dhcp: {leases: $LA}"; } > "$POL"
host_of() {	# MAC: its host name in `devices --json`
	bh devices --json | python3 -c "
import json,sys
print(''.join(d['host'] for d in json.load(sys.stdin) if d['mac']=='$1'))"
}
wait_host() {	# MAC HOST: within 3 s
	for _ in $(seq 60); do [ "$(host_of "$1")" = "$2" ] && return 0; sleep 0.05; done
	return 1
}
nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" \
	daemon --policy "$POL" --metrics off 2>"$LOG" &
DPID=$!
# its up loads and verifies the programs: seconds, more on a loaded machine
ready() { grep -q 'ready:' "$LOG"; }
wait_until $(scaled 60000) ready && ok "daemon ready" || fail "daemon ready" "$(cat "$LOG")"
out=$(cd "$BH_TMP" && bh apply "$POL" --leases b.leases 2>&1) && ok "apply --leases b.leases (relative)" ||
	fail "apply --leases b.leases" "$out"
check "... binds b.leases' lease once" wait_host 02:00:00:00:00:62 host-b
check "... and the file followed is still the policy's" grep -qx "leases=$LA" "$BH_STATE/up"
echo "$(( $(date +%s) + 3600 )) 02:00:00:00:00:61 192.168.50.61 host-a *" > "$LA"
check "the daemon still follows the policy's dhcp.leases, not apply's --leases" \
	wait_host 02:00:00:00:00:61 host-a
kill "$DPID" 2>/dev/null
wait "$DPID" 2>/dev/null

# ---- down: only this instance's tables -------------------------------------
out=$(bh down 2>&1) && ok "down" || fail "down" "$out"
out=$(bh up -c "$P" --mode nft 2>&1) && ok "up --mode nft" || fail "up --mode nft" "$out"
mkdir -p "$OTHER_PIN"
rc_is 0 "another pin dir's down while up in nft mode: nothing of ours removed" "left as they are" \
	bh_other down
check "... table bridge bulkhead is still there" quiet \
	nsenter --net=/run/netns/$GW nft list table bridge bulkhead
check "... and table inet bulkhead" quiet nsenter --net=/run/netns/$GW nft list table inet bulkhead
rmdir "$OTHER_PIN" 2>/dev/null
out=$(bh down 2>&1) && ok "down" || fail "down" "$out"
check "... removes the tables" bash -c "! nsenter --net=/run/netns/$GW nft list table bridge bulkhead 2>/dev/null"

# ---- devices: addresses and why; after down, what up restores ------------------
out=$(bh up -c "$P" --mode tc 2>&1) && ok "up again" || fail "up again" "$out"
rc_is 0 "isolate the fridge with a reason" "isolated" bh isolate fridge --reason "odd DNS"
rc_is 0 "devices: each device's addresses, where they come from" \
	"^02:00:00:00:00:31 .* 192\.168\.50\.31 \(ip\), fd00:50::31 \(ip\)" bh devices
rc_is 0 "devices: the quarantine's reason and start" \
	"^quarantine: 02:00:00:00:00:31 fridge since [0-9-]+ [0-9:]+: odd DNS" bh devices
check "devices --json: reason and addresses" python3 -c "
import json,sys
d={x['mac']:x for x in json.loads(sys.argv[1])}
f=d['02:00:00:00:00:31']
assert f['quarantined'] and f['reason']=='odd DNS' and f['since']>0 and '192.168.50.31 (ip)' in f['addresses'], f" "$(bh devices --json)"
out=$(bh down 2>&1) && ok "down, the fridge still isolated" || fail "down" "$out"
rc_is 0 "status after down: the saved quarantine up restores" \
	"saved quarantine: 02:00:00:00:00:31: odd DNS \(up restores it\)" bh status
check "status --json after down: quarantine_saved" python3 -c "
import json,sys
s=json.loads(sys.argv[1])
assert s['up'] is False and s['quarantine_saved'][0]['mac']=='02:00:00:00:00:31', s" "$(bh status --json)"
rc_is 0 "devices after down: the fridge isolated at up" "^02:00:00:00:00:31 .* at up " bh devices
rc_is 0 "release while down" "released" bh release fridge
check "status --json after down and release: {\"up\":false}" test "$(bh status --json)" = '{"up":false}'

# a rule to a CIDR inside the bridge's own prefix never matches a device: a
# warning with its place; one to the internet says nothing
LP=$BH_TMP/lan-cidr.yaml
sed 's|to: 203.0.113.0/24, proto: tcp, ports: \[443\]|to: 192.168.50.16/28, proto: tcp, ports: [443]|' "$P" > "$LP"
line=$(grep -n '192.168.50.16/28' "$LP" | cut -d: -f1)
rc_is 0 "check: a rule to 192.168.50.16/28 (inside br-lan's 192.168.50.0/24) is a warning, exit 0" \
	"warning: $LP:$line:[0-9]+: 192.168.50.16/28 lies inside the bridge's own prefix \(192.168.50.1/24\)" \
	bh check "$LP"
out=$(bh check "$P" 2>&1)
if grep -q "lies inside" <<<"$out"; then
	fail "check of the demo policy (rules to the internet): no such warning" "$out"
else
	ok "check of the demo policy (rules to the internet): no such warning"
fi
tap_done
