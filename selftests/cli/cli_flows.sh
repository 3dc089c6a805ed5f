#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cli_flows.sh - `bulkhead flows` and `bulkhead learn` without a network:
# a state dir written by hand (an applied demo policy, a flow history with
# a corrupt line and a file of another version), Bulkhead down. Bad input
# is refused with exit status 1 (--since bogus, --device unknown, learn -o
# onto the running policy or its copy); bad history lines are reported as
# FILE:LINE and skipped; the history alone is shown, and said to be so.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$BH_SRC"

# run_bh CMD...: bulkhead's stdout in $out, stderr in $err, status in $rc
run_bh() {
	"$BULKHEAD" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

expect() {	# name want-rc grep-where grep-what CMD...
	local name=$1 want=$2 where=$3 what=$4 text
	shift 4
	run_bh "$@"
	[ "$where" = out ] && text=$out || text=$err
	if [ "$rc" -eq "$want" ] && { [ -z "$what" ] || grep -qF -- "$what" <<<"$text"; }; then
		ok "$name"
	else
		fail "$name" "exit $rc (wanted $want), $where lacks '$what': $(head -c 600 <<<"$out$err")"
	fi
}

tmp=$BH_TMP
st=$tmp/state
export BULKHEAD_PIN_DIR=$tmp/pin BULKHEAD_STATE_DIR=$st
mkdir -p "$st/flows" "$tmp/pin"
chmod 700 "$st" "$st/flows"

# the applied policy: the demo's, as an up leaves it
cp policies/demo.yaml "$tmp/running.yaml"
cp policies/demo.yaml "$st/policy.yaml"
printf 'mode=tc\npolicy=%s\nepoch=1\n' "$tmp/running.yaml" > "$st/up"

now=$(date +%s)
day=$(date -u +%F)
camera=02:00:00:00:00:11 nvr=02:00:00:00:00:21 fridge=02:00:00:00:00:31 laptop=02:00:00:00:00:41
rec() {	# SMAC KIND DMAC DADDR PROTO PORT VERDICT
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t5\t500\n' $((now - 60)) $((now - 30)) "$@"
}
{
	echo "# bulkhead flows 1"
	rec $nvr device $camera 192.168.50.11 tcp 554 pass
	rec $fridge device $camera 192.168.50.11 tcp 554 would_drop
	echo "this is not a record"
	rec $laptop multicast - 224.0.0.251 udp 5353 pass
	rec $camera internet - 198.51.100.0/24 tcp 443 drop
	printf '%s\t%s\t%s\tdevice\t%s\t192.168.50.21\ttcp\t80\tpass\t1\t' "$now" "$now" $fridge $nvr
} > "$st/flows/$day"
printf '# bulkhead flows 99\n' > "$st/flows/$(date -u -d yesterday +%F)"
chmod 600 "$st/flows/"*

# ---- flows ------------------------------------------------------------------------
expect "flows --help exits 0" 0 out "--since DURATION" flows --help
expect "learn --help exits 0" 0 out "--explicit" learn --help
expect "flows --since bogus: exit 1, says why" 1 err "--since must be a duration" flows --since bogus
expect "flows --since 0s: exit 1" 1 err "--since" flows --since 0s
expect "flows --device unknown: exit 1, says why" 1 err "no such device" flows --device toaster
expect "flows with an operand: exit 1 and the usage" 1 err "Usage: bulkhead flows" flows extra
expect "flows: the history, Bulkhead down: exit 0" 0 out "would-drop" flows
grep -qF "not up" <<<"$err" && ok "flows: says Bulkhead is down, the history only" ||
	fail "flows: says Bulkhead is down, the history only" "$err"
grep -qE "flows/$day:4: " <<<"$err" && ok "flows: the corrupt line reported as FILE:LINE" ||
	fail "flows: the corrupt line reported as FILE:LINE" "$err"
grep -qE "flows/$day:7: .*truncated" <<<"$err" && ok "flows: the torn last line reported" ||
	fail "flows: the torn last line reported" "$err"
grep -qF "not a flow file of this version" <<<"$err" &&
	ok "flows: a file of another version reported, skipped" ||
	fail "flows: a file of another version reported, skipped" "$err"
lines=$(grep -cE "tcp/554|udp/5353|tcp/443" <<<"$out")
[ "$lines" -eq 4 ] && ok "flows: the 4 good records shown, the bad ones skipped" ||
	fail "flows: the 4 good records shown, the bad ones skipped" "$out"
grep -E "^nvr +camera +tcp/554 +pass" <<<"$out" >/dev/null &&
	grep -E "^fridge +camera +tcp/554 +would-drop" <<<"$out" >/dev/null &&
	grep -E "^camera +internet 198.51.100.0/24 +tcp/443 +DENIED" <<<"$out" >/dev/null &&
	ok "flows: names from the applied policy, would-drop and DENIED marks" ||
	fail "flows: names from the applied policy, would-drop and DENIED marks" "$out"
expect "flows --json: exit 0" 0 out "" flows --json
python3 -c 'import json,sys; j=json.load(sys.stdin); assert len(j["flows"]) == 4 and j["bad_lines"] == 3, j' \
	<<<"$out" 2>"$tmp/py" && ok "flows --json: 4 flows, bad_lines 3" ||
	fail "flows --json: 4 flows, bad_lines 3" "$(cat "$tmp/py") $out"
expect "flows --device fridge (a member's name)" 0 out "fridge" flows --device fridge
[ "$(grep -c "tcp/" <<<"$out")" -eq 1 ] && ! grep -q "^nvr" <<<"$out" &&
	ok "flows --device fridge: only the fridge's flows" ||
	fail "flows --device fridge: only the fridge's flows" "$out"
expect "flows --device MAC: the camera as source and destination" 0 out "camera" \
	flows --device 02:00:00:00:00:11
[ "$(grep -c "tcp/" <<<"$out")" -eq 3 ] && ok "flows --device MAC: 3 flows" ||
	fail "flows --device MAC: 3 flows" "$out"
expect "flows --since 1s: the records of a minute ago are out" 0 out "" flows --since 1s
! grep -q "tcp/554" <<<"$out" && ok "flows --since: filters by last seen" ||
	fail "flows --since: filters by last seen" "$out"
expect "flows --matrix: exit 0" 0 out "mcast" flows --matrix
ls -la "$st/flows" > "$tmp/before"
sum_before=$(cat "$st/flows/"* | md5sum)

# ---- learn ------------------------------------------------------------------------
sum_running=$(md5sum < "$tmp/running.yaml")
expect "learn -o the running policy's file: exit 1, says why" 1 err "running policy" \
	learn -o "$tmp/running.yaml"
[ "$(md5sum < "$tmp/running.yaml")" = "$sum_running" ] &&
	ok "learn -o the running policy's file: the file is untouched" ||
	fail "learn -o the running policy's file: the file is untouched"
ln -s running.yaml "$tmp/link.yaml"
expect "learn -o a symlink to the running policy: exit 1" 1 err "running policy" \
	learn -o "$tmp/link.yaml"
expect "learn -o the state dir's copy: exit 1" 1 err "running policy" learn -o "$st/policy.yaml"
expect "learn --since bogus: exit 1" 1 err "--since" learn --since 3parsecs
expect "learn -o a dir that does not exist: exit 1" 1 err "cannot write" learn -o "$tmp/no/such/draft.yaml"
expect "learn -o draft.yaml: exit 0, the diff against the running policy" 0 out \
	"+ allow appliances -> cameras tcp 554" learn -o "$tmp/draft.yaml"
grep -qF "audit: 1 recorded flows would have been dropped: the running policy drops 1 of them, the draft allows 1" <<<"$out" &&
	ok "learn: the audit counts" || fail "learn: the audit counts" "$out"
"$BULKHEAD" check "$tmp/draft.yaml" >/dev/null 2>&1 && ok "learn: the draft passes check" ||
	fail "learn: the draft passes check" "$("$BULKHEAD" check "$tmp/draft.yaml" 2>&1)"
grep -qF "learned: 1 flow (1 would_drop)" "$tmp/draft.yaml" &&
	ok "learn: the rule's comment counts the flows" ||
	fail "learn: the rule's comment counts the flows" "$(cat "$tmp/draft.yaml")"
grep -qF "not a flow file" <<<"$err" && ok "learn: bad history lines reported" ||
	fail "learn: bad history lines reported" "$err"
expect "learn (stdout): the draft on stdout, the report on stderr" 0 err "passes 'bulkhead check'" learn
grep -q "^version: 1" <<<"$out" && ! grep -q "bulkhead: learn" <<<"$out" &&
	ok "learn (stdout): stdout is the draft alone" || fail "learn (stdout): stdout is the draft alone" "$out"
expect "learn --json: exit 0" 0 out "" learn --json
python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["records"] == 4 and j["audit"]["would_drop"] == 1 and j["audit"]["draft_allows"] == 1 and j["changes"] >= 1 and j["draft"].startswith("#"), j' \
	<<<"$out" 2>"$tmp/py" && ok "learn --json: counts, changes and the draft" ||
	fail "learn --json: counts, changes and the draft" "$(cat "$tmp/py") $out"
[ "$(cat "$st/flows/"* | md5sum)" = "$sum_before" ] && ls -la "$st/flows" | cmp -s - "$tmp/before" &&
	ok "flows and learn wrote nothing to the history" ||
	fail "flows and learn wrote nothing to the history" "$(ls -la "$st/flows")"

tap_done
