#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cli_diff.sh - `bulkhead diff POLICY [--json]` and the --json output of
# check and explain. First against a state dir written by hand (no kernel),
# then against a real `up` in a gateway namespace: diff of an edited policy,
# apply, diff again (no changes), down (not up: exit 1).
set -u
. "$(dirname "$0")/../lib.sh"

json() {	# python expression over the JSON document `j` read from stdin
	python3 -c 'import json, sys; j = json.load(sys.stdin); print('"$1"')'
}

expect_rc() {	# want name cmd...
	local want=$1 name=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	[ "$rc" -eq "$want" ] && ok "$name" || fail "$name" "exit $rc, wanted $want: $(echo "$out" | head -3)"
}

T=$BH_TMP
demo=$BH_SRC/policies/demo.yaml
# the demo policy, edited: the fridge moves to a new group 'kitchen', a
# laptop is added, nvr-pulls-rtsp gets port 555, the unnamed appliances rule
# goes, east_west and quarantine.allow change, the rules are reordered
python3 - "$demo" "$T/edited.yaml" <<'PY'
import sys
s = open(sys.argv[1]).read()
s = s.replace('  appliances:\n    members:\n      - {mac: "02:00:00:00:00:31"',
              '  appliances: {}\n  kitchen:\n    members:\n      - {mac: "02:00:00:00:00:31"')
s = s.replace('name: laptop, ip: [192.168.50.41, "fd00:50::41"]}\n',
              'name: laptop, ip: [192.168.50.41, "fd00:50::41"]}\n      - {mac: "02:00:00:00:00:42", name: laptop2}\n')
s = s.replace('ports: [554, "8000-8010"]', 'ports: [554, 555, "8000-8010"]')
s = s.replace('  - {from: appliances, to: internet, proto: tcp, ports: [443]}\n', '')
s = s.replace('allow: [dhcp, dns]', 'allow: [dhcp, dns, ntp]')
lines = s.split('\n')
r = [i for i, l in enumerate(lines) if l.startswith('  - {name:')]
lines[r[0]], lines[r[-1]] = lines[r[-1]], lines[r[0]]
s = '\n'.join(lines)
s = s.replace('east_west: deny', 'east_west: allow') if 'east_west: deny' in s else \
    s.replace('defaults:\n', 'defaults:\n  east_west: allow\n', 1)
open(sys.argv[2], 'w').write(s)
PY
"$BULKHEAD" check "$T/edited.yaml" >/dev/null 2>&1 || { fail "the edited demo policy validates"; tap_done; exit 1; }
printf 'version: 1\ninterfaces: [br-lan]\nrules:\n  - {from: nobody, to: any}\n' > "$T/bad.yaml"

verify_diff() {	# label cmd...: the edited policy's changes, text and JSON
	local label=$1 out rc
	shift
	out=$("$@" diff "$T/edited.yaml" 2>&1)
	rc=$?
	[ $rc -eq 0 ] && ok "$label: diff exits 0" || fail "$label: diff exits 0" "exit $rc: $out"
	for want in "groups:" "  + kitchen" \
		    "  > 02:00:00:00:00:31 (fridge): appliances -> kitchen" \
		    "  + 02:00:00:00:00:42 (laptop2) in laptops" \
		    "  ~ nvr-pulls-rtsp: allow nvr -> cameras tcp 554,8000-8010 -> allow nvr -> cameras tcp 554-555,8000-8010" \
		    "  - allow appliances -> internet tcp 443" \
		    "  ~ defaults.east_west: deny -> allow" \
		    "  ~ quarantine.allow: dhcp,dns -> dhcp,dns,ntp"; do
		grep -qxF -- "$want" <<<"$out" && ok "$label: diff shows '$want'" ||
			fail "$label: diff shows '$want'" "$out"
	done
	# reordered rules are no change: exactly the 7 changes above
	n=$("$@" diff --json "$T/edited.yaml" 2>/dev/null | json 'j["changes"]')
	[ "$n" = 7 ] && ok "$label: diff --json counts 7 changes (reordering is none)" ||
		fail "$label: diff --json counts 7 changes" "$n: $("$@" diff "$T/edited.yaml" 2>&1)"
	got=$("$@" diff --json "$T/edited.yaml" 2>/dev/null |
	      json '[(i["op"], i["name"], i["old"], i["new"]) for i in j["items"] if i["section"] == "members" and i["subject"] == "02:00:00:00:00:31"]')
	[ "$got" = "[('moved', 'fridge', 'appliances', 'kitchen')]" ] &&
		ok "$label: diff --json: the fridge moved, by MAC, with its name" ||
		fail "$label: diff --json: the fridge moved" "$got"
	out=$("$@" diff "$demo" 2>&1)
	grep -qx "no changes" <<<"$out" && ok "$label: diff of the running policy: no changes" ||
		fail "$label: diff of the running policy: no changes" "$out"
	out=$("$@" diff "$T/bad.yaml" 2>&1 >/dev/null)
	rc=$?
	[ $rc -eq 1 ] && grep -qE "^$T/bad.yaml:4:[0-9]+: unknown group 'nobody'" <<<"$out" &&
		ok "$label: diff of a bad policy: exit 1 with file:line:col" ||
		fail "$label: diff of a bad policy: exit 1 with file:line:col" "exit $rc: $out"
}

# ---- no kernel: the state an 'up' leaves, written by hand ------------------------
mkdir -p "$T/pins" "$T/state"
cp "$demo" "$T/state/policy.yaml"
printf 'mode=tc\npolicy=%s\nepoch=1\n' "$demo" > "$T/state/up"
offline() { "$BULKHEAD" --pin-dir "$T/pins" --state-dir "$T/state" "$@"; }
verify_diff "state dir" offline
expect_rc 1 "diff with no argument: exit 1" offline diff
expect_rc 1 "diff with two arguments: exit 1" offline diff "$demo" "$demo"
expect_rc 0 "diff --help" offline diff --help
out=$("$BULKHEAD" --pin-dir "$T/nopins" --state-dir "$T/state" diff "$demo" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q "not up" <<<"$out" && ok "diff with nothing pinned: exit 1, 'not up'" ||
	fail "diff with nothing pinned: exit 1, 'not up'" "exit $rc: $out"
out=$("$BULKHEAD" --pin-dir "$T/pins" --state-dir "$T/empty" diff "$demo" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q "not up" <<<"$out" && ok "diff with an empty state dir: exit 1, 'not up'" ||
	fail "diff with an empty state dir: exit 1, 'not up'" "exit $rc: $out"

# ---- check --json, explain --json --------------------------------------------------
out=$("$BULKHEAD" check --json "$demo")
got=$(json '(j["ok"], j["interfaces"], j["groups"], j["devices"], j["rules"], j["builtin_rules"])' <<<"$out")
[ "$got" = "(True, ['br-lan'], 5, 4, 6, 2)" ] && ok "check --json: summary" || fail "check --json: summary" "$out"
out=$("$BULKHEAD" check --json "$T/bad.yaml" 2>/dev/null)
rc=$?
got=$(json '(j["ok"], len(j["errors"]), j["errors"][0].split(": ", 1)[1])' <<<"$out")
[ $rc -eq 1 ] && [ "$got" = "(False, 1, \"unknown group 'nobody'\")" ] &&
	ok "check --json of a bad policy: exit 1, ok false, the errors" ||
	fail "check --json of a bad policy" "exit $rc: $out"
out=$("$BULKHEAD" explain --json -c "$demo" nvr camera tcp/554)
got=$(json '(j["verdict"], "nvr-pulls-rtsp" in j["rule"], j["reason"])' <<<"$out")
[ "$got" = "('pass', True, 'pass_rule')" ] && ok "explain --json nvr camera tcp/554: pass by the rule" ||
	fail "explain --json nvr camera tcp/554" "$out"
out=$("$BULKHEAD" explain -c "$demo" --json fridge camera tcp/554)
got=$(json '(j["verdict"], j["rule"], "east_west" in j["why"], j["reason"])' <<<"$out")
[ "$got" = "('drop', None, True, 'drop_default')" ] && ok "explain --json fridge camera tcp/554: drop by the default" ||
	fail "explain --json fridge camera tcp/554" "$out"

# ---- a real up -----------------------------------------------------------------------
if [ "$(id -u)" != 0 ] || ! command -v nsenter >/dev/null; then
	skip "diff against a real 'up'" "needs root and nsenter"
	tap_done
	exit
fi
bh_setup_gateway
out=$(bh up -c "$demo" --mode tc 2>&1) && ok "up (tc)" || { fail "up" "$out"; tap_done; exit 1; }
verify_diff "up" bh
out=$(bh apply "$T/edited.yaml" 2>&1) && ok "apply the edited policy" || fail "apply the edited policy" "$out"
out=$(bh diff "$T/edited.yaml" 2>&1)
grep -qx "no changes" <<<"$out" && ok "after apply, diff of it: no changes" ||
	fail "after apply, diff of it: no changes" "$out"
n=$(bh diff --json "$demo" 2>/dev/null | json 'j["changes"]')
[ "$n" = 7 ] && ok "after apply, diff of the old one: the 7 changes back" || fail "diff back" "$n"
bh down >/dev/null 2>&1
out=$(bh diff "$demo" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q "not up" <<<"$out" && ok "after down: exit 1, 'not up'" ||
	fail "after down: exit 1, 'not up'" "exit $rc: $out"
tap_done
