// SPDX-License-Identifier: GPL-2.0
/*
 * nft_inet.c - table inet bulkhead (--mode nft): IP from a device port,
 * judged on the prerouting hook after conntrack and reassembly. Chain
 * judge: source address binding, rogue DHCP / RA, neighbour discovery
 * (nd_judge), quarantine, ICMP errors about an east-west flow (rel_<g>),
 * replies, then one chain per kind of destination (to_<group>,
 * to_gateway, to_lan, to_internet, to_multicast) with the policy's
 * entries toward it and the destination's default. See nft_policy.c.
 */
#include <net/if.h>	/* before the linux/ headers that pull linux/if.h */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_ipv4.h>

#include "nft_policy.h"
#include "../bpf/bulkhead_abi.h"

#define PRIO_INET_PRE	(-150)		/* after conntrack (-200), before dnat (-100) */

/* ---- what a quarantined device may still use ---------------------------------- */

struct port_arg {
	int pf;			/* NFPROTO_*, or -1: any */
	__u8 proto;
	int sport, dport;	/* -1: any */
	int icmp_type;		/* -1: any */
	const char *dst_set;	/* destination address in this set */
	int mcast;		/* 1: group-addressed frame, 0: any */
};

static void add_port(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	const struct port_arg *a = arg;

	if (a->pf >= 0)
		nft_match_nfproto(r, (__u8)a->pf);
	if (a->dst_set)
		nft_match_in_set(r, t, NET_HDR, nft_ip_addr_offset(a->pf == NFPROTO_IPV4, true),
		       a->pf == NFPROTO_IPV4 ? 4 : 16, a->dst_set, false);
	if (a->mcast)
		nft_match_group_addressed(r, true);
	nft_match_l4proto(r, a->proto);
	if (a->sport >= 0) {
		__be16 p = htons((__u16)a->sport);

		expr_payload(r, TRANSPORT_HDR, 0, 2, REG32(8));
		expr_cmp(r, REG32(8), NFT_CMP_EQ, &p, 2);
	}
	if (a->dport >= 0) {
		__be16 p = htons((__u16)a->dport);

		expr_payload(r, TRANSPORT_HDR, 2, 2, REG32(8));
		expr_cmp(r, REG32(8), NFT_CMP_EQ, &p, 2);
	}
	if (a->icmp_type >= 0) {
		expr_payload(r, TRANSPORT_HDR, 0, 1, REG32(8));
		expr_cmp_u8(r, REG32(8), NFT_CMP_EQ, (__u8)a->icmp_type);
	}
}

/* what a quarantined device may still use, on the gateway */
static void quarantined_chain(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	const char *ch = "quarantined";
	__u16 q = s->qallow;

	for (int v4 = 1; v4 >= 0; v4--) {
		int pf = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
		const char *gws = v4 ? "gw4" : "gw6";
		struct port_arg a = { .pf = pf, .sport = -1, .icmp_type = -1, .dst_set = gws };

		if (q & BH_SVC_DHCP) {
			a.proto = IPPROTO_UDP;
			a.dport = v4 ? 67 : 547;
			nft_add_rule(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
			a.dst_set = NULL;
			a.mcast = 1;
			nft_add_rule(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
			a.dst_set = gws;
			a.mcast = 0;
		}
		if (q & BH_SVC_DNS) {
			a.dport = 53;
			a.proto = IPPROTO_UDP;
			nft_add_rule(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
			a.proto = IPPROTO_TCP;
			nft_add_rule(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
		}
		if (q & BH_SVC_NTP) {
			a.dport = 123;
			a.proto = IPPROTO_UDP;
			nft_add_rule(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
		}
		if (q & BH_SVC_ICMP) {
			a.dport = -1;
			a.proto = v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
			a.icmp_type = v4 ? 8 : 128;
			nft_add_rule(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
			a.icmp_type = v4 ? 0 : 129;
			nft_add_rule(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
			a.icmp_type = -1;
		}
	}
	nft_add_rule(t, ch, "drop_quarantine", NF_DROP, NULL, NULL);
}

struct icmp6_arg {
	int type;
	bool quarantined;	/* the source is quarantined */
};

static void add_icmp6_type(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	const struct icmp6_arg *a = arg;

	nft_load_payload(r, t, TRANSPORT_HDR, 0, 1, REG32(8));
	expr_cmp_u8(r, REG32(8), NFT_CMP_EQ, (__u8)a->type);
	if (a->quarantined)
		nft_match_in_set(r, t, LINK_HDR, 6, 6, "quarantine", false);
}

static void add_quarantined(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	(void)arg;
	nft_match_in_set(r, t, LINK_HDR, 6, 6, "quarantine", false);
}

/* ---- destinations -------------------------------------------------------------- */

static void rule_chains(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	for (size_t id = 0; id < s->c->n_rules; id++) {
		bool deny = false;
		char chain[32];
		struct nftnl_rule *r;

		for (size_t i = 0; i < s->c->n_pols; i++)
			if (s->c->pols[i].v.rule_id == id)
				deny = s->c->pols[i].v.action == BH_ACT_DENY;
		nft_rule_chain_name(chain, sizeof(chain), (__u32)id);
		nft_chain(t, chain, -1, 0);
		nft_counter_obj(t, chain);
		r = nft_rule(t, chain);
		expr_counter_ref(r, chain);
		if (deny) {
			nft_rule_commit(t, r);
			nft_det_deny_rule(t, s, chain, nft_det_rule_inet(s, (__u32)id));
			nft_audit_head(t, s, chain, BH_R_DROP_RULE, (__u32)id, true);
			nft_drop_tail(t, chain, BH_R_DROP_RULE, (__u32)id);
			continue;
		}
		nft_counted_verdict(r, "pass_rule", NF_ACCEPT);
		nft_rule_commit(t, r);
	}
}

static void pair_rules_to(struct nft_tbl *t, const struct bh_nft_spec *s, __u32 dg,
			  const char *chain)
{
	for (__u32 sg = 0; sg < s->p->n_groups; sg++)
		if (nft_has_entries(s, sg, dg))
			nft_pair_rules(t, s, chain, sg, dg, false);
}

/* @inet: toward the internet (a denied attempt there is no scan) */
static void default_verdict(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain,
			    bool allow, bool inet)
{
	if (!allow)
		nft_det_deny_rule(t, s, chain, inet);
	nft_add_rule(t, chain, allow ? "pass_default" : "drop_default",
	       allow ? NF_ACCEPT : NF_DROP, NULL, NULL);
}

/* the source group of each internet prefix, and the prefix itself */
struct ip_prefix {
	__u32 sg;
	const __u8 *addr;
	__u8 plen;
	bool v4;
};

static void match_ip_prefix(struct nftnl_rule *r, const struct ip_prefix *p)
{
	__u8 mask[16] = {}, net[16];
	__u32 len = p->v4 ? 4 : 16;

	nft_match_nfproto(r, p->v4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	for (unsigned int b = 0; b < p->plen; b++)
		mask[b / 8] |= (__u8)(0x80 >> (b % 8));
	for (unsigned int i = 0; i < len; i++)
		net[i] = p->addr[i] & mask[i];
	expr_payload(r, NET_HDR, p->v4 ? 16 : 24, len, REG32(8));
	expr_mask(r, REG32(8), len, mask);
	expr_cmp(r, REG32(8), NFT_CMP_EQ, net, len);
}

/*
 * Who opened a flow: a new flow's first frame from a device port writes
 * the source MAC into the conntrack's labels (bytes 0-5, the rest zero).
 * A reply passes as a reply only to that MAC (the BPF modes' rule,
 * bpf/lib/ct.h): map reply_to sends a reply to a device of the policy to
 * chain reply_<its MAC>, which passes it when the labels hold that MAC;
 * set known_labels holds each device's labels. A reply to a device that
 * did not open the flow, whose opener was a device of the policy, is
 * judged as a new flow. A flow opened by no device of the policy (an
 * unknown MAC, the gateway, the internet) or before the labels (labels
 * 0) is not checked. nft lists a concatenation of labels and a MAC only
 * by crashing, hence a chain a device and not one set of pairs.
 */
#define OPENER_LEN	16	/* NF_CT_LABELS_MAX_SIZE */

static void opener_chain_name(const __u8 mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "reply_%02x%02x%02x%02x%02x%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

/* the chains of the devices and their map, set known_labels */
static void opener_chains(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	for (size_t i = 0; i < s->c->n_devs; i++) {
		char chain[32];

		opener_chain_name(s->c->devs[i].k.mac, chain, sizeof(chain));
		nft_chain(t, chain, -1, 0);
	}
}

static void opener_sets(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_set *map = nft_set_new(t, "reply_to", NFT_T_ETHERADDR, 6, 0, NFT_T_VERDICT, 0);
	/* 16 bytes nft lists as an IPv6 address: 200:0:11:: is 02:00:00:00:00:11 */
	struct nftnl_set *known = nft_set_new(t, "known_labels", NFT_T_IP6ADDR, OPENER_LEN,
					      0, 0, 0);
	__u8 k[OPENER_LEN];

	for (size_t i = 0; i < s->c->n_devs; i++) {
		const __u8 *mac = s->c->devs[i].k.mac;
		struct nftnl_rule *r;
		char chain[32];

		opener_chain_name(mac, chain, sizeof(chain));
		nft_elem_verdict(map, mac, 6, NFT_JUMP, chain);
		memset(k, 0, sizeof(k));
		memcpy(k, mac, 6);
		nft_elem(known, k, OPENER_LEN, NULL, 0);
		r = nft_rule(t, chain);
		expr_ct_load(r, NFT_CT_LABELS, REG32(8));
		expr_cmp(r, REG32(8), NFT_CMP_EQ, k, OPENER_LEN);
		nft_counted_verdict(r, "pass_reply", NF_ACCEPT);
		nft_rule_commit(t, r);
	}
	nft_set_commit(t, map);
	nft_set_commit(t, known);
}

/* ct direction original ct state new: ct label set ether saddr */
static void opener_label_rule(struct nft_tbl *t, const char *ch)
{
	struct nftnl_rule *r = nft_rule(t, ch);

	nft_match_ct(r, IP_CT_DIR_ORIGINAL, NF_CT_STATE_BIT(IP_CT_NEW));
	/* a new conntrack's labels are zero: 6 bytes of MAC over them */
	expr_ct_load(r, NFT_CT_LABELS, REG32(8));
	expr_payload(r, LINK_HDR, 6, 6, REG32(8));
	expr_ct_store(r, NFT_CT_LABELS, REG32(8));
	nft_rule_commit(t, r);
}

/* replies to a tracked flow (and ICMP errors about it), to its opener */
static void reply_rules(struct nft_tbl *t, const char *ch)
{
	__u32 bits = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	struct nftnl_rule *r;

	/* to a device of the policy: its chain passes it if it opened it */
	r = nft_rule(t, ch);
	nft_match_ct(r, IP_CT_DIR_REPLY, bits);
	expr_payload(r, LINK_HDR, 0, 6, REG32(8));
	expr_lookup(r, t, "reply_to", REG32(8), NFT_REG_VERDICT, false);
	nft_rule_commit(t, r);
	/* opened by no device of the policy (or unlabelled): as before */
	r = nft_rule(t, ch);
	nft_match_ct(r, IP_CT_DIR_REPLY, bits);
	expr_ct_load(r, NFT_CT_LABELS, REG32(8));
	expr_lookup(r, t, "known_labels", REG32(8), -1, true);
	nft_counted_verdict(r, "pass_reply", NF_ACCEPT);
	nft_rule_commit(t, r);
}

/*
 * The flow goes to device group @g: its conntrack mark's Bulkhead bits
 * say so (ct mark set ct mark & 0xffff | (g + 1) << 16), for the ICMP
 * errors about it (related_chains).
 */
static void ctmark_rule(struct nft_tbl *t, const char *chain, __u32 g)
{
	__u32 keep = ~BH_NFT_CTMARK_MASK, val = (g + 1) << BH_NFT_CTMARK_SHIFT;
	struct nftnl_rule *r = nft_rule(t, chain);

	expr_ct_load(r, NFT_CT_MARK, REG32(8));
	expr_bitwise(r, REG32(8), 4, &keep, &val);
	expr_ct_store(r, NFT_CT_MARK, REG32(8));
	nft_rule_commit(t, r);
}

/*
 * An ICMP error related to a flow toward device group g, on its way to the
 * initiator: map rel_mark (the mark's Bulkhead bits -> chain rel_<g>)
 * lets it pass from a device of group g only (the responder's group; the
 * source binding and claims make its address the sender's own); from any
 * other device it is drop_spoof. A flow not marked (to the gateway or the
 * internet, or opened by the gateway) is not in the map: the reply rule
 * judges its errors as before.
 */
static void related_chains(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_set *map = nft_set_new(t, "rel_mark", NFT_T_MARK, 4, 0, NFT_T_VERDICT, 0);
	char chain[64];

	for (__u32 g = 0; g < s->p->n_groups; g++) {
		__u32 val = (g + 1) << BH_NFT_CTMARK_SHIFT;

		nft_group_obj_name(s, "rel_", g, NULL, chain, sizeof(chain));
		nft_elem_verdict(map, &val, 4, NFT_GOTO, chain);
		for (int v = 0; v < nft_src_variants(s, g); v++) {
			struct nftnl_rule *r = nft_rule(t, chain);

			nft_match_src_group(r, t, s, g, v);
			nft_counted_verdict(r, "pass_reply", NF_ACCEPT);
			nft_rule_commit(t, r);
		}
		nft_add_rule(t, chain, "drop_spoof", NF_DROP, NULL, NULL);
	}
	nft_set_commit(t, map);
}

static void destination_chains(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	bool ew = s->c->cfg.flags & BH_CFG_EW_ALLOW, gw = s->c->cfg.flags & BH_CFG_GW_ALLOW;
	char chain[64];

	for (__u32 g = 0; g < s->p->n_groups; g++) {
		nft_group_obj_name(s, "to_", g, NULL, chain, sizeof(chain));
		ctmark_rule(t, chain, g);
		pair_rules_to(t, s, g, chain);
		default_verdict(t, s, chain, ew, false);
	}
	pair_rules_to(t, s, BH_GRP_GATEWAY, "to_gateway");
	default_verdict(t, s, "to_gateway", gw, false);
	pair_rules_to(t, s, BH_GRP_MULTICAST, "to_multicast");
	default_verdict(t, s, "to_multicast", false, false);

	/* the internet: the blocklist, then the source group's prefixes, longest first */
	nft_det_block_rules(t, s, "internet");
	for (size_t i = 0; i < s->c->n_inets; i++) {
		__u32 dg = s->c->inets[i].v.dgroup;

		nft_group_obj_name(s, "to_", dg, NULL, chain, sizeof(chain));
		nft_pair_rules(t, s, chain, s->c->inets[i].k.sgroup, dg, false);
	}
	for (int plen = 128; plen >= 0; plen--) {
		for (size_t i = 0; i < s->c->n_inets; i++) {
			const struct bh_inet_ent *e = &s->c->inets[i];
			unsigned int bits = e->k.prefixlen - BH_INET_KEY_HDR_BITS;
			bool v4 = nft_is_v4_mapped(e->k.addr) && bits >= 96;
			struct ip_prefix pre = {
				.sg = e->k.sgroup, .v4 = v4,
				.addr = v4 ? e->k.addr + 12 : e->k.addr,
				.plen = (__u8)(v4 ? bits - 96 : bits),
			};
			struct nftnl_rule *r;

			if (pre.plen != plen)
				continue;
			for (int v = 0; v < nft_src_variants(s, pre.sg); v++) {
				r = nft_rule(t, "internet");
				match_ip_prefix(r, &pre);
				nft_match_src_group(r, t, s, pre.sg, v);
				nft_group_obj_name(s, "to_", e->v.dgroup, NULL, chain, sizeof(chain));
				expr_verdict(r, NFT_JUMP, chain);
				nft_rule_commit(t, r);
			}
		}
	}
	{
		struct nftnl_rule *r = nft_rule(t, "internet");

		expr_verdict(r, NFT_GOTO, "to_internet");
		nft_rule_commit(t, r);
	}
	pair_rules_to(t, s, BH_GRP_INTERNET, "to_internet");
	for (__u32 g = 0; g < s->p->n_groups; g++) {
		if (s->c->groups[g].internet != BH_ACT_ALLOW)
			continue;
		for (int v = 0; v < nft_src_variants(s, g); v++) {
			struct nftnl_rule *r = nft_rule(t, "to_internet");

			nft_match_src_group(r, t, s, g, v);
			nft_counted_verdict(r, "pass_default", NF_ACCEPT);
			nft_rule_commit(t, r);
		}
	}
	default_verdict(t, s, "to_internet", false, true);
}

/* ---- neighbour discovery --------------------------------------------------------- */

static void nd_chain(struct nft_tbl *t)
{
	static const __u8 zero[16];
	const char *ch = "nd_judge";
	struct icmp6_arg a = {};
	struct nftnl_rule *r;
	__u8 type;

	for (size_t i = 0; i < 3; i++) {
		static const int rogue[] = { 134, 137, 130 };

		a.type = rogue[i];
		nft_add_rule(t, ch, "drop_rogue", NF_DROP, add_icmp6_type, &a);
	}
	a.type = 133;
	nft_add_rule(t, ch, "pass_nd", NF_ACCEPT, add_icmp6_type, &a);
	for (size_t i = 0; i < 3; i++) {
		static const int mld[] = { 131, 132, 143 };

		a.type = mld[i];
		a.quarantined = true;
		nft_add_rule(t, ch, "drop_quarantine", NF_DROP, add_icmp6_type, &a);
		a.quarantined = false;
		nft_add_rule(t, ch, "pass_nd", NF_ACCEPT, add_icmp6_type, &a);
	}
	/* not a solicitation or an advertisement: judged as any IP */
	r = nft_rule(t, ch);
	nft_load_payload(r, t, TRANSPORT_HDR, 0, 1, REG32(8));
	type = 135;
	expr_cmp(r, REG32(8), NFT_CMP_LT, &type, 1);
	expr_verdict(r, NFT_RETURN, NULL);
	nft_rule_commit(t, r);
	r = nft_rule(t, ch);
	nft_load_payload(r, t, TRANSPORT_HDR, 0, 1, REG32(8));
	type = 136;
	expr_cmp(r, REG32(8), NFT_CMP_GT, &type, 1);
	expr_verdict(r, NFT_RETURN, NULL);
	nft_rule_commit(t, r);

	/* NS: duplicate address detection, or for the gateway */
	r = nft_rule(t, ch);
	nft_load_payload(r, t, TRANSPORT_HDR, 0, 1, REG32(8));
	expr_cmp_u8(r, REG32(8), NFT_CMP_EQ, 135);
	nft_load_payload(r, t, NET_HDR, 8, 16, REG32(8));
	expr_cmp(r, REG32(8), NFT_CMP_EQ, zero, 16);
	nft_counted_verdict(r, "pass_nd", NF_ACCEPT);
	nft_rule_commit(t, r);
	r = nft_rule(t, ch);
	nft_load_payload(r, t, TRANSPORT_HDR, 0, 1, REG32(8));
	expr_cmp_u8(r, REG32(8), NFT_CMP_EQ, 135);
	nft_match_in_set(r, t, TRANSPORT_HDR, 8, 16, "gw6", false);
	nft_counted_verdict(r, "pass_nd", NF_ACCEPT);
	nft_rule_commit(t, r);
	/* NA: the target must be the sender's own */
	r = nft_rule(t, ch);
	nft_load_payload(r, t, TRANSPORT_HDR, 0, 1, REG32(8));
	expr_cmp_u8(r, REG32(8), NFT_CMP_EQ, 136);
	expr_verdict(r, NFT_JUMP, "nd_na");
	nft_rule_commit(t, r);
	nft_spoof_rules(t, "nd_na", false, TRANSPORT_HDR, 8);
	r = nft_rule(t, "nd_na");
	nft_match_in_set(r, t, LINK_HDR, 0, 6, "gw_macs", false);
	nft_counted_verdict(r, "pass_nd", NF_ACCEPT);
	nft_rule_commit(t, r);
	r = nft_rule(t, "nd_na");
	nft_match_in_set(r, t, NET_HDR, 24, 16, "gw6", false);
	nft_counted_verdict(r, "pass_nd", NF_ACCEPT);
	nft_rule_commit(t, r);
	r = nft_rule(t, "nd_na");
	nft_match_in_set(r, t, LINK_HDR, 6, 6, "quarantine", true);
	nft_match_group_addressed(r, true);
	nft_counted_verdict(r, "pass_nd", NF_ACCEPT);
	nft_rule_commit(t, r);

	nft_add_rule(t, ch, "drop_quarantine", NF_DROP, add_quarantined, NULL);
	/* NS: the peer is the target; NA: the destination */
	r = nft_rule(t, ch);
	nft_load_payload(r, t, TRANSPORT_HDR, 0, 1, REG32(8));
	expr_cmp_u8(r, REG32(8), NFT_CMP_EQ, 135);
	expr_verdict(r, NFT_GOTO, "nd_ns_peer");
	nft_rule_commit(t, r);
	r = nft_rule(t, ch);
	expr_verdict(r, NFT_GOTO, "nd_na_peer");
	nft_rule_commit(t, r);
	nft_peer_rules(t, "nd_ns_peer", false, TRANSPORT_HDR, 8, "nd_peer6", "nd_peer_mac", "nd_to_any");
	nft_peer_rules(t, "nd_na_peer", false, NET_HDR, 24, "nd_peer6", "nd_peer_mac", NULL);
}

/* ---- judge: the IP verdict ------------------------------------------------------ */

static void add_goto_rule(struct nft_tbl *t, const char *chain,
			  void (*fn)(struct nftnl_rule *, struct nft_tbl *, const void *),
			  const void *arg, const char *target)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	if (fn)
		fn(r, t, arg);
	expr_verdict(r, NFT_GOTO, target);
	nft_rule_commit(t, r);
}

static void add_mcast(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	(void)t;
	nft_match_group_addressed(r, *(const bool *)arg);
}

struct dst_arg {
	bool v4;
	const char *set;	/* destination address in this set */
	int mc;			/* 1 group-addressed, 0 to the gateway's MAC */
};

static void add_dst(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	const struct dst_arg *a = arg;

	if (a->mc)
		nft_match_group_addressed(r, true);
	else
		nft_match_in_set(r, t, LINK_HDR, 0, 6, "gw_macs", false);
	nft_match_nfproto(r, a->v4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	if (a->set)
		nft_match_in_set(r, t, NET_HDR, nft_ip_addr_offset(a->v4, true), a->v4 ? 4 : 16, a->set, false);
}

struct lan_arg {
	const struct bh_gw_addr *g;
};

static void add_lan(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	const struct lan_arg *a = arg;
	struct ip_prefix p = { .v4 = a->g->addr.v4, .plen = a->g->plen,
			 .addr = a->g->addr.v4 ? a->g->addr.a + 12 : a->g->addr.a };

	nft_match_in_set(r, t, LINK_HDR, 0, 6, "gw_macs", false);
	match_ip_prefix(r, &p);
}

static void judge_chain(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	const char *ch = "judge";
	struct port_arg rogue4 = { .pf = NFPROTO_IPV4, .proto = IPPROTO_UDP, .sport = 67,
				   .dport = 68, .icmp_type = -1 };
	struct port_arg rogue6 = { .pf = NFPROTO_IPV6, .proto = IPPROTO_UDP, .sport = 547,
				   .dport = 546, .icmp_type = -1 };
	struct nftnl_rule *r;
	bool yes = true;
	char lan[64];
	__u32 bits;

	nft_spoof_rules(t, ch, true, NET_HDR, 12);
	nft_spoof_rules(t, ch, false, NET_HDR, 8);
	nft_add_rule(t, ch, "drop_rogue", NF_DROP, add_port, &rogue4);
	nft_add_rule(t, ch, "drop_rogue", NF_DROP, add_port, &rogue6);
	r = nft_rule(t, ch);
	nft_match_nfproto(r, NFPROTO_IPV6);
	nft_match_l4proto(r, IPPROTO_ICMPV6);
	expr_verdict(r, NFT_JUMP, "nd_judge");
	nft_rule_commit(t, r);
	add_goto_rule(t, ch, add_quarantined, NULL, "quarantined");

	/* who opens a flow, for its replies below */
	opener_label_rule(t, ch);
	/* detection: a refusal (RST, unreachable) for the flow's opener */
	nft_det_refused_rules(t, s, ch);
	/* an ICMP error about an east-west flow: from the responder's group */
	r = nft_rule(t, ch);
	nft_match_ct(r, IP_CT_DIR_REPLY, NF_CT_STATE_BIT(IP_CT_RELATED));
	expr_ct_load(r, NFT_CT_MARK, REG32(8));
	bits = BH_NFT_CTMARK_MASK;
	expr_mask(r, REG32(8), 4, &bits);
	expr_lookup(r, t, "rel_mark", REG32(8), NFT_REG_VERDICT, false);
	nft_rule_commit(t, r);

	/* replies to a tracked flow (and ICMP errors about it) */
	reply_rules(t, ch);
	/* detection: a new tcp attempt to a worm port, whatever its verdict */
	nft_det_worm_rule(t, s, ch);

	/* where it goes: group-addressed frames by their IP destination */
	for (int v4 = 1; v4 >= 0; v4--) {
		struct dst_arg gwd = { v4, v4 ? "gw4" : "gw6", 1 };
		struct dst_arg mc = { v4, NULL, 1 };
		struct port_arg dhcp = { .pf = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6,
					 .proto = IPPROTO_UDP, .sport = -1,
					 .dport = v4 ? 67 : 547, .icmp_type = -1, .mcast = 1 };

		add_goto_rule(t, ch, add_dst, &gwd, "to_gateway");
		r = nft_rule(t, ch);
		add_dst(r, t, &mc);
		nft_load_payload(r, t, NET_HDR, nft_ip_addr_offset(v4, true), v4 ? 4 : 16, REG32(8));
		expr_lookup(r, t, v4 ? "addr4" : "addr6", REG32(8), NFT_REG_VERDICT, false);
		nft_rule_commit(t, r);
		add_goto_rule(t, ch, add_port, &dhcp, "to_gateway");
	}
	add_goto_rule(t, ch, add_mcast, &yes, "to_multicast");
	/* unicast to another device: by its MAC (dst_mac's catch-all: defaults.unknown) */
	r = nft_rule(t, ch);
	nft_match_in_set(r, t, LINK_HDR, 0, 6, "gw_macs", true);
	nft_load_payload(r, t, LINK_HDR, 0, 6, REG32(8));
	expr_lookup(r, t, "dst_mac", REG32(8), NFT_REG_VERDICT, false);
	nft_rule_commit(t, r);
	/* to the gateway's MAC: its own address, a device's, the LAN's, the internet */
	for (int v4 = 1; v4 >= 0; v4--) {
		struct dst_arg gwd = { v4, v4 ? "gw4" : "gw6", 0 };
		struct dst_arg dev = { v4, NULL, 0 };

		add_goto_rule(t, ch, add_dst, &gwd, "to_gateway");
		r = nft_rule(t, ch);
		add_dst(r, t, &dev);
		nft_load_payload(r, t, NET_HDR, nft_ip_addr_offset(v4, true), v4 ? 4 : 16, REG32(8));
		expr_lookup(r, t, v4 ? "addr4" : "addr6", REG32(8), NFT_REG_VERDICT, false);
		nft_rule_commit(t, r);
	}
	nft_group_obj_name(s, "to_", s->c->cfg.unknown_group, NULL, lan, sizeof(lan));
	for (size_t i = 0; i < s->topo->n_addrs; i++) {
		const struct bh_gw_addr *g = &s->topo->addrs[i];
		struct lan_arg la = { g };

		if (!g->addr.v4 && g->addr.a[0] == 0xfe && (g->addr.a[1] & 0xc0) == 0x80)
			continue;
		add_goto_rule(t, ch, add_lan, &la, lan);
	}
	add_goto_rule(t, ch, NULL, NULL, "internet");
}

void bh_nft_policy_inet(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_rule *r;
	char chain[64];

	nft_common_sets(t, s);
	nft_bind_set(t, s, false);
	nft_bound_set(t, s, true);
	nft_bound_set(t, s, false);
	nft_meter_sets(t, s, false);
	if (nft_det_on(s))
		nft_det_objects(t, s);

	nft_chain(t, "prerouting", NF_INET_PRE_ROUTING, PRIO_INET_PRE);
	nft_drop_chains(t, s);
	nft_chain(t, "judge", -1, 0);
	nft_chain(t, "nd_judge", -1, 0);
	nft_chain(t, "nd_na", -1, 0);
	nft_chain(t, "nd_ns_peer", -1, 0);
	nft_chain(t, "nd_na_peer", -1, 0);
	nft_chain(t, "quarantined", -1, 0);
	nft_chain(t, "internet", -1, 0);
	nft_chain(t, "to_gateway", -1, 0);
	nft_chain(t, "to_internet", -1, 0);
	nft_chain(t, "to_multicast", -1, 0);
	nft_group_chains(t, s, "to_");
	nft_group_chains(t, s, "nd_to_");
	nft_chain(t, "nd_to_any", -1, 0);
	for (size_t i = 0; i < s->c->n_inets; i++) {
		nft_group_obj_name(s, "to_", s->c->inets[i].v.dgroup, NULL, chain, sizeof(chain));
		nft_chain(t, chain, -1, 0);
	}
	rule_chains(t, s);
	nft_group_chains(t, s, "rel_");
	related_chains(t, s);
	opener_chains(t, s);
	opener_sets(t, s);
	nft_dispatch_map(t, s, "dst_mac", "to_", 0);
	nft_dispatch_map(t, s, "addr4", "to_", 4);
	nft_dispatch_map(t, s, "addr6", "to_", 6);
	nft_dispatch_map(t, s, "nd_peer6", "nd_to_", 6);
	nft_dispatch_map(t, s, "nd_peer_mac", "nd_to_", 0);

	/* IP a device port received (bridged, or for the gateway) */
	r = nft_rule(t, "prerouting");
	expr_meta(r, NFT_META_IIFNAME, REG32(8));
	expr_lookup(r, t, "ports", REG32(8), -1, false);
	expr_verdict(r, NFT_JUMP, "judge");
	nft_rule_commit(t, r);

	judge_chain(t, s);
	t->icmp6 = true;
	nd_chain(t);
	t->icmp6 = false;
	quarantined_chain(t, s);
	destination_chains(t, s);
	nft_talk_chains(t, s, "nd_to_", "pass_nd", false);
}
