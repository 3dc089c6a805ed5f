/* SPDX-License-Identifier: GPL-2.0 */
/*
 * detector.h - the daemon's detection loop (docs/detect.md): the signals
 * the dataplane puts on the pinned ring bh_signals, decided on with the
 * policy in force (bh_detect_decide) and acted on through the controller
 * (bh_isolate, as `bulkhead isolate`); watch-level signals and alerts as
 * events and metrics; the blocklist file followed (inotify) and read again
 * through the controller; ended grace periods pruned.
 */
#ifndef BH_DETECTOR_H
#define BH_DETECTOR_H

#include <stdio.h>
#include <linux/types.h>

#include "ctl.h"
#include "events.h"

#define BH_DETECTOR_SETTLE_MS	100	/* after the last write to the blocklist */
#define BH_DETECTOR_PRUNE_S	60	/* ended grace periods pruned this often */

struct bh_detector;

/* Counters for metrics. */
struct bh_detector_stats {
	__u64 signals[BH_DET_KINDS][BH_DET_ACT + 1];	/* [kind][level] */
	__u64 auto_quarantines;		/* devices isolated by detection */
	__u64 isolate_errors;		/* a bh_isolate() that failed */
	__u64 blocklist_loads;		/* reads of the blocklist file into the map */
	__u64 blocklist_entries;	/* in force after the last load */
	__u64 grace_periods;		/* running, at the last look */
	__u64 nft_attempts;		/* --mode nft: attempts read from NFLOG */
};

/* @ev: where events go (may be NULL). 0 or -errno. */
int bh_detector_open(struct bh_detector **out, const struct bh_ctx *ctx,
		     struct bh_events *ev);
void bh_detector_close(struct bh_detector *det);
/* The policy in force or the ports changed (apply, up, down): look again. */
void bh_detector_refresh(struct bh_detector *det);
/*
 * fds to poll for POLLIN: an epoll fd for the signal ring and, in --mode
 * nft, the NFLOG group of attempts (BH_NFLOG_DET_GROUP); the inotify fd.
 * -1: none.
 */
int bh_detector_ring_fd(const struct bh_detector *det);
int bh_detector_ino_fd(const struct bh_detector *det);
/*
 * Read the ring, and in --mode nft the attempts (counted in a table of
 * their own, dettab.c): decide and act on each signal. Records read.
 */
int bh_detector_consume(struct bh_detector *det);
/* Read the inotify fd (the blocklist file's directory). */
void bh_detector_ino_read(struct bh_detector *det);
/* ms until something is due (-1: nothing); bh_detector_tick() does it. */
int bh_detector_timeout(const struct bh_detector *det);
void bh_detector_tick(struct bh_detector *det);
/*
 * --mode nft: a deny event of the drops' NFLOG group (nflog.c), standing
 * for 1 + e->suppressed dropped frames, counted for deny_rate as the BPF
 * programs count every drop but a quarantine's.
 */
struct bh_event;
void bh_detector_drops(struct bh_detector *det, const struct bh_event *e);
void bh_detector_stats(const struct bh_detector *det, struct bh_detector_stats *st);
/* Its lines of the Prometheus exposition. */
void bh_detector_render(const struct bh_detector *det, FILE *f);

#endif /* BH_DETECTOR_H */
