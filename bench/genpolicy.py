#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# genpolicy.py - the policies the benchmarks scale: a Bulkhead policy of
# RULES rules and DEVICES devices, and the same allowed pairs written the
# way an admin would write them for nftables (bridge family), ebtables and
# iptables: one rule per allowed (source MAC, destination, port).
#
#   genpolicy.py --base paths|net --rules N --devices N --yaml FILE
#                [--nft FILE] [--ebtables FILE] [--iptables FILE]
#
# --base paths: the groups and rules of bench/paths.h (camera, nvr, fridge,
#   laptop), then filler; the path frames keep their verdicts.
# --base net: the two namespaces of bench/dataplanes.sh (tx 02:..:11 and
#   rx 02:..:21, lib.sh's hostbytes), one filler device per filler group so
#   that every rule is one allowed pair, and the measured rule (tx -> rx
#   udp/9) in the middle of the list.
# Filler: FILLER_GROUPS groups; devices 02:10:xx:xx:xx:xx with one IPv4
# each, spread over them; rule k from group k % G to group (k / G) % G,
# udp, port 1 + k / G^2; every tenth a CIDR rule (a /24 in 100.64.0.0/10,
# tcp/443) from the first base group, so the internet LPM trie grows too.
import argparse
import sys

FILLER_GROUPS = 100

BASES = {
    # group -> (internet default or None, [(mac, [ip...])])
    'paths': {
        'groups': [
            ('cameras', 'deny', [('02:00:00:00:00:11', ['192.168.50.11', 'fd00:50::11'])]),
            ('nvr', None, [('02:00:00:00:00:21', ['192.168.50.21', 'fd00:50::21'])]),
            ('fridge', None, [('02:00:00:00:00:31', ['192.168.50.31'])]),
            ('laptop', None, [('02:00:00:00:00:41', ['192.168.50.41'])]),
        ],
        'rules': [
            {'from': 'nvr', 'to': 'cameras', 'proto': 'tcp', 'ports': ['554', '"8000-8010"']},
            {'from': 'cameras', 'to': '203.0.113.0/24', 'proto': 'tcp', 'ports': ['443']},
            {'from': 'laptop', 'to': 'any', 'proto': 'icmp'},
        ],
        'middle': False,
    },
    'net': {
        'groups': [
            ('tx', None, [('02:00:00:00:00:11', ['192.168.50.11'])]),
            ('rx', None, [('02:00:00:00:00:21', ['192.168.50.21'])]),
        ],
        'rules': [
            {'from': 'tx', 'to': 'rx', 'proto': 'udp', 'ports': ['9']},
        ],
        'middle': True,
    },
}


def filler_mac(i):
    return '02:10:%02x:%02x:%02x:%02x' % (i >> 24 & 255, i >> 16 & 255, i >> 8 & 255, i & 255)


def filler_ip(i):
    a = (10 << 24) + 1 + i
    return '%d.%d.%d.%d' % (a >> 24 & 255, a >> 16 & 255, a >> 8 & 255, a & 255)


def build(base, n_rules, n_devices):
    b = BASES[base]
    groups = [(name, inet, list(members)) for name, inet, members in b['groups']]
    n_base_dev = sum(len(m) for _, _, m in groups)
    fill = [('f%d' % g, None, []) for g in range(FILLER_GROUPS)]
    n_fill_dev = max(0, n_devices - n_base_dev)
    if base == 'net' and n_fill_dev != FILLER_GROUPS:
        sys.exit('genpolicy: --base net wants %d devices (one a filler group)' %
                 (n_base_dev + FILLER_GROUPS))
    for i in range(n_fill_dev):
        fill[i % FILLER_GROUPS][2].append((filler_mac(i), [filler_ip(i)]))
    groups += fill
    first = b['groups'][0][0]
    rules = []
    for k in range(max(0, n_rules - len(b['rules']))):
        if k % 10 == 9:
            net = (100 << 24) + (64 << 16) + ((k // 10) << 8)
            cidr = '%d.%d.%d.0/24' % (net >> 24 & 255, net >> 16 & 255, net >> 8 & 255)
            rules.append({'from': first, 'to': cidr, 'proto': 'tcp', 'ports': ['443']})
        else:
            g = FILLER_GROUPS
            rules.append({'from': 'f%d' % (k % g), 'to': 'f%d' % (k // g % g),
                          'proto': 'udp', 'ports': [str(1 + k // (g * g))]})
    at = len(rules) // 2 if b['middle'] else 0
    rules[at:at] = b['rules']
    return groups, rules


def write_yaml(f, groups, rules):
    f.write('version: 1\ninterfaces: [br-lan]\ngroups:\n')
    for name, inet, members in groups:
        f.write('  %s:\n' % name)
        if inet:
            f.write('    internet: %s\n' % inet)
        f.write('    members:%s\n' % ('' if members else ' []'))
        for mac, ips in members:
            f.write('      - {mac: "%s", ip: [%s]}\n' % (mac, ', '.join('"%s"' % a for a in ips)))
    f.write('rules:\n')
    for r in rules:
        f.write('  - {from: %s, to: %s, proto: %s%s}\n' %
                (r['from'], r['to'], r['proto'],
                 ', ports: [%s]' % ', '.join(r['ports']) if 'ports' in r else ''))


def pairs(groups, rules):
    """Each rule as admin rules: (src MAC, dst MAC or None, dst IP/CIDR, proto, port)."""
    members = {name: m for name, _, m in groups}
    for r in rules:
        port = r.get('ports', [None])[0]
        for smac, _ in members[r['from']]:
            if r['to'] in members:
                for dmac, dips in members[r['to']]:
                    yield smac, dmac, dips[0], r['proto'], port
            else:
                yield smac, None, r['to'], r['proto'], port


def write_nft(f, groups, rules):
    f.write('table bridge bench_filter {\n'
            '\tchain forward {\n'
            '\t\ttype filter hook forward priority filter; policy drop;\n'
            '\t\tether type arp accept\n')
    for smac, dmac, dst, proto, port in pairs(groups, rules):
        m = 'ether saddr %s ' % smac
        m += 'ether daddr %s ' % dmac if dmac else 'ip daddr %s ' % dst
        m += '%s dport %s ' % (proto, port) if port else 'meta l4proto %s ' % proto
        f.write('\t\t%saccept\n' % m)
    f.write('\t}\n}\n')


def write_ebtables(f, groups, rules):
    f.write('*filter\n:INPUT ACCEPT\n:FORWARD DROP\n:OUTPUT ACCEPT\n'
            '-A FORWARD -p ARP -j ACCEPT\n')
    for smac, dmac, dst, proto, port in pairs(groups, rules):
        m = '-s %s ' % smac
        m += '-d %s -p IPv4 ' % dmac if dmac else '-p IPv4 --ip-dst %s ' % dst
        m += '--ip-proto %s ' % proto
        if port:
            m += '--ip-dport %s ' % port
        f.write('-A FORWARD %s-j ACCEPT\n' % m)
    f.write('COMMIT\n')


def write_iptables(f, groups, rules):
    # bridged IPv4 through br_netfilter: what an admin who knows iptables
    # writes, with the usual conntrack rule first
    f.write('*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n'
            '-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n')
    for smac, dmac, dst, proto, port in pairs(groups, rules):
        m = '-m mac --mac-source %s -d %s -p %s ' % (smac, dst, proto)
        if port:
            m += '--dport %s ' % port
        f.write('-A FORWARD %s-j ACCEPT\n' % m)
    f.write('COMMIT\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--base', choices=sorted(BASES), default='paths')
    ap.add_argument('--rules', type=int, required=True)
    ap.add_argument('--devices', type=int, required=True)
    ap.add_argument('--yaml', required=True)
    ap.add_argument('--nft')
    ap.add_argument('--ebtables')
    ap.add_argument('--iptables')
    a = ap.parse_args()
    groups, rules = build(a.base, a.rules, a.devices)
    for path, writer in ((a.yaml, write_yaml), (a.nft, write_nft),
                         (a.ebtables, write_ebtables), (a.iptables, write_iptables)):
        if path:
            with open(path, 'w') as f:
                writer(f, groups, rules)


if __name__ == '__main__':
    main()
