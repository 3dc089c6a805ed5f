#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dataplane_diff.sh - a dataplane (BH_MODE: nft, tc or xdp) against the reference
# evaluator, through real namespaces: random policies over the demo network
# and random first packets of flows (TCP SYN, UDP, ICMP echo; IPv4 and IPv6;
# to devices, the gateway and the internet), each sent from a device as a
# raw frame with a marker, recorded where it arrives, and compared with the
# verdict of `bulkhead explain` (the reference evaluator). Any mismatch
# fails and prints the seed and the frame.
# In tc and xdp mode, every frame is sent twice (the second one meets the
# flow verdict cache the first filled), and the previous policy's frames
# are sent again, first, under the new one (their verdicts were cached
# under the old policy): a stale cached verdict is a mismatch.
#   BH_DP_DIFF_SEED (random), BH_DP_DIFF_POLICIES (2), BH_DP_DIFF_COUNT (1000)
set -u
. "$(dirname "$0")/../lib.sh"
need python3 nsenter
SEED=${BH_DP_DIFF_SEED:-$((RANDOM * 32768 + RANDOM))}
NPOL=${BH_DP_DIFF_POLICIES:-2}
COUNT=${BH_DP_DIFF_COUNT:-1000}
PY=$BH_SRC/selftests/net/dataplane_diff.py
GWMAC=02:00:00:00:00:01
MODE=${BH_MODE:-nft}
echo "# $MODE dataplane differential: seed $SEED, $NPOL policies x $COUNT frames (BH_DP_DIFF_SEED to repeat)"

bh_setup_demo_net
listeners=()
listen() {	# NS KIND OUT
	nsenter --net="/run/netns/$1" python3 "$PY" listen "$2" "$3" > "$3.ready" 2>&1 &
	listeners+=($!)
}

for p in $(seq 0 $((NPOL - 1))); do
	ps=$((SEED + p))
	python3 "$PY" policy "$ps" > "$BH_TMP/policy-$p.yaml"
	if [ "$p" = 0 ]; then
		out=$(bh up -c "$BH_TMP/policy-$p.yaml" --mode "$MODE" 2>&1)
	else
		out=$(bh apply "$BH_TMP/policy-$p.yaml" 2>&1)
	fi || { fail "policy seed $ps: up/apply" "$out"; continue; }
	bh_pin_neighbours
	python3 "$PY" frames "$ps" "$COUNT" > "$BH_TMP/frames-orig-$p.json"
	if [ "$MODE" = nft ]; then
		cp "$BH_TMP/frames-orig-$p.json" "$BH_TMP/frames-$p.json"
	else
		# the previous policy's frames, then these, then these again (new
		# markers, same tuples)
		python3 - "$COUNT" "$BH_TMP/frames-orig-$((p - 1)).json" \
			"$BH_TMP/frames-orig-$p.json" > "$BH_TMP/frames-$p.json" <<'PY'
import json, os, sys
count, prev, cur = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def emit(path, base):
    for line in open(path):
        f = json.loads(line)
        f['id'] += base
        print(json.dumps(f))
if os.path.exists(prev):
    emit(prev, 2 * count)
emit(cur, 0)
emit(cur, count)
PY
	fi

	listeners=()
	for d in "${BH_DEVICES[@]}"; do
		listen "${BH_NS[$d]}" packet "$BH_TMP/got-$p-$d"
	done
	listen "$INET" packet "$BH_TMP/got-$p-internet"
	listen "$GW" local "$BH_TMP/got-$p-gateway"
	for w in "${BH_DEVICES[@]}" internet gateway; do
		for _ in $(seq 50); do
			grep -qs ready "$BH_TMP/got-$p-$w.ready" && break
			sleep 0.1
		done
	done
	for d in "${BH_DEVICES[@]}"; do
		in_ns "$d" python3 "$PY" send "$BH_TMP/frames-$p.json" "$d" "$GWMAC"
	done
	sleep 1
	kill -TERM "${listeners[@]}" 2>/dev/null
	wait "${listeners[@]}" 2>/dev/null

	# the reference: one explain per distinct flow
	python3 - "$BH_TMP/frames-$p.json" "$BH_TMP" "$p" > "$BH_TMP/flows-$p" <<'PY'
import json, sys
seen = set()
for line in open(sys.argv[1]):
    f = json.loads(line)
    proto = ('icmpv6' if f['v6'] else 'icmp') if f['proto'] == 'icmp' else '%s/%d' % (f['proto'], f['dport'])
    k = (f['src'], f['daddr'], proto)
    if k not in seen:
        seen.add(k)
        print(' '.join(k))
PY
	# one explain --batch for all of them (the policy read once); should
	# a query fail, its line has no verdict, and each is asked alone
	: > "$BH_TMP/verdicts-$p"
	bh explain --batch "$BH_TMP/flows-$p" 2>/dev/null | grep -E '^[^ ].* -> .*: (PASS|DROP)$' |
		grep -oE ': (PASS|DROP)$' | tr -d ': ' > "$BH_TMP/batch-$p"
	if [ "$(wc -l < "$BH_TMP/batch-$p")" = "$(wc -l < "$BH_TMP/flows-$p")" ]; then
		paste -d ' ' "$BH_TMP/flows-$p" "$BH_TMP/batch-$p" > "$BH_TMP/verdicts-$p"
	else
		while read -r src daddr proto; do
			v=$(bh explain "$src" "$daddr" "$proto" 2>/dev/null | grep -oE ': (PASS|DROP)$' | tr -d ': ')
			echo "$src $daddr $proto ${v:-ERROR}" >> "$BH_TMP/verdicts-$p"
		done < "$BH_TMP/flows-$p"
	fi

	res=$(python3 - "$BH_TMP" "$p" "$ps" <<'PY'
import json, os, sys
tmp, p, seed = sys.argv[1], sys.argv[2], sys.argv[3]
verdict = {}
for line in open(os.path.join(tmp, 'verdicts-' + p)):
    src, daddr, proto, v = line.split()
    verdict[(src, daddr, proto)] = v
got = {}
for name in os.listdir(tmp):
    if name.startswith('got-%s-' % p) and not name.endswith('.ready'):
        where = name[len('got-%s-' % p):]
        got[where] = set(int(x) for x in open(os.path.join(tmp, name)).read().split())
n = bad = passed = 0
for line in open(os.path.join(tmp, 'frames-%s.json' % p)):
    f = json.loads(line)
    proto = ('icmpv6' if f['v6'] else 'icmp') if f['proto'] == 'icmp' else '%s/%d' % (f['proto'], f['dport'])
    want = verdict[(f['src'], f['daddr'], proto)]
    arrived = f['id'] in got.get(f['where'], set())
    n += 1
    passed += arrived
    if want == 'ERROR' or arrived != (want == 'PASS'):
        bad += 1
        if bad <= 10:
            print('# MISMATCH (policy seed %s): %s -> %s %s from port %d: reference %s, dataplane %s'
                  % (seed, f['src'], f['daddr'], proto, f['sport'], want,
                     'delivered' if arrived else 'dropped'))
print('RESULT %d %d %d' % (n, bad, passed))
PY
)
	echo "$res" | grep '^#'
	set -- $(echo "$res" | grep '^RESULT')
	if [ "${2:-0}" -gt 0 ] && [ "${3:-1}" = 0 ]; then
		echo "# policy $p: $2 frames, $4 delivered, $3 mismatches"
		ok "policy seed $ps: the $MODE dataplane and the reference evaluator agree on $2 frames ($4 delivered)"
	else
		fail "policy seed $ps: $MODE dataplane vs reference evaluator" \
			"$3 mismatches of $2 frames; policy $(cat "$BH_TMP/policy-$p.yaml")"
	fi
done
tap_done
