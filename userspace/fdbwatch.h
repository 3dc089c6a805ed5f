/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fdbwatch.h - which protected bridge port each MAC was last learned on,
 * from the bridges' forwarding databases (rtnetlink RTMGRP_NEIGH, family
 * AF_BRIDGE), and a MAC seen on one port and then on another: a move,
 * reported as an event. Bulkhead's identity of a device is its MAC (docs/
 * security.md, MAC spoofing): a move is a device re-plugged or roaming, or
 * another device sending with its MAC. Every mode: the bridge learns what
 * the dataplane passed.
 */
#ifndef BH_FDBWATCH_H
#define BH_FDBWATCH_H

#include <stdbool.h>
#include <net/if.h>
#include <linux/types.h>

#define BH_FDBW_MAX	8192	/* MACs remembered; the least recently seen goes */

struct bh_fdbw_ent {
	__u8 mac[6];
	char port[IF_NAMESIZE];	/* the port it was last learned on */
	__u64 seen_ms;		/* CLOCK_MONOTONIC ms of that */
};

/* the table alone, without a socket (the daemon's and the tests') */
struct bh_fdbw_table {
	struct bh_fdbw_ent *v;	/* sorted by MAC */
	size_t n, cap;
	__u64 moves;		/* moves noted */
};

/*
 * @mac learned on port @port at @now_ms: 1 when it was last on another
 * port (that port's name into @from), 0 when new or on the same port,
 * -ENOMEM. A port re-created under its name is the same port.
 */
int bh_fdbw_note(struct bh_fdbw_table *t, const __u8 mac[6], const char *port, __u64 now_ms,
		 char from[IF_NAMESIZE]);
void bh_fdbw_table_free(struct bh_fdbw_table *t);

struct bh_fdbw;

/* A move: @mac was on port @from and is now on @to. */
typedef void (*bh_fdbw_move_fn)(void *arg, const __u8 mac[6], const char *from, const char *to);

/*
 * Join RTMGRP_NEIGH (non-blocking). Nothing is noted until bh_fdbw_ports()
 * names the ports to follow. 0 or -errno.
 */
int bh_fdbw_open(struct bh_fdbw **out, bh_fdbw_move_fn fn, void *arg);
void bh_fdbw_close(struct bh_fdbw *w);
int bh_fdbw_fd(const struct bh_fdbw *w);
/*
 * Follow the FDB entries of the ports @ifindex[0..n) (the protected ones);
 * the FDB is read anew (a dump) when they changed, to learn where each MAC
 * is without reporting moves for it. 0 or -errno.
 */
int bh_fdbw_ports(struct bh_fdbw *w, const int *ifindex, size_t n);
/* Read the FDB events the socket holds: the moves go to the callback. */
int bh_fdbw_read(struct bh_fdbw *w);
/* Moves noted, FDB events lost (the socket overflowed). */
void bh_fdbw_stats(const struct bh_fdbw *w, __u64 *moves, __u64 *lost);

#endif /* BH_FDBWATCH_H */
