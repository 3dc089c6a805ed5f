/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flow.h - flow records (issue 17): who talked to whom, aggregated by
 * (source device, destination device or class, protocol, server port,
 * verdict) in bh_flow, for the daemon to drain (bulkhead_abi.h).
 *
 * A frame is classified once per verdict cache slot: the frame that fills
 * the slot looks its destination up (and whether it answers a recorded
 * flow) and keeps the result in the slot (struct bh_vc_flow), so a cache
 * hit costs bh_flow's one lookup and two atomic adds. Frames the cache
 * does not hold are classified every time.
 */
#ifndef BH_LIB_FLOW_H
#define BH_LIB_FLOW_H

#include "common.h"
#include "addr.h"
#include "pkt.h"
#include "parse.h"
#include "gw.h"
#include "devices.h"
#include "vcache.h"

/* (source, destination, proto, server port, verdict) -> seen, counts. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_MAX_FLOWS);	/* the policy's flows.max, set before load */
	__type(key, struct bh_flow_key);
	__type(value, struct bh_flow_val);
} bh_flow SEC(".maps");

/* key 0 -> this CPU's bh_flow inserts: made, failed. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bh_flow_ctr);
} bh_flowstat SEC(".maps");

_Static_assert(BH_FLOW_V4_PLEN % 8 == 0 && BH_FLOW_V6_PLEN % 8 == 0,
	       "internet classes are masked by whole bytes");

static __always_inline __u8 flow_verdict(const struct bh_pkt *p)
{
	if (p->reason == BH_R_PASS_AUDIT)
		return BH_FV_WOULD_DROP;
	return p->pass ? BH_FV_PASS : BH_FV_DROP;
}

/*
 * The record's key for @p as @fc classified it: the frame's own ends, or
 * (BH_VCF_REPLY) the ends of the flow it answers: the opener (fc->mac) as
 * source, this frame's source as destination, its source port as the
 * server's. An ICMP error answering a flow counts in it (the quoted
 * packet's protocol and destination port).
 */
static __always_inline void flow_key(const struct bh_pkt *p, const struct bh_vc_flow *fc,
				     struct bh_flow_key *k)
{
	bool reply = fc->flags & BH_VCF_REPLY;
	__u8 proto = p->l4proto;
	__u16 port = 0;

	__builtin_memset(k, 0, sizeof(*k));
	k->kind = fc->kind;
	if (reply) {
		__builtin_memcpy(k->smac, fc->mac, 6);
		if (fc->kind == BH_FK_DEVICE)
			__builtin_memcpy(k->dmac, p->smac, 6);
		__builtin_memcpy(k->daddr, p->saddr, 16);
		k->verdict = (fc->flags & BH_VCF_WOULD) ? BH_FV_WOULD_DROP : BH_FV_PASS;
	} else {
		__builtin_memcpy(k->smac, p->smac, 6);
		if (fc->kind == BH_FK_DEVICE)
			__builtin_memcpy(k->dmac, fc->mac, 6);
		__builtin_memcpy(k->daddr, p->daddr, 16);
		k->verdict = flow_verdict(p);
	}
	if (p->is_v4)
		k->flags |= BH_FLOW_F_V4;
	if (p->eth_proto == ETH_P_ARP) {
		k->flags |= BH_FLOW_F_ARP;
		proto = 0;
	} else if (!p->has_l4) {
		port = 0;		/* a later fragment: no ports */
	} else if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		port = reply ? p->sport : p->dport;
	} else if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		port = p->icmp_type;
		if (reply && is_echo_reply(proto, p->icmp_type)) {
			port = proto == IPPROTO_ICMP ? ICMP_ECHO : ICMPV6_ECHO_REQUEST;
		} else if (reply && p->q_ok) {
			proto = p->q_proto;
			port = (proto == IPPROTO_TCP || proto == IPPROTO_UDP) ? p->q_dport : 0;
		}
	}
	k->proto = proto;
	k->port = port;
	if (fc->kind == BH_FK_INTERNET) {
		if (p->is_v4) {
			k->daddr[15] = 0;
			k->plen = BH_FLOW_V4_PLEN;
		} else {
			__builtin_memset(k->daddr + BH_FLOW_V6_PLEN / 8, 0,
					 16 - BH_FLOW_V6_PLEN / 8);
			k->plen = BH_FLOW_V6_PLEN;
		}
	}
}

static __always_inline void flow_count(struct bh_flow_val *v, const struct bh_pkt *p)
{
	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, p->len);
	if (v->last_seen != p->now)
		v->last_seen = p->now;
}

/* The kind of a routed (or bridged to another MAC) destination @addr. */
static __always_inline __u8 flow_routed_kind(const struct bh_pkt *p, const __u8 *addr,
					     struct bh_vc_flow *fc)
{
	struct bh_ip_val *own;

	if (is_gw_ip(addr))
		return BH_FK_GATEWAY;
	own = ip_owner(p->gen, addr);
	if (own) {
		__builtin_memcpy(fc->mac, own->mac, 6);
		return BH_FK_DEVICE;
	}
	return is_lan_ip(addr) ? BH_FK_LAN : BH_FK_INTERNET;
}

/* Could @p answer a flow its destination opened? */
static __always_inline bool flow_may_answer(const struct bh_pkt *p)
{
	if (p->reason == BH_R_PASS_REPLY)
		return true;
	if (!p->pass || p->reason == BH_R_PASS_AUDIT || !p->has_l4 || (p->dmac[0] & 1))
		return false;
	if (p->l4proto == IPPROTO_TCP)
		return !((p->tcp_flags & TCP_FLAG_SYN) && !(p->tcp_flags & TCP_FLAG_ACK));
	if (p->l4proto == IPPROTO_UDP)
		return true;
	return is_echo_reply(p->l4proto, p->icmp_type);
}

/*
 * Classify @p, count it, and keep the class in its cache slot (when it
 * has one). A frame that may answer a flow (a reply the
 * verdict found, or an allowed frame whose own record does not exist yet)
 * counts in the answered flow's record when that one exists: the frames of
 * a flow count in the record its opener made. A reply to a flow the
 * gateway opened (no device opened it) is not recorded.
 */
static __noinline int flow_classify(struct bh_pkt *p)
{
	struct bh_vc_slot *slot = NULL;
	struct bh_vc_flow fc = {}, fr = {};
	struct bh_flow_val nv = {}, *v;
	struct bh_flow_ctr *ctr;
	struct bh_flow_key k;
	__u32 zero = 0;
	bool routed;
	long ret;

	if (!p)
		return 0;
	if (p->vc_ok && p->reason != BH_R_DROP_SPOOF) {
		zero = p->vc_idx;
		slot = bpf_map_lookup_elem(&bh_vcache, &zero);
		zero = 0;
	}
	routed = !(p->dmac[0] & 1) && is_gw_mac(p->dmac);
	/* the destination, as the frame's sender opened it */
	if (p->dmac[0] & 1)
		fc.kind = (p->dmac[0] & p->dmac[1] & p->dmac[2] & p->dmac[3] &
			   p->dmac[4] & p->dmac[5]) == 0xff ? BH_FK_BROADCAST : BH_FK_MULTICAST;
	else if (!routed)
		fc.kind = BH_FK_DEVICE;
	else
		fc.kind = flow_routed_kind(p, p->daddr, &fc);
	if (fc.kind == BH_FK_DEVICE && !routed)
		__builtin_memcpy(fc.mac, p->dmac, 6);

	if (p->reason != BH_R_PASS_REPLY) {
		flow_key(p, &fc, &k);
		v = bpf_map_lookup_elem(&bh_flow, &k);
		if (v)
			goto count;
	}
	if (flow_may_answer(p)) {
		/* the opener: the frame's destination MAC, or the device
		 * bound to its destination address when routed */
		fr.flags = BH_VCF_REPLY;
		if (routed) {
			struct bh_ip_val *own = ip_owner(p->gen, p->daddr);
			struct bh_vc_flow tmp = {};

			if (!own) {
				if (p->reason != BH_R_PASS_REPLY)
					goto opens;
				fr.flags = BH_VCF_SKIP;
				fr.kind = BH_FK_MAX;
				fc = fr;
				goto store;
			}
			__builtin_memcpy(fr.mac, own->mac, 6);
			/* the replier, as its opener reached it (routed) */
			fr.kind = flow_routed_kind(p, p->saddr, &tmp);
		} else {
			__builtin_memcpy(fr.mac, p->dmac, 6);
			fr.kind = BH_FK_DEVICE;
		}
		flow_key(p, &fr, &k);
		v = bpf_map_lookup_elem(&bh_flow, &k);
		if (!v) {
			fr.flags |= BH_VCF_WOULD;
			k.verdict = BH_FV_WOULD_DROP;
			v = bpf_map_lookup_elem(&bh_flow, &k);
		}
		if (v) {
			fc = fr;
			goto count;
		}
		if (p->reason == BH_R_PASS_REPLY) {
			/* its opener's record is gone (evicted): made anew */
			fr.flags = BH_VCF_REPLY;
			fc = fr;
			flow_key(p, &fc, &k);
			goto make;
		}
	}
opens:
	flow_key(p, &fc, &k);
make:
	nv.first_seen = p->now;
	nv.last_seen = p->now;
	ret = bpf_map_update_elem(&bh_flow, &k, &nv, BPF_NOEXIST);
	ctr = bpf_map_lookup_elem(&bh_flowstat, &zero);
	if (ctr) {
		if (!ret)
			ctr->created++;
		else if (ret != -17)	/* -EEXIST: another CPU made it */
			ctr->failed++;
	}
	v = bpf_map_lookup_elem(&bh_flow, &k);
	if (!v)
		return 0;
count:
	flow_count(v, p);
store:
	if (slot)
		slot->flow = fc;
	return 0;
}

/*
 * Count a frame the ingress programs judged in its record, when its cache
 * slot holds its class (a hit, or the same flow's earlier frames): one
 * bh_flow lookup and the adds. 1 when the frame must be classified
 * (flow_classify(), called by the entry point: the two frames are never
 * on the stack together). Frames that did not parse, carry no IP or ARP,
 * or found no policy are not recorded.
 */
static __noinline int flow_count_cached(struct bh_pkt *p)
{
	struct bh_vc_slot *slot = NULL;
	struct bh_flow_key k;
	struct bh_flow_val *v;
	__u32 idx;
	bool reply;

	if (!p || !p->vc_gen_ok || (p->smac[0] & 1) ||
	    p->reason == BH_R_DROP_NOPOLICY || p->reason == BH_R_DROP_MALFORMED ||
	    (p->eth_proto != ETH_P_IP && p->eth_proto != ETH_P_IPV6 &&
	     p->eth_proto != ETH_P_ARP))
		return 0;
	/* the frame's own slot: a hit's, or the one bh_decide() filled */
	if (p->vc_ok && p->reason != BH_R_DROP_SPOOF) {
		idx = p->vc_idx;
		slot = bpf_map_lookup_elem(&bh_vcache, &idx);
	}
	if (!slot || !slot->flow.kind)
		return 1;
	if (slot->flow.flags & BH_VCF_SKIP)
		return p->reason != BH_R_PASS_REPLY;
	/* a slot's frames change sides when their flow's state does */
	reply = slot->flow.flags & BH_VCF_REPLY;
	if (reply ? !p->pass || p->reason == BH_R_PASS_AUDIT : p->reason == BH_R_PASS_REPLY)
		return 1;
	flow_key(p, &slot->flow, &k);
	v = bpf_map_lookup_elem(&bh_flow, &k);
	if (!v)
		return 1;	/* evicted: made again */
	flow_count(v, p);
	return 0;
}

/* Record a frame the ingress programs judged (inlined into the entry). */
static __always_inline void bh_flow_record(struct bh_pkt *p)
{
	if (flow_count_cached(p))
		flow_classify(p);
}

#endif /* BH_LIB_FLOW_H */
