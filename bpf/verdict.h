/* SPDX-License-Identifier: GPL-2.0 */
/*
 * verdict.h - the one verdict core. The XDP and tc entry points in
 * bulkhead.bpf.c are thin wrappers around it. Two stages:
 *
 *   bh_parse()   reads the frame (bounds-checked cursor) into struct bh_pkt:
 *                tags, Ethernet, ARP, IPv4/IPv6 with options, extension
 *                headers and fragments, L4 ports, ND targets, the tuple an
 *                ICMP error quotes. Frames it cannot judge are dropped here.
 *   bh_decide()  judges a bh_pkt with map lookups only: generation, source
 *                device, quarantine, anti-spoofing, destination class,
 *                policy, connection tracking. A global function: the
 *                verifier checks it once, not once per parse path.
 */
#ifndef BH_VERDICT_H
#define BH_VERDICT_H

#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_endian.h>

#include "bulkhead_abi.h"
#include "parse.h"

#define ETH_P_EAPOL_		0x888e

/* <linux/icmp.h> drags in libc headers: the few ICMP types we need */
#define ICMP_ECHOREPLY		0
#define ICMP_DEST_UNREACH	3
#define ICMP_ECHO		8
#define ICMP_TIME_EXCEEDED	11
#define ICMP_PARAMETERPROB	12

#define NH_HOP			0
#define NH_ROUTING		43
#define NH_FRAGMENT		44
#define NH_AH			51
#define NH_DSTOPTS		60

#define TCP_FLAG_SYN		0x02
#define TCP_FLAG_ACK		0x10

#define ND_RS			133
#define ND_RA			134
#define ND_NS			135
#define ND_NA			136
#define ND_REDIRECT		137
#define MLD_QUERY		130

#define BH_HDR_MAX		0x3ff	/* IPv6 header chains end within 1 KiB */

/* What parsing learned about one frame; all decide() reads. */
struct bh_pkt {
	/*
	 * The flow verdict cache's key, written in place by the parser: the
	 * fields a TCP/UDP verdict depends on are laid out as struct
	 * bh_vc_key, so a lookup copies nothing (vc_key() sets the flags).
	 */
	union {
		struct bh_vc_key vk;
		struct {
			__u8 smac[6];
			__u8 dmac[6];
			__u8 saddr[16];		/* IP source, or ARP sender */
			__u8 daddr[16];		/* IP destination, or ARP target */
			__u16 sport;		/* host order; the echo id for ICMP echo */
			__u16 dport;
			__u8 l4proto;
			__u8 vc_flags;		/* BH_VC_*, set by vc_key() */
			__u16 vc_keypad;
		};
	} __attribute__((aligned(8)));
	__u32 len;		/* frame length, for the byte counters */
	__u32 gen;		/* the active generation, read by vc_probe() */
	__u32 ifindex;		/* the port the frame came in by (ingress) or leaves by (egress) */
	__u32 pad1;
	__u16 eth_proto;	/* after tags, host order */
	__u8 is_v4;
	__u8 pad0;
	__u8 target[16];	/* ND target address */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 has_l4;		/* L4 header present (not a later fragment) */
	__u8 has_target;	/* ND NS/NA with its target */
	__u8 frag_first;	/* first fragment of a fragmented datagram */
	__u8 frag_later;	/* non-first fragment */
	__u16 frag_off8;	/* fragment offset in 8-byte units */
	__u32 frag_id;
	/* the packet an ICMP error quotes, as its sender sent it */
	__u8 q_ok;
	__u8 q_proto;
	__u16 q_sport;
	__u16 q_dport;
	__u8 frag_proto;	/* IPv6: the fragment header's next header */
	__u8 pad;
	__u8 q_saddr[16];
	__u8 q_daddr[16];
	/* decide()'s working state and result */
	__u16 sgroup;
	__u16 sflags;
	__u16 dgroup;
	__u8 qsrc;		/* source quarantined */
	__u8 dst_gw_mac;	/* destination MAC is the gateway's */
	__u8 mcast;		/* destination MAC is group/broadcast */
	__u8 pass;
	__u16 reason;		/* enum bh_reason */
	__u32 rule_id;
	__u64 now;		/* bh_now(): the coarse clock, once per frame */
	__u32 ctr_slot;		/* the source device's bh_devctr slot, 0: count in bh_devstats */
	/* the flow verdict cache: what a miss stores */
	__u8 vc_ok;		/* the frame may use the cache */
	__u8 vc_kind;		/* BH_VCK_*; 0: BH_VCK_FIXED */
	__u16 vc_reason;	/* DENY: the policy's drop reason */
	__u32 vc_rule;		/* DENY: the policy's rule */
	/* what vc_probe() read, for bh_decide() after a miss */
	__u32 vc_idx;		/* the frame's slot (vc_ok) */
	__u32 vc_epoch;		/* bh_active.epoch */
	__u32 vc_vepoch;	/* bh_vepoch */
	__u8 vc_gen_ok;		/* bh_active was read: gen and vc_epoch are set */
	__u8 vc_pad[3];
};

#define PKT_AT(f, k)	(__builtin_offsetof(struct bh_pkt, f) == \
			 __builtin_offsetof(struct bh_vc_key, k))
_Static_assert(PKT_AT(smac, smac) && PKT_AT(dmac, dmac) && PKT_AT(saddr, saddr) &&
	       PKT_AT(daddr, daddr) && PKT_AT(sport, sport) && PKT_AT(dport, dport) &&
	       PKT_AT(l4proto, proto) && PKT_AT(vc_flags, flags),
	       "bh_pkt: the cache key's fields in place");

#define barrier()	asm volatile("" ::: "memory")

/* Out of line: a BPF-to-BPF call keeps its stack frame off the caller's. */
#define __noinline	__attribute__((noinline))

/*
 * The frame's time, CLOCK_MONOTONIC_COARSE as bpf_ktime_get_coarse_ns()
 * reads it. That clock moves once a tick, as jiffies does: this CPU keeps
 * its last reading with the jiffies it was taken at (bh_clock), and a frame
 * calls the helper only when jiffies moved. bpf_jiffies64() is inlined into
 * a load; a helper call costs about ten times as much here (bench_prims).
 * A reading taken just as the tick moved jiffies but not yet the clock is a
 * tick old until the next tick: the clock's own resolution.
 */
static __always_inline __u64 bh_now(void)
{
	__u64 j = bpf_jiffies64();
	struct bh_clock *c;
	__u32 key = 0;

	c = bpf_map_lookup_elem(&bh_clock, &key);
	if (!c)
		return bpf_ktime_get_coarse_ns();
	if (c->jiffies != j) {
		/* the time first: a program that interrupts these stores
		 * sees the old jiffies and reads the clock itself */
		c->ns = bpf_ktime_get_coarse_ns();
		barrier();
		c->jiffies = j;
	}
	return c->ns;
}

/* ================================ parsing ================================= */

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
	/* a first fragment must carry its whole L4 header (RFC 1858) */
	return p->frag_first ? BH_R_DROP_FRAG : BH_R_DROP_MALFORMED;
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

/* ================================ deciding ================================ */

static __always_inline bool is_gw_mac(const __u8 *mac)
{
	struct bh_mac_key k = {};

	__builtin_memcpy(k.mac, mac, 6);
	return bpf_map_lookup_elem(&bh_gw_mac, &k) != NULL;
}

static __always_inline bool is_gw_ip(const __u8 *addr)
{
	struct bh_addr_key k;

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&bh_gw_ip, &k) != NULL;
}

static __always_inline bool is_lan_ip(const __u8 *addr)
{
	struct bh_lan_key k = { .prefixlen = 128 };

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&bh_lan, &k) != NULL;
}

static __always_inline bool quarantined(const __u8 *mac)
{
	struct bh_mac_key k = {};

	__builtin_memcpy(k.mac, mac, 6);
	return bpf_map_lookup_elem(&bh_quarantine, &k) != NULL;
}

static __always_inline struct bh_dev_val *device(__u32 gen, const __u8 *mac)
{
	struct bh_dev_key k = { .gen = (__u8)gen };

	__builtin_memcpy(k.mac, mac, 6);
	return bpf_map_lookup_elem(&bh_devices, &k);
}

static __always_inline struct bh_ip_val *ip_owner(__u32 gen, const __u8 *addr)
{
	struct bh_ip_key k = { .gen = (__u8)gen };

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&bh_ips, &k);
}

static __always_inline bool talk(__u32 gen, __u16 a, __u16 b)
{
	struct bh_talk_key k = { .gen = (__u8)gen, .ga = a, .gb = b };

	return bpf_map_lookup_elem(&bh_talk, &k) != NULL;
}

static __always_inline bool addr_unspec(const __u8 *a)
{
	__u64 x[2];

	__builtin_memcpy(x, a, 16);
	return !x[0] && !x[1];
}

static __always_inline bool addr_v4_zero(const __u8 *a)
{
	return !a[12] && !a[13] && !a[14] && !a[15];
}

static __always_inline bool addr_linklocal6(const __u8 *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

/*
 * A learned claim (bh_claim) on an address no ip: or lease binds: false
 * when another MAC used @addr as its own within BH_CLAIM_TIMEOUT; else the
 * address is (now) this frame's source MAC's, refreshed at most once a
 * second. Only the gateway's LAN prefixes and IPv6 link-local addresses
 * are claimed: an address elsewhere is nobody's neighbour.
 */
/*
 * Inlined into addr_spoofed(), its one caller: kernels before 6.x add up
 * every frame of a call chain against 512 bytes (selftests/bpf_stack.py),
 * and the key and value must be on the stack there (6.1 takes no key in
 * the memory bh_decide()'s argument points to).
 */
static __always_inline bool claim_use(struct bh_pkt *p, const __u8 *addr, bool v4)
{
	struct bh_claim_val *cv, nv = {};
	struct bh_addr_key k;

	if (v4 ? addr_v4_zero(addr) : addr_unspec(addr))
		return true;
	if (!(!v4 && addr_linklocal6(addr)) && !is_lan_ip(addr))
		return true;
	__builtin_memcpy(k.addr, addr, 16);
	cv = bpf_map_lookup_elem(&bh_claim, &k);
	if (cv) {
		if (mac_eq(cv->mac, p->smac)) {
			if ((__s64)(p->now - cv->last_seen) >= (__s64)BH_CLAIM_REFRESH)
				cv->last_seen = p->now;
			return true;
		}
		if ((__s64)(p->now - cv->last_seen) < (__s64)BH_CLAIM_TIMEOUT)
			return false;
	}
	__builtin_memcpy(nv.mac, p->smac, 6);
	nv.last_seen = p->now;
	bpf_map_update_elem(&bh_claim, &k, &nv, BPF_ANY);
	return true;
}

/*
 * A verdict cache hit keeps its source address's claim fresh: false when
 * another MAC holds it now (ours lapsed meanwhile), and the frame must be
 * judged in full. Makes no claim: only the full verdict does.
 */
static __noinline bool claim_keep(struct bh_pkt *p)
{
	struct bh_claim_val *cv;

	if (!p)
		return true;
	cv = bpf_map_lookup_elem(&bh_claim, p->saddr);
	if (!cv)
		return true;
	if (mac_eq(cv->mac, p->smac)) {
		cv->last_seen = p->now;
		return true;
	}
	return (__s64)(p->now - cv->last_seen) >= (__s64)BH_CLAIM_TIMEOUT;
}

/*
 * Anti-spoofing for an address a device uses as its own (IP source, ARP
 * sender, NA target): not the gateway's, not bound to another MAC, one
 * of its bound addresses when it has any of that family, and not claimed
 * by another MAC (claim_use) when nothing binds it.
 */
static __noinline bool addr_spoofed(struct bh_pkt *p, const __u8 *addr, bool v4)
{
	struct bh_ip_val *own;

	if (v4 ? addr_v4_zero(addr) : addr_unspec(addr))
		return false;
	if (is_gw_ip(addr))
		return true;
	own = ip_owner(p->gen, addr);
	if (own)
		return !mac_eq(own->mac, p->smac);
	if (v4 && (p->sflags & BH_DEV_HAS_V4))
		return true;
	if (!v4 && (p->sflags & BH_DEV_HAS_V6) && !addr_linklocal6(addr))
		return true;
	return !claim_use(p, addr, v4);
}

/*
 * Group of the device an ARP/ND target address belongs to; -1:
 * quarantined. A group-addressed request for an address no device is bound
 * to (the device may simply have no ip:) goes to BH_GRP_SOME: it may pass
 * when the sender talks to some group, and each port's egress lets it out
 * only to the devices the sender talks to (bh_flood).
 */
static __noinline int target_group(struct bh_pkt *p, const __u8 *addr,
				   __u16 *group, __u32 unknown)
{
	struct bh_ip_val *own = ip_owner(p->gen, addr);
	struct bh_dev_val *dv;

	if (own) {
		if (quarantined(own->mac))
			return -1;
		*group = own->group;
		return 0;
	}
	if (!p->mcast) {
		dv = device(p->gen, p->dmac);
		*group = dv ? dv->group : (__u16)unknown;
		return 0;
	}
	*group = BH_GRP_SOME;
	return 0;
}

static __always_inline int verdict(struct bh_pkt *p, __u8 pass, __u16 reason, __u32 rule)
{
	p->pass = pass;
	p->reason = reason;
	p->rule_id = rule;
	return pass;
}
#define PASS(p, r)	verdict(p, 1, r, BH_RULE_DEFAULT)
#define DROP(p, r)	verdict(p, 0, r, BH_RULE_DEFAULT)

/* ---- connection tracking ------------------------------------------------- */

static __always_inline void ct_key(struct bh_ct_key *k, __u8 proto,
				   const __u8 *src, const __u8 *dst,
				   __u16 sport, __u16 dport)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->proto = proto;
	k->sport = bpf_htons(sport);
	k->dport = bpf_htons(dport);
	__builtin_memcpy(k->saddr, src, 16);
	__builtin_memcpy(k->daddr, dst, 16);
}

static __always_inline __u64 ct_timeout(__u8 proto)
{
	if (proto == IPPROTO_TCP)
		return BH_CT_TCP_TIMEOUT;
	if (proto == IPPROTO_UDP)
		return BH_CT_UDP_TIMEOUT;
	return BH_CT_OTHER_TIMEOUT;
}

/* Record (or refresh, at most once a second) a flow in its own direction. */
static __noinline void ct_track(struct bh_ct_key *k, const __u8 *smac,
				const __u8 *dmac, __u32 flags, __u64 now)
{
	struct bh_ct_val *cv, nv = {};

	cv = bpf_map_lookup_elem(&bh_ct, k);
	if (cv && (__s64)(now - cv->last_seen) < 1000000000LL &&
	    mac_eq(cv->smac, smac) && mac_eq(cv->dmac, dmac))
		return;
	nv.last_seen = now;
	__builtin_memcpy(nv.smac, smac, 6);
	__builtin_memcpy(nv.dmac, dmac, 6);
	nv.flags = flags;
	bpf_map_update_elem(&bh_ct, k, &nv, BPF_ANY);
}

/* Refresh a flow already tracked (at most once a second); one lookup. */
static __always_inline void ct_refresh(struct bh_ct_key *k, __u64 now)
{
	struct bh_ct_val *cv = bpf_map_lookup_elem(&bh_ct, k);

	if (cv && (__s64)(now - cv->last_seen) >= 1000000000LL)
		cv->last_seen = now;
}

/*
 * A live flow answered by @p: its opener's MAC is the frame's destination
 * (or unknown: an entry imported from conntrack has none), or both are the
 * gateway's. A reply sent to another MAC (a neighbour cache poisoned by
 * the device it now goes to) answers nothing.
 */
static __always_inline bool ct_live(struct bh_ct_key *k, struct bh_pkt *p)
{
	struct bh_ct_val *cv = bpf_map_lookup_elem(&bh_ct, k);
	__u64 now = p->now;

	if (!cv)
		return false;
	if (!mac_eq(cv->smac, p->dmac) && !mac_zero(cv->smac) &&
	    !((cv->flags & BH_CT_FROM_GW) && p->dst_gw_mac))
		return false;
	if ((__s64)(now - cv->last_seen) >= (__s64)ct_timeout(k->proto))
		return false;
	/* replies keep their flow alive too (refreshed at most once a second) */
	if ((__s64)(now - cv->last_seen) > 1000000000LL)
		cv->last_seen = now;
	return true;
}

/* Denied by the policy: pass it anyway if it answers a tracked flow. */
static __noinline bool is_reply(struct bh_pkt *p)
{
	struct bh_ct_key k;

	if (!p->has_l4)
		return false;
	if (p->l4proto == IPPROTO_TCP) {
		if ((p->tcp_flags & TCP_FLAG_SYN) && !(p->tcp_flags & TCP_FLAG_ACK))
			return false;	/* a SYN opens a flow, it answers none */
	} else if (p->l4proto == IPPROTO_ICMP || p->l4proto == IPPROTO_ICMPV6) {
		if (is_icmp_error(p->l4proto, p->icmp_type)) {
			/* the quoted packet went from this packet's destination
			 * to its source: devices route nothing, so an error about
			 * a flow they are not an end of is no reply */
			if (!p->q_ok || !addr_eq(p->q_saddr, p->daddr) ||
			    !addr_eq(p->q_daddr, p->saddr))
				return false;
			ct_key(&k, p->q_proto, p->q_saddr, p->q_daddr,
			       p->q_sport, p->q_dport);
			return ct_live(&k, p);
		}
		if (!is_echo_reply(p->l4proto, p->icmp_type))
			return false;
	}
	ct_key(&k, p->l4proto, p->daddr, p->saddr, p->dport, p->sport);
	return ct_live(&k, p);
}

/* ---- the policy ------------------------------------------------------------ */

static __noinline struct bh_pol_val *policy_lookup(struct bh_pkt *p)
{
	struct bh_pol_key k = {
		.gen = (__u8)p->gen,
		.proto = p->l4proto,
		.sgroup = p->sgroup,
		.dgroup = p->dgroup,
	};
	struct bh_pol_val *pv;

	if ((p->l4proto == IPPROTO_TCP || p->l4proto == IPPROTO_UDP) && p->dport) {
		k.port = p->dport;
		pv = bpf_map_lookup_elem(&bh_policy, &k);
		if (pv)
			return pv;
		k.port = BH_PORT_ANY;
	}
	pv = bpf_map_lookup_elem(&bh_policy, &k);
	if (pv)
		return pv;
	k.proto = BH_PROTO_ANY;
	return bpf_map_lookup_elem(&bh_policy, &k);
}

static __always_inline bool default_allows(struct bh_pkt *p, struct bh_config *cfg)
{
	struct bh_group *g;
	__u32 idx;

	if (p->dgroup == BH_GRP_MULTICAST)
		return false;
	if (p->dgroup == BH_GRP_GATEWAY)
		return cfg->flags & BH_CFG_GW_ALLOW;
	if (p->dgroup == BH_GRP_INTERNET || p->dgroup >= BH_GRP_CIDR_BASE) {
		idx = p->gen * BH_MAX_GROUPS + (p->sgroup & (BH_MAX_GROUPS - 1));
		g = bpf_map_lookup_elem(&bh_groups, &idx);
		return g && g->valid && g->internet == BH_ACT_ALLOW;
	}
	return cfg->flags & BH_CFG_EW_ALLOW;
}

/* A quarantined device may use only the gateway services in qallow. */
static __always_inline bool qsvc_allowed(struct bh_pkt *p, __u16 qallow)
{
	if (p->dgroup != BH_GRP_GATEWAY || !p->has_l4)
		return false;
	if (p->l4proto == IPPROTO_UDP) {
		if ((p->dport == 67 || p->dport == 547) && (qallow & BH_SVC_DHCP))
			return true;
		if (p->dport == 123 && (qallow & BH_SVC_NTP))
			return true;
	}
	if ((p->l4proto == IPPROTO_UDP || p->l4proto == IPPROTO_TCP) &&
	    p->dport == 53 && (qallow & BH_SVC_DNS))
		return true;
	if ((is_echo_request(p->l4proto, p->icmp_type) ||
	     is_echo_reply(p->l4proto, p->icmp_type)) && (qallow & BH_SVC_ICMP))
		return true;
	return false;
}

/* ---- ARP ---------------------------------------------------------------------- */

static __noinline int decide_arp(struct bh_pkt *p, struct bh_config *cfg)
{
	__u16 tgroup;

	if (addr_spoofed(p, p->saddr, true))
		return DROP(p, BH_R_DROP_SPOOF);
	/* anyone may resolve, and answer, the gateway */
	if (is_gw_ip(p->daddr) || p->dst_gw_mac)
		return PASS(p, BH_R_PASS_ARP);
	if (p->qsrc)
		return DROP(p, BH_R_DROP_QUARANTINE);
	/* an announcement of the sender's own (checked) address */
	if (!addr_v4_zero(p->saddr) && addr_eq(p->saddr, p->daddr))
		return PASS(p, BH_R_PASS_ARP);
	if (target_group(p, p->daddr, &tgroup, cfg->unknown_group))
		return DROP(p, BH_R_DROP_QUARANTINE);
	if (talk(p->gen, p->sgroup, tgroup))
		return PASS(p, BH_R_PASS_ARP);
	return DROP(p, BH_R_DROP_DEFAULT);
}

/* ---- IPv6 neighbour discovery and MLD ----------------------------------------- */

/* 1 when the ICMPv6 message was ND/MLD/RA and is decided here. */
static __noinline int decide_nd(struct bh_pkt *p, struct bh_config *cfg)
{
	__u16 tgroup;

	switch (p->icmp_type) {
	case ND_RA:
	case ND_REDIRECT:
	case MLD_QUERY:
		DROP(p, BH_R_DROP_ROGUE);	/* router and querier are the gateway */
		return 1;
	case ND_RS:
		PASS(p, BH_R_PASS_ND);
		return 1;
	case 131: case 132: case 143:	/* MLD reports */
		if (p->qsrc)
			DROP(p, BH_R_DROP_QUARANTINE);
		else
			PASS(p, BH_R_PASS_ND);
		return 1;
	case ND_NS:
	case ND_NA:
		break;
	default:
		return 0;
	}
	if (!p->has_target) {
		DROP(p, BH_R_DROP_MALFORMED);
		return 1;
	}
	if (p->icmp_type == ND_NS) {
		if (addr_unspec(p->saddr) || is_gw_ip(p->target)) {
			PASS(p, BH_R_PASS_ND);	/* DAD, or asking for the gateway */
			return 1;
		}
	} else {
		if (addr_spoofed(p, p->target, false)) {
			DROP(p, BH_R_DROP_SPOOF);
			return 1;
		}
		if (p->dst_gw_mac || is_gw_ip(p->daddr)) {
			PASS(p, BH_R_PASS_ND);
			return 1;
		}
		if (!p->qsrc && p->mcast) {
			PASS(p, BH_R_PASS_ND);	/* unsolicited, for its own address */
			return 1;
		}
	}
	if (p->qsrc) {
		DROP(p, BH_R_DROP_QUARANTINE);
		return 1;
	}
	/* the peer: for a solicitation the address asked for, for an
	 * advertisement the one it answers (its target is the sender's own) */
	if (target_group(p, p->icmp_type == ND_NS ? p->target : p->daddr, &tgroup,
			 cfg->unknown_group))
		DROP(p, BH_R_DROP_QUARANTINE);
	else if (talk(p->gen, p->sgroup, tgroup))
		PASS(p, BH_R_PASS_ND);
	else
		DROP(p, BH_R_DROP_DEFAULT);
	return 1;
}

/* ---- IP ------------------------------------------------------------------------- */

static __always_inline void frag_key(struct bh_pkt *p, struct bh_frag_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->saddr, p->saddr, 16);
	__builtin_memcpy(k->daddr, p->daddr, 16);
	k->id = p->frag_id;
	/* alike in every fragment: IPv4's protocol, the IPv6 fragment
	 * header's next header (the first header of the fragmentable part) */
	k->proto = p->is_v4 ? p->l4proto : p->frag_proto;
}

/*
 * A first fragment passed: its datagram's later fragments may follow.
 * Out of line, as frag_later() is: their keys stay off decide_ip()'s
 * frame, which every deep call chain holds (selftests/bpf_stack.py).
 */
static __noinline void frag_record(struct bh_pkt *p)
{
	struct bh_frag_key fk;
	struct bh_frag_val fv;

	if (!p)
		return;
	fv.last_seen = p->now;
	frag_key(p, &fk);
	bpf_map_update_elem(&bh_frag, &fk, &fv, BPF_ANY);
}

/* A non-first fragment: 1 when it passes, its verdict set either way. */
static __noinline int frag_later(struct bh_pkt *p)
{
	struct bh_frag_key fk;
	struct bh_frag_val *fv;

	if (!p)
		return 0;
	/* a later fragment overlapping a TCP header: tiny-fragment attack */
	if (p->is_v4 && p->l4proto == IPPROTO_TCP && p->frag_off8 < 3)
		return DROP(p, BH_R_DROP_FRAG);
	if (p->qsrc)
		return DROP(p, BH_R_DROP_QUARANTINE);
	frag_key(p, &fk);
	fv = bpf_map_lookup_elem(&bh_frag, &fk);
	if (fv && (__s64)(p->now - fv->last_seen) < (__s64)BH_FRAG_TIMEOUT)
		return PASS(p, BH_R_PASS_FRAG);
	return DROP(p, BH_R_DROP_FRAG);
}

/* Destination class of an IP packet (sets p->dgroup); -1: quarantined. */
static __noinline int ip_destination(struct bh_pkt *p, struct bh_config *cfg)
{
	struct bh_inet_key k = {
		.prefixlen = BH_INET_KEY_HDR_BITS + 128,
	};
	struct bh_inet_val *iv;
	struct bh_ip_val *own;
	struct bh_dev_val *dv;

	if (!p->mcast && !p->dst_gw_mac) {
		dv = device(p->gen, p->dmac);
		p->dgroup = dv ? dv->group : cfg->unknown_group;
		return 0;
	}
	/* by the unicast IP: routed through the gateway, or a group-addressed
	 * frame carrying it (judged as sent to it) */
	if (is_gw_ip(p->daddr)) {
		p->dgroup = BH_GRP_GATEWAY;
		return 0;
	}
	own = ip_owner(p->gen, p->daddr);
	if (own) {
		if (quarantined(own->mac))
			return -1;
		p->dgroup = own->group;
		return 0;
	}
	if (p->mcast) {
		/* a DHCP client's broadcast is for the gateway's server */
		if (p->has_l4 && p->l4proto == IPPROTO_UDP &&
		    ((p->is_v4 && p->dport == 67) || (!p->is_v4 && p->dport == 547)))
			p->dgroup = BH_GRP_GATEWAY;
		else
			p->dgroup = BH_GRP_MULTICAST;
		return 0;
	}
	if (is_lan_ip(p->daddr)) {
		p->dgroup = cfg->unknown_group;
		return 0;
	}
	k.gen = (__u8)p->gen;
	k.sgroup = p->sgroup;
	__builtin_memcpy(k.addr, p->daddr, 16);
	iv = bpf_map_lookup_elem(&bh_inet, &k);
	p->dgroup = iv ? iv->dgroup : BH_GRP_INTERNET;
	return 0;
}

static __noinline int decide_ip(struct bh_pkt *p, struct bh_config *cfg)
{
	struct bh_pol_val *pv;
	struct bh_ct_key k;
	bool allow;

	if (addr_spoofed(p, p->saddr, p->is_v4))
		return DROP(p, BH_R_DROP_SPOOF);

	if (p->frag_later)
		return frag_later(p);

	/* servers and routers among the devices are rogue */
	if (p->l4proto == IPPROTO_UDP &&
	    ((p->is_v4 && p->sport == 67 && p->dport == 68) ||
	     (!p->is_v4 && p->sport == 547 && p->dport == 546)))
		return DROP(p, BH_R_DROP_ROGUE);
	if (p->l4proto == IPPROTO_ICMPV6 && !p->is_v4 && decide_nd(p, cfg))
		return p->pass;

	if (ip_destination(p, cfg))
		return DROP(p, BH_R_DROP_QUARANTINE);
	if (p->qsrc)
		return qsvc_allowed(p, cfg->qallow) ? PASS(p, BH_R_PASS_QSVC) :
						      DROP(p, BH_R_DROP_QUARANTINE);

	pv = policy_lookup(p);
	p->rule_id = BH_RULE_DEFAULT;
	if (pv) {
		p->rule_id = pv->rule_id;
		allow = pv->action == BH_ACT_ALLOW;
	} else {
		allow = default_allows(p, cfg);
	}
	if (allow) {
		p->vc_kind = BH_VCK_ALLOW;
		ct_key(&k, p->l4proto, p->saddr, p->daddr, p->sport, p->dport);
		ct_track(&k, p->smac, p->dmac, 0, p->now);
		if (p->frag_first)
			frag_record(p);
		return verdict(p, 1, pv ? BH_R_PASS_RULE : BH_R_PASS_DEFAULT, p->rule_id);
	}
	/* a cached denial checks for a reply on every hit: flows opened
	 * later (either end, or the gateway) make it one */
	p->vc_kind = BH_VCK_DENY;
	p->vc_reason = pv ? BH_R_DROP_RULE : BH_R_DROP_DEFAULT;
	p->vc_rule = p->rule_id;
	if (is_reply(p)) {
		if (p->frag_first)
			frag_record(p);
		return PASS(p, BH_R_PASS_REPLY);
	}
	return verdict(p, 0, p->vc_reason, p->rule_id);
}

/* ---- the flow verdict cache ------------------------------------------------ */

/* MACs and addresses of a frame, into a deny event */
#define copy_endpoints(d, p) do {				\
	__builtin_memcpy((d)->smac, (p)->smac, 6);		\
	__builtin_memcpy((d)->dmac, (p)->dmac, 6);		\
	__builtin_memcpy((d)->saddr, (p)->saddr, 16);		\
	__builtin_memcpy((d)->daddr, (p)->daddr, 16);		\
} while (0)

static __always_inline bool dhcp_port(__u16 port)
{
	return port == 67 || port == 68 || port == 546 || port == 547;
}

/*
 * Frames judged by the key's fields alone (and the maps the epochs cover):
 * TCP/UDP and ICMP echo in whole datagrams, no DHCP (the rogue-server
 * check and the gateway's server), and ARP (MACs, sender and target
 * addresses). Not ND, ICMP errors (judged by the packet they quote),
 * other ICMP types, fragments or EAPOL.
 */
static __always_inline bool vc_eligible(const struct bh_pkt *p)
{
	if (p->eth_proto == ETH_P_ARP)
		return true;
	if (!p->has_l4 || p->frag_first || p->frag_later)
		return false;
	if (p->eth_proto != ETH_P_IP && p->eth_proto != ETH_P_IPV6)
		return false;
	if (p->l4proto == IPPROTO_UDP)
		return !dhcp_port(p->sport) && !dhcp_port(p->dport);
	if (p->l4proto == IPPROTO_ICMP || p->l4proto == IPPROTO_ICMPV6)
		return is_echo_request(p->l4proto, p->icmp_type) ||
		       is_echo_reply(p->l4proto, p->icmp_type);
	return p->l4proto == IPPROTO_TCP;
}

/*
 * The key is p->vk, the parsed fields in place: only the flags are left,
 * the parts of the verdict no other key field tells (ARP's addresses are
 * its sender's and target's, with no protocol or ports; an echo's type).
 */
static __always_inline void vc_key(struct bh_pkt *p)
{
	__u8 flags = 0;

	if (p->is_v4)
		flags |= BH_VC_V4;
	if (p->eth_proto == ETH_P_ARP)
		flags |= BH_VC_ARP;
	else if (p->l4proto == IPPROTO_TCP && (p->tcp_flags & TCP_FLAG_SYN) &&
		 !(p->tcp_flags & TCP_FLAG_ACK))
		flags |= BH_VC_SYN;
	else if (is_echo_reply(p->l4proto, p->icmp_type))
		flags |= BH_VC_ECHOREP;
	p->vc_flags = flags;
}

/* A valid entry: the verdict again, with the flow state it depends on. */
static __always_inline int vc_hit(struct bh_pkt *p, struct bh_vc_val *vc)
{
	struct bh_ct_key k;

	if (!vc)
		return 0;
	if (vc->kind == BH_VCK_ALLOW) {
		/* keep the flow tracked, as ct_track() would: once a second */
		if ((__s64)(p->now - vc->ct_seen) >= (__s64)BH_VC_CT_RECHECK) {
			ct_key(&k, p->l4proto, p->saddr, p->daddr, p->sport, p->dport);
			ct_track(&k, p->smac, p->dmac, 0, p->now);
			vc->ct_seen = p->now;
		}
		return verdict(p, 1, vc->reason, vc->rule_id);
	}
	if (vc->kind == BH_VCK_DENY) {
		/* a reply while its flow was live within the last second */
		if (vc->reply && (__s64)(p->now - vc->ct_seen) < (__s64)BH_VC_CT_RECHECK)
			return PASS(p, BH_R_PASS_REPLY);
		if (is_reply(p)) {
			vc->reply = 1;
			vc->ct_seen = p->now;
			return PASS(p, BH_R_PASS_REPLY);
		}
		vc->reply = 0;
		return verdict(p, 0, vc->reason, vc->rule_id);
	}
	return verdict(p, vc->reason < BH_R_PASS_MAX, vc->reason, vc->rule_id);
}

/* the padding is zero in both: compared with the words, the rest by byte
 * (as the parser wrote them: a wider load would wait for the narrow stores) */
static __always_inline bool vc_key_eq(const struct bh_vc_key *a, const struct bh_vc_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) |
		 (x[4] ^ y[4]) | (x[5] ^ y[5]) | (__u64)(a->proto ^ b->proto) |
		 (__u64)(a->flags ^ b->flags));
}

/*
 * Fill this CPU's slot. kind goes to 0 first and is set last, so a program
 * that interrupts the writes on this CPU sees an empty slot, not a torn one.
 */
static __always_inline void vc_store(struct bh_pkt *p, struct bh_vc_slot *s,
				     const struct bh_vc_key *k, __u32 epoch, __u32 vepoch)
{
	__u8 kind = p->vc_kind ? p->vc_kind : BH_VCK_FIXED;

	s->val.kind = 0;
	barrier();
	s->key = *k;
	s->ctr_slot = p->ctr_slot;
	s->val.epoch = epoch;
	s->val.vepoch = vepoch;
	s->val.ct_seen = p->now;
	s->claim_seen = p->now;
	s->val.reason = p->reason;
	s->val.rule_id = p->rule_id;
	s->val.reply = 0;
	if (kind == BH_VCK_DENY) {
		s->val.reason = p->vc_reason;
		s->val.rule_id = p->vc_rule;
		s->val.reply = p->pass;
	}
	barrier();
	s->val.kind = kind;
}

/* ---- ports: the devices behind each bridge port ------------------------------ */

/* @mac was seen coming in by port @ifindex: into its list (bh_port). */
static __always_inline void port_add(__u32 ifindex, const __u8 *mac)
{
	struct bh_port_val *pv, nv = {};
	__u32 i, k = ifindex;

	pv = bpf_map_lookup_elem(&bh_port, &k);
	if (!pv) {
		__builtin_memcpy(nv.mac[0], mac, 6);
		nv.n = 1;
		bpf_map_update_elem(&bh_port, &k, &nv, BPF_NOEXIST);
		return;
	}
	for (i = 0; i < BH_PORT_MACS; i++)
		if (i < pv->n && mac_eq(pv->mac[i], mac))
			return;
	if (pv->n < BH_PORT_MACS) {
		i = pv->n & (BH_PORT_MACS - 1);
		__builtin_memcpy(pv->mac[i], mac, 6);
		pv->n = i + 1;
	} else {
		/* more devices than held: the oldest goes, the port is shared */
		i = pv->next & (BH_PORT_MACS - 1);
		__builtin_memcpy(pv->mac[i], mac, 6);
		pv->next = i + 1;
		pv->overflow = 1;
	}
}

/* @mac left port @ifindex (seen on another): out of its list. */
static __always_inline void port_del(__u32 ifindex, const __u8 *mac)
{
	struct bh_port_val *pv;
	__u32 i, last, k = ifindex;

	pv = bpf_map_lookup_elem(&bh_port, &k);
	if (!pv || !pv->n)
		return;
	last = (pv->n - 1) & (BH_PORT_MACS - 1);
	for (i = 0; i < BH_PORT_MACS; i++) {
		if (i < pv->n && mac_eq(pv->mac[i], mac)) {
			__builtin_memcpy(pv->mac[i], pv->mac[last], 6);
			pv->n = last;
			return;
		}
	}
}

/*
 * Learn which port the frame's source MAC is behind (ingress, on a verdict
 * cache miss: one lookup when nothing moved).
 */
static __noinline int port_learn(struct bh_pkt *p)
{
	struct bh_mac_key mk = {};
	__u32 *at, ifx;

	if (!p || !p->ifindex)
		return 0;
	__builtin_memcpy(mk.mac, p->smac, 6);
	at = bpf_map_lookup_elem(&bh_macport, &mk);
	if (at && *at == p->ifindex)
		return 0;
	if (at)
		port_del(*at, p->smac);
	port_add(p->ifindex, p->smac);
	ifx = p->ifindex;
	bpf_map_update_elem(&bh_macport, &mk, &ifx, BPF_ANY);
	return 0;
}

/* ---- judging ---------------------------------------------------------------- */

/* inlined into bh_decide(): a frame less in every chain below it */
static __always_inline int decide_frame(struct bh_pkt *p, struct bh_config *cfg)
{
	struct bh_dev_val *dv;

	if (!p || !cfg)
		return 0;
	if (is_gw_mac(p->smac))
		return DROP(p, BH_R_DROP_SPOOF);	/* a device posing as the gateway */
	port_learn(p);

	dv = device(p->gen, p->smac);
	if (dv) {
		p->sgroup = dv->group;
		p->sflags = dv->flags;
		p->ctr_slot = dv->ctr_slot;
	} else {
		p->sgroup = cfg->unknown_group;
	}
	p->qsrc = quarantined(p->smac);
	p->mcast = p->dmac[0] & 1;
	if (!p->mcast) {
		p->dst_gw_mac = is_gw_mac(p->dmac);
		if (!p->dst_gw_mac && quarantined(p->dmac))
			return DROP(p, BH_R_DROP_QUARANTINE);
	}

	switch (p->eth_proto) {
	case ETH_P_ARP:
		return decide_arp(p, cfg);
	case ETH_P_IP:
	case ETH_P_IPV6:
		return decide_ip(p, cfg);
	case ETH_P_EAPOL_:
		/* 802.1X to the gateway's authenticator: its MAC or the PAE group */
		if (p->dst_gw_mac ||
		    (p->dmac[0] == 0x01 && p->dmac[1] == 0x80 && p->dmac[2] == 0xc2 &&
		     !p->dmac[3] && !p->dmac[4] && p->dmac[5] == 0x03))
			return PASS(p, BH_R_PASS_EAPOL);
		return DROP(p, BH_R_DROP_ETHERTYPE);
	default:
		return DROP(p, BH_R_DROP_ETHERTYPE);
	}
}

/*
 * Set only by a benchmark's loader, before the load (bench/bench_verdict.c,
 * bench_scale.c): every frame judged in full, nothing cached, to measure
 * what the lookups themselves cost as the policy grows. Read-only data: the
 * verifier sees it constant and drops the branch; the controller never
 * sets it.
 */
const volatile __u8 bh_bench_no_vcache = 0;

/*
 * The flow verdict cache, probed inline (a hit makes no BPF-to-BPF call;
 * on the benchmark VM a call and its return cost about a third of the
 * empty program, bench_prims). Returns true when a valid slot judged the
 * frame.
 *
 * The cache epoch is read first, the generation and policy epoch in one
 * 8-byte load: a verdict stored under them was computed from map contents
 * no older than those reads, so it is stale as soon as either moves (see
 * bh_vepoch in bulkhead_abi.h, and docs/architecture.md). A miss leaves
 * what it read in @p for bh_decide(), which must not read them again.
 */
static __always_inline bool vc_probe(struct bh_pkt *p)
{
	struct bh_vc_slot *slot;
	struct bh_config *cfg;
	struct bh_active a;
	__u32 key = 0, *ve;
	__u64 *act, av;

	ve = bpf_map_lookup_elem(&bh_vepoch, &key);
	if (ve)
		p->vc_vepoch = *(volatile __u32 *)ve;
	act = bpf_map_lookup_elem(&bh_active, &key);
	if (!act)
		return false;
	av = *(volatile __u64 *)act;
	__builtin_memcpy(&a, &av, sizeof(a));
	p->gen = a.gen & 1;
	p->vc_epoch = a.epoch;
	p->vc_gen_ok = 1;
	key = p->gen;
	cfg = bpf_map_lookup_elem(&bh_config, &key);
	if (!cfg || !(cfg->flags & BH_CFG_VALID) || (p->smac[0] & 1))
		return false;			/* bh_decide() drops it */
	if (bh_bench_no_vcache)
		return false;			/* vc_ok 0: nothing stored */
	p->vc_ok = vc_eligible(p);
	if (!p->vc_ok)
		return false;
	vc_key(p);
	p->vc_idx = bh_vc_index(&p->vk);
	slot = bpf_map_lookup_elem(&bh_vcache, &p->vc_idx);
	if (!slot || !slot->val.kind || slot->val.epoch != a.epoch ||
	    slot->val.vepoch != p->vc_vepoch || !vc_key_eq(&slot->key, &p->vk))
		return false;
	/* the source address's claim, kept fresh as the miss path keeps it;
	 * taken by another MAC meanwhile (ours lapsed): judged in full */
	if ((__s64)(p->now - slot->claim_seen) >= (__s64)BH_CLAIM_REFRESH) {
		if (!claim_keep(p))
			return false;
		slot->claim_seen = p->now;
	}
	p->ctr_slot = slot->ctr_slot;
	vc_hit(p, &slot->val);
	return true;
}

/*
 * Judge a parsed frame that vc_probe() did not: sets p->pass, p->reason,
 * p->rule_id and returns p->pass, and fills the frame's cache slot. Global,
 * so the verifier checks it once.
 */
__noinline int bh_decide(struct bh_pkt *p)
{
	struct bh_vc_slot *slot;
	struct bh_config *cfg;
	__u32 key;

	if (!p)
		return 0;
	if (!p->vc_gen_ok)
		return DROP(p, BH_R_DROP_NOPOLICY);
	key = p->gen & 1;
	cfg = bpf_map_lookup_elem(&bh_config, &key);
	if (!cfg || !(cfg->flags & BH_CFG_VALID))
		return DROP(p, BH_R_DROP_NOPOLICY);

	if (p->smac[0] & 1)
		return DROP(p, BH_R_DROP_MALFORMED);	/* group address as source */

	decide_frame(p, cfg);
	/* a claim conflict is not cached: it ends when the claim lapses */
	if (p->vc_ok && p->reason != BH_R_DROP_SPOOF) {
		key = p->vc_idx;
		slot = bpf_map_lookup_elem(&bh_vcache, &key);
		if (slot)
			vc_store(p, slot, &p->vk, p->vc_epoch, p->vc_vepoch);
	}
	return p->pass;
}

/*
 * Take one token from @b (refilled at @rate per second up to @burst).
 * Racy across CPUs for a shared bucket: at worst a few events too many.
 */
static __always_inline bool ev_take(struct bh_evlimit *b, __u64 now, __u64 rate,
				    __u64 burst)
{
	__u64 tok = 1000000000ULL / rate, max = tok * burst, credit;

	credit = b->credit_ns + (now - b->last_ns);
	if (now < b->last_ns || credit > max)
		credit = max;
	b->last_ns = now;
	if (credit < tok) {
		b->credit_ns = credit;
		return false;
	}
	b->credit_ns = credit - tok;
	return true;
}

/* A source MAC without a counter slot: its bh_evlimit bucket, made if new. */
static __noinline struct bh_evlimit *ev_bucket_mac(struct bh_pkt *p)
{
	struct bh_evlimit z = { .last_ns = p->now,
				.credit_ns = 1000000000ULL / BH_EV_RATE * BH_EV_BURST };
	struct bh_mac_key mk = {};
	struct bh_evlimit *b;

	__builtin_memcpy(mk.mac, p->smac, 6);
	b = bpf_map_lookup_elem(&bh_evlimit, &mk);
	if (b)
		return b;
	bpf_map_update_elem(&bh_evlimit, &mk, &z, BPF_NOEXIST);
	return bpf_map_lookup_elem(&bh_evlimit, &mk);
}

/*
 * A policy device's drops counted by MAC: before it had a slot (it joined
 * the policy, or Bulkhead was upgraded to the slots), or dropped before its
 * device was looked up (malformed, tagged, no policy). Taken into the
 * device's next event, so none is stranded there: only an event pays this
 * lookup, not every drop.
 */
static __always_inline __u32 ev_mac_leftover(struct bh_pkt *p)
{
	struct bh_mac_key mk = {};
	struct bh_evlimit *b;
	__u32 sup;

	__builtin_memcpy(mk.mac, p->smac, 6);
	b = bpf_map_lookup_elem(&bh_evlimit, &mk);
	if (!b)
		return 0;
	sup = b->suppressed;
	if (sup)
		__sync_fetch_and_add(&b->suppressed, -sup);
	return sup;
}

/*
 * A dropped frame: a deny event on bh_events unless its source MAC's or
 * this CPU's bucket is empty. Only drops get here, so passes cost nothing.
 * A policy device's bucket is at its counter slot (an inlined array
 * access); a zeroed one (a slot just handed out) starts full.
 */
__noinline int bh_event(struct bh_pkt *p)
{
	struct bh_evlimit *b, *cpu;
	struct bh_event *e;
	__u64 now;
	__u32 zero = 0, sup, key;

	if (!p)
		return 0;
	now = p->now;		/* the frame's one clock read: no second one */
	if (p->ctr_slot) {
		key = p->ctr_slot;
		b = bpf_map_lookup_elem(&bh_evslot, &key);
		if (b && !b->last_ns)
			b->credit_ns = 1000000000ULL / BH_EV_RATE * BH_EV_BURST;
	} else {
		b = ev_bucket_mac(p);
	}
	if (!b)
		return 0;
	if (!ev_take(b, now, BH_EV_RATE, BH_EV_BURST))
		goto suppress;
	cpu = bpf_map_lookup_elem(&bh_evcpu, &zero);
	if (!cpu)
		goto suppress;
	if (!cpu->last_ns)
		cpu->credit_ns = 1000000000ULL / BH_EV_CPU_RATE * BH_EV_CPU_BURST;
	if (!ev_take(cpu, now, BH_EV_CPU_RATE, BH_EV_CPU_BURST))
		goto suppress;
	e = bpf_ringbuf_reserve(&bh_events, sizeof(*e), 0);
	if (!e)
		goto suppress;
	sup = b->suppressed;
	__sync_fetch_and_add(&b->suppressed, -sup);
	if (p->ctr_slot)
		sup += ev_mac_leftover(p);
	e->time_ns = now;
	copy_endpoints(e, p);
	e->eth_proto = p->eth_proto;
	e->proto = p->l4proto;
	e->is_v4 = p->is_v4;
	e->sport = p->has_l4 ? p->sport : 0;
	e->dport = p->has_l4 ? p->dport : 0;
	e->reason = p->reason;
	e->pad = 0;
	e->rule_id = p->rule_id;
	e->suppressed = sup;
	bpf_ringbuf_submit(e, 0);
	return 0;
suppress:
	__sync_fetch_and_add(&b->suppressed, 1);
	return 0;
}

static __always_inline void dev_count(struct bh_dev_stats *ds, const struct bh_pkt *p)
{
	ds->packets++;
	ds->bytes += p->len;
	if (!p->pass)
		ds->drops++;
	ds->last_seen = p->now;
}

/* A source MAC without a counter slot: its bh_devstats entry, made if new. */
static __noinline int account_mac(struct bh_pkt *p)
{
	struct bh_dev_stats *ds;
	struct bh_mac_key mk = {};

	if (!p)
		return 0;
	__builtin_memcpy(mk.mac, p->smac, 6);
	ds = bpf_map_lookup_elem(&bh_devstats, &mk);
	if (!ds) {
		struct bh_dev_stats z = {};

		bpf_map_update_elem(&bh_devstats, &mk, &z, BPF_NOEXIST);
		ds = bpf_map_lookup_elem(&bh_devstats, &mk);
		if (!ds)
			return 0;
	}
	dev_count(ds, p);
	return 0;
}

/*
 * Count the verdict: per reason, per rule, per source device. Inline, with
 * inlined array lookups: a frame of a policy device makes no call here.
 */
static __always_inline void bh_account(struct bh_pkt *p)
{
	struct bh_counter *cnt;
	struct bh_dev_stats *ds;
	__u32 key;

	key = p->reason;
	cnt = bpf_map_lookup_elem(&bh_stats, &key);
	if (cnt) {
		cnt->packets++;
		cnt->bytes += p->len;
	}
	if (p->rule_id < BH_MAX_RULES) {
		key = (p->gen & 1) * BH_MAX_RULES + p->rule_id;
		cnt = bpf_map_lookup_elem(&bh_rulestats, &key);
		if (cnt) {
			cnt->packets++;
			cnt->bytes += p->len;
		}
	}
	if (p->smac[0] & 1)
		return;
	if (p->ctr_slot) {
		/* a device of the policy: its slot, an inlined array access */
		key = p->ctr_slot;
		ds = bpf_map_lookup_elem(&bh_devctr, &key);
		if (ds) {
			dev_count(ds, p);
			return;
		}
	}
	account_mac(p);
}

/*
 * The whole verdict for one frame: parse, decide, count. @len is the whole
 * frame's length (an skb's may exceed the linear data the parser reads: a
 * GSO/GRO super-packet). Returns 1 to pass, 0 to drop.
 */
static __always_inline int bh_judge(struct bh_pkt *p, void *data, void *data_end,
				    __u32 len, bool oob_tag, __u16 oob_tci, __u32 ifindex)
{
	int reason;

	__builtin_memset(p, 0, sizeof(*p));
	p->len = len;
	p->ifindex = ifindex;
	p->now = bh_now();
	reason = bh_parse(p, data, data_end, oob_tag, oob_tci);
	if (reason)
		DROP(p, (__u16)reason);
	else if (!vc_probe(p))
		bh_decide(p);
	bh_account(p);
	if (!p->pass)
		bh_event(p);
	return p->pass;
}

/* ---- flooded frames, judged again per port on egress ------------------------- */

/* The policy between two groups for the frame's protocol and port. */
static __noinline int flood_policy(struct bh_pkt *p, struct bh_config *cfg,
				   __u16 sgroup, __u16 dgroup)
{
	struct bh_pol_val *pv;
	__u16 sg, dg;
	int allow;

	if (!p || !cfg)
		return 0;
	sg = p->sgroup;
	dg = p->dgroup;
	p->sgroup = sgroup;
	p->dgroup = dgroup;
	pv = policy_lookup(p);
	allow = pv ? pv->action == BH_ACT_ALLOW : default_allows(p, cfg);
	p->sgroup = sg;
	p->dgroup = dg;
	return allow;
}

/* May the device in group @pg have this flooded frame of p->sgroup's? */
static __noinline int flood_to(struct bh_pkt *p, struct bh_config *cfg, __u16 pg)
{
	if (!p || !cfg)
		return 0;
	if (p->eth_proto == ETH_P_ARP)
		return talk(p->gen, p->sgroup, pg);
	if ((p->eth_proto != ETH_P_IP && p->eth_proto != ETH_P_IPV6) || !p->has_l4)
		return 0;	/* EAPOL is the gateway's; later fragments go nowhere */
	if (p->l4proto == IPPROTO_ICMPV6 && !p->is_v4) {
		switch (p->icmp_type) {
		case ND_NS:
		case ND_NA:
			return talk(p->gen, p->sgroup, pg);
		case ND_RS:
		case ND_RA:
		case ND_REDIRECT:
		case MLD_QUERY:
		case 131: case 132: case 143:	/* MLD reports: the gateway's */
			return 0;
		}
	}
	/* the gateway's: its own address, a DHCP client's broadcast */
	if (is_gw_ip(p->daddr))
		return 0;
	if (p->l4proto == IPPROTO_UDP &&
	    ((p->is_v4 && p->dport == 67) || (!p->is_v4 && p->dport == 547)))
		return 0;
	/* as if sent to it, or both take part in the same multicast service */
	if (flood_policy(p, cfg, p->sgroup, pg))
		return 1;
	if (ip_owner(p->gen, p->daddr))
		return 0;	/* a device's unicast IP in a group frame */
	return flood_policy(p, cfg, pg, BH_GRP_MULTICAST);
}

/*
 * A flooded frame leaving by port p->ifindex: 1 when every device learned
 * behind the port may have it (a port shared by more devices than it holds
 * also counts as the unknown group). A port with nothing learned yet gets
 * ARP requests and neighbour solicitations of a sender that talks to some
 * group (so a device that has not spoken yet can be found), nothing else.
 */
static __noinline int flood_judge(struct bh_pkt *p)
{
	struct bh_port_val *pv;
	struct bh_config *cfg;
	struct bh_dev_val *dv;
	struct bh_active *a;
	__u32 key = 0, i;
	__u16 pg;

	if (!p)
		return 0;
	a = bpf_map_lookup_elem(&bh_active, &key);
	if (!a)
		return 0;
	p->gen = a->gen & 1;
	key = p->gen;
	cfg = bpf_map_lookup_elem(&bh_config, &key);
	if (!cfg || !(cfg->flags & BH_CFG_VALID) || quarantined(p->smac))
		return 0;
	dv = device(p->gen, p->smac);
	p->sgroup = dv ? dv->group : cfg->unknown_group;
	p->mcast = 1;
	key = p->ifindex;
	pv = bpf_map_lookup_elem(&bh_port, &key);
	if (!pv || !pv->n)
		return (p->eth_proto == ETH_P_ARP ||
			(p->l4proto == IPPROTO_ICMPV6 && !p->is_v4 && p->has_l4 &&
			 p->icmp_type == ND_NS)) &&
		       talk(p->gen, p->sgroup, BH_GRP_SOME);
	for (i = 0; i < BH_PORT_MACS; i++) {
		if (i >= pv->n)
			break;
		if (quarantined(pv->mac[i]))
			return 0;
		dv = device(p->gen, pv->mac[i]);
		pg = dv ? dv->group : cfg->unknown_group;
		if (!flood_to(p, cfg, pg))
			return 0;
	}
	if (pv->overflow && !flood_to(p, cfg, cfg->unknown_group))
		return 0;
	return 1;
}

/*
 * Egress: a broadcast or multicast frame from a device, leaving by port
 * @ifindex. Ingress judged it once for every destination; here each copy
 * is judged for the device(s) behind its port. 1 to let it out; a copy
 * withheld is counted as drop_flood (no deny event: one frame, many ports).
 */
static __always_inline int bh_flood(struct bh_pkt *p, void *data, void *data_end,
				    __u32 len, __u32 ifindex)
{
	struct bh_counter *cnt;
	__u32 key = BH_R_DROP_FLOOD;

	__builtin_memset(p, 0, sizeof(*p));
	p->ifindex = ifindex;
	if (!bh_parse(p, data, data_end, false, 0) && flood_judge(p))
		return 1;
	cnt = bpf_map_lookup_elem(&bh_stats, &key);
	if (cnt) {
		cnt->packets++;
		cnt->bytes += len;
	}
	return 0;
}

#endif /* BH_VERDICT_H */
