#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# dataplane_diff.py - helpers of dataplane_diff.sh: a random policy over the demo
# network, random first packets of flows, a raw sender and listeners.
#   policy SEED                  a random policy (YAML) on stdout
#   frames SEED N                N random frames (JSON lines) on stdout
#   send FILE SRC                send the frames of device SRC from eth0
#   segments SADDR DADDR DMAC DPORT N   N TCP super-packets of one flow
#                                (GSO, 40 x 1400 bytes, a marker per segment)
#   listen KIND OUT              record the markers that arrive, until SIGTERM
#                                (KIND: packet = AF_PACKET on eth0, local =
#                                raw IP sockets: what the gateway's stack gets)
import json
import os
import random
import signal
import socket
import struct
import sys

# pkt.py: selftests/, one folder up
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from pkt import csum, ip, ipv4, ipv6, l4_csum, pseudo
from pkt import mac as mac_bytes

DEVS = {	# the demo network of lib.sh: name -> host byte
    'camera': 0x11, 'nvr': 0x21, 'fridge': 0x31, 'laptop': 0x41,
}
GW4, GW6 = '192.168.50.1', 'fd00:50::1'
INET4 = '203.0.113.10'
PORTS = [22, 53, 80, 123, 443, 554, 1883, 5353, 8000, 8080, 9100]


def mac(h):
    return '02:00:00:00:00:%02x' % h


def policy(seed):
    r = random.Random(seed)
    groups = ['g%d' % i for i in range(r.randint(2, 4))]
    member = {d: r.choice(groups + ['unknown']) for d in DEVS}
    act = lambda: r.choice(['allow', 'deny'])
    out = ['version: 1', 'interfaces: [br-lan]',
           'defaults: {east_west: %s, internet: %s, gateway: %s, unknown: unknown}'
           % (act(), act(), act()), 'groups:']
    for g in groups + ['unknown']:
        ms = [d for d in DEVS if member[d] == g]
        line = '  %s:' % g
        if g != 'unknown' and r.random() < 0.3:
            line += ' {internet: %s, members: [' % act()
        else:
            line += ' {members: ['
        line += ', '.join('{mac: "%s", name: %s, ip: [192.168.50.%x, "fd00:50::%x"]}'
                          % (mac(DEVS[d]), d, DEVS[d], DEVS[d]) for d in ms)
        out.append(line + ']}')
    out.append('rules:')
    targets = groups + ['unknown', 'gateway', 'internet', 'any', '203.0.113.0/24']
    for i in range(r.randint(1, 8)):
        proto = r.choice(['tcp', 'udp', 'icmp', 'icmpv6', 'any'])
        rule = '  - {name: r%d, from: %s, to: %s, proto: %s' % (
            i, r.choice(groups + ['unknown', 'any']), r.choice(targets), proto)
        if proto in ('tcp', 'udp') and r.random() < 0.8:
            ports = r.sample(PORTS, r.randint(1, 3))
            if r.random() < 0.3:
                lo = r.choice(PORTS)
                ports.append('"%d-%d"' % (lo, lo + r.randint(1, 600)))
            rule += ', ports: [%s]' % ', '.join(str(p) for p in ports)
        if r.random() < 0.25:
            rule += ', action: deny'
        out.append(rule + '}')
    out.append('quarantine: {allow: [dhcp, dns]}')
    return '\n'.join(out) + '\n'


def frames(seed, n):
    r = random.Random(seed * 7919 + 1)
    for i in range(n):
        src = r.choice(list(DEVS))
        v6 = r.random() < 0.3
        kind = r.choice(['dev', 'dev', 'gateway', 'internet'] if not v6 else ['dev', 'gateway'])
        if kind == 'dev':
            dst = r.choice([d for d in DEVS if d != src])
            daddr = ('fd00:50::%x' if v6 else '192.168.50.%x') % DEVS[dst]
            dmac, where = mac(DEVS[dst]), dst
        elif kind == 'gateway':
            dst, daddr, dmac, where = 'gateway', GW6 if v6 else GW4, 'gw', 'gateway'
        else:
            dst, daddr, dmac, where = INET4, INET4, 'gw', 'internet'
        proto = r.choice(['tcp', 'udp', 'icmp'])
        f = {'id': i, 'src': src, 'dst': dst, 'where': where, 'v6': v6,
             'saddr': ('fd00:50::%x' if v6 else '192.168.50.%x') % DEVS[src],
             'daddr': daddr, 'dmac': dmac, 'proto': proto,
             'sport': 20000 + i, 'dport': r.choice(PORTS)}
        yield f


def marker(i):
    return b'BHDIFF%08d' % i


def build(f, smac, gwmac):
    s, d = ip(f['saddr']), ip(f['daddr'])
    body = marker(f['id'])
    if f['proto'] == 'tcp':
        l4p = 6
        l4 = struct.pack('!HHIIBBHHH', f['sport'], f['dport'], 1000 + f['id'], 0,
                         5 << 4, 0x02, 8192, 0, 0) + body
        ck = 16
    elif f['proto'] == 'udp':
        l4p = 17
        l4 = struct.pack('!HHHH', f['sport'], f['dport'], 8 + len(body), 0) + body
        ck = 6
    else:
        l4p = 58 if f['v6'] else 1
        l4 = struct.pack('!BBHHH', 128 if f['v6'] else 8, 0, 0, f['id'] & 0xffff, 1) + body
        ck = 2
    l4 = l4_csum(s, d, l4p, l4, ck)
    if f['v6']:
        pkt, et = ipv6(s, d, l4p, l4), b'\x86\xdd'
    else:
        pkt, et = ipv4(s, d, l4p, l4, ident=f['id']), b'\x08\x00'
    dm = gwmac if f['dmac'] == 'gw' else mac_bytes(f['dmac'])
    return dm + smac + et + pkt


def send(path, src, gwmac):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind(('eth0', 0))
    own = s.getsockname()[4]
    gw = mac_bytes(gwmac)
    for line in open(path):
        f = json.loads(line)
        if f['src'] == src:
            s.send(build(f, own, gw))


def segments(saddr, daddr, dmac, dport, n):
    """n TCP super-packets of one flow, sent as GSO: an AF_PACKET socket with
    PACKET_VNET_HDR hands the kernel one 56,000-byte TCP packet with a
    virtio_net_hdr asking for segmentation (gso_size 1400), as a device's
    TSO path does; the gateway's port receives it whole."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.setsockopt(263, 15, 1)		# SOL_PACKET, PACKET_VNET_HDR
    s.bind(('eth0', 0))
    own = s.getsockname()[4]
    sa, da = ip(saddr), ip(daddr)
    seq = 1000
    for i in range(n):
        body = b''.join(marker(i * 40 + k) + b'x' * (1400 - 14) for k in range(40))
        tcp = struct.pack('!HHIIBBHHH', 41000, dport, seq, 1, 5 << 4, 0x10, 8192, 0, 0) + body
        # partial checksum: the pseudo-header sum, completed per segment
        part = ~csum(pseudo(sa, da, 6, len(tcp))) & 0xffff
        tcp = tcp[:16] + struct.pack('!H', part) + tcp[18:]
        pkt = ipv4(sa, da, 6, tcp, ident=i, frag=0x4000)
        # virtio_net_hdr: NEEDS_CSUM, GSO_TCPV4, hdr_len, gso_size, csum_start, csum_offset
        vnet = struct.pack('<BBHHHH', 1, 1, 14 + 20 + 20, 1400, 14 + 20, 16)
        s.send(vnet + mac_bytes(dmac) + own + b'\x08\x00' + pkt)
        seq += len(body)


def listen(kind, out):
    socks = []
    if kind == 'packet':
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        s.bind(('eth0', 0))
        socks.append(s)
    else:
        for fam, p in ((socket.AF_INET, 6), (socket.AF_INET, 17), (socket.AF_INET, 1),
                       (socket.AF_INET6, 6), (socket.AF_INET6, 17), (socket.AF_INET6, 58)):
            socks.append(socket.socket(fam, socket.SOCK_RAW, p))
    seen = set()

    def stop(*_):
        with open(out, 'w') as fh:
            fh.write('\n'.join(str(i) for i in sorted(seen)) + '\n')
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    import select
    print('ready', flush=True)
    while True:
        for s in select.select(socks, [], [])[0]:
            b = s.recv(65535)
            k = b.find(b'BHDIFF')
            if k >= 0:
                seen.add(int(b[k + 6:k + 14]))


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'policy':
        sys.stdout.write(policy(int(sys.argv[2])))
    elif cmd == 'frames':
        for f in frames(int(sys.argv[2]), int(sys.argv[3])):
            print(json.dumps(f))
    elif cmd == 'send':
        send(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == 'segments':
        segments(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    elif cmd == 'listen':
        listen(sys.argv[2], sys.argv[3])
