// SPDX-License-Identifier: GPL-2.0
/*
 * eval.c - the reference evaluator. It reads the frame with its own
 * bounds-checked parser and judges it against the policy's rules directly
 * (deny wins, first matching rule named), with a small model of connection
 * tracking. It shares nothing with bpf/ but the reason numbers, so a
 * disagreement with the BPF programs points at a bug in one of the two.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "eval.h"
#include "../bpf/bulkhead_abi.h"

#define HDR_MAX		0x3ff	/* IPv6 header chains must end within 1 KiB */
#define MAX_EXT		8

/* ---- the state: flows and fragments that passed, claimed addresses -------- */

#define SLOTS	(1u << 19)

struct slot {
	__u8 used;
	__u8 key[41];
	__u8 mac[6];	/* a flow's opener, a claim's owner */
};

struct bh_eval_state {
	struct slot *t;
	size_t n;
};

struct bh_eval_state *bh_eval_state_new(void)
{
	struct bh_eval_state *s = calloc(1, sizeof(*s));

	if (s)
		s->t = calloc(SLOTS, sizeof(*s->t));
	if (s && !s->t) {
		free(s);
		s = NULL;
	}
	return s;
}

void bh_eval_state_free(struct bh_eval_state *s)
{
	if (s)
		free(s->t);
	free(s);
}

static __u32 hash(const __u8 *k)
{
	__u32 h = 2166136261u;

	for (int i = 0; i < 41; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

static const struct slot *st_get(const struct bh_eval_state *s, const __u8 *k)
{
	if (!s)
		return NULL;
	for (__u32 i = hash(k) & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
		if (!s->t[i].used)
			return NULL;
		if (!memcmp(s->t[i].key, k, 41))
			return &s->t[i];
	}
}

static bool st_has(const struct bh_eval_state *s, const __u8 *k)
{
	return st_get(s, k) != NULL;
}

/* add @k, or set its MAC (@mac NULL: none) */
static void st_put(struct bh_eval_state *s, const __u8 *k, const __u8 *mac)
{
	if (!s)
		return;
	for (__u32 i = hash(k) & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
		if (!s->t[i].used) {
			if (s->n >= SLOTS / 2)
				return;
			s->t[i].used = 1;
			memcpy(s->t[i].key, k, 41);
			s->n++;
		} else if (memcmp(s->t[i].key, k, 41)) {
			continue;
		}
		if (mac)
			memcpy(s->t[i].mac, mac, 6);
		return;
	}
}

static void st_add(struct bh_eval_state *s, const __u8 *k)
{
	st_put(s, k, NULL);
}

/* a flow: kind 'c', proto, sport, dport, saddr, daddr */
static void flow_key(__u8 k[41], __u8 proto, __u16 sp, __u16 dp,
		     const __u8 *src, const __u8 *dst)
{
	memset(k, 0, 41);
	k[0] = 'c';
	k[1] = proto;
	k[2] = (__u8)(sp >> 8);
	k[3] = (__u8)sp;
	k[4] = (__u8)(dp >> 8);
	k[5] = (__u8)dp;
	memcpy(k + 6, src, 16);
	memcpy(k + 22, dst, 16);
}

/* a claimed address: kind 'a', the address */
static void claim_key(__u8 k[41], const __u8 *addr)
{
	memset(k, 0, 41);
	k[0] = 'a';
	memcpy(k + 1, addr, 16);
}

/* a fragmented datagram: kind 'f', src, dst, id, proto (IPv4's protocol;
 * IPv6: the fragment header's next header, alike in every fragment) */
static void frag_key(__u8 k[41], const __u8 *src, const __u8 *dst, __u32 id, __u8 proto)
{
	memset(k, 0, 41);
	k[0] = 'f';
	memcpy(k + 1, src, 16);
	memcpy(k + 17, dst, 16);
	memcpy(k + 33, &id, 4);
	k[37] = proto;
}

/* ---- the parsed frame ------------------------------------------------------- */

struct pkt {
	__u8 smac[6], dmac[6];
	__u16 proto;
	bool v4;
	__u8 saddr[16], daddr[16], target[16];
	__u8 l4proto;
	bool has_l4, has_target, frag_first, frag_later;
	__u16 frag_off8;
	__u32 frag_id;
	__u8 frag_proto;	/* IPv6: the fragment header's next header */
	__u16 sport, dport;
	__u8 tcp_flags, icmp_type;
	bool q_ok;
	__u8 q_proto;
	__u16 q_sport, q_dport;
	__u8 q_saddr[16], q_daddr[16];
};

__u16 bh_be16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

void bh_v4mapped(__u8 out[16], const __u8 *a)
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, a, 4);
}

static bool echo_req(__u8 proto, __u8 t)
{
	return (proto == IPPROTO_ICMP && t == 8) || (proto == IPPROTO_ICMPV6 && t == 128);
}

static bool echo_rep(__u8 proto, __u8 t)
{
	return (proto == IPPROTO_ICMP && t == 0) || (proto == IPPROTO_ICMPV6 && t == 129);
}

static bool icmp_err(__u8 proto, __u8 t)
{
	if (proto == IPPROTO_ICMP)
		return t == 3 || t == 11 || t == 12;
	return proto == IPPROTO_ICMPV6 && t >= 1 && t <= 4;
}

/*
 * 0, or the drop reason; @off is where the L4 header starts, @avail how
 * many L4 bytes the IP header claims (Ethernet padding is not the packet's)
 */
static int parse_l4(struct pkt *k, const __u8 *f, size_t len, size_t off, size_t avail)
{
	size_t need = k->l4proto == IPPROTO_TCP ? 20 : k->l4proto == IPPROTO_UDP ? 8 :
		      (k->l4proto == IPPROTO_ICMP || k->l4proto == IPPROTO_ICMPV6) ? 8 : 0;

	if (off + need > len || (k->l4proto == IPPROTO_TCP && (f[off + 12] >> 4) < 5) ||
	    avail < need)
		return k->frag_first ? BH_R_DROP_FRAG : BH_R_DROP_MALFORMED;
	if (k->l4proto == IPPROTO_TCP || k->l4proto == IPPROTO_UDP) {
		k->sport = bh_be16(f + off);
		k->dport = bh_be16(f + off + 2);
		if (k->l4proto == IPPROTO_TCP)
			k->tcp_flags = f[off + 13];
	} else if (need) {
		k->icmp_type = f[off];
		if (echo_req(k->l4proto, f[off]) || echo_rep(k->l4proto, f[off])) {
			k->sport = k->dport = bh_be16(f + off + 4);
		} else if (k->l4proto == IPPROTO_ICMPV6 &&
			   (f[off] == 135 || f[off] == 136 || f[off] == 137)) {
			if (off + 24 > len || avail < 24)
				return BH_R_DROP_MALFORMED;
			memcpy(k->target, f + off + 8, 16);
			k->has_target = true;
		} else if (icmp_err(k->l4proto, f[off])) {
			size_t q = off + 8;

			if (k->l4proto == IPPROTO_ICMP && q + 20 <= len && (f[q] & 0x0f) == 5) {
				k->q_proto = f[q + 9];
				bh_v4mapped(k->q_saddr, f + q + 12);
				bh_v4mapped(k->q_daddr, f + q + 16);
				q += 20;
			} else if (k->l4proto == IPPROTO_ICMPV6 && q + 40 <= len) {
				k->q_proto = f[q + 6];
				memcpy(k->q_saddr, f + q + 8, 16);
				memcpy(k->q_daddr, f + q + 24, 16);
				q += 40;
			} else {
				q = 0;
			}
			if (q && (k->q_proto == IPPROTO_TCP || k->q_proto == IPPROTO_UDP) &&
			    q + 4 <= len) {
				k->q_sport = bh_be16(f + q);
				k->q_dport = bh_be16(f + q + 2);
				k->q_ok = true;
			}
		}
	}
	k->has_l4 = true;
	return 0;
}

static int parse(struct pkt *k, const __u8 *f, size_t len, bool oob_tag, __u16 oob_vid)
{
	size_t off = 14;
	int tags = 0;
	__u16 proto;

	memset(k, 0, sizeof(*k));
	if (len < 14)
		return BH_R_DROP_MALFORMED;
	memcpy(k->dmac, f, 6);
	memcpy(k->smac, f + 6, 6);
	proto = bh_be16(f + 12);
	if (oob_tag) {
		if (oob_vid & 0xfff)
			return BH_R_DROP_VLAN;
		tags++;
	}
	for (int i = 0; i < 2 && (proto == 0x8100 || proto == 0x88a8); i++) {
		if (off + 4 > len)
			return BH_R_DROP_MALFORMED;
		if ((bh_be16(f + off) & 0xfff) || ++tags > 1)
			return BH_R_DROP_VLAN;
		proto = bh_be16(f + off + 2);
		off += 4;
	}
	if (proto == 0x8100 || proto == 0x88a8)
		return BH_R_DROP_VLAN;
	k->proto = proto;

	if (proto == 0x0806) {
		const __u8 *a = f + off;

		if (off + 28 > len || bh_be16(a) != 1 || bh_be16(a + 2) != 0x0800 || a[4] != 6 ||
		    a[5] != 4 || (bh_be16(a + 6) != 1 && bh_be16(a + 6) != 2))
			return BH_R_DROP_MALFORMED;
		if (memcmp(a + 8, k->smac, 6))
			return BH_R_DROP_SPOOF;
		k->v4 = true;
		bh_v4mapped(k->saddr, a + 14);
		bh_v4mapped(k->daddr, a + 24);
		return 0;
	}
	if (proto == 0x0800) {
		const __u8 *ip = f + off;
		size_t hl;
		__u16 fo;

		if (off + 20 > len || (ip[0] >> 4) != 4 || (ip[0] & 0xf) < 5)
			return BH_R_DROP_MALFORMED;
		hl = (size_t)(ip[0] & 0xf) * 4;
		if (bh_be16(ip + 2) < hl || off + hl > len)
			return BH_R_DROP_MALFORMED;
		k->v4 = true;
		k->l4proto = ip[9];
		bh_v4mapped(k->saddr, ip + 12);
		bh_v4mapped(k->daddr, ip + 16);
		fo = bh_be16(ip + 6);
		k->frag_off8 = fo & 0x1fff;
		k->frag_id = bh_be16(ip + 4);
		if (k->frag_off8)
			k->frag_later = true;
		else if (fo & 0x2000)
			k->frag_first = true;
		if (k->frag_later)
			return 0;
		return parse_l4(k, f, len, off + hl, bh_be16(ip + 2) - hl);
	}
	if (proto == 0x86dd) {
		const __u8 *ip = f + off;
		size_t plen, off0;
		__u8 nh;

		if (off + 40 > len || (ip[0] >> 4) != 6)
			return BH_R_DROP_MALFORMED;
		memcpy(k->saddr, ip + 8, 16);
		memcpy(k->daddr, ip + 24, 16);
		nh = ip[6];
		/* payload length 0 (jumbogram, BIG TCP): the frame bounds it */
		plen = bh_be16(ip + 4) ? bh_be16(ip + 4) : 0xffff;
		off += 40;
		off0 = off;
		for (int i = 0; i < MAX_EXT; i++) {
			const __u8 *h = f + off;
			size_t hlen;

			if (nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60)
				break;
			if (off + 8 > len)
				return BH_R_DROP_MALFORMED;
			if (nh == 44) {
				__u16 x = bh_be16(h + 2);

				k->frag_proto = h[0];
				k->frag_off8 = x >> 3;
				k->frag_id = (__u32)h[4] << 24 | (__u32)h[5] << 16 |
					     (__u32)h[6] << 8 | h[7];
				if (k->frag_off8)
					k->frag_later = true;
				else if (x & 1)
					k->frag_first = true;
				hlen = 8;
			} else if (nh == 51) {
				hlen = ((size_t)h[1] + 2) * 4;
			} else {
				if (nh == 43 && h[2] == 0)
					return BH_R_DROP_EXTHDR;
				hlen = ((size_t)h[1] + 1) * 8;
			}
			nh = h[0];
			if (off + hlen > HDR_MAX)
				return BH_R_DROP_EXTHDR;
			off += hlen;
			if (k->frag_later)
				break;
		}
		if (off > len)
			return BH_R_DROP_MALFORMED;
		k->l4proto = nh;
		if (k->frag_later)
			return 0;
		if (nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60)
			return BH_R_DROP_EXTHDR;
		if (off - off0 > plen)
			return BH_R_DROP_MALFORMED;
		return parse_l4(k, f, len, off, plen - (off - off0));
	}
	if (proto == 0x888e)
		return 0;
	return BH_R_DROP_ETHERTYPE;
}

/* ---- judging ------------------------------------------------------------------- */

struct ctx {
	const struct bh_policy *p;
	const struct bh_env *env;
	struct bh_eval_state *st;
	struct pkt *k;
	int sgroup;
	__u16 sflags;
	__u8 qsrc;		/* as bh_pkt.qsrc: 1 full, 2 lan, 0 */
	bool mcast, dst_gw_mac;
};

static bool mac_in(const __u8 (*set)[6], size_t n, const __u8 *mac)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(set[i], mac, 6))
			return true;
	return false;
}

static bool gw_ip(const struct ctx *c, const __u8 *a)
{
	for (size_t i = 0; i < c->env->n_gw_addrs; i++)
		if (!memcmp(c->env->gw_addrs[i].addr.a, a, 16))
			return true;
	return false;
}

static bool in_prefix(const __u8 *pfx, unsigned int bits, const __u8 *a)
{
	for (unsigned int b = 0; b < bits; b++)
		if ((pfx[b / 8] ^ a[b / 8]) & (0x80 >> (b % 8)))
			return false;
	return true;
}

static bool linklocal6(const __u8 *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

bool bh_lan_addr(const struct bh_gw_addr *gw, size_t n, const __u8 a[16])
{
	for (size_t i = 0; i < n; i++) {
		const struct bh_gw_addr *g = &gw[i];

		if (!g->addr.v4 && linklocal6(g->addr.a))
			continue;
		if (in_prefix(g->addr.a, g->addr.v4 ? 96u + g->plen : g->plen, a))
			return true;
	}
	return false;
}

static bool lan_ip(const struct ctx *c, const __u8 *a)
{
	return bh_lan_addr(c->env->gw_addrs, c->env->n_gw_addrs, a);
}

static const struct bh_member *member_by_mac(const struct bh_policy *p, const __u8 *mac, int *g)
{
	for (size_t i = 0; i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++)
			if (!memcmp(p->groups[i].members[j].mac, mac, 6)) {
				*g = (int)i;
				return &p->groups[i].members[j];
			}
	return NULL;
}

static const struct bh_member *member_by_ip(const struct bh_policy *p, const __u8 *a, int *g)
{
	for (size_t i = 0; i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++)
			for (size_t x = 0; x < p->groups[i].members[j].n_ips; x++)
				if (!memcmp(p->groups[i].members[j].ips[x].a, a, 16)) {
					*g = (int)i;
					return &p->groups[i].members[j];
				}
	return NULL;
}

/* quarantined at any level: no device may reach it */
static bool quarantined(const struct ctx *c, const __u8 *mac)
{
	return mac_in(c->env->quarantined, c->env->n_quarantined, mac) ||
	       mac_in(c->env->quarantined_lan, c->env->n_quarantined_lan, mac);
}

/* the source's level, as the BPF quarantine_level(): 1 full, 2 lan, 0 */
static __u8 quarantine_level(const struct ctx *c, const __u8 *mac)
{
	if (mac_in(c->env->quarantined, c->env->n_quarantined, mac))
		return 1;
	return mac_in(c->env->quarantined_lan, c->env->n_quarantined_lan, mac) ? 2 : 0;
}

/*
 * Addresses of the LAN prefixes and IPv6 link-local ones that nothing
 * binds belong to the first MAC that uses one as its own (no expiry here:
 * a test is over long before a claim would lapse).
 */
static bool claimed_by_another(const struct ctx *c, const __u8 *a, bool v4)
{
	const struct slot *sl;
	__u8 key[41];

	if (!(!v4 && linklocal6(a)) && !lan_ip(c, a))
		return false;
	claim_key(key, a);
	sl = st_get(c->st, key);
	if (sl)
		return memcmp(sl->mac, c->k->smac, 6) != 0;
	st_put(c->st, key, c->k->smac);
	return false;
}

static bool spoofed(const struct ctx *c, const __u8 *a, bool v4)
{
	static const __u8 zero[16];
	const struct bh_member *m;
	int g;

	if (v4 ? !memcmp(a + 12, zero, 4) : !memcmp(a, zero, 16))
		return false;
	if (gw_ip(c, a))
		return true;
	m = member_by_ip(c->p, a, &g);
	if (m)
		return memcmp(m->mac, c->k->smac, 6) != 0;
	if (v4 && (c->sflags & BH_DEV_HAS_V4))
		return true;
	if (!v4 && (c->sflags & BH_DEV_HAS_V6) && !linklocal6(a))
		return true;
	return claimed_by_another(c, a, v4);
}

/* a user rule's from/to against a source group and a destination */
enum dkind { D_GROUP, D_GATEWAY, D_INTERNET, D_MULTICAST };

static bool from_has(const struct bh_rule_def *r, int g)
{
	for (size_t i = 0; i < r->n_from; i++)
		if (r->from[i].kind == BH_T_ANY || r->from[i].group == g)
			return true;
	return false;
}

static bool to_has(const struct bh_rule_def *r, enum dkind dk, int dg, const __u8 *daddr, bool v4)
{
	for (size_t i = 0; i < r->n_to; i++) {
		const struct bh_target *t = &r->to[i];

		switch (t->kind) {
		case BH_T_ANY:
			return true;
		case BH_T_GROUP:
			if (dk == D_GROUP && t->group == dg)
				return true;
			break;
		case BH_T_GATEWAY:
			if (dk == D_GATEWAY)
				return true;
			break;
		case BH_T_MULTICAST:
			if (dk == D_MULTICAST)
				return true;
			break;
		case BH_T_INTERNET:
			if (dk == D_INTERNET)
				return true;
			break;
		case BH_T_CIDR:
			if (dk == D_INTERNET && t->cidr.addr.v4 == v4 &&
			    in_prefix(t->cidr.addr.a, v4 ? 96u + t->cidr.plen : t->cidr.plen, daddr))
				return true;
			break;
		}
	}
	return false;
}

/* groups a and b may ARP / ND each other */
static bool talk(const struct bh_policy *p, int a, int b)
{
	if (p->east_west == BH_ACT_ALLOW)
		return true;
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct bh_rule_def *r = &p->rules[i];

		if (r->action != BH_ACT_ALLOW)
			continue;
		if ((from_has(r, a) && to_has(r, D_GROUP, b, NULL, false)) ||
		    (from_has(r, b) && to_has(r, D_GROUP, a, NULL, false)))
			return true;
	}
	return false;
}

#define SOME_GROUP	(-2)	/* a group-addressed request for an unbound address */

/* a talks to some group (b == SOME_GROUP), or to b */
static bool talk_to(const struct bh_policy *p, int a, int b)
{
	if (b != SOME_GROUP)
		return talk(p, a, b);
	for (size_t g = 0; g < p->n_groups; g++)
		if (talk(p, a, (int)g))
			return true;
	return false;
}

static int peer_group(const struct ctx *c, const __u8 *addr, int *g)
{
	const struct bh_member *m = member_by_ip(c->p, addr, g);

	if (m)
		return quarantined(c, m->mac) ? -1 : 0;
	if (!c->mcast) {
		if (!member_by_mac(c->p, c->k->dmac, g))
			*g = c->p->unknown_group;
		return 0;
	}
	/* the egress of each port judges the copies (talk per device) */
	*g = SOME_GROUP;
	return 0;
}

static void set(struct bh_eval_result *r, int pass, int reason, int rule, const char *why)
{
	r->pass = pass;
	r->reason = reason;
	r->rule = rule;
	r->why = why;
}

/*
 * Audit (staging): the policy drops the frame from c->sgroup to group @dg
 * (-1 or a pseudo group: none); defaults.mode: audit or an audited group
 * at either end passes it as pass_audit (r->why still says why the policy
 * drops it). Integrity drops never get here.
 */
static void policy_drop(struct ctx *c, struct bh_eval_result *r, int dg, int reason,
			int rule, const char *why)
{
	const struct bh_policy *p = c->p;

	if (p->audit || p->groups[c->sgroup].audit ||
	    (dg >= 0 && (size_t)dg < p->n_groups && p->groups[dg].audit))
		return set(r, 1, BH_R_PASS_AUDIT, rule, why);	/* why it would be dropped */
	set(r, 0, reason, rule, why);
}

static void judge_arp(struct ctx *c, struct bh_eval_result *r)
{
	struct pkt *k = c->k;
	int tg;

	if (spoofed(c, k->saddr, true))
		return set(r, 0, BH_R_DROP_SPOOF, -1, "ARP sender address belongs to another device or the gateway");
	if (gw_ip(c, k->daddr) || c->dst_gw_mac)
		return set(r, 1, BH_R_PASS_ARP, -1, "ARP with the gateway");
	if (c->qsrc)
		return set(r, 0, BH_R_DROP_QUARANTINE, -1, "source quarantined");
	if (memcmp(k->saddr + 12, "\0\0\0\0", 4) && !memcmp(k->saddr, k->daddr, 16))
		return set(r, 1, BH_R_PASS_ARP, -1, "gratuitous ARP for its own address");
	if (peer_group(c, k->daddr, &tg))
		return set(r, 0, BH_R_DROP_QUARANTINE, -1, "ARP for a quarantined device");
	if (talk_to(c->p, c->sgroup, tg))
		return set(r, 1, BH_R_PASS_ARP, -1, tg == SOME_GROUP ?
			   "ARP request for an address no device is bound to; each port lets it out to the devices the sender may talk to" :
			   "ARP between groups that may talk");
	policy_drop(c, r, tg, BH_R_DROP_DEFAULT, -1, "ARP between groups that may not talk");
}

/* 1 when decided here */
static int judge_nd(struct ctx *c, struct bh_eval_result *r)
{
	static const __u8 zero[16];
	struct pkt *k = c->k;
	int tg;

	switch (k->icmp_type) {
	case 134: case 137: case 130:
		set(r, 0, BH_R_DROP_ROGUE, -1, "router advertisement, redirect or MLD query from a device");
		return 1;
	case 133:
		set(r, 1, BH_R_PASS_ND, -1, "router solicitation");
		return 1;
	case 131: case 132: case 143:
		if (c->qsrc)
			set(r, 0, BH_R_DROP_QUARANTINE, -1, "source quarantined");
		else
			set(r, 1, BH_R_PASS_ND, -1, "MLD report");
		return 1;
	case 135: case 136:
		break;
	default:
		return 0;
	}
	if (!k->has_target) {
		set(r, 0, BH_R_DROP_MALFORMED, -1, "ND without a target");
		return 1;
	}
	if (k->icmp_type == 135) {
		if (!memcmp(k->saddr, zero, 16) || gw_ip(c, k->target)) {
			set(r, 1, BH_R_PASS_ND, -1, "DAD or a solicitation for the gateway");
			return 1;
		}
	} else {
		if (spoofed(c, k->target, false)) {
			set(r, 0, BH_R_DROP_SPOOF, -1, "advertisement of another device's address");
			return 1;
		}
		if (c->dst_gw_mac || gw_ip(c, k->daddr)) {
			set(r, 1, BH_R_PASS_ND, -1, "advertisement to the gateway");
			return 1;
		}
		if (!c->qsrc && c->mcast) {
			set(r, 1, BH_R_PASS_ND, -1, "unsolicited advertisement of its own address");
			return 1;
		}
	}
	if (c->qsrc) {
		set(r, 0, BH_R_DROP_QUARANTINE, -1, "source quarantined");
		return 1;
	}
	if (peer_group(c, k->icmp_type == 135 ? k->target : k->daddr, &tg))
		set(r, 0, BH_R_DROP_QUARANTINE, -1, "ND with a quarantined device");
	else if (talk_to(c->p, c->sgroup, tg))
		set(r, 1, BH_R_PASS_ND, -1, tg == SOME_GROUP ?
		    "solicitation for an address no device is bound to; each port lets it out to the devices the sender may talk to" :
		    "ND between groups that may talk");
	else
		policy_drop(c, r, tg, BH_R_DROP_DEFAULT, -1, "ND between groups that may not talk");
	return 1;
}

static bool port_match(const struct bh_rule_def *r, __u8 proto, __u16 port)
{
	if (r->proto == BH_PROTO_ANY)
		return true;
	if (r->proto != proto)
		return false;
	if (!r->n_ports)
		return true;
	for (size_t i = 0; i < r->n_ports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

/* a tracked flow, and the frame goes to the MAC that opened it */
static bool answers(const struct ctx *c, const __u8 *key)
{
	const struct slot *sl = st_get(c->st, key);

	return sl && !memcmp(sl->mac, c->k->dmac, 6);
}

static bool reply(const struct ctx *c)
{
	const struct pkt *k = c->k;
	__u8 key[41];

	if (!k->has_l4)
		return false;
	if (k->l4proto == IPPROTO_TCP) {
		if ((k->tcp_flags & 0x02) && !(k->tcp_flags & 0x10))
			return false;
	} else if (k->l4proto == IPPROTO_ICMP || k->l4proto == IPPROTO_ICMPV6) {
		if (icmp_err(k->l4proto, k->icmp_type)) {
			/* from the quoted packet's destination to its source */
			if (!k->q_ok || memcmp(k->q_saddr, k->daddr, 16) ||
			    memcmp(k->q_daddr, k->saddr, 16))
				return false;
			flow_key(key, k->q_proto, k->q_sport, k->q_dport, k->q_saddr, k->q_daddr);
			return answers(c, key);
		}
		if (!echo_rep(k->l4proto, k->icmp_type))
			return false;
	}
	flow_key(key, k->l4proto, k->dport, k->sport, k->daddr, k->saddr);
	return answers(c, key);
}

/* a first fragment passed: the rest of its datagram may follow */
static void frag_pass(struct ctx *c)
{
	const struct pkt *k = c->k;
	__u8 key[41];

	frag_key(key, k->saddr, k->daddr, k->frag_id, k->v4 ? k->l4proto : k->frag_proto);
	st_add(c->st, key);
}

static void judge_ip(struct ctx *c, struct bh_eval_result *r)
{
	const struct bh_policy *p = c->p;
	struct pkt *k = c->k;
	enum dkind dk = D_INTERNET;
	int dg = -1, deny = -1, allow = -1, def;
	const char *why;
	__u16 port;
	__u8 key[41];

	if (spoofed(c, k->saddr, k->v4))
		return set(r, 0, BH_R_DROP_SPOOF, -1, "source address belongs to another device or the gateway");
	if (k->frag_later) {
		if (k->v4 && k->l4proto == IPPROTO_TCP && k->frag_off8 < 3)
			return set(r, 0, BH_R_DROP_FRAG, -1, "fragment overlapping the TCP header");
		if (c->qsrc == 1)
			return set(r, 0, BH_R_DROP_QUARANTINE, -1, "source quarantined");
		frag_key(key, k->saddr, k->daddr, k->frag_id, k->v4 ? k->l4proto : k->frag_proto);
		if (st_has(c->st, key))
			return set(r, 1, BH_R_PASS_FRAG, -1, "later fragment of an allowed datagram");
		return set(r, 0, BH_R_DROP_FRAG, -1, "fragment whose first fragment did not pass");
	}
	if (k->l4proto == IPPROTO_UDP &&
	    ((k->v4 && k->sport == 67 && k->dport == 68) ||
	     (!k->v4 && k->sport == 547 && k->dport == 546)))
		return set(r, 0, BH_R_DROP_ROGUE, -1, "DHCP server traffic from a device");
	if (k->l4proto == IPPROTO_ICMPV6 && !k->v4 && judge_nd(c, r))
		return;

	/* where it goes */
	if (c->mcast && gw_ip(c, k->daddr)) {
		/* a group-addressed frame is judged by its unicast IP destination */
		dk = D_GATEWAY;
	} else if (c->mcast && member_by_ip(p, k->daddr, &dg)) {
		const struct bh_member *m = member_by_ip(p, k->daddr, &dg);

		if (quarantined(c, m->mac))
			return set(r, 0, BH_R_DROP_QUARANTINE, -1, "destination quarantined");
		dk = D_GROUP;
	} else if (c->mcast) {
		if (k->has_l4 && k->l4proto == IPPROTO_UDP &&
		    ((k->v4 && k->dport == 67) || (!k->v4 && k->dport == 547)))
			dk = D_GATEWAY;
		else
			dk = D_MULTICAST;
	} else if (!c->dst_gw_mac) {
		dk = D_GROUP;
		if (!member_by_mac(p, k->dmac, &dg))
			dg = p->unknown_group;
	} else if (gw_ip(c, k->daddr)) {
		dk = D_GATEWAY;
	} else {
		const struct bh_member *m = member_by_ip(p, k->daddr, &dg);

		if (m) {
			if (quarantined(c, m->mac))
				return set(r, 0, BH_R_DROP_QUARANTINE, -1, "destination quarantined");
			dk = D_GROUP;
		} else if (lan_ip(c, k->daddr)) {
			dk = D_GROUP;
			dg = p->unknown_group;
		}
	}
	port = (k->l4proto == IPPROTO_TCP || k->l4proto == IPPROTO_UDP) ? k->dport : 0;

	/* at level lan the internet is judged by the policy as before */
	if (c->qsrc && !(c->qsrc == 2 && dk == D_INTERNET)) {
		__u16 q = p->qallow;
		bool ok = dk == D_GATEWAY && k->has_l4 &&
			  ((k->l4proto == IPPROTO_UDP && (port == 67 || port == 547) && (q & BH_SVC_DHCP)) ||
			   (k->l4proto == IPPROTO_UDP && port == 123 && (q & BH_SVC_NTP)) ||
			   ((k->l4proto == IPPROTO_UDP || k->l4proto == IPPROTO_TCP) && port == 53 &&
			    (q & BH_SVC_DNS)) ||
			   ((echo_req(k->l4proto, k->icmp_type) || echo_rep(k->l4proto, k->icmp_type)) &&
			    (q & BH_SVC_ICMP)));

		return ok ? set(r, 1, BH_R_PASS_QSVC, -1, "quarantine.allow service on the gateway") :
			    set(r, 0, BH_R_DROP_QUARANTINE, -1, "source quarantined");
	}
	/* the blocklist: internet destinations only, before any rule */
	if (dk == D_INTERNET && c->env->blocked && c->env->blocked(c->env->blocked_arg, k->daddr))
		return set(r, 0, BH_R_DROP_BLOCK, -1,
			   "the destination is on the blocklist (detect.blocklist), whatever the rules say");

	/* the rules: deny wins, else the first allow */
	for (size_t i = 0; i < p->n_rules && deny < 0; i++) {
		const struct bh_rule_def *ru = &p->rules[i];

		if (!from_has(ru, c->sgroup) || !to_has(ru, dk, dg, k->daddr, k->v4) ||
		    !port_match(ru, k->l4proto, port))
			continue;
		if (ru->action == BH_ACT_DENY)
			deny = (int)i;
		else if (allow < 0)
			allow = (int)i;
	}
	if (deny < 0 && allow < 0 && dk == D_GATEWAY) {
		if (k->l4proto == IPPROTO_UDP && (port == 67 || port == 547))
			allow = (int)p->n_rules;		/* built-in: dhcp */
		else if ((k->l4proto == IPPROTO_UDP || k->l4proto == IPPROTO_TCP) && port == 53)
			allow = (int)p->n_rules + 1;		/* built-in: dns */
	}
	if (deny < 0 && allow >= 0) {
		flow_key(key, k->l4proto, k->sport, k->dport, k->saddr, k->daddr);
		st_put(c->st, key, k->smac);
		if (k->frag_first)
			frag_pass(c);
		return set(r, 1, BH_R_PASS_RULE, allow, "allowed by a rule");
	}
	switch (dk) {
	case D_GROUP:
		def = p->east_west;
		why = def == BH_ACT_ALLOW ? "no rule matches; defaults.east_west is allow" :
					    "no rule allows it; defaults.east_west is deny";
		break;
	case D_GATEWAY:
		def = p->gateway;
		why = def == BH_ACT_ALLOW ? "no rule matches; defaults.gateway is allow" :
					    "no rule allows it; defaults.gateway is deny";
		break;
	case D_INTERNET:
		def = p->groups[c->sgroup].internet >= 0 ? p->groups[c->sgroup].internet :
							   p->internet;
		why = def == BH_ACT_ALLOW ? "no rule matches; the group's internet default is allow" :
					    "no rule allows it; the group's internet default is deny";
		break;
	default:
		def = BH_ACT_DENY;
		why = "no rule allows this broadcast or multicast";
	}
	if (deny < 0) {
		if (def == BH_ACT_ALLOW) {
			flow_key(key, k->l4proto, k->sport, k->dport, k->saddr, k->daddr);
			st_put(c->st, key, k->smac);
			if (k->frag_first)
				frag_pass(c);
			return set(r, 1, BH_R_PASS_DEFAULT, -1, why);
		}
	}
	if (reply(c)) {
		if (k->frag_first)
			frag_pass(c);
		return set(r, 1, BH_R_PASS_REPLY, -1, "reply to a tracked flow");
	}
	if (deny >= 0)
		why = "denied by a rule";
	policy_drop(c, r, dk == D_GROUP ? dg : -1, deny >= 0 ? BH_R_DROP_RULE : BH_R_DROP_DEFAULT,
		    deny, why);
	if (r->reason != BH_R_PASS_AUDIT)
		return;
	/* passed as if allowed: tracked, so its replies are replies (not a
	 * frame that is its own reverse: it would answer itself) */
	if (memcmp(k->saddr, k->daddr, 16) || k->sport != k->dport) {
		flow_key(key, k->l4proto, k->sport, k->dport, k->saddr, k->daddr);
		st_put(c->st, key, k->smac);
	}
	if (k->frag_first)
		frag_pass(c);
}

void bh_eval_frame(const struct bh_policy *p, const struct bh_env *env,
		   struct bh_eval_state *st, const void *frame, size_t len,
		   struct bh_eval_result *r)
{
	struct pkt k;
	struct ctx c = { .p = p, .env = env, .st = st, .k = &k };
	const struct bh_member *m;
	int reason;

	reason = parse(&k, frame, len, false, 0);
	if (reason)
		return set(r, 0, reason, -1, "the frame cannot be judged");
	if (k.smac[0] & 1)
		return set(r, 0, BH_R_DROP_MALFORMED, -1, "group address as source");
	if (mac_in(env->gw_macs, env->n_gw_macs, k.smac))
		return set(r, 0, BH_R_DROP_SPOOF, -1, "a device sending with the gateway's MAC");
	m = member_by_mac(p, k.smac, &c.sgroup);
	if (!m) {
		c.sgroup = p->unknown_group;
	} else {
		for (size_t i = 0; i < m->n_ips; i++) {
			if (m->ips[i].v4)
				c.sflags |= BH_DEV_HAS_V4;
			else if (!linklocal6(m->ips[i].a))
				c.sflags |= BH_DEV_HAS_V6;
		}
	}
	c.qsrc = quarantine_level(&c, k.smac);
	c.mcast = k.dmac[0] & 1;
	if (!c.mcast) {
		c.dst_gw_mac = mac_in(env->gw_macs, env->n_gw_macs, k.dmac);
		if (!c.dst_gw_mac && quarantined(&c, k.dmac))
			return set(r, 0, BH_R_DROP_QUARANTINE, -1, "destination quarantined");
	}
	switch (k.proto) {
	case 0x0806:
		return judge_arp(&c, r);
	case 0x0800:
	case 0x86dd:
		return judge_ip(&c, r);
	default:	/* EAPOL */
		if (c.dst_gw_mac || !memcmp(k.dmac, "\x01\x80\xc2\x00\x00\x03", 6))
			return set(r, 1, BH_R_PASS_EAPOL, -1, "802.1X to the gateway");
		return set(r, 0, BH_R_DROP_ETHERTYPE, -1, "802.1X not for the gateway");
	}
}
