// SPDX-License-Identifier: GPL-2.0
/*
 * nft_snap.c - Bulkhead's tables in force, read back with dump requests:
 * every named counter and every element of the per-MAC sets in both
 * tables, and the elements the rules learned (address claims, ports).
 * status, devices and the metrics read it; a rewrite of the tables (up,
 * apply, isolate, release) carries it over into the new tables, with the
 * helpers at the end.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/set.h>

#include "nft.h"
#include "nft_snap.h"

/* ---- counters ---------------------------------------------------------------- */

static int cmp_ctr(const void *a, const void *b)
{
	const struct nft_ctr *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	return strcmp(x->name, y->name);
}

static int cmp_melem(const void *a, const void *b)
{
	const struct nft_melem *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	if (x->drops != y->drops)
		return (int)x->drops - (int)y->drops;
	return memcmp(x->mac, y->mac, 6);
}

static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
	void *tmp;

	if (n < *cap)
		return arr;
	tmp = realloc(arr, (*cap ? *cap * 2 : 64) * size);
	if (tmp)
		*cap = *cap ? *cap * 2 : 64;
	return tmp;
}

struct snap_acc {
	struct nft_snap *s;
	size_t cap_ctrs, cap_elems;
	int family;
	bool drops;		/* reading a dev_drops set */
};

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct snap_acc *acc = data;
	struct nftnl_obj *o = nftnl_obj_alloc();
	const char *name, *table;
	struct nft_ctr *c;
	int ret = MNL_CB_OK;

	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) < 0)
		goto out;
	table = nftnl_obj_get_str(o, NFTNL_OBJ_TABLE);
	name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
	if (!table || !name || strcmp(table, BH_NFT_TABLE) ||
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) != NFT_OBJECT_COUNTER ||
	    strlen(name) >= sizeof(c->name))
		goto out;
	c = grow(acc->s->ctrs, acc->s->n_ctrs, &acc->cap_ctrs, sizeof(*c));
	if (!c) {
		ret = MNL_CB_ERROR;
		goto out;
	}
	acc->s->ctrs = c;
	c = &c[acc->s->n_ctrs++];
	c->family = acc->family;
	strcpy(c->name, name);
	c->pkts = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
	c->bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
out:
	nftnl_obj_free(o);
	return ret;
}

static int elem_ctr_cb(struct nftnl_expr *e, void *data)
{
	struct nft_melem *m = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (name && !strcmp(name, "counter")) {
		m->pkts += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		m->bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

static int elem_cb(struct nftnl_set_elem *e, void *data)
{
	struct snap_acc *acc = data;
	struct nft_melem *m;
	__u32 klen = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);

	if (!key || klen < 6)
		return 0;
	m = grow(acc->s->elems, acc->s->n_elems, &acc->cap_elems, sizeof(*m));
	if (!m)
		return -1;
	acc->s->elems = m;
	m = &m[acc->s->n_elems++];
	memset(m, 0, sizeof(*m));
	m->family = acc->family;
	m->drops = acc->drops;
	memcpy(m->mac, key, 6);
	nftnl_set_elem_expr_foreach(e, elem_ctr_cb, m);
	return 0;
}

/* @cb over each element of the set elements message @nlh */
static int elems_run(const struct nlmsghdr *nlh, int (*cb)(struct nftnl_set_elem *, void *),
		     void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();
	int ret = MNL_CB_OK;

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) >= 0 &&
	    nftnl_set_elem_foreach(s, cb, data) < 0)
		ret = MNL_CB_ERROR;
	nftnl_set_free(s);
	return ret;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	return elems_run(nlh, elem_cb, data);
}

void nft_snap_free(struct nft_snap *s)
{
	free(s->ctrs);
	free(s->elems);
	free(s->learned);
	memset(s, 0, sizeof(*s));
}

int nft_snap_read(struct nft_snap *s)
{
	static const struct {
		int family;
		const char *set;	/* NULL: the counter objects */
		bool drops;
	} what[] = {
		{ NFPROTO_BRIDGE, NULL, false },
		{ NFPROTO_INET, NULL, false },
		{ NFPROTO_BRIDGE, BH_NFT_DEV_STATS, false },
		{ NFPROTO_BRIDGE, BH_NFT_DEV_DROPS, true },
		{ NFPROTO_INET, BH_NFT_DEV_DROPS, true },
	};
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct snap_acc acc = { .s = s };
	struct mnl_socket *nl;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	nl = bh_mnl_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	for (size_t i = 0; i < sizeof(what) / sizeof(what[0]) && !ret; i++) {
		__u32 seq = (__u32)time(NULL) + (__u32)i;
		struct nlmsghdr *nlh;

		memset(buf, 0, sizeof(buf));
		acc.family = what[i].family;
		acc.drops = what[i].drops;
		if (what[i].set) {
			struct nftnl_set *set = nftnl_set_alloc();

			nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (__u16)acc.family,
						    NLM_F_DUMP | NLM_F_ACK, seq);
			nftnl_set_set_str(set, NFTNL_SET_TABLE, BH_NFT_TABLE);
			nftnl_set_set_str(set, NFTNL_SET_NAME, what[i].set);
			nftnl_set_elems_nlmsg_build_payload(nlh, set);
			nftnl_set_free(set);
			ret = bh_mnl_dump(nl, nlh, elems_cb, &acc);
		} else {
			struct nftnl_obj *o = nftnl_obj_alloc();

			nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, (__u16)acc.family,
						    NLM_F_DUMP | NLM_F_ACK, seq);
			nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, BH_NFT_TABLE);
			nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
			nftnl_obj_nlmsg_build_payload(nlh, o);
			nftnl_obj_free(o);
			ret = bh_mnl_dump(nl, nlh, obj_cb, &acc);
		}
	}
	mnl_socket_close(nl);
	if (ret) {
		nft_snap_free(s);
		return ret;
	}
	if (s->n_ctrs)
		qsort(s->ctrs, s->n_ctrs, sizeof(*s->ctrs), cmp_ctr);
	if (s->n_elems)
		qsort(s->elems, s->n_elems, sizeof(*s->elems), cmp_melem);
	return 0;
}

const struct nft_ctr *nft_snap_ctr(const struct nft_snap *s, int family, const char *name)
{
	struct nft_ctr k = { .family = family };

	if (!s || !s->n_ctrs || strlen(name) >= sizeof(k.name))
		return NULL;
	strcpy(k.name, name);
	return bsearch(&k, s->ctrs, s->n_ctrs, sizeof(k), cmp_ctr);
}

int bh_nft_drops_of(struct mnl_socket *nl, int family, const __u8 mac[6], __u64 *drops)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *set = nftnl_set_alloc();
	struct snap_acc acc = { .family = family, .drops = true };
	struct nft_snap s = {};
	struct nlmsghdr *nlh;
	int ret;

	if (!set)
		return -ENOMEM;
	acc.s = &s;
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (__u16)family, NLM_F_ACK,
				    (__u32)time(NULL));
	nftnl_set_set_str(set, NFTNL_SET_TABLE, BH_NFT_TABLE);
	nftnl_set_set_str(set, NFTNL_SET_NAME, BH_NFT_DEV_DROPS);
	nft_elem(set, mac, 6, NULL, 0);
	nftnl_set_elems_nlmsg_build_payload(nlh, set);
	nftnl_set_free(set);
	ret = bh_mnl_dump(nl, nlh, elems_cb, &acc);
	if (!ret && !s.n_elems)
		ret = -ENOENT;
	if (!ret)
		*drops = s.elems[0].pkts;
	nft_snap_free(&s);
	return ret;
}

/* ---- what the rules learned: claims, ports ------------------------------------ */

struct learn_acc {
	struct nft_snap *s;
	size_t cap;
	char (*names)[64];
	size_t n_names;
	const char *set;	/* the set being read */
};

static int set_names_cb(const struct nlmsghdr *nlh, void *data)
{
	struct learn_acc *acc = data;
	struct nftnl_set *set = nftnl_set_alloc();
	const char *name, *table;
	char (*n)[64];

	if (!set)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, set) < 0)
		goto out;
	table = nftnl_set_get_str(set, NFTNL_SET_TABLE);
	name = nftnl_set_get_str(set, NFTNL_SET_NAME);
	if (!table || !name || strcmp(table, BH_NFT_TABLE) || strlen(name) >= 64 ||
	    !strcmp(name, BH_NFT_EV_LIMIT) ||
	    !(nftnl_set_get_u32(set, NFTNL_SET_FLAGS) & NFT_SET_TIMEOUT) ||
	    acc->n_names >= NFT_MAX_SETS)
		goto out;
	n = realloc(acc->names, (acc->n_names + 1) * sizeof(*n));
	if (n) {
		acc->names = n;
		strcpy(n[acc->n_names++], name);
	}
out:
	nftnl_set_free(set);
	return MNL_CB_OK;
}

static int learned_cb(struct nftnl_set_elem *e, void *data)
{
	struct learn_acc *acc = data;
	struct nft_lelem *l;
	__u32 klen = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);

	if (!key || !klen || klen > sizeof(l->key))
		return 0;
	l = grow(acc->s->learned, acc->s->n_learned, &acc->cap, sizeof(*l));
	if (!l)
		return -1;
	acc->s->learned = l;
	l = &l[acc->s->n_learned++];
	memset(l, 0, sizeof(*l));
	l->family = NFPROTO_BRIDGE;
	snprintf(l->set, sizeof(l->set), "%s", acc->set);
	memcpy(l->key, key, klen);
	l->klen = klen;
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		l->expires_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	return 0;
}

static int learned_elems_cb(const struct nlmsghdr *nlh, void *data)
{
	return elems_run(nlh, learned_cb, data);
}

int nft_snap_read_learned(struct nft_snap *s)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct learn_acc acc = { .s = s };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct nftnl_set *set;
	__u32 seq = (__u32)time(NULL);
	int ret;

	nl = bh_mnl_open(NETLINK_NETFILTER);
	if (!nl)
		return -errno;
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_BRIDGE,
				    NLM_F_DUMP | NLM_F_ACK, seq);
	set = nftnl_set_alloc();
	nftnl_set_set_str(set, NFTNL_SET_TABLE, BH_NFT_TABLE);
	nftnl_set_nlmsg_build_payload(nlh, set);
	nftnl_set_free(set);
	ret = bh_mnl_dump(nl, nlh, set_names_cb, &acc);
	for (size_t i = 0; i < acc.n_names && !ret; i++) {
		memset(buf, 0, sizeof(buf));
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_BRIDGE,
					    NLM_F_DUMP | NLM_F_ACK, seq + 1 + (__u32)i);
		set = nftnl_set_alloc();
		nftnl_set_set_str(set, NFTNL_SET_TABLE, BH_NFT_TABLE);
		nftnl_set_set_str(set, NFTNL_SET_NAME, acc.names[i]);
		nftnl_set_elems_nlmsg_build_payload(nlh, set);
		nftnl_set_free(set);
		acc.set = acc.names[i];
		ret = bh_mnl_dump(nl, nlh, learned_elems_cb, &acc);
	}
	free(acc.names);
	mnl_socket_close(nl);
	return ret;
}

/* ---- carried into the new tables --------------------------------------------- */

void nft_counter_obj(struct nft_tbl *t, const char *name)
{
	struct nftnl_obj *o = nft_obj_new(t, name, NFT_OBJECT_COUNTER);
	const struct nft_ctr *c = nft_snap_ctr(t->snap, t->family, name);

	if (c) {	/* what the tables being replaced counted */
		nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, c->pkts);
		nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, c->bytes);
	}
	nft_obj_commit(t, o);
}

static void meter_elem(struct nftnl_set *set, const __u8 mac[6], const struct nft_melem *m)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, mac, 6);
	if (m) {
		struct nftnl_expr *c = nftnl_expr_alloc("counter");

		nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_PACKETS, m->pkts);
		nftnl_expr_set_u64(c, NFTNL_EXPR_CTR_BYTES, m->bytes);
		nftnl_set_elem_add_expr(e, c);
	}
	nftnl_set_elem_add(set, e);
}

static int cmp_mac(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

static int cmp_busiest(const void *a, const void *b)
{
	const struct nft_melem *x = *(const struct nft_melem *const *)a;
	const struct nft_melem *y = *(const struct nft_melem *const *)b;

	return x->pkts < y->pkts ? 1 : x->pkts > y->pkts ? -1 : 0;
}

void nft_meter_elems(struct nft_tbl *t, struct nftnl_set *set, bool drops,
		     const struct bh_dev_ent *devs, size_t n_devs)
{
	const struct nft_snap *sn = t->snap;
	const struct nft_melem **others = NULL;
	__u8 (*known)[6] = NULL;
	size_t n_others = 0;

	if (sn && sn->n_elems) {
		known = calloc(n_devs + 1, sizeof(*known));
		others = calloc(sn->n_elems, sizeof(*others));
	}
	if (known && others) {
		for (size_t i = 0; i < n_devs; i++)
			memcpy(known[i], devs[i].k.mac, 6);
		qsort(known, n_devs, sizeof(*known), cmp_mac);
		/* the snapshot's elements of this set, their counts carried over:
		 * the policy's devices, and the busiest of the other MACs, up to
		 * half the set (a set once filled by a flood fills no longer) */
		for (size_t i = 0; i < sn->n_elems; i++) {
			const struct nft_melem *m = &sn->elems[i];

			if (m->family != t->family || m->drops != drops)
				continue;
			if (bsearch(m->mac, known, n_devs, sizeof(*known), cmp_mac))
				meter_elem(set, m->mac, m);
			else
				others[n_others++] = m;
		}
		if (n_others > BH_MAX_DEVSTATS / 2) {
			qsort(others, n_others, sizeof(*others), cmp_busiest);
			n_others = BH_MAX_DEVSTATS / 2;
		}
		for (size_t i = 0; i < n_others; i++)
			meter_elem(set, others[i]->mac, others[i]);
	}
	free(known);
	free(others);
	/* every device of the policy (one already there stays as it is) */
	for (size_t i = 0; i < n_devs; i++)
		meter_elem(set, devs[i].k.mac, NULL);
}

void nft_learned_elem(struct nftnl_set *set, const void *key, __u32 klen,
		      __u64 timeout_ms, __u64 expires_ms)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, klen);
	nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
	if (expires_ms && expires_ms < timeout_ms)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION, expires_ms);
	nftnl_set_elem_add(set, e);
}

static int cmp_freshest(const void *a, const void *b)
{
	const struct nft_lelem *x = *(const struct nft_lelem *const *)a;
	const struct nft_lelem *y = *(const struct nft_lelem *const *)b;

	return x->expires_ms < y->expires_ms ? 1 : x->expires_ms > y->expires_ms ? -1 : 0;
}

struct nftnl_set *nft_learned_new(struct nft_tbl *t, const char *name, __u32 key_type,
				  __u32 key_len, __u32 size, __u64 timeout_ms, bool carry)
{
	struct nftnl_set *s = nft_set_new(t, name, key_type, key_len,
					  NFT_SET_EVAL | NFT_SET_TIMEOUT, 0, 0);
	const struct nft_snap *sn = t->snap;
	const struct nft_lelem **pick;
	size_t n = 0;

	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, timeout_ms);
	if (!carry || !sn || !sn->n_learned)
		return s;
	pick = calloc(sn->n_learned, sizeof(*pick));
	if (!pick)
		return s;
	for (size_t i = 0; i < sn->n_learned; i++) {
		const struct nft_lelem *l = &sn->learned[i];

		if (l->family == t->family && !strcmp(l->set, name) && l->klen == key_len)
			pick[n++] = l;
	}
	/* a set a flood filled: the freshest half goes on, so it has room */
	if (n > size / 2) {
		qsort(pick, n, sizeof(*pick), cmp_freshest);
		n = size / 2;
	}
	for (size_t i = 0; i < n; i++)
		nft_learned_elem(s, pick[i]->key, pick[i]->klen, timeout_ms, pick[i]->expires_ms);
	free(pick);
	return s;
}
