/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ct.h - connection tracking: flows the policy allowed, or the gateway
 * opened (tc egress), so that their replies pass a denying policy.
 */
#ifndef BH_LIB_CT_H
#define BH_LIB_CT_H

#include "common.h"
#include "addr.h"
#include "pkt.h"
#include "parse.h"

/* flow (initiator's direction) -> last seen, MACs. bpf; user deletes */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_MAX_CT);
	__type(key, struct bh_ct_key);
	__type(value, struct bh_ct_val);
} bh_ct SEC(".maps");

static __always_inline void ct_key(struct bh_ct_key *k, __u8 proto,
				   const __u8 *src, const __u8 *dst,
				   __u16 sport, __u16 dport)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->proto = proto;
	k->sport = bpf_htons(sport);
	k->dport = bpf_htons(dport);
	__builtin_memcpy(k->saddr, src, 16);
	__builtin_memcpy(k->daddr, dst, 16);
}

static __always_inline __u64 ct_timeout(__u8 proto)
{
	if (proto == IPPROTO_TCP)
		return BH_CT_TCP_TIMEOUT;
	if (proto == IPPROTO_UDP)
		return BH_CT_UDP_TIMEOUT;
	return BH_CT_OTHER_TIMEOUT;
}

/* Record (or refresh, at most once a second) a flow in its own direction. */
static __noinline void ct_track(struct bh_ct_key *k, const __u8 *smac,
				const __u8 *dmac, __u32 flags, __u64 now)
{
	struct bh_ct_val *cv, nv = {};

	cv = bpf_map_lookup_elem(&bh_ct, k);
	if (cv && (__s64)(now - cv->last_seen) < 1000000000LL &&
	    mac_eq(cv->smac, smac) && mac_eq(cv->dmac, dmac))
		return;
	nv.last_seen = now;
	__builtin_memcpy(nv.smac, smac, 6);
	__builtin_memcpy(nv.dmac, dmac, 6);
	nv.flags = flags;
	bpf_map_update_elem(&bh_ct, k, &nv, BPF_ANY);
}

/* Refresh a flow already tracked (at most once a second); one lookup. */
static __always_inline void ct_refresh(struct bh_ct_key *k, __u64 now)
{
	struct bh_ct_val *cv = bpf_map_lookup_elem(&bh_ct, k);

	if (cv && (__s64)(now - cv->last_seen) >= 1000000000LL)
		cv->last_seen = now;
}

/*
 * A live flow answered by @p: its opener's MAC is the frame's destination
 * (or unknown: an entry imported from conntrack has none), or both are the
 * gateway's. A reply sent to another MAC (a neighbour cache poisoned by
 * the device it now goes to) answers nothing.
 */
static __always_inline bool ct_live(struct bh_ct_key *k, struct bh_pkt *p)
{
	struct bh_ct_val *cv = bpf_map_lookup_elem(&bh_ct, k);
	__u64 now = p->now;

	if (!cv)
		return false;
	if (!mac_eq(cv->smac, p->dmac) && !mac_zero(cv->smac) &&
	    !((cv->flags & BH_CT_FROM_GW) && p->dst_gw_mac))
		return false;
	if ((__s64)(now - cv->last_seen) >= (__s64)ct_timeout(k->proto))
		return false;
	/* replies keep their flow alive too (refreshed at most once a second) */
	if ((__s64)(now - cv->last_seen) > 1000000000LL)
		cv->last_seen = now;
	return true;
}

/* Denied by the policy: pass it anyway if it answers a tracked flow. */
static __noinline bool is_reply(struct bh_pkt *p)
{
	struct bh_ct_key k;

	if (!p->has_l4)
		return false;
	if (p->l4proto == IPPROTO_TCP) {
		if ((p->tcp_flags & TCP_FLAG_SYN) && !(p->tcp_flags & TCP_FLAG_ACK))
			return false;	/* a SYN opens a flow, it answers none */
	} else if (p->l4proto == IPPROTO_ICMP || p->l4proto == IPPROTO_ICMPV6) {
		if (is_icmp_error(p->l4proto, p->icmp_type)) {
			/* the quoted packet went from this packet's destination
			 * to its source: devices route nothing, so an error about
			 * a flow they are not an end of is no reply */
			if (!p->q_ok || !addr_eq(p->q_saddr, p->daddr) ||
			    !addr_eq(p->q_daddr, p->saddr))
				return false;
			ct_key(&k, p->q_proto, p->q_saddr, p->q_daddr,
			       p->q_sport, p->q_dport);
			return ct_live(&k, p);
		}
		if (!is_echo_reply(p->l4proto, p->icmp_type))
			return false;
	}
	ct_key(&k, p->l4proto, p->daddr, p->saddr, p->dport, p->sport);
	return ct_live(&k, p);
}

#endif /* BH_LIB_CT_H */
