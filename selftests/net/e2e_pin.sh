#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_pin.sh - per-port MAC pinning (a member's `port:`), in the attach mode
# BH_MODE, under the MAC-only policy (selftests/policies/e2e/maconly.yaml).
# The fridge takes the camera's MAC and address while the camera is off
# and listens on tcp/554, where the nvr pulls the camera's stream from.
# First without a pin: the nvr's connection reaches the fridge (what L2
# identity alone cannot tell apart). Then with the camera pinned to its
# port: the fridge's frames are dropped as drop_spoof, the bridge never
# learns the camera's MAC on the fridge's port, the nvr's connection never
# reaches the fridge, and the real camera, back on its port, is reached
# from cold caches. Last, a pin to a port that does not exist: said, and
# the MAC is accepted on no port.
set -u
. "$(dirname "$0")/../lib.sh"
need socat ping python3 nsenter bridge
MODE=${BH_MODE:-tc}
POL=$BH_SRC/selftests/policies/e2e/maconly.yaml

bh_setup_demo_net
C=${BH_IP4[camera]} CMAC=${BH_MAC[camera]} FMAC=${BH_MAC[fridge]}
FR=${BH_NS[fridge]} CAM=${BH_NS[camera]}
sed "s/{mac: \"$CMAC\", name: camera}/{mac: \"$CMAC\", name: camera, port: p11}/" \
	"$POL" > "$BH_TMP/pinned.yaml"
sed "s/port: p11/port: p99/" "$BH_TMP/pinned.yaml" > "$BH_TMP/gone.yaml"
grep -q "port: p11" "$BH_TMP/pinned.yaml" || { fail "the pinned policy" "no port: in $BH_TMP/pinned.yaml"; tap_done; exit 1; }
out=$(bh check "$BH_TMP/pinned.yaml" 2>&1) && ok "check accepts a member's port:" ||
	fail "check accepts a member's port:" "$out"
out=$(printf 'version: 1\ninterfaces: [br-lan]\ngroups:\n  g:\n    members:\n      - {mac: "02:00:00:00:00:11", port: "a/b"}\n' > "$BH_TMP/bad.yaml"; bh check "$BH_TMP/bad.yaml" 2>&1)
check "check refuses a port that is no interface name, with file:line:col" \
	grep -qE "bad.yaml:6:[0-9]+: 'a/b' is not an interface name" <<<"$out"

# the camera is off; the fridge comes up as the camera (MAC and address)
camera_off() { ip -n "$CAM" link set eth0 down; }
camera_on() { ip -n "$CAM" link set eth0 up; }
# (its own address goes: it sends from the camera's only, as an impostor
# would; the address claims would hold its own against it otherwise)
impersonate() {
	ip -n "$FR" link set eth0 down
	ip -n "$FR" link set eth0 address "$CMAC"
	ip -n "$FR" addr del "${BH_IP4[fridge]}/24" dev eth0 2>/dev/null
	ip -n "$FR" link set eth0 up
	ip -n "$FR" addr add "$C/24" dev eth0 2>/dev/null
	ip -n "$FR" route replace default via 192.168.50.1
}
be_fridge() {
	ip -n "$FR" addr del "$C/24" dev eth0 2>/dev/null
	ip -n "$FR" link set eth0 down
	ip -n "$FR" link set eth0 address "$FMAC"
	ip -n "$FR" link set eth0 up
	ip -n "$FR" addr add "${BH_IP4[fridge]}/24" dev eth0 2>/dev/null
	ip -n "$FR" route replace default via 192.168.50.1
}
# the port the bridge holds the camera's MAC on ("" when none)
fdb_port() {
	bridge -n "$GW" fdb show br br-lan | awk -v m="$CMAC" '$1 == m && $3 ~ /^p/ { print $3; exit }'
}
# the nvr has recorded the camera (it knows its MAC); the camera goes off,
# the fridge, as the camera, speaks first (the bridge hears it), then the
# nvr connects to the camera's address again
as_camera_reached() {
	bh_cold fridge
	in_ns fridge ping -c 1 -W 1 192.168.50.1 >/dev/null 2>&1
	BH_TRY_COLD=1 tcp_try nvr fridge "$C" 554
}
nvr_records() {
	bh_cold camera nvr
	BH_TRY_COLD=1 expect_pass "$1" tcp_try nvr camera "$C" 554
}

out=$(bh up -c "$POL" --mode "$MODE" 2>&1) && ok "up --mode $MODE (no pin)" || fail "up" "$out"
nvr_records "the nvr reaches the camera (from cold caches)"
camera_off
impersonate
if as_camera_reached; then
	ok "without a pin: the fridge, as the camera, gets the nvr's connection to it (the attack works)"
else
	fail "without a pin: the fridge, as the camera, gets the nvr's connection to it" \
		"the attack did not work: the test proves nothing (fdb: $(fdb_port))"
fi
check "... and the bridge holds the camera's MAC on the fridge's port" test "$(fdb_port)" = p31

# pinned: the same attack
be_fridge
camera_on
out=$(bh diff "$BH_TMP/pinned.yaml" 2>&1)
check "diff shows the pin" grep -q "port p11" <<<"$out"
out=$(bh apply "$BH_TMP/pinned.yaml" 2>&1) && ok "apply: the camera pinned to p11" || fail "apply pinned" "$out"
nvr_records "the camera, on its port, is reached from cold caches"
camera_off
impersonate
expect_drop "pinned: the fridge, as the camera, is dropped as drop_spoof; the nvr's connection never reaches it" \
	drop_spoof as_camera_reached
check "... and the bridge never learned the camera's MAC on the fridge's port" \
	test "$(fdb_port)" != p31

# the real camera back on its port, while the impostor keeps trying
camera_on
bh_cold camera nvr
BH_TRY_COLD=1 expect_pass "the real camera, back on p11, is reached from cold caches while the fridge poses as it" \
	tcp_try nvr camera "$C" 554
be_fridge
bh_cold fridge
BH_TRY_COLD=1 expect_pass "the fridge as itself is judged by the policy (fridge -> internet tcp/443 passes)" \
	tcp_try fridge internet 203.0.113.10 443

# a pin to a port that does not exist: said, and the camera is accepted nowhere
out=$(bh apply "$BH_TMP/gone.yaml" 2>&1)
rc=$?
check "apply with a pin to a missing port succeeds (exit $rc)" test "$rc" = 0
check "... and says the camera is pinned to a port that is not there" \
	grep -q "camera (02:00:00:00:00:11) is pinned to port p99, which is not a port" <<<"$out"
bh_cold camera nvr
BH_TRY_COLD=1 expect_drop "... the camera's frames are dropped on every port (its answers to the nvr)" \
	drop_spoof tcp_try nvr camera "$C" 554
out=$(bh apply "$BH_TMP/pinned.yaml" 2>&1) && ok "apply: pinned to p11 again" || fail "apply pinned again" "$out"
bh_cold camera nvr
BH_TRY_COLD=1 expect_pass "... and the camera is reached again" tcp_try nvr camera "$C" 554

# the camera's port deleted and made again (another ifindex, the same
# name): up again (as the daemon's port sync does) pins it to the new one
ip -n "$GW" link del p11
ip netns del "$CAM"
bh_add_device camera2 11
out=$(bh up -c "$BH_TMP/pinned.yaml" --mode "$MODE" 2>&1) && ok "up after p11 was made again" ||
	fail "up after p11 was made again" "$out"
bh_cold camera2 nvr
BH_TRY_COLD=1 expect_pass "... the camera on the new p11 is reached from cold caches" \
	tcp_try nvr camera2 "$C" 554

out=$(bh down 2>&1) && ok "down" || fail "down" "$out"
tap_done
