/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctl_int.h - what ctl.c, ctl_up.c and ctl_quarantine.c share, and no one
 * else includes.
 */
#ifndef BH_CTL_INT_H
#define BH_CTL_INT_H

#include "ctl.h"
#include "nl.h"

/* a failure that is the system's: never one of the input errors (-EIO) */
int ctl_err_system(int err);
/* a failure that is the input's (-EINVAL if @err is not one) */
int ctl_err_input(int err);

/*
 * One controller at a time: the lock on <state dir>/lock. The fd, held
 * until closed, or -errno after saying why.
 */
int ctl_lock(const struct bh_ctx *ctx);
/* The pin dir is on a bpffs and within reach: 0, or -errno, said. */
int ctl_pin_dir_ok(const char *cmd, const struct bh_ctx *ctx);
/*
 * Is Bulkhead up on these ports with another pin dir? The ports of @t; with
 * @t NULL, those of the applied policy, else every interface. 0, or -EBUSY
 * (or another -errno) after naming the port.
 */
int ctl_foreign_check(const char *cmd, const struct bh_ctx *ctx, const struct bh_topology *t);

/* "warning: ..." for each of @d */
void ctl_print_warnings(const struct bh_diag *d);
/*
 * Detection as policy @p says (detect:, NULL/absent: off): bh_detect_cfg
 * with the salt of this up (@new_salt: draw one and keep it in the state
 * dir, else the kept one), the blocklist file into bh_block, then the
 * verdict cache invalidated. 0 or -errno, after saying why.
 */
int ctl_detect_apply(const struct bh_ctx *ctx, const struct bh_maps *m,
		     const struct bh_policy *p, bool new_salt);

/*
 * Remember what is applied: a copy of the policy, its leases and counts,
 * and the kernel's facts with what the br_netfilter probe @brnf saw (NULL:
 * none ran, as in the BPF modes).
 */
int ctl_save_applied(const struct bh_ctx *ctx, const char *path, const char *mode,
		     const struct bh_policy *p, const struct bh_compiled *c, int epoch,
		     const struct bh_leases *l, const struct bh_brnf_probe *brnf);
/*
 * Bulkhead's nftables tables: the quarantine lock (the quarantine map
 * mirrored, with the quarantine.allow services of the policy in force),
 * and in --mode nft the whole policy @p / @c on the ports of @topo (all
 * NULL in the BPF modes).
 */
int ctl_nft_sync(const struct bh_maps *m, const struct bh_policy *p,
		 const struct bh_compiled *c, const struct bh_topology *topo);
/* ctl_nft_sync() for the running mode, the applied policy read again in nft mode */
int ctl_nft_sync_applied(const struct bh_ctx *ctx, const struct bh_maps *m);

/* bh_flows_drain() for a caller that holds the lock (down) */
int ctl_flows_drain(const struct bh_ctx *ctx, const struct bh_flowlog_cfg *cfg,
		    struct bh_flowlog_stats *st);

#endif /* BH_CTL_INT_H */
