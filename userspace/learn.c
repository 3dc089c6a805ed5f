// SPDX-License-Identifier: GPL-2.0
/*
 * learn.c - a draft policy from recorded flows (`bulkhead learn`): the
 * running policy kept, a group for each unlisted device, an allow rule for
 * what was observed and is not allowed yet. The draft is written as YAML,
 * loaded back with bh_policy_load_buf() and judged flow by flow with the
 * reference evaluator before the caller sees it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>

#include "detect.h"
#include "learn.h"

/* ---- judging a record with the reference evaluator --------------------------- */

static bool mac_listed(const struct bh_policy *p, const __u8 mac[6], int *g,
		       const struct bh_member **m)
{
	for (size_t i = 0; i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++)
			if (!memcmp(p->groups[i].members[j].mac, mac, 6)) {
				if (g)
					*g = (int)i;
				if (m)
					*m = &p->groups[i].members[j];
				return true;
			}
	return false;
}

static bool addr_bound(const struct bh_policy *p, const __u8 a[16])
{
	for (size_t i = 0; i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++)
			for (size_t x = 0; x < p->groups[i].members[j].n_ips; x++)
				if (!memcmp(p->groups[i].members[j].ips[x].a, a, 16))
					return true;
	return false;
}

/* a locally administered MAC no member has, from @seed */
static void free_mac(const struct bh_policy *p, const char *seed, __u8 mac[6])
{
	memcpy(mac, seed, 6);
	while (mac_listed(p, mac, NULL, NULL))
		mac[5]++;
}

/* the source address: the device's bound one of the family, else one nobody has */
static void src_addr(const struct bh_policy *p, const struct bh_flow_key *k, __u8 a[16])
{
	bool v4 = k->flags & BH_FLOW_F_V4;
	const struct bh_member *m;

	if (mac_listed(p, k->smac, NULL, &m))
		for (size_t i = 0; i < m->n_ips; i++)
			if (m->ips[i].v4 == v4 && !(m->ips[i].a[0] == 0xfe && (m->ips[i].a[1] & 0xc0) == 0x80)) {
				memcpy(a, m->ips[i].a, 16);
				return;
			}
	/* 198.18.0.0/15 (benchmarking) or 2001:2::/48: never a LAN's */
	memcpy(a, v4 ? "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc6\x12\0\x01" :
		       "\x20\x01\0\x02\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	while (addr_bound(p, a) || !memcmp(a, k->daddr, 16))
		a[15]++;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

/* an IP frame like the one that opened @k's flow, into @f (128 bytes); its length */
static size_t build_frame(const struct bh_flow_key *k, const __u8 smac[6], const __u8 dmac[6],
			  const __u8 saddr[16], __u8 *f)
{
	bool v4 = k->flags & BH_FLOW_F_V4;
	size_t ip = 14, l4 = v4 ? 34 : 54, l4len = 0;

	memset(f, 0, 128);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, v4 ? 0x0800 : 0x86dd);
	switch (k->proto) {
	case IPPROTO_TCP:
		l4len = 20;
		put16(f + l4, 40000);
		put16(f + l4 + 2, k->port);
		f[l4 + 12] = 5 << 4;
		f[l4 + 13] = 0x02;	/* SYN */
		break;
	case IPPROTO_UDP:
		l4len = 8;
		put16(f + l4, 40000);
		put16(f + l4 + 2, k->port);
		put16(f + l4 + 4, 8);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4len = 8;
		f[l4] = (__u8)k->port;
		put16(f + l4 + 4, 1);	/* echo identifier */
		break;
	}
	if (v4) {
		f[ip] = 0x45;
		put16(f + ip + 2, (__u16)(20 + l4len));
		f[ip + 8] = 64;
		f[ip + 9] = k->proto;
		memcpy(f + ip + 12, saddr + 12, 4);
		memcpy(f + ip + 16, k->daddr + 12, 4);
	} else {
		f[ip] = 0x60;
		put16(f + ip + 4, (__u16)l4len);
		f[ip + 6] = k->proto;
		f[ip + 7] = 64;
		memcpy(f + ip + 8, saddr, 16);
		memcpy(f + ip + 24, k->daddr, 16);
	}
	return l4 + l4len;
}

int bh_learn_judge(const struct bh_policy *p, const struct bh_flow_rec *r,
		   struct bh_eval_result *res)
{
	const struct bh_flow_key *k = &r->key;
	__u8 gw[6], dmac[6], saddr[16], frame[128];
	struct bh_gw_addr gwa = { .addr.v4 = k->flags & BH_FLOW_F_V4 };
	struct bh_env env = { .gw_macs = (const __u8 (*)[6])gw, .n_gw_macs = 1 };
	size_t len;

	if (k->flags & BH_FLOW_F_ARP)
		return -EOPNOTSUPP;
	free_mac(p, "\x02\x42\x48\x00\x00\x01", gw);
	switch (k->kind) {
	case BH_FK_DEVICE:
		memcpy(dmac, k->dmac, 6);
		break;
	case BH_FK_GATEWAY:
		memcpy(gwa.addr.a, k->daddr, 16);
		gwa.plen = gwa.addr.v4 ? 32 : 128;
		env.gw_addrs = &gwa;
		env.n_gw_addrs = 1;
		memcpy(dmac, gw, 6);
		break;
	case BH_FK_INTERNET:
		memcpy(dmac, gw, 6);
		break;
	case BH_FK_MULTICAST:
		if (k->flags & BH_FLOW_F_V4)
			memcpy(dmac, (const __u8[]){ 0x01, 0x00, 0x5e, k->daddr[13] & 0x7f,
						     k->daddr[14], k->daddr[15] }, 6);
		else
			memcpy(dmac, (const __u8[]){ 0x33, 0x33, k->daddr[12], k->daddr[13],
						     k->daddr[14], k->daddr[15] }, 6);
		break;
	case BH_FK_BROADCAST:
		memset(dmac, 0xff, 6);
		break;
	default:	/* LAN: an address no device is bound to, the unknown group */
		free_mac(p, "\x06\x42\x48\x00\x00\x01", dmac);
	}
	src_addr(p, k, saddr);
	len = build_frame(k, k->smac, dmac, saddr, frame);
	bh_eval_frame(p, &env, NULL, frame, len, res);
	return 0;
}

/* ---- the draft's groups -------------------------------------------------------- */

struct lgroup {
	char name[33];
	bool is_new;
	size_t old;		/* !is_new: index in the running policy */
	__u8 mac[6];		/* is_new: its one member */
	char host[BH_LEASE_HOST_MAX + 1];	/* is_new: the DHCP host name, "" none */
	char mname[BH_LEASE_HOST_MAX + 1];	/* is_new: its member's name:, "" none */
};

struct model {
	const struct bh_policy *p;	/* the running policy, or the minimal one */
	struct lgroup *g;
	size_t n_g;
};

static bool reserved(const char *s)
{
	return !strcmp(s, "any") || !strcmp(s, "gateway") || !strcmp(s, "internet") ||
	       !strcmp(s, "multicast");
}

static bool name_taken(const struct model *m, const char *s)
{
	for (size_t i = 0; i < m->n_g; i++)
		if (!strcmp(m->g[i].name, s))
			return true;
	return reserved(s);
}

/* a group name from a host name: lower case, a-z 0-9 _ -, no '-' at the ends */
static void sanitize(const char *host, char *out, size_t len)
{
	size_t o = 0;

	for (; *host && o + 1 < len; host++) {
		char c = *host;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			c = '-';
		if (c == '-' && (!o || out[o - 1] == '-'))
			continue;
		out[o++] = c;
	}
	while (o && out[o - 1] == '-')
		o--;
	out[o] = '\0';
}

/* member names are unique in a policy */
static bool member_name_taken(const struct model *m, const char *s)
{
	const struct bh_policy *p = m->p;

	for (size_t i = 0; i < p->n_groups; i++)
		for (size_t j = 0; j < p->groups[i].n_members; j++)
			if (p->groups[i].members[j].name && !strcmp(p->groups[i].members[j].name, s))
				return true;
	for (size_t i = p->n_groups; i < m->n_g; i++)
		if (!strcmp(m->g[i].mname, s))
			return true;
	return false;
}

static int add_new(struct model *m, const __u8 mac[6], const struct bh_leases *l)
{
	const char *host = l ? bh_leases_host(l, mac) : NULL;
	struct lgroup *g, *tmp;
	char base[29];

	for (size_t i = 0; i < m->n_g; i++)
		if (m->g[i].is_new && !memcmp(m->g[i].mac, mac, 6))
			return 0;
	tmp = realloc(m->g, (m->n_g + 1) * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	m->g = tmp;
	g = &m->g[m->n_g];
	memset(g, 0, sizeof(*g));
	g->is_new = true;
	memcpy(g->mac, mac, 6);
	if (host)
		snprintf(g->host, sizeof(g->host), "%s", host);
	sanitize(g->host, base, sizeof(base));
	if (!base[0] || reserved(base))
		snprintf(base, sizeof(base), "dev-%02x%02x%02x%02x%02x%02x",
			 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	snprintf(g->name, sizeof(g->name), "%s", base);
	for (int n = 2; name_taken(m, g->name); n++)
		snprintf(g->name, sizeof(g->name), "%s-%d", base, n);
	/* the host name as the member's name, else the group's, else none */
	if (g->host[0] && !member_name_taken(m, g->host))
		snprintf(g->mname, sizeof(g->mname), "%s", g->host);
	else if (g->host[0] && !member_name_taken(m, g->name))
		snprintf(g->mname, sizeof(g->mname), "%s", g->name);
	m->n_g++;
	return 0;
}

static int cmp_mac(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

/* the running policy's groups, then one for each unlisted MAC, by MAC */
static int model_build(struct model *m, const struct bh_flow_set *s, const struct bh_leases *l)
{
	const struct bh_policy *p = m->p;
	__u8 (*macs)[6] = calloc(2 * s->n + 1, 6);
	size_t n = 0;
	int ret = 0;

	m->g = calloc(p->n_groups + 1, sizeof(*m->g));
	if (!m->g || !macs) {
		free(macs);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_groups; i++) {
		snprintf(m->g[i].name, sizeof(m->g[i].name), "%s", p->groups[i].name);
		m->g[i].old = i;
	}
	m->n_g = p->n_groups;
	for (size_t i = 0; i < s->n; i++) {
		const struct bh_flow_key *k = &s->v[i].key;

		if (!mac_listed(p, k->smac, NULL, NULL))
			memcpy(macs[n++], k->smac, 6);
		if (k->kind == BH_FK_DEVICE && !mac_listed(p, k->dmac, NULL, NULL))
			memcpy(macs[n++], k->dmac, 6);
	}
	qsort(macs, n, 6, cmp_mac);
	for (size_t i = 0; i < n && !ret; i++)
		ret = add_new(m, macs[i], l);
	free(macs);
	return ret;
}

/* the draft group of @mac */
static size_t group_of(const struct model *m, const __u8 mac[6])
{
	int g;

	for (size_t i = m->p->n_groups; i < m->n_g; i++)
		if (!memcmp(m->g[i].mac, mac, 6))
			return i;
	if (mac_listed(m->p, mac, &g, NULL))
		return (size_t)g;
	return m->p->unknown_group;
}

/* ---- learned rules ------------------------------------------------------------ */

struct item {			/* one learned record */
	size_t from;
	int tkind;		/* BH_T_GROUP, _GATEWAY, _MULTICAST, _CIDR */
	size_t tgroup;
	struct bh_cidr cidr;
	__u8 proto;
	__u16 port;
	const struct bh_flow_rec *r;
};

struct lrule {
	size_t from;
	int tkind;		/* BH_T_GROUP, _GATEWAY, _MULTICAST, _CIDR, _INTERNET */
	size_t tgroup;
	struct bh_cidr *cidrs;
	size_t n_cidrs;
	__u8 proto;
	struct bh_port_range pr[BH_LEARN_MAX_RANGES];
	size_t n_pr;
	size_t flows, would;
	__u64 packets, last;
	bool merged;		/* folded into another rule */
};

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->tkind != y->tkind)
		return x->tkind < y->tkind ? -1 : 1;
	if (x->tgroup != y->tgroup)
		return x->tgroup < y->tgroup ? -1 : 1;
	if (memcmp(&x->cidr, &y->cidr, sizeof(x->cidr)))
		return memcmp(&x->cidr, &y->cidr, sizeof(x->cidr));
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return (x->port > y->port) - (x->port < y->port);
}

static bool same_rule(const struct item *x, const struct item *y)
{
	return x->from == y->from && x->tkind == y->tkind && x->tgroup == y->tgroup &&
	       !memcmp(&x->cidr, &y->cidr, sizeof(x->cidr)) && x->proto == y->proto;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const __u16 *)a - (int)*(const __u16 *)b;
}

/*
 * @r's ranges from @n sorted ports: consecutive ports make a range; more
 * than BH_LEARN_MAX_RANGES ranges close every gap up to the smallest
 * width that leaves at most that many (ports in clusters stay clusters).
 */
static int ports_merge(struct lrule *r, const __u16 *port, size_t n)
{
	struct bh_port_range *v = malloc((n + 1) * sizeof(*v));
	__u16 *gap = malloc((n + 1) * sizeof(*gap));
	size_t nv = 0, o = 0;
	__u16 thr = 0;

	if (!v || !gap) {
		free(v);
		free(gap);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (nv && (__u32)v[nv - 1].hi + 1 >= port[i]) {
			if (port[i] > v[nv - 1].hi)
				v[nv - 1].hi = port[i];
			continue;
		}
		v[nv++] = (struct bh_port_range){ port[i], port[i] };
	}
	if (nv > BH_LEARN_MAX_RANGES) {
		for (size_t i = 0; i + 1 < nv; i++)
			gap[i] = (__u16)(v[i + 1].lo - v[i].hi);
		qsort(gap, nv - 1, sizeof(*gap), cmp_u16);
		thr = gap[nv - BH_LEARN_MAX_RANGES - 1];
	}
	for (size_t i = 0; i < nv; i++) {
		if (o && thr && v[i].lo - r->pr[o - 1].hi <= thr) {
			r->pr[o - 1].hi = v[i].hi;
			continue;
		}
		r->pr[o++] = v[i];
	}
	r->n_pr = o;
	free(v);
	free(gap);
	return 0;
}

static bool same_ports(const struct lrule *a, const struct lrule *b)
{
	return a->n_pr == b->n_pr && !memcmp(a->pr, b->pr, a->n_pr * sizeof(a->pr[0]));
}

static void rule_count(struct lrule *r, const struct bh_flow_rec *rec)
{
	r->flows++;
	r->would += rec->key.verdict == BH_FV_WOULD_DROP;
	r->packets += rec->packets;
	if (rec->last > r->last)
		r->last = rec->last;
}

/* items (sorted) -> rules; then internet classes of one (from, proto, ports) in one rule */
static int rules_build(struct item *it, size_t n, struct lrule **out, size_t *n_out)
{
	struct lrule *v = calloc(n + 1, sizeof(*v));
	__u16 *ports = malloc((n + 1) * sizeof(*ports));
	size_t nr = 0;

	if (!v || !ports) {
		free(v);
		free(ports);
		return -ENOMEM;
	}
	qsort(it, n, sizeof(*it), cmp_item);
	for (size_t i = 0, np = 0; i < n; i++) {
		struct lrule *r;

		if (!i || !same_rule(&it[i - 1], &it[i])) {
			r = &v[nr++];
			r->from = it[i].from;
			r->tkind = it[i].tkind;
			r->tgroup = it[i].tgroup;
			r->proto = it[i].proto;
			np = 0;
			if (r->tkind == BH_T_CIDR) {
				r->cidrs = malloc(sizeof(*r->cidrs));
				if (!r->cidrs)
					goto nomem;
				r->cidrs[0] = it[i].cidr;
				r->n_cidrs = 1;
			}
		}
		r = &v[nr - 1];
		if ((r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP) &&
		    (!np || ports[np - 1] != it[i].port))
			ports[np++] = it[i].port;
		rule_count(r, it[i].r);
		if ((i + 1 == n || !same_rule(&it[i], &it[i + 1])) && np &&
		    ports_merge(r, ports, np))
			goto nomem;
	}
	for (size_t i = 0; i < nr; i++) {
		if (v[i].tkind != BH_T_CIDR || v[i].merged)
			continue;
		for (size_t j = i + 1; j < nr; j++) {
			struct bh_cidr *tmp;

			if (v[j].tkind != BH_T_CIDR || v[j].merged || v[j].from != v[i].from ||
			    v[j].proto != v[i].proto || !same_ports(&v[i], &v[j]))
				continue;
			tmp = realloc(v[i].cidrs, (v[i].n_cidrs + 1) * sizeof(*tmp));
			if (!tmp)
				goto nomem;
			v[i].cidrs = tmp;
			v[i].cidrs[v[i].n_cidrs++] = v[j].cidrs[0];
			v[i].flows += v[j].flows;
			v[i].would += v[j].would;
			v[i].packets += v[j].packets;
			if (v[j].last > v[i].last)
				v[i].last = v[j].last;
			v[j].merged = true;
		}
		if (v[i].n_cidrs > BH_LEARN_MAX_CIDRS)
			v[i].tkind = BH_T_INTERNET;
	}
	free(ports);
	*out = v;
	*n_out = nr;
	return 0;
nomem:
	for (size_t i = 0; i < nr; i++)
		free(v[i].cidrs);
	free(v);
	free(ports);
	return -ENOMEM;
}

/* ---- YAML ----------------------------------------------------------------------- */

/* @s plain when it is a safe plain scalar, else double-quoted */
static void yq(FILE *f, const char *s)
{
	bool plain = *s && ((*s >= 'a' && *s <= 'z') || *s == '_');

	for (const char *c = s; plain && *c; c++)
		plain = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-';
	if (plain && strcmp(s, "true") && strcmp(s, "false") && strcmp(s, "null") &&
	    strcmp(s, "yes") && strcmp(s, "no") && strcmp(s, "on") && strcmp(s, "off")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static const char *act(int a)
{
	return a == BH_ACT_ALLOW ? "allow" : "deny";
}

static const char *proto_text(__u8 p)
{
	return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : p == IPPROTO_ICMP ? "icmp" :
	       p == IPPROTO_ICMPV6 ? "icmpv6" : "any";
}

static void cidr_text(FILE *f, const struct bh_cidr *c)
{
	char a[64];

	bh_format_addr(&c->addr, a, sizeof(a));
	fprintf(f, "%s/%u", a, c->plen);
}

static void ports_text(FILE *f, const struct bh_port_range *pr, size_t n)
{
	fputs(", ports: [", f);
	for (size_t i = 0; i < n; i++) {
		if (pr[i].lo == pr[i].hi)
			fprintf(f, "%s%u", i ? ", " : "", pr[i].lo);
		else
			fprintf(f, "%s\"%u-%u\"", i ? ", " : "", pr[i].lo, pr[i].hi);
	}
	fputc(']', f);
}

/* a list of group names: the unknown group's entry followed by the new groups */
static void group_ref(FILE *f, const struct model *m, size_t g, bool *first)
{
	fputs(*first ? "" : ", ", f);
	*first = false;
	yq(f, m->g[g].name);
	if (g != m->p->unknown_group)
		return;
	for (size_t i = m->p->n_groups; i < m->n_g; i++) {
		fputs(", ", f);
		yq(f, m->g[i].name);
	}
}

static void targets(FILE *f, const struct model *m, const struct bh_target *t, size_t n)
{
	bool first = true;

	fputc('[', f);
	for (size_t i = 0; i < n; i++) {
		if (t[i].kind == BH_T_GROUP) {
			group_ref(f, m, t[i].group, &first);
			continue;
		}
		fputs(first ? "" : ", ", f);
		first = false;
		if (t[i].kind == BH_T_CIDR)
			cidr_text(f, &t[i].cidr);
		else
			fputs(t[i].kind == BH_T_ANY ? "any" : t[i].kind == BH_T_GATEWAY ? "gateway" :
			      t[i].kind == BH_T_INTERNET ? "internet" : "multicast", f);
	}
	fputc(']', f);
}

static void write_rule_old(FILE *f, const struct model *m, const struct bh_rule_def *r)
{
	fputs("  - {from: ", f);
	targets(f, m, r->from, r->n_from);
	fputs(", to: ", f);
	targets(f, m, r->to, r->n_to);
	fprintf(f, ", proto: %s", proto_text(r->proto));
	if (r->n_ports)
		ports_text(f, r->ports, r->n_ports);
	if (r->action == BH_ACT_DENY)
		fputs(", action: deny", f);
	if (r->comment) {
		fputs(", name: ", f);
		yq(f, r->comment);
	}
	fputs("}\n", f);
}

static void write_rule_new(FILE *f, const struct model *m, const struct lrule *r)
{
	char when[32];
	time_t t = (time_t)r->last;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	fprintf(f, "  # learned: %zu flow%s (%zu would_drop), %llu packets, last seen %s\n",
		r->flows, r->flows == 1 ? "" : "s", r->would, (unsigned long long)r->packets, when);
	fputs("  - {from: ", f);
	yq(f, m->g[r->from].name);
	fputs(", to: ", f);
	switch (r->tkind) {
	case BH_T_GROUP:
		yq(f, m->g[r->tgroup].name);
		break;
	case BH_T_CIDR:
		fputc('[', f);
		for (size_t i = 0; i < r->n_cidrs; i++) {
			fputs(i ? ", " : "", f);
			cidr_text(f, &r->cidrs[i]);
		}
		fputc(']', f);
		break;
	default:
		fputs(r->tkind == BH_T_GATEWAY ? "gateway" : r->tkind == BH_T_MULTICAST ?
		      "multicast" : "internet", f);
	}
	fprintf(f, ", proto: %s", proto_text(r->proto));
	if (r->n_pr)
		ports_text(f, r->pr, r->n_pr);
	fputs("}\n", f);
}

static void write_member(FILE *f, const struct bh_member *mb)
{
	char mac[18], a[64];

	bh_format_mac(mb->mac, mac);
	fprintf(f, "      - {mac: \"%s\"", mac);
	if (mb->name) {
		fputs(", name: ", f);
		yq(f, mb->name);
	}
	if (mb->n_ips) {
		fputs(", ip: [", f);
		for (size_t i = 0; i < mb->n_ips; i++) {
			bh_format_addr(&mb->ips[i], a, sizeof(a));
			fprintf(f, "%s\"%s\"", i ? ", " : "", a);
		}
		fputc(']', f);
	}
	fputs("}\n", f);
}

static void write_groups(FILE *f, const struct model *m)
{
	const struct bh_policy *p = m->p;
	int unk_inet = p->groups[p->unknown_group].internet;
	char mac[18];

	fputs("groups:\n", f);
	for (size_t i = 0; i < m->n_g; i++) {
		const struct lgroup *g = &m->g[i];
		int inet = g->is_new ? unk_inet : p->groups[g->old].internet;
		size_t nm = g->is_new ? 1 : p->groups[g->old].n_members;

		fputs("  ", f);
		yq(f, g->name);
		if (g->is_new) {
			bh_format_mac(g->mac, mac);
			fprintf(f, ":  # learned: %s%s%s, was in the unknown group\n", mac,
				g->host[0] ? ", DHCP host name " : "", g->host);
		} else {
			fputs(inet < 0 && !nm ? ": {}\n" : ":\n", f);
		}
		if (inet >= 0)
			fprintf(f, "    internet: %s\n", act(inet));
		if (!nm)
			continue;
		fputs("    members:\n", f);
		if (g->is_new) {
			fprintf(f, "      - {mac: \"%s\"", mac);
			if (g->mname[0]) {
				fputs(", name: ", f);
				yq(f, g->mname);
			}
			fputs("}\n", f);
			continue;
		}
		for (size_t j = 0; j < nm; j++)
			write_member(f, &p->groups[g->old].members[j]);
	}
}

/* a level's count, or off */
static void write_level(FILE *f, const char *key, __u32 n)
{
	if (n)
		fprintf(f, "%s: %u", key, n);
	else
		fprintf(f, "%s: off", key);
}

/*
 * The running policy's detect: section, as parsed (defaults filled in):
 * a draft applied must not turn detection off.
 */
static void write_detect(FILE *f, const struct bh_policy *p)
{
	const struct bh_detect_policy *dp = p->detect;
	char mac[18];
	size_t n = 0;

	if (!dp || !dp->on)
		return;
	fputs("detect:\n", f);
	for (unsigned int k = 0; k < BH_DET_KINDS; k++) {
		const struct bh_det_sigpol *sp = &dp->sig[k];

		fprintf(f, "  %s: {", bh_det_kind_key(k));
		write_level(f, "watch", sp->watch);
		write_level(f, ", act", sp->act);
		fprintf(f, ", window: %llus, action: %s", (unsigned long long)sp->window,
			sp->action == BH_DACT_ISOLATE ? "isolate" : "alert");
		if (sp->action == BH_DACT_ISOLATE && sp->duration)
			fprintf(f, ", duration: %llus", (unsigned long long)sp->duration);
		if (sp->qlevel == BH_QLVL_LAN)
			fputs(", quarantine: lan", f);
		if (k == BH_DET_TELNET) {
			fputs(", ports: [", f);
			for (size_t i = 0; i < BH_DET_PORTS && dp->telnet_ports[i]; i++)
				fprintf(f, "%s%u", i ? ", " : "", dp->telnet_ports[i]);
			fputc(']', f);
		}
		if (k == BH_DET_BLOCK && dp->blocklist) {
			fputs(", file: ", f);
			yq(f, dp->blocklist);
		}
		fputs("}\n", f);
	}
	if (!dp->n_exempt_groups && !dp->n_exempt_macs)
		return;
	fputs("  exempt: [", f);
	for (size_t i = 0; i < dp->n_exempt_groups; i++, n++) {
		fputs(n ? ", " : "", f);
		yq(f, p->groups[dp->exempt_groups[i]].name);
	}
	for (size_t i = 0; i < dp->n_exempt_macs; i++, n++) {
		bh_format_mac(dp->exempt_macs[i], mac);
		fprintf(f, "%s\"%s\"", n ? ", " : "", mac);
	}
	fputs("]\n", f);
}

static void write_policy(FILE *f, const struct model *m, const struct lrule *lr, size_t n_lr,
			 const struct bh_flow_set *s)
{
	static const struct { __u16 bit; const char *name; } svc[] = {
		{ BH_SVC_DHCP, "dhcp" }, { BH_SVC_DNS, "dns" }, { BH_SVC_NTP, "ntp" },
		{ BH_SVC_ICMP, "icmp" },
	};
	const struct bh_policy *p = m->p;
	bool first = true;

	fprintf(f, "# A draft written by `bulkhead learn` from %zu flow records: review it,\n"
		"# then `bulkhead check`, `bulkhead diff` and `bulkhead apply` it.\n", s->n);
	if (p->audit)
		fputs("# The running policy stages every group (defaults.mode audit); this\n"
		      "# draft enforces: set defaults.mode to audit to keep staging.\n", f);
	for (size_t i = 0; i < p->n_groups; i++)
		if (p->groups[i].audit) {
			fputs("# Groups staged in the running policy (audit: true) enforce in\n"
			      "# this draft; add 'audit: true' back to keep staging them.\n", f);
			break;
		}
	fputs("version: 1\ninterfaces: [", f);
	for (size_t i = 0; i < p->n_ifaces; i++) {
		fputs(i ? ", " : "", f);
		yq(f, p->ifaces[i]);
	}
	fprintf(f, "]\ndefaults:\n  east_west: %s\n  internet: %s\n  gateway: %s\n  unknown: ",
		act(p->east_west), act(p->internet), act(p->gateway));
	yq(f, p->groups[p->unknown_group].name);
	fputc('\n', f);
	write_groups(f, m);
	fputs(p->n_rules || n_lr ? "rules:\n" : "rules: []\n", f);
	for (size_t i = 0; i < p->n_rules; i++)
		write_rule_old(f, m, &p->rules[i]);
	for (size_t i = 0; i < n_lr; i++)
		if (!lr[i].merged)
			write_rule_new(f, m, &lr[i]);
	fputs("quarantine:\n  allow: [", f);
	for (size_t i = 0; i < sizeof(svc) / sizeof(svc[0]); i++)
		if (p->qallow & svc[i].bit) {
			fprintf(f, "%s%s", first ? "" : ", ", svc[i].name);
			first = false;
		}
	fputs("]\n", f);
	if (p->dhcp_leases) {
		fputs("dhcp:\n  leases: ", f);
		yq(f, p->dhcp_leases);
		fputc('\n', f);
	}
	if (p->flows.max || p->flows.keep_days || p->flows.bytes) {
		fputs("flows:\n", f);
		if (p->flows.max)
			fprintf(f, "  max: %u\n", p->flows.max);
		if (p->flows.keep_days)
			fprintf(f, "  keep: %ud\n", p->flows.keep_days);
		if (p->flows.bytes)
			fprintf(f, "  bytes: %llu\n", (unsigned long long)p->flows.bytes);
	}
	write_detect(f, p);
}

/* write the draft and load it back */
static int draft_load(const struct model *m, const struct lrule *lr, size_t n_lr,
		      const struct bh_flow_set *s, char **text, struct bh_policy **out,
		      struct bh_diag *d)
{
	size_t len = 0;
	FILE *f;

	*text = NULL;
	f = open_memstream(text, &len);
	if (!f)
		return -ENOMEM;
	write_policy(f, m, lr, n_lr, s);
	if (fclose(f)) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return bh_policy_load_buf("draft", *text, len, out, d);
}

/* ---- the draft ------------------------------------------------------------------ */

/* an item for @r, or 1 when no rule can name it */
static int item_of(const struct model *m, const struct bh_flow_rec *r, struct item *it)
{
	const struct bh_flow_key *k = &r->key;

	memset(it, 0, sizeof(*it));
	if ((k->flags & BH_FLOW_F_ARP) ||
	    (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP && k->proto != IPPROTO_ICMP &&
	     k->proto != IPPROTO_ICMPV6) ||
	    ((k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP) && !k->port))
		return 1;
	it->r = r;
	it->from = group_of(m, k->smac);
	it->proto = k->proto;
	it->port = k->port;
	switch (k->kind) {
	case BH_FK_DEVICE:
		it->tkind = BH_T_GROUP;
		it->tgroup = group_of(m, k->dmac);
		break;
	case BH_FK_LAN:
		it->tkind = BH_T_GROUP;
		it->tgroup = m->p->unknown_group;
		break;
	case BH_FK_GATEWAY:
		it->tkind = BH_T_GATEWAY;
		break;
	case BH_FK_MULTICAST:
	case BH_FK_BROADCAST:
		it->tkind = BH_T_MULTICAST;
		break;
	case BH_FK_INTERNET:
		it->tkind = BH_T_CIDR;
		memcpy(it->cidr.addr.a, k->daddr, 16);
		it->cidr.addr.v4 = k->flags & BH_FLOW_F_V4;
		it->cidr.plen = k->plen;
		break;
	default:
		return 1;
	}
	return 0;
}

static bool passes(const struct bh_policy *p, const struct bh_flow_rec *r)
{
	struct bh_eval_result res;

	return !bh_learn_judge(p, r, &res) && res.pass;
}

/*
 * @p drops @r when enforced: audit's pass_audit is a drop staged; a record
 * the evaluator cannot judge (ARP) is as the dataplane recorded it
 */
static bool drops_enforced(const struct bh_policy *p, const struct bh_flow_rec *r)
{
	struct bh_eval_result res;

	return bh_learn_judge(p, r, &res) || !res.pass || res.reason == BH_R_PASS_AUDIT;
}

int bh_learn_draft(const struct bh_flow_set *s, const struct bh_policy *running,
		   const struct bh_leases *leases, const struct bh_learn_opts *o,
		   FILE *out, struct bh_learn_stats *st, struct bh_diag *d)
{
	struct bh_policy *minimal = NULL, *base = NULL, *draft = NULL;
	struct bh_learn_stats dummy;
	struct model m = { 0 };
	struct lrule *lr = NULL;
	struct item *it = NULL;
	size_t n_it = 0, n_lr = 0;
	char *text = NULL, *min_text = NULL;
	int ret;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	st->records = s->n;
	if (!running) {
		if (asprintf(&min_text, "version: 1\ninterfaces: [%s]\n",
			     o && o->iface ? o->iface : "br-lan") < 0)
			return -ENOMEM;
		ret = bh_policy_load_buf("minimal", min_text, strlen(min_text), &minimal, d);
		free(min_text);
		if (ret)
			return ret;
		running = minimal;
	}
	m.p = running;
	ret = model_build(&m, s, leases);
	if (ret)
		goto out;
	st->new_groups = m.n_g - running->n_groups;
	/* the running policy with the new groups: what needs no rule */
	ret = draft_load(&m, NULL, 0, s, &text, &base, d);
	if (ret)
		goto out;
	it = calloc(s->n + 1, sizeof(*it));
	if (!it) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct bh_flow_rec *r = &s->v[i];

		if (r->key.verdict == BH_FV_DROP) {
			st->denied++;
			continue;
		}
		if (item_of(&m, r, &it[n_it])) {
			st->skipped++;
			continue;
		}
		if (!(o && (o->flags & BH_LEARN_EXPLICIT)) && passes(base, r)) {
			st->covered++;
			continue;
		}
		n_it++;
	}
	st->learned = n_it;
	ret = rules_build(it, n_it, &lr, &n_lr);
	if (ret)
		goto out;
	for (size_t i = 0; i < n_lr; i++)
		st->rules += !lr[i].merged;
	free(text);
	ret = draft_load(&m, lr, n_lr, s, &text, &draft, d);
	if (ret)
		goto out;
	for (size_t i = 0; i < n_it; i++)
		st->unresolved += !passes(draft, it[i].r);
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].key.verdict != BH_FV_WOULD_DROP)
			continue;
		st->audit++;
		st->audit_running_drops += drops_enforced(running, &s->v[i]);
		st->audit_draft_allows += passes(draft, &s->v[i]);
	}
	fputs(text, out);
out:
	for (size_t i = 0; i < n_lr; i++)
		free(lr[i].cidrs);
	free(lr);
	free(it);
	free(text);
	free(m.g);
	bh_policy_free(draft);
	bh_policy_free(base);
	bh_policy_free(minimal);
	return ret;
}
