/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.h - reading a frame into struct bh_pkt: a bounds-checked cursor
 * (every pull returns a pointer to @len bytes at the cursor and advances it,
 * or NULL when the frame is too short: the caller drops it as malformed),
 * tags, Ethernet, ARP, IPv4/IPv6 with options, extension headers and
 * fragments, L4 ports, ND targets, the tuple an ICMP error quotes. Frames it
 * cannot judge are dropped with the reason it returns.
 */
#ifndef BH_LIB_PARSE_H
#define BH_LIB_PARSE_H

#include "common.h"
#include "addr.h"
#include "pkt.h"

struct cursor {
	void *data;	/* start of the frame: offsets are relative to it */
	void *pos;
	void *end;
};

#define cur_pull(c, len) ({						\
	void *__p = (c)->pos;						\
	void *__r = NULL;						\
	if (__p + (len) <= (c)->end) {					\
		(c)->pos = __p + (len);					\
		__r = __p;						\
	}								\
	__r;								\
})

/* Peek without advancing. */
#define cur_peek(c, len) ({						\
	void *__p = (c)->pos;						\
	(__p + (len) <= (c)->end) ? __p : NULL;				\
})

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

struct arp_eth4 {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

static __always_inline bool is_echo_request(__u8 proto, __u8 type)
{
	return (proto == IPPROTO_ICMP && type == ICMP_ECHO) ||
	       (proto == IPPROTO_ICMPV6 && type == ICMPV6_ECHO_REQUEST);
}

static __always_inline bool is_echo_reply(__u8 proto, __u8 type)
{
	return (proto == IPPROTO_ICMP && type == ICMP_ECHOREPLY) ||
	       (proto == IPPROTO_ICMPV6 && type == ICMPV6_ECHO_REPLY);
}

static __always_inline bool is_icmp_error(__u8 proto, __u8 type)
{
	if (proto == IPPROTO_ICMP)
		return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
		       type == ICMP_PARAMETERPROB;
	if (proto == IPPROTO_ICMPV6)
		return type >= ICMPV6_DEST_UNREACH && type <= ICMPV6_PARAMPROB;
	return false;
}

/* The TCP/UDP tuple an ICMP error quotes (plain IP header only). */
static __always_inline void parse_quote(struct bh_pkt *p, struct cursor *c)
{
	__u16 *ports;

	if (p->l4proto == IPPROTO_ICMP) {
		struct iphdr *ih = cur_pull(c, sizeof(*ih));

		if (!ih || ih->ihl != 5)
			return;
		p->q_proto = ih->protocol;
		addr_v4mapped(p->q_saddr, ih->saddr);
		addr_v4mapped(p->q_daddr, ih->daddr);
	} else {
		struct ipv6hdr *ih = cur_pull(c, sizeof(*ih));

		if (!ih)
			return;
		p->q_proto = ih->nexthdr;
		addr_copy(p->q_saddr, &ih->saddr);
		addr_copy(p->q_daddr, &ih->daddr);
	}
	if (p->q_proto != IPPROTO_TCP && p->q_proto != IPPROTO_UDP)
		return;
	ports = cur_pull(c, 4);
	if (!ports)
		return;
	p->q_sport = bpf_ntohs(ports[0]);
	p->q_dport = bpf_ntohs(ports[1]);
	p->q_ok = 1;
}

/*
 * 0, or the drop reason. @avail: the L4 bytes the IP header's length claims;
 * bytes past it (Ethernet padding) are not the packet's and are not read as
 * its headers.
 */
static __always_inline int parse_l4(struct bh_pkt *p, struct cursor *c, __u32 avail)
{
	void *l4 = c->pos;
	__be16 *ports;

	switch (p->l4proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = cur_pull(c, sizeof(*th));

		if (!th || th->doff < 5 || avail < sizeof(*th))
			goto short_l4;
		p->sport = bpf_ntohs(th->source);
		p->dport = bpf_ntohs(th->dest);
		p->tcp_flags = ((__u8 *)th)[13];
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = cur_pull(c, sizeof(*uh));

		if (!uh || avail < sizeof(*uh))
			goto short_l4;
		p->sport = bpf_ntohs(uh->source);
		p->dport = bpf_ntohs(uh->dest);
		break;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		__u8 *ih = cur_pull(c, 8);
		__u16 id;

		if (!ih || avail < 8)
			goto short_l4;
		p->icmp_type = ih[0];
		if (is_echo_request(p->l4proto, ih[0]) || is_echo_reply(p->l4proto, ih[0])) {
			__builtin_memcpy(&id, ih + 4, 2);
			p->sport = p->dport = bpf_ntohs(id);
		} else if (p->l4proto == IPPROTO_ICMPV6 &&
			   (ih[0] == ND_NS || ih[0] == ND_NA || ih[0] == ND_REDIRECT)) {
			__u8 *t = cur_pull(c, 16);

			if (!t || avail < 8 + 16)
				return BH_R_DROP_MALFORMED;
			addr_copy(p->target, t);
			p->has_target = 1;
		} else if (is_icmp_error(p->l4proto, ih[0])) {
			parse_quote(p, c);
		}
		break;
	}
	default:
		break;
	}
	p->has_l4 = 1;
	return 0;
short_l4:
	if (!p->frag_first)
		return BH_R_DROP_MALFORMED;
	/*
	 * A first fragment must carry its whole L4 header (RFC 1858). The
	 * ports it does carry are kept for detection (nmap -f: 8 bytes of
	 * TCP a probe), not for the verdict.
	 */
	c->pos = l4;
	ports = cur_pull(c, 4);
	if ((p->l4proto == IPPROTO_TCP || p->l4proto == IPPROTO_UDP) && ports && avail >= 4) {
		p->sport = bpf_ntohs(ports[0]);
		p->dport = bpf_ntohs(ports[1]);
		p->frag_ports = 1;
	}
	return BH_R_DROP_FRAG;
}

static __always_inline int parse_ipv4(struct bh_pkt *p, struct cursor *c)
{
	struct iphdr *ih = cur_peek(c, sizeof(*ih));
	__u32 hlen, tot_len;
	__u16 off;

	if (!ih || ih->version != 4 || ih->ihl < 5)
		return BH_R_DROP_MALFORMED;
	hlen = ih->ihl * 4;
	tot_len = bpf_ntohs(ih->tot_len);
	if (tot_len < hlen || c->pos + hlen > c->end)
		return BH_R_DROP_MALFORMED;
	c->pos += hlen;		/* options are skipped, not judged */
	p->is_v4 = 1;
	p->l4proto = ih->protocol;
	addr_v4mapped(p->saddr, ih->saddr);
	addr_v4mapped(p->daddr, ih->daddr);
	off = bpf_ntohs(ih->frag_off);
	p->frag_off8 = off & 0x1fff;
	p->frag_id = bpf_ntohs(ih->id);
	if (p->frag_off8)
		p->frag_later = 1;
	else if (off & 0x2000)
		p->frag_first = 1;
	if (p->frag_later)
		return 0;
	return parse_l4(p, c, tot_len - hlen);
}

static __always_inline int parse_ipv6(struct bh_pkt *p, struct cursor *c)
{
	struct ipv6hdr *ih = cur_pull(c, sizeof(*ih));
	__u32 off, off0, plen;
	__u8 nh;
	int i;

	if (!ih || ih->version != 6)
		return BH_R_DROP_MALFORMED;
	addr_copy(p->saddr, &ih->saddr);
	addr_copy(p->daddr, &ih->daddr);
	nh = ih->nexthdr;
	/* payload length 0: a jumbogram or a BIG TCP GRO packet, the frame
	 * length alone bounds it */
	plen = bpf_ntohs(ih->payload_len);
	if (!plen)
		plen = 0xffff;
	off = (__u32)(c->pos - c->data);
	off0 = off;

	/* a scalar offset, bounded by BH_HDR_MAX, keeps the verifier's
	 * view of every header chain alike */
	for (i = 0; i < BH_MAX_EXTHDR; i++) {
		__u8 *h;
		__u32 len;

		if (nh != NH_HOP && nh != NH_ROUTING && nh != NH_FRAGMENT &&
		    nh != NH_AH && nh != NH_DSTOPTS)
			break;
		off &= BH_HDR_MAX;
		h = c->data + off;
		if ((void *)(h + 8) > c->end)
			return BH_R_DROP_MALFORMED;
		if (nh == NH_FRAGMENT) {
			__u16 fo;
			__u32 id;

			__builtin_memcpy(&fo, h + 2, 2);
			__builtin_memcpy(&id, h + 4, 4);
			fo = bpf_ntohs(fo);
			p->frag_proto = h[0];
			p->frag_off8 = fo >> 3;
			p->frag_id = bpf_ntohl(id);
			if (p->frag_off8)
				p->frag_later = 1;
			else if (fo & 1)
				p->frag_first = 1;
			len = 8;
		} else if (nh == NH_AH) {
			len = ((__u32)h[1] + 2) * 4;
		} else {
			if (nh == NH_ROUTING && h[2] == 0)
				return BH_R_DROP_EXTHDR;	/* RH0: deprecated */
			len = ((__u32)h[1] + 1) * 8;
		}
		nh = h[0];
		if (off + len > BH_HDR_MAX)
			return BH_R_DROP_EXTHDR;	/* more header than we judge */
		off += len;
		if (p->frag_later)
			break;
	}
	off &= BH_HDR_MAX;
	c->pos = c->data + off;
	if (c->pos > c->end)
		return BH_R_DROP_MALFORMED;
	p->l4proto = nh;
	if (p->frag_later)
		return 0;
	if (nh == NH_HOP || nh == NH_ROUTING || nh == NH_FRAGMENT ||
	    nh == NH_AH || nh == NH_DSTOPTS)
		return BH_R_DROP_EXTHDR;	/* deeper than we walk */
	if (off - off0 > plen)
		return BH_R_DROP_MALFORMED;	/* headers past the payload length */
	return parse_l4(p, c, plen - (off - off0));
}

static __always_inline int parse_arp(struct bh_pkt *p, struct cursor *c)
{
	struct arp_eth4 *a = cur_pull(c, sizeof(*a));
	__be32 s4, t4;

	if (!a || a->htype != bpf_htons(1) || a->ptype != bpf_htons(ETH_P_IP) ||
	    a->hlen != 6 || a->plen != 4 ||
	    (a->op != bpf_htons(1) && a->op != bpf_htons(2)))
		return BH_R_DROP_MALFORMED;
	if (!mac_eq(a->sha, p->smac))
		return BH_R_DROP_SPOOF;
	__builtin_memcpy(&s4, a->spa, 4);
	__builtin_memcpy(&t4, a->tpa, 4);
	p->is_v4 = 1;
	addr_v4mapped(p->saddr, s4);
	addr_v4mapped(p->daddr, t4);
	return 0;
}

/*
 * Parse a frame. @oob_tag: the stack already stripped a tag (tc sees
 * skb->vlan_present), with @oob_tci. Returns 0 or the drop reason.
 */
static __always_inline int bh_parse(struct bh_pkt *p, void *data, void *data_end,
				    bool oob_tag, __u16 oob_tci)
{
	struct cursor c = { .data = data, .pos = data, .end = data_end };
	struct ethhdr *eth;
	__u32 tags = 0;
	__u16 proto;
	int i;

	eth = cur_pull(&c, sizeof(*eth));
	if (!eth)
		return BH_R_DROP_MALFORMED;
	__builtin_memcpy(p->smac, eth->h_source, 6);
	__builtin_memcpy(p->dmac, eth->h_dest, 6);
	proto = bpf_ntohs(eth->h_proto);

	/* a priority tag (VID 0) is looked through; any other tag, or two, is not */
	if (oob_tag) {
		if (oob_tci & 0x0fff)
			return BH_R_DROP_VLAN;
		tags++;
	}
	for (i = 0; i < 2; i++) {
		struct vlan_tag *vt;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		vt = cur_pull(&c, sizeof(*vt));
		if (!vt)
			return BH_R_DROP_MALFORMED;
		if ((bpf_ntohs(vt->tci) & 0x0fff) || ++tags > 1)
			return BH_R_DROP_VLAN;
		proto = bpf_ntohs(vt->proto);
	}
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
		return BH_R_DROP_VLAN;
	p->eth_proto = proto;

	switch (proto) {
	case ETH_P_ARP:
		return parse_arp(p, &c);
	case ETH_P_IP:
		return parse_ipv4(p, &c);
	case ETH_P_IPV6:
		return parse_ipv6(p, &c);
	case ETH_P_EAPOL_:
		return 0;
	default:
		return BH_R_DROP_ETHERTYPE;
	}
}

#endif /* BH_LIB_PARSE_H */
