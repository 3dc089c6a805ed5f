#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_leases.sh - names and bindings from dnsmasq's lease file. A device
# not in the policy (tv) holds a lease: another device forging the leased
# address as its source is dropped and counted as spoof (before the lease,
# the same forgery arrives: the control), the leaseholder still reaches the
# gateway, and only from its leased address. Bad lines and a lease of a
# fixed address are warnings. `devices` shows the lease host name (a
# hostile one made printable). Under the daemon: a renamed host changes no
# binding (no apply); a lease removed, renamed over, ending on its own, and
# a file created after start all take effect within LIMIT_MS; `events`
# and the metrics name the device by its host name. Last, a real dnsmasq
# in the gateway namespace hands a lease to udhcpc and the binding follows,
# and goes when the client releases it.
set -u
# bh: stress
. "$(dirname "$0")/../lib.sh"
need socat python3 nsenter curl
MODE=${BH_MODE:-tc}
POL=$BH_TMP/policy.yaml
LEASES=$BH_TMP/misc/dnsmasq.leases
LOG=$BH_TMP/daemon.log
METRICS=127.0.0.1:9669
LIMIT_MS=$(scaled 2000)	# a change of the lease file is enforced within this
GWIP=192.168.50.1
TVMAC=02:00:00:00:00:61
mkdir -p "$BH_TMP/misc"
: > "$LEASES"
: > "$LOG"
{ cat "$BH_SRC/policies/demo.yaml"; echo "dhcp: {leases: $LEASES}"; } > "$POL"

bh_setup_demo_net
bh_add_device tv 61		# not in the policy: group unknown, leases an address
bh_add_device stranger 63	# not in the policy, no lease: forges the tv's
bh_pin_neighbours
TV=${BH_IP4[tv]}

# the daemon's applies of the leases, from its log (cheap to poll: the
# status of --mode nft reads every counter and takes a while)
applies() { grep -c 'DHCP leases .*: the bound addresses changed, applied (epoch' "$LOG"; }
applied_since() { [ "$(applies)" -gt "$1" ]; }
dns_from() { udp_try "$1" gateway "$GWIP" 53 ${2:+"$2"}; }	# DEVICE [FORGED-SRC]
forge_tv() { dns_from stranger "$TV"; }
no_match() { ! grep -qE -- "$1" <<<"$2"; }	# ERE TEXT
no_cntrl() { ! tr -d '\n' <<<"$1" | LC_ALL=C grep -q '[[:cntrl:]]'; }
host_is() { [ "$(bh devices --json | python3 -c "
import json, sys
print([x['host'] for x in json.load(sys.stdin) if x['mac'] == '$1'])")" = "['$2']" ]; }
# host_now MAC HOST: the same, polled: read by the shell from the compact
# JSON of devices (a row starts "mac", "name", "host"), no python per poll;
# it can only fail when the layout changes (HOST: letters, digits, dashes)
host_now() {
	local j re
	j=$(bh devices --json) || return 1
	re='\{"mac":"'$1'","name":"([^"\\]|\\.)*","host":"'$2'"'
	[[ $j =~ $re ]]
}
lease() {	# EXPIRY MAC IP HOST: one dnsmasq line
	echo "$1 $2 $3 $4 01:$2"
}
in_hour=$(( $(date +%s) + 3600 ))

# ---- up, no lease yet: the forgery works (the control) -----------------------------
check "up --mode $MODE with dhcp.leases and an empty lease file" bh up -c "$POL" --mode "$MODE"
if forge_tv; then ok "control: with no lease, stranger forging $TV reaches the gateway"
else fail "control: with no lease, stranger forging $TV reaches the gateway" "the test below would prove nothing"; fi

# ---- apply with a lease (no daemon: the file is read once) --------------------------
{
	lease "$in_hour" $TVMAC "$TV" tv-living
	printf '%s 02:00:00:00:00:64 192.168.50.64 \033[2Jevil\007 *\n' "$in_hour"	# hostile name
	lease "$in_hour" 02:00:00:00:00:65 192.168.50.11 camera-thief			# a fixed address
	echo "soon $TVMAC $TV bad-expiry *"
	echo "duid 00:01:00:01:2c:5e:8d:a1:02:00:00:00:00:01"
	echo "$in_hour 1234567 fd00:50::61 tv 00:01:00:01"
} > "$LEASES"
out=$(bh apply "$POL" 2>&1)
check "apply with the lease file: exit 0" test $? -eq 0
check "... a bad line is reported as file:line: what" \
	grep -qF "$LEASES:4: expiry 'soon' is not a number of seconds" <<<"$out"
check "... a lease of a fixed address is ignored with a warning" \
	grep -qF "lease of 192.168.50.11 to 02:00:00:00:00:65: the address is bound to 02:00:00:00:00:11 in the policy; ignored" <<<"$out"
check "... the DHCPv6 part is no error" no_match ":[56]: " "$out"
expect_drop "stranger forging the leased $TV is dropped" drop_spoof forge_tv
expect_pass "the leaseholder reaches the gateway from its leased address" cold dns_from tv
expect_drop "the leaseholder from another address is dropped (strict, like a fixed binding)" \
	drop_spoof dns_from tv 192.168.50.99
expect_pass "the camera still uses its fixed address" cold dns_from camera
check "devices --json: the tv's host is tv-living" host_is $TVMAC tv-living
check "devices --json: a hostile host name is made printable" host_is 02:00:00:00:00:64 '?[2Jevil?'
out=$(bh devices)
check "devices: a HOST column with tv-living" grep -qE "^$TVMAC +- +tv-living +unknown " <<<"$out"
check "devices: no control character reaches the terminal" no_cntrl "$out"

# ---- the daemon ---------------------------------------------------------------------------
daemon_args=(daemon --policy "$POL" --mode "$MODE" --metrics "$METRICS")
nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" \
	"${daemon_args[@]}" 2>>"$LOG" &
DPID=$!
check "the daemon is ready" wait_until $(scaled 60000) grep -q ': ready: ' "$LOG"
check "... and watches the lease file" grep -qF "DHCP leases: watching $LEASES" "$LOG"

# a host name changed, the same address: no apply, the name is shown
e0=$(bh_epoch) a0=$(applies)
sed -i 's/ tv-living / tv-kitchen /' "$LEASES"
if wait_until $LIMIT_MS host_now $TVMAC tv-kitchen; then
	ok "a renamed host shows in devices within ${LIMIT_MS} ms (${WAITED_MS} ms)"
else
	fail "a renamed host shows in devices within ${LIMIT_MS} ms"
fi
sleep 0.3
check "... without an apply (the epoch stays $e0)" test "$(bh_epoch)" = "$e0"

# a lease for a device whose fixed ip: wins binds nothing: no apply either
e0=$(bh_epoch)
sed -i "/^duid /i $(lease "$in_hour" 02:00:00:00:00:21 "${BH_IP4[nvr]}" nvr-host)" "$LEASES"	# the IPv4 part
check "a lease of the nvr (fixed ip:) shows its host name" wait_until $LIMIT_MS host_now 02:00:00:00:00:21 nvr-host
sleep 0.3
check "... without an apply: its fixed address wins (the epoch stays $e0)" test "$(bh_epoch)" = "$e0"
sed -i '/ 02:00:00:00:00:21 /d' "$LEASES"
sleep 0.5
check "... nor when it goes (the epoch stays $e0)" test "$(bh_epoch)" = "$e0"

# the lease removed, in place (dnsmasq's way: truncate and write)
e0=$(bh_epoch) a0=$(applies)
grep -v "^$in_hour $TVMAC" "$LEASES" > "$BH_TMP/l.new"
cat "$BH_TMP/l.new" > "$LEASES"
if wait_until $LIMIT_MS applied_since "$a0"; then
	ok "lease removed (written in place): applied within ${LIMIT_MS} ms (${WAITED_MS} ms)"
else
	fail "lease removed (written in place): applied within ${LIMIT_MS} ms"
fi
expect_pass "... and stranger forging $TV reaches the gateway again" cold forge_tv

# back, written to a new file renamed over the old one
e0=$(bh_epoch) a0=$(applies)
{ lease "$in_hour" $TVMAC "$TV" tv-kitchen; cat "$BH_TMP/l.new"; } > "$BH_TMP/misc/.new"
mv -f "$BH_TMP/misc/.new" "$LEASES"
if wait_until $LIMIT_MS applied_since "$a0"; then
	ok "lease added (renamed over): applied within ${LIMIT_MS} ms (${WAITED_MS} ms)"
else
	fail "lease added (renamed over): applied within ${LIMIT_MS} ms"
fi
expect_drop "... and the forgery is dropped again" drop_spoof forge_tv

# the lease ends on its own, the file unchanged: a timer, no polling
e0=$(bh_epoch) a0=$(applies)
end=$(( $(date +%s) + 6 ))
{ lease "$end" $TVMAC "$TV" tv-kitchen; cat "$BH_TMP/l.new"; } > "$LEASES"
sleep 0.5
check "a lease's end moved (no other change): no apply" test "$(bh_epoch)" = "$e0"
expect_drop "... the forgery is dropped while the lease lasts" drop_spoof forge_tv
if wait_until $(scaled 9000) applied_since "$a0"; then
	late=$(( $(ms_now) - end * 1000 ))
	if [ "$late" -ge 0 ] && [ "$late" -le "$LIMIT_MS" ]; then
		ok "the lease ended (the file unchanged): applied ${late} ms after its end"
	else
		fail "the lease ended: applied ${late} ms after its end" "want between 0 and $LIMIT_MS"
	fi
else
	fail "the lease ended: applied within 9 s"
fi
check "... by the timer: the log says a lease ended" grep -q '(a lease ended): the bound addresses changed, applied' "$LOG"
expect_pass "... and stranger forging $TV reaches the gateway again" cold forge_tv

# the file deleted (the leases in force stay), then created again
e0=$(bh_epoch) a0=$(applies)
rm -f "$LEASES"
sleep 0.5
check "lease file deleted: no apply, the leases in force stay" test "$(bh_epoch)" = "$e0"
lease "$in_hour" $TVMAC "$TV" tv-kitchen > "$LEASES"
if wait_until $LIMIT_MS applied_since "$a0"; then
	ok "lease file created after start: applied within ${LIMIT_MS} ms (${WAITED_MS} ms)"
else
	fail "lease file created after start: applied within ${LIMIT_MS} ms"
fi
expect_drop "... and the forgery is dropped" drop_spoof forge_tv

# ---- names in events and metrics --------------------------------------------------------
pinned tcp_try tv camera "${BH_IP4[camera]}" 554 >/dev/null 2>&1	# pinned: a tcp/554 event, not ARP
ev_has() { bh events --json | python3 -c "
import json, sys
e = json.load(sys.stdin)
sys.exit(not any(x['kind'] == 'drop' and x['src'] == 'tv-kitchen' and x['src_mac'] == '$TVMAC'
                 and x['dst'] == 'camera' and x['port'] == 554 for x in e))"; }
check "events --json: tv-kitchen -> camera tcp/554 (the host name)" wait_until $(scaled 3000) ev_has
check "events: the text line names it too" grep -q '^tv-kitchen -> camera tcp/554 drop_default' <<<"$(bh events)"
m=$(nsenter --net=/run/netns/$GW curl -s -m 5 "http://$METRICS/metrics")
check "metrics: the tv's counters carry name=\"tv-kitchen\"" \
	grep -qE "^bulkhead_device_packets_total\{mac=\"$TVMAC\",name=\"tv-kitchen\",group=\"unknown\"\} [1-9]" <<<"$m"
check "metrics: the camera keeps its policy name" \
	grep -qE '^bulkhead_device_packets_total\{mac="02:00:00:00:00:11",name="camera",' <<<"$m"

# ---- a real dnsmasq hands out the lease --------------------------------------------------
if ! command -v dnsmasq >/dev/null || ! command -v udhcpc >/dev/null; then
	skip "a real dnsmasq lease binds the client's address" "dnsmasq or udhcpc not installed (.ci/deps.sh)"
else
	bh_add_device client 71
	ip -n "${BH_NS[client]}" -4 addr flush dev eth0
	bh_pin_neighbours
	CMAC=${BH_MAC[client]}
	cat > "$BH_TMP/udhcpc.sh" <<'EOF'
#!/bin/sh
case "$1" in
bound|renew) ip -4 addr flush dev "$interface"; ip addr add "$ip/24" dev "$interface" ;;
deconfig) ip -4 addr flush dev "$interface" ;;
esac
exit 0
EOF
	chmod +x "$BH_TMP/udhcpc.sh"
	: > "$LEASES"
	sleep 0.5
	e0=$(bh_epoch) a0=$(applies)
	nsenter --net=/run/netns/$GW dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--port=0 --interface=br-lan --bind-interfaces --user=root \
		--dhcp-range=192.168.50.100,192.168.50.120,255.255.255.0,2m \
		--dhcp-leasefile="$LEASES" --pid-file="$BH_TMP/dnsmasq.pid" \
		--log-facility="$BH_TMP/dnsmasq.log" --log-dhcp &
	sleep 0.5
	# in the background (a client that stays), released on SIGUSR2
	ip netns exec "${BH_NS[client]}" udhcpc -i eth0 -f -t 5 -T 1 -s "$BH_TMP/udhcpc.sh" \
		-x hostname:real-client >"$BH_TMP/udhcpc.log" 2>&1 &
	UPID=$!
	client_ip() { ip -n "${BH_NS[client]}" -4 -o addr show dev eth0 | sed -nE 's/.* inet ([0-9.]+)\/.*/\1/p'; }
	client_has_ip() { [ -n "$(client_ip)" ]; }
	if wait_until $(scaled 10000) client_has_ip; then
		ok "udhcpc got a lease from dnsmasq through bulkhead ($MODE, ${WAITED_MS} ms)"
	else
		fail "udhcpc got a lease from dnsmasq through bulkhead ($MODE)" "$(tail -3 "$BH_TMP/udhcpc.log")"
	fi
	CIP=$(client_ip)
	check "dnsmasq wrote the lease ($CIP to $CMAC)" grep -q " $CMAC $CIP real-client " "$LEASES"
	if wait_until $LIMIT_MS applied_since "$a0"; then
		ok "the lease is applied within ${LIMIT_MS} ms of dnsmasq's write"
	else
		fail "the lease is applied within ${LIMIT_MS} ms of dnsmasq's write"
	fi
	check "devices: the client's host is real-client" wait_until "$LIMIT_MS" host_now "$CMAC" real-client
	expect_pass "the client reaches the gateway from its leased address" cold dns_from client
	expect_drop "stranger forging the client's leased $CIP is dropped" drop_spoof dns_from stranger "$CIP"
	# release: dnsmasq drops the lease and rewrites the file
	e0=$(bh_epoch) a0=$(applies)
	kill -USR2 "$UPID"
	client_gone() { ! grep -q " $CMAC " "$LEASES"; }
	if wait_until $(scaled 4000) client_gone; then
		ok "udhcpc released it (SIGUSR2): dnsmasq removed the lease"
	else
		fail "udhcpc released it (SIGUSR2): dnsmasq removed the lease" "$(tail -5 "$BH_TMP/dnsmasq.log")"
	fi
	if wait_until $LIMIT_MS applied_since "$a0"; then
		ok "... and the binding is gone within ${LIMIT_MS} ms (applied)"
	else
		fail "... and the binding is gone within ${LIMIT_MS} ms (applied)"
	fi
	expect_pass "... stranger forging $CIP reaches the gateway" cold dns_from stranger "$CIP"
	kill "$UPID" "$(cat "$BH_TMP/dnsmasq.pid")" 2>/dev/null
fi

kill -TERM "$DPID"
wait "$DPID"
check "the daemon exits 0 on SIGTERM" test $? -eq 0
if [ "$tap_failed" -gt 0 ]; then
	echo "# daemon log:"; sed 's/^/#   /' "$LOG"
fi
tap_done
