#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# mapfill.py - put junk keys into a pinned BPF hash map, or take them out,
# in batches (BPF_MAP_UPDATE_BATCH / BPF_MAP_DELETE_BATCH, through the bpf()
# syscall directly), to fill a map up to its max_entries in one step; or
# count a map's keys by their first byte (the generation of policy maps).
#
#   mapfill.py fill  PINNED KEY_SIZE VALUE_SIZE GEN ROOM
#                    junk until ROOM entries are free; prints how many went in
#   mapfill.py clear PINNED KEY_SIZE GEN COUNT
#   mapfill.py count PINNED KEY_SIZE [GEN_OFFSET]  -> "gen:keys" lines
#
# Junk key i: byte 0 = GEN, bytes 1.. = i (little endian); values zero.
import ctypes
import os
import struct
import sys

SYS_BPF = {'x86_64': 321, 'aarch64': 280}[os.uname().machine]
BPF_MAP_GET_NEXT_KEY = 4
BPF_OBJ_GET = 7
BPF_MAP_UPDATE_BATCH = 26
BPF_MAP_DELETE_BATCH = 27

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def bpf(cmd, attr):
    buf = ctypes.create_string_buffer(attr, 128)
    r = libc.syscall(SYS_BPF, cmd, buf, 128)
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r, buf.raw


def obj_get(path):
    p = ctypes.create_string_buffer(path.encode())
    fd, _ = bpf(BPF_OBJ_GET, struct.pack('QIIi', ctypes.addressof(p), 0, 0, 0))
    return fd


def junk_keys(ksz, gen, count):
    return b''.join(bytes([gen]) + i.to_bytes(ksz - 1, 'little') for i in range(count))


def batch(cmd, fd, keys, vals, count):
    kb = ctypes.create_string_buffer(keys, len(keys) or 1)
    vb = ctypes.create_string_buffer(vals, len(vals) or 1) if vals is not None else None
    attr = struct.pack('QQQQIIQQ', 0, 0, ctypes.addressof(kb),
                       ctypes.addressof(vb) if vb else 0, count, fd, 0, 0)
    bpf(cmd, attr)


def count(fd, ksz, gen_off=0):
    gens = {}
    prev = None
    while True:
        cur = ctypes.create_string_buffer(ksz)
        pk = ctypes.create_string_buffer(prev, ksz) if prev else None
        attr = struct.pack('IIQQ', fd, 0, ctypes.addressof(pk) if pk else 0,
                           ctypes.addressof(cur))
        try:
            bpf(BPF_MAP_GET_NEXT_KEY, attr)
        except OSError:
            break
        prev = cur.raw
        gens[prev[gen_off]] = gens.get(prev[gen_off], 0) + 1
    return gens


def max_entries(fd):
    with open(f'/proc/self/fdinfo/{fd}') as f:
        for line in f:
            if line.startswith('max_entries:'):
                return int(line.split()[1])
    raise OSError('no max_entries in fdinfo')


def main():
    op, path = sys.argv[1], sys.argv[2]
    ksz = int(sys.argv[3])
    fd = obj_get(path)
    if op == 'fill':
        vsz, gen, room = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
        n = max_entries(fd) - sum(count(fd, ksz).values()) - room
        batch(BPF_MAP_UPDATE_BATCH, fd, junk_keys(ksz, gen, n), bytes(vsz * n), n)
        print(n)
    elif op == 'clear':
        gen, n = int(sys.argv[4]), int(sys.argv[5])
        batch(BPF_MAP_DELETE_BATCH, fd, junk_keys(ksz, gen, n), None, n)
    elif op == 'count':
        off = int(sys.argv[4]) if len(sys.argv) > 4 else 0
        for g, c in sorted(count(fd, ksz, off).items()):
            print(f'{g}:{c}')
    else:
        sys.exit(f'mapfill: unknown operation {op}')


if __name__ == '__main__':
    main()
