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

/* One detection message of --mode nft (group BH_NFLOG_DET_GROUP). */
struct bh_nflog_det {
	__u8 mac[6];		/* the device: the frame's source */
	__u8 daddr[16];		/* its destination, v4-mapped for IPv4 */
	__u32 what;		/* BH_DETN_WHAT(proto, dport, BH_DETN_*), as bh_detect_note() */
};

/*
 * One NFULNL_MSG_PACKET message of group BH_NFLOG_DET_GROUP (prefix
 * "bulkhead detect <what>", nft_spec.h; @len bytes at @nlh, untrusted) into
 * @d. 0, or -EINVAL when it is not a well-formed detection message of an
 * IP attempt with a source MAC. The port is the destination port of tcp
 * and udp, 0 for other protocols (as the BPF programs note them).
 */
int bh_nflog_det_parse(const struct nlmsghdr *nlh, size_t len, struct bh_nflog_det *d);

/*
 * Read what is queued on @nf (bound to the detection group) and call @fn
 * for each detection message. Returns the messages read, or -errno.
 */
int bh_nflog_read_det(struct bh_nflog *nf,
		      void (*fn)(void *arg, const struct bh_nflog_det *d), void *arg);

#endif /* BH_NFLOG_H */
