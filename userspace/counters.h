/* SPDX-License-Identifier: GPL-2.0 */
/*
 * counters.h - the counters in force, whichever dataplane keeps them: the
 * BPF maps (per-CPU values summed) and, in --mode nft, the nftables tables
 * (named counters per reason and per rule, per-MAC sets). status, devices
 * and the metrics endpoint all read them through here.
 */
#ifndef BH_COUNTERS_H
#define BH_COUNTERS_H

#include <stddef.h>
#include <linux/types.h>

#include <stdbool.h>

#include "dataplane.h"
#include "nft.h"

/*
 * Per verdict reason into @reasons[BH_R_MAX], and per rule of generation
 * @gen into @rules[@n_rules] (may be NULL); with @nft (--mode nft in
 * force) the nftables counters added. 0 or -errno.
 */
int bh_counts_verdicts(const struct bh_maps *m, bool nft, __u32 gen,
		       struct bh_counter *reasons, struct bh_counter *rules, size_t n_rules);

/*
 * Per source MAC, sorted by MAC, one row each, in a malloc'd array.
 * 0 or -errno.
 */
int bh_counts_devices(const struct bh_maps *m, bool nft,
		      struct bh_dev_count **out, size_t *n);

/* The row of @mac in @rows (sorted), or NULL. */
const struct bh_dev_count *bh_counts_find(const struct bh_dev_count *rows, size_t n,
					  const __u8 mac[6]);

#endif /* BH_COUNTERS_H */
