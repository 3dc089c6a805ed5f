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

struct cstate {
	const struct bh_policy *p;
	struct bh_compiled *c;
	struct bh_diag *d;
	struct crule *rules;
	size_t n_rules;
	struct cclass *classes;
	size_t n_classes, cap_classes;
	size_t cap_pols;
	struct bh_port_range builtin_ports[4];
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

static int pair(struct cstate *s, const struct crule **l, __u16 sg, __u16 dg)
{
	static const __u8 protos[] = { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 };
	struct bh_pol_val v = {};	/* its padding goes into the map too */
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < s->n_rules; i++)
		if (rule_from(&s->rules[i], sg) && rule_to(s, &s->rules[i], sg, dg))
			l[n++] = &s->rules[i];
	if (!n)
		return 0;

	for (size_t pi = 0; pi < sizeof(protos); pi++) {
		__u8 p = protos[pi];
		bool all_ports = false;

		/* exact ports named by a rule of this protocol */
		if (p == IPPROTO_TCP || p == IPPROTO_UDP) {
			static __u8 seen[65536 / 8];
			bool named = false;

			memset(seen, 0, sizeof(seen));
			for (size_t i = 0; i < n; i++) {
				if (l[i]->proto != p)
					continue;
				if (!l[i]->n_ports)
					all_ports = true;
				for (size_t r = 0; r < l[i]->n_ports; r++)
					for (__u32 port = l[i]->ports[r].lo; port <= l[i]->ports[r].hi; port++)
						seen[port / 8] |= (__u8)(1 << (port % 8));
				named |= l[i]->n_ports > 0;
			}
			for (__u32 port = 1; named && port < 65536; port++) {
				if (!(seen[port / 8] & (1 << (port % 8))))
					continue;
				if (fold(l, n, p, (__u16)port, &v)) {
					ret = emit(s, sg, dg, p, (__u16)port, &v);
					if (ret)
						return ret;
				}
			}
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

/* CIDR classes of source group @sg. */
static int classes_for(struct cstate *s, __u16 sg)
{
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct crule *r = &s->rules[i];

		if (!r->def || !rule_from(r, sg))
			continue;
		for (size_t t = 0; t < r->def->n_to; t++) {
			const struct bh_target *tg = &r->def->to[t];
			bool dup = false;

			if (tg->kind != BH_T_CIDR)
				continue;
			for (size_t k = 0; k < s->n_classes; k++)
				if (s->classes[k].sgroup == sg &&
				    s->classes[k].prefix.plen == tg->cidr.plen &&
				    !memcmp(s->classes[k].prefix.addr.a, tg->cidr.addr.a, 16))
					dup = true;
			if (dup)
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
			s->n_classes++;
		}
	}
	return 0;
}

static int cmp_pol(const void *a, const void *b)
{
	return memcmp(&((const struct bh_pol_ent *)a)->k, &((const struct bh_pol_ent *)b)->k,
		      sizeof(struct bh_pol_key));
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

			ri->user_index = (int)i;
			if (r->comment)
				snprintf(ri->buf, sizeof(ri->buf), "rule %zu '%.40s' (%s:%u)", i + 1,
					 r->comment, base, r->pos.line);
			else
				snprintf(ri->buf, sizeof(ri->buf), "rule %zu (%s:%u)", i + 1,
					 base, r->pos.line);
		} else {
			ri->user_index = -1;
			snprintf(ri->buf, sizeof(ri->buf), "built-in: %s",
				 i - s->p->n_rules == 0 ? "dhcp" : "dns");
		}
		ri->label = ri->buf;
	}
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
			e->v.dev_id = (__u32)c->n_devs;
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

	l = calloc(s.n_rules, sizeof(*l));
	if (!l)
		goto fail;
	for (__u16 sg = 0; sg < p->n_groups; sg++) {
		size_t first = s.n_classes;

		ret = classes_for(&s, sg);
		if (ret)
			goto fail;
		for (__u16 dg = 0; dg < p->n_groups; dg++)
			if ((ret = pair(&s, l, sg, dg)))
				goto big;
		if ((ret = pair(&s, l, sg, BH_GRP_GATEWAY)) ||
		    (ret = pair(&s, l, sg, BH_GRP_INTERNET)) ||
		    (ret = pair(&s, l, sg, BH_GRP_MULTICAST)))
			goto big;
		for (size_t k = first; k < s.n_classes; k++) {
			struct bh_inet_ent *ie;
			const struct cclass *cc = &s.classes[k];

			if ((ret = pair(&s, l, sg, cc->dgroup)))
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
	c->talks = calloc((size_t)p->n_groups * p->n_groups + 1, sizeof(*c->talks));
	if (!c->talks)
		goto fail;
	for (__u16 a = 0; a < p->n_groups; a++)
		for (__u16 b = 0; b < p->n_groups; b++) {
			bool ok = p->east_west == BH_ACT_ALLOW;

			for (size_t i = 0; i < s.n_rules && !ok; i++) {
				const struct crule *r = &s.rules[i];

				if (r->action != BH_ACT_ALLOW || !r->def)
					continue;
				if ((rule_from(r, a) && rule_to(&s, r, a, b)) ||
				    (rule_from(r, b) && rule_to(&s, r, b, a)))
					ok = true;
			}
			if (!ok)
				continue;
			if (c->n_talks >= BH_MAX_TALK) {
				bh_diag_add(d, p->path, rpos, "too many group pairs; the maps hold %d",
					    BH_MAX_TALK);
				ret = -E2BIG;
				goto fail;
			}
			c->talks[c->n_talks].k.ga = a;
			c->talks[c->n_talks].k.gb = b;
			c->talks[c->n_talks].v = 1;
			c->n_talks++;
		}
	free(l);
	free(s.rules);
	free(s.classes);
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
	free(l);
	free(s.rules);
	free(s.classes);
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
