/* SPDX-License-Identifier: GPL-2.0 */
/*
 * events.h - deny events to the daemon (bh_events ring buffer), limited by
 * token buckets per source device and per CPU; what a bucket withheld is
 * counted into the device's next event.
 */
#ifndef BH_LIB_EVENTS_H
#define BH_LIB_EVENTS_H

#include "common.h"
#include "pkt.h"

/* deny events to the daemon (struct bh_event). bpf */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BH_EVENTS_RING);
} bh_events SEC(".maps");

/* source MAC -> deny event token bucket. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_MAX_EVLIMIT);
	__type(key, struct bh_mac_key);
	__type(value, struct bh_evlimit);
} bh_evlimit SEC(".maps");

/* counter slot -> the policy's device's deny event token bucket. bpf, user */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BH_MAX_DEVCTR);
	__type(key, __u32);
	__type(value, struct bh_evlimit);
} bh_evslot SEC(".maps");

/* key 0 -> this CPU's deny event token bucket (all MACs). bpf */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bh_evlimit);
} bh_evcpu SEC(".maps");

/* MACs and addresses of a frame, into a deny event */
#define copy_endpoints(d, p) do {				\
	__builtin_memcpy((d)->smac, (p)->smac, 6);		\
	__builtin_memcpy((d)->dmac, (p)->dmac, 6);		\
	__builtin_memcpy((d)->saddr, (p)->saddr, 16);		\
	__builtin_memcpy((d)->daddr, (p)->daddr, 16);		\
} while (0)

/*
 * Take one token from @b (refilled at @rate per second up to @burst).
 * Racy across CPUs for a shared bucket: at worst a few events too many.
 */
static __always_inline bool ev_take(struct bh_evlimit *b, __u64 now, __u64 rate,
				    __u64 burst)
{
	__u64 tok = 1000000000ULL / rate, max = tok * burst, credit;

	credit = b->credit_ns + (now - b->last_ns);
	if (now < b->last_ns || credit > max)
		credit = max;
	b->last_ns = now;
	if (credit < tok) {
		b->credit_ns = credit;
		return false;
	}
	b->credit_ns = credit - tok;
	return true;
}

/* A source MAC without a counter slot: its bh_evlimit bucket, made if new. */
static __noinline struct bh_evlimit *ev_bucket_mac(struct bh_pkt *p)
{
	struct bh_evlimit z = { .last_ns = p->now,
				.credit_ns = 1000000000ULL / BH_EV_RATE * BH_EV_BURST };
	struct bh_mac_key mk = {};
	struct bh_evlimit *b;

	__builtin_memcpy(mk.mac, p->smac, 6);
	b = bpf_map_lookup_elem(&bh_evlimit, &mk);
	if (b)
		return b;
	bpf_map_update_elem(&bh_evlimit, &mk, &z, BPF_NOEXIST);
	return bpf_map_lookup_elem(&bh_evlimit, &mk);
}

/*
 * A policy device's drops counted by MAC: before it had a slot (it joined
 * the policy, or Bulkhead was upgraded to the slots), or dropped before its
 * device was looked up (malformed, tagged, no policy). Taken into the
 * device's next event, so none is stranded there: only an event pays this
 * lookup, not every drop.
 */
static __always_inline __u32 ev_mac_leftover(struct bh_pkt *p)
{
	struct bh_mac_key mk = {};
	struct bh_evlimit *b;
	__u32 sup;

	__builtin_memcpy(mk.mac, p->smac, 6);
	b = bpf_map_lookup_elem(&bh_evlimit, &mk);
	if (!b)
		return 0;
	sup = b->suppressed;
	if (sup)
		__sync_fetch_and_add(&b->suppressed, -sup);
	return sup;
}

/*
 * A dropped frame (or one audit passed, marked would_drop): a deny event on
 * bh_events unless its source MAC's or this CPU's bucket is empty. Only
 * those get here, so passes cost nothing.
 * A policy device's bucket is at its counter slot (an inlined array
 * access); a zeroed one (a slot just handed out) starts full.
 */
__noinline int bh_event(struct bh_pkt *p)
{
	struct bh_evlimit *b, *cpu;
	struct bh_event *e;
	__u64 now;
	__u32 zero = 0, sup, key;

	if (!p)
		return 0;
	now = p->now;		/* the frame's one clock read: no second one */
	if (p->ctr_slot) {
		key = p->ctr_slot;
		b = bpf_map_lookup_elem(&bh_evslot, &key);
		if (b && !b->last_ns)
			b->credit_ns = 1000000000ULL / BH_EV_RATE * BH_EV_BURST;
	} else {
		b = ev_bucket_mac(p);
	}
	if (!b)
		return 0;
	if (!ev_take(b, now, BH_EV_RATE, BH_EV_BURST))
		goto suppress;
	cpu = bpf_map_lookup_elem(&bh_evcpu, &zero);
	if (!cpu)
		goto suppress;
	if (!cpu->last_ns)
		cpu->credit_ns = 1000000000ULL / BH_EV_CPU_RATE * BH_EV_CPU_BURST;
	if (!ev_take(cpu, now, BH_EV_CPU_RATE, BH_EV_CPU_BURST))
		goto suppress;
	e = bpf_ringbuf_reserve(&bh_events, sizeof(*e), 0);
	if (!e)
		goto suppress;
	sup = b->suppressed;
	__sync_fetch_and_add(&b->suppressed, -sup);
	if (p->ctr_slot)
		sup += ev_mac_leftover(p);
	e->time_ns = now;
	copy_endpoints(e, p);
	e->eth_proto = p->eth_proto;
	e->proto = p->l4proto;
	e->is_v4 = p->is_v4;
	e->sport = p->has_l4 ? p->sport : 0;
	e->dport = p->has_l4 ? p->dport : 0;
	e->reason = p->reason;
	e->flags = 0;
	e->pad = 0;
	if (p->reason == BH_R_PASS_AUDIT) {
		/* the drop audit waived (a cache hit of ARP keeps no reason) */
		e->reason = p->vc_reason >= BH_R_PASS_MAX ? p->vc_reason : BH_R_DROP_DEFAULT;
		e->flags = BH_EVF_WOULD_DROP;
	}
	e->rule_id = p->rule_id;
	e->suppressed = sup;
	bpf_ringbuf_submit(e, 0);
	return 0;
suppress:
	__sync_fetch_and_add(&b->suppressed, 1);
	return 0;
}

#endif /* BH_LIB_EVENTS_H */
