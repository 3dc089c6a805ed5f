// SPDX-License-Identifier: GPL-2.0
/*
 * policy.c - load and validate a Bulkhead policy (YAML, version 1) with
 * libyaml. Every error is reported as "file:line:col: what" from the mark
 * of the offending node; nothing is returned unless the whole file is valid.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <yaml.h>

#include "policy.h"
#include "policy_yaml.h"
#include "detect.h"
#include "../bpf/bulkhead_abi.h"


/* ---- address and MAC helpers ------------------------------------------------ */

int bh_parse_mac(const char *s, __u8 mac[6])
{
	unsigned int v[6];
	char sep, tail;

	if (strlen(s) != 17)
		return -EINVAL;
	sep = s[2];
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *c = s + i * 3;

		if (!((c[0] >= '0' && c[0] <= '9') || ((c[0] | 0x20) >= 'a' && (c[0] | 0x20) <= 'f')) ||
		    !((c[1] >= '0' && c[1] <= '9') || ((c[1] | 0x20) >= 'a' && (c[1] | 0x20) <= 'f')))
			return -EINVAL;
		if (i < 5 && c[2] != sep)
			return -EINVAL;
		if (sscanf(c, "%2x%c", &v[i], &tail) < 1)
			return -EINVAL;
	}
	for (int i = 0; i < 6; i++)
		mac[i] = (__u8)v[i];
	return 0;
}

void bh_format_mac(const __u8 mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

int bh_parse_addr(const char *s, struct bh_addr *a)
{
	struct in_addr v4;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &v4) == 1) {
		a->a[10] = 0xff;
		a->a[11] = 0xff;
		memcpy(a->a + 12, &v4, 4);
		a->v4 = true;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1) {
		/* a v4-mapped IPv6 address is the IPv4 address */
		static const __u8 pfx[12] = { [10] = 0xff, [11] = 0xff };

		a->v4 = !memcmp(a->a, pfx, 12);
		return 0;
	}
	return -EINVAL;
}

void bh_format_addr(const struct bh_addr *a, char *buf, size_t len)
{
	if (a->v4)
		inet_ntop(AF_INET, a->a + 12, buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a->a, buf, (socklen_t)len);
}

/* 0, -EINVAL (syntax), -ERANGE (prefix), -EEXIST (host bits set) */
int bh_parse_cidr(const char *s, struct bh_cidr *c)
{
	char buf[64], *slash, *end;
	unsigned long plen;
	unsigned int bits;
	bool host = false;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (bh_parse_addr(buf, &c->addr))
		return -EINVAL;
	bits = c->addr.v4 ? 32 : 128;
	if (slash) {
		if (!slash[1])
			return -EINVAL;
		errno = 0;
		plen = strtoul(slash + 1, &end, 10);
		if (*end || errno || slash[1] == '-' || slash[1] == '+')
			return -EINVAL;
		if (plen > bits)
			return -ERANGE;
	} else {
		plen = bits;
	}
	c->plen = (__u8)plen;
	/* host bits: over the 128-bit form */
	{
		unsigned int full = c->addr.v4 ? 96 + (unsigned int)plen : (unsigned int)plen;

		for (unsigned int i = full; i < 128; i++)
			if (c->addr.a[i / 8] & (0x80 >> (i % 8)))
				host = true;
	}
	return host ? -EEXIST : 0;
}

int bh_policy_group(const struct bh_policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_groups; i++)
		if (!strcmp(p->groups[i].name, name))
			return (int)i;
	return -1;
}

size_t bh_policy_n_pins(const struct bh_policy *p)
{
	size_t n = 0;

	for (size_t g = 0; g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++)
			n += p->groups[g].members[i].port != NULL;
	return n;
}

static int parse_action(struct ld *l, struct ynode *v, const char *what)
{
	const char *s = ydoc_scalar(v);

	if (!ydoc_want(l, v, YAML_SCALAR_NODE, what))
		return -1;
	if (!strcmp(s, "allow"))
		return BH_ACT_ALLOW;
	if (!strcmp(s, "deny"))
		return BH_ACT_DENY;
	ERR(l, v, "%s must be allow or deny, not '%s'", what, s);
	return -1;
}

static char *xstrdup(const char *s)
{
	char *r = strdup(s);

	if (!r) {
		fprintf(stderr, "bulkhead: out of memory\n");
		abort();
	}
	return r;
}

static void *xcalloc(size_t n, size_t size)
{
	void *r = calloc(n ? n : 1, size);

	if (!r) {
		fprintf(stderr, "bulkhead: out of memory\n");
		abort();
	}
	return r;
}

/* ---- sections --------------------------------------------------------------- */

static bool reserved(const char *name)
{
	return !strcmp(name, "any") || !strcmp(name, "gateway") ||
	       !strcmp(name, "internet") || !strcmp(name, "multicast");
}

static bool valid_group_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

/* a name the kernel takes for a network device (dev_valid_name()) */
static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

static void do_interfaces(struct ld *l, struct ynode *v)
{
	size_t n;

	if (v && v->type == YAML_SCALAR_NODE) {
		/* a single name is accepted as a one-element list */
		l->p->ifaces = xcalloc(1, sizeof(char *));
		if (strlen(ydoc_scalar(v)) == 0 || strlen(ydoc_scalar(v)) > 15)
			ERR(l, v, "interface name '%s' must be 1 to 15 characters", ydoc_scalar(v));
		l->p->ifaces[0] = xstrdup(ydoc_scalar(v));
		l->p->n_ifaces = 1;
		return;
	}
	if (!ydoc_want(l, v, YAML_SEQUENCE_NODE, "interfaces"))
		return;
	n = v->n;
	if (!n) {
		ERR(l, v, "interfaces must name at least one bridge or port");
		return;
	}
	l->p->ifaces = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < v->n; i++) {
		struct ynode *e = ydoc_item(l, v, i);
		const char *s = ydoc_scalar(e);

		if (!ydoc_want(l, e, YAML_SCALAR_NODE, "an interface"))
			continue;
		if (!*s || strlen(s) > 15 || strchr(s, '/') || strchr(s, ' ')) {
			ERR(l, e, "interface name '%s' must be 1 to 15 characters, without '/' or spaces", s);
			continue;
		}
		for (size_t i = 0; i < l->p->n_ifaces; i++)
			if (!strcmp(l->p->ifaces[i], s))
				ERR(l, e, "interface '%s' is listed twice", s);
		l->p->ifaces[l->p->n_ifaces++] = xstrdup(s);
	}
}

struct defaults_arg {
	struct ynode *unknown;
};

static void defaults_key(struct ld *l, const char *key, struct ynode *k,
			 struct ynode *v, void *arg)
{
	struct defaults_arg *da = arg;
	int a;

	(void)k;
	if (!strcmp(key, "unknown")) {
		if (ydoc_want(l, v, YAML_SCALAR_NODE, "defaults.unknown"))
			da->unknown = v;
		return;
	}
	if (!strcmp(key, "mode")) {
		const char *s = ydoc_scalar(v);

		if (!ydoc_want(l, v, YAML_SCALAR_NODE, "defaults.mode"))
			return;
		if (!strcmp(s, "audit") || !strcmp(s, "enforce"))
			l->p->audit = !strcmp(s, "audit");
		else
			ERR(l, v, "defaults.mode must be enforce or audit, not '%s'", s);
		return;
	}
	a = parse_action(l, v, !strcmp(key, "east_west") ? "defaults.east_west" :
			 !strcmp(key, "internet") ? "defaults.internet" : "defaults.gateway");
	if (a < 0)
		return;
	if (!strcmp(key, "east_west"))
		l->p->east_west = a;
	else if (!strcmp(key, "internet"))
		l->p->internet = a;
	else
		l->p->gateway = a;
}

/* first pass over groups: names and ids only */
static void collect_groups(struct ld *l, struct ynode *g)
{
	size_t n;

	if (!ydoc_want(l, g, YAML_MAPPING_NODE, "groups")) {
		l->p->groups = xcalloc(1, sizeof(*l->p->groups));
		return;
	}
	n = g->n;
	l->p->groups = xcalloc(n + 1, sizeof(*l->p->groups));
	for (size_t i = 0; i < g->n; i++) {
		struct ynode *k = ydoc_key(l, g, i);
		const char *name = ydoc_scalar(k);
		struct bh_group_def *gd;

		if (!name) {
			ERR(l, k, "group names must be scalars");
			continue;
		}
		if (reserved(name)) {
			ERR(l, k, "'%s' is reserved and cannot name a group", name);
			continue;
		}
		if (!valid_group_name(name)) {
			ERR(l, k, "group name '%s' must be 1 to 32 of a-z, 0-9, '_' and '-'", name);
			continue;
		}
		if (bh_policy_group(l->p, name) >= 0) {
			ERR(l, k, "duplicate group '%s'", name);
			continue;
		}
		if (l->p->n_groups >= BH_MAX_GROUPS) {
			ERR(l, k, "too many groups (at most %d)", BH_MAX_GROUPS);
			return;
		}
		gd = &l->p->groups[l->p->n_groups];
		gd->name = xstrdup(name);
		gd->id = (__u16)l->p->n_groups;
		gd->internet = -1;
		gd->pos = ydoc_pos(k);
		l->p->n_groups++;
	}
}

struct member_arg {
	struct bh_member *m;
	bool has_mac;
};

static void add_ip(struct ld *l, struct bh_member *m, struct ynode *e)
{
	const char *s = ydoc_scalar(e);
	struct bh_addr a;

	if (!ydoc_want(l, e, YAML_SCALAR_NODE, "an ip"))
		return;
	if (bh_parse_addr(s, &a)) {
		ERR(l, e, "'%s' is not an IPv4 or IPv6 address", s);
		return;
	}
	m->ips[m->n_ips++] = a;
}

static void member_key(struct ld *l, const char *key, struct ynode *k,
		       struct ynode *v, void *arg)
{
	struct member_arg *ma = arg;
	struct bh_member *m = ma->m;
	const char *s;

	(void)k;
	if (!strcmp(key, "mac")) {
		if (!ydoc_want(l, v, YAML_SCALAR_NODE, "mac"))
			return;
		s = ydoc_scalar(v);
		if (bh_parse_mac(s, m->mac)) {
			ERR(l, v, "'%s' is not a MAC address (expected aa:bb:cc:dd:ee:ff)", s);
			return;
		}
		if (m->mac[0] & 1) {
			ERR(l, v, "%s is a multicast or broadcast address, not a device", s);
			return;
		}
		if (!(m->mac[0] | m->mac[1] | m->mac[2] | m->mac[3] | m->mac[4] | m->mac[5])) {
			ERR(l, v, "%s is the all-zero address, not a device", s);
			return;
		}
		ma->has_mac = true;
		m->pos = ydoc_pos(v);
	} else if (!strcmp(key, "name")) {
		if (ydoc_want(l, v, YAML_SCALAR_NODE, "name"))
			m->name = xstrdup(ydoc_scalar(v));
	} else if (!strcmp(key, "port")) {
		if (!ydoc_want(l, v, YAML_SCALAR_NODE, "port"))
			return;
		s = ydoc_scalar(v);
		if (!ifname_ok(s)) {
			ERR(l, v, "'%s' is not an interface name (1 to %d characters, no '/', ':' or space)",
			    s, IF_NAMESIZE - 1);
			return;
		}
		m->port = xstrdup(s);
	} else {	/* ip */
		size_t n;

		if (v && v->type == YAML_SCALAR_NODE) {
			m->ips = xcalloc(1, sizeof(*m->ips));
			add_ip(l, m, v);
			return;
		}
		if (!ydoc_want(l, v, YAML_SEQUENCE_NODE, "ip"))
			return;
		n = v->n;
		m->ips = xcalloc(n, sizeof(*m->ips));
		for (size_t i = 0; i < v->n; i++)
			add_ip(l, m, ydoc_item(l, v, i));
	}
}

static void do_members(struct ld *l, struct bh_group_def *g, struct ynode *v)
{
	static const char *const keys[] = { "mac", "name", "ip", "port", NULL };
	size_t n;

	if (!ydoc_want(l, v, YAML_SEQUENCE_NODE, "members"))
		return;
	n = v->n;
	g->members = xcalloc(n, sizeof(*g->members));
	for (size_t i = 0; i < v->n; i++) {
		struct ynode *e = ydoc_item(l, v, i);
		struct bh_member *m = &g->members[g->n_members];
		struct member_arg ma = { .m = m };
		char where[64];

		if (!ydoc_want(l, e, YAML_MAPPING_NODE, "a member"))
			continue;
		m->pos = ydoc_pos(e);
		snprintf(where, sizeof(where), "a member of group '%s'", g->name);
		ydoc_walk_map(l, e, where, keys, member_key, &ma);
		if (!ma.has_mac) {
			/* reported only when mac is absent, not when it was bad */
			bool present = false;

			for (size_t j = 0; j < e->n; j++)
				if (ydoc_scalar(ydoc_key(l, e, j)) && !strcmp(ydoc_scalar(ydoc_key(l, e, j)), "mac"))
					present = true;
			if (!present)
				ERR(l, e, "a member of group '%s' needs a mac", g->name);
			free(m->name);
			free(m->port);
			free(m->ips);
			memset(m, 0, sizeof(*m));
			continue;
		}
		g->n_members++;
	}
}

static void group_key(struct ld *l, const char *key, struct ynode *k,
		      struct ynode *v, void *arg)
{
	struct bh_group_def *g = arg;
	char what[64];

	(void)k;
	if (!strcmp(key, "internet")) {
		snprintf(what, sizeof(what), "internet of group '%s'", g->name);
		g->internet = parse_action(l, v, what);
	} else if (!strcmp(key, "audit")) {
		snprintf(what, sizeof(what), "audit of group '%s'", g->name);
		ydoc_bool(l, v, what, &g->audit);
	} else {
		do_members(l, g, v);
	}
}

static void do_groups(struct ld *l, struct ynode *g)
{
	static const char *const keys[] = { "internet", "audit", "members", NULL };

	if (!g || g->type != YAML_MAPPING_NODE)
		return;
	for (size_t i = 0; i < g->n; i++) {
		const char *name = ydoc_scalar(ydoc_key(l, g, i));
		struct ynode *v = ydoc_val(l, g, i);
		char where[64];
		int id;

		if (!name || (id = bh_policy_group(l->p, name)) < 0)
			continue;
		/* a duplicate group was reported by collect_groups(): its
		 * body is not read into the first one */
		if (l->p->groups[id].pos.line != ydoc_pos(ydoc_key(l, g, i)).line ||
		    l->p->groups[id].pos.col != ydoc_pos(ydoc_key(l, g, i)).col)
			continue;
		/* "cameras:" with nothing, or {} : an empty group */
		if (v->type == YAML_SCALAR_NODE && !*ydoc_scalar(v) &&
		    v->plain)
			continue;
		if (!ydoc_want(l, v, YAML_MAPPING_NODE, "a group"))
			continue;
		snprintf(where, sizeof(where), "group '%s'", name);
		ydoc_walk_map(l, v, where, keys, group_key, &l->p->groups[id]);
	}
}

/* ---- rules ---------------------------------------------------------------- */

static int cmp_byname(const void *a, const void *b, void *arg)
{
	const struct bh_policy *p = arg;

	return strcmp(p->groups[*(const __u16 *)a].name, p->groups[*(const __u16 *)b].name);
}

/* bh_policy_group() by binary search: names are unique, so the same id. */
static int group_of(struct ld *l, const char *name)
{
	size_t lo = 0, hi;

	if (!l->byname || l->n_byname != l->p->n_groups) {
		free(l->byname);
		l->byname = xcalloc(l->p->n_groups, sizeof(*l->byname));
		for (size_t i = 0; i < l->p->n_groups; i++)
			l->byname[i] = (__u16)i;
		qsort_r(l->byname, l->p->n_groups, sizeof(*l->byname), cmp_byname, l->p);
		l->n_byname = l->p->n_groups;
	}
	hi = l->n_byname;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, l->p->groups[l->byname[mid]].name);

		if (!c)
			return l->byname[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static void add_target(struct ld *l, struct ynode *e, bool from,
		       struct bh_target *t, size_t *n)
{
	const char *s = ydoc_scalar(e);
	struct bh_target *tg = &t[*n];
	int g, ret;

	if (!ydoc_want(l, e, YAML_SCALAR_NODE, from ? "from" : "to"))
		return;
	memset(tg, 0, sizeof(*tg));
	tg->pos = ydoc_pos(e);
	if (!strcmp(s, "any")) {
		tg->kind = BH_T_ANY;
	} else if (!from && !strcmp(s, "gateway")) {
		tg->kind = BH_T_GATEWAY;
	} else if (!from && !strcmp(s, "internet")) {
		tg->kind = BH_T_INTERNET;
	} else if (!from && !strcmp(s, "multicast")) {
		tg->kind = BH_T_MULTICAST;
	} else if ((g = group_of(l, s)) >= 0) {
		tg->kind = BH_T_GROUP;
		tg->group = (__u16)g;
	} else if (!from && (strchr(s, '/') || strchr(s, '.') || strchr(s, ':'))) {
		tg->kind = BH_T_CIDR;
		ret = bh_parse_cidr(s, &tg->cidr);
		if (ret == -EEXIST) {
			char fixed[64];
			struct bh_cidr c = tg->cidr;
			unsigned int full = c.addr.v4 ? 96u + c.plen : c.plen;

			for (unsigned int i = full; i < 128; i++)
				c.addr.a[i / 8] &= (__u8)~(0x80 >> (i % 8));
			bh_format_addr(&c.addr, fixed, sizeof(fixed));
			ERR(l, e, "%s has host bits set; did you mean %s/%u?", s, fixed, c.plen);
			return;
		}
		if (ret == -ERANGE) {
			ERR(l, e, "prefix length of '%s' is out of range", s);
			return;
		}
		if (ret) {
			ERR(l, e, "'%s' is not a CIDR (expected e.g. 203.0.113.0/24)", s);
			return;
		}
	} else if (from && (!strcmp(s, "gateway") || !strcmp(s, "internet") ||
			    !strcmp(s, "multicast"))) {
		ERR(l, e, "from: '%s' is not a source; rules judge what devices send (use a group or any)", s);
		return;
	} else {
		ERR(l, e, "unknown group '%s'", s);
		return;
	}
	(*n)++;
}

static void do_targets(struct ld *l, struct ynode *v, bool from,
		       struct bh_target **out, size_t *n)
{
	size_t cnt;

	if (v->type == YAML_SCALAR_NODE) {
		*out = xcalloc(1, sizeof(**out));
		add_target(l, v, from, *out, n);
		return;
	}
	if (!ydoc_want(l, v, YAML_SEQUENCE_NODE, from ? "from" : "to"))
		return;
	cnt = v->n;
	if (!cnt) {
		ERR(l, v, "%s must not be empty", from ? "from" : "to");
		return;
	}
	*out = xcalloc(cnt, sizeof(**out));
	for (size_t i = 0; i < v->n; i++)
		add_target(l, ydoc_item(l, v, i), from, *out, n);
}

static int parse_port(const char *s, __u16 *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v < 1 || v > 65535)
		return -EINVAL;
	*out = (__u16)v;
	return 0;
}

static void add_port(struct ld *l, struct bh_rule_def *r, struct ynode *e)
{
	const char *s = ydoc_scalar(e);
	struct bh_port_range pr;
	char buf[32], *dash;

	if (!ydoc_want(l, e, YAML_SCALAR_NODE, "a port"))
		return;
	if (strlen(s) >= sizeof(buf)) {
		ERR(l, e, "'%s' is not a port or a range", s);
		return;
	}
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash) {
		*dash = '\0';
		if (parse_port(buf, &pr.lo) || parse_port(dash + 1, &pr.hi)) {
			ERR(l, e, "'%s' is not a port range (expected \"LOW-HIGH\", ports 1 to 65535)", s);
			return;
		}
		if (pr.lo > pr.hi) {
			ERR(l, e, "port range '%s' is reversed (did you mean \"%u-%u\"?)", s,
			    pr.hi, pr.lo);
			return;
		}
	} else {
		if (parse_port(buf, &pr.lo)) {
			ERR(l, e, "'%s' is not a port (1 to 65535)", s);
			return;
		}
		pr.hi = pr.lo;
	}
	r->ports[r->n_ports++] = pr;
}

struct rule_arg {
	struct bh_rule_def *r;
	struct ynode *from, *to, *ports, *proto;
};

static void rule_key(struct ld *l, const char *key, struct ynode *k,
		     struct ynode *v, void *arg)
{
	struct rule_arg *ra = arg;
	struct bh_rule_def *r = ra->r;
	const char *s;

	(void)k;
	if (!strcmp(key, "from")) {
		ra->from = v;
		do_targets(l, v, true, &r->from, &r->n_from);
	} else if (!strcmp(key, "to")) {
		ra->to = v;
		do_targets(l, v, false, &r->to, &r->n_to);
	} else if (!strcmp(key, "proto")) {
		if (!ydoc_want(l, v, YAML_SCALAR_NODE, "proto"))
			return;
		ra->proto = v;
		s = ydoc_scalar(v);
		if (!strcmp(s, "tcp"))
			r->proto = IPPROTO_TCP;
		else if (!strcmp(s, "udp"))
			r->proto = IPPROTO_UDP;
		else if (!strcmp(s, "icmp"))
			r->proto = IPPROTO_ICMP;
		else if (!strcmp(s, "icmpv6"))
			r->proto = IPPROTO_ICMPV6;
		else if (!strcmp(s, "any"))
			r->proto = BH_PROTO_ANY;
		else
			ERR(l, v, "proto must be tcp, udp, icmp, icmpv6 or any, not '%s'", s);
	} else if (!strcmp(key, "ports")) {
		size_t n;

		ra->ports = v;
		if (v->type == YAML_SCALAR_NODE) {
			r->ports = xcalloc(1, sizeof(*r->ports));
			add_port(l, r, v);
			return;
		}
		if (!ydoc_want(l, v, YAML_SEQUENCE_NODE, "ports"))
			return;
		n = v->n;
		if (!n) {
			ERR(l, v, "ports must not be empty (omit it for all ports)");
			return;
		}
		r->ports = xcalloc(n, sizeof(*r->ports));
		for (size_t i = 0; i < v->n; i++)
			add_port(l, r, ydoc_item(l, v, i));
	} else if (!strcmp(key, "action")) {
		int a = parse_action(l, v, "action");

		if (a >= 0)
			r->action = a;
	} else {	/* name / comment */
		if (ydoc_want(l, v, YAML_SCALAR_NODE, key)) {
			free(r->comment);
			r->comment = xstrdup(ydoc_scalar(v));
		}
	}
}

static void do_rules(struct ld *l, struct ynode *v)
{
	static const char *const keys[] = { "from", "to", "proto", "ports", "action",
					    "name", "comment", NULL };
	size_t n;

	if (!ydoc_want(l, v, YAML_SEQUENCE_NODE, "rules"))
		return;
	n = v->n;
	l->p->rules = xcalloc(n, sizeof(*l->p->rules));
	for (size_t i = 0; i < v->n; i++) {
		struct ynode *e = ydoc_item(l, v, i);
		struct bh_rule_def *r = &l->p->rules[l->p->n_rules++];
		struct rule_arg ra = { .r = r };

		r->proto = BH_PROTO_ANY;
		r->action = BH_ACT_ALLOW;
		r->pos = ydoc_pos(e);
		if (!ydoc_want(l, e, YAML_MAPPING_NODE, "a rule"))
			continue;
		ydoc_walk_map(l, e, "a rule", keys, rule_key, &ra);
		if (!ra.from)
			ERR(l, e, "a rule needs from");
		if (!ra.to)
			ERR(l, e, "a rule needs to");
		if (ra.ports && r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP)
			ERR(l, ra.ports, "ports need proto tcp or udp");
	}
}

static void quarantine_key(struct ld *l, const char *key, struct ynode *k,
			   struct ynode *v, void *arg)
{

	(void)key;
	(void)k;
	(void)arg;
	if (!ydoc_want(l, v, YAML_SEQUENCE_NODE, "quarantine.allow"))
		return;
	l->p->qallow = 0;
	for (size_t i = 0; i < v->n; i++) {
		struct ynode *e = ydoc_item(l, v, i);
		const char *s = ydoc_scalar(e);

		if (!ydoc_want(l, e, YAML_SCALAR_NODE, "a quarantine service"))
			continue;
		if (!strcmp(s, "dhcp"))
			l->p->qallow |= BH_SVC_DHCP;
		else if (!strcmp(s, "dns"))
			l->p->qallow |= BH_SVC_DNS;
		else if (!strcmp(s, "ntp"))
			l->p->qallow |= BH_SVC_NTP;
		else if (!strcmp(s, "icmp"))
			l->p->qallow |= BH_SVC_ICMP;
		else
			ERR(l, e, "quarantine service must be dhcp, dns, ntp or icmp, not '%s'", s);
	}
}

/* dhcp.leases: an absolute path (the daemon reads it from anywhere) */
static void dhcp_key(struct ld *l, const char *key, struct ynode *k,
		     struct ynode *v, void *arg)
{
	const char *s = ydoc_scalar(v);

	(void)key;
	(void)k;
	(void)arg;
	if (!ydoc_want(l, v, YAML_SCALAR_NODE, "dhcp.leases"))
		return;
	if (s[0] != '/' || strlen(s) >= PATH_MAX)
		ERR(l, v, "dhcp.leases must be an absolute path, not '%s'", s);
	else
		l->p->dhcp_leases = xstrdup(s);
}

struct top_arg {
	struct ynode *version, *interfaces, *defaults, *groups, *rules, *quarantine;
	struct ynode *dhcp, *flows, *detect;
};

static void top_key(struct ld *l, const char *key, struct ynode *k,
		    struct ynode *v, void *arg)
{
	struct top_arg *ta = arg;

	(void)l;
	(void)k;
	if (!strcmp(key, "version"))
		ta->version = v;
	else if (!strcmp(key, "interfaces"))
		ta->interfaces = v;
	else if (!strcmp(key, "defaults"))
		ta->defaults = v;
	else if (!strcmp(key, "groups"))
		ta->groups = v;
	else if (!strcmp(key, "rules"))
		ta->rules = v;
	else if (!strcmp(key, "dhcp"))
		ta->dhcp = v;
	else if (!strcmp(key, "flows"))
		ta->flows = v;
	else if (!strcmp(key, "detect"))
		ta->detect = v;
	else
		ta->quarantine = v;
}

/* detect: parsed by detect.c through a view of this loader's nodes */
static void do_detect(struct ld *l, struct ynode *v)
{
	struct bh_yview y;

	ydoc_view(l, &y);
	l->p->detect = xcalloc(1, sizeof(*l->p->detect));
	if (bh_detect_parse(&y, v, l->file, l->p, l->p->detect, l->d) == -ENOMEM) {
		fprintf(stderr, "bulkhead: out of memory\n");
		abort();
	}
}

/* A MAC or an address of a member, sorted to find the duplicates. */
struct mkey {
	__u8 key[16];
	size_t member;		/* in file order over all groups */
	size_t ip;		/* address index in the member */
};

static int cmp_mkey(const void *a, const void *b)
{
	const struct mkey *x = a, *y = b;
	int c = memcmp(x->key, y->key, 16);

	if (c)
		return c;
	if (x->member != y->member)
		return x->member < y->member ? -1 : 1;
	return x->ip < y->ip ? -1 : x->ip > y->ip;
}

/* An address match (earlier member, address of this one, address of that one). */
struct mmatch {
	size_t o, a, b;
};

static int cmp_mmatch(const void *a, const void *b)
{
	const struct mmatch *x = a, *y = b;

	if (x->o != y->o)
		return x->o < y->o ? -1 : 1;
	if (x->a != y->a)
		return x->a < y->a ? -1 : 1;
	return x->b < y->b ? -1 : x->b > y->b;
}

/* members by name, then file order: the duplicate names */
static int cmp_mname(const void *a, const void *b)
{
	const struct bh_member *const *x = a, *const *y = b;
	int c = strcmp((*x)->name, (*y)->name);

	if (c)
		return c;
	return *x < *y ? -1 : *x > *y;
}

/*
 * Two members with one name: explain, isolate NAME and the events would
 * pick one of them at random. Members are in one array per group and the
 * groups in file order, so pointer order within a name is file order
 * only per group: the first in the file is the one with the lowest line.
 */
static void check_member_names(struct ld *l, struct bh_member **mem, size_t n)
{
	struct bh_member **named = xcalloc(n + 1, sizeof(*named));
	size_t nn = 0;

	for (size_t i = 0; i < n; i++)
		if (mem[i]->name)
			named[nn++] = mem[i];
	qsort(named, nn, sizeof(*named), cmp_mname);
	for (size_t i = 1, f = 0; i < nn && l->d->n < BH_DIAG_MAX; i++) {
		if (strcmp(named[i]->name, named[f]->name)) {
			f = i;
			continue;
		}
		const struct bh_member *first = named[f], *dup = named[i];

		if (dup->pos.line < first->pos.line) {
			const struct bh_member *t = first;

			first = dup;
			dup = t;
		}
		bh_diag_add(l->d, l->file, dup->pos,
			    "device name '%s' is used twice (first at line %u): names must be unique",
			    dup->name, first->pos.line);
	}
	free(named);
}

/*
 * Cross-member checks: duplicate MACs, an address bound to two MACs.
 * Each member against the earlier ones: the addresses it shares with each
 * (in member order) until the first with its MAC, which ends its checks.
 * MACs and addresses are sorted, so this is n log n; as the diagnostics
 * keep the first BH_DIAG_MAX lines, it stops when they are full.
 */
static void check_members(struct ld *l)
{
	struct bh_policy *p = l->p;
	struct bh_member **mem;
	struct mkey *macs, *ips;
	struct mmatch *mt;
	size_t *first, *ipbase, *start;
	size_t n = 0, nip = 0, k = 0, most = 0;

	for (size_t g = 0; g < p->n_groups; g++) {
		n += p->groups[g].n_members;
		for (size_t i = 0; i < p->groups[g].n_members; i++) {
			nip += p->groups[g].members[i].n_ips;
			if (p->groups[g].members[i].n_ips > most)
				most = p->groups[g].members[i].n_ips;
		}
	}
	mem = xcalloc(n, sizeof(*mem));
	macs = xcalloc(n, sizeof(*macs));
	first = xcalloc(n, sizeof(*first));
	ipbase = xcalloc(n + 1, sizeof(*ipbase));
	ips = xcalloc(nip, sizeof(*ips));
	start = xcalloc(nip, sizeof(*start));
	mt = xcalloc(BH_DIAG_MAX * (most + 1), sizeof(*mt));
	for (size_t g = 0; g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++)
			mem[k++] = &p->groups[g].members[i];
	for (size_t i = 0, j = 0; i < n; i++) {
		memcpy(macs[i].key, mem[i]->mac, 6);
		macs[i].member = i;
		ipbase[i] = j;
		for (size_t a = 0; a < mem[i]->n_ips; a++, j++) {
			memcpy(ips[j].key, mem[i]->ips[a].a, 16);
			ips[j].member = i;
			ips[j].ip = a;
		}
	}
	ipbase[n] = nip;
	qsort(macs, n, sizeof(*macs), cmp_mkey);
	qsort(ips, nip, sizeof(*ips), cmp_mkey);
	/* first[m]: the first member with m's MAC; start[]: where an address's run begins */
	for (size_t i = 0, f = 0; i < n; i++) {
		if (i && memcmp(macs[i].key, macs[i - 1].key, 6))
			f = i;
		first[macs[i].member] = macs[f].member;
	}
	for (size_t j = 0, f = 0; j < nip; j++) {
		if (j && memcmp(ips[j].key, ips[j - 1].key, 16))
			f = j;
		start[ipbase[ips[j].member] + ips[j].ip] = f;
	}
	for (size_t i = 0; i < n && l->d->n < BH_DIAG_MAX; i++) {
		struct bh_member *m = mem[i];
		size_t limit = first[i], room = BH_DIAG_MAX - l->d->n, nm = 0;

		/* the earliest matches of each address, in (member, a, b) order */
		for (size_t a = 0; a < m->n_ips; a++) {
			size_t j = start[ipbase[i] + a], taken = 0;

			for (; j < nip && taken < room && !memcmp(ips[j].key, m->ips[a].a, 16) &&
			       ips[j].member < limit; j++, taken++)
				mt[nm++] = (struct mmatch){ ips[j].member, a, ips[j].ip };
		}
		qsort(mt, nm, sizeof(*mt), cmp_mmatch);
		for (size_t x = 0; x < nm && x < room; x++) {
			char ip[64];

			bh_format_addr(&m->ips[mt[x].a], ip, sizeof(ip));
			bh_diag_add(l->d, l->file, m->pos,
				    "address %s is bound to two MACs (also at line %u)",
				    ip, mem[mt[x].o]->pos.line);
		}
		if (limit < i) {
			char mac[18];

			bh_format_mac(m->mac, mac);
			bh_diag_add(l->d, l->file, m->pos, "duplicate MAC %s (first at line %u)",
				    mac, mem[limit]->pos.line);
		}
	}
	check_member_names(l, mem, n);
	free(mem);
	free(macs);
	free(first);
	free(ipbase);
	free(ips);
	free(start);
	free(mt);
}

/*
 * The blocklist a policy names must be there to load (up, apply, check
 * say so at its file: key): a C&C list silently missing would be detection
 * silently off. Its lines are the daemon's and up's to read.
 */
static void check_blocklist(struct ld *l)
{
	const struct bh_detect_policy *dp = l->p->detect;

	if (!dp || !dp->blocklist || !access(dp->blocklist, R_OK))
		return;
	bh_diag_add(l->d, l->file, dp->blocklist_pos, "detect.blocklist.file: cannot read %s: %s",
		    dp->blocklist, strerror(errno));
}

int bh_policy_load_buf(const char *name, const char *buf, size_t len,
		       struct bh_policy **out, struct bh_diag *d)
{
	static const char *const top_keys[] = { "version", "interfaces", "defaults",
		"groups", "rules", "quarantine", "dhcp", "flows", "detect", NULL };
	static const char *const def_keys[] = { "east_west", "internet", "gateway",
		"unknown", "mode", NULL };
	static const char *const q_keys[] = { "allow", NULL };
	static const char *const dhcp_keys[] = { "leases", NULL };
	struct ld l = { .file = name, .d = d };
	struct defaults_arg da = {};
	struct top_arg ta = {};
	struct ynode *root;
	int ret;

	*out = NULL;
	if (memchr(buf, '\0', len)) {
		bh_diag_add(d, name, (struct bh_pos){ 0, 0 }, "the file holds a NUL byte: not a YAML policy");
		return -EINVAL;
	}
	ret = ydoc_load(&l, buf, len);
	if (ret) {
		ydoc_free(&l.doc);
		return ret;
	}

	l.p = xcalloc(1, sizeof(*l.p));
	l.p->path = xstrdup(name);
	l.p->east_west = BH_ACT_DENY;
	l.p->internet = BH_ACT_ALLOW;
	l.p->gateway = BH_ACT_DENY;
	l.p->qallow = BH_SVC_DHCP | BH_SVC_DNS;

	root = l.doc.has_root ? &l.doc.nodes[0] : NULL;
	if (!root) {
		bh_diag_add(d, name, (struct bh_pos){ 1, 1 }, "the policy is empty");
		goto fail;
	}
	if (!ydoc_want(&l, root, YAML_MAPPING_NODE, "the policy"))
		goto fail;
	ydoc_walk_map(&l, root, "the policy", top_keys, top_key, &ta);

	if (!ta.version) {
		ERR(&l, root, "version missing (this format is version: 1)");
	} else if (!ydoc_scalar(ta.version) || strcmp(ydoc_scalar(ta.version), "1")) {
		ERR(&l, ta.version, "unsupported version '%s' (this format is version: 1)",
		    ydoc_scalar(ta.version) ?: "?");
	}
	if (!ta.interfaces)
		ERR(&l, root, "interfaces missing: name the bridge or ports devices are on");
	else
		do_interfaces(&l, ta.interfaces);
	if (ta.groups)
		collect_groups(&l, ta.groups);
	else
		l.p->groups = xcalloc(1, sizeof(*l.p->groups));
	if (ta.defaults && ydoc_want(&l, ta.defaults, YAML_MAPPING_NODE, "defaults"))
		ydoc_walk_map(&l, ta.defaults, "defaults", def_keys, defaults_key, &da);

	/* the unknown group: named, or an implicit empty "unknown" */
	if (da.unknown) {
		int g = bh_policy_group(l.p, ydoc_scalar(da.unknown));

		if (g < 0)
			ERR(&l, da.unknown, "defaults.unknown: unknown group '%s'", ydoc_scalar(da.unknown));
		else
			l.p->unknown_group = (__u16)g;
	} else {
		int g = bh_policy_group(l.p, "unknown");

		if (g < 0 && l.p->n_groups < BH_MAX_GROUPS) {
			struct bh_group_def *gd = &l.p->groups[l.p->n_groups];

			gd->name = xstrdup("unknown");
			gd->id = (__u16)l.p->n_groups;
			gd->internet = -1;
			g = (int)l.p->n_groups++;
		}
		l.p->unknown_group = (__u16)(g < 0 ? 0 : g);
	}
	do_groups(&l, ta.groups);
	if (ta.rules)
		do_rules(&l, ta.rules);
	if (ta.quarantine && ydoc_want(&l, ta.quarantine, YAML_MAPPING_NODE, "quarantine"))
		ydoc_walk_map(&l, ta.quarantine, "quarantine", q_keys, quarantine_key, NULL);
	if (ta.dhcp && ydoc_want(&l, ta.dhcp, YAML_MAPPING_NODE, "dhcp"))
		ydoc_walk_map(&l, ta.dhcp, "dhcp", dhcp_keys, dhcp_key, NULL);
	if (ta.flows && ydoc_want(&l, ta.flows, YAML_MAPPING_NODE, "flows"))
		ydoc_walk_map(&l, ta.flows, "flows", policy_flows_keys, policy_flows_key, NULL);
	if (ta.detect) {
		do_detect(&l, ta.detect);
		check_blocklist(&l);
	}
	check_members(&l);

	free(l.byname);
	l.byname = NULL;
	if (d->n)
		goto fail;
	ydoc_free(&l.doc);
	*out = l.p;
	return 0;
fail:
	free(l.byname);
	bh_diag_sort(d);
	ydoc_free(&l.doc);
	bh_policy_free(l.p);
	return -EINVAL;
}

int bh_policy_load(const char *path, struct bh_policy **out, struct bh_diag *d)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int ret;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f) {
		ret = -errno;
		bh_diag_add(d, path, (struct bh_pos){ 0, 0 }, "%s", strerror(-ret));
		return ret;
	}
	for (;;) {
		size_t r;

		if (len > BH_POLICY_MAX_BYTES) {
			fclose(f);
			free(buf);
			bh_diag_add(d, path, (struct bh_pos){ 0, 0 },
				    "larger than 16 MiB: not a policy");
			return -EFBIG;
		}
		if (cap - len < 4096) {
			char *tmp;

			cap = cap ? cap * 2 : 16384;
			tmp = realloc(buf, cap);
			if (!tmp) {
				fclose(f);
				free(buf);
				return -ENOMEM;
			}
			buf = tmp;
		}
		r = fread(buf + len, 1, cap - len, f);
		len += r;
		if (!r)
			break;
	}
	if (ferror(f)) {
		ret = -EIO;
		fclose(f);
		free(buf);
		bh_diag_add(d, path, (struct bh_pos){ 0, 0 }, "read error");
		return ret;
	}
	fclose(f);
	ret = bh_policy_load_buf(path, buf, len, out, d);
	free(buf);
	return ret;
}

void bh_policy_free(struct bh_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_ifaces; i++)
		free(p->ifaces[i]);
	free(p->ifaces);
	for (size_t g = 0; g < p->n_groups; g++) {
		for (size_t i = 0; i < p->groups[g].n_members; i++) {
			free(p->groups[g].members[i].name);
			free(p->groups[g].members[i].port);
			free(p->groups[g].members[i].ips);
		}
		free(p->groups[g].members);
		free(p->groups[g].name);
	}
	free(p->groups);
	for (size_t r = 0; r < p->n_rules; r++) {
		free(p->rules[r].from);
		free(p->rules[r].to);
		free(p->rules[r].ports);
		free(p->rules[r].comment);
	}
	free(p->rules);
	free(p->dhcp_leases);
	bh_detect_policy_free(p->detect);
	free(p->detect);
	free(p->path);
	free(p);
}
