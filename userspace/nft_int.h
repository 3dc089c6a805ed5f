/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nft_int.h - the batch and expression helpers shared by nft.c (the tables,
 * the quarantine lock, counters) and nft_policy.c (the whole policy for
 * --mode nft). Rules are built from raw libnftnl expressions over the 4-byte
 * registers, so map lookups can feed concatenated keys.
 */
#ifndef BH_NFT_INT_H
#define BH_NFT_INT_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "nft.h"

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
#define R(n)		(NFT_REG32_00 + (n))

#define NFT_MAX_SETS	4096

struct nft_batch {
	struct mnl_nlmsg_batch *b;
	__u32 seq;
	unsigned int acks;
	struct nlmsghdr *last;
	bool full;
};

/* What Bulkhead's tables count (nft.c): named counters, per-MAC set elements. */
struct nft_ctr {
	int family;
	char name[32];
	__u64 pkts, bytes;
};

struct nft_melem {
	int family;
	bool drops;		/* dev_drops, else dev_stats */
	__u8 mac[6];
	__u64 pkts, bytes;
};

/* An element of a set the rules fill and time out (claims, ports). */
struct nft_lelem {
	int family;
	char set[64];
	__u8 key[64];
	__u32 klen;
	__u64 expires_ms;	/* what is left of its timeout */
};

struct nft_snap {
	struct nft_ctr *ctrs;	/* sorted by family, name */
	size_t n_ctrs;
	struct nft_melem *elems;	/* sorted by family, set, MAC */
	size_t n_elems;
	struct nft_lelem *learned;	/* nft_snap_read_learned */
	size_t n_learned;
};

int nft_snap_read(struct nft_snap *s);
/* Add to @s the elements of every set of table bridge bulkhead whose
 * elements time out (but ev_limit): what the rules learned. 0 or -errno. */
int nft_snap_read_learned(struct nft_snap *s);
void nft_snap_free(struct nft_snap *s);
const struct nft_ctr *nft_snap_ctr(const struct nft_snap *s, int family, const char *name);

/* One table being written in a batch. */
struct nft_tbl {
	struct nft_batch *bt;
	int family;			/* NFPROTO_BRIDGE / NFPROTO_INET */
	char names[NFT_MAX_SETS][64];
	__u32 ids[NFT_MAX_SETS];
	unsigned int n_sets;
	__u32 next_id;
	const void *dep_rule;		/* the rule that has its dependency (nft_policy.c) */
	const void *dep_rule6;		/* ... its ICMPv6 one */
	bool icmp6;			/* writing chain nd_judge and its helpers */
	const struct nft_snap *snap;	/* the counts of the tables being replaced */
};


void nft_chain(struct nft_tbl *t, const char *name, int hook, int prio);
void nft_counter_obj(struct nft_tbl *t, const char *name);
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
void nft_elem_catchall(struct nftnl_set *s, const void *data, __u32 dlen);
/* Send the set (NEWSET + its elements, in chunks) and free it. */
void nft_set_commit(struct nft_tbl *t, struct nftnl_set *s);

struct nftnl_rule *nft_rule(struct nft_tbl *t, const char *chain);
void nft_rule_commit(struct nft_tbl *t, struct nftnl_rule *r);

void x_payload(struct nftnl_rule *r, __u32 base, __u32 off, __u32 len, __u32 dreg);
void x_meta(struct nftnl_rule *r, __u32 key, __u32 dreg);
void x_cmp(struct nftnl_rule *r, __u32 sreg, __u32 op, const void *data, __u32 len);
void x_cmp8(struct nftnl_rule *r, __u32 sreg, __u32 op, __u8 v);
void x_mask(struct nftnl_rule *r, __u32 reg, __u32 len, const void *mask);
/* reg = (reg & mask) ^ xor */
void x_bitwise(struct nftnl_rule *r, __u32 reg, __u32 len, const void *mask, const void *xor);
void x_lookup(struct nftnl_rule *r, struct nft_tbl *t, const char *set,
	      __u32 sreg, int dreg, bool inv);
void x_imm(struct nftnl_rule *r, __u32 dreg, const void *data, __u32 len);
void x_ct(struct nftnl_rule *r, __u32 key, __u32 dreg);
void x_ct_set(struct nftnl_rule *r, __u32 key, __u32 sreg);
void x_objref(struct nftnl_rule *r, __u32 type, const char *name);
void x_count(struct nftnl_rule *r, const char *counter);
void x_verdict(struct nftnl_rule *r, int verdict, const char *chain);
void x_dynset(struct nftnl_rule *r, struct nft_tbl *t, const char *set, __u32 sreg,
	      struct nftnl_expr *expr);
struct nftnl_expr *x_limit_new(__u64 rate, __u32 burst);
void x_log(struct nftnl_rule *r, const char *prefix, __u16 group);
/* A dynamic set of source MACs, at most @size, a counter on each element
 * when @counter, elements expiring @timeout_ms after their last update
 * (0: never). Commit it with nft_set_commit. */
struct nftnl_set *nft_meter_new(struct nft_tbl *t, const char *name, __u32 size,
				bool counter, __u64 timeout_ms);
/* The elements of a per-MAC counter set (dev_stats, @drops: dev_drops):
 * @devs, and the snapshot's with their counts (those of @devs, and the
 * busiest others up to half the set). */
void nft_meter_elems(struct nft_tbl *t, struct nftnl_set *set, bool drops,
		     const struct bh_dev_ent *devs, size_t n_devs);

/* A set the rules fill, each element expiring @timeout_ms after its last
 * update, at most @size; with @carry, the elements of the snapshot's set
 * of that name carried over, each with what was left of its timeout. */
struct nftnl_set *nft_learned_new(struct nft_tbl *t, const char *name, __u32 key_type,
				  __u32 key_len, __u32 size, __u64 timeout_ms, bool carry);
/* Add @key to @set expiring in @expires_ms (its timeout @timeout_ms). */
void nft_learned_elem(struct nftnl_set *set, const void *key, __u32 klen,
		      __u64 timeout_ms, __u64 expires_ms);

/* The whole policy (--mode nft): table inet, and the bridge table's
 * prerouting chain. */
void bh_nft_policy_inet(struct nft_tbl *t, const struct bh_nft_spec *s);
void bh_nft_policy_bridge(struct nft_tbl *t, const struct bh_nft_spec *s);

#endif /* BH_NFT_INT_H */
