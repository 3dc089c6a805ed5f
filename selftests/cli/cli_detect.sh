#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cli_detect.sh - the commands' side of detection, no traffic: release
# --for starts a grace period (saved in the state dir, shown by status and
# devices, pruned when it ends, refused with a bad duration); an isolate
# with detection's "auto: ..." reason is shown as such by status and
# devices; a detect event in the events file is shown by events.
set -u
. "$(dirname "$0")/../lib.sh"
need nsenter python3
MODE=${BH_MODE:-tc}
[ "$MODE" = nft ] && MODE=tc
P=$BH_SRC/policies/demo.yaml
CAM=02:00:00:00:00:11

bh_setup_gateway
bh_add_device camera 11
bh_up_ok() { bh up -c "$P" --mode "$MODE" >/dev/null 2>&1; }
check "up --mode $MODE" bh_up_ok

rc_is 1 "release --for with a bad duration: exit 1" "is not a duration" bh release camera --for soon
rc_is 0 "release --for 1h of a device not isolated: the grace period all the same" \
	"grace period of 1h, until" bh release camera --for 1h
check "the grace is saved: detect-grace holds '$CAM UNTIL'" \
	grep -qE "^$CAM [0-9]+$" "$BH_STATE/detect-grace"
rc_is 0 "status shows the grace period" "grace: $CAM \((59m|1h)" bh status
check "status --json: grace[0].remaining" \
	test "$(status_field "s['grace'][0]['remaining'] > 3500")" = True
rc_is 0 "devices shows it in the QUARANTINE column" "^$CAM +camera .* grace (59m|1h)" bh devices
rc_is 0 "devices says what the grace means" "^grace: $CAM camera until .*: detection does not isolate it again" bh devices

reason="auto: port scan of 192.168.50.21, 15 ports in 12 s"
check "isolate with detection's reason" bh isolate camera --reason "$reason"
rc_is 0 "status gives the auto reason" "    $CAM: $reason" bh status
check "status --json: quarantine[0].reason" \
	test "$(status_field "s['quarantine'][0]['reason']")" = "$reason"
rc_is 0 "devices gives the auto reason" "^quarantine: $CAM camera since .*: $reason" bh devices
rc_is 0 "release --for 30m: released and a new grace" "released" bh release camera --for 30m
rc_is 0 "... the grace replaced, not added" "grace: $CAM \((29m|30m)" bh status
check "... one line in detect-grace" test "$(wc -l < "$BH_STATE/detect-grace")" = 1

# a grace that ended is not shown
echo "$CAM 1000" > "$BH_STATE/detect-grace"
rc_is 0 "an ended grace is not shown" "^$CAM +camera +- " bh devices

# a detect event, as the daemon writes it (kind 5: after would_drop), shown by events
now=$(($(date +%s) * 1000))
printf 'v1 5 1 %s %s %s %s 2048 6 1 2 1025 3 %s %s 1 7\n' 020000000011 000000000000 \
	00000000000000000000000000000000 00000000000000000000ffffc0a83215 "$now" "$now" \
	> "$BH_STATE/events"
rc_is 0 "events shows a detect event: signal, level, verdict, target" \
	"^camera detect port scan, act level: isolate; last target 192.168.50.21 tcp/1025 x1" bh events
rc_is 0 "events --json: kind detect, signal port_scan, action isolate" \
	'"kind":"detect".*"signal":"port_scan","level":"act","action":"isolate"' bh events --json

# explain knows the blocklist: a policy file's (-c), and the entries in
# force for the applied policy
BL=$BH_TMP/blocklist.txt
BP=$BH_TMP/blocklist.yaml
printf '# C&C\n203.0.113.77\n198.51.100.0/24 ; SBL1\n' > "$BL"
{ cat "$P"; printf 'detect:\n  blocklist: {file: %s, act: 1}\n' "$BL"; } > "$BP"
rc_is 0 "explain -c: an allowed internet flow to a blocklisted address is DROP" \
	"^fridge .* -> 198.51.100.9 .*tcp/443: DROP" bh explain -c "$BP" fridge 198.51.100.9 tcp/443
rc_is 0 "... counted as drop_block, the file and line named" \
	"listed at $BL:3\$" bh explain -c "$BP" fridge 198.51.100.9 tcp/443
rc_is 0 "... an address not listed passes by the same rule" \
	"^fridge .* -> 198.51.99.9 .*tcp/443: PASS" bh explain -c "$BP" fridge 198.51.99.9 tcp/443
# --batch: one query a line, in order, the policy read once; a bad line is
# named by file:line and the rest are still judged (exit 1)
Q=$BH_TMP/queries.txt
printf '# flows\nfridge 198.51.100.9 tcp/443\n\nnobody camera tcp/1\nfridge 198.51.99.9 tcp/443\nfridge camera\n' > "$Q"
out=$(bh explain -c "$BP" --batch "$Q" 2>&1); rc=$?
check "explain --batch: exit 1 for the bad lines" test "$rc" = 1
check "... the queries judged in order (DROP, then PASS)" test "$(echo "$out" | grep -oE ': (PASS|DROP)$' | tr -d ': ' | tr '\n' ' ')" = "DROP PASS "
check "... the bad lines named: $Q:4 and $Q:6" sh -c "echo '$out' | grep -q '$Q:4: not judged' && echo '$out' | grep -q '$Q:6: want SRC DST PROTO'"
check "explain --batch - --json: one object a line from stdin" \
	test "$(grep -v nobody "$Q" | grep -v 'camera$' | bh explain -c "$BP" --json --batch - | grep -c '^{"src"')" = 2
rc_is 1 "explain with --batch and a query on the command line is refused" "not the command line" \
	bh explain -c "$BP" --batch "$Q" fridge camera tcp/1

# a blocklist that cannot be read is an error, never a judgement without it
mv "$BL" "$BL.gone"
rc_is 1 "explain -c: a missing blocklist file is an error naming it" \
	"blocklist.yaml:[0-9]+:[0-9]+: detect.blocklist.file: cannot read $BL: No such file" bh explain -c "$BP" fridge 198.51.100.9 tcp/443
rc_is 1 "... and --json prints the error object" '"error":.*No such file' \
	bh explain --json -c "$BP" fridge 198.51.100.9 tcp/443
mv "$BL.gone" "$BL"
rc_is 0 "the applied policy has no blocklist: the same flow passes" \
	"^fridge .* -> 198.51.100.9 .*tcp/443: PASS" bh explain fridge 198.51.100.9 tcp/443
check "apply the policy with the blocklist" bh apply -c "$BP"
rc_is 0 "explain (applied): the entry in force in the dataplane" \
	"listed at $BL:2 \(the entry in force in the dataplane\)" bh explain fridge 203.0.113.77 tcp/443
rc_is 0 "explain --json: reason drop_block" '"reason":"drop_block"' \
	bh explain --json fridge 203.0.113.77 tcp/443

bh down >/dev/null 2>&1
tap_done
