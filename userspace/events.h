/* SPDX-License-Identifier: GPL-2.0 */
/*
 * events.h - deny events and quarantine changes, aggregated.
 *
 * The BPF programs put one struct bh_event on the pinned ring buffer
 * maps/bh_events per dropped frame that passes the in-kernel rate limit.
 * The daemon reads the ring and keeps one aggregate per (kind, source MAC,
 * destination MAC and address, protocol, port, reason): first seen, last
 * seen, count (frames, the suppressed ones included). Quarantine changes
 * (isolate, release, the daemon's timed release) are aggregates of their
 * own kind. At most BH_EVAGG_MAX aggregates are kept; when full, the one
 * seen least recently goes. The daemon writes them to <state dir>/events at
 * most once a second (atomically replaced); `bulkhead events` reads that
 * file, and `--follow` re-reads it when it changes and prints the
 * aggregates whose sequence number grew.
 */
#ifndef BH_EVENTS_H
#define BH_EVENTS_H

#include <stdbool.h>
#include <linux/types.h>


#define BH_EVENTS_FILE		"events"
#define BH_EVAGG_MAX		4096
#define BH_EVENTS_FLUSH_MS	1000	/* the file lags the ring by at most this */

enum bh_evkind {
	BH_EVK_DROP,		/* a deny event from the dataplane */
	BH_EVK_ISOLATE,		/* a device was quarantined */
	BH_EVK_RELEASE,		/* a quarantine was ended by release */
	BH_EVK_TIMED_RELEASE,	/* a timed quarantine ended (the daemon released it) */
	BH_EVK_WOULD_DROP,	/* a deny event audit waived (BH_EVF_WOULD_DROP): it passed */
	BH_EVK_DETECT,		/* a detection signal: reason is its enum bh_det_kind,
				 * rule_id the daemon's verdict (enum bh_det_verdict),
				 * sport its level; daddr, proto, dport its sample */
	BH_EVK_MAC_MOVE,	/* a MAC learned on another protected port than before:
				 * saddr the port it left, daddr the port it is on
				 * (names, NUL-padded; fdbwatch.c) */
	BH_EVK_MAX,
};

/* an event about frames: dropped, or passed by audit */
static inline bool bh_evk_frames(unsigned int kind)
{
	return kind == BH_EVK_DROP || kind == BH_EVK_WOULD_DROP;
}

struct bh_evagg {
	__u8 kind;		/* enum bh_evkind */
	__u8 proto;
	__u8 is_v4;
	__u8 pad;
	__u16 reason;		/* enum bh_reason, for BH_EVK_DROP */
	__u16 dport;
	__u16 sport;		/* the last one seen */
	__u16 eth_proto;
	__u32 rule_id;
	__u8 smac[6];
	__u8 dmac[6];
	__u8 saddr[16];		/* the last one seen */
	__u8 daddr[16];
	__u64 first_ms;		/* CLOCK_REALTIME ms */
	__u64 last_ms;
	__u64 count;		/* frames dropped (events + suppressed), or changes */
	__u64 seq;		/* bumped on every update */
};

struct bh_events;

/* Counters of the daemon's event reader, for metrics. */
struct bh_events_stats {
	__u64 ring_events;	/* bh_event records read */
	__u64 suppressed;	/* drops the kernel reported without an event */
	__u64 evicted;		/* aggregates dropped because the table was full */
	size_t n_aggs;
};

/*
 * Open the aggregator: loads <state dir>/events, opens the pinned ring
 * buffer (when Bulkhead is up; otherwise bh_events_reopen later) and takes
 * the quarantine as it is (no events for it). 0 or -errno.
 */
int bh_events_open(struct bh_events **out, const char *pin_dir, const char *state_dir);
void bh_events_close(struct bh_events *ev);
/* Re-open the ring buffer (after up/down): 0 or -errno. */
int bh_events_reopen(struct bh_events *ev);
/* The fd to poll for POLLIN (ring buffer epoll fd), or -1. */
int bh_events_fd(const struct bh_events *ev);
/* Read what the ring holds; returns the records read or -errno. */
int bh_events_consume(struct bh_events *ev);
/* Add one deny event as the BPF ring carries it (time_ns: CLOCK_MONOTONIC),
 * standing for @frames dropped frames (the ring's: 1 + suppressed); the
 * NFLOG reader of --mode nft (nflog.c) feeds its events here too. */
struct bh_event;
void bh_events_add(struct bh_events *ev, const struct bh_event *e, __u64 frames);
/* Compare the quarantine map with the last look: isolate/release events. */
void bh_events_quar_sync(struct bh_events *ev);
/* The daemon ended @mac's timed quarantine. */
void bh_events_timed_release(struct bh_events *ev, const __u8 mac[6]);
/* The daemon decided @verdict (enum bh_det_verdict) on detection signal @s. */
struct bh_det_signal;
void bh_events_detect(struct bh_events *ev, const struct bh_det_signal *s, int verdict);
/* The bridge learned @mac on port @to, after port @from (fdbwatch.c). */
void bh_events_mac_move(struct bh_events *ev, const __u8 mac[6], const char *from,
			const char *to);
/* ms until the file is due (-1: nothing to write); bh_events_flush writes it. */
int bh_events_timeout(const struct bh_events *ev);
int bh_events_flush(struct bh_events *ev, bool force);
void bh_events_stats(const struct bh_events *ev, struct bh_events_stats *st);

/* Parse / format the file (also for tests): one aggregate per line. */
int bh_evagg_parse_line(const char *line, struct bh_evagg *a);
int bh_evagg_format_line(const struct bh_evagg *a, char *buf, size_t len);

const char *bh_evkind_name(unsigned int kind);
const char *bh_reason_name(unsigned int reason);

/* Every valid line of @state_dir/events, in file order, malloc'd. 0 (no
 * file: 0 lines) or -errno. */
int bh_events_load(const char *state_dir, struct bh_evagg **out, size_t *n);

#endif /* BH_EVENTS_H */
