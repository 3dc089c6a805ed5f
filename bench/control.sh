#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# control.sh - the control plane: how long `check` and `apply` take on
# large policies and the CLI's peak RSS (/usr/bin/time), what the maps
# hold then by the kernel's own accounting (bpftool: memlock of each
# pinned map), and the time from `bulkhead isolate` returning to the first
# dropped packet of a running UDP stream (bench/udpseq.py: numbered,
# time-stamped datagrams from the device, received on the far side).
#
#   bench/control.sh DATAFILE   (Markdown on stdout, progress on stderr;
#                               DATAFILE: "apply DEVICES RULES s" and
#                               "isolate MODE first-drop-ms" lines)
#
# Env: BENCH_CP_POLICIES (DEVICES:RULES pairs, default
# "100:1000 10000:100000"), BENCH_ISO_MODES ("tc xdp"), BENCH_ISO_TRIALS (3).
set -u
. "$(dirname "$0")/../selftests/lib.sh"
POLICIES=${BENCH_CP_POLICIES:-100:1000 10000:100000}
MODES=${BENCH_ISO_MODES:-tc xdp}
TRIALS=${BENCH_ISO_TRIALS:-3}
GEN=$BH_SRC/bench/genpolicy.py
SEQ=$BH_SRC/bench/udpseq.py
DATA=${1:?usage: control.sh DATAFILE}
MAPS="bh_policy bh_devices bh_ips bh_inet bh_talk bh_ct bh_rulestats bh_devstats"

log() { echo "  $*" >&2; }

for t in bpftool nsenter python3 /usr/bin/time; do
	command -v $t >/dev/null || { log "control: $t is missing (make deps)"; exit 2; }
done

bh_setup_gateway
bh_add_device tx 11
bh_add_device rx 21
bh_pin_neighbours
python3 "$GEN" --base net --rules 10 --devices 102 --yaml "$BH_TMP/net.yaml"
bh up -c "$BH_TMP/net.yaml" --mode tc >/dev/null || { log "control: up failed"; exit 2; }

memlock() {	# MAP: bytes the kernel charges for it
	bpftool -j map show pinned "$BH_PIN/maps/$1" |
		python3 -c 'import json,sys; print(json.load(sys.stdin).get("bytes_memlock", 0))'
}

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }

: > "$DATA"
echo "| policy | check s | check peak RSS MiB | apply s | apply peak RSS MiB | map memory MiB |"
echo "|---|---:|---:|---:|---:|---:|"
MEM_ROWS=
for pr in $POLICIES; do
	d=${pr%%:*}
	r=${pr##*:}
	f=$BH_TMP/cp-$d-$r.yaml
	python3 "$GEN" --rules "$r" --devices "$d" --yaml "$f"
	log "CHECK    $d devices, $r rules"
	/usr/bin/time -f '%e %M' -o "$BH_TMP/t.check" "$BULKHEAD" check "$f" >/dev/null ||
		log "control: check $f failed"
	log "APPLY    $d devices, $r rules"
	/usr/bin/time -f '%e %M' -o "$BH_TMP/t.apply" nsenter --net="/run/netns/$GW" \
		"$BULKHEAD" --pin-dir "$BH_PIN" --state-dir "$BH_STATE" apply "$f" >/dev/null ||
		log "control: apply $f failed"
	read -r cs ck < "$BH_TMP/t.check"
	read -r as ak < "$BH_TMP/t.apply"
	echo "apply $d $r $as" >> "$DATA"
	total=0
	row="| $d devices, $r rules |"
	for m in $(ls "$BH_PIN/maps"); do
		b=$(memlock "$m")
		total=$((total + b))
		case " $MAPS " in *" $m "*) row="$row $(mib "$b") |" ;; esac
	done
	MEM_ROWS="$MEM_ROWS$row $(mib $total) |
"
	echo "| $d devices, $r rules | $cs | $(awk -v k="$ck" 'BEGIN { printf "%.1f", k / 1024 }') |" \
		"$as | $(awk -v k="$ak" 'BEGIN { printf "%.1f", k / 1024 }') | $(mib $total) |"
done

echo
echo "Map memory by map after each apply (MiB, bpftool's memlock: the kernel's accounting):"
echo
printf '| policy |'
for m in $(ls "$BH_PIN/maps"); do
	case " $MAPS " in *" $m "*) printf ' %s |' "$m" ;; esac
done
printf ' all maps |\n|---|'
for m in $(ls "$BH_PIN/maps"); do
	case " $MAPS " in *" $m "*) printf -- '---:|' ;; esac
done
printf -- '---:|\n%s' "$MEM_ROWS"

# ---- isolate to drop --------------------------------------------------------
bh apply "$BH_TMP/net.yaml" >/dev/null
echo
echo "| mode | trial | isolate ran ms | isolate peak RSS MiB | last delivered packet sent, ms after return | first dropped packet sent, ms after return | stream packets |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for mode in $MODES; do
	bh up -c "$BH_TMP/net.yaml" --mode "$mode" >/dev/null ||
		{ log "control: up --mode $mode failed"; continue; }
	for t in $(seq "$TRIALS"); do
		log "ISOLATE  $mode, trial $t"
		in_ns rx python3 "$SEQ" recv 9 1 "$BH_TMP/recv" &
		rpid=$!
		sleep 0.3
		in_ns tx python3 "$SEQ" send "${BH_IP4[rx]}" 9 2 "$BH_TMP/ts" &
		spid=$!
		sleep 1
		python3 "$SEQ" time "$BH_TMP/iso" nsenter --net="/run/netns/$GW" "$BULKHEAD" \
			--pin-dir "$BH_PIN" --state-dir "$BH_STATE" isolate "${BH_MAC[tx]}" ||
			log "control: isolate failed"
		wait $spid
		wait $rpid
		read -r ms last first lost total < <(python3 "$SEQ" gap "$BH_TMP/ts" "$BH_TMP/recv" "$BH_TMP/iso")
		echo "isolate $mode $first" >> "$DATA"
		bh release "${BH_MAC[tx]}" >/dev/null
		# the CLI's peak RSS for isolate, from a run of its own
		/usr/bin/time -f '%M' -o "$BH_TMP/t.iso" nsenter --net="/run/netns/$GW" "$BULKHEAD" \
			--pin-dir "$BH_PIN" --state-dir "$BH_STATE" isolate "${BH_MAC[tx]}" >/dev/null
		bh release "${BH_MAC[tx]}" >/dev/null
		echo "| $mode | $t | $ms | $(awk -v k="$(cat "$BH_TMP/t.iso")" 'BEGIN { printf "%.1f", k / 1024 }') |" \
			"$last | $first | $total (lost before the cut: $lost) |"
	done
done
