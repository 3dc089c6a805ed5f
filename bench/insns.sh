#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# insns.sh - static instruction counts of a BPF object, from llvm-objdump:
# no kernel, no bpftool prog. Shows that a refactoring left the programs
# the same (bpf/lib split: the counts before and after must be equal).
#
#   bench/insns.sh [OBJ]           per program and subprogram: instructions
#                                  (lines of llvm-objdump -d; a 16-byte
#                                  lddw is one), slots (8-byte units, the
#                                  kernel's count) and, for a program, the
#                                  total with every subprogram it can call
#   bench/insns.sh --disasm [OBJ]  the disassembly, function by function in
#                                  name order, without addresses, label
#                                  names or call offsets: equal text means
#                                  the same code, whatever the symbol order
#
# OBJ defaults to build/bpf/bulkhead.bpf.o.
set -eu

mode=counts
if [ "${1:-}" = "--disasm" ]; then
	mode=disasm
	shift
fi
obj=${1:-build/bpf/bulkhead.bpf.o}
[ -r "$obj" ] || { echo "insns.sh: $obj: not readable" >&2; exit 1; }

# "S <index> <section name>" for every section, "Y <section index>
# <hex offset> <name>" for every function symbol, then
# the disassembly with relocations
{
	llvm-readelf -SW "$obj" | sed -n 's/^ *\[ *\([0-9]*\)\] \([^ ]*\) .*/S \1 \2/p'
	llvm-readelf -sW "$obj" | awk '$4 == "FUNC" && $7 ~ /^[0-9]+$/ {
		print "Y", $7, $2, $8 }'
	echo "D"
	llvm-objdump -dr "$obj"
} | awk -v mode="$mode" '
function hexval(s,	i, v) {
	v = 0
	for (i = 1; i <= length(s); i++)
		v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}
# the signed 32-bit immediate of an instruction (bytes 4..7, little endian)
function imm(b,	v) {
	v = hexval(b[8] b[7] b[6] b[5])
	return v >= 2147483648 ? v - 4294967296 : v
}
function hexslot(a) { return hexval(a) / 8 }
# the call waiting for a relocation line: resolved without one (same section)
function flush_call() {
	if (pend_fn == "")
		return
	callee = at[cursec SUBSEP pend_tgt]
	add_call(pend_fn, callee, pend_line)
	pend_fn = ""
}
function add_call(fn, callee, line) {
	if (callee == "")
		callee = "?"
	if (!((fn, callee) in edge)) {
		edge[fn, callee] = 1
		ncall[fn]++
		calls[fn, ncall[fn]] = callee
	}
	text[fn, line] = text[fn, line] " <" callee ">"
}
function sub_total(fn, root,	i, t) {
	t = 0
	for (i = 1; i <= ncall[fn]; i++)
		if (!((root, calls[fn, i]) in seen)) {
			seen[root, calls[fn, i]] = 1
			t += insns[calls[fn, i]] + sub_total(calls[fn, i], root)
		}
	return t
}
$1 == "S" { secname[$2] = $3; next }
$1 == "Y" { at[secname[$2] SUBSEP hexslot($3)] = $4; funsec[$4] = secname[$2]
	    nfun++; funs[nfun] = $4; next }
$1 == "D" { dis = 1; next }
!dis { next }
/^Disassembly of section / {
	flush_call()
	cursec = $4; sub(/:$/, "", cursec); fn = ""; next
}
/^[0-9a-f]+ <[^>]*>:$/ {
	flush_call()
	name = $2; gsub(/[<>:]/, "", name)
	if (at[cursec SUBSEP hexslot($1)] == name)
		fn = name
	next
}
/R_BPF_/ {
	if (fn == "")
		next
	sym = $NF
	if ($2 == "R_BPF_64_32" && pend_fn != "") {
		# a call out of this section: the section symbol plus imm + 1,
		# or the function itself
		if (sym ~ /^\./)
			add_call(pend_fn, at[sym SUBSEP pend_imm + 1], pend_line)
		else
			add_call(pend_fn, sym, pend_line)
		pend_fn = ""
		next
	}
	flush_call()
	text[fn, nline[fn]] = text[fn, nline[fn]] " [" $2 " " sym "]"
	next
}
/^ *[0-9]+:\t/ {
	flush_call()
	if (fn == "")
		next
	idx = $1; sub(/:$/, "", idx)
	split($0, part, "\t")
	n = split(part[2], b, " ")
	ins = part[3]
	sub(/ <LBB[^>]*>$/, "", ins)
	insns[fn]++
	slots[fn] += n / 8
	nline[fn]++
	if (b[1] == "85" && b[2] == "10") {
		# a BPF-to-BPF call: imm is relative to the next instruction
		ins = "call"
		pend_fn = fn; pend_line = nline[fn]
		pend_imm = imm(b); pend_tgt = idx + 1 + pend_imm
	}
	text[fn, nline[fn]] = ins
	next
}
END {
	flush_call()
	# names in order: an insertion sort, the list is short
	for (i = 2; i <= nfun; i++)
		for (j = i; j > 1 && funs[j - 1] > funs[j]; j--) {
			t = funs[j]; funs[j] = funs[j - 1]; funs[j - 1] = t
		}
	if (mode == "disasm") {
		for (i = 1; i <= nfun; i++) {
			f = funs[i]
			printf "%s (%s):\n", f, funsec[f]
			for (l = 1; l <= nline[f]; l++)
				printf "\t%s\n", text[f, l]
		}
		exit
	}
	printf "%-18s %-8s %6s %6s %10s\n", "function", "section", "insns", "slots", "with calls"
	# the programs, then the subprograms in .text
	for (pass = 1; pass <= 2; pass++)
		for (i = 1; i <= nfun; i++) {
			f = funs[i]
			if ((funsec[f] == ".text") != (pass == 2))
				continue
			printf "%-18s %-8s %6d %6d", f, funsec[f], insns[f], slots[f]
			if (pass == 1)
				printf " %10d", insns[f] + sub_total(f, f)
			printf "\n"
		}
}'
