/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nflog.h - deny events of --mode nft: every drop of Bulkhead's nftables
 * tables logs to NFLOG group BH_NFLOG_GROUP (nft.h), rate-limited in the
 * kernel, with the prefix "bulkhead <reason>[ <rule id>]". The daemon binds
 * the group over nfnetlink_log (libmnl), copies the first
 * BH_NFLOG_COPY_RANGE bytes of each packet, and turns each message into the
 * struct bh_event the BPF ring buffer carries, so both modes feed the same
 * aggregation (events.c).
 */
#ifndef BH_NFLOG_H
#define BH_NFLOG_H

#include <linux/types.h>

#include "events.h"
#include "../bpf/bulkhead_abi.h"

#define BH_NFLOG_COPY_RANGE	192	/* the L3 header, extension headers, L4 ports */
#define BH_NFLOG_RCVBUF		(4 << 20)

struct nlmsghdr;
struct bh_nflog;

/* Bind @group: 0 or -errno (-EBUSY: another listener has it). */
int bh_nflog_open(struct bh_nflog **out, __u16 group);
void bh_nflog_close(struct bh_nflog *nf);
/* The socket to poll for POLLIN, or -1. */
int bh_nflog_fd(const struct bh_nflog *nf);
/*
 * Read what is queued (at most a bounded number of datagrams, so the loop
 * goes on) and add each deny event to @ev. Returns the events read, or
 * -errno. Messages lost to a full socket buffer are counted in @lost.
 */
int bh_nflog_read(struct bh_nflog *nf, struct bh_events *ev);
__u64 bh_nflog_lost(const struct bh_nflog *nf);
/* Also hand each deny event read to @cb (the flow records of --mode nft). */
void bh_nflog_on_event(struct bh_nflog *nf, void (*cb)(void *data, const struct bh_event *e),
		       void *data);

/*
 * One NFULNL_MSG_PACKET message (@len bytes at @nlh, untrusted: every
 * length is checked) into @e. 0, or -EINVAL when it is not a well-formed
 * Bulkhead deny event (another prefix, a bad attribute). Fields the copied
 * bytes do not reach stay 0.
 */
int bh_nflog_parse(const struct nlmsghdr *nlh, size_t len, struct bh_event *e);

#endif /* BH_NFLOG_H */
