#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nft_golden.sh - each example policy in policies/, brought up with
# --mode nft on a fixed topology (fixed names, MACs and addresses), must
# produce exactly the tables in selftests/golden/<policy>.nft, as
# `nft list table` prints them, with one device quarantined (counter values zeroed: they count traffic,
# not policy). (They do not all parse back with nft 1.0.6: it has no
# "icmpv6 taddr", so ND target reads print as @th,64,128.) After an intended change of the tables, regenerate with
#   make check BH_GOLDEN_UPDATE=1     (or BH_GOLDEN_UPDATE=1 bash selftests/golden/nft_golden.sh)
# and review the diff like code.
set -u
. "$(dirname "$0")/../lib.sh"
need nft nsenter
GOLDEN=$BH_SRC/selftests/golden

# the policy's interfaces: a "br-*" name is a bridge with two ports, any
# other name a veth of its own; peers sit down in the INET namespace
topology() {	# POLICY
	local k=0 n port
	ip netns add "$GW"
	ip netns add "$INET"
	ip -n "$GW" link set lo up
	sysctl_ns "$GW" net.ipv6.conf.all.accept_dad=0
	sysctl_ns "$GW" net.ipv6.conf.default.accept_dad=0
	# the policies write it on one line: interfaces: [a, b]
	for n in $(sed -n 's/^interfaces: *\[\(.*\)\]/\1/p' "$1" | tr -d ',"'"'"); do
		k=$((k + 1))
		if [ "${n#br-}" != "$n" ]; then
			ip -n "$GW" link add "$n" type bridge
			for port in 1 2; do
				ip link add "g${k}p$port" netns "$GW" address "02:00:00:00:0$k:1$port" \
					type veth peer name "g${k}q$port" netns "$INET"
				ip -n "$GW" link set "g${k}p$port" master "$n" up
			done
		else
			ip link add "$n" netns "$GW" type veth peer name "g${k}q0" netns "$INET"
		fi
		ip -n "$GW" link set "$n" address "02:00:00:00:0$k:01" up
		ip -n "$GW" addr add "10.$k.0.1/24" dev "$n"
		ip -n "$GW" addr add "fd00:$k::1/64" dev "$n" nodad
	done
}

tables() {	# the two tables, counters zeroed
	nsenter --net="/run/netns/$GW" nft list table bridge bulkhead
	nsenter --net="/run/netns/$GW" nft list table inet bulkhead
}

for pol in "$BH_SRC"/policies/*.yaml; do
	name=$(basename "$pol" .yaml)
	topology "$pol"
	# one device quarantined (a MAC no policy names): the quarantine lock's
	# chains exist only then, and they are part of what is compared
	if ! out=$(bh up -c "$pol" --mode nft 2>&1 && bh isolate 02:00:00:00:99:99 2>&1); then
		fail "$name: up --mode nft, isolate" "$out"
	else
		tables | sed -E 's/packets [0-9]+ bytes [0-9]+/packets 0 bytes 0/' > "$BH_TMP/$name.nft"
		if [ -n "${BH_GOLDEN_UPDATE:-}" ]; then
			mkdir -p "$GOLDEN"
			cp "$BH_TMP/$name.nft" "$GOLDEN/$name.nft"
			ok "$name: golden file written ($(wc -l < "$GOLDEN/$name.nft") lines)"
		elif [ ! -f "$GOLDEN/$name.nft" ]; then
			fail "$name: no golden file $GOLDEN/$name.nft (make check BH_GOLDEN_UPDATE=1)"
		elif diff -u "$GOLDEN/$name.nft" "$BH_TMP/$name.nft" > "$BH_TMP/$name.diff"; then
			ok "$name: nft list table matches selftests/golden/$name.nft"
		else
			fail "$name: nft list table differs from selftests/golden/$name.nft" \
				"$(head -40 "$BH_TMP/$name.diff")"
		fi
		bh down >/dev/null 2>&1
	fi
	rm -rf "$BH_PIN" "$BH_STATE"
	ip netns del "$GW"
	ip netns del "$INET"
done
tap_done
