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

#include "compile.h"
#include "ctnl.h"	/* what isolating a device and leaving --mode nft also need */
#include "../bpf/bulkhead_abi.h"
#include "nl.h"

#define BH_NFT_TABLE	"bulkhead"

/* enum bh_reason -> its name: status, events and the nftables counters */
extern const char *const bh_reason_names[];

/*
 * --mode nft, per source MAC: dev_stats (table bridge: every frame a port
 * receives) and dev_drops (both tables: the dropped ones), dynamic sets
 * with a counter on each element, at most BH_MAX_DEVSTATS MACs each; the
 * policy's devices are in them from the start, other MACs are added by
 * their first frame while there is room (a full set counts no new MAC;
 * the frame is judged all the same).
 */
#define BH_NFT_DEV_STATS	"dev_stats"
#define BH_NFT_DEV_DROPS	"dev_drops"
/*
 * Deny events: every drop logs to NFLOG group BH_NFLOG_GROUP with the
 * prefix "bulkhead <reason>[ <rule id>]", behind a per-MAC limit (set
 * ev_limit: BH_EV_RATE/s, burst BH_EV_BURST; at most BH_NFT_EV_MACS MACs,
 * each forgotten BH_NFT_EV_IDLE_MS after its last drop) and one per table
 * (limit object ev_cap: BH_EV_CPU_RATE/s, burst BH_EV_CPU_BURST).
 */
#define BH_NFLOG_GROUP		25192	/* "bh" */
#define BH_NFLOG_PREFIX		"bulkhead"
#define BH_NFT_EV_LIMIT		"ev_limit"
#define BH_NFT_EV_CAP		"ev_cap"
#define BH_NFT_EV_MACS		4096
#define BH_NFT_EV_IDLE_MS	10000
/*
 * --mode nft, address claims (table bridge): an address of the gateway's
 * LAN prefixes or IPv6 link-local that no device binds belongs to the
 * first MAC that uses it as its own (IP source, ARP sender, NA target)
 * until it has been silent BH_NFT_CLAIM_MS: sets claimed4/claimed6
 * (address) and claim4/claim6 (address . MAC), at most BH_NFT_LEARN_MAX
 * each. Another MAC's frames using it are drop_spoof.
 */
#define BH_NFT_CLAIM_MS		600000
/*
 * --mode nft, flooded frames (table bridge, postrouting hook): each port's
 * devices are learned from what it sends (set port_dev: port . MAC;
 * ports_<group>, qports: the ports a device of the group / a quarantined
 * device was seen on), forgotten BH_NFT_PORT_MS after the last frame. A
 * rewrite of the tables seeds ports_<group> and qports from port_dev with
 * the new policy's groups and quarantine.
 */
#define BH_NFT_PORT_MS		600000
#define BH_NFT_DROP_FLOOD	"drop_flood"
/*
 * --mode nft, ICMP errors about east-west flows: a flow accepted toward a
 * device group g carries (g + 1) << BH_NFT_CTMARK_SHIFT in its conntrack
 * mark (the bits of BH_NFT_CTMARK_MASK; the others are left alone); an
 * ICMP error related to it passes to the initiator only from a device of
 * group g.
 */
#define BH_NFT_CTMARK_SHIFT	16
#define BH_NFT_CTMARK_MASK	0xffff0000u
#define BH_NFT_LEARN_MAX	65536

/*
 * The drops counted for @mac in set dev_drops of table @family (NFPROTO_
 * BRIDGE or NFPROTO_INET) bulkhead, asked over @nl. 0, -ENOENT (no such
 * element, set or table) or -errno.
 */
struct mnl_socket;
int bh_nft_drops_of(struct mnl_socket *nl, int family, const __u8 mac[6], __u64 *drops);

/* "bulkhead <reason>[ <rule>]" (rule BH_RULE_DEFAULT: none) */
void bh_nflog_prefix(char *buf, size_t len, unsigned int reason, __u32 rule);

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
