# SPDX-License-Identifier: GPL-2.0
#
# pkt.py - the frame-building pieces the tests share (lib.sh's raw_send,
# dataplane_diff.py): addresses, the Internet checksum, IP headers.
import ipaddress
import struct


def mac(m):
    """aa:bb:cc:dd:ee:ff -> 6 bytes"""
    return bytes.fromhex(m.replace(':', ''))


def ip(x):
    """an IPv4 or IPv6 address in text -> 4 or 16 bytes"""
    return ipaddress.ip_address(x).packed


def csum(b):
    """the Internet checksum (RFC 1071) of b"""
    if len(b) % 2:
        b += b'\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff


def pseudo(src, dst, proto, length):
    """the pseudo-header of an L4 checksum (src, dst: 4 or 16 bytes)"""
    if len(src) == 16:
        return src + dst + struct.pack('!I3xB', length, proto)
    return src + dst + struct.pack('!xBH', proto, length)


def l4_csum(src, dst, proto, l4, off):
    """l4 with its checksum (at byte off) filled in; ICMPv4 has no pseudo-header"""
    ph = b'' if proto == 1 else pseudo(src, dst, proto, len(l4))
    return l4[:off] + struct.pack('!H', csum(ph + l4[:off] + b'\0\0' + l4[off + 2:])) + l4[off + 2:]


def ipv4(src, dst, proto, payload, ident=0, frag=0, ttl=64):
    """an IPv4 header (checksummed) and payload"""
    h = struct.pack('!BBHHHBBH', 0x45, 0, 20 + len(payload), ident & 0xffff,
                    frag, ttl, proto, 0) + src + dst
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload


def ipv6(src, dst, nh, payload, hlim=64):
    """an IPv6 header and payload"""
    return struct.pack('!IHBB', 6 << 28, len(payload), nh, hlim) + src + dst + payload


def tcp_syn(dmac, smac, sip, dip, sport, dport):
    """an Ethernet frame of one TCP SYN, checksums valid (br_netfilter in
    --mode nft drops a bad IPv4 header before any rule sees it), padded to 60"""
    src, dst = ip(sip), ip(dip)
    tcp = struct.pack('!HHIIBBHHH', sport, dport, 1, 0, 5 << 4, 0x02, 65535, 0, 0)
    f = mac(dmac) + mac(smac) + b'\x08\x00' + ipv4(src, dst, 6, l4_csum(src, dst, 6, tcp, 16), ident=1)
    return f + b'\0' * max(0, 60 - len(f))
