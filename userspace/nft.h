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
 * (ARP, EAPOL, tags, ethertypes) on the bridge's prerouting hook; table
 * inet bulkhead judges IP on the prerouting hook, after conntrack, so
 * replies pass as ct direction reply. Bridged IP reaches the inet hooks
 * because the bridge's nf_call_iptables / nf_call_ip6tables options are
 * set (br_netfilter, per bridge).
 */
#ifndef BH_NFT_H
#define BH_NFT_H

#include <stddef.h>
#include <linux/types.h>

#include "compile.h"
#include "nl.h"

#define BH_NFT_TABLE	"bulkhead"

/* enum bh_reason -> its name: status, events and the nftables counters */
extern const char *const bh_reason_names[];

struct bh_nft_spec {
	const __u8 (*quarantine)[6];	/* the quarantined MACs */
	size_t n_quarantine;
	__u16 qallow;			/* BH_SVC_* */
	/* --mode nft: the policy in force; NULL: the quarantine lock only */
	const struct bh_policy *p;
	const struct bh_compiled *c;
	const struct bh_topology *topo;
};

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

/*
 * Delete the kernel's connection-tracking entries (ctnetlink) whose
 * original source or destination is one of @addrs. Returns how many.
 */
int bh_ct_flush_addrs(const struct bh_addr *addrs, size_t n);

/*
 * Copy the kernel's tracked flows (ctnetlink) into the BPF connection
 * tracking map @ct_map_fd, so replies keep passing when the BPF programs
 * take over from --mode nft. Returns how many.
 */
int bh_ct_import(int ct_map_fd);

#endif /* BH_NFT_H */
