// SPDX-License-Identifier: GPL-2.0
/*
 * nft_msg.c - the transport under Bulkhead's nftables tables: libnftnl
 * messages written into one libmnl batch (batch begin, the messages, batch
 * end), sent whole; only the last message asks for an acknowledgement, a
 * failing one is reported all the same, and every acknowledgement is read.
 * A batch that met a changed ruleset generation is sent again. Also the
 * helpers that add libnftnl expressions to a rule (payload, meta, cmp,
 * bitwise, lookup, ct, objref, verdict, dynset, limit, log).
 */
#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nft_msg.h"
#include "nl.h"

/* ---- batch ----------------------------------------------------------------- */

static struct nlmsghdr *batch_msg(struct nft_batch *bt, __u16 type, int family, __u16 flags)
{
	struct nlmsghdr *nlh;

	/* only the last message asks for an ACK (set when the batch is
	 * complete); a failing one is reported with or without the flag */
	nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt->b), type,
				    (__u16)family, flags, bt->seq++);
	bt->last = nlh;
	return nlh;
}

static void batch_next(struct nft_batch *bt)
{
	if (!mnl_nlmsg_batch_next(bt->b))
		bt->full = true;	/* that message did not fit: resend bigger */
}

void nft_named_table_msg(struct nft_batch *bt, int family, const char *name, __u16 type,
			 __u16 flags)
{
	struct nftnl_table *t = nftnl_table_alloc();

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, (__u32)family);
	nftnl_table_nlmsg_build_payload(batch_msg(bt, type, family, flags), t);
	nftnl_table_free(t);
	batch_next(bt);
}

void nft_table_msg(struct nft_batch *bt, int family, __u16 type, __u16 flags)
{
	nft_named_table_msg(bt, family, BH_NFT_TABLE, type, flags);
}

static const char *tbl_name(const struct nft_tbl *t)
{
	return t->name ? t->name : BH_NFT_TABLE;
}

void nft_chain(struct nft_tbl *t, const char *name, int hook, int prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, tbl_name(t));
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, (__u32)t->family);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (__u32)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nftnl_chain_nlmsg_build_payload(batch_msg(t->bt, NFT_MSG_NEWCHAIN, t->family,
					    NLM_F_CREATE), c);
	nftnl_chain_free(c);
	batch_next(t->bt);
}

struct nftnl_obj *nft_obj_new(struct nft_tbl *t, const char *name, __u32 type)
{
	struct nftnl_obj *o = nftnl_obj_alloc();

	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, tbl_name(t));
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, (__u32)t->family);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, type);
	return o;
}

void nft_obj_commit(struct nft_tbl *t, struct nftnl_obj *o)
{
	nftnl_obj_nlmsg_build_payload(batch_msg(t->bt, NFT_MSG_NEWOBJ, t->family,
					  NLM_F_CREATE), o);
	nftnl_obj_free(o);
	batch_next(t->bt);
}

void nft_limit_obj(struct nft_tbl *t, const char *name, __u64 rate, __u32 burst)
{
	struct nftnl_obj *o = nft_obj_new(t, name, NFT_OBJECT_LIMIT);

	nftnl_obj_set_u64(o, NFTNL_OBJ_LIMIT_RATE, rate);
	nftnl_obj_set_u64(o, NFTNL_OBJ_LIMIT_UNIT, 1);
	nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_BURST, burst);
	nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nft_obj_commit(t, o);
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
	nftnl_set_set_str(s, NFTNL_SET_TABLE, tbl_name(t));
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

void nft_set_commit(struct nft_tbl *t, struct nftnl_set *s)
{
	struct nftnl_set_elems_iter *it;

	nftnl_set_nlmsg_build_payload(batch_msg(t->bt, NFT_MSG_NEWSET, t->family,
					  NLM_F_CREATE), s);
	batch_next(t->bt);
	/* elements in messages that fit a page each */
	it = nftnl_set_elems_iter_create(s);
	while (it && nftnl_set_elems_iter_cur(it)) {
		struct nlmsghdr *nlh = batch_msg(t->bt, NFT_MSG_NEWSETELEM, t->family,
					   NLM_F_CREATE);
		int more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);

		batch_next(t->bt);
		if (more <= 0)		/* 1: the message is full, more follow */
			break;
	}
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
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

/* ---- rules --------------------------------------------------------------------- */

struct nftnl_rule *nft_rule(struct nft_tbl *t, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	t->dep_rule = NULL;
	t->dep_rule6 = NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, tbl_name(t));
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (__u32)t->family);
	return r;
}

void nft_rule_commit(struct nft_tbl *t, struct nftnl_rule *r)
{
	nftnl_rule_nlmsg_build_payload(batch_msg(t->bt, NFT_MSG_NEWRULE, t->family,
					   NLM_F_CREATE | NLM_F_APPEND), r);
	nftnl_rule_free(r);
	batch_next(t->bt);
}

/* ---- expressions --------------------------------------------------------------- */

void expr_payload(struct nftnl_rule *r, __u32 base, __u32 off, __u32 len, __u32 dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_rule_add_expr(r, e);
}

void expr_meta(struct nftnl_rule *r, __u32 key, __u32 dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

void expr_cmp(struct nftnl_rule *r, __u32 sreg, __u32 op, const void *data, __u32 len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

void expr_cmp_u8(struct nftnl_rule *r, __u32 sreg, __u32 op, __u8 v)
{
	expr_cmp(r, sreg, op, &v, 1);
}

/* reg &= mask (in place) */
void expr_bitwise(struct nftnl_rule *r, __u32 reg, __u32 len, const void *mask, const void *xor)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
	nftnl_rule_add_expr(r, e);
}

void expr_mask(struct nftnl_rule *r, __u32 reg, __u32 len, const void *mask)
{
	static const __u8 zero[16];

	expr_bitwise(r, reg, len, mask, zero);
}

void expr_lookup(struct nftnl_rule *r, struct nft_tbl *t, const char *set,
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

void expr_ct_load(struct nftnl_rule *r, __u32 key, __u32 dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

void expr_ct_store(struct nftnl_rule *r, __u32 key, __u32 sreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, sreg);
	nftnl_rule_add_expr(r, e);
}

void expr_objref(struct nftnl_rule *r, __u32 type, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc("objref");

	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, type);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, name);
	nftnl_rule_add_expr(r, e);
}

void expr_counter_ref(struct nftnl_rule *r, const char *counter)
{
	expr_objref(r, NFT_OBJECT_COUNTER, counter);
}

void expr_verdict(struct nftnl_rule *r, int verdict, const char *chain)
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
void expr_set_update(struct nftnl_rule *r, struct nft_tbl *t, const char *set, __u32 sreg,
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
struct nftnl_expr *expr_limit_new(__u64 rate, __u32 burst)
{
	struct nftnl_expr *e = nftnl_expr_alloc("limit");

	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	return e;
}

void expr_log(struct nftnl_rule *r, const char *prefix, __u16 group)
{
	struct nftnl_expr *e = nftnl_expr_alloc("log");

	nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	nftnl_rule_add_expr(r, e);
}

/* ---- sending ------------------------------------------------------------------ */

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

int nft_batch_send(size_t size, int (*fill)(struct nft_batch *bt, void *arg), void *arg)
{
	struct nft_batch bt = {};
	struct mnl_socket *nl;
	int ret = 0, tries, sndbuf;
	__u32 first_seq;
	char *buf;

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
		batch_next(&bt);
		ret = fill(&bt, arg);
		if (ret) {
			mnl_nlmsg_batch_stop(bt.b);
			free(buf);
			return ret;
		}
		bt.last->nlmsg_flags |= NLM_F_ACK;
		bt.acks = 1;
		nftnl_batch_end(mnl_nlmsg_batch_current(bt.b), bt.seq++);
		batch_next(&bt);
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
	return ret;
}
