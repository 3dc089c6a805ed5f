#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cli_valgrind.sh - a smoke run of the CLI under valgrind (memcheck): every
# example policy checked and explained, bad policies and bad arguments
# refused, --help of every subcommand, and up / isolate / status / devices /
# apply / release / down on the demo network. Any memcheck error or leak of
# definitely or indirectly lost blocks fails.
set -u
. "$(dirname "$0")/../lib.sh"
need valgrind nsenter
VG="valgrind -q --suppressions=$BH_SRC/selftests/cli/valgrind.supp --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"

vg() {	# NAME EXPECTED-EXIT ARGS...: run bulkhead under valgrind in the gateway netns
	local name=$1 want=$2 rc
	shift 2
	nsenter --net="/run/netns/$GW" $VG "$BULKHEAD" --pin-dir "$BH_PIN" \
		--state-dir "$BH_STATE" "$@" > "$BH_TMP/vg.out" 2>&1
	rc=$?
	if [ "$rc" = 99 ]; then
		fail "$name: valgrind reports" "$(grep -v '^bulkhead' "$BH_TMP/vg.out" | head -30)"
	elif [ "$rc" != "$want" ]; then
		fail "$name: exit $rc, expected $want" "$(head -10 "$BH_TMP/vg.out")"
	else
		ok "$name: no valgrind report (exit $rc)"
	fi
}

bh_setup_demo_net
for pol in "$BH_SRC"/policies/*.yaml; do
	vg "check $(basename "$pol")" 0 check "$pol"
done
for bad in $(ls "$BH_SRC"/selftests/policies/bad/*.yaml | head -8); do
	vg "check bad/$(basename "$bad")" 1 check "$bad"
done
for c in $("$BULKHEAD" --help | awk '/^  [a-z]+ /{print $1}' | sort -u); do
	vg "$c --help" 0 "$c" --help
done
vg "isolate nonsense" 1 isolate not-a-mac
vg "up (tc)" 0 up -c "$BH_SRC/policies/demo.yaml" --mode tc
vg "explain" 0 explain fridge camera tcp/554
vg "isolate" 0 isolate 02:00:00:00:00:31
vg "status --json" 0 status --json
vg "devices --json" 0 devices --json
vg "apply" 0 apply "$BH_SRC/policies/demo.yaml"
vg "release" 0 release 02:00:00:00:00:31
vg "up (nft)" 0 up -c "$BH_SRC/policies/demo.yaml" --mode nft
vg "status (nft)" 0 status
vg "down" 0 down
tap_done
