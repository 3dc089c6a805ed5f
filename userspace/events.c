// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - the daemon's deny event reader and aggregator, and the events
 * file in the state dir. See events.h; `bulkhead events` is cmd_events.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "nft.h"
#include "events.h"
#include "state.h"

#define MAX_QUAR	BH_MAX_QUARANTINE
#define HBUCKETS	8192		/* aggregate index: a power of 2 */

struct bh_events {
	char pin_dir[PATH_MAX];
	char state_dir[PATH_MAX];
	struct ring_buffer *rb;
	int ring_fd;
	struct bh_evagg *aggs;
	size_t n_aggs;
	int head[HBUCKETS];		/* aggregate index: first of each chain, -1 */
	int *next;			/* [BH_EVAGG_MAX] the chain's next, -1 */
	__u64 seq;
	bool dirty;
	long long flushed_ms;		/* CLOCK_MONOTONIC ms of the last write */
	struct bh_events_stats st;
	__u8 (*quar)[6];		/* the quarantined MACs at the last look */
	size_t n_quar;
	bool quar_known;
};

static const char *const kind_names[BH_EVK_MAX] = {
	[BH_EVK_DROP] = "drop",
	[BH_EVK_ISOLATE] = "isolate",
	[BH_EVK_RELEASE] = "release",
	[BH_EVK_TIMED_RELEASE] = "timed_release",
	[BH_EVK_WOULD_DROP] = "would_drop",
	[BH_EVK_DETECT] = "detect",
	[BH_EVK_MAC_MOVE] = "mac_move",
};


const char *bh_evkind_name(unsigned int kind)
{
	return kind < BH_EVK_MAX ? kind_names[kind] : "unknown";
}

const char *bh_reason_name(unsigned int reason)
{
	return reason < BH_R_MAX ? bh_reason_names[reason] : "unknown";
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static __u64 real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* ---- the file ------------------------------------------------------------ */

static void hex(const __u8 *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex(const char *s, __u8 *b, size_t n)
{
	unsigned int v;

	if (strlen(s) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		b[i] = (__u8)v;
	}
	return 0;
}

/*
 * "v1 KIND REASON SMAC DMAC SADDR DADDR ETHPROTO PROTO V4 SPORT DPORT RULE
 *  FIRST_MS LAST_MS COUNT SEQ", MACs and addresses in hex.
 */
int bh_evagg_format_line(const struct bh_evagg *a, char *buf, size_t len)
{
	char sm[13], dm[13], sa[33], da[33];
	int n;

	hex(a->smac, 6, sm);
	hex(a->dmac, 6, dm);
	hex(a->saddr, 16, sa);
	hex(a->daddr, 16, da);
	n = snprintf(buf, len, "v1 %u %u %s %s %s %s %u %u %u %u %u %u %llu %llu %llu %llu\n",
		     a->kind, a->reason, sm, dm, sa, da, a->eth_proto, a->proto, a->is_v4,
		     a->sport, a->dport, a->rule_id, (unsigned long long)a->first_ms,
		     (unsigned long long)a->last_ms, (unsigned long long)a->count,
		     (unsigned long long)a->seq);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int bh_evagg_parse_line(const char *line, struct bh_evagg *a)
{
	char sm[16], dm[16], sa[40], da[40];
	unsigned int kind, reason, ethp, proto, v4, sport, dport, rule;
	unsigned long long first, last, count, seq;

	memset(a, 0, sizeof(*a));
	if (sscanf(line, "v1 %u %u %15s %15s %39s %39s %u %u %u %u %u %u %llu %llu %llu %llu",
		   &kind, &reason, sm, dm, sa, da, &ethp, &proto, &v4, &sport, &dport, &rule,
		   &first, &last, &count, &seq) != 16)
		return -EINVAL;
	if (kind >= BH_EVK_MAX || reason >= BH_R_MAX || proto > 255 || sport > 65535 ||
	    dport > 65535 || ethp > 65535)
		return -EINVAL;
	if (unhex(sm, a->smac, 6) || unhex(dm, a->dmac, 6) || unhex(sa, a->saddr, 16) ||
	    unhex(da, a->daddr, 16))
		return -EINVAL;
	a->kind = (__u8)kind;
	a->reason = (__u16)reason;
	a->eth_proto = (__u16)ethp;
	a->proto = (__u8)proto;
	a->is_v4 = !!v4;
	a->sport = (__u16)sport;
	a->dport = (__u16)dport;
	a->rule_id = rule;
	a->first_ms = first;
	a->last_ms = last;
	a->count = count;
	a->seq = seq;
	return 0;
}

int bh_events_load(const char *dir, struct bh_evagg **out, size_t *n)
{
	struct bh_evagg *v = NULL, *tmp, a;
	size_t len, cap = 0;
	char *buf, *line, *save = NULL;
	int ret;

	*out = NULL;
	*n = 0;
	ret = bh_state_read(dir, BH_EVENTS_FILE, &buf, &len);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (bh_evagg_parse_line(line, &a))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			tmp = realloc(v, cap * sizeof(*v));
			if (!tmp) {
				ret = -ENOMEM;
				break;
			}
			v = tmp;
		}
		v[(*n)++] = a;
	}
	free(buf);
	if (ret) {
		free(v);
		*n = 0;
		return ret;
	}
	*out = v;
	return 0;
}

/* ---- the aggregator -------------------------------------------------------- */

static bool same_key(const struct bh_evagg *a, const struct bh_evagg *b)
{
	return a->kind == b->kind && a->reason == b->reason && a->proto == b->proto &&
	       (a->kind != BH_EVK_DETECT || a->rule_id == b->rule_id) &&
	       a->dport == b->dport && !memcmp(a->smac, b->smac, 6) &&
	       !memcmp(a->dmac, b->dmac, 6) && !memcmp(a->daddr, b->daddr, 16);
}

/* FNV-1a over the key fields */
static unsigned int key_hash(const struct bh_evagg *a)
{
	const __u8 *parts[3] = { a->smac, a->dmac, a->daddr };
	const size_t lens[3] = { 6, 6, 16 };
	__u32 h = 2166136261u;

	for (int p = 0; p < 3; p++)
		for (size_t i = 0; i < lens[p]; i++)
			h = (h ^ parts[p][i]) * 16777619u;
	h = (h ^ a->kind) * 16777619u;
	h = (h ^ a->proto) * 16777619u;
	h = (h ^ a->reason) * 16777619u;
	h = (h ^ a->dport) * 16777619u;
	return h & (HBUCKETS - 1);
}

static void index_add(struct bh_events *ev, int i)
{
	unsigned int b = key_hash(&ev->aggs[i]);

	ev->next[i] = ev->head[b];
	ev->head[b] = i;
}

static void index_del(struct bh_events *ev, int i)
{
	int *pp = &ev->head[key_hash(&ev->aggs[i])];

	while (*pp >= 0 && *pp != i)
		pp = &ev->next[*pp];
	if (*pp == i)
		*pp = ev->next[i];
}

/* Count @k (key fields and saddr/sport set) @n times at @when. */
static void agg_add(struct bh_events *ev, const struct bh_evagg *k, __u64 n, __u64 when)
{
	struct bh_evagg *a = NULL;
	size_t i, oldest = 0;
	int j;

	for (j = ev->head[key_hash(k)]; j >= 0; j = ev->next[j])
		if (same_key(&ev->aggs[j], k)) {
			a = &ev->aggs[j];
			break;
		}
	if (!a) {
		if (ev->n_aggs < BH_EVAGG_MAX) {
			i = ev->n_aggs++;
		} else {
			/* full: the least recently seen goes */
			for (i = 1; i < ev->n_aggs; i++)
				if (ev->aggs[i].last_ms < ev->aggs[oldest].last_ms)
					oldest = i;
			i = oldest;
			index_del(ev, (int)i);
			ev->st.evicted++;
		}
		a = &ev->aggs[i];
		*a = *k;
		index_add(ev, (int)i);
		a->first_ms = when;
		a->count = 0;
	}
	a->last_ms = when > a->last_ms ? when : a->last_ms;
	a->sport = k->sport;
	memcpy(a->saddr, k->saddr, 16);
	a->rule_id = k->rule_id;
	a->count += n;
	a->seq = ++ev->seq;
	ev->dirty = true;
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	const struct bh_event *e = data;

	if (size >= sizeof(*e))
		bh_events_add(ctx, e, 1 + (__u64)e->suppressed);
	return 0;
}

void bh_events_add(struct bh_events *ev, const struct bh_event *e, __u64 frames)
{
	struct bh_evagg k = {};
	struct timespec ts;
	__u64 now_ns, age_ms, now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now_ns = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	age_ms = now_ns > e->time_ns ? (now_ns - e->time_ns) / 1000000 : 0;
	now = real_ms();
	k.kind = (e->flags & BH_EVF_WOULD_DROP) ? BH_EVK_WOULD_DROP : BH_EVK_DROP;
	k.reason = e->reason < BH_R_MAX ? e->reason : BH_R_MAX - 1;
	k.proto = e->proto;
	k.is_v4 = e->is_v4;
	k.eth_proto = e->eth_proto;
	k.sport = e->sport;
	k.dport = e->dport;
	k.rule_id = e->rule_id;
	memcpy(k.smac, e->smac, 6);
	memcpy(k.dmac, e->dmac, 6);
	memcpy(k.saddr, e->saddr, 16);
	memcpy(k.daddr, e->daddr, 16);
	ev->st.ring_events++;
	ev->st.suppressed += e->suppressed;
	agg_add(ev, &k, frames, now > age_ms ? now - age_ms : now);
}

/* The kernel's id of the map behind @fd, 0 on error. */
static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id : 0;
}

int bh_events_reopen(struct bh_events *ev)
{
	char path[PATH_MAX];
	int fd;

	if (!ev)
		return 0;
	/* the same ring still pinned (no down/up since): keep it */
	if (ev->rb) {
		snprintf(path, sizeof(path), "%s/maps/bh_events", ev->pin_dir);
		fd = bpf_obj_get(path);
		if (fd >= 0 && map_id(fd) == map_id(ev->ring_fd)) {
			close(fd);
			return 0;
		}
		if (fd >= 0)
			close(fd);
		bh_events_consume(ev);	/* what the old one still holds */
	}
	if (ev->rb)
		ring_buffer__free(ev->rb);
	ev->rb = NULL;
	if (ev->ring_fd >= 0)
		close(ev->ring_fd);
	ev->ring_fd = -1;
	snprintf(path, sizeof(path), "%s/maps/bh_events", ev->pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	ev->rb = ring_buffer__new(fd, ring_cb, ev, NULL);
	if (!ev->rb) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	ev->ring_fd = fd;
	return 0;
}

/* The quarantined MACs now; -errno when the map is not there. */
static int quar_now(const struct bh_events *ev, __u8 (*macs)[6], size_t *n)
{
	struct bh_mac_key cur, next;
	char path[PATH_MAX];
	void *prev = NULL;
	int fd;

	*n = 0;
	snprintf(path, sizeof(path), "%s/maps/bh_quarantine", ev->pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	while (*n < MAX_QUAR && !bpf_map_get_next_key(fd, prev, &next)) {
		memcpy(macs[(*n)++], next.mac, 6);
		cur = next;
		prev = &cur;
	}
	close(fd);
	return 0;
}

static bool mac_in(__u8 (*macs)[6], size_t n, const __u8 mac[6])
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(macs[i], mac, 6))
			return true;
	return false;
}

static void quar_event(struct bh_events *ev, enum bh_evkind kind, const __u8 mac[6])
{
	struct bh_evagg k = {};

	k.kind = (__u8)kind;
	k.rule_id = BH_RULE_DEFAULT;
	memcpy(k.smac, mac, 6);
	agg_add(ev, &k, 1, real_ms());
}

void bh_events_quar_sync(struct bh_events *ev)
{
	__u8 (*now)[6];
	size_t n;

	if (!ev)
		return;
	now = calloc(MAX_QUAR, 6);
	if (!now)
		return;
	if (quar_now(ev, now, &n)) {
		free(now);
		return;
	}
	if (ev->quar_known) {
		for (size_t i = 0; i < n; i++)
			if (!mac_in(ev->quar, ev->n_quar, now[i]))
				quar_event(ev, BH_EVK_ISOLATE, now[i]);
		for (size_t i = 0; i < ev->n_quar; i++)
			if (!mac_in(now, n, ev->quar[i]))
				quar_event(ev, BH_EVK_RELEASE, ev->quar[i]);
	}
	free(ev->quar);
	ev->quar = now;
	ev->n_quar = n;
	ev->quar_known = true;
}

void bh_events_detect(struct bh_events *ev, const struct bh_det_signal *s, int verdict)
{
	struct bh_evagg k = {};
	struct timespec ts;
	__u64 now_ns, age_ms, now = real_ms();

	if (!ev)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now_ns = (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
	age_ms = now_ns > s->time_ns ? (now_ns - s->time_ns) / 1000000 : 0;
	k.kind = BH_EVK_DETECT;
	k.reason = s->kind;
	k.rule_id = (__u32)verdict;
	k.sport = s->level;
	k.dport = s->port;
	k.proto = s->proto;
	k.is_v4 = !!(s->flags & (BH_DETN_V4 >> 24));
	k.eth_proto = !s->proto ? 0x0806 : k.is_v4 ? 0x0800 : 0x86dd;	/* its sample's */
	memcpy(k.smac, s->mac, 6);
	memcpy(k.daddr, s->addr, 16);
	agg_add(ev, &k, 1, now > age_ms ? now - age_ms : now);
}

void bh_events_mac_move(struct bh_events *ev, const __u8 mac[6], const char *from,
			const char *to)
{
	struct bh_evagg k = {};

	if (!ev)
		return;
	k.kind = BH_EVK_MAC_MOVE;
	k.rule_id = BH_RULE_DEFAULT;
	memcpy(k.smac, mac, 6);
	strncpy((char *)k.saddr, from, sizeof(k.saddr) - 1);
	strncpy((char *)k.daddr, to, sizeof(k.daddr) - 1);
	agg_add(ev, &k, 1, real_ms());
}

void bh_events_timed_release(struct bh_events *ev, const __u8 mac[6])
{
	if (!ev)
		return;
	quar_event(ev, BH_EVK_TIMED_RELEASE, mac);
	/* not a plain release at the next look */
	for (size_t i = 0; i < ev->n_quar; i++)
		if (!memcmp(ev->quar[i], mac, 6)) {
			memmove(ev->quar[i], ev->quar[ev->n_quar - 1], 6);
			ev->n_quar--;
			break;
		}
}

int bh_events_open(struct bh_events **out, const char *pin_dir, const char *state_dir)
{
	struct bh_events *ev;
	struct bh_evagg *old = NULL;
	size_t n = 0;
	int ret;

	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	ev->ring_fd = -1;
	snprintf(ev->pin_dir, sizeof(ev->pin_dir), "%s", pin_dir);
	snprintf(ev->state_dir, sizeof(ev->state_dir), "%s", state_dir);
	ev->aggs = calloc(BH_EVAGG_MAX, sizeof(*ev->aggs));
	ev->next = calloc(BH_EVAGG_MAX, sizeof(*ev->next));
	if (!ev->aggs || !ev->next) {
		ret = -ENOMEM;
		goto err;
	}
	memset(ev->head, 0xff, sizeof(ev->head));	/* -1: empty */
	/* what an earlier daemon aggregated goes on */
	ret = bh_events_load(state_dir, &old, &n);
	if (ret)
		goto err;
	for (size_t i = 0; i < n && ev->n_aggs < BH_EVAGG_MAX; i++) {
		if (bh_evk_frames(old[i].kind)) {
			int j;

			/* a file written by hand may repeat a key: keep the first */
			for (j = ev->head[key_hash(&old[i])]; j >= 0; j = ev->next[j])
				if (same_key(&ev->aggs[j], &old[i]))
					break;
			if (j >= 0)
				continue;
		}
		ev->aggs[ev->n_aggs] = old[i];
		index_add(ev, (int)ev->n_aggs++);
		if (old[i].seq > ev->seq)
			ev->seq = old[i].seq;
	}
	free(old);
	bh_events_reopen(ev);
	bh_events_quar_sync(ev);
	*out = ev;
	return 0;
err:
	free(ev->next);
	free(ev->aggs);
	free(ev);
	return ret;
}

void bh_events_close(struct bh_events *ev)
{
	if (!ev)
		return;
	bh_events_flush(ev, true);
	if (ev->rb)
		ring_buffer__free(ev->rb);
	if (ev->ring_fd >= 0)
		close(ev->ring_fd);
	free(ev->quar);
	free(ev->next);
	free(ev->aggs);
	free(ev);
}

int bh_events_fd(const struct bh_events *ev)
{
	return ev && ev->rb ? ring_buffer__epoll_fd(ev->rb) : -1;
}

int bh_events_consume(struct bh_events *ev)
{
	if (!ev || !ev->rb)
		return 0;
	return ring_buffer__consume(ev->rb);
}

int bh_events_timeout(const struct bh_events *ev)
{
	long long left;

	if (!ev || !ev->dirty)
		return -1;
	left = ev->flushed_ms + BH_EVENTS_FLUSH_MS - mono_ms();
	return left > 0 ? (int)left : 0;
}

int bh_events_flush(struct bh_events *ev, bool force)
{
	char *buf;
	size_t off = 0, cap = ev->n_aggs * 200 + 1;
	int ret, n;

	if (!ev || !ev->dirty || (!force && bh_events_timeout(ev) > 0))
		return 0;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < ev->n_aggs; i++) {
		n = bh_evagg_format_line(&ev->aggs[i], buf + off, cap - off);
		if (n < 0) {
			free(buf);
			return n;
		}
		off += (size_t)n;
	}
	ret = bh_state_write(ev->state_dir, BH_EVENTS_FILE, buf, off);
	free(buf);
	ev->flushed_ms = mono_ms();
	if (!ret)
		ev->dirty = false;
	return ret;
}

void bh_events_stats(const struct bh_events *ev, struct bh_events_stats *st)
{
	*st = ev->st;
	st->n_aggs = ev->n_aggs;
}
