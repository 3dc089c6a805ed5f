#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bpf_stack.py - the BPF programs' deepest call chains against 512 bytes.

Kernels before the ones that verify global functions on their own (Debian
12's 6.1 among them) add up the stack of every frame of a call chain,
global functions included, each frame rounded up to 32 bytes (at least
32), and refuse a program whose chain passes 512 ("combined stack size of
N calls is M. Too large"). This machine's newer kernel accepts more, so
the test suite would not notice; this reads the object instead: a frame's
depth is the deepest r10 offset its instructions use, the calls are the
BPF-to-BPF calls (src_reg 1, or a relocation to a function).
Prints TAP: one line per program, its deepest chain.

bh: args $BUILD/bpf/bulkhead.bpf.o
"""
import re
import subprocess
import sys

LIMIT = 512


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def main(obj):
    funcs = {}      # section index -> [(start insn, insns, name)]
    for line in run('llvm-readelf', '-s', obj).splitlines():
        p = line.split()
        if len(p) >= 8 and p[3] == 'FUNC' and p[6].isdigit():
            funcs.setdefault(int(p[6]), []).append((int(p[1], 16) // 8, int(p[2]) // 8, p[7]))
    secs = {}
    for line in run('llvm-readelf', '-S', obj).splitlines():
        m = re.match(r'\s*\[\s*(\d+)\]\s+(\S+)', line)
        if m:
            secs[m.group(2)] = int(m.group(1))
    insns, relocs, sec, last = {}, {}, None, None
    for line in run('llvm-objdump', '-dr', obj).splitlines():
        m = re.match(r'Disassembly of section (\S+):', line)
        if m:
            sec = secs.get(m.group(1))
            insns[sec], relocs[sec] = {}, {}
            continue
        m = re.match(r'\s*(\d+):\s+((?:[0-9a-f]{2} ){7}[0-9a-f]{2})\s+(.*)', line)
        if m and sec is not None:
            last = int(m.group(1))
            raw = m.group(2).split()
            insns[sec][last] = (m.group(3), raw[0] == '85' and int(raw[1], 16) >> 4 == 1)
            continue
        m = re.search(r'R_BPF_64_32\s+(\S+)', line)
        if m and sec is not None:
            relocs[sec][last] = m.group(1)
    names = {n for fl in funcs.values() for _, _, n in fl}

    def at(s, insn):
        for start, n, name in funcs.get(s, []):
            if start == insn:
                return name
        return None

    info = {}
    for s, fl in funcs.items():
        for start, n, name in fl:
            depth, calls = 0, set()
            for i in range(start, start + n):
                text, pseudo = insns[s].get(i, ('', False))
                for off in re.findall(r'r10 - (0x[0-9a-f]+|\d+)', text):
                    depth = max(depth, int(off, 0))
                m = re.match(r'call (-?\d+)$', text.strip())
                if not m:
                    continue
                imm = int(m.group(1))
                if i in relocs[s]:
                    r = relocs[s][i]
                    target = r if r in names else at(secs.get('.text'), imm + 1)
                elif pseudo:
                    target = at(s, i + 1 + imm)
                else:
                    target = None       # a helper
                if target:
                    calls.add(target)
            info[name] = (depth, calls)

    def frame(d):
        return max(32, (d + 31) // 32 * 32)

    def deepest(f, seen):
        d, calls = info[f]
        best = (0, [])
        for c in calls:
            if c not in seen:
                best = max(best, deepest(c, seen | {c}))
        return (frame(d) + best[0], [f] + best[1])

    n, bad = 0, 0
    for prog in sorted(n for n in names if n.startswith('bulkhead_')):
        total, chain = deepest(prog, {prog})
        n += 1
        ok = total <= LIMIT
        bad += not ok
        print('%sok %d - %s: combined stack %d bytes of %d (%s)' %
              ('' if ok else 'not ', n, prog, total, LIMIT,
               ' -> '.join('%s %d' % (f, info[f][0]) for f in chain)))
    print('1..%d' % n)
    return 1 if bad or not n else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'build/bpf/bulkhead.bpf.o'))
