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
 * Also here: reading the named verdict counters.
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
#include <linux/netfilter_bridge.h>
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
	[BH_R_DROP_FLOOD] = "drop_flood",
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

static struct nftnl_obj *obj_new(struct nft_tbl *t, const char *name, __u32 type)
{
	struct nftnl_obj *o = nftnl_obj_alloc();

	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, BH_NFT_TABLE);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, (__u32)t->family);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, type);
	return o;
}

static void obj_commit(struct nft_tbl *t, struct nftnl_obj *o)
{
	nftnl_obj_nlmsg_build_payload(msg(t->bt, NFT_MSG_NEWOBJ, t->family,
					  NLM_F_CREATE), o);
	nftnl_obj_free(o);
	next(t->bt);
}

void nft_counter_obj(struct nft_tbl *t, const char *name)
{
	struct nftnl_obj *o = obj_new(t, name, NFT_OBJECT_COUNTER);
	const struct nft_ctr *c = nft_snap_ctr(t->snap, t->family, name);

	if (c) {	/* what the tables being replaced counted */
		nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, c->pkts);
		nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, c->bytes);
	}
	obj_commit(t, o);
}

void nft_limit_obj(struct nft_tbl *t, const char *name, __u64 rate, __u32 burst)
{
	struct nftnl_obj *o = obj_new(t, name, NFT_OBJECT_LIMIT);

	nftnl_obj_set_u64(o, NFTNL_OBJ_LIMIT_RATE, rate);
	nftnl_obj_set_u64(o, NFTNL_OBJ_LIMIT_UNIT, 1);
	nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_BURST, burst);
	nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_TYPE, NFT_LIMIT_PKTS);
	obj_commit(t, o);
}

void bh_nflog_prefix(char *buf, size_t len, unsigned int reason, __u32 rule)
{
	if (rule == BH_RULE_DEFAULT)
		snprintf(buf, len, "%s %s", BH_NFLOG_PREFIX, bh_reason_names[reason]);
	else
		snprintf(buf, len, "%s %s %u", BH_NFLOG_PREFIX, bh_reason_names[reason], rule);
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
	if (key_type == NFT_T_IFNAME || key_type == NFT_T_MARK) {
		/* nft prints a string or mark key only when told it is host-endian */
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
void x_bitwise(struct nftnl_rule *r, __u32 reg, __u32 len, const void *mask, const void *xor)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
	nftnl_rule_add_expr(r, e);
}

void x_mask(struct nftnl_rule *r, __u32 reg, __u32 len, const void *mask)
{
	static const __u8 zero[16];

	x_bitwise(r, reg, len, mask, zero);
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

void x_ct_set(struct nftnl_rule *r, __u32 key, __u32 sreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, sreg);
	nftnl_rule_add_expr(r, e);
}

void x_objref(struct nftnl_rule *r, __u32 type, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc("objref");

	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, type);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, name);
	nftnl_rule_add_expr(r, e);
}

void x_count(struct nftnl_rule *r, const char *counter)
{
	x_objref(r, NFT_OBJECT_COUNTER, counter);
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

/* update @set { <key in sreg> [expr] }: adds the key when absent; the set's
 * own expressions (a counter) are cloned into a new element */
void x_dynset(struct nftnl_rule *r, struct nft_tbl *t, const char *set, __u32 sreg,
	      struct nftnl_expr *expr)
{
	struct nftnl_expr *e = nftnl_expr_alloc("dynset");

	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, set_id(t, set));
	if (expr)
		nftnl_expr_add_expr(e, NFTNL_EXPR_DYNSET_EXPRESSIONS, expr);
	nftnl_rule_add_expr(r, e);
}

/* limit rate @rate/second burst @burst packets */
struct nftnl_expr *x_limit_new(__u64 rate, __u32 burst)
{
	struct nftnl_expr *e = nftnl_expr_alloc("limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	return e;
}

void x_log(struct nftnl_rule *r, const char *prefix, __u16 group)
{
	struct nftnl_expr *e = nftnl_expr_alloc("log");

	nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_rule_add_expr(r, e);
}

/* a set of source MACs the rules add to: bounded, @counter on each element */
struct nftnl_set *nft_meter_new(struct nft_tbl *t, const char *name, __u32 size,
				bool counter, __u64 timeout_ms)
{
	struct nftnl_set *s = nft_set_new(t, name, NFT_T_ETHERADDR, 6,
					  NFT_SET_EVAL | (timeout_ms ? NFT_SET_TIMEOUT : 0),
					  0, 0);

	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	if (timeout_ms)
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, timeout_ms);
	if (counter)
		nftnl_set_add_expr(s, nftnl_expr_alloc("counter"));
	return s;
}

static void meter_elem(struct nftnl_set *set, const __u8 mac[6], const struct nft_melem *m)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, mac, 6);
	if (m) {
		struct nftnl_expr *c = nftnl_expr_alloc("counter");

		nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_PACKETS, m->pkts);
		nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_BYTES, m->bytes);
		nftnl_set_elem_add_expr(e, c);
	}
	nftnl_set_elem_add(set, e);
}

static int cmp_mac(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

static int cmp_busiest(const void *a, const void *b)
{
	const struct nft_melem *x = *(const struct nft_melem *const *)a;
	const struct nft_melem *y = *(const struct nft_melem *const *)b;

	return x->pkts < y->pkts ? 1 : x->pkts > y->pkts ? -1 : 0;
}

void nft_meter_elems(struct nft_tbl *t, struct nftnl_set *set, bool drops,
		     const struct bh_dev_ent *devs, size_t n_devs)
{
	const struct nft_snap *sn = t->snap;
	const struct nft_melem **others = NULL;
	__u8 (*known)[6] = NULL;
	size_t n_others = 0;

	if (sn && sn->n_elems) {
		known = calloc(n_devs + 1, sizeof(*known));
		others = calloc(sn->n_elems, sizeof(*others));
	}
	if (known && others) {
		for (size_t i = 0; i < n_devs; i++)
			memcpy(known[i], devs[i].k.mac, 6);
		qsort(known, n_devs, sizeof(*known), cmp_mac);
		/* the snapshot's elements of this set, their counts carried over:
		 * the policy's devices, and the busiest of the other MACs, up to
		 * half the set (a set once filled by a flood fills no longer) */
		for (size_t i = 0; i < sn->n_elems; i++) {
			const struct nft_melem *m = &sn->elems[i];

			if (m->family != t->family || m->drops != drops)
				continue;
			if (bsearch(m->mac, known, n_devs, sizeof(*known), cmp_mac))
				meter_elem(set, m->mac, m);
			else
				others[n_others++] = m;
		}
		if (n_others > BH_MAX_DEVSTATS / 2) {
			qsort(others, n_others, sizeof(*others), cmp_busiest);
			n_others = BH_MAX_DEVSTATS / 2;
		}
		for (size_t i = 0; i < n_others; i++)
			meter_elem(set, others[i]->mac, others[i]);
	}
	free(known);
	free(others);
	/* every device of the policy (one already there stays as it is) */
	for (size_t i = 0; i < n_devs; i++)
		meter_elem(set, devs[i].k.mac, NULL);
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
	/*
	 * The lock's base chains only while a device is quarantined: a
	 * registered bridge hook costs every bridged frame its traversal
	 * (hundreds of ns on veth, docs/benchmarks.md) even with an empty set,
	 * and every change of the set rewrites the table anyway.
	 */
	if (s->n_quarantine) {
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
	}
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
	struct nft_snap snap = {};
	char *buf;
	int ret, tries, sndbuf;
	__u32 first_seq;

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
		if (s && build_tables(&bt, s, &snap)) {
			mnl_nlmsg_batch_stop(bt.b);
			free(buf);
			nft_snap_free(&snap);
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

		nl = bh_mnl_open(NETLINK_NETFILTER);
		if (!nl) {
			ret = -errno;
			goto out;
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
	nft_snap_free(&snap);
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

/*
 * What Bulkhead's tables count now: every named counter and every element
 * of the per-MAC sets, in both tables. status, devices and the metrics
 * read it; a rewrite of the tables (up, apply, isolate, release) carries
 * it over into the new tables.
 */

static int cmp_ctr(const void *a, const void *b)
{
	const struct nft_ctr *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	return strcmp(x->name, y->name);
}

static int cmp_melem(const void *a, const void *b)
{
	const struct nft_melem *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	if (x->drops != y->drops)
		return (int)x->drops - (int)y->drops;
	return memcmp(x->mac, y->mac, 6);
}

static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
	void *tmp;

	if (n < *cap)
		return arr;
	tmp = realloc(arr, (*cap ? *cap * 2 : 64) * size);
	if (tmp)
		*cap = *cap ? *cap * 2 : 64;
	return tmp;
}

struct snap_acc {
	struct nft_snap *s;
	size_t cap_ctrs, cap_elems;
	int family;
	bool drops;		/* reading a dev_drops set */
};

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct snap_acc *acc = data;
	struct nftnl_obj *o = nftnl_obj_alloc();
	const char *name, *table;
	struct nft_ctr *c;
	int ret = MNL_CB_OK;

	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) < 0)
		goto out;
	table = nftnl_obj_get_str(o, NFTNL_OBJ_TABLE);
	name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
	if (!table || !name || strcmp(table, BH_NFT_TABLE) ||
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) != NFT_OBJECT_COUNTER ||
	    strlen(name) >= sizeof(c->name))
		goto out;
	c = grow(acc->s->ctrs, acc->s->n_ctrs, &acc->cap_ctrs, sizeof(*c));
	if (!c) {
		ret = MNL_CB_ERROR;
		goto out;
	}
	acc->s->ctrs = c;
	c = &c[acc->s->n_ctrs++];
	c->family = acc->family;
	strcpy(c->name, name);
	c->pkts = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
	c->bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
out:
	nftnl_obj_free(o);
	return ret;
}

static int elem_ctr_cb(struct nftnl_expr *e, void *data)
{
	struct nft_melem *m = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (name && !strcmp(name, "counter")) {
		m->pkts += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		m->bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

static int elem_cb(struct nftnl_set_elem *e, void *data)
{
	struct snap_acc *acc = data;
	struct nft_melem *m;
	__u32 klen = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);

	if (!key || klen < 6)
		return 0;
	m = grow(acc->s->elems, acc->s->n_elems, &acc->cap_elems, sizeof(*m));
	if (!m)
		return -1;
	acc->s->elems = m;
	m = &m[acc->s->n_elems++];
	memset(m, 0, sizeof(*m));
	m->family = acc->family;
	m->drops = acc->drops;
	memcpy(m->mac, key, 6);
	nftnl_set_elem_expr_foreach(e, elem_ctr_cb, m);
	return 0;
}

/* @cb over each element of the set elements message @nlh */
static int elems_run(const struct nlmsghdr *nlh, int (*cb)(struct nftnl_set_elem *, void *),
		     void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	int ret = MNL_CB_OK;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) >= 0 &&
	    nftnl_set_elem_foreach(s, cb, data) < 0)
		ret = MNL_CB_ERROR;
	nftnl_set_free(s);
	return ret;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	return elems_run(nlh, elem_cb, data);
}

void nft_snap_free(struct nft_snap *s)
{
	free(s->ctrs);
	free(s->elems);
	free(s->learned);
	memset(s, 0, sizeof(*s));
}

int nft_snap_read(struct nft_snap *s)
{
	static const struct {
		int family;
		const char *set;	/* NULL: the counter objects */
		bool drops;
	} what[] = {
		{ NFPROTO_BRIDGE, NULL, false },
		{ NFPROTO_INET, NULL, false },
		{ NFPROTO_BRIDGE, BH_NFT_DEV_STATS, false },
		{ NFPROTO_BRIDGE, BH_NFT_DEV_DROPS, true },
		{ NFPROTO_INET, BH_NFT_DEV_DROPS, true },
	};
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct snap_acc acc = { .s = s };
	struct mnl_socket *nl;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	nl = bh_mnl_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]) && !ret; i++) {
		__u32 seq = (__u32)time(NULL) + (__u32)i;
		struct nlmsghdr *nlh;

		memset(buf, 0, sizeof(buf));
		acc.family = what[i].family;
		acc.drops = what[i].drops;
		if (what[i].set) {
			struct nftnl_set *set = nftnl_set_alloc();

			nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (__u16)acc.family,
						    NLM_F_DUMP | NLM_F_ACK, seq);
			nftnl_set_set_str(set, NFTNL_SET_TABLE, BH_NFT_TABLE);
			nftnl_set_set_str(set, NFTNL_SET_NAME, what[i].set);
			nftnl_set_elems_nlmsg_build_payload(nlh, set);
			nftnl_set_free(set);
			ret = bh_mnl_dump(nl, nlh, elems_cb, &acc);
		} else {
			struct nftnl_obj *o = nftnl_obj_alloc();

			nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, (__u16)acc.family,
						    NLM_F_DUMP | NLM_F_ACK, seq);
			nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, BH_NFT_TABLE);
			nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
			nftnl_obj_nlmsg_build_payload(nlh, o);
			nftnl_obj_free(o);
			ret = bh_mnl_dump(nl, nlh, obj_cb, &acc);
		}
	}
	mnl_socket_close(nl);
	if (ret) {
		nft_snap_free(s);
		return ret;
	}
	if (s->n_ctrs)
		qsort(s->ctrs, s->n_ctrs, sizeof(*s->ctrs), cmp_ctr);
	if (s->n_elems)
		qsort(s->elems, s->n_elems, sizeof(*s->elems), cmp_melem);
	return 0;
}

/* ---- what the rules learned: claims, ports ------------------------------------------ */

struct learn_acc {
	struct nft_snap *s;
	size_t cap;
	char (*names)[64];
	size_t n_names;
	const char *set;	/* the set being read */
};

static int set_names_cb(const struct nlmsghdr *nlh, void *data)
{
	struct learn_acc *acc = data;
	struct nftnl_set *set = nftnl_set_alloc();
	const char *name, *table;
	char (*n)[64];

	if (!set)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, set) < 0)
		goto out;
	table = nftnl_set_get_str(set, NFTNL_SET_TABLE);
	name = nftnl_set_get_str(set, NFTNL_SET_NAME);
	if (!table || !name || strcmp(table, BH_NFT_TABLE) || strlen(name) >= 64 ||
	    !strcmp(name, BH_NFT_EV_LIMIT) ||
	    !(nftnl_set_get_u32(set, NFTNL_SET_FLAGS) & NFT_SET_TIMEOUT) ||
	    acc->n_names >= NFT_MAX_SETS)
		goto out;
	n = realloc(acc->names, (acc->n_names + 1) * sizeof(*n));
	if (n) {
		acc->names = n;
		strcpy(n[acc->n_names++], name);
	}
out:
	nftnl_set_free(set);
	return MNL_CB_OK;
}

static int learned_cb(struct nftnl_set_elem *e, void *data)
{
	struct learn_acc *acc = data;
	struct nft_lelem *l;
	__u32 klen = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);

	if (!key || !klen || klen > sizeof(l->key))
		return 0;
	l = grow(acc->s->learned, acc->s->n_learned, &acc->cap, sizeof(*l));
	if (!l)
		return -1;
	acc->s->learned = l;
	l = &l[acc->s->n_learned++];
	memset(l, 0, sizeof(*l));
	l->family = NFPROTO_BRIDGE;
	snprintf(l->set, sizeof(l->set), "%s", acc->set);
	memcpy(l->key, key, klen);
	l->klen = klen;
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		l->expires_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	return 0;
}

static int learned_elems_cb(const struct nlmsghdr *nlh, void *data)
{
	return elems_run(nlh, learned_cb, data);
}

int nft_snap_read_learned(struct nft_snap *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct learn_acc acc = { .s = s };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nftnl_set *set;
	__u32 seq = (__u32)time(NULL);
	int ret;

	nl = bh_mnl_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_BRIDGE,
				    NLM_F_DUMP | NLM_F_ACK, seq);
	set = nftnl_set_alloc();
	nftnl_set_set_str(set, NFTNL_SET_TABLE, BH_NFT_TABLE);
	nftnl_set_nlmsg_build_payload(nlh, set);
	nftnl_set_free(set);
	ret = bh_mnl_dump(nl, nlh, set_names_cb, &acc);
	for (size_t i = 0; i < acc.n_names && !ret; i++) {
		memset(buf, 0, sizeof(buf));
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_BRIDGE,
					    NLM_F_DUMP | NLM_F_ACK, seq + 1 + (__u32)i);
		set = nftnl_set_alloc();
		nftnl_set_set_str(set, NFTNL_SET_TABLE, BH_NFT_TABLE);
		nftnl_set_set_str(set, NFTNL_SET_NAME, acc.names[i]);
		nftnl_set_elems_nlmsg_build_payload(nlh, set);
		nftnl_set_free(set);
		acc.set = acc.names[i];
		ret = bh_mnl_dump(nl, nlh, learned_elems_cb, &acc);
	}
	free(acc.names);
	mnl_socket_close(nl);
	return ret;
}

void nft_learned_elem(struct nftnl_set *set, const void *key, __u32 klen,
		      __u64 timeout_ms, __u64 expires_ms)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, klen);
	nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
	if (expires_ms && expires_ms < timeout_ms)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION, expires_ms);
	nftnl_set_elem_add(set, e);
}

static int cmp_freshest(const void *a, const void *b)
{
	const struct nft_lelem *x = *(const struct nft_lelem *const *)a;
	const struct nft_lelem *y = *(const struct nft_lelem *const *)b;

	return x->expires_ms < y->expires_ms ? 1 : x->expires_ms > y->expires_ms ? -1 : 0;
}

struct nftnl_set *nft_learned_new(struct nft_tbl *t, const char *name, __u32 key_type,
				  __u32 key_len, __u32 size, __u64 timeout_ms, bool carry)
{
	struct nftnl_set *s = nft_set_new(t, name, key_type, key_len,
					  NFT_SET_EVAL | NFT_SET_TIMEOUT, 0, 0);
	const struct nft_snap *sn = t->snap;
	const struct nft_lelem **pick;
	size_t n = 0;

	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, timeout_ms);
	if (!carry || !sn || !sn->n_learned)
		return s;
	pick = calloc(sn->n_learned, sizeof(*pick));
	if (!pick)
		return s;
	for (size_t i = 0; i < sn->n_learned; i++) {
		const struct nft_lelem *l = &sn->learned[i];

		if (l->family == t->family && !strcmp(l->set, name) && l->klen == key_len)
			pick[n++] = l;
	}
	/* a set a flood filled: the freshest half goes on, so it has room */
	if (n > size / 2) {
		qsort(pick, n, sizeof(*pick), cmp_freshest);
		n = size / 2;
	}
	for (size_t i = 0; i < n; i++)
		nft_learned_elem(s, pick[i]->key, pick[i]->klen, timeout_ms, pick[i]->expires_ms);
	free(pick);
	return s;
}

const struct nft_ctr *nft_snap_ctr(const struct nft_snap *s, int family, const char *name)
{
	struct nft_ctr k = { .family = family };

	if (!s || !s->n_ctrs || strlen(name) >= sizeof(k.name))
		return NULL;
	strcpy(k.name, name);
	return bsearch(&k, s->ctrs, s->n_ctrs, sizeof(k), cmp_ctr);
}

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

int bh_nft_drops_of(struct mnl_socket *nl, int family, const __u8 mac[6], __u64 *drops)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *set = nftnl_set_alloc();
	struct snap_acc acc = { .family = family, .drops = true };
	struct nft_snap s = {};
	struct nlmsghdr *nlh;
	int ret;

	if (!set)
		return -ENOMEM;
	acc.s = &s;
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (__u16)family, NLM_F_ACK,
				    (__u32)time(NULL));
	nftnl_set_set_str(set, NFTNL_SET_TABLE, BH_NFT_TABLE);
	nftnl_set_set_str(set, NFTNL_SET_NAME, BH_NFT_DEV_DROPS);
	nft_elem(set, mac, 6, NULL, 0);
	nftnl_set_elems_nlmsg_build_payload(nlh, set);
	nftnl_set_free(set);
	ret = bh_mnl_dump(nl, nlh, elems_cb, &acc);
	if (!ret && !s.n_elems)
		ret = -ENOENT;
	if (!ret)
		*drops = s.elems[0].pkts;
	nft_snap_free(&s);
	return ret;
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
