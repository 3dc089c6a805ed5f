// SPDX-License-Identifier: GPL-2.0
/*
 * dettab.c - the detection state of --mode nft (dettab.h): a hash of
 * source MACs over a fixed array of entries, in a list from the most to
 * the least recently noted; a new device past the bound takes the least
 * recent one's entry. The counting is bpf/lib/detect_core.h's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dettab.h"
#include "../bpf/lib/detect_core.h"

#define NIL	0xffffffffu

struct dt_ent {
	__u8 mac[6];
	__u32 hnext;		/* the next entry of its hash chain */
	__u32 prev, next;	/* the recency list */
	struct bh_det_state st;
};

struct bh_dettab {
	struct dt_ent *e;
	__u32 *bucket;		/* hash -> first entry */
	__u32 mask;		/* buckets - 1 */
	__u32 max, n;
	__u32 head, tail;	/* most, least recently noted */
};

static __u32 mac_hash(const struct bh_dettab *t, const __u8 mac[6])
{
	__u32 h = 2166136261u;

	for (int i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 16777619u;
	return h & t->mask;
}

int bh_dettab_new(struct bh_dettab **out, size_t max)
{
	struct bh_dettab *t;
	__u32 nb = 1;

	*out = NULL;
	if (!max || max > (1u << 20))
		return -EINVAL;
	while (nb < max * 2)
		nb <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->e = calloc(max, sizeof(*t->e));
	t->bucket = malloc(nb * sizeof(*t->bucket));
	if (!t->e || !t->bucket) {
		bh_dettab_free(t);
		return -ENOMEM;
	}
	t->mask = nb - 1;
	t->max = (__u32)max;
	bh_dettab_clear(t);
	*out = t;
	return 0;
}

void bh_dettab_free(struct bh_dettab *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->bucket);
	free(t);
}

void bh_dettab_clear(struct bh_dettab *t)
{
	memset(t->bucket, 0xff, ((size_t)t->mask + 1) * sizeof(*t->bucket));
	t->n = 0;
	t->head = t->tail = NIL;
}

size_t bh_dettab_count(const struct bh_dettab *t)
{
	return t ? t->n : 0;
}

static void list_unlink(struct bh_dettab *t, __u32 i)
{
	struct dt_ent *e = &t->e[i];

	if (e->prev != NIL)
		t->e[e->prev].next = e->next;
	else
		t->head = e->next;
	if (e->next != NIL)
		t->e[e->next].prev = e->prev;
	else
		t->tail = e->prev;
}

static void list_push(struct bh_dettab *t, __u32 i)
{
	struct dt_ent *e = &t->e[i];

	e->prev = NIL;
	e->next = t->head;
	if (t->head != NIL)
		t->e[t->head].prev = i;
	t->head = i;
	if (t->tail == NIL)
		t->tail = i;
}

/* The entry of @mac, or NIL; @link: where its index is held. */
static __u32 find(struct bh_dettab *t, const __u8 mac[6], __u32 **link)
{
	__u32 *l = &t->bucket[mac_hash(t, mac)];

	while (*l != NIL && memcmp(t->e[*l].mac, mac, 6))
		l = &t->e[*l].hnext;
	if (link)
		*link = l;
	return *l;
}

static void drop(struct bh_dettab *t, __u32 i)
{
	__u32 *l;

	find(t, t->e[i].mac, &l);
	*l = t->e[i].hnext;
	list_unlink(t, i);
}

void bh_dettab_forget(struct bh_dettab *t, const __u8 mac[6])
{
	__u32 i, last;

	if (!t || (i = find(t, mac, NULL)) == NIL)
		return;
	drop(t, i);
	/* keep the entries dense: the last one moves into the hole */
	last = --t->n;
	if (i != last) {
		bool head = t->head == last, tail = t->tail == last;
		__u32 *l;

		find(t, t->e[last].mac, &l);
		t->e[i] = t->e[last];
		*l = i;
		if (t->e[i].prev != NIL)
			t->e[t->e[i].prev].next = i;
		if (t->e[i].next != NIL)
			t->e[t->e[i].next].prev = i;
		if (head)
			t->head = i;
		if (tail)
			t->tail = i;
	}
}

/* @mac's entry, most recent now; a new one (the least recent one's when full). */
static struct bh_det_state *state_of(struct bh_dettab *t, const __u8 mac[6])
{
	__u32 *l, i = find(t, mac, &l);

	if (i != NIL) {
		list_unlink(t, i);
		list_push(t, i);
		return &t->e[i].st;
	}
	if (t->n < t->max) {
		i = t->n++;
	} else {
		i = t->tail;
		drop(t, i);
		find(t, mac, &l);	/* the chain may have changed */
	}
	memset(&t->e[i], 0, sizeof(t->e[i]));
	memcpy(t->e[i].mac, mac, 6);
	t->e[i].hnext = NIL;
	*l = i;
	list_push(t, i);
	return &t->e[i].st;
}

int bh_dettab_note(struct bh_dettab *t, const struct bh_det_cfg *cfg, const __u8 mac[6],
		   const __u8 daddr[16], __u32 what, __u64 now_ns, struct bh_det_signal *sig)
{
	struct bh_det_state *st;
	__u32 now_ms;
	__u64 pd;
	int level;

	if (!t || !cfg || !(cfg->flags & BH_DETC_ON) || !bh_det_wants(cfg, what))
		return 0;
	st = state_of(t, mac);
	now_ms = (__u32)(now_ns / 1000000);
	pd = bh_det_note_state(cfg, st, daddr, what, now_ms);
	if (!pd)
		return 0;
	memset(sig, 0, sizeof(*sig));
	bh_det_signal_fill(sig, mac, daddr, what, now_ns, pd);
	level = (int)(pd & 3);
	bh_det_fired(st, pd, level, now_ms);
	return level;
}
