// SPDX-License-Identifier: GPL-2.0
/*
 * compile.c - a validated policy turned into BPF map entries.
 *
 * The BPF side looks up (sg, dg, proto, port), then (sg, dg, proto, any
 * port), then (sg, dg, any proto) and stops at the first entry found. So
 * each emitted entry carries the fold of every rule that covers its point:
 * deny if any of them denies (the first such rule decides), else allow
 * (the first allowing rule). Points are emitted only where a rule names
 * them; anything else falls through to a less specific entry or to the
 * default, which is then exactly right.
 *
 * Internet CIDRs become per-source-group classes for the LPM trie: for each
 * prefix P a group's rules name, class(P) holds the rules whose CIDRs
 * contain P. The trie returns the longest P containing an address, and
 * every rule CIDR containing the address contains that P.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "compile.h"

#define N_BUILTIN	2

/* A rule as the compiler sees it: user rules, then built-ins. */
struct crule {
	const struct bh_rule_def *def;	/* NULL for built-ins */
	__u32 id;
	int action;
	__u8 proto;
	const struct bh_port_range *ports;
	size_t n_ports;
	bool to_gateway;		/* built-ins: gateway only */
};

/* one CIDR class of one source group */
struct cclass {
	__u16 sgroup;
	__u16 dgroup;
	struct bh_cidr prefix;
};

/* a destination of one source group: the rule (index) that names it */
struct cedge {
	size_t dst;			/* destination slot, see dst_slot() */
	size_t rule;
};

struct cstate {
	const struct bh_policy *p;
	struct bh_compiled *c;
	struct bh_diag *d;
	struct crule *rules;
	size_t n_rules;
	struct cclass *classes;
	size_t n_classes, cap_classes;
	size_t cap_pols;
	/* rules by source: from any (and the built-ins), and per group (CSR) */
	size_t *from_any;
	size_t n_from_any;
	size_t *gfrom, *gfrom_off;
	/* the current source group: its rules, CIDR classes, destinations */
	size_t *from;
	size_t n_from;
	__u32 *chash, *cstamp;		/* class index + 1 by (plen, addr) */
	size_t chash_mask;
	struct cedge *edges;
	size_t n_edges, cap_edges;
	size_t *toany;			/* rules of the source group to any */
	size_t n_toany;
	size_t *doff;			/* bucket of each destination slot */
	size_t cap_doff;
	size_t *cand;			/* candidates of one pair */
	size_t cap_cand;
	__u32 *bnd;			/* port range boundaries of one pair */
	size_t cap_bnd;
};

static const struct bh_port_range dhcp_ports[] = { { 67, 67 }, { 547, 547 } };
static const struct bh_port_range dns_ports[] = { { 53, 53 } };

static void *grow(void *arr, size_t *cap, size_t need, size_t size)
{
	void *tmp;
	size_t nc;

	if (need <= *cap)
		return arr;
	nc = *cap ? *cap * 2 : 64;
	while (nc < need)
		nc *= 2;
	tmp = realloc(arr, nc * size);
	if (!tmp)
		return NULL;
	*cap = nc;
	return tmp;
}

static bool rule_from(const struct crule *r, __u16 sg)
{
	if (!r->def)
		return true;	/* built-ins: from any */
	for (size_t i = 0; i < r->def->n_from; i++)
		if (r->def->from[i].kind == BH_T_ANY ||
		    (r->def->from[i].kind == BH_T_GROUP && r->def->from[i].group == sg))
			return true;
	return false;
}

static bool cidr_contains(const struct bh_cidr *outer, const struct bh_cidr *inner)
{
	unsigned int ob = outer->addr.v4 ? 96u + outer->plen : outer->plen;
	unsigned int ib = inner->addr.v4 ? 96u + inner->plen : inner->plen;

	if (outer->addr.v4 != inner->addr.v4 || ob > ib)
		return false;
	for (unsigned int i = 0; i < ob; i++) {
		__u8 m = (__u8)(0x80 >> (i % 8));

		if ((outer->addr.a[i / 8] & m) != (inner->addr.a[i / 8] & m))
			return false;
	}
	return true;
}

/* Does rule @r cover destination @dg for source @sg? */
static bool rule_to(const struct cstate *s, const struct crule *r, __u16 sg, __u16 dg)
{
	if (!r->def)
		return dg == BH_GRP_GATEWAY;
	for (size_t i = 0; i < r->def->n_to; i++) {
		const struct bh_target *t = &r->def->to[i];

		switch (t->kind) {
		case BH_T_ANY:
			return true;
		case BH_T_GROUP:
			if (dg == t->group)
				return true;
			break;
		case BH_T_GATEWAY:
			if (dg == BH_GRP_GATEWAY)
				return true;
			break;
		case BH_T_MULTICAST:
			if (dg == BH_GRP_MULTICAST)
				return true;
			break;
		case BH_T_INTERNET:
			if (dg == BH_GRP_INTERNET || (dg >= BH_GRP_CIDR_BASE && dg < BH_GRP_GATEWAY))
				return true;
			break;
		case BH_T_CIDR:
			if (dg >= BH_GRP_CIDR_BASE && dg < BH_GRP_GATEWAY) {
				const struct cclass *cc = &s->classes[dg - BH_GRP_CIDR_BASE];

				if (cc->sgroup == sg && cidr_contains(&t->cidr, &cc->prefix))
					return true;
			}
			break;
		}
	}
	return false;
}

static bool rule_port(const struct crule *r, __u8 proto, __u16 port)
{
	if (r->proto == BH_PROTO_ANY)
		return true;
	if (r->proto != proto)
		return false;
	if (!r->n_ports)
		return true;
	if (port == BH_PORT_ANY)
		return false;	/* a port-specific rule covers no "all ports" point */
	for (size_t i = 0; i < r->n_ports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

/* The point (proto, port) for a (sg, dg) whose covering rules are @l. */
static bool fold(const struct crule *const *l, size_t n, __u8 proto, __u16 port,
		 struct bh_pol_val *v)
{
	const struct crule *allow = NULL;

	for (size_t i = 0; i < n; i++) {
		bool covers = proto == BH_PROTO_ANY ? l[i]->proto == BH_PROTO_ANY :
			      rule_port(l[i], proto, port);

		if (!covers)
			continue;
		if (l[i]->action == BH_ACT_DENY) {
			v->action = BH_ACT_DENY;
			v->rule_id = l[i]->id;
			return true;
		}
		if (!allow)
			allow = l[i];
	}
	if (!allow)
		return false;
	v->action = BH_ACT_ALLOW;
	v->rule_id = allow->id;
	return true;
}

static int emit(struct cstate *s, __u16 sg, __u16 dg, __u8 proto, __u16 port,
		const struct bh_pol_val *v)
{
	struct bh_compiled *c = s->c;
	struct bh_pol_ent *e;

	if (c->n_pols >= BH_MAX_POLICY)
		return -E2BIG;
	c->pols = grow(c->pols, &s->cap_pols, c->n_pols + 1, sizeof(*c->pols));
	if (!c->pols)
		return -ENOMEM;
	e = &c->pols[c->n_pols++];
	memset(e, 0, sizeof(*e));
	e->k.proto = proto;
	e->k.port = port;
	e->k.sgroup = sg;
	e->k.dgroup = dg;
	e->v = *v;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* Is @port inside a port range of a rule of @l for protocol @p? */
static bool port_named(const struct crule *const *l, size_t n, __u8 p, __u32 port)
{
	for (size_t i = 0; i < n; i++) {
		if (l[i]->proto != p)
			continue;
		for (size_t r = 0; r < l[i]->n_ports; r++)
			if (port >= l[i]->ports[r].lo && port <= l[i]->ports[r].hi)
				return true;
	}
	return false;
}

/*
 * The exact ports a rule of @l names for protocol @p: the range bounds,
 * sorted, cut the ports into intervals over which every rule either covers
 * all ports or none, so one fold per interval decides all of its ports.
 */
static int named_ports(struct cstate *s, const struct crule *const *l, size_t n,
		       __u16 sg, __u16 dg, __u8 p)
{
	struct bh_pol_val v;
	size_t nb = 0, u = 0;
	int ret;

	for (size_t i = 0; i < n; i++) {
		if (l[i]->proto != p || !l[i]->n_ports)
			continue;
		s->bnd = grow(s->bnd, &s->cap_bnd, nb + 2 * l[i]->n_ports, sizeof(*s->bnd));
		if (!s->bnd)
			return -ENOMEM;
		for (size_t r = 0; r < l[i]->n_ports; r++) {
			s->bnd[nb++] = l[i]->ports[r].lo;
			s->bnd[nb++] = (__u32)l[i]->ports[r].hi + 1;
		}
	}
	if (!nb)
		return 0;
	qsort(s->bnd, nb, sizeof(*s->bnd), cmp_u32);
	for (size_t i = 0; i < nb; i++)
		if (!u || s->bnd[u - 1] != s->bnd[i])
			s->bnd[u++] = s->bnd[i];
	for (size_t j = 0; j + 1 < u; j++) {
		if (!port_named(l, n, p, s->bnd[j]))
			continue;
		memset(&v, 0, sizeof(v));
		if (!fold(l, n, p, (__u16)s->bnd[j], &v))
			continue;
		for (__u32 port = s->bnd[j]; port < s->bnd[j + 1]; port++) {
			ret = emit(s, sg, dg, p, (__u16)port, &v);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* The entries of (@sg, @dg), whose covering rules are @l in rule order. */
static int pair(struct cstate *s, const struct crule **l, size_t n, __u16 sg, __u16 dg)
{
	static const __u8 protos[] = { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 };
	struct bh_pol_val v;
	int ret;

	if (!n)
		return 0;
	memset(&v, 0, sizeof(v));
	for (size_t pi = 0; pi < sizeof(protos); pi++) {
		__u8 p = protos[pi];
		bool all_ports = false;

		if (p == IPPROTO_TCP || p == IPPROTO_UDP) {
			ret = named_ports(s, l, n, sg, dg, p);
			if (ret)
				return ret;
			for (size_t i = 0; i < n; i++)
				if (l[i]->proto == p && !l[i]->n_ports)
					all_ports = true;
		} else {
			for (size_t i = 0; i < n; i++)
				if (l[i]->proto == p)
					all_ports = true;
		}
		if (all_ports && fold(l, n, p, BH_PORT_ANY, &v)) {
			ret = emit(s, sg, dg, p, BH_PORT_ANY, &v);
			if (ret)
				return ret;
		}
	}
	if (fold(l, n, BH_PROTO_ANY, BH_PORT_ANY, &v))
		return emit(s, sg, dg, BH_PROTO_ANY, BH_PORT_ANY, &v);
	return 0;
}

static size_t class_hash(const struct cstate *s, __u8 plen, const __u8 *addr)
{
	__u32 h = 2166136261u ^ plen;

	for (int i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h & s->chash_mask;
}

/* The class of the current source group @sg with prefix (@plen, @addr), or -1. */
static long class_find(const struct cstate *s, __u16 sg, __u8 plen, const __u8 *addr)
{
	for (size_t h = class_hash(s, plen, addr);; h = (h + 1) & s->chash_mask) {
		const struct cclass *cc;

		if (s->cstamp[h] != (__u32)sg + 1)
			return -1;
		cc = &s->classes[s->chash[h] - 1];
		if (cc->prefix.plen == plen && !memcmp(cc->prefix.addr.a, addr, 16))
			return (long)s->chash[h] - 1;
	}
}

static void class_insert(struct cstate *s, __u16 sg, size_t k)
{
	const struct cclass *cc = &s->classes[k];
	size_t h = class_hash(s, cc->prefix.plen, cc->prefix.addr.a);

	while (s->cstamp[h] == (__u32)sg + 1)
		h = (h + 1) & s->chash_mask;
	s->cstamp[h] = (__u32)sg + 1;
	s->chash[h] = (__u32)k + 1;
}

/* CIDR classes of source group @sg, whose rules are s->from. */
static int classes_for(struct cstate *s, __u16 sg)
{
	for (size_t f = 0; f < s->n_from; f++) {
		const struct crule *r = &s->rules[s->from[f]];

		if (!r->def)
			continue;
		for (size_t t = 0; t < r->def->n_to; t++) {
			const struct bh_target *tg = &r->def->to[t];

			if (tg->kind != BH_T_CIDR)
				continue;
			if (class_find(s, sg, tg->cidr.plen, tg->cidr.addr.a) >= 0)
				continue;
			if (BH_GRP_CIDR_BASE + s->n_classes >= BH_GRP_GATEWAY ||
			    s->c->n_inets >= BH_MAX_INET) {
				bh_diag_add(s->d, s->p->path, tg->pos,
					    "too many internet prefixes (the maps hold %d)",
					    BH_GRP_GATEWAY - BH_GRP_CIDR_BASE);
				return -E2BIG;
			}
			s->classes = grow(s->classes, &s->cap_classes, s->n_classes + 1,
					  sizeof(*s->classes));
			if (!s->classes)
				return -ENOMEM;
			s->classes[s->n_classes].sgroup = sg;
			s->classes[s->n_classes].dgroup = (__u16)(BH_GRP_CIDR_BASE + s->n_classes);
			s->classes[s->n_classes].prefix = tg->cidr;
			class_insert(s, sg, s->n_classes);
			s->n_classes++;
		}
	}
	return 0;
}

/*
 * Indexes of the rules by source, built once: s->from_any holds the rules
 * from any (and the built-ins), s->gfrom[gfrom_off[g] .. gfrom_off[g + 1]]
 * those naming group g, each in rule order and once.
 */
static int index_sources(struct cstate *s)
{
	size_t ng = s->p->n_groups, n_cidr = 0, sz = 4;
	size_t *last;
	int ret = -ENOMEM;

	s->from_any = calloc(s->n_rules + 1, sizeof(*s->from_any));
	s->gfrom_off = calloc(ng + 2, sizeof(*s->gfrom_off));
	s->from = calloc(s->n_rules + 1, sizeof(*s->from));
	s->toany = calloc(s->n_rules + 1, sizeof(*s->toany));
	last = calloc(ng + 1, sizeof(*last));
	if (!s->from_any || !s->gfrom_off || !s->from || !s->toany || !last)
		goto out;
	/* counts, at gfrom_off[g + 1]; last[g] is the last rule counted + 1 */
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct crule *r = &s->rules[i];
		bool any = !r->def;

		for (size_t f = 0; r->def && f < r->def->n_from; f++) {
			const struct bh_target *t = &r->def->from[f];

			if (t->kind == BH_T_ANY)
				any = true;
			else if (t->kind == BH_T_GROUP && t->group < ng && last[t->group] != i + 1) {
				last[t->group] = i + 1;
				s->gfrom_off[t->group + 1]++;
			}
		}
		if (any)
			s->from_any[s->n_from_any++] = i;
		for (size_t t = 0; r->def && t < r->def->n_to; t++)
			n_cidr += r->def->to[t].kind == BH_T_CIDR;
	}
	for (size_t g = 0; g < ng; g++)
		s->gfrom_off[g + 1] += s->gfrom_off[g];
	s->gfrom = calloc(s->gfrom_off[ng] + 1, sizeof(*s->gfrom));
	if (!s->gfrom)
		goto out;
	/* fill: last[g] is now group g's cursor */
	memcpy(last, s->gfrom_off, ng * sizeof(*last));
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct crule *r = &s->rules[i];

		for (size_t f = 0; r->def && f < r->def->n_from; f++) {
			const struct bh_target *t = &r->def->from[f];
			size_t *cur;

			if (t->kind != BH_T_GROUP || t->group >= ng)
				continue;
			cur = &last[t->group];
			/* once per rule: the cursor's last entry is this rule */
			if (*cur > s->gfrom_off[t->group] && s->gfrom[*cur - 1] == i)
				continue;
			s->gfrom[(*cur)++] = i;
		}
	}
	ret = 0;
out:
	free(last);
	if (ret)
		return ret;
	while (sz < 2 * n_cidr + 2)
		sz *= 2;
	s->chash = calloc(sz, sizeof(*s->chash));
	s->cstamp = calloc(sz, sizeof(*s->cstamp));
	if (!s->chash || !s->cstamp)
		return -ENOMEM;
	s->chash_mask = sz - 1;
	return 0;
}

/* s->from: the rules from @sg, in rule order, each once */
static void sources_of(struct cstate *s, __u16 sg)
{
	const size_t *g = s->gfrom + s->gfrom_off[sg];
	size_t ng = s->gfrom_off[sg + 1] - s->gfrom_off[sg];
	size_t i = 0, j = 0;

	s->n_from = 0;
	while (i < s->n_from_any || j < ng) {
		size_t r;

		if (j == ng || (i < s->n_from_any && s->from_any[i] <= g[j]))
			r = s->from_any[i++];
		else
			r = g[j++];
		if (!s->n_from || s->from[s->n_from - 1] != r)
			s->from[s->n_from++] = r;
	}
}

/*
 * Destination slots of a source group: groups 0..n_groups-1, then the
 * gateway, internet and multicast, then its CIDR classes from @first on.
 */
static size_t dst_slot(const struct cstate *s, __u16 dg, size_t first)
{
	size_t ng = s->p->n_groups;

	switch (dg) {
	case BH_GRP_GATEWAY:
		return ng;
	case BH_GRP_INTERNET:
		return ng + 1;
	case BH_GRP_MULTICAST:
		return ng + 2;
	default:
		if (dg >= BH_GRP_CIDR_BASE)
			return ng + 3 + (dg - BH_GRP_CIDR_BASE) - first;
		return dg;
	}
}

static int add_edge(struct cstate *s, size_t dst, size_t rule)
{
	s->edges = grow(s->edges, &s->cap_edges, s->n_edges + 1, sizeof(*s->edges));
	if (!s->edges)
		return -ENOMEM;
	s->edges[s->n_edges].dst = dst;
	s->edges[s->n_edges].rule = rule;
	s->n_edges++;
	return 0;
}

/*
 * Index the rules from @sg by destination: s->toany, and per destination
 * slot the rules naming it, s->edges[doff[slot] .. doff[slot + 1]].
 * A CIDR target lands on its own class; the classes it contains are
 * found from theirs (dests_of()).
 */
static int index_dests(struct cstate *s, __u16 sg, size_t first)
{
	size_t slots = s->p->n_groups + 3 + (s->n_classes - first);
	struct cedge *sorted;
	int ret;

	s->n_edges = 0;
	s->n_toany = 0;
	for (size_t f = 0; f < s->n_from; f++) {
		size_t ri = s->from[f];
		const struct crule *r = &s->rules[ri];
		bool any = false;

		if (!r->def) {
			ret = add_edge(s, s->p->n_groups, ri);
			if (ret)
				return ret;
			continue;
		}
		for (size_t t = 0; t < r->def->n_to; t++) {
			const struct bh_target *tg = &r->def->to[t];
			long k;

			switch (tg->kind) {
			case BH_T_ANY:
				any = true;
				continue;
			case BH_T_GROUP:
				ret = add_edge(s, tg->group, ri);
				break;
			case BH_T_GATEWAY:
				ret = add_edge(s, dst_slot(s, BH_GRP_GATEWAY, first), ri);
				break;
			case BH_T_INTERNET:
				ret = add_edge(s, dst_slot(s, BH_GRP_INTERNET, first), ri);
				break;
			case BH_T_MULTICAST:
				ret = add_edge(s, dst_slot(s, BH_GRP_MULTICAST, first), ri);
				break;
			case BH_T_CIDR:
				k = class_find(s, sg, tg->cidr.plen, tg->cidr.addr.a);
				if (k < 0)
					continue;
				ret = add_edge(s, s->p->n_groups + 3 + (size_t)k - first, ri);
				break;
			default:
				continue;
			}
			if (ret)
				return ret;
		}
		if (any)
			s->toany[s->n_toany++] = ri;
	}
	/* counting sort by slot, stable: rule order within a slot */
	s->doff = grow(s->doff, &s->cap_doff, slots + 2, sizeof(*s->doff));
	sorted = calloc(s->n_edges + 1, sizeof(*sorted));
	if (!s->doff || !sorted) {
		free(sorted);
		return -ENOMEM;
	}
	memset(s->doff, 0, (slots + 2) * sizeof(*s->doff));
	for (size_t e = 0; e < s->n_edges; e++)
		s->doff[s->edges[e].dst + 2]++;
	for (size_t d = 2; d < slots + 2; d++)
		s->doff[d] += s->doff[d - 1];
	for (size_t e = 0; e < s->n_edges; e++)
		sorted[s->doff[s->edges[e].dst + 1]++] = s->edges[e];
	memcpy(s->edges, sorted, s->n_edges * sizeof(*sorted));
	free(sorted);
	return 0;
}

static int add_slot(struct cstate *s, size_t *n, size_t slot)
{
	size_t lo = s->doff[slot], hi = s->doff[slot + 1];

	s->cand = grow(s->cand, &s->cap_cand, *n + (hi - lo) + 1, sizeof(*s->cand));
	if (!s->cand)
		return -ENOMEM;
	for (size_t e = lo; e < hi; e++)
		s->cand[(*n)++] = s->edges[e].rule;
	return 0;
}

/*
 * @l: the rules covering (@sg, @dg), in rule order, from the destination
 * index (only rules naming dg, its kind, or any), checked with rule_to().
 */
static int dests_of(struct cstate *s, const struct crule **l, size_t *nl,
		    __u16 sg, __u16 dg, size_t first)
{
	size_t n = 0;
	int ret;

	s->cand = grow(s->cand, &s->cap_cand, s->n_toany + 1, sizeof(*s->cand));
	if (!s->cand)
		return -ENOMEM;
	memcpy(s->cand, s->toany, s->n_toany * sizeof(*s->cand));
	n = s->n_toany;
	ret = add_slot(s, &n, dst_slot(s, dg, first));
	if (ret)
		return ret;
	if (dg >= BH_GRP_CIDR_BASE && dg < BH_GRP_GATEWAY) {
		const struct cclass *cc = &s->classes[dg - BH_GRP_CIDR_BASE];
		unsigned int base = cc->prefix.addr.v4 ? 96 : 0;

		ret = add_slot(s, &n, dst_slot(s, BH_GRP_INTERNET, first));
		if (ret)
			return ret;
		/* the classes containing this one: its prefix cut to each length */
		for (unsigned int len = 0; len < cc->prefix.plen; len++) {
			unsigned int bits = base + len;
			__u8 a[16] = {};
			long k;

			memcpy(a, cc->prefix.addr.a, bits / 8);
			if (bits % 8)
				a[bits / 8] = cc->prefix.addr.a[bits / 8] &
					      (__u8)(0xff00 >> (bits % 8));
			k = class_find(s, sg, (__u8)len, a);
			if (k < 0)
				continue;
			ret = add_slot(s, &n, s->p->n_groups + 3 + (size_t)k - first);
			if (ret)
				return ret;
		}
	}
	qsort(s->cand, n, sizeof(*s->cand), cmp_size);
	*nl = 0;
	for (size_t i = 0; i < n; i++) {
		const struct crule *r = &s->rules[s->cand[i]];

		if (i && s->cand[i] == s->cand[i - 1])
			continue;
		if (rule_from(r, sg) && rule_to(s, r, sg, dg))
			l[(*nl)++] = r;
	}
	return 0;
}

/* All entries of source group @sg (its classes start at @first). */
static int source(struct cstate *s, const struct crule **l, __u16 sg, size_t first)
{
	static const __u16 special[] = { BH_GRP_GATEWAY, BH_GRP_INTERNET, BH_GRP_MULTICAST };
	size_t n;
	int ret;

	ret = index_dests(s, sg, first);
	if (ret)
		return ret;
	for (size_t d = 0; d < s->p->n_groups + 3; d++) {
		__u16 dg = d < s->p->n_groups ? (__u16)d : special[d - s->p->n_groups];

		ret = dests_of(s, l, &n, sg, dg, first);
		if (!ret)
			ret = pair(s, l, n, sg, dg);
		if (ret)
			return ret;
	}
	return 0;
}

/* The keys' bytes in memcmp() order: an 8-byte key as one big-endian number. */
static int cmp_pol(const void *a, const void *b)
{
	__u64 x, y;

	if (sizeof(struct bh_pol_key) != sizeof(x))
		return memcmp(&((const struct bh_pol_ent *)a)->k,
			      &((const struct bh_pol_ent *)b)->k, sizeof(struct bh_pol_key));
	memcpy(&x, &((const struct bh_pol_ent *)a)->k, sizeof(x));
	memcpy(&y, &((const struct bh_pol_ent *)b)->k, sizeof(y));
	x = be64toh(x);
	y = be64toh(y);
	return x < y ? -1 : x > y;
}

#define LABEL_ALL	sizeof(((struct bh_rule_info *)0)->buf)

/* Append at most @max bytes of @str to @ri's label, cut where snprintf() would. */
static void label_put(struct bh_rule_info *ri, size_t *off, const char *str, size_t max)
{
	for (; max && *str && *off < sizeof(ri->buf) - 1; max--)
		ri->buf[(*off)++] = *str++;
	ri->buf[*off] = '\0';
}

static void label_num(struct bh_rule_info *ri, size_t *off, size_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	tmp[--i] = '\0';
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	label_put(ri, off, tmp + i, LABEL_ALL);
}

static __u32 fnv(__u32 h, const void *p, size_t n)
{
	const __u8 *b = p;

	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

static __u32 target_hash(__u32 h, const struct bh_policy *p, const struct bh_target *t)
{
	h = fnv(h, &t->kind, sizeof(t->kind));
	if (t->kind == BH_T_GROUP && t->group < p->n_groups)
		h = fnv(h, p->groups[t->group].name, strlen(p->groups[t->group].name) + 1);
	else if (t->kind == BH_T_CIDR)
		h = fnv(h, &t->cidr, sizeof(t->cidr));
	return h;
}

/* what a rule says, by group names: the same rule anywhere in the file */
static __u32 rule_hash(const struct bh_policy *p, const struct bh_rule_def *r)
{
	__u32 h = 2166136261u;

	for (size_t i = 0; i < r->n_from; i++)
		h = target_hash(h, p, &r->from[i]);
	h = fnv(h, "->", 2);
	for (size_t i = 0; i < r->n_to; i++)
		h = target_hash(h, p, &r->to[i]);
	h = fnv(h, &r->proto, sizeof(r->proto));
	for (size_t i = 0; i < r->n_ports; i++)
		h = fnv(h, &r->ports[i], sizeof(r->ports[i]));
	return fnv(h, &r->action, sizeof(r->action));
}

/*
 * A stable key per rule (bh_rule_info.key); a name used before gets "#N".
 * The names seen are counted in an open-addressed table (@seen: rule
 * indexes + 1, 2 * n slots), so 100k named rules take linear time.
 */
static int key_rules(struct cstate *s)
{
	struct bh_compiled *c = s->c;
	size_t nslot = 2 * s->p->n_rules + 1;
	size_t *seen = calloc(nslot, sizeof(*seen)), *cnt = calloc(nslot, sizeof(*cnt));

	if (!seen || !cnt) {
		free(seen);
		free(cnt);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_rules; i++) {
		struct bh_rule_info *ri = &c->rules[i];
		const struct bh_rule_def *r;
		size_t h;

		if (i >= s->p->n_rules) {
			snprintf(ri->key, sizeof(ri->key), "%s", ri->buf);
			continue;
		}
		r = &s->p->rules[i];
		if (!r->comment) {
			snprintf(ri->key, sizeof(ri->key), "r-%08x", rule_hash(s->p, r));
			continue;
		}
		h = fnv(2166136261u, r->comment, strlen(r->comment)) % nslot;
		while (seen[h] && strcmp(s->p->rules[seen[h] - 1].comment, r->comment))
			h = (h + 1) % nslot;
		if (!seen[h])
			seen[h] = i + 1;
		if (++cnt[h] > 1)
			snprintf(ri->key, sizeof(ri->key), "%.40s#%zu", r->comment, cnt[h]);
		else
			snprintf(ri->key, sizeof(ri->key), "%.48s", r->comment);
	}
	free(seen);
	free(cnt);
	return 0;
}

static void label_rules(struct cstate *s)
{
	const char *base = strrchr(s->p->path, '/');
	struct bh_compiled *c = s->c;

	base = base ? base + 1 : s->p->path;
	for (size_t i = 0; i < c->n_rules; i++) {
		struct bh_rule_info *ri = &c->rules[i];

		if (i < s->p->n_rules) {
			const struct bh_rule_def *r = &s->p->rules[i];
			size_t off = 0;

			/* "rule %zu '%.40s' (%s:%u)", or without the comment; one
			 * snprintf() per rule was a quarter of compiling 100k rules */
			ri->user_index = (int)i;
			label_put(ri, &off, "rule ", LABEL_ALL);
			label_num(ri, &off, i + 1);
			if (r->comment) {
				label_put(ri, &off, " '", LABEL_ALL);
				label_put(ri, &off, r->comment, 40);
				label_put(ri, &off, "'", LABEL_ALL);
			}
			label_put(ri, &off, " (", LABEL_ALL);
			label_put(ri, &off, base, LABEL_ALL);
			label_put(ri, &off, ":", LABEL_ALL);
			label_num(ri, &off, r->pos.line);
			label_put(ri, &off, ")", LABEL_ALL);
		} else {
			ri->user_index = -1;
			snprintf(ri->buf, sizeof(ri->buf), "built-in: %s",
				 i - s->p->n_rules == 0 ? "dhcp" : "dns");
		}
		ri->label = ri->buf;
	}
}

/*
 * ARP / ND between groups a and b when east-west is allowed or an allowing
 * rule goes from one to the other: per group the bitmap of the groups its
 * rules reach (from_any: those of rules from any), b in row a or in from_any.
 */
static int talk_pairs(struct cstate *s)
{
	const struct bh_policy *p = s->p;
	struct bh_compiled *c = s->c;
	size_t ng = p->n_groups, w = (ng + 63) / 64 + 1;
	__u64 *rows, *any, *to;
	struct bh_pos rpos = { 0, 0 };
	int ret = 0;

	rows = calloc((ng + 2) * w, sizeof(*rows));
	c->talks = calloc(ng * ng + ng + 1, sizeof(*c->talks));
	if (!rows || !c->talks) {
		ret = -ENOMEM;
		goto out;
	}
	any = rows + ng * w;
	to = any + w;
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct crule *r = &s->rules[i];

		if (r->action != BH_ACT_ALLOW || !r->def)
			continue;
		memset(to, 0, w * sizeof(*to));
		for (size_t t = 0; t < r->def->n_to; t++) {
			const struct bh_target *tg = &r->def->to[t];

			if (tg->kind == BH_T_ANY)
				memset(to, 0xff, w * sizeof(*to));
			else if (tg->kind == BH_T_GROUP && tg->group < ng)
				to[tg->group / 64] |= 1ull << (tg->group % 64);
		}
		for (size_t f = 0; f < r->def->n_from; f++) {
			const struct bh_target *tg = &r->def->from[f];
			__u64 *row;

			if (tg->kind == BH_T_ANY)
				row = any;
			else if (tg->kind == BH_T_GROUP && tg->group < ng)
				row = rows + tg->group * w;
			else
				continue;
			for (size_t x = 0; x < w; x++)
				row[x] |= to[x];
		}
	}
#define TALKS(a, b) ((rows[(a) * w + (b) / 64] | any[(b) / 64]) & (1ull << ((b) % 64)))
	for (size_t a = 0; a < ng; a++) {
		size_t first = c->n_talks;

		/* b == ng: (a, BH_GRP_SOME), when a talks to some group */
		for (size_t b = 0; b <= ng; b++) {
			if (b == ng && c->n_talks == first)
				break;
			if (b < ng && p->east_west != BH_ACT_ALLOW && !TALKS(a, b) && !TALKS(b, a))
				continue;
			if (c->n_talks >= BH_MAX_TALK) {
				bh_diag_add(s->d, p->path, rpos, "too many group pairs; the maps hold %d",
					    BH_MAX_TALK);
				ret = -E2BIG;
				goto out;
			}
			c->talks[c->n_talks].k.ga = (__u16)a;
			c->talks[c->n_talks].k.gb = b < ng ? (__u16)b : BH_GRP_SOME;
			c->talks[c->n_talks].v = 1;
			c->n_talks++;
		}
	}
#undef TALKS
out:
	free(rows);
	return ret;
}

static void cstate_free(struct cstate *s, const struct crule **l)
{
	free(l);
	free(s->rules);
	free(s->classes);
	free(s->from_any);
	free(s->gfrom);
	free(s->gfrom_off);
	free(s->from);
	free(s->chash);
	free(s->cstamp);
	free(s->edges);
	free(s->toany);
	free(s->doff);
	free(s->cand);
	free(s->bnd);
}

int bh_compile(const struct bh_policy *p, struct bh_compiled *c, struct bh_diag *d)
{
	struct cstate s = { .p = p, .c = c, .d = d };
	const struct crule **l = NULL;
	size_t ndev = 0, nip = 0, id = 0, cap = 0;
	struct bh_pos rpos = { 0, 0 };
	int ret = -ENOMEM;

	memset(c, 0, sizeof(*c));
	c->cfg.flags = BH_CFG_VALID;
	if (p->east_west == BH_ACT_ALLOW)
		c->cfg.flags |= BH_CFG_EW_ALLOW;
	if (p->gateway == BH_ACT_ALLOW)
		c->cfg.flags |= BH_CFG_GW_ALLOW;
	if (p->audit)
		c->cfg.flags |= BH_CFG_AUDIT;
	c->cfg.unknown_group = p->unknown_group;
	c->cfg.qallow = p->qallow;
	c->cfg.abi_version = BH_ABI_VERSION;

	/* groups, devices, addresses */
	c->n_groups = p->n_groups;
	c->groups = calloc(p->n_groups ? p->n_groups : 1, sizeof(*c->groups));
	if (!c->groups)
		goto fail;
	for (size_t g = 0; g < p->n_groups; g++) {
		c->groups[g].valid = 1;
		c->groups[g].audit = p->groups[g].audit;
		c->groups[g].internet = (__u8)(p->groups[g].internet >= 0 ?
					       p->groups[g].internet : p->internet);
		ndev += p->groups[g].n_members;
		for (size_t i = 0; i < p->groups[g].n_members; i++)
			nip += p->groups[g].members[i].n_ips;
	}
	if (ndev > BH_MAX_DEVICES || nip > BH_MAX_IPS) {
		bh_diag_add(d, p->path, rpos, "policy has %zu devices and %zu addresses; the maps hold %d and %d",
			    ndev, nip, BH_MAX_DEVICES, BH_MAX_IPS);
		ret = -E2BIG;
		goto fail;
	}
	c->devs = calloc(ndev ? ndev : 1, sizeof(*c->devs));
	c->ips = calloc(nip ? nip : 1, sizeof(*c->ips));
	if (!c->devs || !c->ips)
		goto fail;
	for (size_t g = 0; g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++) {
			const struct bh_member *m = &p->groups[g].members[i];
			struct bh_dev_ent *e = &c->devs[c->n_devs];

			memcpy(e->k.mac, m->mac, 6);
			e->v.group = (__u16)g;
			/* e->v.ctr_slot: handed out by bh_dp_apply() */
			for (size_t a = 0; a < m->n_ips; a++) {
				struct bh_ip_ent *ie = &c->ips[c->n_ips++];
				const struct bh_addr *ad = &m->ips[a];

				if (ad->v4)
					e->v.flags |= BH_DEV_HAS_V4;
				else if (!(ad->a[0] == 0xfe && (ad->a[1] & 0xc0) == 0x80))
					e->v.flags |= BH_DEV_HAS_V6;
				memcpy(ie->k.addr, ad->a, 16);
				memcpy(ie->v.mac, m->mac, 6);
				ie->v.group = (__u16)g;
			}
			c->n_devs++;
		}

	/* rules: user rules in file order, then the built-ins */
	s.n_rules = p->n_rules + 3;
	s.rules = calloc(s.n_rules, sizeof(*s.rules));
	if (!s.rules)
		goto fail;
	for (size_t i = 0; i < p->n_rules; i++) {
		s.rules[id].def = &p->rules[i];
		s.rules[id].id = (__u32)i;
		s.rules[id].action = p->rules[i].action;
		s.rules[id].proto = p->rules[i].proto;
		s.rules[id].ports = p->rules[i].ports;
		s.rules[id].n_ports = p->rules[i].n_ports;
		id++;
	}
	/* built-in: dhcp (udp 67, 547); built-in: dns (udp and tcp 53) */
	s.rules[id++] = (struct crule){ .id = (__u32)p->n_rules, .action = BH_ACT_ALLOW,
		.proto = IPPROTO_UDP, .ports = dhcp_ports, .n_ports = 2 };
	s.rules[id++] = (struct crule){ .id = (__u32)p->n_rules + 1, .action = BH_ACT_ALLOW,
		.proto = IPPROTO_UDP, .ports = dns_ports, .n_ports = 1 };
	s.rules[id++] = (struct crule){ .id = (__u32)p->n_rules + 1, .action = BH_ACT_ALLOW,
		.proto = IPPROTO_TCP, .ports = dns_ports, .n_ports = 1 };
	c->n_rules = p->n_rules + N_BUILTIN;
	if (c->n_rules > BH_MAX_RULES) {
		bh_diag_add(d, p->path, rpos, "policy has %zu rules; the maps hold %d",
			    c->n_rules, BH_MAX_RULES);
		ret = -E2BIG;
		goto fail;
	}
	c->rules = calloc(c->n_rules, sizeof(*c->rules));
	if (!c->rules)
		goto fail;
	label_rules(&s);
	if (key_rules(&s))
		goto fail;

	l = calloc(s.n_rules, sizeof(*l));
	if (!l)
		goto fail;
	ret = index_sources(&s);
	if (ret)
		goto fail;
	for (__u16 sg = 0; sg < p->n_groups; sg++) {
		size_t first = s.n_classes;

		sources_of(&s, sg);
		ret = classes_for(&s, sg);
		if (ret)
			goto fail;
		if ((ret = source(&s, l, sg, first)))
			goto big;
		for (size_t k = first; k < s.n_classes; k++) {
			struct bh_inet_ent *ie;
			const struct cclass *cc = &s.classes[k];
			size_t n;

			if ((ret = dests_of(&s, l, &n, sg, cc->dgroup, first)) ||
			    (ret = pair(&s, l, n, sg, cc->dgroup)))
				goto big;
			c->inets = grow(c->inets, &cap, c->n_inets + 1, sizeof(*c->inets));
			if (!c->inets) {
				ret = -ENOMEM;
				goto fail;
			}
			ie = &c->inets[c->n_inets++];
			memset(ie, 0, sizeof(*ie));
			ie->k.prefixlen = BH_INET_KEY_HDR_BITS +
					  (cc->prefix.addr.v4 ? 96u + cc->prefix.plen : cc->prefix.plen);
			ie->k.sgroup = sg;
			memcpy(ie->k.addr, cc->prefix.addr.a, 16);
			ie->v.dgroup = cc->dgroup;
		}
	}
	qsort(c->pols, c->n_pols, sizeof(*c->pols), cmp_pol);

	/* ARP / ND between groups that may talk */
	ret = talk_pairs(&s);
	if (ret)
		goto fail;
	cstate_free(&s, l);
	return 0;

big:
	if (ret == -E2BIG) {
		if (p->n_rules)
			rpos = p->rules[0].pos;
		bh_diag_add(d, p->path, rpos,
			    "policy needs more than %d policy entries; the maps hold %d",
			    BH_MAX_POLICY, BH_MAX_POLICY);
	}
fail:
	cstate_free(&s, l);
	bh_compiled_free(c);
	return ret;
}

void bh_compiled_free(struct bh_compiled *c)
{
	free(c->groups);
	free(c->devs);
	free(c->ips);
	free(c->pols);
	free(c->inets);
	free(c->talks);
	free(c->rules);
	memset(c, 0, sizeof(*c));
}
