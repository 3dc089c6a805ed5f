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
 *
 * This file: the pieces both tables use (matches, the policy's sets, drop
 * chains, source binding, group names and maps, the policy's entries
 * between two groups, ARP / ND peers). Table inet is built in nft_inet.c,
 * the bridge table's chains in nft_l2.c; nft.c calls both.
 */

#include <net/if.h>	/* before the linux/ headers that pull linux/if.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "nft_policy.h"
#include "../bpf/bulkhead_abi.h"

/* enum bh_reason -> its name: the counters and the deny events' prefixes */
const char *const bh_reason_names[BH_R_MAX] = { BH_REASONS(BH_REASON_NAME) };

/*
 * "bulkhead <reason>[ <rule>]" (rule BH_RULE_DEFAULT: none); @would: a drop
 * audit waived, "bulkhead would_drop <reason>[ <rule>]"
 */
static void bh_nflog_prefix(char *buf, size_t len, unsigned int reason, __u32 rule,
			    bool would)
{
	const char *w = would ? " " BH_NFLOG_WOULD : "";

	if (rule == BH_RULE_DEFAULT)
		snprintf(buf, len, "%s%s %s", BH_NFLOG_PREFIX, w, bh_reason_names[reason]);
	else if (rule == BH_RULE_PIN)
		snprintf(buf, len, "%s%s %s pin", BH_NFLOG_PREFIX, w, bh_reason_names[reason]);
	else
		snprintf(buf, len, "%s%s %s %u", BH_NFLOG_PREFIX, w, bh_reason_names[reason], rule);
}

bool nft_is_v4_mapped(const __u8 *a)
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
void nft_load_payload(struct nftnl_rule *r, struct nft_tbl *t, __u32 base, __u32 off,
		      __u32 len, __u32 dreg)
{
	if (t->icmp6 && t->dep_rule6 != r && base != LINK_HDR) {
		/* table inet, chain nd_judge: ICMPv6 (icmpv6 type, taddr, ip6 ...) */
		expr_meta(r, NFT_META_NFPROTO, REG32(14));
		expr_cmp_u8(r, REG32(14), NFT_CMP_EQ, NFPROTO_IPV6);
		expr_meta(r, NFT_META_L4PROTO, REG32(14));
		expr_cmp_u8(r, REG32(14), NFT_CMP_EQ, IPPROTO_ICMPV6);
		t->dep_rule6 = r;
	}
	if (t->dep_rule != r) {
		if (t->family == NFPROTO_INET && base == LINK_HDR) {
			__u16 ether = 1;	/* ARPHRD_ETHER */

			expr_meta(r, NFT_META_IIFTYPE, REG32(15));
			expr_cmp(r, REG32(15), NFT_CMP_EQ, &ether, 2);
			t->dep_rule = r;
		} else if (t->family == NFPROTO_BRIDGE && base == NET_HDR) {
			__be16 arp = htons(0x0806);

			expr_payload(r, LINK_HDR, 12, 2, REG32(15));
			expr_cmp(r, REG32(15), NFT_CMP_EQ, &arp, 2);
			t->dep_rule = r;
		}
	}
	expr_payload(r, base, off, len, dreg);
}

void nft_match_nfproto(struct nftnl_rule *r, __u8 pf)
{
	expr_meta(r, NFT_META_NFPROTO, REG32(8));
	expr_cmp_u8(r, REG32(8), NFT_CMP_EQ, pf);
}

void nft_match_l4proto(struct nftnl_rule *r, __u8 proto)
{
	expr_meta(r, NFT_META_L4PROTO, REG32(8));
	expr_cmp_u8(r, REG32(8), NFT_CMP_EQ, proto);
}

/* the destination MAC is a group address: @yes, or a unicast one */
void nft_match_group_addressed(struct nftnl_rule *r, bool yes)
{
	__u8 bit = 1;

	expr_payload(r, LINK_HDR, 0, 1, REG32(8));
	expr_mask(r, REG32(8), 1, &bit);
	expr_cmp_u8(r, REG32(8), yes ? NFT_CMP_EQ : NFT_CMP_NEQ, 1);
}

void nft_match_in_set(struct nftnl_rule *r, struct nft_tbl *t, __u32 base, __u32 off,
		      __u32 len, const char *set, bool inv)
{
	nft_load_payload(r, t, base, off, len, REG32(8));
	expr_lookup(r, t, set, REG32(8), -1, inv);
}

/* a pass counts into @counter and accepts; a drop goes to the chain named
 * after its reason (drop_chains: the source's drop counter, an event, the
 * reason's counter) */
void nft_counted_verdict(struct nftnl_rule *r, const char *counter, int verdict)
{
	if (verdict == NF_DROP) {
		expr_verdict(r, NFT_GOTO, counter);
		return;
	}
	expr_counter_ref(r, counter);
	expr_verdict(r, verdict, NULL);
}

/* a rule: <what @fn adds> counter name @counter @verdict */
void nft_add_rule(struct nft_tbl *t, const char *chain, const char *counter, int verdict,
		  void (*fn)(struct nftnl_rule *, struct nft_tbl *, const void *),
		  const void *arg)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	if (fn)
		fn(r, t, arg);
	if (counter)
		nft_counted_verdict(r, counter, verdict);
	else
		expr_verdict(r, verdict, NULL);
	nft_rule_commit(t, r);
}

/* ---- sets ------------------------------------------------------------------ */

/*
 * The device-facing ports: in table bridge the ports themselves; in table
 * inet the bridges (br_netfilter gives IP hooks the bridge as input) and
 * ports listed without a bridge.
 */
static void nft_ports_set(struct nft_tbl *t, const struct bh_nft_spec *s)
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

static void nft_gw_macs_set(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_set *set = nft_set_new(t, "gw_macs", NFT_T_ETHERADDR, 6, 0, 0, 0);

	for (size_t i = 0; i < s->topo->n_macs; i++)
		nft_elem(set, s->topo->macs[i], 6, NULL, 0);
	nft_set_commit(t, set);
}

static void nft_gw_addrs_set(struct nft_tbl *t, const struct bh_nft_spec *s, bool v4)
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

/* has4 / has6: devices with bound addresses of that family (strict source) */
static void nft_has_set(struct nft_tbl *t, const struct bh_nft_spec *s, bool v4)
{
	struct nftnl_set *set = nft_set_new(t, v4 ? "has4" : "has6", NFT_T_ETHERADDR,
					    6, 0, 0, 0);

	for (size_t i = 0; i < s->c->n_devs; i++)
		if (s->c->devs[i].v.flags & (v4 ? BH_DEV_HAS_V4 : BH_DEV_HAS_V6))
			nft_elem(set, s->c->devs[i].k.mac, 6, NULL, 0);
	nft_set_commit(t, set);
}

/* bind4 / bind6: bound address . its device's MAC */
void nft_bind_set(struct nft_tbl *t, const struct bh_nft_spec *s, bool v4)
{
	struct nftnl_set *bind = nft_set_new(t, v4 ? "bind4" : "bind6",
					     v4 ? KEY_IP4_MAC : KEY_IP6_MAC,
					     v4 ? 12 : 24, 0, 0, 0);

	for (size_t i = 0; i < s->c->n_ips; i++) {
		const struct bh_ip_ent *e = &s->c->ips[i];
		__u8 k[24] = {};
		__u32 alen = v4 ? 4 : 16;

		if (nft_is_v4_mapped(e->k.addr) != v4)
			continue;
		memcpy(k, v4 ? e->k.addr + 12 : e->k.addr, alen);
		memcpy(k + alen, e->v.mac, 6);
		nft_elem(bind, k, alen + 8, NULL, 0);
	}
	nft_set_commit(t, bind);
}

/* bound4 / bound6: the addresses devices bind (policy ip:, leases) */
void nft_bound_set(struct nft_tbl *t, const struct bh_nft_spec *s, bool v4)
{
	struct nftnl_set *set = nft_set_new(t, v4 ? "bound4" : "bound6",
					    v4 ? NFT_T_IPADDR : NFT_T_IP6ADDR,
					    v4 ? 4 : 16, 0, 0, 0);

	for (size_t i = 0; i < s->c->n_ips; i++) {
		const __u8 *a = s->c->ips[i].k.addr;

		if (nft_is_v4_mapped(a) == v4)
			nft_elem(set, v4 ? a + 12 : a, v4 ? 4 : 16, NULL, 0);
	}
	nft_set_commit(t, set);
}

void nft_rule_chain_name(char *buf, size_t len, __u32 id)
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
void nft_meter_sets(struct nft_tbl *t, const struct bh_nft_spec *s, bool bridge)
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
void nft_event_rule(struct nft_tbl *t, const char *chain, unsigned int reason,
		    __u32 rule, bool would)
{
	struct nftnl_rule *r = nft_rule(t, chain);
	char prefix[80];

	nft_load_payload(r, t, LINK_HDR, 6, 6, REG32(8));
	expr_set_update(r, t, BH_NFT_EV_LIMIT, REG32(8), expr_limit_new(BH_EV_RATE, BH_EV_BURST));
	expr_objref(r, NFT_OBJECT_LIMIT, BH_NFT_EV_CAP);
	bh_nflog_prefix(prefix, sizeof(prefix), reason, rule, would);
	expr_log(r, prefix, BH_NFLOG_GROUP);
	nft_rule_commit(t, r);
}

void nft_drop_tail(struct nft_tbl *t, const char *chain, unsigned int reason, __u32 rule)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	nft_load_payload(r, t, LINK_HDR, 6, 6, REG32(8));
	expr_set_update(r, t, BH_NFT_DEV_DROPS, REG32(8), NULL);
	nft_rule_commit(t, r);

	nft_event_rule(t, chain, reason, rule, false);

	r = nft_rule(t, chain);
	expr_counter_ref(r, bh_reason_names[reason]);
	expr_verdict(r, NF_DROP, NULL);
	nft_rule_commit(t, r);
}

/*
 * chain drop_<reason> for every drop reason; a flooded copy withheld from a
 * port is only counted, as the BPF programs do: the frame went elsewhere,
 * so it is no drop of its sender's and no deny event
 */
void nft_drop_chains(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	for (unsigned int i = BH_R_DROP_RULE; i < BH_R_MAX; i++) {
		nft_chain(t, bh_reason_names[i], -1, 0);
		if (i == BH_R_DROP_RULE || i == BH_R_DROP_DEFAULT || i == BH_R_DROP_FLOOD)
			nft_audit_head(t, s, bh_reason_names[i], i, BH_RULE_DEFAULT,
				       i != BH_R_DROP_FLOOD);
		if (i == BH_R_DROP_FLOOD) {
			struct nftnl_rule *r = nft_rule(t, bh_reason_names[i]);

			expr_counter_ref(r, bh_reason_names[i]);
			expr_verdict(r, NF_DROP, NULL);
			nft_rule_commit(t, r);
			continue;
		}
		if (i == BH_R_DROP_BLOCK && t->family == NFPROTO_INET)
			nft_det_block_log(t, s, bh_reason_names[i]);
		nft_drop_tail(t, bh_reason_names[i], i, BH_RULE_DEFAULT);
	}
}

/* ---- audit (staging) ---------------------------------------------------------------- */

bool nft_audit_any(const struct bh_nft_spec *s)
{
	if (!s || !s->p)
		return false;
	if (s->p->audit)
		return true;
	for (size_t g = 0; g < s->p->n_groups; g++)
		if (s->p->groups[g].audit)
			return true;
	return false;
}

struct audit_match {
	const struct bh_nft_spec *s;
	__u32 g;
	__u32 off;		/* of the MAC: 0 destination, 6 source */
};

/* the MAC is a member of group a->g (the unknown group: of none) */
static void add_audit_match(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	const struct audit_match *a = arg;
	char set[64];

	if (a->g == a->s->p->unknown_group) {
		nft_match_in_set(r, t, LINK_HDR, a->off, 6, "known_macs", true);
		return;
	}
	nft_group_obj_name(a->s, "g_", a->g, NULL, set, sizeof(set));
	nft_match_in_set(r, t, LINK_HDR, a->off, 6, set, false);
}

static void audit_goto(struct nft_tbl *t, const char *chain, const char *to,
		       const struct audit_match *a)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	if (a)
		add_audit_match(r, t, a);
	expr_verdict(r, NFT_GOTO, to);
	nft_rule_commit(t, r);
}

/*
 * Audit: the head of @chain, a policy drop (@reason, @rule), sends the
 * frames it stages to chain audit_<chain>: a deny event marked would_drop,
 * counted as pass_audit, accepted. Every frame under defaults.mode: audit;
 * else those whose source MAC (and with @dst, destination MAC) is an
 * audited group's member. Nothing when the policy stages nothing.
 */
void nft_audit_head(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain,
		    unsigned int reason, __u32 rule, bool dst)
{
	struct audit_match a = { .s = s };
	struct nftnl_rule *r;
	char to[64];

	if (!nft_audit_any(s))
		return;
	snprintf(to, sizeof(to), "audit_%s", chain);
	nft_chain(t, to, -1, 0);
	nft_event_rule(t, to, reason, rule, true);
	r = nft_rule(t, to);
	expr_counter_ref(r, bh_reason_names[BH_R_PASS_AUDIT]);
	expr_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
	if (s->p->audit) {
		audit_goto(t, chain, to, NULL);
		return;
	}
	for (a.g = 0; a.g < s->p->n_groups; a.g++) {
		if (!s->p->groups[a.g].audit)
			continue;
		a.off = 6;
		audit_goto(t, chain, to, &a);
		a.off = 0;
		if (dst)
			audit_goto(t, chain, to, &a);
	}
}

/* ---- source binding --------------------------------------------------------------- */

__u32 nft_ip_addr_offset(bool v4, bool dst)
{
	return v4 ? (dst ? 16 : 12) : (dst ? 24 : 8);
}

/* (source address . source MAC) is not a bound pair */
static void not_bound(struct nftnl_rule *r, struct nft_tbl *t, bool v4, __u32 base,
		      __u32 off)
{
	nft_load_payload(r, t, base, off, v4 ? 4 : 16, REG32(0));
	nft_load_payload(r, t, LINK_HDR, 6, 6, v4 ? REG32(1) : REG32(4));
	expr_lookup(r, t, v4 ? "bind4" : "bind6", REG32(0), -1, true);
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

	if (a->base == NET_HDR && t->family != NFPROTO_BRIDGE)
		nft_match_nfproto(r, a->v4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	if (a->strict) {
		nft_match_in_set(r, t, LINK_HDR, 6, 6, a->v4 ? "has4" : "has6", false);
		nft_load_payload(r, t, a->base, a->off, len, REG32(8));
		expr_cmp(r, REG32(8), NFT_CMP_NEQ, zero, len);
		if (!a->v4) {	/* link-local addresses are not bound */
			static const __u8 ll_mask[2] = { 0xff, 0xc0 }, ll[2] = { 0xfe, 0x80 };

			nft_load_payload(r, t, a->base, a->off, 2, REG32(8));
			expr_mask(r, REG32(8), 2, ll_mask);
			expr_cmp(r, REG32(8), NFT_CMP_NEQ, ll, 2);
		}
	} else {
		/* a plain set: kernels before 6.5 refuse a lookup without a
		 * destination register on a verdict map (addr4, addr6) */
		nft_match_in_set(r, t, a->base, a->off, len, a->v4 ? "bound4" : "bound6", false);
	}
	not_bound(r, t, a->v4, a->base, a->off);
}

void nft_spoof_rules(struct nft_tbl *t, const char *chain, bool v4, __u32 base,
		     __u32 off)
{
	struct spoof_arg loose = { v4, base, off, false }, strict = { v4, base, off, true };
	struct nftnl_rule *r = nft_rule(t, chain);

	if (base == NET_HDR && t->family != NFPROTO_BRIDGE)
		nft_match_nfproto(r, v4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
	nft_match_in_set(r, t, base, off, v4 ? 4 : 16, v4 ? "gw4" : "gw6", false);
	nft_counted_verdict(r, "drop_spoof", NF_DROP);
	nft_rule_commit(t, r);
	nft_add_rule(t, chain, "drop_spoof", NF_DROP, add_spoof, &loose);
	nft_add_rule(t, chain, "drop_spoof", NF_DROP, add_spoof, &strict);
}

/* ---- groups as sets, destinations as chains ------------------------------------ */

/* a group's name as nftables takes it: [A-Za-z0-9_] */
void nft_group_name(const struct bh_nft_spec *s, __u32 g, char *buf, size_t len)
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

void nft_group_obj_name(const struct bh_nft_spec *s, const char *prefix, __u32 g,
			const char *suffix, char *buf, size_t len)
{
	char n[48];

	nft_group_name(s, g, n, sizeof(n));
	snprintf(buf, len, "%s%s%s", prefix, n, suffix ? suffix : "");
}

/* g_<group>: its members' MACs; devices: every member's */
static void nft_group_sets(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_set *all = nft_set_new(t, "known_macs", NFT_T_ETHERADDR, 6, 0, 0, 0);

	for (size_t g = 0; g < s->p->n_groups; g++) {
		struct nftnl_set *set;
		char name[64];

		nft_group_obj_name(s, "g_", (__u32)g, NULL, name, sizeof(name));
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

void nft_common_sets(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	nft_ports_set(t, s);
	nft_gw_macs_set(t, s);
	nft_gw_addrs_set(t, s, true);
	nft_gw_addrs_set(t, s, false);
	nft_group_sets(t, s);
	nft_has_set(t, s, true);
	nft_has_set(t, s, false);
	nft_bind_set(t, s, true);
}

/*
 * A vmap from a device's MAC (or bound address) to the chain
 * <prefix><its group>; the MAC map's catch-all goes to defaults.unknown's.
 */
void nft_dispatch_map(struct nft_tbl *t, const struct bh_nft_spec *s,
		      const char *name, const char *prefix, int kind)
{
	__u32 kt = kind == 0 ? NFT_T_ETHERADDR : kind == 4 ? NFT_T_IPADDR : NFT_T_IP6ADDR;
	__u32 kl = kind == 0 ? 6 : kind == 4 ? 4 : 16;
	struct nftnl_set *set = nft_set_new(t, name, kt, kl, 0, NFT_T_VERDICT, 0);
	char chain[64];

	if (kind == 0) {
		for (size_t i = 0; i < s->c->n_devs; i++) {
			nft_group_obj_name(s, prefix, s->c->devs[i].v.group, NULL, chain, sizeof(chain));
			nft_elem_verdict(set, s->c->devs[i].k.mac, 6, NFT_GOTO, chain);
		}
	} else {
		for (size_t i = 0; i < s->c->n_ips; i++) {
			const __u8 *a = s->c->ips[i].k.addr;

			if (nft_is_v4_mapped(a) != (kind == 4))
				continue;
			nft_group_obj_name(s, prefix, s->c->ips[i].v.group, NULL, chain, sizeof(chain));
			nft_elem_verdict(set, kind == 4 ? a + 12 : a, kl, NFT_GOTO, chain);
		}
	}
	if (kind == 0) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();

		nft_group_obj_name(s, prefix, s->c->cfg.unknown_group, NULL, chain, sizeof(chain));
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_CATCHALL);
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (__u32)NFT_GOTO);
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
		nftnl_set_elem_add(set, e);
	}
	nft_set_commit(t, set);
}

void nft_match_ct(struct nftnl_rule *r, int dir, __u32 bits)
{
	__u32 zero = 0;

	if (dir >= 0) {
		expr_ct_load(r, NFT_CT_DIRECTION, REG32(8));
		expr_cmp_u8(r, REG32(8), NFT_CMP_EQ, (__u8)dir);
	}
	expr_ct_load(r, NFT_CT_STATE, REG32(8));
	expr_mask(r, REG32(8), 4, &bits);
	expr_cmp(r, REG32(8), NFT_CMP_NEQ, &zero, 4);
}

/* the source MAC is in group @g (@unknown: or in no group at all) */
void nft_match_src_group(struct nftnl_rule *r, struct nft_tbl *t, const struct bh_nft_spec *s,
			 __u32 g, bool unknown)
{
	char set[64];

	if (unknown) {
		nft_match_in_set(r, t, LINK_HDR, 6, 6, "known_macs", true);
		return;
	}
	nft_group_obj_name(s, "g_", g, NULL, set, sizeof(set));
	nft_match_in_set(r, t, LINK_HDR, 6, 6, set, false);
}

/* one rule per source variant: the group's members, and non-members for defaults.unknown */
int nft_src_variants(const struct bh_nft_spec *s, __u32 sg)
{
	return sg == s->c->cfg.unknown_group ? 2 : 1;
}

void nft_group_chains(struct nft_tbl *t, const struct bh_nft_spec *s,
		      const char *prefix)
{
	char chain[64];

	for (__u32 g = 0; g < s->p->n_groups; g++) {
		nft_group_obj_name(s, prefix, g, NULL, chain, sizeof(chain));
		nft_chain(t, chain, -1, 0);
	}
}

/* ---- policy entries: from a source group to a destination group ------------------- */

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

	nft_rule_chain_name(rc, sizeof(rc), id);
	if (r) {
		expr_verdict(r, v, flood ? NULL : rc);
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
void nft_pair_rules(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain,
		    __u32 sg, __u32 dg, bool flood)
{
	struct nftnl_set *pm = NULL, *qm = NULL;
	char pname[128], qname[128], sgn[48], dgn[48];
	const struct bh_pol_ent *any = NULL;

	nft_group_name(s, sg, sgn, sizeof(sgn));
	nft_group_name(s, dg, dgn, sizeof(dgn));
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
	for (int v = 0; v < (flood ? 1 : nft_src_variants(s, sg)); v++) {
		struct nftnl_rule *r;

		if (pm) {
			r = nft_rule(t, chain);
			if (!flood)
				nft_match_src_group(r, t, s, sg, v);
			expr_meta(r, NFT_META_L4PROTO, REG32(0));
			expr_payload(r, TRANSPORT_HDR, 2, 2, REG32(1));
			expr_lookup(r, t, pname, REG32(0), NFT_REG_VERDICT, false);
			nft_rule_commit(t, r);
		}
		if (qm) {
			r = nft_rule(t, chain);
			if (!flood)
				nft_match_src_group(r, t, s, sg, v);
			expr_meta(r, NFT_META_L4PROTO, REG32(0));
			expr_lookup(r, t, qname, REG32(0), NFT_REG_VERDICT, false);
			nft_rule_commit(t, r);
		}
		if (any) {
			r = nft_rule(t, chain);
			if (!flood)
				nft_match_src_group(r, t, s, sg, v);
			entry_verdict(NULL, r, flood, any->v.rule_id,
				      any->v.action == BH_ACT_DENY);
			nft_rule_commit(t, r);
		}
	}
}

/* the policy has entries from group @sg to group @dg */
bool nft_has_entries(const struct bh_nft_spec *s, __u32 sg, __u32 dg)
{
	for (size_t i = 0; i < s->c->n_pols; i++)
		if (s->c->pols[i].k.sgroup == sg && s->c->pols[i].k.dgroup == dg)
			return true;
	return false;
}

/* ---- ARP / ND: who may resolve whom ----------------------------------------------- */

/* group @a may talk to group @b (@b < 0: to some group): ARP / ND pass */
bool nft_group_talks_to(const struct bh_nft_spec *s, __u32 a, int b)
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
			  const char *counter, int tg, bool arp)
{
	bool ew = s->c->cfg.flags & BH_CFG_EW_ALLOW;

	for (__u32 sg = 0; !ew && sg < s->p->n_groups; sg++) {
		if (!nft_group_talks_to(s, sg, tg))
			continue;
		for (int v = 0; v < nft_src_variants(s, sg); v++) {
			struct nftnl_rule *r = nft_rule(t, chain);

			nft_match_src_group(r, t, s, sg, v);
			nft_counted_verdict(r, counter, NF_ACCEPT);
			nft_rule_commit(t, r);
		}
	}
	/* resolving a device it may not talk to: an address scan by ARP */
	if (arp && !ew)
		nft_det_arp_rule(t, s, chain);
	nft_add_rule(t, chain, ew ? counter : "drop_default", ew ? NF_ACCEPT : NF_DROP, NULL, NULL);
}

/*
 * ARP / ND between groups that may talk: chains <prefix><target group>;
 * and <prefix>any: a solicitation for an address no device binds, sent to
 * everyone (a broadcast ARP request, an NS to a solicited-node group). Its
 * owner is unknown until it answers, so it may ask when its group talks to
 * some group; a group that talks to nobody may not (ARP scans stay dropped).
 * @arp: the chains are ARP's, whose denials detection counts as attempts.
 */
void nft_talk_chains(struct nft_tbl *t, const struct bh_nft_spec *s, const char *prefix,
		     const char *counter, bool arp)
{
	char chain[64];

	for (__u32 tg = 0; tg < s->p->n_groups; tg++) {
		nft_group_obj_name(s, prefix, tg, NULL, chain, sizeof(chain));
		talkers_chain(t, s, chain, counter, (int)tg, arp);
	}
	snprintf(chain, sizeof(chain), "%sany", prefix);
	talkers_chain(t, s, chain, counter, -1, arp);
}

/*
 * The peer: the owner of @off's address; else, for a solicitation sent to
 * everyone (@any: its chain), any group; else the destination MAC's group.
 */
void nft_peer_rules(struct nft_tbl *t, const char *chain, bool v4, __u32 base,
		    __u32 off, const char *ipmap, const char *macmap, const char *any)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	nft_load_payload(r, t, base, off, v4 ? 4 : 16, REG32(8));
	expr_lookup(r, t, ipmap, REG32(8), NFT_REG_VERDICT, false);
	nft_rule_commit(t, r);
	if (any) {
		r = nft_rule(t, chain);
		if (v4) {	/* arp operation request */
			__be16 op = htons(1);

			nft_load_payload(r, t, NET_HDR, 6, 2, REG32(8));
			expr_cmp(r, REG32(8), NFT_CMP_EQ, &op, 2);
		}
		nft_match_group_addressed(r, true);
		expr_verdict(r, NFT_GOTO, any);
		nft_rule_commit(t, r);
	}
	r = nft_rule(t, chain);
	nft_load_payload(r, t, LINK_HDR, 0, 6, REG32(8));
	expr_lookup(r, t, macmap, REG32(8), NFT_REG_VERDICT, false);
	nft_rule_commit(t, r);
}
