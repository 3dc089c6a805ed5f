#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# udpseq.py - a numbered UDP stream for the isolate-to-drop benchmark
# (bench/control.sh), and a timer around a command. Times are CLOCK_REALTIME
# ns, the one clock every network namespace shares.
#
#   udpseq.py send ADDR PORT SECONDS TSFILE   stream; TSFILE: each seq's send time
#   udpseq.py recv PORT IDLE OUTFILE          until IDLE s of silence; OUTFILE:
#                                             "highest-seq count"
#   udpseq.py time OUTFILE CMD...             run CMD; OUTFILE: "start end status"
#   udpseq.py gap TSFILE RECVFILE TIMEFILE    print: command ms, last delivered and
#                                             first dropped packet, ms from return
import array
import socket
import struct
import subprocess
import sys
import time


def send(addr, port, seconds, tsfile):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, int(port)))
    ts = array.array('q')
    pad = b'\0' * 16
    end = time.time_ns() + int(float(seconds) * 1e9)
    seq = 0
    while True:
        t = time.time_ns()
        if t > end:
            break
        try:
            s.send(struct.pack('!QQ', seq, t) + pad)
        except OSError:
            pass
        ts.append(t)
        seq += 1
    with open(tsfile, 'wb') as f:
        ts.tofile(f)


def recv(port, idle, outfile):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(('0.0.0.0', int(port)))
    s.settimeout(float(idle))
    last, n = -1, 0
    while True:
        try:
            d = s.recv(64)
        except socket.timeout:
            break
        seq = struct.unpack('!Q', d[:8])[0]
        last = max(last, seq)
        n += 1
    with open(outfile, 'w') as f:
        f.write('%d %d\n' % (last, n))


def timed(outfile, cmd):
    t0 = time.time_ns()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL)
    t1 = time.time_ns()
    with open(outfile, 'w') as f:
        f.write('%d %d %d\n' % (t0, t1, r.returncode))
    return r.returncode


def gap(tsfile, recvfile, timefile):
    ts = array.array('q')
    with open(tsfile, 'rb') as f:
        ts.frombytes(f.read())
    last, n = map(int, open(recvfile).read().split())
    t0, t1, _ = map(int, open(timefile).read().split())
    if last < 0 or last + 1 >= len(ts):
        print('- - -')
        return
    print('%.2f %.3f %.3f %d %d' % ((t1 - t0) / 1e6, (ts[last] - t1) / 1e6,
                                    (ts[last + 1] - t1) / 1e6, last + 1 - n, len(ts)))


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == 'send':
        send(*args)
    elif mode == 'recv':
        recv(*args)
    elif mode == 'time':
        sys.exit(timed(args[0], args[1:]))
    elif mode == 'gap':
        gap(*args)
    else:
        sys.exit('udpseq.py: unknown mode ' + mode)


if __name__ == '__main__':
    main()
