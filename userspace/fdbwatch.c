// SPDX-License-Identifier: GPL-2.0
/*
 * fdbwatch.c - MAC moves between protected bridge ports, from the bridges'
 * FDB events (fdbwatch.h).
 *
 * The bridge notifies RTM_NEWNEIGH (AF_BRIDGE, NDA_MASTER the bridge) when
 * it learns a MAC and when a learned MAC's port changes; refreshing an
 * entry on the same port is silent, and an entry that ages out is
 * RTM_DELNEIGH. The table keeps each MAC's last port past its FDB entry's
 * end, so a device that goes quiet on one port and speaks again on another
 * has moved too. Local entries (a port's own MAC) and static ones are
 * not learned and are ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "fdbwatch.h"
#include "nl.h"

#define FDBW_BUF	(64 * 1024)
#define FDBW_READS	16		/* datagrams per bh_fdbw_read */
#define FDBW_RCVBUF	(1024 * 1024)
#define FDBW_PORTS	256

struct bh_fdbw {
	struct mnl_socket *nl;
	struct bh_fdbw_table t;
	int ports[FDBW_PORTS];		/* followed, sorted */
	size_t n_ports;
	bh_fdbw_move_fn fn;
	void *arg;
	__u64 lost;
	char buf[FDBW_BUF];
};

/* ---- the table ------------------------------------------------------------ */

/* the index of @mac, or where it would go (*found false) */
static size_t find(const struct bh_fdbw_table *t, const __u8 mac[6], bool *found)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(t->v[mid].mac, mac, 6);

		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* full: the least recently seen MAC goes */
static void evict_oldest(struct bh_fdbw_table *t)
{
	size_t old = 0;

	for (size_t i = 1; i < t->n; i++)
		if (t->v[i].seen_ms < t->v[old].seen_ms)
			old = i;
	memmove(&t->v[old], &t->v[old + 1], (t->n - old - 1) * sizeof(*t->v));
	t->n--;
}

int bh_fdbw_note(struct bh_fdbw_table *t, const __u8 mac[6], const char *port, __u64 now_ms,
		 char from[IF_NAMESIZE])
{
	char name[IF_NAMESIZE] = "";
	struct bh_fdbw_ent *e;
	bool found;
	size_t i;

	strncpy(name, port, IF_NAMESIZE - 1);	/* a kernel name: 15 at most */
	if (!t->v) {
		t->v = calloc(BH_FDBW_MAX, sizeof(*t->v));
		if (!t->v)
			return -ENOMEM;
		t->cap = BH_FDBW_MAX;
	}
	i = find(t, mac, &found);
	if (found) {
		e = &t->v[i];
		e->seen_ms = now_ms;
		if (!strcmp(e->port, name))
			return 0;
		memcpy(from, e->port, IF_NAMESIZE);
		memcpy(e->port, name, IF_NAMESIZE);
		t->moves++;
		return 1;
	}
	if (t->n == t->cap) {
		evict_oldest(t);
		i = find(t, mac, &found);
	}
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
	e = &t->v[i];
	memset(e, 0, sizeof(*e));
	memcpy(e->mac, mac, 6);
	memcpy(e->port, name, IF_NAMESIZE);
	e->seen_ms = now_ms;
	t->n++;
	return 0;
}

void bh_fdbw_table_free(struct bh_fdbw_table *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ---- the socket ------------------------------------------------------------ */

static __u64 mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static bool followed(const struct bh_fdbw *w, int ifindex)
{
	return bsearch(&ifindex, w->ports, w->n_ports, sizeof(int), cmp_int) != NULL;
}

/* A learned entry of a followed port: noted, and a move reported when @report. */
static void note(struct bh_fdbw *w, const struct bh_neigh *e, bool report)
{
	char port[IF_NAMESIZE], from[IF_NAMESIZE];

	if (e->family != AF_BRIDGE || !followed(w, e->ifindex) ||
	    (e->state & (NUD_PERMANENT | NUD_NOARP)) || (e->mac[0] & 1))
		return;
	if (!if_indextoname((unsigned int)e->ifindex, port))
		return;		/* gone since: the next event says where it is */
	if (bh_fdbw_note(&w->t, e->mac, port, mono_ms(), from) == 1 && report && w->fn)
		w->fn(w->arg, e->mac, from, port);
}

static int event_msg(const struct nlmsghdr *nlh, size_t left, void *data)
{
	struct bh_fdbw *w = data;
	struct bh_neigh e;

	(void)left;
	if (nlh->nlmsg_type != RTM_NEWNEIGH || bh_nl_neigh_parse(nlh, &e))
		return 0;
	note(w, &e, true);
	return 1;
}

int bh_fdbw_open(struct bh_fdbw **out, bh_fdbw_move_fn fn, void *arg)
{
	struct bh_fdbw *w;
	int sz = FDBW_RCVBUF, ret;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->arg = arg;
	w->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!w->nl) {
		ret = -errno;
		goto err;
	}
	/* a burst of learning overruns the default buffer: counted as lost */
	setsockopt(mnl_socket_get_fd(w->nl), SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (mnl_socket_bind(w->nl, RTMGRP_NEIGH, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto err;
	}
	*out = w;
	return 0;
err:
	bh_fdbw_close(w);
	return ret;
}

void bh_fdbw_close(struct bh_fdbw *w)
{
	if (!w)
		return;
	if (w->nl)
		mnl_socket_close(w->nl);
	bh_fdbw_table_free(&w->t);
	free(w);
}

int bh_fdbw_fd(const struct bh_fdbw *w)
{
	return w ? mnl_socket_get_fd(w->nl) : -1;
}

int bh_fdbw_ports(struct bh_fdbw *w, const int *ifindex, size_t n)
{
	struct bh_neigh *nb = NULL;
	int sorted[FDBW_PORTS];
	size_t nn = 0;
	int ret;

	if (!w)
		return 0;
	if (n > FDBW_PORTS)
		n = FDBW_PORTS;
	memcpy(sorted, ifindex, n * sizeof(int));
	qsort(sorted, n, sizeof(int), cmp_int);
	if (n == w->n_ports && !memcmp(sorted, w->ports, n * sizeof(int)))
		return 0;
	memcpy(w->ports, sorted, n * sizeof(int));
	w->n_ports = n;
	if (!n)
		return 0;
	/* where each MAC is now: a port just followed has no moves yet */
	ret = bh_nl_neighbours(AF_BRIDGE, &nb, &nn);
	if (ret)
		return ret;
	for (size_t i = 0; i < nn; i++)
		note(w, &nb[i], false);
	free(nb);
	return 0;
}

int bh_fdbw_read(struct bh_fdbw *w)
{
	if (!w)
		return 0;
	return bh_nl_recv_each(w->nl, w->buf, sizeof(w->buf), FDBW_READS, event_msg, NULL, w,
			       &w->lost);
}

void bh_fdbw_stats(const struct bh_fdbw *w, __u64 *moves, __u64 *lost)
{
	*moves = w ? w->t.moves : 0;
	*lost = w ? w->lost : 0;
}
