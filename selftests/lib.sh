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
	[ -s "$BH_TMP/nsh.errors" ] &&
		fail "the namespace helper did all it was asked" "$(head -5 "$BH_TMP/nsh.errors")"
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

sysctl_ns() {	# ns key=value...
	nsh sysctl "$@"
}

# The gateway: bridge br-lan with 192.168.50.1/24 and fd00:50::1/64, and a
# WAN veth to the internet namespace (198.51.100.0/24), which also holds
# 203.0.113.10 and 192.0.2.10 as "internet" servers. (One `ip -batch` per
# namespace: a process costs milliseconds here.)
bh_setup_gateway() {
	ip netns add "$GW"
	ip netns add "$INET"
	nsh_start
	sysctl_ns "$GW" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip link add wan netns "$GW" type veth peer name eth0 netns "$INET"
	ip -n "$GW" -batch - <<-EOF
	link set lo up
	link add br-lan type bridge
	link set br-lan address 02:00:00:00:00:01
	link set br-lan up
	addr add 192.168.50.1/24 dev br-lan
	addr add fd00:50::1/64 dev br-lan nodad
	addr add 198.51.100.1/24 dev wan
	link set wan up
	route add default via 198.51.100.2
	EOF
	ip -n "$INET" -batch - <<-EOF
	link set lo up
	addr add 198.51.100.2/24 dev eth0
	link set eth0 up
	addr add 203.0.113.10/24 dev lo
	addr add 192.0.2.10/24 dev lo
	route add 192.168.50.0/24 via 198.51.100.1
	EOF
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
	sysctl_ns "$ns" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	ip link add "p$hh" netns "$GW" type veth peer name eth0 netns "$ns"
	ip -n "$ns" -batch - <<-EOF
	link set lo up
	link set eth0 address ${BH_MAC[$name]}
	link set eth0 up
	addr add ${BH_IP4[$name]}/24 dev eth0
	addr add ${BH_IP6[$name]}/64 dev eth0 nodad
	route add default via 192.168.50.1
	route add ::/0 via fd00:50::1
	EOF
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
	local a b pairs
	for a in "${BH_DEVICES[@]}"; do
		pairs=()
		for b in "${BH_DEVICES[@]}"; do
			[ "$a" = "$b" ] && continue
			pairs+=("${BH_IP4[$b]}=${BH_MAC[$b]}" "${BH_IP6[$b]}=${BH_MAC[$b]}")
		done
		nsh pin "${BH_NS[$a]}:eth0" "${pairs[@]}"
	done
}

# bh_cold [NAME...]: cold neighbour caches. The devices named (default: every
# device) and the gateway's br-lan forget every neighbour they knew, learned
# or pinned (nud all: `ip neigh flush` alone keeps permanent entries), over
# IPv4 (ARP) and IPv6 (ND). A flow tried next must resolve its peer through
# the bridge first, as on a real LAN after a reboot or an entry's expiry.
bh_cold() {
	local n targets=()
	[ $# -gt 0 ] || set -- "${BH_DEVICES[@]}"
	for n in "$@"; do
		ns_is "$n"
		targets+=("$NS:eth0")
	done
	nsh flush "${targets[@]}" "$GW:br-lan"
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

# ---- the namespace helper ---------------------------------------------------------

# nsh CMD ARG...: one command to the suite's namespace helper (nsh.py: it
# says what each command does), which tries flows and handles neighbour
# entries in the namespaces itself: a try is a line written and a line read,
# not a dozen processes. 0 when the answer is "ok"; "no: ..." (the traffic
# did not get through) is 1, and NSH_ANSWER says why; "ok VALUE" sets
# NSH_VALUE. An "error: ..." (the
# helper could not do it, e.g. a port already bound) is a failed check of
# its own, never a blocked flow. From the suite's shell or a $(...) in it,
# not from a background job (the helper answers one caller at a time).
nsh() {
	[ -n "${BH_NSH_IN:-}" ] || nsh_start || return 2
	echo "$*" >&"$BH_NSH_IN"
	# (every command of the helper is bounded by its own timeouts)
	if ! read -r -t 120 NSH_ANSWER <&"$BH_NSH_OUT"; then
		NSH_ANSWER="error: the namespace helper is gone or stuck"
	fi
	NSH_VALUE=
	case $NSH_ANSWER in
	ok) return 0 ;;
	"ok "*) NSH_VALUE=${NSH_ANSWER#ok }; return 0 ;;
	no:*) return 1 ;;
	esac
	# kept in a file too: a fail in a $(...) would be lost with it
	echo "$*: $NSH_ANSWER" >> "$BH_TMP/nsh.errors"
	fail "namespace helper: $*" "$NSH_ANSWER"
	return 2
}

# nsh_start: the helper, in the background, on two FIFOs of BH_TMP (started
# by bh_setup_gateway: in the suite's own shell, which keeps its ends)
nsh_start() {
	[ -z "${BH_NSH_IN:-}" ] || return 0
	if [ "$BASHPID" != "$$" ]; then
		fail "namespace helper" "started from a subshell (bh_setup_gateway starts it)"
		return 1
	fi
	mkfifo "$BH_TMP/nsh.in" "$BH_TMP/nsh.out" || return 1
	PYTHONPATH="$BH_SRC/selftests" python3 "$BH_SRC/selftests/nsh.py" \
		<"$BH_TMP/nsh.in" >"$BH_TMP/nsh.out" &
	exec {BH_NSH_IN}>"$BH_TMP/nsh.in" {BH_NSH_OUT}<"$BH_TMP/nsh.out"
}

# tcp_try FROM TO-NS-NAME ADDR PORT: 0 when a token written over a TCP
# connection from FROM reached a listener on TO's PORT within 200 ms.
# From cold caches (cold CMD) the connect has 3 s, as a real client's SYN
# is sent again after 1 s: address resolution on a loaded or emulated
# kernel may miss the first second. Otherwise 1 s (a denied try costs that).
tcp_try() {
	local ct=1 F T
	[ -n "${BH_TRY_COLD:-}" ] && ct=3
	ns_is "$1"; F=$NS
	ns_is "$2"; T=$NS
	nsh tcp "$F" "$T" "$3" "$4" "$ct" 200
}

# udp_try FROM TO-NS-NAME ADDR PORT [SRC]: 0 when the datagram arrived
# (to an IPv4 multicast group: the receiver joins it on eth0). SRC: sent
# from this source address, even one the sender does not own (forged; the
# sender's namespace gets ip_nonlocal_bind for it). From cold caches the
# datagram waits for address resolution first: it has a second (scaled);
# a denied try costs 300 ms otherwise.
udp_try() {
	local after=300 F T
	[ -n "${BH_TRY_COLD:-}" ] && after=$(scaled 1000)
	ns_is "$1"; F=$NS
	ns_is "$2"; T=$NS
	nsh udp "$F" "$T" "$3" "$4" "$after" ${5:+"$5"}
}

# udp_reply FROM TO ADDR PORT: a request gets an answer back (stateful
# reply), from the address it was sent to
udp_reply() {
	local F T
	ns_is "$1"; F=$NS
	ns_is "$2"; T=$NS
	nsh echo "$F" "$T" "$3" "$4"
}

ping_try() {	# FROM ADDR: one echo request, its reply within 1 s
	local NS
	ns_is "$1"
	nsh ping "$NS" "$2" 1
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
	local NS
	ns_is "$1"
	shift
	nsh send "$NS" "$@"
}

# neigh_mac NAME ADDR: the MAC the device's neighbour cache holds for ADDR
# (the gateway's: its br-lan's); nothing when it holds none
neigh_mac() {
	local NS dev=eth0
	ns_is "$1"
	[ "$1" = gateway ] && dev=br-lan
	nsh lladdr "$NS:$dev" "$2" && echo "$NSH_VALUE"
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
	ip netns exec "$(ns_of "$n")" timeout 20 tcpdump -i "$dev" -n -e -l -U --immediate-mode \
		"$@" >"$BH_TMP/cap-$n-$tag" 2>"$BH_TMP/cap-$n-$tag.err" &
	echo $! > "$BH_TMP/cap-$n-$tag.pid"
	for i in $(seq 50); do
		if has_token 'listening on' "$BH_TMP/cap-$n-$tag.err"; then
			# a frame right after "listening on" was still missed
			# (5 in 20, "0 packets received by filter"); 100 ms later,
			# none in 100
			nap 0.1
			return 0
		fi
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
