/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nftflow.h - flow records of --mode nft: no BPF program runs, so the
 * daemon fills the pinned bh_flow map itself, with the keys the programs
 * would have made (flowkey.h): the flows that passed from the kernel's
 * connection tracking (ctnetlink NEW and DESTROY events, counters read
 * again before each drain), the flows that were dropped from the NFLOG
 * deny events (nflog.c). The drain, `flows` and `learn` read the map as
 * in the BPF modes.
 */
#ifndef BH_NFTFLOW_H
#define BH_NFTFLOW_H

#include "ctl.h"
#include "../bpf/bulkhead_abi.h"

#define BH_NFTFLOW_TRACK	16384	/* live conntrack entries followed for counts */
#define BH_NFTFLOW_RCVBUF	(4 << 20)

struct bh_nftflow;

/*
 * A socket for conntrack's NEW and DESTROY events, in their groups while
 * --mode nft is up: 0 or -errno.
 */
int bh_nftflow_open(struct bh_nftflow **out, const struct bh_ctx *ctx);
/*
 * Look at the mode (at most once a second, or now when @now_too: Bulkhead
 * came up, a policy was applied): join or leave the groups.
 */
void bh_nftflow_tick(struct bh_nftflow *nf, bool now_too);
void bh_nftflow_close(struct bh_nftflow *nf);
/* The socket to poll for POLLIN, or -1. */
int bh_nftflow_fd(const struct bh_nftflow *nf);
/* Read what is queued into bh_flow (nothing unless --mode nft is up). */
int bh_nftflow_read(struct bh_nftflow *nf);
/* A deny event of --mode nft (nflog.c): its record. @data: the bh_nftflow. */
void bh_nftflow_event(void *data, const struct bh_event *e);
/* Before a drain: what the live flows counted since the last look. */
void bh_nftflow_sync(struct bh_nftflow *nf);

#endif /* BH_NFTFLOW_H */
