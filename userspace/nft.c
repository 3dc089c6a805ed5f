// SPDX-License-Identifier: GPL-2.0
/*
 * nft.c - Bulkhead's nftables tables, the top of the nft files: each
 * change is one batch (nft_msg.c) that, for each table, creates it if
 * absent, deletes it and creates it anew, so the tables are replaced
 * atomically, with what the tables in force counted and learned carried
 * over (nft_snap.c).
 *
 *   table bridge bulkhead {                  (every mode: the quarantine lock)
 *     set quarantine { type ether_addr; elements = { ... } }
 *     (the chains below only while the set has an element)
 *     chain forward { type filter hook forward priority -200;
 *       ether saddr @quarantine counter name drop_quarantine drop
 *       ether daddr @quarantine counter name drop_quarantine drop }
 *     chain input  { type filter hook input priority -200;
 *       ether saddr @quarantine jump quarantine_in }
 *     chain output { type filter hook output priority -200;
 *       ether daddr @quarantine jump quarantine_out }
 *     chain quarantine_in  { arp, ND, the quarantine.allow services: accept; drop }
 *     chain quarantine_out { the same, answered by the gateway: accept; drop }
 *     (--mode nft: chain prerouting and its sets, see nft_policy.c)
 *   }
 *   table inet bulkhead { ... }              (--mode nft only, nft_policy.c)
 *
 * Also here: what status, devices and the metrics read of the tables in
 * force (their counters, per-MAC elements and address claims).
 */
#include <net/if.h>	/* before the linux/ headers that pull linux/if.h */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_bridge.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "nft.h"
#include "nft_msg.h"
#include "nft_policy.h"
#include "nft_snap.h"

#define PRIO_FILTER	(-200)		/* NF_BR_PRI_FILTER_BRIDGED */

/* ---- the quarantine lock ------------------------------------------------------- */

/* ether {s,d}addr @set <verdict> */
static void rule_quarantined_mac(struct nft_tbl *t, const char *chain, const char *set,
				 __u32 off, int verdict, const char *target)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	expr_payload(r, NFT_PAYLOAD_LL_HEADER, off, 6, NFT_REG_1);
	expr_lookup(r, t, set, NFT_REG_1, -1, false);
	if (verdict == NF_DROP)
		expr_counter_ref(r, "drop_quarantine");
	expr_verdict(r, verdict, target);
	nft_rule_commit(t, r);
}

static void rule_ethertype_accept(struct nft_tbl *t, const char *chain, __u16 type)
{
	struct nftnl_rule *r = nft_rule(t, chain);
	__be16 v = htons(type);

	expr_payload(r, NFT_PAYLOAD_LL_HEADER, 12, 2, NFT_REG_1);
	expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, &v, 2);
	expr_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
}

static void match_l4proto(struct nftnl_rule *r, __u8 proto)
{
	expr_meta(r, NFT_META_L4PROTO, NFT_REG_1);
	expr_cmp_u8(r, NFT_REG_1, NFT_CMP_EQ, proto);
}

/* meta l4proto @proto th {sport|dport} @port accept */
static void rule_port_accept(struct nft_tbl *t, const char *chain, __u8 proto,
			     bool dport, __u16 port)
{
	struct nftnl_rule *r = nft_rule(t, chain);
	__be16 p = htons(port);

	match_l4proto(r, proto);
	expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, dport ? 2 : 0, 2, NFT_REG_1);
	expr_cmp(r, NFT_REG_1, NFT_CMP_EQ, &p, 2);
	expr_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
}

/* meta l4proto @proto (icmp type in [lo, hi]) accept */
static void rule_icmp_accept(struct nft_tbl *t, const char *chain, __u8 proto,
			     __u8 lo, __u8 hi)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	match_l4proto(r, proto);
	expr_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
	expr_cmp_u8(r, NFT_REG_1, NFT_CMP_GTE, lo);
	expr_cmp_u8(r, NFT_REG_1, NFT_CMP_LTE, hi);
	expr_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
}

static void rule_drop(struct nft_tbl *t, const char *chain, const char *counter)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	expr_counter_ref(r, counter);
	expr_verdict(r, NF_DROP, NULL);
	nft_rule_commit(t, r);
}

/* What an isolated device may exchange with the gateway, one direction. */
static void quarantine_chain(struct nft_tbl *t, const char *chain, bool in, __u16 qallow)
{
	rule_ethertype_accept(t, chain, 0x0806);			/* ARP */
	rule_icmp_accept(t, chain, IPPROTO_ICMPV6, 133, 136);		/* ND */
	if (qallow & BH_SVC_DHCP) {
		rule_port_accept(t, chain, IPPROTO_UDP, in, 67);
		rule_port_accept(t, chain, IPPROTO_UDP, in, 547);
	}
	if (qallow & BH_SVC_DNS) {
		rule_port_accept(t, chain, IPPROTO_UDP, in, 53);
		rule_port_accept(t, chain, IPPROTO_TCP, in, 53);
	}
	if (qallow & BH_SVC_NTP)
		rule_port_accept(t, chain, IPPROTO_UDP, in, 123);
	if (qallow & BH_SVC_ICMP) {
		rule_icmp_accept(t, chain, IPPROTO_ICMP, 0, 0);
		rule_icmp_accept(t, chain, IPPROTO_ICMP, 8, 8);
		rule_icmp_accept(t, chain, IPPROTO_ICMPV6, 128, 129);
	}
	rule_drop(t, chain, "drop_quarantine");
}

static void mac_set(struct nft_tbl *t, const char *name, const __u8 (*macs)[6], size_t n)
{
	struct nftnl_set *set = nft_set_new(t, name, NFT_T_ETHERADDR, 6, 0, 0, 0);

	for (size_t i = 0; i < n; i++)
		nft_elem(set, macs[i], 6, NULL, 0);
	nft_set_commit(t, set);
}

static void quarantine_set(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	mac_set(t, "quarantine", s->quarantine, s->n_quarantine);
}

/* a counter per reason; pass_audit only when the policy stages drops */
static void reason_counters(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	for (int i = 0; i < BH_R_MAX; i++)
		if (i != BH_R_PASS_AUDIT || nft_audit_any(s))
			nft_counter_obj(t, bh_reason_names[i]);
}

static void bridge_table(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	nft_table_msg(t->bt, t->family, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	reason_counters(t, s);
	quarantine_set(t, s);
	/*
	 * The lock's base chains only while a device is quarantined: a
	 * registered bridge hook costs every bridged frame its traversal
	 * (hundreds of ns on veth, docs/benchmarks.md) even with an empty set,
	 * and every change of the set rewrites the table anyway.
	 */
	if (s->n_quarantine || s->n_quarantine_lan) {
		nft_chain(t, "forward", NF_BR_FORWARD, PRIO_FILTER);
		nft_chain(t, "input", NF_BR_LOCAL_IN, PRIO_FILTER);
		nft_chain(t, "output", NF_BR_LOCAL_OUT, PRIO_FILTER);
		nft_chain(t, "quarantine_in", -1, 0);
		nft_chain(t, "quarantine_out", -1, 0);
		/* level lan: bridged to and from devices dropped, the gateway
		 * (and through it the internet) left to the policy */
		if (s->n_quarantine_lan) {
			mac_set(t, "quarantine_lan", s->quarantine_lan, s->n_quarantine_lan);
			rule_quarantined_mac(t, "forward", "quarantine_lan", 6, NF_DROP, NULL);
			rule_quarantined_mac(t, "forward", "quarantine_lan", 0, NF_DROP, NULL);
		}
		rule_quarantined_mac(t, "forward", "quarantine", 6, NF_DROP, NULL);
		rule_quarantined_mac(t, "forward", "quarantine", 0, NF_DROP, NULL);
		rule_quarantined_mac(t, "input", "quarantine", 6, NFT_JUMP, "quarantine_in");
		rule_quarantined_mac(t, "output", "quarantine", 0, NFT_JUMP, "quarantine_out");
		quarantine_chain(t, "quarantine_in", true, s->qallow);
		quarantine_chain(t, "quarantine_out", false, s->qallow);
	}
	if (s->p)
		bh_nft_policy_bridge(t, s);
}

static void inet_table(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	nft_table_msg(t->bt, t->family, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	reason_counters(t, s);
	quarantine_set(t, s);
	bh_nft_policy_inet(t, s);
}

static int build_tables(struct nft_batch *bt, const struct bh_nft_spec *s,
			const struct nft_snap *snap)
{
	struct nft_tbl *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->bt = bt;
	t->snap = snap;
	t->family = NFPROTO_BRIDGE;
	bridge_table(t, s);
	if (s->p) {
		memset(t, 0, sizeof(*t));
		t->bt = bt;
		t->snap = snap;
		t->family = NFPROTO_INET;
		inet_table(t, s);
	}
	free(t);
	return 0;
}

/* ---- sending -------------------------------------------------------------------- */

static size_t batch_size(const struct bh_nft_spec *s)
{
	size_t n = 256 * 1024 + s->n_quarantine * 64;

	if (s->p) {
		n += (s->c->n_devs + s->c->n_ips) * 4 * 128;
		n += (s->c->n_pols + s->c->n_talks + s->c->n_inets * 8) * 128;
		n += s->c->n_rules * 1024;
	}
	return n;
}

struct tables_arg {
	const struct bh_nft_spec *s;	/* NULL: remove the tables */
	const struct nft_snap *snap;
};

static int fill_tables(struct nft_batch *bt, void *arg)
{
	const struct tables_arg *a = arg;

	/* create-if-absent then delete: each table goes whatever it held */
	nft_table_msg(bt, NFPROTO_BRIDGE, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nft_table_msg(bt, NFPROTO_BRIDGE, NFT_MSG_DELTABLE, 0);
	nft_table_msg(bt, NFPROTO_INET, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nft_table_msg(bt, NFPROTO_INET, NFT_MSG_DELTABLE, 0);
	return a->s ? build_tables(bt, a->s, a->snap) : 0;
}

static int send_tables(const struct bh_nft_spec *s)
{
	size_t size = s ? batch_size(s) : 64 * 1024;
	struct nft_snap snap = {};
	struct tables_arg arg = { .s = s, .snap = &snap };
	int ret;

	/* --mode nft: the counters go on, what the tables count now seeds the
	 * new ones (what they count in between is lost); the quarantine lock
	 * of the BPF modes needs no read before each apply */
	if (s && s->p && nft_snap_read(&snap))
		memset(&snap, 0, sizeof(snap));
	/* ... and what the rules learned (address claims, ports) goes on */
	if (s && s->p && nft_snap_read_learned(&snap)) {
		free(snap.learned);
		snap.learned = NULL;
		snap.n_learned = 0;
	}
	size += snap.n_elems * 64 + snap.n_learned * 128;
	ret = nft_batch_send(size, fill_tables, &arg);
	nft_snap_free(&snap);
	return ret;
}

int bh_nft_sync(const struct bh_nft_spec *s)
{
	return send_tables(s);
}

int bh_nft_remove(void)
{
	return send_tables(NULL);
}

/* ---- what the tables count and learned ---------------------------------------- */

int bh_nft_counters(__u64 *pkts, __u64 *bytes, __u64 *rule_pkts, __u64 *rule_bytes,
		    size_t n_rules)
{
	struct nft_snap s;
	bool found = false;
	int ret;

	ret = nft_snap_read(&s);
	if (ret)
		return ret;
	for (size_t i = 0; i < s.n_ctrs; i++) {
		const struct nft_ctr *c = &s.ctrs[i];

		if (!strncmp(c->name, "rule_", 5) && rule_pkts) {
			unsigned long id = strtoul(c->name + 5, NULL, 10);

			if (id < n_rules) {
				rule_pkts[id] += c->pkts;
				rule_bytes[id] += c->bytes;
			}
		}
		for (int r = 0; r < BH_R_MAX; r++) {
			if (strcmp(c->name, bh_reason_names[r]))
				continue;
			pkts[r] += c->pkts;
			bytes[r] += c->bytes;
			found = true;
		}
	}
	nft_snap_free(&s);
	return found ? 0 : -ENOENT;
}

int bh_nft_devstats(struct bh_dev_count **out, size_t *n)
{
	struct nft_snap s;
	int ret;

	*out = NULL;
	*n = 0;
	ret = nft_snap_read(&s);
	if (ret || !s.n_elems)
		goto out;
	*out = calloc(s.n_elems, sizeof(**out));
	if (!*out) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s.n_elems; i++) {
		struct bh_dev_count *d = &(*out)[i];

		memcpy(d->mac, s.elems[i].mac, 6);
		if (s.elems[i].drops) {
			d->st.drops = s.elems[i].pkts;
		} else {
			d->st.packets = s.elems[i].pkts;
			d->st.bytes = s.elems[i].bytes;
		}
	}
	*n = s.n_elems;
out:
	nft_snap_free(&s);
	return ret;
}

int bh_nft_claim_of(const struct bh_addr *a, __u8 mac[6])
{
	struct nft_snap s = {};
	size_t alen = a->v4 ? 4 : 16;
	int ret;

	ret = nft_snap_read_learned(&s);
	for (size_t i = 0; !ret && i < s.n_learned; i++) {
		const struct nft_lelem *e = &s.learned[i];

		/* claim4: ipv4_addr . ether_addr, claim6: ipv6_addr . ether_addr */
		if (strcmp(e->set, a->v4 ? "claim4" : "claim6") || e->klen < alen + 6 ||
		    memcmp(e->key, a->v4 ? a->a + 12 : a->a, alen))
			continue;
		memcpy(mac, e->key + alen, 6);
		nft_snap_free(&s);
		return 0;
	}
	nft_snap_free(&s);
	return ret ? ret : -ENOENT;
}
