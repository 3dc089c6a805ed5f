/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nft_snap.h - Bulkhead's tables in force, read back: what they count
 * (named counters, per-MAC set elements) and what their rules learned
 * (sets whose elements time out), and the helpers that carry it into the
 * tables that replace them.
 */
#ifndef BH_NFT_SNAP_H
#define BH_NFT_SNAP_H

#include "nft_msg.h"

/* What Bulkhead's tables count: named counters, per-MAC set elements. */
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

/* A named counter, starting from what the snapshot's of that name counted. */
void nft_counter_obj(struct nft_tbl *t, const char *name);
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

#endif /* BH_NFT_SNAP_H */
