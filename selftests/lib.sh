#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lib.sh - shared helpers for Bulkhead's namespace tests and the demo:
# a gateway namespace with bridge br-lan, device namespaces, an "internet"
# namespace routed through the gateway; TAP output; traffic assertions;
# counters read from `bulkhead status --json`.
#
# Every namespace name carries a random suffix, every veth is created
# inside the namespaces (nothing appears in the caller's namespace), and
# bh_cleanup (trapped on EXIT) removes all of it.

# Debian's python3 (with its packages), not a pyenv shim that costs a second a call
[ -x /usr/bin/python3 ] && PATH=/usr/bin:$PATH
BH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BULKHEAD=${BULKHEAD:-$BH_SRC/${BUILD:-build}/bulkhead}
SUF=$(printf '%04x%04x' $RANDOM $RANDOM)
GW=bh-gw-$SUF
INET=bh-inet-$SUF
BH_PIN=/sys/fs/bpf/bh-test-$SUF
BH_TMP=$(mktemp -d /tmp/bh-test.XXXXXX)
BH_STATE=$BH_TMP/state
BH_DEVICES=()		# device namespace names
declare -A BH_NS BH_IP4 BH_IP6 BH_MAC

tap_n=0
tap_failed=0

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}

fail() {	# name [detail...]
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_n - $1"
	shift
	[ $# -gt 0 ] && echo "#   $*"
	return 0
}

skip() {	# name reason
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

# rc_is WANT NAME PATTERN CMD...: exit WANT and stderr+stdout matching PATTERN
rc_is() {
	local want=$1 name=$2 pat=$3 out rc
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ] && echo "$out" | grep -qE -- "$pat"; then
		ok "$name"
	else
		fail "$name" "exit $rc (wanted $want), output: $(echo "$out" | head -3)"
	fi
}

check() {	# name command... : ok when the command succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "failed: $*"; fi
}

tap_done() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

need() {	# tools the tests need; skip everything if one is missing
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			skip "environment" "$t is not installed"
			tap_done
			exit 0
		fi
	done
	if [ "$(id -u)" != 0 ]; then
		skip "environment" "needs root"
		tap_done
		exit 0
	fi
}

# bulkhead in the gateway namespace (nsenter keeps /sys/fs/bpf visible)
bh() {
	nsenter --net=/run/netns/$GW "$BULKHEAD" --pin-dir "$BH_PIN" \
		--state-dir "$BH_STATE" "$@"
}

in_ns() {	# device-name command...
	local n=$1
	shift
	ip netns exec "${BH_NS[$n]:-$n}" "$@"
}

bh_cleanup() {
	[ -n "${BH_KEEP:-}" ] && return
	if [ -d "$BH_PIN" ]; then
		bh down >/dev/null 2>&1
		rm -rf "$BH_PIN"
	fi
	for ns in "${BH_DEVICES[@]}"; do
		ip netns del "${BH_NS[$ns]}" 2>/dev/null
	done
	ip netns del "$GW" 2>/dev/null
	ip netns del "$INET" 2>/dev/null
	# background helpers started by the tests
	jobs -p | xargs -r kill 2>/dev/null
	rm -rf "$BH_TMP"
}
trap bh_cleanup EXIT

sysctl_ns() {	# ns key=value
	ip netns exec "$1" sysctl -qw "$2" >/dev/null
}

# The gateway: bridge br-lan with 192.168.50.1/24 and fd00:50::1/64, and a
# WAN veth to the internet namespace (198.51.100.0/24), which also holds
# 203.0.113.10 and 192.0.2.10 as "internet" servers.
bh_setup_gateway() {
	ip netns add "$GW"
	ip netns add "$INET"
	ip -n "$GW" link set lo up
	ip -n "$INET" link set lo up
	sysctl_ns "$GW" net.ipv6.conf.all.accept_dad=0
	sysctl_ns "$GW" net.ipv6.conf.default.accept_dad=0
	sysctl_ns "$GW" net.ipv4.ip_forward=1
	sysctl_ns "$GW" net.ipv6.conf.all.forwarding=1
	ip -n "$GW" link add br-lan type bridge
	ip -n "$GW" link set br-lan address 02:00:00:00:00:01
	ip -n "$GW" link set br-lan up
	ip -n "$GW" addr add 192.168.50.1/24 dev br-lan
	ip -n "$GW" addr add fd00:50::1/64 dev br-lan nodad
	ip link add wan netns "$GW" type veth peer name eth0 netns "$INET"
	ip -n "$GW" addr add 198.51.100.1/24 dev wan
	ip -n "$GW" link set wan up
	ip -n "$INET" addr add 198.51.100.2/24 dev eth0
	ip -n "$INET" link set eth0 up
	ip -n "$INET" addr add 203.0.113.10/24 dev lo
	ip -n "$INET" addr add 192.0.2.10/24 dev lo
	ip -n "$INET" route add 192.168.50.0/24 via 198.51.100.1
	ip -n "$GW" route add default via 198.51.100.2
}

# bh_add_device NAME HOSTBYTE [nomaster]: MAC 02:00:00:00:00:HH,
# 192.168.50.HH, fd00:50::HH, a veth port pHH on br-lan (with nomaster:
# left out of the bridge and down; bh_bridge_port HH puts it in)
bh_add_device() {
	local name=$1 hh=$2 ns=bh-$1-$SUF
	BH_DEVICES+=("$name")
	BH_NS[$name]=$ns
	BH_MAC[$name]=02:00:00:00:00:$hh
	BH_IP4[$name]=192.168.50.$((10#$hh))
	BH_IP6[$name]=fd00:50::$hh
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	sysctl_ns "$ns" net.ipv6.conf.all.accept_dad=0
	sysctl_ns "$ns" net.ipv6.conf.default.accept_dad=0
	ip link add "p$hh" netns "$GW" type veth peer name eth0 netns "$ns"
	ip -n "$ns" link set eth0 address "${BH_MAC[$name]}"
	ip -n "$ns" link set eth0 up
	ip -n "$ns" addr add "${BH_IP4[$name]}/24" dev eth0
	ip -n "$ns" addr add "${BH_IP6[$name]}/64" dev eth0 nodad
	ip -n "$ns" route add default via 192.168.50.1
	ip -n "$ns" -6 route add default via fd00:50::1
	[ "${3:-}" = nomaster ] || bh_bridge_port "$hh"
}

bh_bridge_port() {	# HOSTBYTE: port pHH into br-lan, up
	ip -n "$GW" link set "p$1" master br-lan
	ip -n "$GW" link set "p$1" up
}

# bh_pin_neighbours: every device gets permanent ARP and ND entries for every
# other device, as an attacker would set them: then a denied flow is shown
# dropped by its own verdict, not merely by the address resolution before
# it (which the ARP/ND tests check on their own, after neigh_unpin).
bh_pin_neighbours() {
	local a b
	for a in "${BH_DEVICES[@]}"; do
		for b in "${BH_DEVICES[@]}"; do
			[ "$a" = "$b" ] && continue
			echo "neigh replace ${BH_IP4[$b]} lladdr ${BH_MAC[$b]} dev eth0 nud permanent"
			echo "neigh replace ${BH_IP6[$b]} lladdr ${BH_MAC[$b]} dev eth0 nud permanent"
		done | ip -n "${BH_NS[$a]}" -batch -
	done
}

# bh_cold [NAME...]: cold neighbour caches. The devices named (default: every
# device) and the gateway's br-lan forget every neighbour they knew, learned
# or pinned (nud all: `ip neigh flush` alone keeps permanent entries), over
# IPv4 (ARP) and IPv6 (ND). A flow tried next must resolve its peer through
# the bridge first, as on a real LAN after a reboot or an entry's expiry.
bh_cold() {
	local n
	[ $# -gt 0 ] || set -- "${BH_DEVICES[@]}"
	# (no -4/-6: one flush covers both families)
	for n in "$@"; do
		ns_is "$n"
		ip -n "$NS" neigh flush dev eth0 nud all >/dev/null 2>&1
	done
	ip -n "$GW" neigh flush dev br-lan nud all >/dev/null 2>&1
	true
}

# cold CMD...: CMD (tcp_try, ping_try, ...) from cold neighbour caches on both
# ends: every device's and the gateway's are flushed (bh_cold). Every check of
# an allowed flow runs so, so it passes only when address resolution between
# the two ends is allowed too, not because an earlier step warmed a cache.
cold() {
	bh_cold
	BH_TRY_COLD=1 "$@"
}

# pinned CMD...: CMD with every device's ARP/ND entries pinned first
# (bh_pin_neighbours): a denied flow meets its IP verdict, not the address
# resolution before it. Put before denied checks that follow a cold one.
pinned() {
	bh_pin_neighbours
	"$@"
}

neigh_unpin() {	# NAME ADDR: drop NAME's entry for ADDR (pinned or learned)
	local NS
	ns_is "$1"
	ip -n "$NS" neigh del "$2" dev eth0 2>/dev/null
	true
}

# The standard demo network: camera, nvr, fridge, laptop.
bh_setup_demo_net() {
	bh_setup_gateway
	bh_add_device camera 11
	bh_add_device nvr 21
	bh_add_device fridge 31
	bh_add_device laptop 41
}

# ---- traffic ---------------------------------------------------------------

# ns_of NAME-or-"gateway"/"internet": prints the namespace. ns_is NAME sets
# NS instead: no subshell (a fork here costs milliseconds, and the helpers
# below run thousands of times per make check)
ns_is() {
	case $1 in
	gateway) NS=$GW ;;
	internet) NS=$INET ;;
	*) NS=${BH_NS[$1]:-$1} ;;
	esac
}
ns_of() {
	local NS
	ns_is "$1"
	echo "$NS"
}

# socat wants IPv6 literals in brackets
sock_addr() {
	case $1 in
	*:*) echo "[$1]" ;;
	*) echo "$1" ;;
	esac
}

# listening NAME RECV [PID]: TO's socat address RECV (TCP6-LISTEN:PORT,...,
# UDP6-RECV:PORT,..., UDP4-LISTEN:PORT,...) has its socket bound. With PID
# (the listener's, in NAME's namespace) it reads /proc/PID/net: no process
# started per poll.
listening() {
	local port=${2#*:} t=udp NS
	port=${port%%,*}
	case $2 in TCP*) t=tcp ;; esac
	ns_is "$1"
	if [ -n "${3:-}" ]; then
		[[ /proc/$3/ns/net -ef /run/netns/$NS ]] && proc_bound "$3" "$t" "$port"
		return
	fi
	nsenter --net="/run/netns/$NS" ss -Hln${t:0:1} "sport = :$port" 2>/dev/null | grep -q .
}

# proc_bound PID tcp|udp PORT: a socket of PID's network namespace listens
# on (tcp) or is bound to (udp) PORT, over IPv4 or IPv6
proc_bound() {
	local hex f sl addr rem st rest
	printf -v hex '%04X' "$3"
	for f in "/proc/$1/net/$2" "/proc/$1/net/${2}6"; do
		while read -r sl addr rem st rest; do
			[[ $addr == *:$hex ]] || continue
			[ "$2" = udp ] || [ "$st" = 0A ] || continue
			return 0
		done < "$f"
	done 2>/dev/null
	return 1
}

# has_token TOKEN FILE: FILE holds TOKEN (read by the shell: no grep started)
has_token() {
	local c
	[ -s "$2" ] || return 1
	IFS= read -r -d '' c < "$2"
	[[ $c == *"$1"* ]]
}

# token_try FROM TO RECV SEND SENDWAIT AFTER_MS: 0 when a random token that FROM
# writes to the socat address SEND reaches TO's socat address RECV (SENDWAIT:
# the sender's timeout, AFTER_MS: how long the receiver waits after the send;
# a token that arrived ends the wait early)
token_try() {
	local out=$BH_TMP/tok.$RANDOM token=bh-$RANDOM$RANDOM lpid rc NS
	ns_is "$2"
	ip netns exec "$NS" timeout $(( $5 + 2 > 3 ? $5 + 2 : 3 )) \
		socat -u "$3" "OPEN:$out,creat,trunc" 2>/dev/null &
	lpid=$!
	case $3 in
	*ip-add-membership*) nap 0.3 ;;	# bound, then joined: give the join time
	*) wait_until "$(scaled 1000)" listening "$2" "$3" "$lpid" ;;
	esac
	ns_is "$1"
	echo "$token" | ip netns exec "$NS" timeout "$5" socat -u - "$4" 2>/dev/null
	wait_until "$6" has_token "$token" "$out"
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	has_token "$token" "$out"
	rc=$?
	rm -f "$out"
	return $rc
}

# tcp_try FROM TO-NS-NAME ADDR PORT: 0 when the payload arrived
# From cold caches (cold CMD) the connect has 3 s, as a real client's SYN
# is sent again after 1 s: address resolution on a loaded or emulated
# kernel may miss the first second. Otherwise 1 s (a denied try costs that).
tcp_try() {
	local ct=1
	[ -n "${BH_TRY_COLD:-}" ] && ct=3
	token_try "$1" "$2" "TCP6-LISTEN:$4,reuseaddr,ipv6only=0" \
		"TCP:$(sock_addr "$3"):$4,connect-timeout=$ct" $((ct + 1)) 200
}

# udp_try FROM TO-NS-NAME ADDR PORT [SRC]: 0 when the datagram arrived
# (to a multicast group: the receiver joins it on eth0). SRC: send from
# this source address, even one the sender does not own (forged; the
# sender's namespace gets ip_nonlocal_bind for it).
udp_try() {
	local recv="UDP6-RECV:$4,reuseaddr,ipv6only=0" send="UDP:$(sock_addr "$3"):$4"
	if [ -n "${5:-}" ]; then
		local NS
		ns_is "$1"
		sysctl_ns "$NS" net.ipv4.ip_nonlocal_bind=1
		sysctl_ns "$NS" net.ipv6.ip_nonlocal_bind=1
		send="$send,bind=$(sock_addr "$5"),transparent"
	fi
	case $3 in
	22[4-9].*|23[0-9].*) recv="UDP4-RECV:$4,reuseaddr,ip-add-membership=$3:eth0" ;;
	esac
	# from cold caches the datagram waits for address resolution first:
	# give it a second (scaled); a denied try costs 300 ms otherwise
	token_try "$1" "$2" "$recv" "$send" 1 $([ -n "${BH_TRY_COLD:-}" ] && scaled 1000 || echo 300)
}

# udp_reply FROM TO ADDR PORT: a request gets an answer back (stateful reply)
udp_reply() {
	local from=$1 to=$2 addr=$(sock_addr "$3") port=$4
	local listen="UDP4-LISTEN:$port,reuseaddr,bind=$3"

	# bound to the address asked: the answer must come from it
	case $3 in *:*) listen="UDP6-LISTEN:$port,reuseaddr,bind=[$3]" ;; esac
	local NS lpid got
	ns_is "$to"
	ip netns exec "$NS" timeout 3 socat "$listen" EXEC:cat 2>/dev/null &
	lpid=$!
	wait_until "$(scaled 1000)" listening "$to" "$listen" "$lpid"
	ns_is "$from"
	got=$(echo ping-$port | ip netns exec "$NS" timeout 2 socat -T1 - \
		"UDP:$addr:$port" 2>/dev/null)
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	[ "$got" = "ping-$port" ]
}

ping_try() {	# FROM ADDR
	local NS
	ns_is "$1"
	ip netns exec "$NS" ping -c 1 -W 1 "$2" >/dev/null 2>&1
}

# ---- time -------------------------------------------------------------------------

# BH_TIME_SCALE: how much slower than this machine the kernel under test
# runs (the kernel rig sets it under QEMU's emulation): every wall-clock
# limit of the suites is multiplied by it, so a slow emulator is not taken
# for slow behaviour.
BH_TIME_SCALE=${BH_TIME_SCALE:-1}
scaled() { echo $(( $1 * BH_TIME_SCALE )); }	# MS: MS times the scale

# the clock and a short sleep without starting a process: EPOCHREALTIME
# (microseconds, bash 5), and a read that times out on a pipe nobody writes
us_now() { US=${EPOCHREALTIME//[!0-9]/}; }	# sets US: the clock in microseconds
ms_now() { local US; us_now; echo $(( US / 1000 )); }
exec {BH_NAP_FD}<> <(:)
nap() { read -r -t "$1" -u "$BH_NAP_FD" _; true; }

# wait_until LIMIT_MS CMD...: poll CMD until it succeeds, for up to LIMIT_MS
# (give it scaled: wait_until $(scaled 3000) ...); WAITED_MS: how long it
# took. The polls start 50 ms apart and back off, each pause at most a
# tenth of LIMIT_MS (and 250 ms): a poll often starts a process or two, and
# a long wait polled at 50 ms cost more CPU than what it waited for. The
# last poll is at LIMIT_MS.
wait_until() {
	local limit=$1 start rc US step=50 cap pause
	shift
	cap=$(( limit / 10 ))
	(( cap > 250 )) && cap=250
	(( cap < 50 )) && cap=50
	us_now
	start=$US
	while :; do
		"$@"
		rc=$?
		us_now
		WAITED_MS=$(( (US - start) / 1000 ))
		[ "$rc" -eq 0 ] && return 0
		[ "$WAITED_MS" -ge "$limit" ] && return 1
		pause=$step
		(( WAITED_MS + pause > limit )) && pause=$(( limit - WAITED_MS ))
		printf -v pause '%d.%03d' $(( pause / 1000 )) $(( pause % 1000 ))
		nap "$pause"
		(( step = step * 3 / 2, step > cap && (step = cap) ))
	done
}

# ---- counters ----------------------------------------------------------------

# The counters are read from `status --json`'s own compact output
# ("NAME":{"packets":N,...) by the shell: no python started per check.
counter() {	# NAME: packets counted for a verdict reason
	local j
	j=$(bh status --json)
	of_counters "$j" "$1" && echo "$PKTS"
}

# bh_epoch: the epoch status gives, read by the shell (polled: no python
# per poll). Unreadable, it prints a value no other call prints, so an
# "unchanged" check fails and bh_epoch_above is false.
bh_epoch() {
	local j
	j=$(bh status --json 2>/dev/null)
	if [[ $j =~ \"epoch\":([0-9]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo "unreadable@$EPOCHREALTIME"
	fi
}
bh_epoch_above() { [ "$(bh_epoch)" -gt "$1" ] 2>/dev/null; }	# EPOCH

status_field() {	# python expression over the status JSON `s`
	bh status --json | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"
}

# expect_pass NAME CMD...: the traffic gets through
expect_pass() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name" "blocked: $*"; fi
}

counters_json() {	# the status JSON, counters and all (for of_counters)
	bh status --json
}

counters_delta() {	# BEFORE-JSON: the counters that moved since, "name +N ..."
	python3 -c "
import json,sys
a, b = (json.loads(x)['counters'] for x in sys.argv[1:3])
print(' '.join('%s +%d' % (k, b[k]['packets'] - a[k]['packets'])
               for k in sorted(b) if b[k]['packets'] != a.get(k, {}).get('packets', 0)) or 'none')" \
		"$1" "$(counters_json)"
}

# of_counters JSON NAME: sets PKTS to NAME's packets in counters_json's
# output; fails when NAME is not there
of_counters() {
	[[ $1 =~ \"$2\":\{\"packets\":([0-9]+) ]] || return 1
	PKTS=${BASH_REMATCH[1]}
}

# expect_drop NAME COUNTER CMD...: nothing arrives and COUNTER rises
expect_drop() {
	local name=$1 ctr=$2 before=-1 after=-1 all
	shift 2
	all=$(counters_json)
	of_counters "$all" "$ctr" && before=$PKTS
	if "$@"; then
		fail "$name" "got through: $* (counters moved: $(counters_delta "$all"))"
		return
	fi
	of_counters "$(counters_json)" "$ctr" && after=$PKTS
	if [ "$before" -ge 0 ] && [ "$after" -gt "$before" ]; then
		ok "$name ($ctr +$((after - before)))"
	else
		fail "$name" "blocked, but $ctr did not rise ($before -> $after); counters moved: $(counters_delta "$all")"
	fi
}

# ---- hand-built frames ---------------------------------------------------------

# raw_send NAME KIND [key=value...]: one frame built by hand, sent from the
# device's eth0 through an AF_PACKET socket (what a compromised device can
# do). Keys: src (Ethernet source, default the port's own MAC), dst
# (Ethernet destination), count.
#   arp  op=request|reply sha spa tha tpa   (sha defaults to src)
#   na   target lladdr sip dip override=1   (unsolicited NA, hop limit 255)
#   ra   sip prefix                          (router advertisement, lifetime 1800 s)
#   rs   sip                                 (router solicitation to ff02::2)
#   mld  group sip                           (MLDv2 report to ff02::16: joins group,
#                                             hop-by-hop router alert, hop limit 1)
raw_send() {
	local n=$1
	shift
	ip netns exec "$(ns_of "$n")" env PYTHONPATH="$BH_SRC/selftests" python3 - "$@" <<'PY'
import socket, struct, sys, ipaddress
from pkt import mac, ip, l4_csum, ipv6
kind = sys.argv[1]
a = dict(x.split('=', 1) for x in sys.argv[2:])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((a.get('dev', 'eth0'), 0))
own = s.getsockname()[4]
src = mac(a['src']) if 'src' in a else own

def lladdr_of(m):	# EUI-64 link-local of a MAC
    b = bytearray(m)
    b[0] ^= 2
    return str(ipaddress.IPv6Address(b'\xfe\x80' + b'\0' * 6 + bytes(b[:3]) + b'\xff\xfe' + bytes(b[3:])))

def icmp6(sip, dip, body):
    return ipv6(ip(sip), ip(dip), 58, l4_csum(ip(sip), ip(dip), 58, body, 2), hlim=255)

if kind == 'arp':
    op = 1 if a.get('op', 'request') == 'request' else 2
    dst = mac(a.get('dst', 'ff:ff:ff:ff:ff:ff'))
    sha = mac(a['sha']) if 'sha' in a else src
    tha = mac(a.get('tha', '00:00:00:00:00:00'))
    payload = struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + sha + ip(a['spa']) + tha + ip(a['tpa'])
    frame = dst + src + b'\x08\x06' + payload
elif kind == 'na':
    sip = a.get('sip', lladdr_of(src))
    dip = a.get('dip', 'ff02::1')
    flags = 0x20000000 if a.get('override', '1') == '1' else 0
    ll = mac(a['lladdr']) if 'lladdr' in a else src
    body = struct.pack('!BBHI', 136, 0, 0, flags) + ip(a['target']) + bytes([2, 1]) + ll
    dst = mac(a.get('dst', '33:33:00:00:00:01'))
    frame = dst + src + b'\x86\xdd' + icmp6(sip, dip, body)
elif kind == 'ra':
    sip = a.get('sip', lladdr_of(src))
    pfx = ipaddress.IPv6Network(a.get('prefix', 'fd00:66::/64'))
    body = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 1800, 0, 0)
    body += struct.pack('!BBBBIII', 3, 4, pfx.prefixlen, 0xc0, 86400, 14400, 0) + pfx.network_address.packed
    body += bytes([1, 1]) + src
    dst = mac(a.get('dst', '33:33:00:00:00:01'))
    frame = dst + src + b'\x86\xdd' + icmp6(sip, 'ff02::1', body)
elif kind == 'rs':
    sip = a.get('sip', lladdr_of(src))
    body = struct.pack('!BBHI', 133, 0, 0, 0) + bytes([1, 1]) + src
    dst = mac(a.get('dst', '33:33:00:00:00:02'))
    frame = dst + src + b'\x86\xdd' + icmp6(sip, 'ff02::2', body)
elif kind == 'mld':
    sip = a.get('sip', lladdr_of(src))
    grp = a.get('group', 'ff02::fb')
    # one record: CHANGE_TO_EXCLUDE_MODE (4), no sources: "join grp"
    body = struct.pack('!BBHHH', 143, 0, 0, 0, 1) + struct.pack('!BBH', 4, 0, 0) + ip(grp)
    body = l4_csum(ip(sip), ip('ff02::16'), 58, body, 2)
    hbh = bytes([58, 0, 5, 2, 0, 0, 1, 0])	# router alert (MLD), PadN
    frame = mac(a.get('dst', '33:33:00:00:00:16')) + src + b'\x86\xdd' + \
        ipv6(ip(sip), ip('ff02::16'), 0, hbh + body, hlim=1)
else:
    sys.exit('raw_send: unknown kind ' + kind)
frame += b'\0' * max(0, 60 - len(frame))
for _ in range(int(a.get('count', '1'))):
    s.send(frame)
PY
}

# neigh_mac NAME ADDR: the MAC the device's neighbour cache holds for ADDR
neigh_mac() {
	ip netns exec "$(ns_of "$1")" ip neigh show "$2" dev eth0 |
		sed -nE 's/.*lladdr ([0-9a-f:]+).*/\1/p'
}

# ---- frames from a TX ring ------------------------------------------------------

rx_packets() {	# NAME: packets eth0 of NAME has received
	nsenter --net="/run/netns/$(ns_of "$1")" sed -n 's/^ *eth0://p' /proc/net/dev |
		awk '{ print $2 }'
}

# ring_tcp FROM TO PORT COUNT: COUNT TCP SYNs sent by trafgen through its
# TX_RING (a PACKET_MMAP ring: the kernel builds those skbs with only the
# Ethernet header in the linear part, the rest in page fragments). Prints
# how many TO received.
ring_tcp() {
	local cfg=$BH_TMP/ring-$1-$2-$3.cfg before after
	echo "{ eth(da=${BH_MAC[$2]}, sa=${BH_MAC[$1]}, type=0x0800),
		ipv4(saddr=${BH_IP4[$1]}, daddr=${BH_IP4[$2]}, ttl=64),
		tcp(sp=41000, dp=$3, syn), fill(0x41, 20) }" > "$cfg"
	before=$(rx_packets "$2")
	nsenter --net="/run/netns/$(ns_of "$1")" trafgen -o eth0 -i "$cfg" -n "$4" \
		-P 1 -q >/dev/null 2>&1
	sleep 0.2
	after=$(rx_packets "$2")
	echo $((after - before))
}

# ---- captures -------------------------------------------------------------------

# cap_start NAME TAG FILTER...: tcpdump on NAME's eth0 (the gateway: br-lan)
# in the background, at most 20 s, one line per frame matching the pcap
# FILTER; returns once it listens. cap_count NAME TAG (once the frames had
# time to arrive) stops it and prints how many frames it saw.
cap_start() {
	local n=$1 tag=$2 dev=eth0 i
	shift 2
	[ "$n" = gateway ] && dev=br-lan
	ip netns exec "$(ns_of "$n")" timeout 20 tcpdump -i "$dev" -n -e -l -U \
		"$@" >"$BH_TMP/cap-$n-$tag" 2>"$BH_TMP/cap-$n-$tag.err" &
	echo $! > "$BH_TMP/cap-$n-$tag.pid"
	for i in $(seq 50); do
		has_token 'listening on' "$BH_TMP/cap-$n-$tag.err" && return 0
		nap 0.05
	done
	return 1
}

cap_count() {	# NAME TAG: frames cap_start's capture saw (then stopped)
	local f=$BH_TMP/cap-$1-$2 pid
	pid=$(cat "$f.pid")
	kill -INT "$pid" 2>/dev/null
	# (called in $(...): a subshell cannot wait for it, poll)
	for _ in $(seq 40); do
		kill -0 "$pid" 2>/dev/null || break
		nap 0.05
	done
	grep -c . "$f" 2>/dev/null
	true
}

# bh_dnsmasq: a DHCP server (dnsmasq, no DNS) on the gateway's br-lan in the
# background, leases 192.168.50.100-120 for 2 min in $BH_TMP/dnsmasq.leases
bh_dnsmasq() {
	nsenter --net=/run/netns/$GW dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--port=0 --interface=br-lan --bind-interfaces --user=root \
		--dhcp-range=192.168.50.100,192.168.50.120,255.255.255.0,2m \
		--dhcp-leasefile="$BH_TMP/dnsmasq.leases" --pid-file="$BH_TMP/dnsmasq.pid" \
		--log-facility="$BH_TMP/dnsmasq.log" &
	sleep 0.5
}
