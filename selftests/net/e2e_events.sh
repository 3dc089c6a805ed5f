#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_events.sh - deny events and metrics: a denied flow shows up in
# `bulkhead events --json` with names, proto, port and reason; a flood of
# 5000 denied frames makes a bounded number of ring events while every
# frame is dropped and counted (events + suppressed = drops); isolate,
# release and the end of a timed quarantine are events; the Prometheus
# endpoint answers a real HTTP client with the counters status shows; bad
# requests get 400 (404, 408) and the daemon keeps serving.
# In --mode nft the events come from NFLOG (nflog.c) and the per-device
# counters from the nftables sets; the expectations are the same.
set -u
# bh: stress
. "$(dirname "$0")/../lib.sh"
need socat python3 nsenter curl
MODE=${BH_MODE:-tc}
POL=$BH_TMP/policy.yaml
LOG=$BH_TMP/daemon.log
METRICS=127.0.0.1:9669
FRIDGE=02:00:00:00:00:31
FLOOD=5000
EV_RATE=10		# BH_EV_RATE: events a second per source MAC
EV_BURST=20		# BH_EV_BURST
cp "$BH_SRC/policies/demo.yaml" "$POL"
: > "$LOG"

bh_setup_demo_net
bh_pin_neighbours
C=${BH_IP4[camera]}


# events_q PYTHON-EXPR: evaluated over `e`, the list `bulkhead events --json` gives
events_q() {
	bh events --json | python3 -c "import json,sys; e=json.load(sys.stdin); print($1)"
}
has_event() { [ "$(events_q "$1")" = True ]; }

gw_curl() { nsenter --net=/run/netns/$GW curl -s -m 5 "$@"; }
scrape() { gw_curl "http://$METRICS/metrics"; }
metric() {	# NAME{LABELS} as printed: its value from a scrape on stdin
	awk -v k="$1" '$1 == k { print $2 }'
}

# raw HTTP: the bytes of $1 (printf format) to the endpoint, the status line back
http_raw() {
	nsenter --net=/run/netns/$GW python3 - "$METRICS" "$1" "${2:-0}" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(':', 1)
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(sys.argv[2].encode().decode('unicode_escape').encode('latin-1'))
if int(sys.argv[3]):
    s.sendall(b'A' * int(sys.argv[3]))
data = b''
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except (socket.timeout, ConnectionResetError):
    pass
print(data.split(b'\r\n', 1)[0].decode('latin-1'))
PY
}

# flood FROM TO PORT COUNT: COUNT TCP SYNs by AF_PACKET, as fast as it goes;
# prints the seconds it took
flood() {
	ip netns exec "$(ns_of "$1")" env PYTHONPATH="$BH_SRC/selftests" python3 - \
		"${BH_MAC[$2]}" "${BH_MAC[$1]}" "${BH_IP4[$1]}" "${BH_IP4[$2]}" "$3" "$4" <<'PY'
import socket, sys, time
from pkt import tcp_syn
dmac, smac, sip, dip, port, n = sys.argv[1:7]
frame = tcp_syn(dmac, smac, sip, dip, 41000, int(port))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
t = time.monotonic()
for _ in range(int(n)):
    s.send(frame)
print('%.3f' % (time.monotonic() - t))
PY
}

dev_drops() {	# MAC: drops counted for the device (devices --json)
	bh devices --json | python3 -c \
		"import json,sys; print(sum(d['drops'] for d in json.load(sys.stdin) if d['mac'] == '$1'))"
}
src_count() {	# MAC: frames in the events of that source (all its aggregates)
	events_q "sum(x['count'] for x in e if x['kind'] == 'drop' and x['src_mac'] == '$1')"
}

# ---- the daemon -----------------------------------------------------------------

check "bulkhead events --help" sh -c "'$BULKHEAD' events --help | grep -q '^Usage: bulkhead events'"
check "daemon --help mentions --metrics" sh -c "'$BULKHEAD' daemon --help | grep -q -- '--metrics'"
out=$(bh daemon --policy "$POL" --metrics nowhere 2>&1)
check "daemon --metrics nowhere: exit 1" test $? -eq 1
bh events --json > "$BH_TMP/ev0.json"
check "events with no daemon ever: []" test "$(cat "$BH_TMP/ev0.json")" = "[]"

nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" \
	daemon --policy "$POL" --mode "$MODE" 2>>"$LOG" &
DPID=$!
if wait_until $(scaled 60000) grep -q ': ready: ' "$LOG"; then
	ok "the daemon is ready (metrics on $METRICS)"
else
	fail "the daemon is ready" "log: $(cat "$LOG")"
	tap_done
	exit 1
fi

# ---- a denied flow ----------------------------------------------------------------

expect_drop "fridge -> camera tcp/554 dropped" drop_default pinned tcp_try fridge camera "$C" 554
SEL="[x for x in e if x['kind'] == 'drop' and x['src'] == 'fridge' and x['dst'] == 'camera' and x['port'] == 554]"
if wait_until $(scaled 3000) has_event "len($SEL) == 1"; then
	ok "events --json: one aggregate fridge -> camera port 554"
else
	fail "events --json: fridge -> camera port 554" "$(bh events --json)"
fi
check "... proto tcp, reason drop_default, groups, MACs, addresses" has_event \
	"[(x['proto'], x['reason'], x['src_group'], x['dst_group'], x['src_mac'], x['dst_mac'], x['src_addr'], x['dst_addr'], x['rule_id']) for x in $SEL] == [('tcp', 'drop_default', 'appliances', 'cameras', '$FRIDGE', '02:00:00:00:00:11', '${BH_IP4[fridge]}', '$C', -1)]"
check "... count >= 1 (SYN retries count), first <= last" has_event \
	"all(x['count'] >= 1 and x['first'] <= x['last'] for x in $SEL)"
out=$(bh events)
check "events (text): 'fridge -> camera tcp/554 drop_default x'" \
	grep -q "^fridge -> camera tcp/554 drop_default x[0-9]*, first .*, last " <<<"$out"

# ---- a flood ------------------------------------------------------------------------

sleep $(( EV_BURST / EV_RATE + 1 ))	# the fridge's bucket full again
ev0=$(scrape | metric bulkhead_events_total)
drop0=$(counter drop_default)
dev0=$(dev_drops $FRIDGE)
cnt0=$(src_count $FRIDGE)
secs=$(flood fridge camera 8554 $FLOOD)
sleep 0.5
# the next event of the fridge carries what was suppressed
tcp_try fridge camera "$C" 8554
sleep 1.5	# the daemon writes the file once a second
ev1=$(scrape | metric bulkhead_events_total)
drop1=$(counter drop_default)
dev1=$(dev_drops $FRIDGE)
cnt1=$(src_count $FRIDGE)
nev=$((ev1 - ev0))
# allowed: the burst, the refill while the flood and the follow-up ran, slack
cap=$(python3 -c "import math; print($EV_BURST + math.ceil($EV_RATE * ($secs + 3)) + 5)")
check "flood of $FLOOD denied frames in ${secs}s: all dropped (drop_default +$((drop1 - drop0)))" \
	test $((drop1 - drop0)) -ge $FLOOD
check "... $nev events, capped (<= $cap)" test "$nev" -le "$cap"
check "... at least the burst came through ($nev >= $EV_BURST)" test "$nev" -ge "$EV_BURST"
check "... events + suppressed = drops: the fridge's events count $((cnt1 - cnt0)), its drops $((dev1 - dev0))" \
	test $((cnt1 - cnt0)) -eq $((dev1 - dev0))
check "... the flood is one aggregate, port 8554, count >= $FLOOD" has_event \
	"[x['count'] >= $FLOOD for x in e if x['src'] == 'fridge' and x['port'] == 8554] == [True]"
check "the daemon still runs" kill -0 "$DPID"

# ---- quarantine changes ---------------------------------------------------------------

bh isolate $FRIDGE --reason test >/dev/null
check "isolate: an event (kind isolate, src fridge)" wait_until $(scaled 3000) has_event \
	"any(x['kind'] == 'isolate' and x['src'] == 'fridge' for x in e)"
bh release $FRIDGE >/dev/null
check "release: an event (kind release)" wait_until $(scaled 3000) has_event \
	"any(x['kind'] == 'release' and x['src'] == 'fridge' for x in e)"
bh isolate $FRIDGE --for 2s >/dev/null
check "isolate --for 2s: a timed_release event when it ends" wait_until $(scaled 6000) has_event \
	"any(x['kind'] == 'timed_release' and x['src'] == 'fridge' for x in e)"
check "events (text): 'fridge isolate x2'" sh -c "'$BULKHEAD' --pin-dir '$BH_PIN' --state-dir '$BH_STATE' events | grep -q '^fridge isolate x2, first'"

# ---- --follow --------------------------------------------------------------------------

bh events --follow --json > "$BH_TMP/follow.out" 2>&1 &
FPID=$!
sleep 1
n0=$(wc -l < "$BH_TMP/follow.out")
tcp_try laptop camera "$C" 23 || true	# laptop -> camera tcp/23: drop_default
check "events --follow: prints the new aggregate (laptop -> camera port 23)" wait_until $(scaled 4000) \
	grep -q '"src":"laptop","src_mac".*"port":23,' "$BH_TMP/follow.out"
check "... one JSON object a line" python3 -c "
import json
for l in open('$BH_TMP/follow.out'):
    json.loads(l)"
# bh is a function: $! is its subshell, the follower is that subshell's child
kill $(pgrep -P "$FPID") "$FPID" 2>/dev/null
wait "$FPID" 2>/dev/null

# ---- metrics ----------------------------------------------------------------------------

expect_pass "nvr -> camera tcp/554 passes (rule 0)" cold tcp_try nvr camera "$C" 554
scrape > "$BH_TMP/m1"
check "GET /metrics with curl: 200 and a body" test -s "$BH_TMP/m1"
ctype=$(gw_curl -o /dev/null -w '%{content_type}' "http://$METRICS/metrics")
check "Content-Type text/plain; version=0.0.4" grep -q 'text/plain; version=0.0.4' <<<"$ctype"
check "every metric has HELP and TYPE, every line parses" python3 - "$BH_TMP/m1" <<'PY'
import re, sys
help_, type_, seen = set(), set(), set()
name = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
lab = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample = re.compile(r'^(%s)(\{%s(?:,%s)*\})? (-?[0-9.e+]+)$' % (name, lab, lab))
for l in open(sys.argv[1]).read().splitlines():
    if l.startswith('# HELP '):
        help_.add(l.split()[2]); continue
    if l.startswith('# TYPE '):
        assert l.split()[3] in ('counter', 'gauge'), l
        type_.add(l.split()[2]); continue
    m = sample.match(l)
    assert m, 'bad line: ' + l
    seen.add(m.group(1))
assert seen and seen <= help_ and seen <= type_, (seen - help_, seen - type_)
for n in seen:
    if n in type_ and n.endswith('_total'):
        pass
PY

# counters: a scrape and status --json back to back agree (retried: live traffic)
metrics_match() {
	scrape > "$BH_TMP/m"
	bh status --json > "$BH_TMP/s"
	bh devices --json > "$BH_TMP/d"
	python3 - "$BH_TMP/m" "$BH_TMP/s" "$BH_TMP/d" <<'PY'
import json, re, sys
m = {}
for l in open(sys.argv[1]).read().splitlines():
    if not l.startswith('#'):
        k, v = l.rsplit(' ', 1)
        m[k] = float(v)
s = json.load(open(sys.argv[2]))
d = json.load(open(sys.argv[3]))
bad = []
def eq(k, want):
    if m.get(k) != want:
        bad.append('%s: metrics %s, status %s' % (k, m.get(k), want))
for r, c in s['counters'].items():
    eq('bulkhead_verdict_packets_total{reason="%s"}' % r, c['packets'])
    eq('bulkhead_verdict_bytes_total{reason="%s"}' % r, c['bytes'])
    if r.startswith('drop_'):
        eq('bulkhead_drops_total{reason="%s"}' % r, c['packets'])
for h in s['rules_hits']:
    lab = h['key'].replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
    eq('bulkhead_rule_hits_total{rule="%s"}' % lab, h['packets'])
    if '.yaml:' in h['key']:
        bad.append('a rule key with a line number: %s' % h['key'])
eq('bulkhead_policy_epoch', s['epoch'])
eq('bulkhead_quarantined_devices', s['quarantined'])
eq('bulkhead_policy_last_apply_success', 1)
eq('bulkhead_up', 1)
for x in d:
    if x['packets']:
        k = 'bulkhead_device_%s_total{mac="%s",name="%s",group="%s"}'
        for w in ('packets', 'bytes', 'drops'):
            eq(k % (w, x['mac'], x['name'], x['group']), x[w])
if not any(k.startswith('bulkhead_map_entries{map="bh_devices"}') for k in m):
    bad.append('no map fill levels')
if m.get('bulkhead_rule_hits_total{rule="%s"}' % s['rules_hits'][0]['key'], 0) < 1:
    bad.append('rule 0 has no hits')
if bad:
    print('\n'.join(bad))
    sys.exit(1)
PY
}
match=1
for try in 1 2 3 4 5; do
	if metrics_match > "$BH_TMP/mm" 2>&1; then match=0; break; fi
	sleep 0.3
done
if [ $match -eq 0 ]; then
	ok "metrics = status --json / devices --json: reasons, drops, rule hits, devices, epoch, quarantine"
else
	fail "metrics = status --json / devices --json" "$(tr '\n' ';' < "$BH_TMP/mm")"
fi
check "fridge's drops in metrics (name and group labels)" sh -c \
	"grep -q '^bulkhead_device_drops_total{mac=\"$FRIDGE\",name=\"fridge\",group=\"appliances\"} [1-9]' '$BH_TMP/m'"
check "map fill levels: bh_ct entries and capacity" sh -c \
	"grep -q '^bulkhead_map_entries{map=\"bh_ct\"} [0-9]' '$BH_TMP/m' && grep -q '^bulkhead_map_max_entries{map=\"bh_ct\"} 262144' '$BH_TMP/m'"

# ---- bad requests --------------------------------------------------------------------------

check "garbage: 400" test "$(http_raw 'BLAH\r\n\r\n')" = "HTTP/1.0 400 Bad Request"
check "no HTTP version: 400" test "$(http_raw 'GET /metrics\r\n\r\n')" = "HTTP/1.0 400 Bad Request"
check "binary: 400" test "$(http_raw 'GET /\x00\xff HTTP/1.0\r\n\r\n')" = "HTTP/1.0 400 Bad Request"
check "a head over 4 KiB: 400" test "$(http_raw 'GET /metrics HTTP/1.0\r\nX: ' 8000)" = "HTTP/1.0 400 Bad Request"
check "POST: 405" test "$(http_raw 'POST /metrics HTTP/1.0\r\n\r\n')" = "HTTP/1.0 405 Method Not Allowed"
check "GET /other: 404" test "$(http_raw 'GET /other HTTP/1.1\r\nHost: x\r\n\r\n')" = "HTTP/1.0 404 Not Found"
check "HTTP/1.1 with headers: 200" test "$(http_raw 'GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n')" = "HTTP/1.0 200 OK"
# a client that sends half a request and waits: the others are served meanwhile
http_raw 'GET /metr' > "$BH_TMP/slow" &
SLOW=$!
sleep 0.3
t0=$(ms_now)
scrape > /dev/null
t1=$(ms_now)
check "a stalled client does not hold up a scrape ($((t1 - t0)) ms, limit $(scaled 1000))" test $((t1 - t0)) -lt "$(scaled 1000)"
wait $SLOW
check "... and gets 408 after the timeout" test "$(cat "$BH_TMP/slow")" = "HTTP/1.0 408 Request Timeout"
check "the daemon still runs after the bad requests" kill -0 "$DPID"
check "... and still answers /metrics" sh -c "nsenter --net=/run/netns/$GW curl -sf -m $((5 * BH_TIME_SCALE)) http://$METRICS/metrics | grep -q '^bulkhead_up 1'"
check "bad requests counted" sh -c "nsenter --net=/run/netns/$GW curl -s -m 5 http://$METRICS/metrics | grep -q '^bulkhead_metrics_requests_total{result=\"bad\"} [1-9]'"

# ---- a MAC flood ------------------------------------------------------------------------------
# A compromised device sends from more source MACs than the per-MAC
# counters hold (BH_MAX_DEVSTATS, 65536: an LRU map, or in --mode nft the
# sets dev_stats/dev_drops, which stop taking new MACs when full). Counting
# is best effort there; the verdict is not: every frame is still dropped,
# the policy's devices are still judged and counted, the daemon still serves.

macflood() {	# FROM TO PORT COUNT: COUNT SYNs, each from a new source MAC
	ip netns exec "$(ns_of "$1")" env PYTHONPATH="$BH_SRC/selftests" python3 - \
		"${BH_MAC[$2]}" "${BH_IP4[$2]}" "$3" "$4" <<'PY'
import socket, sys
from pkt import tcp_syn
dmac, dip, port, n = sys.argv[1:5]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
base = tcp_syn(dmac, '02:fe:00:00:00:00', '192.168.50.250', dip, 41000, int(port))
for i in range(int(n)):
    # locally administered unicast 02:fe:xx:xx:xx:xx, one per frame
    s.send(base[:6] + bytes([2, 0xfe]) + i.to_bytes(4, 'big') + base[12:])
PY
}
all_drops() {
	bh status --json | python3 -c \
		"import json,sys; print(sum(v['packets'] for k, v in json.load(sys.stdin)['counters'].items() if k.startswith('drop_')))"
}
MACS=${BH_MACFLOOD:-70000}
d0=$(all_drops)
fr0=$(dev_drops $FRIDGE)
macflood fridge camera 8555 $MACS
sleep 0.5
d1=$(all_drops)
check "MAC flood: $MACS frames from $MACS source MACs, all dropped (+$((d1 - d0)))" \
	test $((d1 - d0)) -ge "$MACS"
rows=$(bh devices --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
check "... devices lists at most the counters' capacity ($rows rows, 65536 + the policy's)" \
	test "$rows" -le $((65536 + 16))
check "... and the flood's MACs fill it ($rows >= 60000)" test "$rows" -ge 60000
expect_drop "after the flood: fridge -> camera tcp/554 still dropped" drop_default \
	pinned tcp_try fridge camera "$C" 554
fr1=$(dev_drops $FRIDGE)
check "... and counted on the fridge ($fr0 -> $fr1 drops)" test "$fr1" -gt "$fr0"
expect_pass "after the flood: nvr -> camera tcp/554 still passes" cold tcp_try nvr camera "$C" 554
check "the daemon still runs after the MAC flood" kill -0 "$DPID"
check "... and still answers /metrics" sh -c "nsenter --net=/run/netns/$GW curl -sf -m $((20 * BH_TIME_SCALE)) http://$METRICS/metrics | grep -q '^bulkhead_up 1'"

# ---- the end ----------------------------------------------------------------------------------

kill -TERM "$DPID"
wait "$DPID"
check "SIGTERM: the daemon exits 0" test $? -eq 0
check "the events stay readable without the daemon" has_event \
	"any(x['src'] == 'fridge' and x['port'] == 554 for x in e)"
if nsenter --net=/run/netns/$GW curl -s -m 2 "http://$METRICS/metrics" >/dev/null; then
	fail "the endpoint is gone with the daemon"
else
	ok "the endpoint is gone with the daemon"
fi
tap_done
