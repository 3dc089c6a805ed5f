// SPDX-License-Identifier: GPL-2.0
/*
 * nft.c - Bulkhead's nftables tables, built with libnftnl and sent as one
 * batch (for each table: create-if-absent, delete, create anew, so the
 * tables are replaced atomically). Every message is acknowledged and every
 * acknowledgement is read; a batch that met a changed ruleset generation is
 * sent again.
 *
 *   table bridge bulkhead {                  (every mode: the quarantine lock)
 *     set quarantine { type ether_addr; elements = { ... } }
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
 * Also here: reading the named verdict counters, and flushing the kernel's
 * connection tracking for an isolated device's addresses (ctnetlink).
 */
#include <net/if.h>	/* before the linux/ headers that pull linux/if.h */
#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter_bridge.h>
#include <bpf/bpf.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nft_int.h"
#include "../bpf/bulkhead_abi.h"

#define PRIO_FILTER	(-200)		/* NF_BR_PRI_FILTER_BRIDGED */

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
};

/* ---- batch ----------------------------------------------------------------- */

static struct nlmsghdr *msg(struct nft_batch *bt, __u16 type, int family, __u16 flags)
{
	struct nlmsghdr *nlh;

	/* only the last message asks for an ACK (set when the batch is
	 * complete); a failing one is reported with or without the flag */
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type,
				    (__u16)family, flags, bt->seq++);
	bt->last = nlh;
	return nlh;
}

static void next(struct nft_batch *bt)
{
	if (!mnl_nlmsg_batch_next(bt->b))
		bt->full = true;	/* that message did not fit: resend bigger */
}

static void table_msg(struct nft_batch *bt, int family, __u16 type, __u16 flags)
{
	struct nftnl_table *t = nftnl_table_alloc();

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, BH_NFT_TABLE);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, (__u32)family);
	nftnl_table_nlmsg_build_payload(msg(bt, type, family, flags), t);
	nftnl_table_free(t);
	next(bt);
}

void nft_chain(struct nft_tbl *t, const char *name, int hook, int prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, BH_NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, (__u32)t->family);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (__u32)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nftnl_chain_nlmsg_build_payload(msg(t->bt, NFT_MSG_NEWCHAIN, t->family,
					    NLM_F_CREATE), c);
	nftnl_chain_free(c);
	next(t->bt);
}

void nft_counter_obj(struct nft_tbl *t, const char *name)
{
	struct nftnl_obj *o = nftnl_obj_alloc();

	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, BH_NFT_TABLE);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, (__u32)t->family);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_obj_nlmsg_build_payload(msg(t->bt, NFT_MSG_NEWOBJ, t->family,
					  NLM_F_CREATE), o);
	nftnl_obj_free(o);
	next(t->bt);
}

/* ---- sets -------------------------------------------------------------------- */

static __u32 set_id(struct nft_tbl *t, const char *name)
{
	for (unsigned int i = 0; i < t->n_sets; i++)
		if (!strcmp(t->names[i], name))
			return t->ids[i];
	return 0;
}

struct nftnl_set *nft_set_new(struct nft_tbl *t, const char *name, __u32 key_type,
			      __u32 key_len, __u32 flags, __u32 data_type,
			      __u32 data_len)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (t->n_sets < NFT_MAX_SETS) {
		snprintf(t->names[t->n_sets], sizeof(t->names[0]), "%s", name);
		t->ids[t->n_sets++] = ++t->next_id;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, BH_NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (__u32)t->family);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_ID, set_id(t, name));
	if (data_type) {
		flags |= NFT_SET_MAP;
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE,
				  data_type == NFT_T_VERDICT ? NFT_DATA_VERDICT : data_type);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, data_len);
	}
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	if (key_type == NFT_T_IFNAME) {
		/* nft prints a string key only when told it is host-endian */
		struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);

		nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, 1);
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
				   nftnl_udata_buf_len(ud));
		nftnl_udata_buf_free(ud);
	}
	return s;
}

void nft_elem(struct nftnl_set *s, const void *key, __u32 klen,
	      const void *data, __u32 dlen)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, klen);
	if (data)
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, dlen);
	nftnl_set_elem_add(s, e);
}

void nft_elem_verdict(struct nftnl_set *s, const void *key, __u32 klen,
		      int verdict, const char *chain)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, klen);
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (__u32)verdict);
	if (chain)
		nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, chain);
	nftnl_set_elem_add(s, e);
}

void nft_elem_catchall(struct nftnl_set *s, const void *data, __u32 dlen)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_CATCHALL);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, dlen);
	nftnl_set_elem_add(s, e);
}

void nft_set_commit(struct nft_tbl *t, struct nftnl_set *s)
{
	struct nftnl_set_elems_iter *it;

	nftnl_set_nlmsg_build_payload(msg(t->bt, NFT_MSG_NEWSET, t->family,
					  NLM_F_CREATE), s);
	next(t->bt);
	/* elements in messages that fit a page each */
	it = nftnl_set_elems_iter_create(s);
	while (it && nftnl_set_elems_iter_cur(it)) {
		struct nlmsghdr *nlh = msg(t->bt, NFT_MSG_NEWSETELEM, t->family,
					   NLM_F_CREATE);
		int more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);

		next(t->bt);
		if (more <= 0)		/* 1: the message is full, more follow */
			break;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
}

/* ---- rules --------------------------------------------------------------------- */

struct nftnl_rule *nft_rule(struct nft_tbl *t, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	t->dep_rule = NULL;
	t->dep_rule6 = NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, BH_NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (__u32)t->family);
	return r;
}

void nft_rule_commit(struct nft_tbl *t, struct nftnl_rule *r)
{
	nftnl_rule_nlmsg_build_payload(msg(t->bt, NFT_MSG_NEWRULE, t->family,
					   NLM_F_CREATE | NLM_F_APPEND), r);
	nftnl_rule_free(r);
	next(t->bt);
}

void x_payload(struct nftnl_rule *r, __u32 base, __u32 off, __u32 len, __u32 dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_rule_add_expr(r, e);
}

void x_meta(struct nftnl_rule *r, __u32 key, __u32 dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

void x_cmp(struct nftnl_rule *r, __u32 sreg, __u32 op, const void *data, __u32 len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

void x_cmp8(struct nftnl_rule *r, __u32 sreg, __u32 op, __u8 v)
{
	x_cmp(r, sreg, op, &v, 1);
}

/* reg &= mask (in place) */
void x_mask(struct nftnl_rule *r, __u32 reg, __u32 len, const void *mask)
{
	static const __u8 zero[16];
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	nftnl_rule_add_expr(r, e);
}

void x_lookup(struct nftnl_rule *r, struct nft_tbl *t, const char *set,
	      __u32 sreg, int dreg, bool inv)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (__u32)dreg);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id(t, set));
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	nftnl_rule_add_expr(r, e);
}

void x_imm(struct nftnl_rule *r, __u32 dreg, const void *data, __u32 len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

void x_ct(struct nftnl_rule *r, __u32 key, __u32 dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

void x_count(struct nftnl_rule *r, const char *counter)
{
	struct nftnl_expr *e = nftnl_expr_alloc("objref");

	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, counter);
	nftnl_rule_add_expr(r, e);
}

void x_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (__u32)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	nftnl_rule_add_expr(r, e);
}

/* ---- the quarantine lock ------------------------------------------------------- */

/* ether {s,d}addr @quarantine <verdict> */
static void rule_mac(struct nft_tbl *t, const char *chain, __u32 off,
		     int verdict, const char *target)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	x_payload(r, NFT_PAYLOAD_LL_HEADER, off, 6, NFT_REG_1);
	x_lookup(r, t, "quarantine", NFT_REG_1, -1, false);
	if (verdict == NF_DROP)
		x_count(r, "drop_quarantine");
	x_verdict(r, verdict, target);
	nft_rule_commit(t, r);
}

static void rule_ethertype_accept(struct nft_tbl *t, const char *chain, __u16 type)
{
	struct nftnl_rule *r = nft_rule(t, chain);
	__be16 v = htons(type);

	x_payload(r, NFT_PAYLOAD_LL_HEADER, 12, 2, NFT_REG_1);
	x_cmp(r, NFT_REG_1, NFT_CMP_EQ, &v, 2);
	x_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
}

static void l4proto(struct nftnl_rule *r, __u8 proto)
{
	x_meta(r, NFT_META_L4PROTO, NFT_REG_1);
	x_cmp8(r, NFT_REG_1, NFT_CMP_EQ, proto);
}

/* meta l4proto @proto th {sport|dport} @port accept */
static void rule_port_accept(struct nft_tbl *t, const char *chain, __u8 proto,
			     bool dport, __u16 port)
{
	struct nftnl_rule *r = nft_rule(t, chain);
	__be16 p = htons(port);

	l4proto(r, proto);
	x_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, dport ? 2 : 0, 2, NFT_REG_1);
	x_cmp(r, NFT_REG_1, NFT_CMP_EQ, &p, 2);
	x_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
}

/* meta l4proto @proto (icmp type in [lo, hi]) accept */
static void rule_icmp_accept(struct nft_tbl *t, const char *chain, __u8 proto,
			     __u8 lo, __u8 hi)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	l4proto(r, proto);
	x_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
	x_cmp8(r, NFT_REG_1, NFT_CMP_GTE, lo);
	x_cmp8(r, NFT_REG_1, NFT_CMP_LTE, hi);
	x_verdict(r, NF_ACCEPT, NULL);
	nft_rule_commit(t, r);
}

static void rule_drop(struct nft_tbl *t, const char *chain, const char *counter)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	x_count(r, counter);
	x_verdict(r, NF_DROP, NULL);
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

static void quarantine_set(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	struct nftnl_set *set = nft_set_new(t, "quarantine", NFT_T_ETHERADDR, 6, 0, 0, 0);

	for (size_t i = 0; i < s->n_quarantine; i++)
		nft_elem(set, s->quarantine[i], 6, NULL, 0);
	nft_set_commit(t, set);
}

static void bridge_table(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	table_msg(t->bt, t->family, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	for (int i = 0; i < BH_R_MAX; i++)
		nft_counter_obj(t, bh_reason_names[i]);
	quarantine_set(t, s);
	nft_chain(t, "forward", NF_BR_FORWARD, PRIO_FILTER);
	nft_chain(t, "input", NF_BR_LOCAL_IN, PRIO_FILTER);
	nft_chain(t, "output", NF_BR_LOCAL_OUT, PRIO_FILTER);
	nft_chain(t, "quarantine_in", -1, 0);
	nft_chain(t, "quarantine_out", -1, 0);
	rule_mac(t, "forward", 6, NF_DROP, NULL);
	rule_mac(t, "forward", 0, NF_DROP, NULL);
	rule_mac(t, "input", 6, NFT_JUMP, "quarantine_in");
	rule_mac(t, "output", 0, NFT_JUMP, "quarantine_out");
	quarantine_chain(t, "quarantine_in", true, s->qallow);
	quarantine_chain(t, "quarantine_out", false, s->qallow);
	if (s->p)
		bh_nft_policy_bridge(t, s);
}

static void inet_table(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	table_msg(t->bt, t->family, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	for (int i = 0; i < BH_R_MAX; i++)
		nft_counter_obj(t, bh_reason_names[i]);
	quarantine_set(t, s);
	bh_nft_policy_inet(t, s);
}

static int build_tables(struct nft_batch *bt, const struct bh_nft_spec *s)
{
	struct nft_tbl *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->bt = bt;
	t->family = NFPROTO_BRIDGE;
	bridge_table(t, s);
	if (s->p) {
		memset(t, 0, sizeof(*t));
		t->bt = bt;
		t->family = NFPROTO_INET;
		inet_table(t, s);
	}
	free(t);
	return 0;
}

/* ---- sending -------------------------------------------------------------------- */

static int read_acks(struct mnl_socket *nl, struct nft_batch *bt, __u32 first_seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int got = 0;
	int err = 0;

	while (got < bt->acks) {
		struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
		struct nlmsghdr *nlh;
		ssize_t len;

		if (poll(&pfd, 1, 10000) <= 0)
			return err ? err : -ETIMEDOUT;
		len = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (len < 0)
			return -errno;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, (int)len);
		     nlh = mnl_nlmsg_next(nlh, (int *)&len)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			got++;
			if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(struct nlmsgerr))) {
				struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				/* the first error aborted the batch whole */
				if (e->error && getenv("BH_NFT_DEBUG"))
					fprintf(stderr, "nft: message seq %u (type %u) failed: %s\n",
						e->msg.nlmsg_seq - first_seq, e->msg.nlmsg_type & 0xff,
						strerror(-e->error));
				if (e->error)
					return e->error;
			}
		}
	}
	return err;
}

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

static int send_batch(const struct bh_nft_spec *s)
{
	size_t size = s ? batch_size(s) : 64 * 1024;
	struct mnl_socket *nl;
	struct nft_batch bt = {};
	char *buf;
	int ret, tries, sndbuf;
	__u32 first_seq;

	for (tries = 0; tries < 3; tries++) {
		/* libmnl: room for one overflowing message; zeroed, so the
		 * attribute padding sent is never uninitialised memory */
		buf = calloc(2, size);
		if (!buf)
			return -ENOMEM;
		bt.seq = first_seq = (__u32)time(NULL);
		bt.acks = 0;
		bt.full = false;
		bt.b = mnl_nlmsg_batch_start(buf, size);
		nftnl_batch_begin(mnl_nlmsg_batch_current(bt.b), bt.seq++);
		next(&bt);

		/* create-if-absent then delete: each table goes whatever it held */
		table_msg(&bt, NFPROTO_BRIDGE, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		table_msg(&bt, NFPROTO_BRIDGE, NFT_MSG_DELTABLE, 0);
		table_msg(&bt, NFPROTO_INET, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		table_msg(&bt, NFPROTO_INET, NFT_MSG_DELTABLE, 0);
		if (s && build_tables(&bt, s)) {
			mnl_nlmsg_batch_stop(bt.b);
			free(buf);
			return -ENOMEM;
		}
		bt.last->nlmsg_flags |= NLM_F_ACK;
		bt.acks = 1;
		nftnl_batch_end(mnl_nlmsg_batch_current(bt.b), bt.seq++);
		next(&bt);
		if (bt.full) {		/* never send a cut batch */
			mnl_nlmsg_batch_stop(bt.b);
			free(buf);
			size *= 2;
			tries--;
			continue;
		}

		nl = mnl_socket_open(NETLINK_NETFILTER);
		if (!nl) {
			ret = -errno;
			goto out;
		}
		if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			ret = -errno;
			goto out_sock;
		}
		sndbuf = (int)mnl_nlmsg_batch_size(bt.b) + 65536;
		/* a batch is one message: the socket must take it whole */
		setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_SNDBUFFORCE,
			   &sndbuf, sizeof(sndbuf));
		if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(bt.b),
				      mnl_nlmsg_batch_size(bt.b)) < 0) {
			ret = -errno;
			goto out_sock;
		}
		ret = read_acks(nl, &bt, first_seq);
out_sock:
		mnl_socket_close(nl);
out:
		mnl_nlmsg_batch_stop(bt.b);
		free(buf);
		/* another writer changed the ruleset generation: try again */
		if (ret != -ERESTART && ret != -EAGAIN)
			break;
	}
	return ret;
}

int bh_nft_sync(const struct bh_nft_spec *s)
{
	return send_batch(s);
}

int bh_nft_remove(void)
{
	return send_batch(NULL);
}

/* ---- counters ---------------------------------------------------------------------- */

struct ctr_acc {
	__u64 *pkts, *bytes;
	__u64 *rule_pkts, *rule_bytes;	/* per rule id, or NULL */
	size_t n_rules;
	int found;
};

static int ctr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ctr_acc *acc = data;
	struct nftnl_obj *o = nftnl_obj_alloc();
	const char *name, *table;

	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) < 0)
		goto out;
	table = nftnl_obj_get_str(o, NFTNL_OBJ_TABLE);
	name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
	if (!table || !name || strcmp(table, BH_NFT_TABLE) ||
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) != NFT_OBJECT_COUNTER)
		goto out;
	if (!strncmp(name, "rule_", 5) && acc->rule_pkts) {
		unsigned long id = strtoul(name + 5, NULL, 10);

		if (id < acc->n_rules) {
			acc->rule_pkts[id] += nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
			acc->rule_bytes[id] += nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
		}
	}
	for (int i = 0; i < BH_R_MAX; i++) {
		if (strcmp(name, bh_reason_names[i]))
			continue;
		acc->pkts[i] += nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
		acc->bytes[i] += nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
		acc->found = 1;
	}
out:
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

int bh_nft_counters(__u64 *pkts, __u64 *bytes, __u64 *rule_pkts, __u64 *rule_bytes,
		    size_t n_rules)
{
	static const int families[] = { NFPROTO_BRIDGE, NFPROTO_INET };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ctr_acc acc = { pkts, bytes, rule_pkts, rule_bytes, n_rules, 0 };
	struct mnl_socket *nl;
	int ret = 0;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		struct nftnl_obj *o = nftnl_obj_alloc();
		struct nlmsghdr *nlh;
		__u32 seq = (__u32)time(NULL) + (__u32)f;
		ssize_t len;

		memset(buf, 0, sizeof(buf));
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, (__u16)families[f],
					    NLM_F_DUMP | NLM_F_ACK, seq);
		nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, BH_NFT_TABLE);
		nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
		nftnl_obj_nlmsg_build_payload(nlh, o);
		nftnl_obj_free(o);
		if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
			ret = -errno;
			goto out;
		}
		while ((len = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
			ret = mnl_cb_run(buf, (size_t)len, seq, mnl_socket_get_portid(nl),
					 ctr_cb, &acc);
			if (ret <= 0)
				break;
		}
		/* a family without our table answers ENOENT */
		ret = 0;
	}
	if (!acc.found)
		ret = -ENOENT;
out:
	mnl_socket_close(nl);
	return ret;
}

/* ---- connection tracking (ctnetlink) ----------------------------------------- */

struct ct_match {
	const struct bh_addr *addrs;
	size_t n;
	struct nlmsghdr **dead;		/* copies of matching entries */
	size_t n_dead, cap;
};

static bool ct_tuple_has(const struct nlattr *tuple, const struct ct_match *m)
{
	const struct nlattr *ip, *a;

	mnl_attr_for_each_nested(ip, tuple) {
		if (mnl_attr_get_type(ip) != CTA_TUPLE_IP)
			continue;
		mnl_attr_for_each_nested(a, ip) {
			__u8 v[16];
			int t = mnl_attr_get_type(a);

			if (t == CTA_IP_V4_SRC || t == CTA_IP_V4_DST) {
				memset(v, 0, 10);
				v[10] = v[11] = 0xff;
				memcpy(v + 12, mnl_attr_get_payload(a), 4);
			} else if (t == CTA_IP_V6_SRC || t == CTA_IP_V6_DST) {
				memcpy(v, mnl_attr_get_payload(a), 16);
			} else {
				continue;
			}
			for (size_t i = 0; i < m->n; i++)
				if (!memcmp(m->addrs[i].a, v, 16))
					return true;
		}
	}
	return false;
}

static int ct_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ct_match *m = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != CTA_TUPLE_ORIG || !ct_tuple_has(a, m))
			continue;
		if (m->n_dead == m->cap) {
			struct nlmsghdr **tmp;

			m->cap = m->cap ? m->cap * 2 : 32;
			tmp = realloc(m->dead, m->cap * sizeof(*tmp));
			if (!tmp)
				return MNL_CB_ERROR;
			m->dead = tmp;
		}
		m->dead[m->n_dead] = malloc(nlh->nlmsg_len);
		if (!m->dead[m->n_dead])
			return MNL_CB_ERROR;
		memcpy(m->dead[m->n_dead++], nlh, nlh->nlmsg_len);
		break;
	}
	return MNL_CB_OK;
}

/* DELETE by the original tuple of a dumped entry (and its zone) */
static int ct_delete(struct mnl_socket *nl, const struct nlmsghdr *entry, __u32 seq)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nfgenmsg *src = mnl_nlmsg_get_payload(entry);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(memset(buf, 0, sizeof(buf)));
	struct nfgenmsg *g;
	const struct nlattr *a;

	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	*g = *src;
	mnl_attr_for_each(a, entry, sizeof(struct nfgenmsg)) {
		int t = mnl_attr_get_type(a);

		if (t == CTA_TUPLE_ORIG || t == CTA_ZONE) {
			memcpy((char *)nlh + nlh->nlmsg_len, a, a->nla_len);
			nlh->nlmsg_len += MNL_ALIGN(a->nla_len);
		}
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	if (mnl_socket_recvfrom(nl, buf, sizeof(buf)) < 0)
		return -errno;
	return 0;
}

int bh_ct_flush_addrs(const struct bh_addr *addrs, size_t n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ct_match m = { .addrs = addrs, .n = n };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;
	__u32 seq = (__u32)time(NULL);
	ssize_t len;
	int ret = 0;

	if (!n)
		return 0;
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	nlh = mnl_nlmsg_put_header(memset(buf, 0, sizeof(buf)));
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	while ((len = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, (size_t)len, seq, mnl_socket_get_portid(nl), ct_cb, &m);
		if (ret <= 0)
			break;
	}
	ret = 0;
	for (size_t i = 0; i < m.n_dead; i++)
		if (!ct_delete(nl, m.dead[i], seq + 1 + (__u32)i))
			ret++;
out:
	for (size_t i = 0; i < m.n_dead; i++)
		free(m.dead[i]);
	free(m.dead);
	mnl_socket_close(nl);
	return ret;
}

/*
 * Switching from --mode nft to a BPF mode: the flows the kernel tracks
 * become the BPF programs' (bh_ct), so replies in flight keep passing.
 */
struct ct_import {
	int map_fd;
	__u64 now;
	int n;
};

static void ct_tuple(const struct nlattr *tuple, struct bh_ct_key *k)
{
	const struct nlattr *a, *b;

	memset(k, 0, sizeof(*k));
	mnl_attr_for_each_nested(a, tuple) {
		switch (mnl_attr_get_type(a)) {
		case CTA_TUPLE_IP:
			mnl_attr_for_each_nested(b, a) {
				switch (mnl_attr_get_type(b)) {
				case CTA_IP_V4_SRC:
				case CTA_IP_V4_DST: {
					__u8 *d = mnl_attr_get_type(b) == CTA_IP_V4_SRC ? k->saddr : k->daddr;

					d[10] = d[11] = 0xff;
					memcpy(d + 12, mnl_attr_get_payload(b), 4);
					break;
				}
				case CTA_IP_V6_SRC:
					memcpy(k->saddr, mnl_attr_get_payload(b), 16);
					break;
				case CTA_IP_V6_DST:
					memcpy(k->daddr, mnl_attr_get_payload(b), 16);
					break;
				}
			}
			break;
		case CTA_TUPLE_PROTO:
			mnl_attr_for_each_nested(b, a) {
				switch (mnl_attr_get_type(b)) {
				case CTA_PROTO_NUM:
					k->proto = mnl_attr_get_u8(b);
					break;
				case CTA_PROTO_SRC_PORT:
					k->sport = mnl_attr_get_u16(b);	/* network order */
					break;
				case CTA_PROTO_DST_PORT:
					k->dport = mnl_attr_get_u16(b);
					break;
				case CTA_PROTO_ICMP_ID:
				case CTA_PROTO_ICMPV6_ID:
					k->sport = k->dport = mnl_attr_get_u16(b);
					break;
				}
			}
			break;
		}
	}
}

static int ct_import_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ct_import *im = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		struct bh_ct_val v = { .last_seen = im->now };
		struct bh_ct_key k;

		if (mnl_attr_get_type(a) != CTA_TUPLE_ORIG)
			continue;
		ct_tuple(a, &k);
		if (k.proto != IPPROTO_TCP && k.proto != IPPROTO_UDP &&
		    k.proto != IPPROTO_ICMP && k.proto != IPPROTO_ICMPV6)
			break;
		if (!bpf_map_update_elem(im->map_fd, &k, &v, BPF_NOEXIST))
			im->n++;
		break;
	}
	return MNL_CB_OK;
}

int bh_ct_import(int ct_map_fd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ct_import im = { .map_fd = ct_map_fd };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;
	struct timespec ts;
	__u32 seq = (__u32)time(NULL);
	ssize_t len;
	int ret;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);	/* bpf_ktime_get_coarse_ns()'s clock */
	im.now = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	nlh = mnl_nlmsg_put_header(memset(buf, 0, sizeof(buf)));
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	while ((len = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, (size_t)len, seq, mnl_socket_get_portid(nl),
				 ct_import_cb, &im);
		if (ret <= 0)
			break;
	}
	ret = im.n;
out:
	mnl_socket_close(nl);
	return ret;
}
