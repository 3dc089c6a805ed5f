/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flowkey.h - flow record keys (struct bh_flow_key, bulkhead_abi.h) built
 * in userspace, for --mode nft, where no BPF program records flows: the
 * daemon makes them from the kernel's connection tracking (ctnetlink
 * events: the flows that passed) and from NFLOG deny events (the flows
 * that were dropped, or would have been under audit), classified as
 * bpf/lib/flow.h classifies a frame, through the same maps (bh_ips,
 * bh_gw_ip, bh_gw_mac, bh_lan) behind struct bh_flow_env. Pure: no socket,
 * no map; the callbacks answer.
 */
#ifndef BH_FLOWKEY_H
#define BH_FLOWKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "../bpf/bulkhead_abi.h"

struct nlmsghdr;

/* What the dataplane's maps say of an address or a MAC. */
struct bh_flow_env {
	/* the device bound to @a (bh_ips, the active generation): its MAC */
	bool (*owner)(void *data, const __u8 a[16], __u8 mac[6]);
	bool (*gw_ip)(void *data, const __u8 a[16]);	/* bh_gw_ip */
	bool (*gw_mac)(void *data, const __u8 mac[6]);	/* bh_gw_mac */
	bool (*lan)(void *data, const __u8 a[16]);	/* bh_lan */
	void *data;
};

/* One ctnetlink conntrack message (IPCTNL_MSG_CT_NEW or _DELETE). */
struct bh_ctflow {
	__u32 id;		/* CTA_ID (0: none) */
	bool destroy;		/* IPCTNL_MSG_CT_DELETE: the entry is gone */
	bool v4;
	__u8 saddr[16];		/* the original tuple, IPv4 v4-mapped */
	__u8 daddr[16];
	__u8 proto;
	__u8 icmp_type;		/* ICMP, ICMPv6: the original direction's type */
	__u16 sport, dport;	/* host order */
	bool has_counters;	/* CTA_COUNTERS_*: nf_conntrack_acct is on */
	__u64 packets, bytes;	/* both directions, bytes of the IP packets */
};

/*
 * Parse the ctnetlink message @nlh (@len bytes, untrusted: every length is
 * checked). 0, or -EINVAL (not a conntrack message, no original tuple, a
 * bad attribute).
 */
int bh_ctflow_parse(const struct nlmsghdr *nlh, size_t len, struct bh_ctflow *f);

/*
 * The destination of a frame sent to @dmac (NULL: routed, as conntrack
 * sees it) and @daddr into @k's kind, dmac, daddr and plen, as
 * flow_classify() does: a group MAC is multicast or broadcast; a unicast
 * MAC that is not the gateway's a device; routed, the gateway's own
 * address, a bound device, a LAN address, else the internet (masked).
 * Without a MAC: a multicast address is multicast, 255.255.255.255
 * broadcast.
 */
void bh_flow_dest(const struct bh_flow_env *env, const __u8 *dmac, const __u8 daddr[16],
		  bool v4, struct bh_flow_key *k);

/*
 * The record of conntrack flow @f with @verdict (BH_FV_*). -ENOENT when no
 * device is bound to its original source (the gateway's own flows, an
 * address no policy member or lease binds), -EOPNOTSUPP for a protocol
 * the dataplane does not record by port.
 */
int bh_flow_key_ct(const struct bh_flow_env *env, const struct bh_ctflow *f, __u8 verdict,
		   struct bh_flow_key *k);

/*
 * The record of the deny event @e (nflog.c): drop, or would_drop when
 * audit passed it. -ENOENT: no source device (a group MAC, none logged).
 */
int bh_flow_key_event(const struct bh_flow_env *env, const struct bh_event *e,
		      struct bh_flow_key *k);

#endif /* BH_FLOWKEY_H */
