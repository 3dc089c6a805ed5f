/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nft_msg.h - the bottom of Bulkhead's nftables code: one batch of
 * libnftnl messages (tables, chains, objects, sets, rules) sent over a
 * libmnl socket with every acknowledgement read, and the helpers that add
 * libnftnl expressions to a rule. Rules are built from raw expressions over
 * the 4-byte registers, so map lookups can feed concatenated keys.
 */
#ifndef BH_NFT_MSG_H
#define BH_NFT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "nft_spec.h"

/* nftables' datatype ids (nftables include/datatype.h), for readable sets */
#define NFT_T_VERDICT	1
#define NFT_T_IPADDR	7
#define NFT_T_IP6ADDR	8
#define NFT_T_ETHERADDR	9
#define NFT_T_PROTO	12
#define NFT_T_SERVICE	13
#define NFT_T_MARK	19
#define NFT_T_IFNAME	41
#define NFT_T_BITS	6	/* a concatenation: (a << 6) | b */

/* 4-byte registers */
#define REG32(n)	(NFT_REG32_00 + (n))

#define NFT_MAX_SETS	4096

/* A batch being written: messages go at the current position, in order. */
struct nft_batch {
	struct mnl_nlmsg_batch *b;
	__u32 seq;
	unsigned int acks;
	struct nlmsghdr *last;
	bool full;		/* a message did not fit: send it again, bigger */
};

struct nft_snap;

/* One table being written in a batch. */
struct nft_tbl {
	struct nft_batch *bt;
	int family;			/* NFPROTO_BRIDGE / NFPROTO_INET */
	const char *name;		/* the table's name; NULL: BH_NFT_TABLE */
	char names[NFT_MAX_SETS][64];	/* the sets so far, and their ids */
	__u32 ids[NFT_MAX_SETS];
	unsigned int n_sets;
	__u32 next_id;
	const void *dep_rule;		/* the rule that has its dependency (nft_policy.c) */
	const void *dep_rule6;		/* ... its ICMPv6 one */
	bool icmp6;			/* writing chain nd_judge and its helpers */
	const struct nft_snap *snap;	/* the counts of the tables being replaced */
};

/*
 * Build a batch with @fill (its messages between batch begin and end; the
 * last one asks for the ACK) in a buffer of @size, doubled while a message
 * does not fit, send it and read the acknowledgements. A batch that met a
 * changed ruleset generation is built and sent again. 0, @fill's error or
 * -errno.
 */
int nft_batch_send(size_t size, int (*fill)(struct nft_batch *bt, void *arg), void *arg);

/* NEWTABLE / DELTABLE of table @family bulkhead */
void nft_table_msg(struct nft_batch *bt, int family, __u16 type, __u16 flags);
/* ... of table @family @name (a table of another name: brnf_probe.c's) */
void nft_named_table_msg(struct nft_batch *bt, int family, const char *name, __u16 type,
			 __u16 flags);
/* A chain; a base chain (policy accept) when @hook >= 0. */
void nft_chain(struct nft_tbl *t, const char *name, int hook, int prio);
/* A stateful object: fill it between nft_obj_new and nft_obj_commit. */
struct nftnl_obj *nft_obj_new(struct nft_tbl *t, const char *name, __u32 type);
void nft_obj_commit(struct nft_tbl *t, struct nftnl_obj *o);
void nft_limit_obj(struct nft_tbl *t, const char *name, __u64 rate, __u32 burst);

/* A set or map; @data_type 0 for a plain set, NFT_T_VERDICT for a vmap. */
struct nftnl_set *nft_set_new(struct nft_tbl *t, const char *name, __u32 key_type,
			      __u32 key_len, __u32 flags, __u32 data_type,
			      __u32 data_len);
/* Elements: key (+ data, + verdict/chain for vmaps). */
void nft_elem(struct nftnl_set *s, const void *key, __u32 klen,
	      const void *data, __u32 dlen);
void nft_elem_verdict(struct nftnl_set *s, const void *key, __u32 klen,
		      int verdict, const char *chain);
/* Send the set (NEWSET + its elements, in chunks) and free it. */
void nft_set_commit(struct nft_tbl *t, struct nftnl_set *s);
/* A dynamic set of source MACs, at most @size, a counter on each element
 * when @counter, elements expiring @timeout_ms after their last update
 * (0: never). Commit it with nft_set_commit. */
struct nftnl_set *nft_meter_new(struct nft_tbl *t, const char *name, __u32 size,
				bool counter, __u64 timeout_ms);

struct nftnl_rule *nft_rule(struct nft_tbl *t, const char *chain);
void nft_rule_commit(struct nft_tbl *t, struct nftnl_rule *r);

void expr_payload(struct nftnl_rule *r, __u32 base, __u32 off, __u32 len, __u32 dreg);
void expr_meta(struct nftnl_rule *r, __u32 key, __u32 dreg);
void expr_cmp(struct nftnl_rule *r, __u32 sreg, __u32 op, const void *data, __u32 len);
void expr_cmp_u8(struct nftnl_rule *r, __u32 sreg, __u32 op, __u8 v);
void expr_mask(struct nftnl_rule *r, __u32 reg, __u32 len, const void *mask);
/* reg = (reg & mask) ^ xor */
void expr_bitwise(struct nftnl_rule *r, __u32 reg, __u32 len, const void *mask, const void *xor);
void expr_lookup(struct nftnl_rule *r, struct nft_tbl *t, const char *set,
		 __u32 sreg, int dreg, bool inv);
void expr_ct_load(struct nftnl_rule *r, __u32 key, __u32 dreg);
void expr_ct_store(struct nftnl_rule *r, __u32 key, __u32 sreg);
void expr_objref(struct nftnl_rule *r, __u32 type, const char *name);
void expr_counter_ref(struct nftnl_rule *r, const char *counter);
void expr_verdict(struct nftnl_rule *r, int verdict, const char *chain);
void expr_set_update(struct nftnl_rule *r, struct nft_tbl *t, const char *set, __u32 sreg,
		     struct nftnl_expr *expr);
struct nftnl_expr *expr_limit_new(__u64 rate, __u32 burst);
void expr_log(struct nftnl_rule *r, const char *prefix, __u16 group);

#endif /* BH_NFT_MSG_H */
