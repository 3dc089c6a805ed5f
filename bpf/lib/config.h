/* SPDX-License-Identifier: GPL-2.0 */
/*
 * config.h - the live generation and its settings (the controller flips
 * bh_active between two generations of every policy map), and the
 * read-only tunables a loader sets before the load.
 */
#ifndef BH_LIB_CONFIG_H
#define BH_LIB_CONFIG_H

#include "common.h"

/* key 0 -> struct bh_active: the generation packets use. user (the flip) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bh_active);
} bh_active SEC(".maps");

/* gen -> struct bh_config. user */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct bh_config);
} bh_config SEC(".maps");

/*
 * Set only by a benchmark's loader, before the load (bench/bench_verdict.c,
 * bench_scale.c): every frame judged in full, nothing cached, to measure
 * what the lookups themselves cost as the policy grows. Read-only data: the
 * verifier sees it constant and drops the branch; the controller never
 * sets it.
 */
const volatile __u8 bh_bench_no_vcache = 0;

/*
 * Set only by a benchmark's loader: no flow records (lib/flow.h), to
 * measure what recording costs a frame. The controller never sets it.
 */
const volatile __u8 bh_bench_no_flows = 0;

#endif /* BH_LIB_CONFIG_H */
