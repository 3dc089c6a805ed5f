#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# nsh.py - the namespace helper of lib.sh: one process per suite that
# enters the suite's network namespaces itself (setns) and does there what
# the checks ask, one command a line on stdin, one answer a line on stdout:
# "ok", "no: what happened" (the flow did not get through), or
# "error: what" (the helper could not do what was asked: a broken check).
#
# A try through socat cost a dozen processes (ip netns exec, timeout, socat,
# the subshells around them), about 100 ms of CPU on this machine; here it
# is a few system calls. The traffic is the same: real sockets of the
# device namespaces, through the real bridge and the programs under test.
#
#   tcp FROM TO ADDR PORT CONNECT_S AFTER_MS
#       TO listens on PORT (IPv4 and IPv6); FROM connects to ADDR:PORT
#       (CONNECT_S to connect) and writes a random token; ok when the token
#       reached TO within AFTER_MS of the write
#   udp FROM TO ADDR PORT AFTER_MS [SRC]
#       the same with one datagram; to an IPv4 multicast ADDR, TO joins the
#       group on eth0 first. SRC: sent from that address, owned or not
#       (IP_TRANSPARENT, and the sender's ip_nonlocal_bind set)
#   echo FROM TO ADDR PORT
#       TO answers a datagram to ADDR:PORT from ADDR; ok when FROM's
#       request came back (a stateful reply)
#   connect FROM ADDR PORT CONNECT_S
#       ok when a TCP connection to ADDR:PORT opened (and closed at once)
#   dgram FROM ADDR PORT COUNT
#       COUNT datagrams sent to ADDR:PORT (no one need listen)
#   ping FROM ADDR WAIT_S
#       one ICMP or ICMPv6 echo request; ok when its reply came back
#   flush NS:DEV...
#       every neighbour entry of DEV forgotten (ip neigh flush nud all)
#   lladdr NS:DEV ADDR
#       "ok MAC": the MAC DEV's neighbour entry for ADDR holds; "ok" alone
#       when there is none, or none with an address (incomplete, failed)
#   pin NS:DEV ADDR=MAC...
#       permanent neighbour entries (ip neigh replace ... nud permanent)
#   sysctl NS KEY=VALUE...
#       NS's sysctls written (net.ipv4.ip_forward=1, as sysctl -w)
#   send NS KIND KEY=VALUE...
#       one frame built by hand through an AF_PACKET socket (lib.sh's
#       raw_send says which)
#
# Namespaces are names under /run/netns. The helper exits at the end of
# its input or when the shell that started it is gone.
import ctypes
import ipaddress
import os
import random
import select
import socket
import struct
import sys
import time

from pkt import mac, ip, l4_csum, ipv6

CLONE_NEWNET = 0x40000000
IP_TRANSPARENT = 19
IPV6_TRANSPARENT = 75
libc = ctypes.CDLL(None, use_errno=True)


class Error(Exception):
    """the helper could not do what it was asked (not a traffic outcome)"""


def enter(ns):
    """this process's network namespace becomes /run/netns/NS"""
    try:
        fd = os.open('/run/netns/' + ns, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise Error('namespace %s: %s' % (ns, e.strerror))
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise Error('setns %s: %s' % (ns, os.strerror(ctypes.get_errno())))
    finally:
        os.close(fd)


def sockaddr(addr, port, kind):
    """(family, sockaddr) of ADDR (a scope such as fe80::1%eth0 is looked up
    in the namespace entered)"""
    try:
        ai = socket.getaddrinfo(addr, port, 0, kind, 0, socket.AI_NUMERICHOST)
    except socket.gaierror as e:
        raise Error('address %s: %s' % (addr, e))
    return ai[0][0], ai[0][4]


def token():
    return b'bh-%d' % random.getrandbits(48)


def remaining(deadline):
    return max(0.0, deadline - time.monotonic())


def listener(ns, port, kind, group=None):
    """a socket of NS bound to PORT on every address, IPv4 and IPv6 (an IPv4
    multicast GROUP: an IPv4 socket that joined it on eth0)"""
    enter(ns)
    fam = socket.AF_INET if group else socket.AF_INET6
    s = socket.socket(fam, kind)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if group:
            s.bind(('', port))
            mreq = struct.pack('=4s4si', ip(group), b'\0' * 4,
                               socket.if_nametoindex('eth0'))
            s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(('::', port))
        if kind == socket.SOCK_STREAM:
            s.listen(8)
    except OSError as e:
        s.close()
        raise Error('listen on %s port %d: %s' % (ns, port, e.strerror))
    return s


def received(lsock, tok, deadline, stream):
    """the token arrived at the listener by DEADLINE"""
    conns = []
    got = b''
    try:
        while True:
            socks = [lsock] + conns
            r, _, _ = select.select(socks, [], [], remaining(deadline))
            if not r:
                return False
            for s in r:
                if stream and s is lsock:
                    c, _ = lsock.accept()
                    c.setblocking(False)
                    conns.append(c)
                    continue
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                if not data and stream:
                    conns.remove(s)
                    s.close()
                got += data
                if tok in got:
                    return True
    finally:
        for c in conns:
            c.close()


def arrived(lsock, tok, after_ms, stream, missing):
    """the answer once the token was sent: ok when it reached the listener
    within AFTER_MS, else MISSING"""
    if received(lsock, tok, time.monotonic() + int(after_ms) / 1000, stream):
        return 'ok'
    return 'no: ' + missing


def do_tcp(frm, to, addr, port, connect_s, after_ms):
    port = int(port)
    tok = token()
    ls = listener(to, port, socket.SOCK_STREAM)
    try:
        enter(frm)
        fam, sa = sockaddr(addr, port, socket.SOCK_STREAM)
        c = socket.socket(fam, socket.SOCK_STREAM)
        try:
            c.settimeout(float(connect_s))
            try:
                c.connect(sa)
                c.sendall(tok + b'\n')
            except OSError as e:
                return 'no: connect: %s' % (e.strerror or 'timed out')
            return arrived(ls, tok, after_ms, True, 'connected, but the data did not arrive')
        finally:
            c.close()
    finally:
        ls.close()


def is_ipv4_multicast(addr):
    try:
        a = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return a.version == 4 and a.is_multicast


def set_sysctl(path, value):
    with open('/proc/sys/' + path, 'w') as f:
        f.write(value)


def do_udp(frm, to, addr, port, after_ms, src=None):
    port = int(port)
    tok = token()
    group = addr if is_ipv4_multicast(addr) else None
    ls = listener(to, port, socket.SOCK_DGRAM, group)
    try:
        if group:	# joined: give the report time to reach the bridge
            time.sleep(0.3)
        enter(frm)
        fam, sa = sockaddr(addr, port, socket.SOCK_DGRAM)
        s = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            if src:
                set_sysctl('net/ipv4/ip_nonlocal_bind', '1')
                set_sysctl('net/ipv6/ip_nonlocal_bind', '1')
                if fam == socket.AF_INET:
                    s.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
                else:
                    s.setsockopt(socket.IPPROTO_IPV6, IPV6_TRANSPARENT, 1)
                s.bind(sockaddr(src, 0, socket.SOCK_DGRAM)[1])
            try:
                s.sendto(tok + b'\n', sa)
            except OSError as e:
                return 'no: send: %s' % e.strerror
            return arrived(ls, tok, after_ms, False, 'the datagram did not arrive')
        finally:
            s.close()
    finally:
        ls.close()


def do_connect(frm, addr, port, connect_s):
    enter(frm)
    fam, sa = sockaddr(addr, int(port), socket.SOCK_STREAM)
    c = socket.socket(fam, socket.SOCK_STREAM)
    try:
        c.settimeout(float(connect_s))
        c.connect(sa)
    except OSError as e:
        return 'no: connect: %s' % (e.strerror or 'timed out')
    finally:
        c.close()
    return 'ok'


def do_dgram(frm, addr, port, count):
    enter(frm)
    fam, sa = sockaddr(addr, int(port), socket.SOCK_DGRAM)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        for _ in range(int(count)):
            s.sendto(b'chatter\n', sa)
    except OSError as e:
        return 'no: send: %s' % e.strerror
    finally:
        s.close()
    return 'ok'


def do_echo(frm, to, addr, port):
    """TO's server bound to ADDR answers from it; FROM waits 1 s for each
    step (socat -T1), 2 s in all"""
    port = int(port)
    enter(to)
    fam, sa = sockaddr(addr, port, socket.SOCK_DGRAM)
    srv = socket.socket(fam, socket.SOCK_DGRAM)
    try:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            srv.bind(sa)
        except OSError as e:
            raise Error('bind %s port %d in %s: %s' % (addr, port, to, e.strerror))
        enter(frm)
        c = socket.socket(fam, socket.SOCK_DGRAM)
        try:
            req = b'ping-%d' % port
            end = time.monotonic() + 2
            c.sendto(req, sa)
            srv.settimeout(min(1.0, remaining(end)))
            try:
                data, peer = srv.recvfrom(65536)
            except socket.timeout:
                return 'no: the request did not arrive'
            srv.sendto(data, peer)
            c.settimeout(max(0.001, min(1.0, remaining(end))))
            try:
                back, frm_addr = c.recvfrom(65536)
            except socket.timeout:
                return 'no: the answer did not come back'
            if back != req:
                return 'no: another answer came back'
            return 'ok'
        finally:
            c.close()
    finally:
        srv.close()


def do_ping(frm, addr, wait_s):
    enter(frm)
    v6 = ':' in addr
    fam, sa = sockaddr(addr, 0, socket.SOCK_DGRAM)	# (a raw socket's port is 0)
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    s = socket.socket(fam, socket.SOCK_RAW, proto)
    try:
        ident = random.getrandbits(16)
        payload = os.urandom(56)
        req = struct.pack('!BBHHH', 128 if v6 else 8, 0, 0, ident, 1) + payload
        if not v6:	# ICMPv6's checksum is the kernel's
            req = l4_csum(b'', b'', 1, req, 2)
        try:
            s.sendto(req, sa)
        except OSError as e:
            return 'no: send: %s' % e.strerror
        deadline = time.monotonic() + float(wait_s)
        while True:
            r, _, _ = select.select([s], [], [], remaining(deadline))
            if not r:
                return 'no: no echo reply'
            data, peer = s.recvfrom(65536)
            if not v6:
                data = data[(data[0] & 0xf) * 4:]
            if len(data) < 8:
                continue
            typ, _, _, rid, seq = struct.unpack('!BBHHH', data[:8])
            if typ == (129 if v6 else 0) and rid == ident and data[8:] == payload:
                return 'ok'
    finally:
        s.close()


# ---- neighbour entries over rtnetlink ----------------------------------------

RTM_NEWNEIGH, RTM_DELNEIGH, RTM_GETNEIGH = 28, 29, 30
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLM_F_REPLACE, NLM_F_CREATE = 0x100, 0x400
NLMSG_ERROR, NLMSG_DONE = 2, 3
NDA_DST, NDA_LLADDR = 1, 2
NUD_PERMANENT = 0x80


def rta(kind, data):
    n = 4 + len(data)
    return struct.pack('=HH', n, kind) + data + b'\0' * (-n & 3)


class Rtnl:
    """a NETLINK_ROUTE socket of the namespace entered"""

    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        self.s.bind((0, 0))
        self.seq = 0

    def close(self):
        self.s.close()

    def send(self, kind, flags, body):
        self.seq += 1
        self.s.send(struct.pack('=IHHII', 16 + len(body), kind, flags, self.seq, 0) + body)
        return self.seq

    def replies(self, seq):
        """the messages answering SEQ, as (type, body); raises on an error"""
        while True:
            buf = self.s.recv(1 << 16)
            off = 0
            while off + 16 <= len(buf):
                n, kind, _, rseq, _ = struct.unpack_from('=IHHII', buf, off)
                body = buf[off + 16:off + n]
                off += (n + 3) & ~3
                if rseq != seq:
                    continue
                if kind == NLMSG_DONE:
                    return
                if kind == NLMSG_ERROR:
                    err = -struct.unpack_from('=i', body)[0]
                    if err:
                        raise OSError(err, os.strerror(err))
                    return
                yield kind, body

    def request(self, kind, flags, body):
        for _ in self.replies(self.send(kind, flags | NLM_F_REQUEST | NLM_F_ACK, body)):
            pass


def ndmsg(family, ifindex, state=0):
    return struct.pack('=BxxxiHBB', family, ifindex, state, 0, 0)


def neighbours(nl, ifindex):
    """(family, destination, lladdr or None) of every neighbour entry of
    IFINDEX"""
    out = []
    seq = nl.send(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, ndmsg(socket.AF_UNSPEC, 0))
    for kind, body in nl.replies(seq):
        if kind != RTM_NEWNEIGH:
            continue
        family, idx = struct.unpack_from('=Bxxxi', body)
        if idx != ifindex:
            continue
        off = 12
        dst = lladdr = None
        while off + 4 <= len(body):
            n, t = struct.unpack_from('=HH', body, off)
            if n < 4:
                break
            if t == NDA_DST:
                dst = body[off + 4:off + n]
            elif t == NDA_LLADDR:
                lladdr = body[off + 4:off + n]
            off += (n + 3) & ~3
        if dst is not None:
            out.append((family, dst, lladdr))
    return out


def ns_dev(arg):
    if ':' not in arg:
        raise Error('want NS:DEV, not ' + arg)
    ns, dev = arg.rsplit(':', 1)
    enter(ns)
    try:
        return socket.if_nametoindex(dev)
    except OSError:
        raise Error('no device %s in %s' % (dev, ns))


def do_flush(*targets):
    for t in targets:
        ifindex = ns_dev(t)
        nl = Rtnl()
        try:
            for _ in range(10):	# as ip neigh flush: until none is left
                found = neighbours(nl, ifindex)
                if not found:
                    break
                for family, dst, _ in found:
                    try:
                        nl.request(RTM_DELNEIGH, 0, ndmsg(family, ifindex) + rta(NDA_DST, dst))
                    except OSError:
                        pass	# gone meanwhile
            else:
                raise Error('%s: neighbour entries keep coming back' % t)
        finally:
            nl.close()
    return 'ok'


def do_lladdr(target, addr):
    ifindex = ns_dev(target)
    want = ip(addr.split('%')[0])
    nl = Rtnl()
    try:
        for _, dst, lladdr in neighbours(nl, ifindex):
            if dst == want and lladdr:
                return 'ok ' + ':'.join('%02x' % b for b in lladdr)
    finally:
        nl.close()
    return 'ok'


def do_pin(target, *pairs):
    ifindex = ns_dev(target)
    nl = Rtnl()
    try:
        for p in pairs:
            addr, _, lladdr = p.partition('=')
            a = ip(addr)
            fam = socket.AF_INET6 if len(a) == 16 else socket.AF_INET
            try:
                nl.request(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
                           ndmsg(fam, ifindex, NUD_PERMANENT) + rta(NDA_DST, a) +
                           rta(NDA_LLADDR, mac(lladdr)))
            except OSError as e:
                raise Error('pin %s in %s: %s' % (p, target, e.strerror))
    finally:
        nl.close()
    return 'ok'


def do_sysctl(ns, *settings):
    enter(ns)
    for kv in settings:
        key, sep, value = kv.partition('=')
        if not sep:
            raise Error('sysctl: want KEY=VALUE, not ' + kv)
        try:
            set_sysctl(key.replace('.', '/'), value)
        except OSError as e:
            raise Error('sysctl %s in %s: %s' % (kv, ns, e.strerror))
    return 'ok'


# ---- frames built by hand -----------------------------------------------------

def lladdr_of(m):
    """the EUI-64 link-local address of MAC M (6 bytes)"""
    b = bytearray(m)
    b[0] ^= 2
    return str(ipaddress.IPv6Address(b'\xfe\x80' + b'\0' * 6 + bytes(b[:3]) +
                                     b'\xff\xfe' + bytes(b[3:])))


def icmp6(sip, dip, body):
    return ipv6(ip(sip), ip(dip), 58, l4_csum(ip(sip), ip(dip), 58, body, 2), hlim=255)


def frame_of(kind, a, src):
    """KIND's frame from Ethernet source SRC with the keys A (raw_send)"""
    if kind == 'arp':
        op = 1 if a.get('op', 'request') == 'request' else 2
        dst = mac(a.get('dst', 'ff:ff:ff:ff:ff:ff'))
        sha = mac(a['sha']) if 'sha' in a else src
        tha = mac(a.get('tha', '00:00:00:00:00:00'))
        payload = struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + sha + ip(a['spa']) + \
            tha + ip(a['tpa'])
        return dst + src + b'\x08\x06' + payload
    if kind == 'na':
        sip = a.get('sip', lladdr_of(src))
        dip = a.get('dip', 'ff02::1')
        flags = 0x20000000 if a.get('override', '1') == '1' else 0
        ll = mac(a['lladdr']) if 'lladdr' in a else src
        body = struct.pack('!BBHI', 136, 0, 0, flags) + ip(a['target']) + bytes([2, 1]) + ll
        dst = mac(a.get('dst', '33:33:00:00:00:01'))
        return dst + src + b'\x86\xdd' + icmp6(sip, dip, body)
    if kind == 'ra':
        sip = a.get('sip', lladdr_of(src))
        pfx = ipaddress.IPv6Network(a.get('prefix', 'fd00:66::/64'))
        body = struct.pack('!BBHBBHII', 134, 0, 0, 64, 0, 1800, 0, 0)
        body += struct.pack('!BBBBIII', 3, 4, pfx.prefixlen, 0xc0, 86400, 14400, 0) + \
            pfx.network_address.packed
        body += bytes([1, 1]) + src
        dst = mac(a.get('dst', '33:33:00:00:00:01'))
        return dst + src + b'\x86\xdd' + icmp6(sip, 'ff02::1', body)
    if kind == 'rs':
        sip = a.get('sip', lladdr_of(src))
        body = struct.pack('!BBHI', 133, 0, 0, 0) + bytes([1, 1]) + src
        dst = mac(a.get('dst', '33:33:00:00:00:02'))
        return dst + src + b'\x86\xdd' + icmp6(sip, 'ff02::2', body)
    if kind == 'mld':
        sip = a.get('sip', lladdr_of(src))
        grp = a.get('group', 'ff02::fb')
        # one record: CHANGE_TO_EXCLUDE_MODE (4), no sources: "join grp"
        body = struct.pack('!BBHHH', 143, 0, 0, 0, 1) + struct.pack('!BBH', 4, 0, 0) + ip(grp)
        body = l4_csum(ip(sip), ip('ff02::16'), 58, body, 2)
        hbh = bytes([58, 0, 5, 2, 0, 0, 1, 0])	# router alert (MLD), PadN
        return mac(a.get('dst', '33:33:00:00:00:16')) + src + b'\x86\xdd' + \
            ipv6(ip(sip), ip('ff02::16'), 0, hbh + body, hlim=1)
    raise Error('send: unknown kind ' + kind)


def do_send(ns, kind, *keys):
    a = dict(k.split('=', 1) for k in keys)
    enter(ns)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    try:
        s.bind((a.get('dev', 'eth0'), 0))
        src = mac(a['src']) if 'src' in a else s.getsockname()[4]
        frame = frame_of(kind, a, src)
        frame += b'\0' * max(0, 60 - len(frame))
        for _ in range(int(a.get('count', '1'))):
            s.send(frame)
    finally:
        s.close()
    return 'ok'


COMMANDS = {
    'tcp': do_tcp, 'udp': do_udp, 'echo': do_echo, 'ping': do_ping,
    'connect': do_connect, 'dgram': do_dgram,
    'flush': do_flush, 'pin': do_pin, 'send': do_send, 'sysctl': do_sysctl,
    'lladdr': do_lladdr,
}


def main():
    parent = os.getppid()
    home = os.open('/proc/self/ns/net', os.O_RDONLY | os.O_CLOEXEC)
    buf = b''
    while True:
        r, _, _ = select.select([0], [], [], 1.0)
        if not r:
            if os.getppid() != parent:
                return	# the shell is gone
            continue
        data = os.read(0, 65536)
        if not data:
            return
        buf += data
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            words = line.decode().split()
            if not words:
                continue
            fn = COMMANDS.get(words[0])
            try:
                if fn is None:
                    raise Error('unknown command ' + words[0])
                answer = fn(*words[1:])
            except Error as e:
                answer = 'error: %s' % e
            except Exception as e:	# a bug of the helper: said, not fatal
                answer = 'error: %s: %s: %s' % (line.decode(), type(e).__name__, e)
            libc.setns(home, CLONE_NEWNET)
            os.write(1, (answer.replace('\n', ' ') + '\n').encode())


if __name__ == '__main__':
    sys.exit(main())
