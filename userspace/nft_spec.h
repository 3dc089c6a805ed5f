/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nft_spec.h - what Bulkhead's nftables tables are: their names, limits
 * and the names of their counters, and the spec they are written from.
 * Every nft file includes it; it includes no nft file.
 */
#ifndef BH_NFT_SPEC_H
#define BH_NFT_SPEC_H

#include <stddef.h>
#include <linux/types.h>

#include "compile.h"
#include "../bpf/bulkhead_abi.h"
#include "nl.h"

struct bh_blocklist;

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
#define BH_NFLOG_WOULD		"would_drop"	/* after the prefix: audit passed it */
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
 * --mode nft, detection (docs/detect.md; the policy has detect:): table
 * inet logs new connection attempts to NFLOG group BH_NFLOG_DET_GROUP with
 * the prefix "bulkhead detect <what>", where what is
 *   deny       the policy denied it, toward the LAN (scans count it)
 *   deny_inet  the policy denied it, toward the internet
 *   new        tcp to a worm port (set det_ports), whatever the verdict
 *   block      to an address of the blocklist (sets block4, block6), dropped
 * behind one limit for all devices together (limit object det_cap:
 * BH_NFT_DET_RATE/s, burst BH_NFT_DET_BURST), none per device or target:
 * a scan must not hide behind a per-MAC limit as deny events do.
 */
#define BH_NFLOG_DET_GROUP	25193
#define BH_NFLOG_DET_PREFIX	"bulkhead detect"
#define BH_NFT_DET_CAP		"det_cap"
#define BH_NFT_DET_RATE		4000
#define BH_NFT_DET_BURST	1000

struct bh_nft_spec {
	const __u8 (*quarantine)[6];	/* the quarantined MACs (level full) */
	size_t n_quarantine;
	const __u8 (*quarantine_lan)[6];	/* quarantined at level lan: no LAN */
	size_t n_quarantine_lan;
	__u16 qallow;			/* BH_SVC_* */
	/* --mode nft: the policy in force; NULL: the quarantine lock only */
	const struct bh_policy *p;
	const struct bh_compiled *c;
	const struct bh_topology *topo;
	/* --mode nft with detection: the blocklist in force (NULL: none) */
	const struct bh_blocklist *block;
};

#endif /* BH_NFT_SPEC_H */
