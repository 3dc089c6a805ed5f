/* SPDX-License-Identifier: GPL-2.0 */
/*
 * account.h - the counters: per verdict reason, per rule, per source device
 * (a policy device at its counter slot, any other MAC by its address).
 */
#ifndef BH_LIB_ACCOUNT_H
#define BH_LIB_ACCOUNT_H

#include "common.h"
#include "pkt.h"

/* enum bh_reason -> packets/bytes, per CPU. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BH_R_MAX);
	__type(key, __u32);
	__type(value, struct bh_counter);
} bh_stats SEC(".maps");

/* gen * BH_MAX_RULES + rule id -> packets/bytes, per CPU. bpf; user zeroes */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * BH_MAX_RULES);
	__type(key, __u32);
	__type(value, struct bh_counter);
} bh_rulestats SEC(".maps");

/* source MAC -> packets/bytes/drops, per CPU. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, BH_MAX_DEVSTATS);
	__type(key, struct bh_mac_key);
	__type(value, struct bh_dev_stats);
} bh_devstats SEC(".maps");

/* counter slot -> the policy's device's packets/bytes/drops, per CPU. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BH_MAX_DEVCTR);
	__type(key, __u32);
	__type(value, struct bh_dev_stats);
} bh_devctr SEC(".maps");

static __always_inline void dev_count(struct bh_dev_stats *ds, const struct bh_pkt *p)
{
	ds->packets++;
	ds->bytes += p->len;
	if (!p->pass)
		ds->drops++;
	ds->last_seen = p->now;
}

/* A source MAC without a counter slot: its bh_devstats entry, made if new. */
static __noinline int account_mac(struct bh_pkt *p)
{
	struct bh_dev_stats *ds;
	struct bh_mac_key mk = {};

	if (!p)
		return 0;
	__builtin_memcpy(mk.mac, p->smac, 6);
	ds = bpf_map_lookup_elem(&bh_devstats, &mk);
	if (!ds) {
		struct bh_dev_stats z = {};

		bpf_map_update_elem(&bh_devstats, &mk, &z, BPF_NOEXIST);
		ds = bpf_map_lookup_elem(&bh_devstats, &mk);
		if (!ds)
			return 0;
	}
	dev_count(ds, p);
	return 0;
}

/*
 * Count the verdict: per reason, per rule, per source device. Inline, with
 * inlined array lookups: a frame of a policy device makes no call here.
 */
static __always_inline void bh_account(struct bh_pkt *p)
{
	struct bh_counter *cnt;
	struct bh_dev_stats *ds;
	__u32 key;

	key = p->reason;
	cnt = bpf_map_lookup_elem(&bh_stats, &key);
	if (cnt) {
		cnt->packets++;
		cnt->bytes += p->len;
	}
	if (p->rule_id < BH_MAX_RULES) {
		key = (p->gen & 1) * BH_MAX_RULES + p->rule_id;
		cnt = bpf_map_lookup_elem(&bh_rulestats, &key);
		if (cnt) {
			cnt->packets++;
			cnt->bytes += p->len;
		}
	}
	if (p->smac[0] & 1)
		return;
	if (p->ctr_slot) {
		/* a device of the policy: its slot, an inlined array access */
		key = p->ctr_slot;
		ds = bpf_map_lookup_elem(&bh_devctr, &key);
		if (ds) {
			dev_count(ds, p);
			return;
		}
	}
	account_mac(p);
}

#endif /* BH_LIB_ACCOUNT_H */
