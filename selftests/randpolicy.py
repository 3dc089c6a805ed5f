#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# randpolicy.py - a random policy for compiler equivalence runs
# (selftests/compile_equiv.sh): overlapping port ranges, deny and allow,
# any / gateway / internet / multicast / nested CIDR targets, lists with
# repeats, and (with --dups) duplicate MACs and addresses for the loader.
#
#   randpolicy.py SEED [--dups|--dense] > FILE
#
# --dense: few MACs and addresses shared by many members, so that more
#   errors than the loader keeps (BH_DIAG_MAX) are found.
import random
import sys

seed = int(sys.argv[1])
dups = '--dups' in sys.argv
dense = '--dense' in sys.argv
r = random.Random(seed)
# audit (staging) from a stream of its own: the other choices of a seed stay
ra = random.Random(seed * 7919 + 1)
ng = r.randint(1, 9)
groups = ['g%d' % i for i in range(ng)]
cidrs = ['10.0.0.0/8', '10.1.0.0/16', '10.1.2.0/24', '10.1.2.128/25', '0.0.0.0/0',
         '192.0.2.0/24', '2001:db8::/32', '2001:db8:1::/48', '::/0', '198.51.100.7/32']
print('version: 1')
print('interfaces: [br-lan]')
print('defaults:')
print('  east_west: %s' % r.choice(['allow', 'deny']))
print('  internet: %s' % r.choice(['allow', 'deny']))
print('  gateway: %s' % r.choice(['allow', 'deny']))
if ra.random() < 0.1:
    print('  mode: audit')
print('groups:')
dev = 0
macs = []
ips = []
for g in groups:
    print('  %s:' % g)
    if r.random() < 0.3:
        print('    internet: %s' % r.choice(['allow', 'deny']))
    if ra.random() < 0.2:
        print('    audit: true')
    print('    members:')
    for _ in range(r.randint(1, 4)):
        dev += 1
        mac = '02:00:00:00:%02x:%02x' % (dev >> 8, dev & 255)
        ip = ['192.168.%d.%d' % (dev >> 8, dev & 255)]
        if dups and macs and r.random() < 0.2:
            mac = r.choice(macs)
        if dups and ips and r.random() < 0.3:
            ip.append(r.choice(ips))
        if r.random() < 0.3:
            ip.append('fd00::%x' % dev)
        if dense:
            mac = '02:00:00:00:00:%02x' % r.randint(1, 8)
            ip = ['10.0.0.%d' % r.randint(1, 4) for _ in range(r.randint(0, 3))]
        macs.append(mac)
        ips.extend(ip)
        print('      - {mac: "%s", ip: [%s]}' % (mac, ', '.join('"%s"' % i for i in ip)))
nr = r.randint(0, 40)
print('rules:' if nr else 'rules: []')
for _ in range(nr):
    fr = [r.choice(groups + ['any'] if r.random() < 0.2 else groups)
          for _ in range(r.randint(1, 3))]
    to = [r.choice(groups + ['any', 'gateway', 'internet', 'multicast'] + cidrs)
          for _ in range(r.randint(1, 3))]
    rule = 'from: [%s], to: [%s]' % (', '.join(fr), ', '.join('"%s"' % t for t in to))
    proto = r.choice(['tcp', 'udp', 'icmp', 'icmpv6', None, 'tcp', 'udp'])
    if proto:
        rule += ', proto: %s' % proto
        if proto in ('tcp', 'udp') and r.random() < 0.8:
            ports = []
            for _ in range(r.randint(1, 4)):
                lo = r.choice([1, 22, 53, 67, 80, 443, 1000, 1020, 65530, r.randint(1, 65535)])
                hi = min(65535, lo + r.choice([0, 0, 5, 30, 1000]))
                ports.append('"%d-%d"' % (lo, hi) if hi > lo else '%d' % lo)
            rule += ', ports: [%s]' % ', '.join(ports)
    if r.random() < 0.3:
        rule += ', action: deny'
    print('  - {%s}' % rule)
