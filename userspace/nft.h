/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nft.h - Bulkhead's nftables tables, written with libnftnl + libmnl in one
 * batch transaction each time. Bulkhead owns "table bridge bulkhead" and
 * "table inet bulkhead" and never touches any other table.
 *
 * Every mode: the quarantine lock in table bridge bulkhead. The quarantined
 * MACs as a named set, enforced on the bridge's forward, input and output
 * hooks, so an isolated device stays isolated even with the BPF programs
 * gone, and the gateway itself cannot relay its traffic. Only the
 * quarantine.allow services pass, to and from the gateway.
 *
 * --mode nft: the whole policy. table bridge bulkhead judges what is not IP
 * (ARP, EAPOL, tags, ethertypes) and address claims on the bridge's
 * prerouting hook, and each flooded copy on its postrouting hook; table
 * inet bulkhead judges IP on the prerouting hook, after conntrack, so
 * replies pass as ct direction reply. Bridged IP reaches the inet hooks
 * because the bridge's nf_call_iptables / nf_call_ip6tables options are
 * set (br_netfilter, per bridge).
 */
#ifndef BH_NFT_H
#define BH_NFT_H

#include <stddef.h>
#include <linux/types.h>

#include "ctnl.h"	/* what isolating a device and leaving --mode nft also need */
#include "nft_spec.h"

/*
 * The drops counted for @mac in set dev_drops of table @family (NFPROTO_
 * BRIDGE or NFPROTO_INET) bulkhead, asked over @nl. 0, -ENOENT (no such
 * element, set or table) or -errno.
 */
struct mnl_socket;
int bh_nft_drops_of(struct mnl_socket *nl, int family, const __u8 mac[6], __u64 *drops);

/*
 * Replace Bulkhead's tables with what @s describes, atomically: one batch
 * creates-if-absent, deletes and recreates them. 0 or -errno.
 */
int bh_nft_sync(const struct bh_nft_spec *s);

/* Remove both tables if they exist. 0 or -errno. */
int bh_nft_remove(void);

/*
 * Add the named verdict counters of Bulkhead's tables (--mode nft) into
 * @pkts / @bytes, indexed by enum bh_reason, and the rule counters
 * (rule_<id>) into @rule_pkts / @rule_bytes (may be NULL) for ids below
 * @n_rules. 0, or -ENOENT with no table.
 */
int bh_nft_counters(__u64 *pkts, __u64 *bytes, __u64 *rule_pkts, __u64 *rule_bytes,
		    size_t n_rules);

/* One source MAC's counters. */
struct bh_dev_count {
	__u8 mac[6];
	struct bh_dev_stats st;
};

/*
 * The per-source-MAC counters of the sets dev_stats and dev_drops (bytes
 * from the network header, as nftables counts), one row per set element,
 * in a malloc'd array: a MAC has up to three rows (none without the
 * tables). 0 or -errno.
 */
int bh_nft_devstats(struct bh_dev_count **out, size_t *n);

/*
 * --mode nft: the MAC that claimed @a on the bridge (the learned sets
 * claim4/claim6 of table bridge bulkhead). 0, -ENOENT when none, -errno.
 */
int bh_nft_claim_of(const struct bh_addr *a, __u8 mac[6]);

#endif /* BH_NFT_H */
