/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vcache.h - the flow verdict cache: a per-CPU slot per flow hash holding
 * the last full verdict, valid while the generation and the epochs are
 * those it was computed under (bh_vepoch in bulkhead_abi.h).
 */
#ifndef BH_LIB_VCACHE_H
#define BH_LIB_VCACHE_H

#include "common.h"
#include "addr.h"
#include "pkt.h"
#include "parse.h"
#include "config.h"
#include "ct.h"
#include "claim.h"

/* key 0 -> verdict cache epoch, bumped after verdict-changing writes. user */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bh_vepoch SEC(".maps");

/* hash of a flow -> cached verdict, per CPU. bpf (userspace invalidates via bh_vepoch) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BH_VCACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct bh_vc_slot);
} bh_vcache SEC(".maps");

static __always_inline bool dhcp_port(__u16 port)
{
	return port == 67 || port == 68 || port == 546 || port == 547;
}

/*
 * Frames judged by the key's fields alone (and the maps the epochs cover):
 * TCP/UDP and ICMP echo in whole datagrams, no DHCP (the rogue-server
 * check and the gateway's server), and ARP (MACs, sender and target
 * addresses). Not ND, ICMP errors (judged by the packet they quote),
 * other ICMP types, fragments or EAPOL.
 */
static __always_inline bool vc_eligible(const struct bh_pkt *p)
{
	if (p->eth_proto == ETH_P_ARP)
		return true;
	if (!p->has_l4 || p->frag_first || p->frag_later)
		return false;
	if (p->eth_proto != ETH_P_IP && p->eth_proto != ETH_P_IPV6)
		return false;
	if (p->l4proto == IPPROTO_UDP)
		return !dhcp_port(p->sport) && !dhcp_port(p->dport);
	if (p->l4proto == IPPROTO_ICMP || p->l4proto == IPPROTO_ICMPV6)
		return is_echo_request(p->l4proto, p->icmp_type) ||
		       is_echo_reply(p->l4proto, p->icmp_type);
	return p->l4proto == IPPROTO_TCP;
}

/*
 * The key is p->vk, the parsed fields in place: only the flags are left,
 * the parts of the verdict no other key field tells (ARP's addresses are
 * its sender's and target's, with no protocol or ports; an echo's type).
 */
static __always_inline void vc_key(struct bh_pkt *p)
{
	__u8 flags = 0;

	if (p->is_v4)
		flags |= BH_VC_V4;
	if (p->eth_proto == ETH_P_ARP)
		flags |= BH_VC_ARP;
	else if (p->l4proto == IPPROTO_TCP && (p->tcp_flags & TCP_FLAG_SYN) &&
		 !(p->tcp_flags & TCP_FLAG_ACK))
		flags |= BH_VC_SYN;
	else if (is_echo_reply(p->l4proto, p->icmp_type))
		flags |= BH_VC_ECHOREP;
	p->vc_flags = flags;
}

/* A valid entry: the verdict again, with the flow state it depends on. */
static __always_inline int vc_hit(struct bh_pkt *p, struct bh_vc_val *vc)
{
	struct bh_ct_key k;

	if (!vc)
		return 0;
	if (vc->kind == BH_VCK_ALLOW) {
		/* keep the flow tracked, as ct_track() would: once a second */
		if ((__s64)(p->now - vc->ct_seen) >= (__s64)BH_VC_CT_RECHECK) {
			ct_key(&k, p->l4proto, p->saddr, p->daddr, p->sport, p->dport);
			ct_track(&k, p->smac, p->dmac, 0, p->now);
			vc->ct_seen = p->now;
		}
		return verdict(p, 1, vc->reason, vc->rule_id);
	}
	if (vc->kind == BH_VCK_DENY || vc->kind == BH_VCK_AUDIT) {
		/* a reply while its flow was live within the last second */
		if (vc->reply && (__s64)(p->now - vc->ct_seen) < (__s64)BH_VC_CT_RECHECK)
			return PASS(p, BH_R_PASS_REPLY);
		if (is_reply(p)) {
			vc->reply = 1;
			vc->ct_seen = p->now;
			return PASS(p, BH_R_PASS_REPLY);
		}
		vc->reply = 0;
		if (vc->kind == BH_VCK_DENY)
			return verdict(p, 0, vc->reason, vc->rule_id);
		/* audit: passed, and tracked as an allowed flow is (as
		 * decide_ip() does: not a frame that is its own reverse) */
		if ((__s64)(p->now - vc->ct_seen) >= (__s64)BH_VC_CT_RECHECK &&
		    (!addr_eq(p->saddr, p->daddr) || p->sport != p->dport)) {
			ct_key(&k, p->l4proto, p->saddr, p->daddr, p->sport, p->dport);
			ct_track(&k, p->smac, p->dmac, 0, p->now);
			vc->ct_seen = p->now;
		}
		p->vc_reason = vc->reason;
		return verdict(p, 1, BH_R_PASS_AUDIT, vc->rule_id);
	}
	return verdict(p, vc->reason < BH_R_PASS_MAX, vc->reason, vc->rule_id);
}

/* the padding is zero in both: compared with the words, the rest by byte
 * (as the parser wrote them: a wider load would wait for the narrow stores) */
static __always_inline bool vc_key_eq(const struct bh_vc_key *a, const struct bh_vc_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) |
		 (x[4] ^ y[4]) | (x[5] ^ y[5]) | (__u64)(a->proto ^ b->proto) |
		 (__u64)(a->flags ^ b->flags));
}

/*
 * Fill this CPU's slot. kind goes to 0 first and is set last, so a program
 * that interrupts the writes on this CPU sees an empty slot, not a torn one.
 */
static __always_inline void vc_store(struct bh_pkt *p, struct bh_vc_slot *s,
				     const struct bh_vc_key *k, __u32 epoch, __u32 vepoch)
{
	__u8 kind = p->vc_kind ? p->vc_kind : BH_VCK_FIXED;

	s->val.kind = 0;
	barrier();
	s->key = *k;
	s->ctr_slot = p->ctr_slot;
	s->val.epoch = epoch;
	s->val.vepoch = vepoch;
	s->val.ct_seen = p->now;
	s->claim_seen = p->now;
	s->val.reason = p->reason;
	s->val.rule_id = p->rule_id;
	s->val.reply = 0;
	s->flow = (struct bh_vc_flow){};	/* classified again (lib/flow.h) */
	if (kind == BH_VCK_DENY || kind == BH_VCK_AUDIT) {
		s->val.reason = p->vc_reason;
		s->val.rule_id = p->vc_rule;
		s->val.reply = p->reason == BH_R_PASS_REPLY;
	}
	barrier();
	s->val.kind = kind;
}

/*
 * The flow verdict cache, probed inline (a hit makes no BPF-to-BPF call;
 * on the benchmark VM a call and its return cost about a third of the
 * empty program, bench_prims). Returns true when a valid slot judged the
 * frame.
 *
 * The cache epoch is read first, the generation and policy epoch in one
 * 8-byte load: a verdict stored under them was computed from map contents
 * no older than those reads, so it is stale as soon as either moves (see
 * bh_vepoch in bulkhead_abi.h, and docs/architecture.md). A miss leaves
 * what it read in @p for bh_decide(), which must not read them again.
 */
static __always_inline bool vc_probe(struct bh_pkt *p)
{
	struct bh_vc_slot *slot;
	struct bh_config *cfg;
	struct bh_active a;
	__u32 key = 0, *ve;
	__u64 *act, av;

	ve = bpf_map_lookup_elem(&bh_vepoch, &key);
	if (ve)
		p->vc_vepoch = *(volatile __u32 *)ve;
	act = bpf_map_lookup_elem(&bh_active, &key);
	if (!act)
		return false;
	av = *(volatile __u64 *)act;
	__builtin_memcpy(&a, &av, sizeof(a));
	p->gen = a.gen & 1;
	p->vc_epoch = a.epoch;
	p->vc_gen_ok = 1;
	key = p->gen;
	cfg = bpf_map_lookup_elem(&bh_config, &key);
	if (!cfg || !(cfg->flags & BH_CFG_VALID) || (p->smac[0] & 1))
		return false;			/* bh_decide() drops it */
	if (bh_bench_no_vcache)
		return false;			/* vc_ok 0: nothing stored */
	p->vc_ok = vc_eligible(p);
	if (!p->vc_ok)
		return false;
	vc_key(p);
	p->vc_idx = bh_vc_index(&p->vk);
	slot = bpf_map_lookup_elem(&bh_vcache, &p->vc_idx);
	if (!slot || !slot->val.kind || slot->val.epoch != a.epoch ||
	    slot->val.vepoch != p->vc_vepoch || !vc_key_eq(&slot->key, &p->vk))
		return false;
	/* the source address's claim, kept fresh as the miss path keeps it;
	 * taken by another MAC meanwhile (ours lapsed): judged in full */
	if ((__s64)(p->now - slot->claim_seen) >= (__s64)BH_CLAIM_REFRESH) {
		if (!claim_keep(p))
			return false;
		slot->claim_seen = p->now;
	}
	p->ctr_slot = slot->ctr_slot;
	vc_hit(p, &slot->val);
	return true;
}

#endif /* BH_LIB_VCACHE_H */
