/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clock.h - the frame's time: one coarse clock read per tick per CPU.
 */
#ifndef BH_LIB_CLOCK_H
#define BH_LIB_CLOCK_H

#include "common.h"

/* key 0 -> this CPU's coarse clock reading and its jiffies. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bh_clock);
} bh_clock SEC(".maps");

/*
 * The frame's time, CLOCK_MONOTONIC_COARSE as bpf_ktime_get_coarse_ns()
 * reads it. That clock moves once a tick, as jiffies does: this CPU keeps
 * its last reading with the jiffies it was taken at (bh_clock), and a frame
 * calls the helper only when jiffies moved. bpf_jiffies64() is inlined into
 * a load; a helper call costs about ten times as much here (bench_prims).
 * A reading taken just as the tick moved jiffies but not yet the clock is a
 * tick old until the next tick: the clock's own resolution.
 */
static __always_inline __u64 bh_now(void)
{
	__u64 j = bpf_jiffies64();
	struct bh_clock *c;
	__u32 key = 0;

	c = bpf_map_lookup_elem(&bh_clock, &key);
	if (!c)
		return bpf_ktime_get_coarse_ns();
	if (c->jiffies != j) {
		/* the time first: a program that interrupts these stores
		 * sees the old jiffies and reads the clock itself */
		c->ns = bpf_ktime_get_coarse_ns();
		barrier();
		c->jiffies = j;
	}
	return c->ns;
}

#endif /* BH_LIB_CLOCK_H */
