// SPDX-License-Identifier: GPL-2.0
/*
 * nft_l2.c - the policy's chains in table bridge bulkhead (--mode nft):
 * chain prerouting judges what is not IP (group-addressed or gateway
 * source MAC, quarantined destination, tags, ethertypes, 802.1X, ARP) and
 * address claims (claim_*: an unbound LAN address is the first MAC's that
 * used it); IP goes on to table inet. Chain learn: which groups' devices
 * each port has; chain flood: each copy of a group-addressed frame only to
 * ports its sender may reach. See nft_policy.c.
 */
#include <net/if.h>	/* before the linux/ headers that pull linux/if.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_bridge.h>

#include "nft_policy.h"
#include "../bpf/bulkhead_abi.h"

#define PRIO_BRIDGE_PRE	(-200)		/* before br_netfilter (0) */
#define PRIO_BRIDGE_LEARN (-150)	/* after the bridge's judge: a drop teaches nothing */
#define PRIO_BRIDGE_POST (-200)	/* before br_netfilter's (last) */
#define KEY_PORT_MAC	(NFT_T_IFNAME << NFT_T_BITS | NFT_T_ETHERADDR)
#define KEY_IP4_IP4	(NFT_T_IPADDR << NFT_T_BITS | NFT_T_IPADDR)

/* ---- sets of table bridge -------------------------------------------------------- */

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
	struct nftnl_set *set = nft_set_new(t, "garp4", KEY_IP4_IP4, 8, 0, 0, 0);

	for (size_t i = 0; i < s->c->n_ips; i++) {
		__u8 k[8];

		if (!nft_is_v4_mapped(s->c->ips[i].k.addr))
			continue;
		memcpy(k, s->c->ips[i].k.addr + 12, 4);
		memcpy(k + 4, s->c->ips[i].k.addr + 12, 4);
		nft_elem(set, k, 8, NULL, 0);
	}
	nft_set_commit(t, set);
}

/* ---- per-port MAC pinning ------------------------------------------------------- */

/*
 * pin_macs: the pinned MACs; pins: (port name . MAC), the one port each
 * may come in by. By name, not ifindex: a port deleted and made again
 * keeps its pins without a new ruleset.
 */
static void set_pins(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_set *macs = nft_set_new(t, "pin_macs", NFT_T_ETHERADDR, 6, 0, 0, 0);
	struct nftnl_set *pins = nft_set_new(t, "pins", KEY_PORT_MAC, 24, 0, 0, 0);

	for (size_t g = 0; g < s->p->n_groups; g++) {
		for (size_t i = 0; i < s->p->groups[g].n_members; i++) {
			const struct bh_member *m = &s->p->groups[g].members[i];
			__u8 k[24] = {};

			if (!m->port)
				continue;
			nft_elem(macs, m->mac, 6, NULL, 0);
			strncpy((char *)k, m->port, 15);
			memcpy(k + 16, m->mac, 6);
			nft_elem(pins, k, 24, NULL, 0);
		}
	}
	nft_set_commit(t, macs);
	nft_set_commit(t, pins);
}

/* a pinned MAC coming in by another port than its own: not that device */
static void pin_rule(struct nft_tbl *t, const char *chain)
{
	struct nftnl_rule *r;

	/* counted as drop_spoof with an event ("pin"), but not on the MAC's
	 * own drop counter: the frames are not the device's */
	nft_chain(t, "drop_pin", -1, 0);
	nft_event_rule(t, "drop_pin", BH_R_DROP_SPOOF, BH_RULE_PIN, false);
	r = nft_rule(t, "drop_pin");
	expr_counter_ref(r, bh_reason_names[BH_R_DROP_SPOOF]);
	expr_verdict(r, NF_DROP, NULL);
	nft_rule_commit(t, r);

	r = nft_rule(t, chain);
	nft_match_in_set(r, t, LINK_HDR, 6, 6, "pin_macs", false);
	expr_meta(r, NFT_META_IIFNAME, REG32(8));
	nft_load_payload(r, t, LINK_HDR, 6, 6, REG32(12));
	expr_lookup(r, t, "pins", REG32(8), -1, true);
	expr_verdict(r, NFT_GOTO, "drop_pin");
	nft_rule_commit(t, r);
}

/* ---- address claims -------------------------------------------------------------- */

/* the frame is of ethertype @et: the dependency of an IP header read in
 * table bridge (nft_load_payload() would add ARP's) */
static void ether_is(struct nftnl_rule *r, struct nft_tbl *t, __u16 et)
{
	__be16 v = htons(et);

	expr_payload(r, LINK_HDR, 12, 2, REG32(15));
	expr_cmp(r, REG32(15), NFT_CMP_EQ, &v, 2);
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
		return;		/* nft_load_payload() adds ether type arp */
	ether_is(r, t, c->et);
	if (c->na) {
		nft_match_l4proto(r, IPPROTO_ICMPV6);
		expr_payload(r, TRANSPORT_HDR, 0, 1, REG32(8));
		expr_cmp_u8(r, REG32(8), NFT_CMP_EQ, 136);
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
		nft_match_in_set(r, t, c->base, c->off, len, i ? (c->v4 ? "bound4" : "bound6") :
		       (c->v4 ? "gw4" : "gw6"), false);
		expr_verdict(r, NFT_RETURN, NULL);
		nft_rule_commit(t, r);
	}
	r = nft_rule(t, c->chain);
	claim_dep(r, t, c);
	nft_match_in_set(r, t, LINK_HDR, 6, 6, c->v4 ? "has4" : "has6", false);
	if (!c->v4) {	/* a bound device's link-local addresses are claimed */
		nft_load_payload(r, t, c->base, c->off, 2, REG32(8));
		expr_mask(r, REG32(8), 2, ll_mask);
		expr_cmp(r, REG32(8), NFT_CMP_NEQ, ll, 2);
	}
	expr_verdict(r, NFT_RETURN, NULL);
	nft_rule_commit(t, r);
	/* claimed by another MAC */
	r = nft_rule(t, c->chain);
	claim_dep(r, t, c);
	nft_load_payload(r, t, c->base, c->off, len, REG32(8));
	expr_lookup(r, t, c->v4 ? "claimed4" : "claimed6", REG32(8), -1, false);
	nft_load_payload(r, t, c->base, c->off, len, REG32(0));
	nft_load_payload(r, t, LINK_HDR, 6, 6, c->v4 ? REG32(1) : REG32(4));
	expr_lookup(r, t, c->v4 ? "claim4" : "claim6", REG32(0), -1, true);
	expr_verdict(r, NFT_GOTO, "drop_spoof");
	nft_rule_commit(t, r);
	/* the sender's: claimed, or the claim refreshed (the pair first: a
	 * full claim set records no owner, so no address without one) */
	r = nft_rule(t, c->chain);
	claim_dep(r, t, c);
	nft_load_payload(r, t, c->base, c->off, len, REG32(0));
	nft_load_payload(r, t, LINK_HDR, 6, 6, c->v4 ? REG32(1) : REG32(4));
	expr_set_update(r, t, c->v4 ? "claim4" : "claim6", REG32(0), NULL);
	nft_load_payload(r, t, c->base, c->off, len, REG32(8));
	expr_set_update(r, t, c->v4 ? "claimed4" : "claimed6", REG32(8), NULL);
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
		nft_load_payload(r, t, c->base, c->off, len, REG32(8));
		expr_mask(r, REG32(8), len, mask);
		expr_cmp(r, REG32(8), NFT_CMP_EQ, net, len);
		expr_verdict(r, NFT_JUMP, c->chain);
		nft_rule_commit(t, r);
	}
}

static const struct claim_at claim_arp = { "claim_arp", true, 0x0806, false, NET_HDR, 14 };
static const struct claim_at claim_ip4 = { "claim_ip4", true, 0x0800, false, NET_HDR, 12 };
static const struct claim_at claim_ip6 = { "claim_ip6", false, 0x86dd, false, NET_HDR, 8 };
static const struct claim_at claim_na = { "claim_na", false, 0x86dd, true, TRANSPORT_HDR, 8 };

static void claim_sets(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	nft_bound_set(t, s, true);
	nft_bound_set(t, s, false);
	nft_set_commit(t, nft_learned_new(t, "claimed4", NFT_T_IPADDR, 4,
					  BH_NFT_LEARN_MAX, BH_NFT_CLAIM_MS, true));
	nft_set_commit(t, nft_learned_new(t, "claim4", KEY_IP4_MAC, 12,
					  BH_NFT_LEARN_MAX, BH_NFT_CLAIM_MS, true));
	nft_set_commit(t, nft_learned_new(t, "claimed6", NFT_T_IP6ADDR, 16,
					  BH_NFT_LEARN_MAX, BH_NFT_CLAIM_MS, true));
	nft_set_commit(t, nft_learned_new(t, "claim6", KEY_IP6_MAC, 24,
					  BH_NFT_LEARN_MAX, BH_NFT_CLAIM_MS, true));
}

/* ---- flooded frames, per destination port ------------------------------------- */

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
	nft_set_commit(t, nft_learned_new(t, "port_dev", KEY_PORT_MAC, 24, BH_NFT_LEARN_MAX,
					  BH_NFT_PORT_MS, true));
	for (size_t g = 0; g <= ng; g++) {
		if (g < ng)
			nft_group_obj_name(s, "ports_", (__u32)g, NULL, name, sizeof(name));
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
	expr_meta(r, NFT_META_IIFNAME, REG32(8));
	expr_lookup(r, t, "ports", REG32(8), -1, true);
	expr_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
	r = nft_rule(t, "learn");
	expr_meta(r, NFT_META_IIFNAME, REG32(0));
	expr_payload(r, LINK_HDR, 6, 6, REG32(4));
	expr_set_update(r, t, "port_dev", REG32(0), NULL);
	nft_rule_commit(t, r);
	r = nft_rule(t, "learn");
	nft_match_in_set(r, t, LINK_HDR, 6, 6, "quarantine", false);
	expr_meta(r, NFT_META_IIFNAME, REG32(8));
	expr_set_update(r, t, "qports", REG32(8), NULL);
	expr_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
	r = nft_rule(t, "learn");
	expr_payload(r, LINK_HDR, 6, 6, REG32(8));
	expr_lookup(r, t, "learn_grp", REG32(8), NFT_REG_VERDICT, false);
	nft_rule_commit(t, r);
	for (__u32 g = 0; g < s->p->n_groups; g++) {
		nft_group_obj_name(s, "learn_", g, NULL, chain, sizeof(chain));
		nft_group_obj_name(s, "ports_", g, NULL, set, sizeof(set));
		r = nft_rule(t, chain);
		expr_meta(r, NFT_META_IIFNAME, REG32(8));
		expr_set_update(r, t, set, REG32(8), NULL);
		nft_rule_commit(t, r);
	}
}

/* the copy leaves through a port a device of group @g was seen on */
static void to_port_of(struct nftnl_rule *r, struct nft_tbl *t, const struct bh_nft_spec *s,
		       __u32 g)
{
	char set[64];

	nft_group_obj_name(s, "ports_", g, NULL, set, sizeof(set));
	expr_meta(r, NFT_META_OIFNAME, REG32(8));
	expr_lookup(r, t, set, REG32(8), -1, false);
}

/* an IPv6 frame carrying ICMPv6 of @type */
static void icmp6_is(struct nftnl_rule *r, struct nft_tbl *t, __u8 type)
{
	ether_is(r, t, 0x86dd);
	nft_match_l4proto(r, IPPROTO_ICMPV6);
	expr_payload(r, TRANSPORT_HDR, 0, 1, REG32(8));
	expr_cmp_u8(r, REG32(8), NFT_CMP_EQ, type);
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
		nft_match_l4proto(r, IPPROTO_UDP);
		expr_payload(r, TRANSPORT_HDR, 2, 2, REG32(8));
		expr_cmp(r, REG32(8), NFT_CMP_EQ, &p, 2);
	} else if (kind == 0x0806 || kind == 0x0800 || kind == 0x86dd) {
		__be16 et = htons((__u16)kind);

		expr_payload(r, LINK_HDR, 12, 2, REG32(8));
		expr_cmp(r, REG32(8), NFT_CMP_EQ, &et, 2);
		t->dep_rule = r;
	}
	expr_verdict(r, verdict, target);
	nft_rule_commit(t, r);
}

/* nb_<src>: ARP / NS / NA to the ports of groups the source talks to; to a
 * port nothing was learned on, solicitations only */
static void flood_neigh_chain(struct nft_tbl *t, const struct bh_nft_spec *s, __u32 sg)
{
	__be16 req = htons(1);
	struct nftnl_rule *r;
	char chain[64];

	nft_group_obj_name(s, "nb_", sg, NULL, chain, sizeof(chain));
	for (int pass = 1; pass >= 0; pass--) {
		for (__u32 g = 0; g < s->p->n_groups; g++) {
			if (nft_group_talks_to(s, sg, (int)g) != pass)
				continue;
			r = nft_rule(t, chain);
			to_port_of(r, t, s, g);
			expr_verdict(r, pass ? NF_ACCEPT : NFT_GOTO, pass ? NULL : BH_NFT_DROP_FLOOD);
			nft_rule_commit(t, r);
		}
	}
	r = nft_rule(t, chain);
	nft_load_payload(r, t, NET_HDR, 6, 2, REG32(8));
	expr_cmp(r, REG32(8), NFT_CMP_EQ, &req, 2);
	expr_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
	flood_rule(t, chain, 6, 135, NF_ACCEPT, NULL);
	flood_rule(t, chain, -1, 0, NFT_GOTO, BH_NFT_DROP_FLOOD);
}

/* fl_<src>: other IP to the ports of group G when the policy allows src ->
 * G for it as if unicast (fu_<src>_<G>), or G -> multicast (fm_<G>) */
static void flood_ip_chain(struct nft_tbl *t, const struct bh_nft_spec *s, __u32 sg)
{
	bool ew = s->c->cfg.flags & BH_CFG_EW_ALLOW;
	char chain[64], fu[128], sgn[48], dgn[48];
	struct nftnl_rule *r;

	nft_group_obj_name(s, "fl_", sg, NULL, chain, sizeof(chain));
	nft_group_name(s, sg, sgn, sizeof(sgn));
	for (__u32 g = 0; g < s->p->n_groups; g++) {
		nft_group_name(s, g, dgn, sizeof(dgn));
		if (ew || nft_has_entries(s, sg, g)) {
			snprintf(fu, sizeof(fu), "fu_%s_%s", sgn, dgn);
			nft_chain(t, fu, -1, 0);
			nft_pair_rules(t, s, fu, sg, g, true);
			if (ew)
				flood_rule(t, fu, -1, 0, NF_ACCEPT, NULL);
			r = nft_rule(t, chain);
			to_port_of(r, t, s, g);
			expr_verdict(r, NFT_JUMP, fu);
			nft_rule_commit(t, r);
		}
		if (nft_has_entries(s, g, BH_GRP_MULTICAST)) {
			snprintf(fu, sizeof(fu), "fm_%s", dgn);
			r = nft_rule(t, chain);
			to_port_of(r, t, s, g);
			expr_verdict(r, NFT_JUMP, fu);
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
	nft_match_in_set(r, t, LINK_HDR, 6, 6, "gw_macs", true);
	expr_meta(r, NFT_META_OIFNAME, REG32(8));
	expr_lookup(r, t, "ports", REG32(8), -1, false);
	nft_match_group_addressed(r, true);
	expr_verdict(r, NFT_GOTO, ch);
	nft_rule_commit(t, r);

	r = nft_rule(t, ch);
	nft_match_in_set(r, t, LINK_HDR, 6, 6, "quarantine", false);
	expr_verdict(r, NFT_GOTO, BH_NFT_DROP_FLOOD);
	nft_rule_commit(t, r);
	r = nft_rule(t, ch);
	expr_meta(r, NFT_META_OIFNAME, REG32(8));
	expr_lookup(r, t, "qports", REG32(8), -1, false);
	expr_verdict(r, NFT_GOTO, BH_NFT_DROP_FLOOD);
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
		expr_payload(r, NET_HDR, nft_ip_addr_offset(v4, true), v4 ? 4 : 16, REG32(8));
		expr_lookup(r, t, v4 ? "gw4" : "gw6", REG32(8), -1, false);
		expr_verdict(r, NFT_GOTO, BH_NFT_DROP_FLOOD);
		nft_rule_commit(t, r);
	}
	for (int v4 = 1; v4 >= 0; v4--) {
		r = nft_rule(t, ch);
		ether_is(r, t, v4 ? 0x0800 : 0x86dd);
		expr_payload(r, LINK_HDR, 6, 6, REG32(8));
		expr_lookup(r, t, "fl_src", REG32(8), NFT_REG_VERDICT, false);
		nft_rule_commit(t, r);
	}
	flood_rule(t, ch, -1, 0, NFT_GOTO, BH_NFT_DROP_FLOOD);

	if (ew) {
		flood_rule(t, "flood_nb", -1, 0, NF_ACCEPT, NULL);
	} else {
		r = nft_rule(t, "flood_nb");
		expr_payload(r, LINK_HDR, 6, 6, REG32(8));
		expr_lookup(r, t, "nb_src", REG32(8), NFT_REG_VERDICT, false);
		nft_rule_commit(t, r);
	}
	for (__u32 g = 0; g < s->p->n_groups; g++) {
		char dgn[48], fm[64];

		if (!ew)
			flood_neigh_chain(t, s, g);
		if (!nft_has_entries(s, g, BH_GRP_MULTICAST))
			continue;
		nft_group_name(s, g, dgn, sizeof(dgn));
		snprintf(fm, sizeof(fm), "fm_%s", dgn);
		nft_pair_rules(t, s, fm, g, BH_GRP_MULTICAST, true);
	}
	for (__u32 g = 0; g < s->p->n_groups; g++)
		flood_ip_chain(t, s, g);
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
	nft_group_chains(t, s, "learn_");
	nft_group_chains(t, s, "fl_");
	if (!ew)
		nft_group_chains(t, s, "nb_");
	for (__u32 g = 0; g < s->p->n_groups; g++) {
		char dgn[48];

		if (!nft_has_entries(s, g, BH_GRP_MULTICAST))
			continue;
		nft_group_name(s, g, dgn, sizeof(dgn));
		snprintf(chain, sizeof(chain), "fm_%s", dgn);
		nft_chain(t, chain, -1, 0);
	}
	nft_dispatch_map(t, s, "learn_grp", "learn_", 0);
	nft_dispatch_map(t, s, "fl_src", "fl_", 0);
	if (!ew)
		nft_dispatch_map(t, s, "nb_src", "nb_", 0);
	learn_chains(t, s);
	flood_chains(t, s);
}

/* ---- chain prerouting: what is not IP ------------------------------------------ */

static void add_ethertype(struct nftnl_rule *r, struct nft_tbl *t, const void *arg)
{
	__be16 v = htons(*(const __u16 *)arg);

	(void)t;
	nft_load_payload(r, t, LINK_HDR, 12, 2, REG32(8));
	expr_cmp(r, REG32(8), NFT_CMP_EQ, &v, 2);
}

void bh_nft_policy_bridge(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	static const __u8 eapol_group[6] = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x03 };
	const char *ch = "prerouting", *arp = "arp_judge";
	static const __u16 vlan[] = { 0x8100, 0x88a8 };
	static const __u16 ip[] = { 0x0800, 0x86dd };
	bool pinned = bh_policy_n_pins(s->p) > 0;
	__u16 et;
	struct nftnl_rule *r;
	__u8 bit = 1;

	nft_common_sets(t, s);
	set_garp(t, s);
	claim_sets(t, s);
	set_sha_self(t, s);
	if (pinned)	/* nothing of it in a ruleset without pins */
		set_pins(t, s);
	nft_meter_sets(t, s, true);
	nft_det_objects_l2(t, s);
	nft_chain(t, ch, NF_BR_PRE_ROUTING, PRIO_BRIDGE_PRE);
	nft_drop_chains(t, s);
	nft_chain(t, "judge", -1, 0);
	nft_chain(t, arp, -1, 0);
	nft_chain(t, "eapol", -1, 0);
	nft_chain(t, claim_arp.chain, -1, 0);
	nft_chain(t, claim_ip4.chain, -1, 0);
	nft_chain(t, claim_ip6.chain, -1, 0);
	nft_chain(t, claim_na.chain, -1, 0);
	nft_group_chains(t, s, "arp_to_");
	nft_chain(t, "arp_to_any", -1, 0);
	nft_dispatch_map(t, s, "addr4", "arp_to_", 4);
	nft_dispatch_map(t, s, "arp_peer_mac", "arp_to_", 0);

	/* every frame a port receives, counted on its source MAC (a rule of its
	 * own: with the set full, an unseen MAC is not counted, and judged) */
	r = nft_rule(t, ch);
	expr_meta(r, NFT_META_IIFNAME, REG32(8));
	expr_lookup(r, t, "ports", REG32(8), -1, false);
	nft_load_payload(r, t, LINK_HDR, 6, 6, REG32(8));
	expr_set_update(r, t, BH_NFT_DEV_STATS, REG32(8), NULL);
	nft_rule_commit(t, r);
	r = nft_rule(t, ch);
	expr_meta(r, NFT_META_IIFNAME, REG32(8));
	expr_lookup(r, t, "ports", REG32(8), -1, false);
	expr_verdict(r, NFT_JUMP, "judge");
	nft_rule_commit(t, r);

	ch = "judge";
	/* a group address as the source */
	r = nft_rule(t, ch);
	nft_load_payload(r, t, LINK_HDR, 6, 1, REG32(8));
	expr_mask(r, REG32(8), 1, &bit);
	expr_cmp_u8(r, REG32(8), NFT_CMP_EQ, 1);
	nft_counted_verdict(r, "drop_malformed", NF_DROP);
	nft_rule_commit(t, r);
	r = nft_rule(t, ch);
	nft_match_in_set(r, t, LINK_HDR, 6, 6, "gw_macs", false);
	nft_counted_verdict(r, "drop_spoof", NF_DROP);
	nft_rule_commit(t, r);
	if (pinned)
		pin_rule(t, ch);
	for (size_t i = 0; i < 2; i++)
		nft_add_rule(t, ch, "drop_vlan", NF_DROP, add_ethertype, &vlan[i]);
	/* a quarantined destination (the gateway's MACs are never quarantined) */
	r = nft_rule(t, ch);
	nft_match_in_set(r, t, LINK_HDR, 0, 6, "quarantine", false);
	nft_counted_verdict(r, "drop_quarantine", NF_DROP);
	nft_rule_commit(t, r);
	/* an unbound address of the LAN used as the sender's own: claims */
	claim_prefix_rules(t, s, ch, &claim_ip4);
	claim_prefix_rules(t, s, ch, &claim_ip6);
	claim_prefix_rules(t, s, ch, &claim_na);
	for (size_t i = 0; i < 2; i++)
		nft_add_rule(t, ch, NULL, NF_ACCEPT, add_ethertype, &ip[i]);	/* table inet */
	et = 0x0806;
	r = nft_rule(t, ch);
	add_ethertype(r, t, &et);
	expr_verdict(r, NFT_GOTO, arp);
	nft_rule_commit(t, r);
	et = 0x888e;
	r = nft_rule(t, ch);
	add_ethertype(r, t, &et);
	expr_verdict(r, NFT_GOTO, "eapol");
	nft_rule_commit(t, r);
	nft_add_rule(t, ch, "drop_ethertype", NF_DROP, NULL, NULL);

	/* 802.1X: to the gateway only */
	r = nft_rule(t, "eapol");
	nft_match_in_set(r, t, LINK_HDR, 0, 6, "gw_macs", false);
	nft_counted_verdict(r, "pass_eapol", NF_ACCEPT);
	nft_rule_commit(t, r);
	r = nft_rule(t, "eapol");
	nft_load_payload(r, t, LINK_HDR, 0, 6, REG32(8));
	expr_cmp(r, REG32(8), NFT_CMP_EQ, eapol_group, 6);
	nft_counted_verdict(r, "pass_eapol", NF_ACCEPT);
	nft_rule_commit(t, r);
	nft_add_rule(t, "eapol", "drop_ethertype", NF_DROP, NULL, NULL);

	/* ARP: the sender address (at 14) must be the sender's, the target at 24 */
	/* a known device's sender hardware address is its own */
	r = nft_rule(t, arp);
	nft_match_in_set(r, t, LINK_HDR, 6, 6, "known_macs", false);
	nft_load_payload(r, t, NET_HDR, 8, 6, REG32(0));
	nft_load_payload(r, t, LINK_HDR, 6, 6, REG32(2));
	expr_lookup(r, t, "sha_self", REG32(0), -1, true);
	nft_counted_verdict(r, "drop_spoof", NF_DROP);
	nft_rule_commit(t, r);
	nft_spoof_rules(t, arp, true, NET_HDR, 14);
	claim_prefix_rules(t, s, arp, &claim_arp);
	r = nft_rule(t, arp);
	nft_match_in_set(r, t, NET_HDR, 24, 4, "gw4", false);
	nft_counted_verdict(r, "pass_arp", NF_ACCEPT);
	nft_rule_commit(t, r);
	r = nft_rule(t, arp);
	nft_match_in_set(r, t, LINK_HDR, 0, 6, "gw_macs", false);
	nft_counted_verdict(r, "pass_arp", NF_ACCEPT);
	nft_rule_commit(t, r);
	r = nft_rule(t, arp);
	nft_match_in_set(r, t, LINK_HDR, 6, 6, "quarantine", false);
	nft_counted_verdict(r, "drop_quarantine", NF_DROP);
	nft_rule_commit(t, r);
	/* gratuitous, for its own bound address */
	r = nft_rule(t, arp);
	nft_load_payload(r, t, NET_HDR, 14, 4, REG32(0));
	nft_load_payload(r, t, NET_HDR, 24, 4, REG32(1));
	expr_lookup(r, t, "garp4", REG32(0), -1, false);
	nft_counted_verdict(r, "pass_arp", NF_ACCEPT);
	nft_rule_commit(t, r);
	nft_peer_rules(t, arp, true, NET_HDR, 24, "addr4", "arp_peer_mac", "arp_to_any");
	flood_setup(t, s);
	claim_chain(t, &claim_arp);
	claim_chain(t, &claim_ip4);
	claim_chain(t, &claim_ip6);
	claim_chain(t, &claim_na);
	nft_talk_chains(t, s, "arp_to_", "pass_arp", true);
}
