// SPDX-License-Identifier: GPL-2.0
/*
 * nft_policy.c - the whole compiled policy as nftables (--mode nft), with
 * the semantics of the BPF verdict core (bpf/verdict.h, mirrored by the
 * reference evaluator in eval.c):
 *
 *   table bridge bulkhead, chain prerouting (every frame a port receives):
 *     group-addressed or gateway source MAC, quarantined destination MAC,
 *     tags, ethertypes, 802.1X, address claims (claim_*: an unbound LAN
 *     address is the first MAC's that used it), and ARP (sender spoofing,
 *     then only between groups that may talk; a broadcast request for an
 *     unbound address from a group that talks to some group). IP goes on
 *     to table inet. Chain learn (prerouting, after it): which groups'
 *     devices each port has; chain flood (postrouting): each copy of a
 *     group-addressed frame only to ports its sender may reach.
 *   table inet bulkhead, chain prerouting -> judge (IP from a port, after
 *     conntrack and reassembly): source address binding, rogue DHCP / RA,
 *     neighbour discovery, quarantine, ICMP errors about an east-west flow
 *     (from the responder's group only: the ct mark's upper 16 bits),
 *     replies (ct direction reply), then
 *     one chain per kind of destination (to_group_mac, to_group_ip4,
 *     to_gateway, to_lan, to_internet, to_multicast) looking up
 *       device_group[ether saddr] . <destination group> . meta l4proto . th dport
 *     in the verdict map "policy": first the exact port, then any port, then
 *     any protocol (port 0 = any, protocol 255 = any), each element a jump
 *     to the rule's chain (its counter and verdict); no element: the
 *     destination's default.
 *
 * Group ids are the compiled ones (bulkhead_abi.h): device groups from 0,
 * internet prefixes from 0x8000, the gateway 0xfff0, the internet 0xfff1,
 * broadcast/multicast 0xfff2. Sets hold them as "mark" values.
 */
#include <net/if.h>	/* before the linux/ headers that pull linux/if.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_bridge.h>
#include <linux/netfilter_ipv4.h>

#include "nft_policy.h"
#include "../bpf/bulkhead_abi.h"

#define PRIO_BRIDGE_PRE	(-200)		/* before br_netfilter (0) */
#define PRIO_INET_PRE	(-150)		/* after conntrack (-200), before dnat (-100) */
#define PRIO_BRIDGE_LEARN (-150)	/* after the bridge's judge: a drop teaches nothing */
#define PRIO_BRIDGE_POST (-200)	/* before br_netfilter's (last) */
#define KT_PORTDEV	(NFT_T_IFNAME << NFT_T_BITS | NFT_T_ETHERADDR)

#define KT_BIND4	(NFT_T_IPADDR << NFT_T_BITS | NFT_T_ETHERADDR)
#define KT_BIND6	(NFT_T_IP6ADDR << NFT_T_BITS | NFT_T_ETHERADDR)
#define KT_GARP		(NFT_T_IPADDR << NFT_T_BITS | NFT_T_IPADDR)

#define LL		NFT_PAYLOAD_LL_HEADER
#define NH		NFT_PAYLOAD_NETWORK_HEADER
#define TH		NFT_PAYLOAD_TRANSPORT_HEADER
#define EQ		NFT_CMP_EQ
#define NEQ		NFT_CMP_NEQ


/* enum bh_reason -> its name: the counters and the deny events' prefixes */
const char *const bh_reason_names[BH_R_MAX] = {
	[BH_R_PASS_RULE] = "pass_rule",
	[BH_R_PASS_DEFAULT] = "pass_default",
	[BH_R_PASS_REPLY] = "pass_reply",
	[BH_R_PASS_ARP] = "pass_arp",
	[BH_R_PASS_ND] = "pass_nd",
	[BH_R_PASS_QSVC] = "pass_qsvc",
	[BH_R_PASS_FRAG] = "pass_frag",
	[BH_R_PASS_EAPOL] = "pass_eapol",
	[BH_R_DROP_RULE] = "drop_rule",
	[BH_R_DROP_DEFAULT] = "drop_default",
	[BH_R_DROP_QUARANTINE] = "drop_quarantine",
	[BH_R_DROP_SPOOF] = "drop_spoof",
	[BH_R_DROP_MALFORMED] = "drop_malformed",
	[BH_R_DROP_VLAN] = "drop_vlan",
	[BH_R_DROP_FRAG] = "drop_frag",
	[BH_R_DROP_EXTHDR] = "drop_exthdr",
	[BH_R_DROP_ETHERTYPE] = "drop_ethertype",
	[BH_R_DROP_ROGUE] = "drop_rogue",
	[BH_R_DROP_NOPOLICY] = "drop_nopolicy",
	[BH_R_DROP_FLOOD] = "drop_flood",
};

/* "bulkhead <reason>[ <rule>]" (rule BH_RULE_DEFAULT: none) */
static void bh_nflog_prefix(char *buf, size_t len, unsigned int reason, __u32 rule)
{
	if (rule == BH_RULE_DEFAULT)
		snprintf(buf, len, "%s %s", BH_NFLOG_PREFIX, bh_reason_names[reason]);
	else
		snprintf(buf, len, "%s %s %u", BH_NFLOG_PREFIX, bh_reason_names[reason], rule);
}

static bool is_v4(const __u8 *a)
{
	static const __u8 pfx[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(a, pfx, 12);
}

/* ---- expression snippets ---------------------------------------------------- */

/*
 * A payload load, with the dependency nft itself would add, so that `nft
 * list` prints "ether saddr" and "arp saddr ip" (and the listing parses
 * back): in table inet, meta iiftype ether before the link layer; in table
 * bridge (whose network header reads are ARP's), ether type arp. Once per
 * rule.
 */
static void pl(struct nftnl_rule *r, struct nft_tbl *t, __u32 base, __u32 off,
	       __u32 len, __u32 dreg)
{
	if (t->icmp6 && t->dep_rule6 != r && base != LL) {
		/* table inet, chain nd_judge: ICMPv6 (icmpv6 type, taddr, ip6 ...) */
		x_meta(r, NFT_META_NFPROTO, R(14));
		x_cmp8(r, R(14), EQ, NFPROTO_IPV6);
		x_meta(r, NFT_META_L4PROTO, R(14));
		x_cmp8(r, R(14), EQ, IPPROTO_ICMPV6);
		t->dep_rule6 = r;
	}
	if (t->dep_rule != r) {
		if (t->family == NFPROTO_INET && base == LL) {
			__u16 ether = 1;	/* ARPHRD_ETHER */

			x_meta(r, NFT_META_IIFTYPE, R(15));
			x_cmp(r, R(15), EQ, &ether, 2);
			t->dep_rule = r;
		} else if (t->family == NFPROTO_BRIDGE && base == NH) {
			__be16 arp = htons(0x0806);

			x_payload(r, LL, 12, 2, R(15));
			x_cmp(r, R(15), EQ, &arp, 2);
			t->dep_rule = r;
		}
	}
	x_payload(r, base, off, len, dreg);
}


static void nfproto(struct nftnl_rule *r, __u8 pf)
{
	x_meta(r, NFT_META_NFPROTO, R(8));
	x_cmp8(r, R(8), EQ, pf);
}

static void l4(struct nftnl_rule *r, __u8 proto)
{
	x_meta(r, NFT_META_L4PROTO, R(8));
	x_cmp8(r, R(8), EQ, proto);
}

/* the destination MAC is a group address: @yes, or a unicast one */
static void mcast(struct nftnl_rule *r, bool yes)
{
	__u8 bit = 1;

	x_payload(r, LL, 0, 1, R(8));
	x_mask(r, R(8), 1, &bit);
	x_cmp8(r, R(8), yes ? EQ : NEQ, 1);
}

static void in_set(struct nftnl_rule *r, struct nft_tbl *t, __u32 base, __u32 off,
		   __u32 len, const char *set, bool inv)
{
	pl(r, t, base, off, len, R(8));
	x_lookup(r, t, set, R(8), -1, inv);
}

/* a pass counts into @counter and accepts; a drop goes to the chain named
 * after its reason (drop_chains: the source's drop counter, an event, the
 * reason's counter) */
static void counted(struct nftnl_rule *r, const char *counter, int verdict)
{
	if (verdict == NF_DROP) {
		x_verdict(r, NFT_GOTO, counter);
		return;
	}
	x_count(r, counter);
	x_verdict(r, verdict, NULL);
}

/* a rule: <what @fn adds> counter name @counter @verdict */
static void simple(struct nft_tbl *t, const char *chain, const char *counter, int verdict,
		   void (*fn)(struct nftnl_rule *, struct nft_tbl *, const void *),
		   const void *arg)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	if (fn)
		fn(r, t, arg);
	if (counter)
		counted(r, counter, verdict);
	else
		x_verdict(r, verdict, NULL);
	nft_rule_commit(t, r);
}

/* ---- sets ------------------------------------------------------------------ */

/*
 * The device-facing ports: in table bridge the ports themselves; in table
 * inet the bridges (br_netfilter gives IP hooks the bridge as input) and
 * ports listed without a bridge.
 */
static void set_ports(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_set *set = nft_set_new(t, "ports", NFT_T_IFNAME, 16, 0, 0, 0);
	bool inet = t->family != NFPROTO_BRIDGE;

	for (size_t i = 0; i < s->topo->n_ports; i++) {
		const struct bh_port *pt = &s->topo->ports[i];
		const char *n = inet && pt->bridge[0] ? pt->bridge : pt->name;
		char name[16] = "";
		bool seen = false;

		for (size_t j = 0; inet && j < i; j++) {
			const struct bh_port *q = &s->topo->ports[j];

			seen |= !strcmp(q->bridge[0] ? q->bridge : q->name, n);
		}
		if (seen)
			continue;
		snprintf(name, sizeof(name), "%s", n);
		nft_elem(set, name, 16, NULL, 0);
	}
	nft_set_commit(t, set);
}

static void set_gw_macs(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_set *set = nft_set_new(t, "gw_macs", NFT_T_ETHERADDR, 6, 0, 0, 0);

	for (size_t i = 0; i < s->topo->n_macs; i++)
		nft_elem(set, s->topo->macs[i], 6, NULL, 0);
	nft_set_commit(t, set);
}

static void set_gw_addrs(struct nft_tbl *t, const struct bh_nft_spec *s, bool v4)
{
	struct nftnl_set *set = nft_set_new(t, v4 ? "gw4" : "gw6",
					    v4 ? NFT_T_IPADDR : NFT_T_IP6ADDR,
					    v4 ? 4 : 16, 0, 0, 0);

	for (size_t i = 0; i < s->topo->n_addrs; i++) {
		const struct bh_addr *a = &s->topo->addrs[i].addr;

		if (a->v4 == v4)
			nft_elem(set, v4 ? a->a + 12 : a->a, v4 ? 4 : 16, NULL, 0);
	}
	nft_set_commit(t, set);
}

static void set_bound(struct nft_tbl *t, const struct bh_nft_spec *s, bool v4);

/* has4 / has6: devices with bound addresses of that family (strict source) */
static void set_has(struct nft_tbl *t, const struct bh_nft_spec *s, bool v4)
{
	struct nftnl_set *set = nft_set_new(t, v4 ? "has4" : "has6", NFT_T_ETHERADDR,
					    6, 0, 0, 0);

	for (size_t i = 0; i < s->c->n_devs; i++)
		if (s->c->devs[i].v.flags & (v4 ? BH_DEV_HAS_V4 : BH_DEV_HAS_V6))
			nft_elem(set, s->c->devs[i].k.mac, 6, NULL, 0);
	nft_set_commit(t, set);
}

/* bind4 / bind6: bound address . its device's MAC */
static void set_bind(struct nft_tbl *t, const struct bh_nft_spec *s, bool v4)
{
	struct nftnl_set *bind = nft_set_new(t, v4 ? "bind4" : "bind6",
					     v4 ? KT_BIND4 : KT_BIND6,
					     v4 ? 12 : 24, 0, 0, 0);

	for (size_t i = 0; i < s->c->n_ips; i++) {
		const struct bh_ip_ent *e = &s->c->ips[i];
		__u8 k[24] = {};
		__u32 alen = v4 ? 4 : 16;

		if (is_v4(e->k.addr) != v4)
			continue;
		memcpy(k, v4 ? e->k.addr + 12 : e->k.addr, alen);
		memcpy(k + alen, e->v.mac, 6);
		nft_elem(bind, k, alen + 8, NULL, 0);
	}
	nft_set_commit(t, bind);
}

/* sha_self: (MAC . MAC) for every known device: its ARP sender hardware
 * address must be its Ethernet source (nft cannot compare two fields) */
static void set_sha_self(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_set *set = nft_set_new(t, "sha_self",
					    NFT_T_ETHERADDR << NFT_T_BITS | NFT_T_ETHERADDR,
					    16, 0, 0, 0);

	for (size_t i = 0; i < s->c->n_devs; i++) {
		__u8 k[16] = {};

		memcpy(k, s->c->devs[i].k.mac, 6);
		memcpy(k + 8, s->c->devs[i].k.mac, 6);
		nft_elem(set, k, 16, NULL, 0);
	}
	nft_set_commit(t, set);
}

/* gratuitous ARP for a bound address: sender . target, the same address */
static void set_garp(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_set *set = nft_set_new(t, "garp4", KT_GARP, 8, 0, 0, 0);

	for (size_t i = 0; i < s->c->n_ips; i++) {
		__u8 k[8];

		if (!is_v4(s->c->ips[i].k.addr))
			continue;
		memcpy(k, s->c->ips[i].k.addr + 12, 4);
		memcpy(k + 4, s->c->ips[i].k.addr + 12, 4);
		nft_elem(set, k, 8, NULL, 0);
	}
	nft_set_commit(t, set);
}

static void rule_chain_name(char *buf, size_t len, __u32 id)
{
	snprintf(buf, len, "rule_%u", id);
}

/* ---- drops: per-source counters and deny events --------------------------------- */

/*
 * The sets and objects every drop uses, in each table: dev_drops (per
 * source MAC, a counter each, the policy's devices from the start, and
 * what the tables being replaced counted),
 * ev_limit (per source MAC, BH_EV_RATE/s burst BH_EV_BURST, idle entries
 * expire) and the limit object ev_cap (BH_EV_CPU_RATE/s burst
 * BH_EV_CPU_BURST, all MACs together).
 */
static void meter_sets(struct nft_tbl *t, const struct bh_nft_spec *s, bool bridge)
{
	struct nftnl_set *set;

	for (int i = bridge ? 0 : 1; i < 2; i++) {
		set = nft_meter_new(t, i ? BH_NFT_DEV_DROPS : BH_NFT_DEV_STATS,
				    BH_MAX_DEVSTATS, true, 0);
		nft_meter_elems(t, set, i, s->c->devs, s->c->n_devs);
		nft_set_commit(t, set);
	}
	set = nft_meter_new(t, BH_NFT_EV_LIMIT, BH_NFT_EV_MACS, false, BH_NFT_EV_IDLE_MS);
	nft_set_commit(t, set);
	nft_limit_obj(t, BH_NFT_EV_CAP, BH_EV_CPU_RATE, BH_EV_CPU_BURST);
}

/*
 * The end of every drop in @chain: the source MAC's drop counter, a deny
 * event (log group BH_NFLOG_GROUP, prefix "bulkhead <reason> [<rule>]")
 * within the limits, the reason's counter and the drop. The set updates
 * are rules of their own: a full set stops that rule only, never the drop.
 */
static void drop_tail(struct nft_tbl *t, const char *chain, unsigned int reason, __u32 rule)
{
	struct nftnl_rule *r = nft_rule(t, chain);
	char prefix[64];

	pl(r, t, LL, 6, 6, R(8));
	x_dynset(r, t, BH_NFT_DEV_DROPS, R(8), NULL);
	nft_rule_commit(t, r);

	r = nft_rule(t, chain);
	pl(r, t, LL, 6, 6, R(8));
	x_dynset(r, t, BH_NFT_EV_LIMIT, R(8), x_limit_new(BH_EV_RATE, BH_EV_BURST));
	x_objref(r, NFT_OBJECT_LIMIT, BH_NFT_EV_CAP);
	bh_nflog_prefix(prefix, sizeof(prefix), reason, rule);
	x_log(r, prefix, BH_NFLOG_GROUP);
	nft_rule_commit(t, r);

	r = nft_rule(t, chain);
	x_count(r, bh_reason_names[reason]);
	x_verdict(r, NF_DROP, NULL);
	nft_rule_commit(t, r);
}

/*
 * chain drop_<reason> for every drop reason; a flooded copy withheld from a
 * port is only counted, as the BPF programs do: the frame went elsewhere,
 * so it is no drop of its sender's and no deny event
 */
static void drop_chains(struct nft_tbl *t)
{
	for (unsigned int i = BH_R_DROP_RULE; i < BH_R_MAX; i++) {
		nft_chain(t, bh_reason_names[i], -1, 0);
		if (i == BH_R_DROP_FLOOD) {
			struct nftnl_rule *r = nft_rule(t, bh_reason_names[i]);

			x_count(r, bh_reason_names[i]);
			x_verdict(r, NF_DROP, NULL);
			nft_rule_commit(t, r);
			continue;
		}
		drop_tail(t, bh_reason_names[i], i, BH_RULE_DEFAULT);
	}
}

/* ---- judge: the IP verdict ------------------------------------------------------ */

static __u32 addr_off(bool v4, bool dst)
{
	return v4 ? (dst ? 16 : 12) : (dst ? 24 : 8);
}

/* (source address . source MAC) is not a bound pair */
static void not_bound(struct nftnl_rule *r, struct nft_tbl *t, bool v4, __u32 base,
		      __u32 off)
{
	pl(r, t, base, off, v4 ? 4 : 16, R(0));
	pl(r, t, LL, 6, 6, v4 ? R(1) : R(4));
	x_lookup(r, t, v4 ? "bind4" : "bind6", R(0), -1, true);
}

struct spoof_arg {
	bool v4;
	__u32 base, off;	/* where the claimed address is */
	bool strict;		/* the device has bound addresses of this family */
};

static void add_spoof(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	const struct spoof_arg *a = arg;
	static const __u8 zero[16];
	__u32 len = a->v4 ? 4 : 16;

	if (a->base == NH && t->family != NFPROTO_BRIDGE)
		nfproto(r, a->v4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	if (a->strict) {
		in_set(r, t, LL, 6, 6, a->v4 ? "has4" : "has6", false);
		pl(r, t, a->base, a->off, len, R(8));
		x_cmp(r, R(8), NEQ, zero, len);
		if (!a->v4) {	/* link-local addresses are not bound */
			static const __u8 ll_mask[2] = { 0xff, 0xc0 }, ll[2] = { 0xfe, 0x80 };

			pl(r, t, a->base, a->off, 2, R(8));
			x_mask(r, R(8), 2, ll_mask);
			x_cmp(r, R(8), NEQ, ll, 2);
		}
	} else {
		/* a plain set: kernels before 6.5 refuse a lookup without a
		 * destination register on a verdict map (addr4, addr6) */
		in_set(r, t, a->base, a->off, len, a->v4 ? "bound4" : "bound6", false);
	}
	not_bound(r, t, a->v4, a->base, a->off);
}

static void spoof_rules(struct nft_tbl *t, const char *chain, bool v4, __u32 base,
			__u32 off)
{
	struct spoof_arg loose = { v4, base, off, false }, strict = { v4, base, off, true };
	struct nftnl_rule *r = nft_rule(t, chain);

	if (base == NH && t->family != NFPROTO_BRIDGE)
		nfproto(r, v4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	in_set(r, t, base, off, v4 ? 4 : 16, v4 ? "gw4" : "gw6", false);
	counted(r, "drop_spoof", NF_DROP);
	nft_rule_commit(t, r);
	simple(t, chain, "drop_spoof", NF_DROP, add_spoof, &loose);
	simple(t, chain, "drop_spoof", NF_DROP, add_spoof, &strict);
}

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
		nfproto(r, (__u8)a->pf);
	if (a->dst_set)
		in_set(r, t, NH, addr_off(a->pf == NFPROTO_IPV4, true),
		       a->pf == NFPROTO_IPV4 ? 4 : 16, a->dst_set, false);
	if (a->mcast)
		mcast(r, true);
	l4(r, a->proto);
	if (a->sport >= 0) {
		__be16 p = htons((__u16)a->sport);

		x_payload(r, TH, 0, 2, R(8));
		x_cmp(r, R(8), EQ, &p, 2);
	}
	if (a->dport >= 0) {
		__be16 p = htons((__u16)a->dport);

		x_payload(r, TH, 2, 2, R(8));
		x_cmp(r, R(8), EQ, &p, 2);
	}
	if (a->icmp_type >= 0) {
		x_payload(r, TH, 0, 1, R(8));
		x_cmp8(r, R(8), EQ, (__u8)a->icmp_type);
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
			simple(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
			a.dst_set = NULL;
			a.mcast = 1;
			simple(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
			a.dst_set = gws;
			a.mcast = 0;
		}
		if (q & BH_SVC_DNS) {
			a.dport = 53;
			a.proto = IPPROTO_UDP;
			simple(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
			a.proto = IPPROTO_TCP;
			simple(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
		}
		if (q & BH_SVC_NTP) {
			a.dport = 123;
			a.proto = IPPROTO_UDP;
			simple(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
		}
		if (q & BH_SVC_ICMP) {
			a.dport = -1;
			a.proto = v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6;
			a.icmp_type = v4 ? 8 : 128;
			simple(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
			a.icmp_type = v4 ? 0 : 129;
			simple(t, ch, "pass_qsvc", NF_ACCEPT, add_port, &a);
			a.icmp_type = -1;
		}
	}
	simple(t, ch, "drop_quarantine", NF_DROP, NULL, NULL);
}

struct icmp6_arg {
	int type;
	bool quarantined;	/* the source is quarantined */
};

static void add_icmp6_type(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	const struct icmp6_arg *a = arg;

	pl(r, t, TH, 0, 1, R(8));
	x_cmp8(r, R(8), EQ, (__u8)a->type);
	if (a->quarantined)
		in_set(r, t, LL, 6, 6, "quarantine", false);
}

static void add_quarantined(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	(void)arg;
	in_set(r, t, LL, 6, 6, "quarantine", false);
}


/* ---- groups as sets, destinations as chains ------------------------------------ */

/* a group's name as nftables takes it: [A-Za-z0-9_] */
static void gname(const struct bh_nft_spec *s, __u32 g, char *buf, size_t len)
{
	size_t i;

	if (g < s->p->n_groups) {
		const char *n = s->p->groups[g].name;

		for (i = 0; n[i] && i + 1 < len; i++)
			buf[i] = (char)((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
				       (n[i] >= '0' && n[i] <= '9') ? n[i] : '_');
		buf[i] = '\0';
	} else if (g == BH_GRP_GATEWAY) {
		snprintf(buf, len, "gateway");
	} else if (g == BH_GRP_INTERNET) {
		snprintf(buf, len, "internet");
	} else if (g == BH_GRP_MULTICAST) {
		snprintf(buf, len, "multicast");
	} else {
		snprintf(buf, len, "prefix_%u", g - BH_GRP_CIDR_BASE);
	}
}

static void named(const struct bh_nft_spec *s, const char *prefix, __u32 g,
		  const char *suffix, char *buf, size_t len)
{
	char n[48];

	gname(s, g, n, sizeof(n));
	snprintf(buf, len, "%s%s%s", prefix, n, suffix ? suffix : "");
}

/* g_<group>: its members' MACs; devices: every member's */
static void set_groups(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_set *all = nft_set_new(t, "known_macs", NFT_T_ETHERADDR, 6, 0, 0, 0);

	for (size_t g = 0; g < s->p->n_groups; g++) {
		struct nftnl_set *set;
		char name[64];

		named(s, "g_", (__u32)g, NULL, name, sizeof(name));
		set = nft_set_new(t, name, NFT_T_ETHERADDR, 6, 0, 0, 0);
		for (size_t i = 0; i < s->c->n_devs; i++)
			if (s->c->devs[i].v.group == g)
				nft_elem(set, s->c->devs[i].k.mac, 6, NULL, 0);
		nft_set_commit(t, set);
	}
	for (size_t i = 0; i < s->c->n_devs; i++)
		nft_elem(all, s->c->devs[i].k.mac, 6, NULL, 0);
	nft_set_commit(t, all);
}

/*
 * A vmap from a device's MAC (or bound address) to the chain
 * <prefix><its group>; the MAC map's catch-all goes to defaults.unknown's.
 */
static void set_dispatch(struct nft_tbl *t, const struct bh_nft_spec *s,
			 const char *name, const char *prefix, int kind)
{
	__u32 kt = kind == 0 ? NFT_T_ETHERADDR : kind == 4 ? NFT_T_IPADDR : NFT_T_IP6ADDR;
	__u32 kl = kind == 0 ? 6 : kind == 4 ? 4 : 16;
	struct nftnl_set *set = nft_set_new(t, name, kt, kl, 0, NFT_T_VERDICT, 0);
	char chain[64];

	if (kind == 0) {
		for (size_t i = 0; i < s->c->n_devs; i++) {
			named(s, prefix, s->c->devs[i].v.group, NULL, chain, sizeof(chain));
			nft_elem_verdict(set, s->c->devs[i].k.mac, 6, NFT_GOTO, chain);
		}
	} else {
		for (size_t i = 0; i < s->c->n_ips; i++) {
			const __u8 *a = s->c->ips[i].k.addr;

			if (is_v4(a) != (kind == 4))
				continue;
			named(s, prefix, s->c->ips[i].v.group, NULL, chain, sizeof(chain));
			nft_elem_verdict(set, kind == 4 ? a + 12 : a, kl, NFT_GOTO, chain);
		}
	}
	if (kind == 0) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();

		named(s, prefix, s->c->cfg.unknown_group, NULL, chain, sizeof(chain));
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_CATCHALL);
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (__u32)NFT_GOTO);
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
		nftnl_set_elem_add(set, e);
	}
	nft_set_commit(t, set);
}

/* the source MAC is in group @g (@unknown: or in no group at all) */
static void src_is(struct nftnl_rule *r, struct nft_tbl *t, const struct bh_nft_spec *s,
		   __u32 g, bool unknown)
{
	char set[64];

	if (unknown) {
		in_set(r, t, LL, 6, 6, "known_macs", true);
		return;
	}
	named(s, "g_", g, NULL, set, sizeof(set));
	in_set(r, t, LL, 6, 6, set, false);
}

/* one rule per source variant: the group's members, and non-members for defaults.unknown */
static int variants(const struct bh_nft_spec *s, __u32 sg)
{
	return sg == s->c->cfg.unknown_group ? 2 : 1;
}

static void rule_chains(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	for (size_t id = 0; id < s->c->n_rules; id++) {
		bool deny = false;
		char chain[32];
		struct nftnl_rule *r;

		for (size_t i = 0; i < s->c->n_pols; i++)
			if (s->c->pols[i].v.rule_id == id)
				deny = s->c->pols[i].v.action == BH_ACT_DENY;
		rule_chain_name(chain, sizeof(chain), (__u32)id);
		nft_chain(t, chain, -1, 0);
		nft_counter_obj(t, chain);
		r = nft_rule(t, chain);
		x_count(r, chain);
		if (deny) {
			nft_rule_commit(t, r);
			drop_tail(t, chain, BH_R_DROP_RULE, (__u32)id);
			continue;
		}
		counted(r, "pass_rule", NF_ACCEPT);
		nft_rule_commit(t, r);
	}
}

struct port_run {
	__u8 proto;
	__u16 lo, hi;
	__u32 rule;
	bool deny;
};

/*
 * The verdict of a policy entry (rule @id, @deny) in a map element or a
 * rule: goto rule_<id>; for a flooded copy (@flood) accept, or return
 * (not this way: the copy may still pass by another).
 */
static void entry_verdict(struct nftnl_set_elem *el, struct nftnl_rule *r, bool flood,
			  __u32 id, bool deny)
{
	int v = flood ? (deny ? NFT_RETURN : NF_ACCEPT) : NFT_GOTO;
	char rc[32];

	rule_chain_name(rc, sizeof(rc), id);
	if (r) {
		x_verdict(r, v, flood ? NULL : rc);
		return;
	}
	nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, (__u32)v);
	if (!flood)
		nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, rc);
}

static int cmp_port_run(const void *a, const void *b)
{
	const struct port_run *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto - y->proto;
	return (int)x->lo - (int)y->lo;
}

/*
 * p_<src>_<dst>: proto . port range -> goto rule_<id>, the compiled
 * per-port entries merged back into ranges (an interval concatenation:
 * "udp . 10000-20000 : goto rule_5").
 */
static struct nftnl_set *port_map(struct nft_tbl *t, const struct bh_nft_spec *s,
				  const char *name, __u32 sg, __u32 dg, bool flood)
{
	static const __u8 fields[2] = { 1, 2 };	/* meta l4proto, th dport */
	struct nftnl_set *pm;
	struct port_run *runs;
	size_t n = 0, out = 0;

	runs = calloc(s->c->n_pols, sizeof(*runs));
	if (!runs)
		return NULL;
	for (size_t i = 0; i < s->c->n_pols; i++) {
		const struct bh_pol_ent *e = &s->c->pols[i];

		if (e->k.sgroup != sg || e->k.dgroup != dg || e->k.proto == BH_PROTO_ANY ||
		    !e->k.port)
			continue;
		runs[n++] = (struct port_run){ e->k.proto, e->k.port, e->k.port, e->v.rule_id,
					       e->v.action == BH_ACT_DENY };
	}
	qsort(runs, n, sizeof(*runs), cmp_port_run);
	for (size_t i = 0; i < n; i++) {
		if (out && runs[out - 1].proto == runs[i].proto &&
		    runs[out - 1].rule == runs[i].rule && runs[out - 1].hi + 1 == runs[i].lo)
			runs[out - 1].hi = runs[i].lo;
		else
			runs[out++] = runs[i];
	}
	pm = nft_set_new(t, name, NFT_T_PROTO << NFT_T_BITS | NFT_T_SERVICE, 8,
			 NFT_SET_INTERVAL | NFT_SET_CONCAT, NFT_T_VERDICT, 0);
	nftnl_set_set_data(pm, NFTNL_SET_DESC_CONCAT, fields, sizeof(fields));
	for (size_t i = 0; i < out; i++) {
		struct nftnl_set_elem *el = nftnl_set_elem_alloc();
		__u8 k[8] = { runs[i].proto }, ke[8] = { runs[i].proto };
		__be16 lo = htons(runs[i].lo), hi = htons(runs[i].hi);

		memcpy(k + 4, &lo, 2);
		memcpy(ke + 4, &hi, 2);
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, k, 8);
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, ke, 8);
		entry_verdict(el, NULL, flood, runs[i].rule, runs[i].deny);
		nftnl_set_elem_add(pm, el);
	}
	free(runs);
	return pm;
}

/*
 * The chain to_<dg>: for each source group with entries toward @dg, its
 * exact ports (vmap p_<sg>_<dg>: proto . port), then its protocols (vmap
 * q_<sg>_<dg>), then an any-protocol entry; no default verdict here.
 * @flood: the same for a flooded copy, in a chain of its own (its source
 * group known): maps fp_ / fq_, an allow accepts, a deny returns.
 */
static void pair_rules(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain,
		       __u32 sg, __u32 dg, bool flood)
{
	struct nftnl_set *pm = NULL, *qm = NULL;
	char pname[128], qname[128], sgn[48], dgn[48];
	const struct bh_pol_ent *any = NULL;

	gname(s, sg, sgn, sizeof(sgn));
	gname(s, dg, dgn, sizeof(dgn));
	snprintf(pname, sizeof(pname), "%sp_%s_%s", flood ? "f" : "", sgn, dgn);
	snprintf(qname, sizeof(qname), "%sq_%s_%s", flood ? "f" : "", sgn, dgn);
	for (size_t i = 0; i < s->c->n_pols; i++) {
		const struct bh_pol_ent *e = &s->c->pols[i];

		if (e->k.sgroup != sg || e->k.dgroup != dg)
			continue;
		if (e->k.proto == BH_PROTO_ANY) {
			any = e;
		} else if (e->k.port) {
			if (!pm)
				pm = port_map(t, s, pname, sg, dg, flood);
		} else {
			struct nftnl_set_elem *el = nftnl_set_elem_alloc();

			if (!qm)
				qm = nft_set_new(t, qname, NFT_T_PROTO, 1, 0, NFT_T_VERDICT, 0);
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, &e->k.proto, 1);
			entry_verdict(el, NULL, flood, e->v.rule_id, e->v.action == BH_ACT_DENY);
			nftnl_set_elem_add(qm, el);
		}
	}
	if (pm)
		nft_set_commit(t, pm);
	if (qm)
		nft_set_commit(t, qm);
	for (int v = 0; v < (flood ? 1 : variants(s, sg)); v++) {
		struct nftnl_rule *r;

		if (pm) {
			r = nft_rule(t, chain);
			if (!flood)
				src_is(r, t, s, sg, v);
			x_meta(r, NFT_META_L4PROTO, R(0));
			x_payload(r, TH, 2, 2, R(1));
			x_lookup(r, t, pname, R(0), NFT_REG_VERDICT, false);
			nft_rule_commit(t, r);
		}
		if (qm) {
			r = nft_rule(t, chain);
			if (!flood)
				src_is(r, t, s, sg, v);
			x_meta(r, NFT_META_L4PROTO, R(0));
			x_lookup(r, t, qname, R(0), NFT_REG_VERDICT, false);
			nft_rule_commit(t, r);
		}
		if (any) {
			r = nft_rule(t, chain);
			if (!flood)
				src_is(r, t, s, sg, v);
			entry_verdict(NULL, r, flood, any->v.rule_id,
				      any->v.action == BH_ACT_DENY);
			nft_rule_commit(t, r);
		}
	}
}

/* the policy has entries from group @sg to group @dg */
static bool has_pair(const struct bh_nft_spec *s, __u32 sg, __u32 dg)
{
	for (size_t i = 0; i < s->c->n_pols; i++)
		if (s->c->pols[i].k.sgroup == sg && s->c->pols[i].k.dgroup == dg)
			return true;
	return false;
}

static void pairs_to(struct nft_tbl *t, const struct bh_nft_spec *s, __u32 dg,
		     const char *chain)
{
	for (__u32 sg = 0; sg < s->p->n_groups; sg++)
		if (has_pair(s, sg, dg))
			pair_rules(t, s, chain, sg, dg, false);
}

static void default_verdict(struct nft_tbl *t, const char *chain, bool allow)
{
	simple(t, chain, allow ? "pass_default" : "drop_default",
	       allow ? NF_ACCEPT : NF_DROP, NULL, NULL);
}

/* the source group of each internet prefix, and the prefix itself */
struct pre {
	__u32 sg;
	const __u8 *addr;
	__u8 plen;
	bool v4;
};

static void pre_prefix(struct nftnl_rule *r, const struct pre *p)
{
	__u8 mask[16] = {}, net[16];
	__u32 len = p->v4 ? 4 : 16;

	nfproto(r, p->v4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	for (unsigned int b = 0; b < p->plen; b++)
		mask[b / 8] |= (__u8)(0x80 >> (b % 8));
	for (unsigned int i = 0; i < len; i++)
		net[i] = p->addr[i] & mask[i];
	x_payload(r, NH, p->v4 ? 16 : 24, len, R(8));
	x_mask(r, R(8), len, mask);
	x_cmp(r, R(8), EQ, net, len);
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

	x_ct(r, NFT_CT_MARK, R(8));
	x_bitwise(r, R(8), 4, &keep, &val);
	x_ct_set(r, NFT_CT_MARK, R(8));
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

		named(s, "rel_", g, NULL, chain, sizeof(chain));
		nft_elem_verdict(map, &val, 4, NFT_GOTO, chain);
		for (int v = 0; v < variants(s, g); v++) {
			struct nftnl_rule *r = nft_rule(t, chain);

			src_is(r, t, s, g, v);
			counted(r, "pass_reply", NF_ACCEPT);
			nft_rule_commit(t, r);
		}
		simple(t, chain, "drop_spoof", NF_DROP, NULL, NULL);
	}
	nft_set_commit(t, map);
}

static void destination_chains(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	bool ew = s->c->cfg.flags & BH_CFG_EW_ALLOW, gw = s->c->cfg.flags & BH_CFG_GW_ALLOW;
	char chain[64];

	for (__u32 g = 0; g < s->p->n_groups; g++) {
		named(s, "to_", g, NULL, chain, sizeof(chain));
		ctmark_rule(t, chain, g);
		pairs_to(t, s, g, chain);
		default_verdict(t, chain, ew);
	}
	pairs_to(t, s, BH_GRP_GATEWAY, "to_gateway");
	default_verdict(t, "to_gateway", gw);
	pairs_to(t, s, BH_GRP_MULTICAST, "to_multicast");
	default_verdict(t, "to_multicast", false);

	/* the internet: the source group's prefixes, longest first */
	for (size_t i = 0; i < s->c->n_inets; i++) {
		__u32 dg = s->c->inets[i].v.dgroup;

		named(s, "to_", dg, NULL, chain, sizeof(chain));
		pair_rules(t, s, chain, s->c->inets[i].k.sgroup, dg, false);
	}
	for (int plen = 128; plen >= 0; plen--) {
		for (size_t i = 0; i < s->c->n_inets; i++) {
			const struct bh_inet_ent *e = &s->c->inets[i];
			unsigned int bits = e->k.prefixlen - BH_INET_KEY_HDR_BITS;
			bool v4 = is_v4(e->k.addr) && bits >= 96;
			struct pre pre = {
				.sg = e->k.sgroup, .v4 = v4,
				.addr = v4 ? e->k.addr + 12 : e->k.addr,
				.plen = (__u8)(v4 ? bits - 96 : bits),
			};
			struct nftnl_rule *r;

			if (pre.plen != plen)
				continue;
			for (int v = 0; v < variants(s, pre.sg); v++) {
				r = nft_rule(t, "internet");
				pre_prefix(r, &pre);
				src_is(r, t, s, pre.sg, v);
				named(s, "to_", e->v.dgroup, NULL, chain, sizeof(chain));
				x_verdict(r, NFT_JUMP, chain);
				nft_rule_commit(t, r);
			}
		}
	}
	{
		struct nftnl_rule *r = nft_rule(t, "internet");

		x_verdict(r, NFT_GOTO, "to_internet");
		nft_rule_commit(t, r);
	}
	pairs_to(t, s, BH_GRP_INTERNET, "to_internet");
	for (__u32 g = 0; g < s->p->n_groups; g++) {
		if (s->c->groups[g].internet != BH_ACT_ALLOW)
			continue;
		for (int v = 0; v < variants(s, g); v++) {
			struct nftnl_rule *r = nft_rule(t, "to_internet");

			src_is(r, t, s, g, v);
			counted(r, "pass_default", NF_ACCEPT);
			nft_rule_commit(t, r);
		}
	}
	default_verdict(t, "to_internet", false);
}

/* group @a may talk to group @b (@b < 0: to some group): ARP / ND pass */
static bool talks(const struct bh_nft_spec *s, __u32 a, int b)
{
	if (s->c->cfg.flags & BH_CFG_EW_ALLOW)
		return true;
	for (size_t i = 0; i < s->c->n_talks; i++)
		if (s->c->talks[i].k.ga == a && (b < 0 || s->c->talks[i].k.gb == (__u32)b))
			return true;
	return false;
}

/* @chain: the sources whose group talks to group @tg (< 0: to some group)
 * count into @counter and pass; the others are drop_default */
static void talkers_chain(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain,
			  const char *counter, int tg)
{
	bool ew = s->c->cfg.flags & BH_CFG_EW_ALLOW;

	for (__u32 sg = 0; !ew && sg < s->p->n_groups; sg++) {
		if (!talks(s, sg, tg))
			continue;
		for (int v = 0; v < variants(s, sg); v++) {
			struct nftnl_rule *r = nft_rule(t, chain);

			src_is(r, t, s, sg, v);
			counted(r, counter, NF_ACCEPT);
			nft_rule_commit(t, r);
		}
	}
	simple(t, chain, ew ? counter : "drop_default", ew ? NF_ACCEPT : NF_DROP, NULL, NULL);
}

/*
 * ARP / ND between groups that may talk: chains <prefix><target group>;
 * and <prefix>any: a solicitation for an address no device binds, sent to
 * everyone (a broadcast ARP request, an NS to a solicited-node group). Its
 * owner is unknown until it answers, so it may ask when its group talks to
 * some group; a group that talks to nobody may not (ARP scans stay dropped).
 */
static void talk_chains(struct nft_tbl *t, const struct bh_nft_spec *s, const char *prefix,
			const char *counter)
{
	char chain[64];

	for (__u32 tg = 0; tg < s->p->n_groups; tg++) {
		named(s, prefix, tg, NULL, chain, sizeof(chain));
		talkers_chain(t, s, chain, counter, (int)tg);
	}
	snprintf(chain, sizeof(chain), "%sany", prefix);
	talkers_chain(t, s, chain, counter, -1);
}

/*
 * The peer: the owner of @off's address; else, for a solicitation sent to
 * everyone (@any: its chain), any group; else the destination MAC's group.
 */
static void peer_rules(struct nft_tbl *t, const char *chain, bool v4, __u32 base,
		       __u32 off, const char *ipmap, const char *macmap, const char *any)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	pl(r, t, base, off, v4 ? 4 : 16, R(8));
	x_lookup(r, t, ipmap, R(8), NFT_REG_VERDICT, false);
	nft_rule_commit(t, r);
	if (any) {
		r = nft_rule(t, chain);
		if (v4) {	/* arp operation request */
			__be16 op = htons(1);

			pl(r, t, NH, 6, 2, R(8));
			x_cmp(r, R(8), EQ, &op, 2);
		}
		mcast(r, true);
		x_verdict(r, NFT_GOTO, any);
		nft_rule_commit(t, r);
	}
	r = nft_rule(t, chain);
	pl(r, t, LL, 0, 6, R(8));
	x_lookup(r, t, macmap, R(8), NFT_REG_VERDICT, false);
	nft_rule_commit(t, r);
}

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
		simple(t, ch, "drop_rogue", NF_DROP, add_icmp6_type, &a);
	}
	a.type = 133;
	simple(t, ch, "pass_nd", NF_ACCEPT, add_icmp6_type, &a);
	for (size_t i = 0; i < 3; i++) {
		static const int mld[] = { 131, 132, 143 };

		a.type = mld[i];
		a.quarantined = true;
		simple(t, ch, "drop_quarantine", NF_DROP, add_icmp6_type, &a);
		a.quarantined = false;
		simple(t, ch, "pass_nd", NF_ACCEPT, add_icmp6_type, &a);
	}
	/* not a solicitation or an advertisement: judged as any IP */
	r = nft_rule(t, ch);
	pl(r, t, TH, 0, 1, R(8));
	type = 135;
	x_cmp(r, R(8), NFT_CMP_LT, &type, 1);
	x_verdict(r, NFT_RETURN, NULL);
	nft_rule_commit(t, r);
	r = nft_rule(t, ch);
	pl(r, t, TH, 0, 1, R(8));
	type = 136;
	x_cmp(r, R(8), NFT_CMP_GT, &type, 1);
	x_verdict(r, NFT_RETURN, NULL);
	nft_rule_commit(t, r);

	/* NS: duplicate address detection, or for the gateway */
	r = nft_rule(t, ch);
	pl(r, t, TH, 0, 1, R(8));
	x_cmp8(r, R(8), EQ, 135);
	pl(r, t, NH, 8, 16, R(8));
	x_cmp(r, R(8), EQ, zero, 16);
	counted(r, "pass_nd", NF_ACCEPT);
	nft_rule_commit(t, r);
	r = nft_rule(t, ch);
	pl(r, t, TH, 0, 1, R(8));
	x_cmp8(r, R(8), EQ, 135);
	in_set(r, t, TH, 8, 16, "gw6", false);
	counted(r, "pass_nd", NF_ACCEPT);
	nft_rule_commit(t, r);
	/* NA: the target must be the sender's own */
	r = nft_rule(t, ch);
	pl(r, t, TH, 0, 1, R(8));
	x_cmp8(r, R(8), EQ, 136);
	x_verdict(r, NFT_JUMP, "nd_na");
	nft_rule_commit(t, r);
	spoof_rules(t, "nd_na", false, TH, 8);
	r = nft_rule(t, "nd_na");
	in_set(r, t, LL, 0, 6, "gw_macs", false);
	counted(r, "pass_nd", NF_ACCEPT);
	nft_rule_commit(t, r);
	r = nft_rule(t, "nd_na");
	in_set(r, t, NH, 24, 16, "gw6", false);
	counted(r, "pass_nd", NF_ACCEPT);
	nft_rule_commit(t, r);
	r = nft_rule(t, "nd_na");
	in_set(r, t, LL, 6, 6, "quarantine", true);
	mcast(r, true);
	counted(r, "pass_nd", NF_ACCEPT);
	nft_rule_commit(t, r);

	simple(t, ch, "drop_quarantine", NF_DROP, add_quarantined, NULL);
	/* NS: the peer is the target; NA: the destination */
	r = nft_rule(t, ch);
	pl(r, t, TH, 0, 1, R(8));
	x_cmp8(r, R(8), EQ, 135);
	x_verdict(r, NFT_GOTO, "nd_ns_peer");
	nft_rule_commit(t, r);
	r = nft_rule(t, ch);
	x_verdict(r, NFT_GOTO, "nd_na_peer");
	nft_rule_commit(t, r);
	peer_rules(t, "nd_ns_peer", false, TH, 8, "nd_peer6", "nd_peer_mac", "nd_to_any");
	peer_rules(t, "nd_na_peer", false, NH, 24, "nd_peer6", "nd_peer_mac", NULL);
}

static void goto_rule(struct nft_tbl *t, const char *chain,
		      void (*fn)(struct nftnl_rule *, struct nft_tbl *, const void *),
		      const void *arg, const char *target)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	if (fn)
		fn(r, t, arg);
	x_verdict(r, NFT_GOTO, target);
	nft_rule_commit(t, r);
}

static void add_mcast(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	(void)t;
	mcast(r, *(const bool *)arg);
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
		mcast(r, true);
	else
		in_set(r, t, LL, 0, 6, "gw_macs", false);
	nfproto(r, a->v4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	if (a->set)
		in_set(r, t, NH, addr_off(a->v4, true), a->v4 ? 4 : 16, a->set, false);
}

struct lan_arg {
	const struct bh_gw_addr *g;
};

static void add_lan(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	const struct lan_arg *a = arg;
	struct pre p = { .v4 = a->g->addr.v4, .plen = a->g->plen,
			 .addr = a->g->addr.v4 ? a->g->addr.a + 12 : a->g->addr.a };

	in_set(r, t, LL, 0, 6, "gw_macs", false);
	pre_prefix(r, &p);
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

	spoof_rules(t, ch, true, NH, 12);
	spoof_rules(t, ch, false, NH, 8);
	simple(t, ch, "drop_rogue", NF_DROP, add_port, &rogue4);
	simple(t, ch, "drop_rogue", NF_DROP, add_port, &rogue6);
	r = nft_rule(t, ch);
	nfproto(r, NFPROTO_IPV6);
	l4(r, IPPROTO_ICMPV6);
	x_verdict(r, NFT_JUMP, "nd_judge");
	nft_rule_commit(t, r);
	goto_rule(t, ch, add_quarantined, NULL, "quarantined");

	/* an ICMP error about an east-west flow: from the responder's group */
	r = nft_rule(t, ch);
	x_ct(r, NFT_CT_DIRECTION, R(8));
	x_cmp8(r, R(8), EQ, IP_CT_DIR_REPLY);
	x_ct(r, NFT_CT_STATE, R(8));
	bits = NF_CT_STATE_BIT(IP_CT_RELATED);
	x_mask(r, R(8), 4, &bits);
	bits = 0;
	x_cmp(r, R(8), NEQ, &bits, 4);
	x_ct(r, NFT_CT_MARK, R(8));
	bits = BH_NFT_CTMARK_MASK;
	x_mask(r, R(8), 4, &bits);
	x_lookup(r, t, "rel_mark", R(8), NFT_REG_VERDICT, false);
	nft_rule_commit(t, r);

	/* replies to a tracked flow (and ICMP errors about it) */
	r = nft_rule(t, ch);
	x_ct(r, NFT_CT_DIRECTION, R(8));
	x_cmp8(r, R(8), EQ, IP_CT_DIR_REPLY);
	x_ct(r, NFT_CT_STATE, R(8));
	bits = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	x_mask(r, R(8), 4, &bits);
	bits = 0;
	x_cmp(r, R(8), NEQ, &bits, 4);
	counted(r, "pass_reply", NF_ACCEPT);
	nft_rule_commit(t, r);

	/* where it goes: group-addressed frames by their IP destination */
	for (int v4 = 1; v4 >= 0; v4--) {
		struct dst_arg gwd = { v4, v4 ? "gw4" : "gw6", 1 };
		struct dst_arg mc = { v4, NULL, 1 };
		struct port_arg dhcp = { .pf = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6,
					 .proto = IPPROTO_UDP, .sport = -1,
					 .dport = v4 ? 67 : 547, .icmp_type = -1, .mcast = 1 };

		goto_rule(t, ch, add_dst, &gwd, "to_gateway");
		r = nft_rule(t, ch);
		add_dst(r, t, &mc);
		pl(r, t, NH, addr_off(v4, true), v4 ? 4 : 16, R(8));
		x_lookup(r, t, v4 ? "addr4" : "addr6", R(8), NFT_REG_VERDICT, false);
		nft_rule_commit(t, r);
		goto_rule(t, ch, add_port, &dhcp, "to_gateway");
	}
	goto_rule(t, ch, add_mcast, &yes, "to_multicast");
	/* unicast to another device: by its MAC (dst_mac's catch-all: defaults.unknown) */
	r = nft_rule(t, ch);
	in_set(r, t, LL, 0, 6, "gw_macs", true);
	pl(r, t, LL, 0, 6, R(8));
	x_lookup(r, t, "dst_mac", R(8), NFT_REG_VERDICT, false);
	nft_rule_commit(t, r);
	/* to the gateway's MAC: its own address, a device's, the LAN's, the internet */
	for (int v4 = 1; v4 >= 0; v4--) {
		struct dst_arg gwd = { v4, v4 ? "gw4" : "gw6", 0 };
		struct dst_arg dev = { v4, NULL, 0 };

		goto_rule(t, ch, add_dst, &gwd, "to_gateway");
		r = nft_rule(t, ch);
		add_dst(r, t, &dev);
		pl(r, t, NH, addr_off(v4, true), v4 ? 4 : 16, R(8));
		x_lookup(r, t, v4 ? "addr4" : "addr6", R(8), NFT_REG_VERDICT, false);
		nft_rule_commit(t, r);
	}
	named(s, "to_", s->c->cfg.unknown_group, NULL, lan, sizeof(lan));
	for (size_t i = 0; i < s->topo->n_addrs; i++) {
		const struct bh_gw_addr *g = &s->topo->addrs[i];
		struct lan_arg la = { g };

		if (!g->addr.v4 && g->addr.a[0] == 0xfe && (g->addr.a[1] & 0xc0) == 0x80)
			continue;
		goto_rule(t, ch, add_lan, &la, lan);
	}
	goto_rule(t, ch, NULL, NULL, "internet");
}

static void chains_for_groups(struct nft_tbl *t, const struct bh_nft_spec *s,
			      const char *prefix)
{
	char chain[64];

	for (__u32 g = 0; g < s->p->n_groups; g++) {
		named(s, prefix, g, NULL, chain, sizeof(chain));
		nft_chain(t, chain, -1, 0);
	}
}

void bh_nft_policy_inet(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_rule *r;
	char chain[64];

	set_ports(t, s);
	set_gw_macs(t, s);
	set_gw_addrs(t, s, true);
	set_gw_addrs(t, s, false);
	set_groups(t, s);
	set_has(t, s, true);
	set_has(t, s, false);
	set_bind(t, s, true);
	set_bind(t, s, false);
	set_bound(t, s, true);
	set_bound(t, s, false);
	meter_sets(t, s, false);

	nft_chain(t, "prerouting", NF_INET_PRE_ROUTING, PRIO_INET_PRE);
	drop_chains(t);
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
	chains_for_groups(t, s, "to_");
	chains_for_groups(t, s, "nd_to_");
	nft_chain(t, "nd_to_any", -1, 0);
	for (size_t i = 0; i < s->c->n_inets; i++) {
		named(s, "to_", s->c->inets[i].v.dgroup, NULL, chain, sizeof(chain));
		nft_chain(t, chain, -1, 0);
	}
	rule_chains(t, s);
	chains_for_groups(t, s, "rel_");
	related_chains(t, s);
	set_dispatch(t, s, "dst_mac", "to_", 0);
	set_dispatch(t, s, "addr4", "to_", 4);
	set_dispatch(t, s, "addr6", "to_", 6);
	set_dispatch(t, s, "nd_peer6", "nd_to_", 6);
	set_dispatch(t, s, "nd_peer_mac", "nd_to_", 0);

	/* IP a device port received (bridged, or for the gateway) */
	r = nft_rule(t, "prerouting");
	x_meta(r, NFT_META_IIFNAME, R(8));
	x_lookup(r, t, "ports", R(8), -1, false);
	x_verdict(r, NFT_JUMP, "judge");
	nft_rule_commit(t, r);

	judge_chain(t, s);
	t->icmp6 = true;
	nd_chain(t);
	t->icmp6 = false;
	quarantined_chain(t, s);
	destination_chains(t, s);
	talk_chains(t, s, "nd_to_", "pass_nd");
}
/* ---- address claims (table bridge) ------------------------------------------------ */

/* the frame is of ethertype @et: the dependency of an IP header read in
 * table bridge (pl() would add ARP's) */
static void ether_is(struct nftnl_rule *r, struct nft_tbl *t, __u16 et)
{
	__be16 v = htons(et);

	x_payload(r, LL, 12, 2, R(15));
	x_cmp(r, R(15), EQ, &v, 2);
	t->dep_rule = r;
}

/* where a frame names an address as its sender's own */
struct claim_at {
	const char *chain;
	bool v4;
	__u16 et;		/* ethertype; 0x86dd with @na: an NA's target */
	bool na;
	__u32 base, off;
};

static void claim_dep(struct nftnl_rule *r, struct nft_tbl *t, const struct claim_at *c)
{
	if (c->et == 0x0806)
		return;		/* pl() adds ether type arp */
	ether_is(r, t, c->et);
	if (c->na) {
		l4(r, IPPROTO_ICMPV6);
		x_payload(r, TH, 0, 1, R(8));
		x_cmp8(r, R(8), EQ, 136);
	}
}

/*
 * Chain claim_<where>: an address no device binds (not the gateway's, not
 * in bound4/6, not used by a device with bound addresses of the family,
 * whose use of it the inet table drops) was claimed by another MAC within
 * BH_NFT_CLAIM_MS: drop_spoof; else the sender claims it (again).
 */
static void claim_chain(struct nft_tbl *t, const struct claim_at *c)
{
	static const __u8 ll_mask[2] = { 0xff, 0xc0 }, ll[2] = { 0xfe, 0x80 };
	__u32 len = c->v4 ? 4 : 16;
	struct nftnl_rule *r;

	for (int i = 0; i < 2; i++) {
		r = nft_rule(t, c->chain);
		claim_dep(r, t, c);
		in_set(r, t, c->base, c->off, len, i ? (c->v4 ? "bound4" : "bound6") :
		       (c->v4 ? "gw4" : "gw6"), false);
		x_verdict(r, NFT_RETURN, NULL);
		nft_rule_commit(t, r);
	}
	r = nft_rule(t, c->chain);
	claim_dep(r, t, c);
	in_set(r, t, LL, 6, 6, c->v4 ? "has4" : "has6", false);
	if (!c->v4) {	/* a bound device's link-local addresses are claimed */
		pl(r, t, c->base, c->off, 2, R(8));
		x_mask(r, R(8), 2, ll_mask);
		x_cmp(r, R(8), NEQ, ll, 2);
	}
	x_verdict(r, NFT_RETURN, NULL);
	nft_rule_commit(t, r);
	/* claimed by another MAC */
	r = nft_rule(t, c->chain);
	claim_dep(r, t, c);
	pl(r, t, c->base, c->off, len, R(8));
	x_lookup(r, t, c->v4 ? "claimed4" : "claimed6", R(8), -1, false);
	pl(r, t, c->base, c->off, len, R(0));
	pl(r, t, LL, 6, 6, c->v4 ? R(1) : R(4));
	x_lookup(r, t, c->v4 ? "claim4" : "claim6", R(0), -1, true);
	x_verdict(r, NFT_GOTO, "drop_spoof");
	nft_rule_commit(t, r);
	/* the sender's: claimed, or the claim refreshed (the pair first: a
	 * full claim set records no owner, so no address without one) */
	r = nft_rule(t, c->chain);
	claim_dep(r, t, c);
	pl(r, t, c->base, c->off, len, R(0));
	pl(r, t, LL, 6, 6, c->v4 ? R(1) : R(4));
	x_dynset(r, t, c->v4 ? "claim4" : "claim6", R(0), NULL);
	pl(r, t, c->base, c->off, len, R(8));
	x_dynset(r, t, c->v4 ? "claimed4" : "claimed6", R(8), NULL);
	nft_rule_commit(t, r);
}

/* the rules of @chain that send an address of the LAN prefixes (IPv6:
 * and link-local) to the claim chain */
static void claim_prefix_rules(struct nft_tbl *t, const struct bh_nft_spec *s,
			       const char *chain, const struct claim_at *c)
{
	static const __u8 fe80[16] = { 0xfe, 0x80 };
	struct bh_gw_addr llg = { .plen = 10 };
	size_t n = s->topo->n_addrs;

	memcpy(llg.addr.a, fe80, 16);
	for (size_t i = 0; i <= n; i++) {
		const struct bh_gw_addr *g = i < n ? &s->topo->addrs[i] : &llg;
		const __u8 *a = c->v4 ? g->addr.a + 12 : g->addr.a;
		__u8 mask[16] = {}, net[16];
		__u32 len = c->v4 ? 4 : 16;
		struct nftnl_rule *r;
		bool dup = false;

		if (i == n && c->v4)
			break;
		if (g->addr.v4 != c->v4 || (i < n && !c->v4 && a[0] == 0xfe &&
					    (a[1] & 0xc0) == 0x80))
			continue;
		for (unsigned int b = 0; b < g->plen && b < len * 8; b++)
			mask[b / 8] |= (__u8)(0x80 >> (b % 8));
		for (unsigned int k = 0; k < len; k++)
			net[k] = a[k] & mask[k];
		for (size_t j = 0; j < i && j < n; j++) {
			const struct bh_gw_addr *h = &s->topo->addrs[j];
			const __u8 *b = c->v4 ? h->addr.a + 12 : h->addr.a;
			bool same = h->addr.v4 == c->v4 && h->plen == g->plen;

			for (unsigned int k = 0; same && k < len; k++)
				same = (b[k] & mask[k]) == net[k];
			dup |= same;
		}
		if (dup)
			continue;
		r = nft_rule(t, chain);
		claim_dep(r, t, c);
		pl(r, t, c->base, c->off, len, R(8));
		x_mask(r, R(8), len, mask);
		x_cmp(r, R(8), EQ, net, len);
		x_verdict(r, NFT_JUMP, c->chain);
		nft_rule_commit(t, r);
	}
}

static const struct claim_at claim_arp = { "claim_arp", true, 0x0806, false, NH, 14 };
static const struct claim_at claim_ip4 = { "claim_ip4", true, 0x0800, false, NH, 12 };
static const struct claim_at claim_ip6 = { "claim_ip6", false, 0x86dd, false, NH, 8 };
static const struct claim_at claim_na = { "claim_na", false, 0x86dd, true, TH, 8 };

/* bound4 / bound6: the addresses devices bind (policy ip:, leases) */
static void set_bound(struct nft_tbl *t, const struct bh_nft_spec *s, bool v4)
{
	struct nftnl_set *set = nft_set_new(t, v4 ? "bound4" : "bound6",
					    v4 ? NFT_T_IPADDR : NFT_T_IP6ADDR,
					    v4 ? 4 : 16, 0, 0, 0);

	for (size_t i = 0; i < s->c->n_ips; i++) {
		const __u8 *a = s->c->ips[i].k.addr;

		if (is_v4(a) == v4)
			nft_elem(set, v4 ? a + 12 : a, v4 ? 4 : 16, NULL, 0);
	}
	nft_set_commit(t, set);
}

static void claim_sets(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	set_bound(t, s, true);
	set_bound(t, s, false);
	nft_set_commit(t, nft_learned_new(t, "claimed4", NFT_T_IPADDR, 4,
					  BH_NFT_LEARN_MAX, BH_NFT_CLAIM_MS, true));
	nft_set_commit(t, nft_learned_new(t, "claim4", KT_BIND4, 12,
					  BH_NFT_LEARN_MAX, BH_NFT_CLAIM_MS, true));
	nft_set_commit(t, nft_learned_new(t, "claimed6", NFT_T_IP6ADDR, 16,
					  BH_NFT_LEARN_MAX, BH_NFT_CLAIM_MS, true));
	nft_set_commit(t, nft_learned_new(t, "claim6", KT_BIND6, 24,
					  BH_NFT_LEARN_MAX, BH_NFT_CLAIM_MS, true));
}

/* ---- flooded frames, per destination port (table bridge) ------------------------- */

/* which of port_sets' sets port_dev element @l seeds: its MAC's group now
 * (@ng: qports, the MAC is quarantined) */
static size_t port_set_of(const struct nft_lelem *l, const struct bh_nft_spec *s, size_t ng)
{
	size_t g = s->c->cfg.unknown_group;

	for (size_t q = 0; q < s->n_quarantine; q++)
		if (!memcmp(s->quarantine[q], l->key + 16, 6))
			return ng;
	for (size_t d = 0; d < s->c->n_devs; d++)
		if (!memcmp(s->c->devs[d].k.mac, l->key + 16, 6))
			return s->c->devs[d].v.group;
	return g;
}

/*
 * ports_<group> and qports, learned and seeded: for each port . MAC of
 * the snapshot's port_dev, the port goes into qports when the MAC is
 * quarantined now, else into ports_<its group now> (defaults.unknown's
 * for a MAC of no group), with what is left of the element's timeout.
 */
static void port_sets(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	size_t ng = s->p->n_groups, max_done = 2 * s->topo->n_ports * (ng + 1) + 64;
	size_t n_done = 0, j;
	struct nftnl_set **sets = calloc(ng + 1, sizeof(*sets));
	struct { char port[16]; size_t g; } *done = calloc(max_done + 1, sizeof(*done));
	const struct nft_snap *sn = t->snap;
	char name[64];

	if (!sets || !done) {
		free(sets);
		free(done);
		return;
	}
	nft_set_commit(t, nft_learned_new(t, "port_dev", KT_PORTDEV, 24, BH_NFT_LEARN_MAX,
					  BH_NFT_PORT_MS, true));
	for (size_t g = 0; g <= ng; g++) {
		if (g < ng)
			named(s, "ports_", (__u32)g, NULL, name, sizeof(name));
		else
			snprintf(name, sizeof(name), "qports");
		sets[g] = nft_learned_new(t, name, NFT_T_IFNAME, 16, BH_NFT_LEARN_MAX,
					  BH_NFT_PORT_MS, false);
	}
	for (size_t i = 0; sn && i < sn->n_learned; i++) {
		const struct nft_lelem *l = &sn->learned[i];
		size_t g;

		if (l->family != t->family || strcmp(l->set, "port_dev") || l->klen != 24)
			continue;
		g = port_set_of(l, s, ng);
		/* once per port and set (a MAC flood gives a port thousands) */
		for (j = 0; j < n_done; j++)
			if (done[j].g == g && !memcmp(done[j].port, l->key, 16))
				break;
		if (j < n_done || n_done >= max_done)
			continue;
		done[n_done].g = g;
		memcpy(done[n_done++].port, l->key, 16);
		nft_learned_elem(sets[g], l->key, 16, BH_NFT_PORT_MS, l->expires_ms);
	}
	free(done);
	for (size_t g = 0; g <= ng; g++)
		nft_set_commit(t, sets[g]);
	free(sets);
}

/* base chain learn: which devices each port has (after the judge) */
static void learn_chains(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_rule *r;
	char chain[64], set[64];

	r = nft_rule(t, "learn");
	x_meta(r, NFT_META_IIFNAME, R(8));
	x_lookup(r, t, "ports", R(8), -1, true);
	x_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
	r = nft_rule(t, "learn");
	x_meta(r, NFT_META_IIFNAME, R(0));
	x_payload(r, LL, 6, 6, R(4));
	x_dynset(r, t, "port_dev", R(0), NULL);
	nft_rule_commit(t, r);
	r = nft_rule(t, "learn");
	in_set(r, t, LL, 6, 6, "quarantine", false);
	x_meta(r, NFT_META_IIFNAME, R(8));
	x_dynset(r, t, "qports", R(8), NULL);
	x_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
	r = nft_rule(t, "learn");
	x_payload(r, LL, 6, 6, R(8));
	x_lookup(r, t, "learn_grp", R(8), NFT_REG_VERDICT, false);
	nft_rule_commit(t, r);
	for (__u32 g = 0; g < s->p->n_groups; g++) {
		named(s, "learn_", g, NULL, chain, sizeof(chain));
		named(s, "ports_", g, NULL, set, sizeof(set));
		r = nft_rule(t, chain);
		x_meta(r, NFT_META_IIFNAME, R(8));
		x_dynset(r, t, set, R(8), NULL);
		nft_rule_commit(t, r);
	}
}

/* the copy leaves through a port a device of group @g was seen on */
static void to_port_of(struct nftnl_rule *r, struct nft_tbl *t, const struct bh_nft_spec *s,
		       __u32 g)
{
	char set[64];

	named(s, "ports_", g, NULL, set, sizeof(set));
	x_meta(r, NFT_META_OIFNAME, R(8));
	x_lookup(r, t, set, R(8), -1, false);
}

/* an IPv6 frame carrying ICMPv6 of @type */
static void icmp6_is(struct nftnl_rule *r, struct nft_tbl *t, __u8 type)
{
	ether_is(r, t, 0x86dd);
	l4(r, IPPROTO_ICMPV6);
	x_payload(r, TH, 0, 1, R(8));
	x_cmp8(r, R(8), EQ, type);
}

static void flood_rule(struct nft_tbl *t, const char *chain, int kind, __u8 v,
		       int verdict, const char *target)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	if (kind == 6) {
		icmp6_is(r, t, v);
	} else if (kind == 4 || kind == 5) {	/* udp dport 67 / 547 */
		__be16 p = htons(kind == 4 ? 67 : 547);

		ether_is(r, t, kind == 4 ? 0x0800 : 0x86dd);
		l4(r, IPPROTO_UDP);
		x_payload(r, TH, 2, 2, R(8));
		x_cmp(r, R(8), EQ, &p, 2);
	} else if (kind == 0x0806 || kind == 0x0800 || kind == 0x86dd) {
		__be16 et = htons((__u16)kind);

		x_payload(r, LL, 12, 2, R(8));
		x_cmp(r, R(8), EQ, &et, 2);
		t->dep_rule = r;
	}
	x_verdict(r, verdict, target);
	nft_rule_commit(t, r);
}

/* nb_<src>: ARP / NS / NA to the ports of groups the source talks to; to a
 * port nothing was learned on, solicitations only */
static void nb_chain(struct nft_tbl *t, const struct bh_nft_spec *s, __u32 sg)
{
	__be16 req = htons(1);
	struct nftnl_rule *r;
	char chain[64];

	named(s, "nb_", sg, NULL, chain, sizeof(chain));
	for (int pass = 1; pass >= 0; pass--) {
		for (__u32 g = 0; g < s->p->n_groups; g++) {
			if (talks(s, sg, (int)g) != pass)
				continue;
			r = nft_rule(t, chain);
			to_port_of(r, t, s, g);
			x_verdict(r, pass ? NF_ACCEPT : NFT_GOTO, pass ? NULL : BH_NFT_DROP_FLOOD);
			nft_rule_commit(t, r);
		}
	}
	r = nft_rule(t, chain);
	pl(r, t, NH, 6, 2, R(8));
	x_cmp(r, R(8), EQ, &req, 2);
	x_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
	flood_rule(t, chain, 6, 135, NF_ACCEPT, NULL);
	flood_rule(t, chain, -1, 0, NFT_GOTO, BH_NFT_DROP_FLOOD);
}

/* fl_<src>: other IP to the ports of group G when the policy allows src ->
 * G for it as if unicast (fu_<src>_<G>), or G -> multicast (fm_<G>) */
static void fl_chain(struct nft_tbl *t, const struct bh_nft_spec *s, __u32 sg)
{
	bool ew = s->c->cfg.flags & BH_CFG_EW_ALLOW;
	char chain[64], fu[128], sgn[48], dgn[48];
	struct nftnl_rule *r;

	named(s, "fl_", sg, NULL, chain, sizeof(chain));
	gname(s, sg, sgn, sizeof(sgn));
	for (__u32 g = 0; g < s->p->n_groups; g++) {
		gname(s, g, dgn, sizeof(dgn));
		if (ew || has_pair(s, sg, g)) {
			snprintf(fu, sizeof(fu), "fu_%s_%s", sgn, dgn);
			nft_chain(t, fu, -1, 0);
			pair_rules(t, s, fu, sg, g, true);
			if (ew)
				flood_rule(t, fu, -1, 0, NF_ACCEPT, NULL);
			r = nft_rule(t, chain);
			to_port_of(r, t, s, g);
			x_verdict(r, NFT_JUMP, fu);
			nft_rule_commit(t, r);
		}
		if (has_pair(s, g, BH_GRP_MULTICAST)) {
			snprintf(fu, sizeof(fu), "fm_%s", dgn);
			r = nft_rule(t, chain);
			to_port_of(r, t, s, g);
			x_verdict(r, NFT_JUMP, fu);
			nft_rule_commit(t, r);
		}
	}
	flood_rule(t, chain, -1, 0, NFT_GOTO, BH_NFT_DROP_FLOOD);
}

/*
 * Base chain flood (bridge postrouting): each copy of a group-addressed
 * frame a device sent, on its way out of a device port, passes only to
 * where its sender may reach (drop_flood). The gateway's own stack gets
 * its copy on the input hook (not judged here); what the gateway sends
 * has one of its MACs as source (a device's frame with one is drop_spoof
 * in prerouting): never judged. Postrouting, not forward: the bridge has
 * no forward hook unless the quarantine lock needs one (the forward hook
 * would have iifname, postrouting has not, hence the source MAC).
 */
static void flood_chains(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	static const __u8 never[] = { 133, 131, 132, 143 };	/* RS, MLD */
	bool ew = s->c->cfg.flags & BH_CFG_EW_ALLOW;
	const char *ch = "flood_judge";
	struct nftnl_rule *r;

	r = nft_rule(t, "flood");
	in_set(r, t, LL, 6, 6, "gw_macs", true);
	x_meta(r, NFT_META_OIFNAME, R(8));
	x_lookup(r, t, "ports", R(8), -1, false);
	mcast(r, true);
	x_verdict(r, NFT_GOTO, ch);
	nft_rule_commit(t, r);

	r = nft_rule(t, ch);
	in_set(r, t, LL, 6, 6, "quarantine", false);
	x_verdict(r, NFT_GOTO, BH_NFT_DROP_FLOOD);
	nft_rule_commit(t, r);
	r = nft_rule(t, ch);
	x_meta(r, NFT_META_OIFNAME, R(8));
	x_lookup(r, t, "qports", R(8), -1, false);
	x_verdict(r, NFT_GOTO, BH_NFT_DROP_FLOOD);
	nft_rule_commit(t, r);
	flood_rule(t, ch, 0x0806, 0, NFT_GOTO, "flood_nb");
	flood_rule(t, ch, 6, 135, NFT_GOTO, "flood_nb");
	flood_rule(t, ch, 6, 136, NFT_GOTO, "flood_nb");
	/* for the gateway only: RS, MLD, DHCP clients, its addresses */
	for (size_t i = 0; i < sizeof(never); i++)
		flood_rule(t, ch, 6, never[i], NFT_GOTO, BH_NFT_DROP_FLOOD);
	flood_rule(t, ch, 4, 0, NFT_GOTO, BH_NFT_DROP_FLOOD);
	flood_rule(t, ch, 5, 0, NFT_GOTO, BH_NFT_DROP_FLOOD);
	for (int v4 = 1; v4 >= 0; v4--) {
		r = nft_rule(t, ch);
		ether_is(r, t, v4 ? 0x0800 : 0x86dd);
		x_payload(r, NH, addr_off(v4, true), v4 ? 4 : 16, R(8));
		x_lookup(r, t, v4 ? "gw4" : "gw6", R(8), -1, false);
		x_verdict(r, NFT_GOTO, BH_NFT_DROP_FLOOD);
		nft_rule_commit(t, r);
	}
	for (int v4 = 1; v4 >= 0; v4--) {
		r = nft_rule(t, ch);
		ether_is(r, t, v4 ? 0x0800 : 0x86dd);
		x_payload(r, LL, 6, 6, R(8));
		x_lookup(r, t, "fl_src", R(8), NFT_REG_VERDICT, false);
		nft_rule_commit(t, r);
	}
	flood_rule(t, ch, -1, 0, NFT_GOTO, BH_NFT_DROP_FLOOD);

	if (ew) {
		flood_rule(t, "flood_nb", -1, 0, NF_ACCEPT, NULL);
	} else {
		r = nft_rule(t, "flood_nb");
		x_payload(r, LL, 6, 6, R(8));
		x_lookup(r, t, "nb_src", R(8), NFT_REG_VERDICT, false);
		nft_rule_commit(t, r);
	}
	for (__u32 g = 0; g < s->p->n_groups; g++) {
		char dgn[48], fm[64];

		if (!ew)
			nb_chain(t, s, g);
		if (!has_pair(s, g, BH_GRP_MULTICAST))
			continue;
		gname(s, g, dgn, sizeof(dgn));
		snprintf(fm, sizeof(fm), "fm_%s", dgn);
		pair_rules(t, s, fm, g, BH_GRP_MULTICAST, true);
	}
	for (__u32 g = 0; g < s->p->n_groups; g++)
		fl_chain(t, s, g);
}

/* the chains and sets of the flood judgement and of the port learning */
static void flood_setup(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	bool ew = s->c->cfg.flags & BH_CFG_EW_ALLOW;
	char chain[64];

	port_sets(t, s);
	nft_chain(t, "learn", NF_BR_PRE_ROUTING, PRIO_BRIDGE_LEARN);
	nft_chain(t, "flood", NF_BR_POST_ROUTING, PRIO_BRIDGE_POST);
	nft_chain(t, "flood_judge", -1, 0);
	nft_chain(t, "flood_nb", -1, 0);
	chains_for_groups(t, s, "learn_");
	chains_for_groups(t, s, "fl_");
	if (!ew)
		chains_for_groups(t, s, "nb_");
	for (__u32 g = 0; g < s->p->n_groups; g++) {
		char dgn[48];

		if (!has_pair(s, g, BH_GRP_MULTICAST))
			continue;
		gname(s, g, dgn, sizeof(dgn));
		snprintf(chain, sizeof(chain), "fm_%s", dgn);
		nft_chain(t, chain, -1, 0);
	}
	set_dispatch(t, s, "learn_grp", "learn_", 0);
	set_dispatch(t, s, "fl_src", "fl_", 0);
	if (!ew)
		set_dispatch(t, s, "nb_src", "nb_", 0);
	learn_chains(t, s);
	flood_chains(t, s);
}

/* ---- table bridge: what is not IP ------------------------------------------------- */

static void add_ethertype(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	__be16 v = htons(*(const __u16 *)arg);

	(void)t;
	pl(r, t, LL, 12, 2, R(8));
	x_cmp(r, R(8), EQ, &v, 2);
}

void bh_nft_policy_bridge(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	static const __u8 eapol_group[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x03 };
	const char *ch = "prerouting", *arp = "arp_judge";
	static const __u16 vlan[] = { 0x8100, 0x88a8 };
	static const __u16 ip[] = { 0x0800, 0x86dd };
	__u16 et;
	struct nftnl_rule *r;
	__u8 bit = 1;

	set_ports(t, s);
	set_gw_macs(t, s);
	set_gw_addrs(t, s, true);
	set_gw_addrs(t, s, false);
	set_groups(t, s);
	set_has(t, s, true);
	set_has(t, s, false);
	set_bind(t, s, true);
	set_garp(t, s);
	claim_sets(t, s);
	set_sha_self(t, s);
	meter_sets(t, s, true);
	nft_chain(t, ch, NF_BR_PRE_ROUTING, PRIO_BRIDGE_PRE);
	drop_chains(t);
	nft_chain(t, "judge", -1, 0);
	nft_chain(t, arp, -1, 0);
	nft_chain(t, "eapol", -1, 0);
	nft_chain(t, claim_arp.chain, -1, 0);
	nft_chain(t, claim_ip4.chain, -1, 0);
	nft_chain(t, claim_ip6.chain, -1, 0);
	nft_chain(t, claim_na.chain, -1, 0);
	chains_for_groups(t, s, "arp_to_");
	nft_chain(t, "arp_to_any", -1, 0);
	set_dispatch(t, s, "addr4", "arp_to_", 4);
	set_dispatch(t, s, "arp_peer_mac", "arp_to_", 0);

	/* every frame a port receives, counted on its source MAC (a rule of its
	 * own: with the set full, an unseen MAC is not counted, and judged) */
	r = nft_rule(t, ch);
	x_meta(r, NFT_META_IIFNAME, R(8));
	x_lookup(r, t, "ports", R(8), -1, false);
	pl(r, t, LL, 6, 6, R(8));
	x_dynset(r, t, BH_NFT_DEV_STATS, R(8), NULL);
	nft_rule_commit(t, r);
	r = nft_rule(t, ch);
	x_meta(r, NFT_META_IIFNAME, R(8));
	x_lookup(r, t, "ports", R(8), -1, false);
	x_verdict(r, NFT_JUMP, "judge");
	nft_rule_commit(t, r);

	ch = "judge";
	/* a group address as the source */
	r = nft_rule(t, ch);
	pl(r, t, LL, 6, 1, R(8));
	x_mask(r, R(8), 1, &bit);
	x_cmp8(r, R(8), EQ, 1);
	counted(r, "drop_malformed", NF_DROP);
	nft_rule_commit(t, r);
	r = nft_rule(t, ch);
	in_set(r, t, LL, 6, 6, "gw_macs", false);
	counted(r, "drop_spoof", NF_DROP);
	nft_rule_commit(t, r);
	for (size_t i = 0; i < 2; i++)
		simple(t, ch, "drop_vlan", NF_DROP, add_ethertype, &vlan[i]);
	/* a quarantined destination (the gateway's MACs are never quarantined) */
	r = nft_rule(t, ch);
	in_set(r, t, LL, 0, 6, "quarantine", false);
	counted(r, "drop_quarantine", NF_DROP);
	nft_rule_commit(t, r);
	/* an unbound address of the LAN used as the sender's own: claims */
	claim_prefix_rules(t, s, ch, &claim_ip4);
	claim_prefix_rules(t, s, ch, &claim_ip6);
	claim_prefix_rules(t, s, ch, &claim_na);
	for (size_t i = 0; i < 2; i++)
		simple(t, ch, NULL, NF_ACCEPT, add_ethertype, &ip[i]);	/* table inet */
	et = 0x0806;
	r = nft_rule(t, ch);
	add_ethertype(r, t, &et);
	x_verdict(r, NFT_GOTO, arp);
	nft_rule_commit(t, r);
	et = 0x888e;
	r = nft_rule(t, ch);
	add_ethertype(r, t, &et);
	x_verdict(r, NFT_GOTO, "eapol");
	nft_rule_commit(t, r);
	simple(t, ch, "drop_ethertype", NF_DROP, NULL, NULL);

	/* 802.1X: to the gateway only */
	r = nft_rule(t, "eapol");
	in_set(r, t, LL, 0, 6, "gw_macs", false);
	counted(r, "pass_eapol", NF_ACCEPT);
	nft_rule_commit(t, r);
	r = nft_rule(t, "eapol");
	pl(r, t, LL, 0, 6, R(8));
	x_cmp(r, R(8), EQ, eapol_group, 6);
	counted(r, "pass_eapol", NF_ACCEPT);
	nft_rule_commit(t, r);
	simple(t, "eapol", "drop_ethertype", NF_DROP, NULL, NULL);

	/* ARP: the sender address (at 14) must be the sender's, the target at 24 */
	/* a known device's sender hardware address is its own */
	r = nft_rule(t, arp);
	in_set(r, t, LL, 6, 6, "known_macs", false);
	pl(r, t, NH, 8, 6, R(0));
	pl(r, t, LL, 6, 6, R(2));
	x_lookup(r, t, "sha_self", R(0), -1, true);
	counted(r, "drop_spoof", NF_DROP);
	nft_rule_commit(t, r);
	spoof_rules(t, arp, true, NH, 14);
	claim_prefix_rules(t, s, arp, &claim_arp);
	r = nft_rule(t, arp);
	in_set(r, t, NH, 24, 4, "gw4", false);
	counted(r, "pass_arp", NF_ACCEPT);
	nft_rule_commit(t, r);
	r = nft_rule(t, arp);
	in_set(r, t, LL, 0, 6, "gw_macs", false);
	counted(r, "pass_arp", NF_ACCEPT);
	nft_rule_commit(t, r);
	r = nft_rule(t, arp);
	in_set(r, t, LL, 6, 6, "quarantine", false);
	counted(r, "drop_quarantine", NF_DROP);
	nft_rule_commit(t, r);
	/* gratuitous, for its own bound address */
	r = nft_rule(t, arp);
	pl(r, t, NH, 14, 4, R(0));
	pl(r, t, NH, 24, 4, R(1));
	x_lookup(r, t, "garp4", R(0), -1, false);
	counted(r, "pass_arp", NF_ACCEPT);
	nft_rule_commit(t, r);
	peer_rules(t, arp, true, NH, 24, "addr4", "arp_peer_mac", "arp_to_any");
	flood_setup(t, s);
	claim_chain(t, &claim_arp);
	claim_chain(t, &claim_ip4);
	claim_chain(t, &claim_ip6);
	claim_chain(t, &claim_na);
	talk_chains(t, s, "arp_to_", "pass_arp");
}
