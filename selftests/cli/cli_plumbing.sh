#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# cli_plumbing.sh - the service plumbing: `make install DESTDIR=` puts the
# binary, the systemd unit, the man pages and the bash completion where they
# belong; `systemd-analyze verify` passes on the installed unit; both man
# pages render with `man -l --warnings` and no warning; the completion,
# sourced in bash, completes subcommands and options.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
n=0 failed=0

tap() {	# status name [detail]
	n=$((n + 1))
	case $1 in
	ok)	echo "ok $n - $2" ;;
	skip)	echo "ok $n - $2 # SKIP $3" ;;
	*)	echo "not ok $n - $2"
		[ $# -gt 2 ] && echo "#   $3" | head -20
		failed=$((failed + 1)) ;;
	esac
}

tmp=$(mktemp -d /tmp/bh-plumbing.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root

# ---- make install ------------------------------------------------------------
out=$(make -s install BUILD="$BUILD" DESTDIR="$dest" PREFIX=/usr 2>&1)
rc=$?
[ $rc -eq 0 ] && tap ok "make install DESTDIR=... PREFIX=/usr" ||
	tap fail "make install DESTDIR=... PREFIX=/usr" "exit $rc: $out"
for f in usr/sbin/bulkhead:755 usr/lib/systemd/system/bulkhead.service:644 \
	 usr/share/man/man8/bulkhead.8:644 usr/share/man/man5/bulkhead-policy.5:644 \
	 usr/share/bash-completion/completions/bulkhead:644; do
	path=${f%:*} want=${f##*:}
	mode=$(stat -c %a "$dest/$path" 2>/dev/null)
	[ "$mode" = "$want" ] && tap ok "installed /$path (mode $want)" ||
		tap fail "installed /$path (mode $want)" "mode '${mode:-missing}'"
done
unit=$dest/usr/lib/systemd/system/bulkhead.service
grep -q '^ExecStart=/usr/sbin/bulkhead daemon ' "$unit" &&
	tap ok "the installed unit runs /usr/sbin/bulkhead daemon" ||
	tap fail "the installed unit runs /usr/sbin/bulkhead daemon" "$(grep ExecStart "$unit")"
# the Makefile's own default: a PREFIX in the environment would win over
# its ?= (seen twice under make check, from a source not found)
out=$(env -u PREFIX -u SBINDIR -u UNITDIR -u MANDIR -u BASHCOMPDIR \
	make -s install BUILD="$BUILD" DESTDIR="$tmp/local" 2>&1)
rc=$?
[ -x "$tmp/local/usr/local/sbin/bulkhead" ] &&
	[ -f "$tmp/local/usr/local/lib/systemd/system/bulkhead.service" ] &&
	[ -f "$tmp/local/usr/local/share/man/man8/bulkhead.8" ] &&
	grep -q '^ExecStart=/usr/local/sbin/bulkhead ' "$tmp/local/usr/local/lib/systemd/system/bulkhead.service" &&
	tap ok "make install with the default PREFIX: /usr/local" ||
	tap fail "make install with the default PREFIX: /usr/local" \
		"exit $rc: $out; installed: $(find "$tmp/local" -type f | tr '\n' ' '); environment: $(env | grep -E '^(MAKE|PREFIX|[A-Z]*DIR=)' | tr '\n' ' ')"
make -s uninstall DESTDIR="$dest" PREFIX=/usr >/dev/null 2>&1
left=$(find "$dest" -type f)
[ -z "$left" ] && tap ok "make uninstall removes them" || tap fail "make uninstall removes them" "$left"
make -s install BUILD="$BUILD" DESTDIR="$dest" PREFIX=/usr >/dev/null 2>&1

# ---- the unit ---------------------------------------------------------------------
grep -q '^CapabilityBoundingSet=CAP_NET_ADMIN CAP_BPF CAP_PERFMON$' "$unit" &&
	! grep -v "^#" "$unit" | grep -q CAP_SYS_ADMIN &&
	tap ok "unit: capabilities CAP_NET_ADMIN CAP_BPF CAP_PERFMON only" ||
	tap fail "unit: capabilities" "$(grep -i cap "$unit")"
for kv in Type=simple Restart=on-failure StateDirectory=bulkhead ProtectSystem=strict \
	  ProtectHome=yes 'ReadWritePaths=/sys/fs/bpf /var/lib/bulkhead' \
	  'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qxF "$kv" "$unit" && tap ok "unit: $kv" || tap fail "unit: $kv"
done
if ! command -v systemd-analyze >/dev/null; then
	tap skip "systemd-analyze verify bulkhead.service" "systemd-analyze is not installed"
else
	# the unit as installed, its ExecStart on this tree's binary (verify
	# checks that it exists) and its man: pages found in the staging tree
	mkdir -p "$tmp/verify"
	sed "s|^ExecStart=[^ ]*|ExecStart=$dest/usr/sbin/bulkhead|" "$unit" > "$tmp/verify/bulkhead.service"
	out=$(MANPATH="$dest/usr/share/man" SYSTEMD_LOG_LEVEL=notice \
	      systemd-analyze verify "$tmp/verify/bulkhead.service" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		tap ok "systemd-analyze verify bulkhead.service: no complaint"
	elif echo "$out" | grep -qiE "failed to (connect|initialize|set up)|not booted|no such file or directory.*(bus|systemd/private)|Operation not permitted"; then
		tap skip "systemd-analyze verify bulkhead.service" "cannot run here: $(echo "$out" | head -1)"
	else
		tap fail "systemd-analyze verify bulkhead.service" "exit $rc: $out"
	fi
fi

# the unit's capabilities are enough, and each one is needed: run the
# commands with exactly that bounding set (as the unit does), in a namespace
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_//g')
capped() {	# caps cmd...: bulkhead with only @caps, in the test namespace
	local c=$1
	shift
	nsenter --net=/run/netns/$capns setpriv --bounding-set=-all$(printf ',+%s' $c) \
		--inh-caps=-all -- "$BUILD/bulkhead" --pin-dir "$cappin" --state-dir "$tmp/capstate" "$@"
}
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! command -v nsenter >/dev/null; then
	tap skip "the unit's capabilities are enough for up, isolate, release, down" "needs root, setpriv and nsenter"
else
	capns=bh-plumb-$$ cappin=/sys/fs/bpf/bh-plumb-$$
	ip netns add "$capns"
	ip -n "$capns" link add br-lan type bridge
	ip -n "$capns" link add p1 type veth peer name q1
	ip -n "$capns" link set p1 master br-lan
	ip -n "$capns" link set br-lan up
	ip -n "$capns" link set p1 up
	for mode in tc nft; do
		out=$(capped "$caps" up -c policies/demo.yaml --mode "$mode" 2>&1 &&
		      capped "$caps" isolate 02:00:00:00:00:31 2>&1 &&
		      capped "$caps" status --json 2>&1 &&
		      capped "$caps" release 02:00:00:00:00:31 2>&1 &&
		      capped "$caps" down 2>&1)
		rc=$?
		[ $rc -eq 0 ] && tap ok "with only $caps: up --mode $mode, isolate, status, release, down" ||
			tap fail "with only $caps: up --mode $mode, isolate, status, release, down" "exit $rc: $out"
	done
	for drop in perfmon bpf; do
		out=$(capped "$(echo $caps | sed "s/\b$drop\b//")" up -c policies/demo.yaml --mode tc 2>&1)
		rc=$?
		[ $rc -ne 0 ] && tap ok "without cap_$drop: up fails (the unit needs it)" ||
			tap fail "without cap_$drop: up fails (the unit needs it)" "exit $rc: $out"
		nsenter --net=/run/netns/$capns "$BUILD/bulkhead" --pin-dir "$cappin" \
			--state-dir "$tmp/capstate" down >/dev/null 2>&1
	done
	nsenter --net=/run/netns/$capns "$BUILD/bulkhead" --pin-dir "$cappin" \
		--state-dir "$tmp/capstate" down >/dev/null 2>&1
	ip netns del "$capns"
	rm -rf "$cappin"
fi

# ---- man pages -------------------------------------------------------------------
if ! command -v man >/dev/null; then
	tap skip "man -l renders the man pages" "man (man-db) is not installed"
else
	for page in docs/man/bulkhead.8 docs/man/bulkhead-policy.5; do
		err=$(MANWIDTH=80 man -l --warnings "$page" 2>&1 >"$tmp/page.txt")
		rc=$?
		if [ $rc -eq 0 ] && [ -z "$err" ] && [ -s "$tmp/page.txt" ]; then
			tap ok "man -l --warnings $page: rendered, no warning"
		else
			tap fail "man -l --warnings $page" "exit $rc: $err"
		fi
	done
	# every subcommand and every option of each has its place in bulkhead(8)
	MANWIDTH=200 man -l docs/man/bulkhead.8 2>/dev/null > "$tmp/man8.txt"
	missing=
	for c in $("$BUILD/bulkhead" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } /^$/ && on { on = 0 }'); do
		grep -qE "^   $c( |$)" "$tmp/man8.txt" || missing="$missing $c"
		for o in $("$BUILD/bulkhead" "$c" --help | grep -oE -- '--[a-z-]+' | sort -u); do
			grep -qF -- "$o" "$tmp/man8.txt" || missing="$missing $c:$o"
		done
	done
	for o in $("$BUILD/bulkhead" --help | grep -oE -- '--[a-z-]+' | sort -u); do
		grep -qF -- "$o" "$tmp/man8.txt" || missing="$missing $o"
	done
	[ -z "$missing" ] && tap ok "bulkhead(8) has every subcommand and option of --help" ||
		tap fail "bulkhead(8) has every subcommand and option of --help" "missing:$missing"
	grep -q "EXIT STATUS" "$tmp/man8.txt" && grep -q "^FILES" "$tmp/man8.txt" &&
		grep -q "^EXAMPLES" "$tmp/man8.txt" &&
		tap ok "bulkhead(8) has EXIT STATUS, FILES and EXAMPLES" ||
		tap fail "bulkhead(8) has EXIT STATUS, FILES and EXAMPLES"
	MANWIDTH=200 man -l docs/man/bulkhead-policy.5 2>/dev/null > "$tmp/man5.txt"
	missing=
	for k in version interfaces defaults.east_west defaults.internet defaults.gateway \
		 defaults.unknown quarantine.allow multicast "Deny wins" "unknown group 'G'"; do
		grep -qF -- "$k" "$tmp/man5.txt" || missing="$missing '$k'"
	done
	[ -z "$missing" ] && tap ok "bulkhead-policy(5) has the keys, destinations and errors" ||
		tap fail "bulkhead-policy(5) has the keys, destinations and errors" "missing:$missing"
fi

# ---- bash completion ----------------------------------------------------------------
comp=$dest/usr/share/bash-completion/completions/bulkhead
complete_words() {	# word... (the last one is completed)
	bash --norc --noprofile -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_bulkhead
		echo "${COMPREPLY[*]}"' _ "$comp" "$@"
}
expect_completion() {	# want word...
	local want=$1 got
	shift
	got=$(complete_words "$@" 2>&1)
	[ "$got" = "$want" ] && tap ok "completion: '$*<TAB>' -> '$want'" ||
		tap fail "completion: '$*<TAB>' -> '$want'" "got '$got'"
}
out=$(bash --norc --noprofile -c 'source "$1" && complete -p bulkhead' _ "$comp" 2>&1)
[ "$out" = "complete -F _bulkhead bulkhead" ] && tap ok "completion: registered for bulkhead" ||
	tap fail "completion: registered for bulkhead" "$out"
expect_completion isolate bulkhead is
expect_completion "down diff daemon devices" bulkhead d
expect_completion "diff" bulkhead --state-dir /tmp di
expect_completion "--json" bulkhead status --j
expect_completion "auto xdp tc nft" bulkhead up --mode ""
expect_completion "--reason" bulkhead isolate 02:00:00:00:00:11 --r
expect_completion "--config --json --help" bulkhead diff --
expect_completion "policies/demo.yaml" bulkhead check policies/dem
expect_completion "--pin-dir" bulkhead --pin
expect_completion "--matrix" bulkhead flows --ma
expect_completion "--output" bulkhead learn --o
expect_completion "7d" bulkhead learn --since 7
cmds=$("$BUILD/bulkhead" --help | awk '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }' | tr '\n' ' ')
got=$(complete_words bulkhead "")
[ "$(echo $got | tr ' ' '\n' | sort)" = "$(echo $cmds | tr ' ' '\n' | sort)" ] &&
	tap ok "completion: every subcommand of --help" ||
	tap fail "completion: every subcommand of --help" "completion '$got', --help '$cmds'"

echo "1..$n"
[ "$failed" -eq 0 ]
