/* SPDX-License-Identifier: GPL-2.0 */
/*
 * frames.h - build test frames byte by byte: Ethernet, VLAN tags, ARP,
 * IPv4 (options, fragments), IPv6 (extension headers, fragments), TCP,
 * UDP, ICMP, ICMPv6 and ND. Lengths are filled in; checksums are left at
 * zero (the programs do not read them).
 */
#ifndef BH_FRAMES_H
#define BH_FRAMES_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

struct frame {
	uint8_t b[1600];
	size_t len;
	size_t l3;		/* offset of the IP header */
	size_t l4;		/* offset of the L4 header */
	int v6;
	size_t udpo;		/* offset + 1 of the last UDP header, 0: none */
};

static inline void put(struct frame *f, const void *p, size_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static inline void put8(struct frame *f, uint8_t v) { put(f, &v, 1); }
static inline void put16(struct frame *f, uint16_t v) { v = htons(v); put(f, &v, 2); }
static inline void put32(struct frame *f, uint32_t v) { v = htonl(v); put(f, &v, 4); }

static inline void mac_of(const char *s, uint8_t m[6])
{
	unsigned int v[6];

	sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)v[i];
}

static inline void eth(struct frame *f, const char *dst, const char *src, uint16_t type)
{
	uint8_t m[6];

	memset(f->b, 0, sizeof(f->b));
	f->len = 0;
	f->l3 = 0;
	f->l4 = 0;
	f->v6 = 0;
	f->udpo = 0;
	mac_of(dst, m);
	put(f, m, 6);
	mac_of(src, m);
	put(f, m, 6);
	put16(f, type);
}

/* a tag: append after eth() with the tag's ethertype; @type: inner one */
static inline void vlan(struct frame *f, uint16_t tpid, uint16_t vid, uint16_t type)
{
	uint16_t t = htons(tpid);

	memcpy(f->b + f->len - 2, &t, 2);	/* the outer ethertype */
	put16(f, vid);
	put16(f, type);
}

static inline void ipv4(struct frame *f, const char *src, const char *dst, uint8_t proto,
			uint16_t frag, uint16_t id, int optwords)
{
	struct in_addr a;

	f->l3 = f->len;
	f->v6 = 0;
	put8(f, (uint8_t)(0x40 | (5 + optwords)));
	put8(f, 0);
	put16(f, 0);		/* tot_len: fixed up by fin() */
	put16(f, id);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	inet_pton(AF_INET, src, &a);
	put(f, &a, 4);
	inet_pton(AF_INET, dst, &a);
	put(f, &a, 4);
	for (int i = 0; i < optwords; i++)
		put32(f, 0x01010101);	/* NOPs */
	f->l4 = f->len;
}

static inline void ipv6(struct frame *f, const char *src, const char *dst, uint8_t nh)
{
	struct in6_addr a;

	f->l3 = f->len;
	f->v6 = 1;
	put32(f, 0x60000000);
	put16(f, 0);		/* payload length: fin() */
	put8(f, nh);
	put8(f, 64);
	inet_pton(AF_INET6, src, &a);
	put(f, &a, 16);
	inet_pton(AF_INET6, dst, &a);
	put(f, &a, 16);
	f->l4 = f->len;
}

/* an 8-byte hop-by-hop / destination options / routing header */
static inline void ext8(struct frame *f, uint8_t next, uint8_t byte2)
{
	put8(f, next);
	put8(f, 0);
	put8(f, byte2);		/* routing: type */
	put8(f, 0);
	put32(f, 0);
	f->l4 = f->len;
}

static inline void frag6(struct frame *f, uint8_t next, uint16_t off8, int more, uint32_t id)
{
	put8(f, next);
	put8(f, 0);
	put16(f, (uint16_t)(off8 << 3 | (more ? 1 : 0)));
	put32(f, id);
	f->l4 = f->len;
}

static inline void tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1);
	put32(f, flags & 0x10 ? 1 : 0);
	put8(f, 5 << 4);
	put8(f, flags);
	put16(f, 65535);
	put32(f, 0);
}

static inline void udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	f->udpo = f->len + 1;
	put16(f, sport);
	put16(f, dport);
	put16(f, 8);
	put16(f, 0);
}

static inline void icmp(struct frame *f, uint8_t type, uint8_t code, uint16_t id)
{
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put16(f, id);
	put16(f, 1);
}

static inline void nd(struct frame *f, uint8_t type, const char *target)
{
	struct in6_addr a;

	put8(f, type);
	put8(f, 0);
	put16(f, 0);
	put32(f, type == 136 ? 0x60000000 : 0);
	inet_pton(AF_INET6, target, &a);
	put(f, &a, 16);
}

static inline void arp(struct frame *f, uint16_t op, const char *sha, const char *spa,
		       const char *tha, const char *tpa)
{
	uint8_t m[6];
	struct in_addr a;

	put16(f, 1);
	put16(f, 0x0800);
	put8(f, 6);
	put8(f, 4);
	put16(f, op);
	mac_of(sha, m);
	put(f, m, 6);
	inet_pton(AF_INET, spa, &a);
	put(f, &a, 4);
	mac_of(tha, m);
	put(f, m, 6);
	inet_pton(AF_INET, tpa, &a);
	put(f, &a, 4);
}

static inline void payload(struct frame *f, size_t n)
{
	memset(f->b + f->len, 0xab, n);
	f->len += n;
}

/* fix the IP length fields (to the end of what was built so far) */
static inline void fin_lengths(struct frame *f)
{
	if (f->v6) {
		uint16_t pl = htons((uint16_t)(f->len - f->l3 - 40));

		memcpy(f->b + f->l3 + 4, &pl, 2);
	} else if (f->l3) {
		uint16_t tl = htons((uint16_t)(f->len - f->l3));

		memcpy(f->b + f->l3 + 2, &tl, 2);
	}
	if (f->udpo) {
		uint16_t ul = htons((uint16_t)(f->len - (f->udpo - 1)));

		memcpy(f->b + f->udpo - 1 + 4, &ul, 2);
	}
}

/* fix the lengths, then pad to the Ethernet minimum with @pad bytes */
static inline void fin_pad(struct frame *f, uint8_t pad)
{
	fin_lengths(f);
	if (f->len < 60) {
		memset(f->b + f->len, pad, 60 - f->len);
		f->len = 60;	/* Ethernet minimum: padding, as on the wire */
	}
}

/* fix the IP length fields; zero padding to the Ethernet minimum */
static inline void fin(struct frame *f)
{
	fin_pad(f, 0);
}

/* fix the lengths but leave the frame as short as built (truncation tests) */
static inline void fin_short(struct frame *f)
{
	fin_lengths(f);
}

/*
 * Insert a VLAN tag (@tpid, @tci) right after the MAC addresses of a frame
 * already built; call it once per tag, innermost first.
 */
static inline void tag(struct frame *f, uint16_t tpid, uint16_t tci)
{
	uint16_t v[2] = { htons(tpid), htons(tci) };

	memmove(f->b + 16, f->b + 12, f->len - 12);
	memcpy(f->b + 12, v, 4);
	f->len += 4;
	if (f->l3)
		f->l3 += 4;
	if (f->l4)
		f->l4 += 4;
}

/*
 * An IPv4 header quoted inside an ICMP error: does not move f->l3 / f->l4;
 * its total length claims @tot_len (the original datagram's).
 */
static inline void ipv4_quoted(struct frame *f, const char *src, const char *dst,
			       uint8_t proto, uint16_t tot_len)
{
	struct in_addr a;

	put8(f, 0x45);
	put8(f, 0);
	put16(f, tot_len);
	put16(f, 0x1234);
	put16(f, 0);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	inet_pton(AF_INET, src, &a);
	put(f, &a, 4);
	inet_pton(AF_INET, dst, &a);
	put(f, &a, 4);
}

/* an IPv6 header quoted inside an ICMPv6 error: f->l3 / f->l4 unchanged */
static inline void ipv6_quoted(struct frame *f, const char *src, const char *dst,
			       uint8_t nh, uint16_t plen)
{
	struct in6_addr a;

	put32(f, 0x60000000);
	put16(f, plen);
	put8(f, nh);
	put8(f, 64);
	inet_pton(AF_INET6, src, &a);
	put(f, &a, 16);
	inet_pton(AF_INET6, dst, &a);
	put(f, &a, 16);
}

/* an IPv6 extension header of (@len8 + 1) * 8 bytes (hop-by-hop, dst opts, routing) */
static inline void ext(struct frame *f, uint8_t next, uint8_t len8, uint8_t byte2)
{
	put8(f, next);
	put8(f, len8);
	put8(f, byte2);		/* routing: type; options: PadN start */
	put8(f, 0);
	put32(f, 0);
	for (int i = 0; i < len8; i++) {
		put32(f, 0);
		put32(f, 0);
	}
	f->l4 = f->len;
}

/* router advertisement body (after the 4 bytes icmp type/code/checksum) */
static inline void ra(struct frame *f)
{
	put8(f, 134);
	put8(f, 0);
	put16(f, 0);
	put8(f, 64);		/* cur hop limit */
	put8(f, 0);
	put16(f, 1800);		/* router lifetime */
	put32(f, 0);
	put32(f, 0);
}

/* a DHCPv4 message body after the UDP header (op, fixed fields, magic) */
static inline void dhcp4(struct frame *f, uint8_t op, const char *chaddr)
{
	uint8_t m[6];

	put8(f, op);		/* 1 BOOTREQUEST, 2 BOOTREPLY */
	put8(f, 1);
	put8(f, 6);
	put8(f, 0);
	put32(f, 0x3903f326);	/* xid */
	put32(f, 0);
	put32(f, 0);		/* ciaddr */
	put32(f, 0);		/* yiaddr */
	put32(f, 0);		/* siaddr */
	put32(f, 0);		/* giaddr */
	mac_of(chaddr, m);
	put(f, m, 6);
	memset(f->b + f->len, 0, 10 + 64 + 128);
	f->len += 10 + 64 + 128;
	put32(f, 0x63825363);	/* magic cookie */
	put8(f, 255);
}

#endif /* BH_FRAMES_H */
