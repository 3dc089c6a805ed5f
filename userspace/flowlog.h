/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flowlog.h - the flow history (issue 17): the daemon drains the bh_flow
 * map (bpf/bulkhead_abi.h) into day files under <state>/flows so records
 * survive restarts and map eviction; `flows` and `learn` read them back,
 * aggregated. Pure: no kernel access (the caller reads the map), unit-tested.
 *
 * Files, all under <state dir>/flows (docs/flows.md):
 *   YYYY-MM-DD[.N]  the records drained on that UTC day, text, one a line
 *                   (a day's file is split into parts .1, .2, ... once a
 *                   part holds an eighth of the byte cap);
 *   cursor          what the last drain read of each map entry (binary,
 *                   replaced atomically), so the next drain writes deltas.
 *
 * Wiring, for the daemon: bh_flowlog_open() once; every BH_FLOW_DRAIN_SECS
 * read every bh_flow entry and the summed bh_flowstat, then
 * bh_flowlog_drain(); bh_flowlog_close() at exit. For the commands:
 * bh_flowlog_read() into a bh_flow_set, then flows.h or learn.h.
 */
#ifndef BH_FLOWLOG_H
#define BH_FLOWLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "../bpf/bulkhead_abi.h"
#include "policy.h"

#define BH_FLOWS_DIR		"flows"		/* below the state dir */
#define BH_FLOWS_HEADER		"# bulkhead flows 1"	/* first line of a day file */
#define BH_FLOWS_KEEP_DAYS	7		/* policy flows.keep, default */
#define BH_FLOWS_MAX_BYTES	(64ULL << 20)	/* policy flows.bytes, default */
#define BH_FLOWS_LINE_MAX	256		/* longer lines are bad lines */

/* The bounds of the history (the policy's flows: key). */
struct bh_flowlog_cfg {
	__u32 keep_days;	/* day files kept, today included (0: the default) */
	__u64 max_bytes;	/* all day files together (0: the default) */
};

/* A flow record: a map key with wall-clock times and counts. */
struct bh_flow_rec {
	struct bh_flow_key key;	/* pad zero */
	__u32 pad;		/* zero */
	__u64 first;		/* CLOCK_REALTIME seconds */
	__u64 last;
	__u64 packets;
	__u64 bytes;
};

/* What bh_flow holds, as the daemon read it (a key and its value). */
struct bh_flow_entry {
	struct bh_flow_key k;
	struct bh_flow_val v;
};

/*
 * Records aggregated by key: first = min, last = max, counts summed. The
 * index is kept by bh_flow_set_add(); bh_flow_set_sort() orders v by key.
 */
struct bh_flow_set {
	struct bh_flow_rec *v;
	size_t n, cap;
	__u32 *idx;		/* open addressing: index into v + 1, 0 empty */
	size_t n_idx;		/* a power of two, at least 2 * cap */
	size_t n_bad;		/* lines skipped by bh_flowlog_read() */
};

int bh_flow_set_add(struct bh_flow_set *s, const struct bh_flow_rec *r);
/* the record of @k, NULL when none */
const struct bh_flow_rec *bh_flow_set_find(const struct bh_flow_set *s,
					   const struct bh_flow_key *k);
void bh_flow_set_sort(struct bh_flow_set *s);
void bh_flow_set_free(struct bh_flow_set *s);

/* Names of the key's fields as the files and the views write them. */
const char *bh_flow_kind_name(__u8 kind);	/* "device", ... "?" */
const char *bh_flow_verdict_name(__u8 verdict);	/* "pass", "drop", "would_drop" */
/* "tcp", "udp", "icmp", "icmpv6", "arp" or the number, in @buf (8 bytes) */
const char *bh_flow_proto_name(const struct bh_flow_key *k, char buf[8]);
/* the destination address, "a.b.c.0/24" for INTERNET, in @buf */
void bh_flow_daddr_text(const struct bh_flow_key *k, char *buf, size_t len);

/*
 * One record as a line of a day file, without the newline, tab-separated:
 * FIRST LAST SMAC KIND DMAC|- DADDR[/PLEN] PROTO PORT VERDICT PACKETS BYTES.
 * Returns the length, or -ENOSPC when @len is too short.
 */
int bh_flow_line_format(const struct bh_flow_rec *r, char *buf, size_t len);
/*
 * Parse a line (@len bytes, no newline). 0, or -EINVAL with *@why saying
 * what is wrong (a static string).
 */
int bh_flow_line_parse(const char *line, size_t len, struct bh_flow_rec *r,
		       const char **why);

/* ---- the store ------------------------------------------------------------ */

struct bh_flowlog_stats {
	__u64 drains;		/* bh_flowlog_drain() calls that wrote */
	__u64 records;		/* lines written */
	__u64 recreated;	/* entries evicted and made again between drains */
	__u64 evicted;		/* map entries evicted: created less present */
	__u64 failed;		/* map inserts that failed (bh_flowstat) */
	__u64 files_dropped;	/* day files removed by the bounds */
	__u64 bytes_dropped;	/* their bytes */
};

struct bh_flowlog;

/*
 * Open the store under @state_dir (made 0700 when absent) with @cfg
 * (NULL: the defaults), loading the cursor the last drain left unless it
 * was written under another boot (@boot_id, e.g. from
 * bh_flowlog_boot_id(); NULL: no check): the map and its clock do not
 * survive a reboot. 0 or -errno; *@out freed by bh_flowlog_close().
 */
int bh_flowlog_open(const char *state_dir, const struct bh_flowlog_cfg *cfg,
		    const char *boot_id, struct bh_flowlog **out);
void bh_flowlog_close(struct bh_flowlog *fl);
const struct bh_flowlog_stats *bh_flowlog_stats(const struct bh_flowlog *fl);

/*
 * One drain: @e are every entry of bh_flow read now (@n of them), @ctr the
 * summed bh_flowstat (NULL: not read). For each entry, the counts since
 * the last drain (an entry whose first_seen changed, or whose counts went
 * down, was evicted and made again: all its counts are new); monotonic
 * times become wall clock by adding @mono_to_wall_ns
 * (bh_flowlog_clock_offset()). The cursor is saved first, then the lines
 * appended to the day file of @now (CLOCK_REALTIME seconds) and synced, so
 * a crash loses at most this drain and never counts one twice. Then the
 * bounds are applied. 0 or -errno.
 */
int bh_flowlog_drain(struct bh_flowlog *fl, const struct bh_flow_entry *e, size_t n,
		     const struct bh_flow_ctr *ctr, __s64 mono_to_wall_ns, __u64 now);

/* Drop day files older than keep_days, then the oldest until the total
 * fits max_bytes (today's last part is never dropped). 0 or -errno. */
int bh_flowlog_prune(const char *flows_dir, const struct bh_flowlog_cfg *cfg,
		     __u64 now, struct bh_flowlog_stats *st);

/* CLOCK_REALTIME less CLOCK_MONOTONIC, in ns */
__s64 bh_flowlog_clock_offset(void);
/* /proc/sys/kernel/random/boot_id into @buf. 0 or -errno. */
int bh_flowlog_boot_id(char *buf, size_t len);

/*
 * Read the records of @state_dir's history whose last seen is at or after
 * @since (CLOCK_REALTIME seconds; 0: all), of device @mac as source or
 * destination (NULL: every device), aggregated into @out (zeroed by the
 * caller, or holding records to add to). A bad or truncated line is
 * skipped, counted in out->n_bad and reported in @d as "file:line: what";
 * a missing history is no error. 0 or -errno (-ENOMEM, or a directory
 * that cannot be read).
 */
int bh_flowlog_read(const char *state_dir, __u64 since, const __u8 *mac,
		    struct bh_flow_set *out, struct bh_diag *d);

/*
 * What the live map holds that no drain has written yet: for each of @e
 * (every bh_flow entry, read now), the counts since the cursor the last
 * drain left under @state_dir (none, or one of another boot than @boot_id:
 * all of them), as records of last seen at or after @since, of device @mac
 * (NULL: every device), added to @out. Reads the cursor, writes nothing:
 * `flows` and `learn` add these to bh_flowlog_read()'s. 0 or -errno.
 */
int bh_flowlog_pending(const char *state_dir, const char *boot_id,
		       const struct bh_flow_entry *e, size_t n, __s64 mono_to_wall_ns,
		       __u64 since, const __u8 *mac, struct bh_flow_set *out);

#endif /* BH_FLOWLOG_H */
