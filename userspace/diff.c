// SPDX-License-Identifier: GPL-2.0
/*
 * diff.c - the changes between two policies, for `bulkhead diff`.
 *
 * Members are matched by MAC, groups by name, rules by their content
 * (sources, destinations, protocol, ports, action: each list sorted and
 * the ports merged into ranges), so reordering rules or ports changes
 * nothing. A rule whose content changed but whose name stayed is reported
 * as changed; any other unmatched rule as removed or added.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "bulkhead_abi.h"
#include "detect.h"
#include "diff.h"
#include "flowlog.h"
#include "json.h"

static const char *const section_names[BH_DS_MAX] = {
	[BH_DS_INTERFACES] = "interfaces",
	[BH_DS_DEFAULTS] = "defaults",
	[BH_DS_GROUPS] = "groups",
	[BH_DS_MEMBERS] = "members",
	[BH_DS_RULES] = "rules",
	[BH_DS_QUARANTINE] = "quarantine",
	[BH_DS_DHCP] = "dhcp",
	[BH_DS_FLOWS] = "flows",
	[BH_DS_DETECT] = "detect",
};

const char *bh_diff_section_name(enum bh_diff_section s)
{
	return s < BH_DS_MAX ? section_names[s] : "?";
}

const char *bh_diff_op_name(enum bh_diff_op op)
{
	switch (op) {
	case BH_DO_ADD:
		return "added";
	case BH_DO_REMOVE:
		return "removed";
	case BH_DO_MOVE:
		return "moved";
	case BH_DO_CHANGE:
		return "changed";
	}
	return "?";
}

static int add_item(struct bh_diff *d, enum bh_diff_section section,
		    enum bh_diff_op op, const char *subject, const char *name,
		    const char *old, const char *new)
{
	struct bh_diff_item *tmp, *it;

	tmp = realloc(d->items, (d->n + 1) * sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	d->items = tmp;
	it = &tmp[d->n];
	memset(it, 0, sizeof(*it));
	it->section = section;
	it->op = op;
	it->subject = strdup(subject);
	it->name = name ? strdup(name) : NULL;
	it->old = old ? strdup(old) : NULL;
	it->new = new ? strdup(new) : NULL;
	d->n++;		/* counted even when a strdup failed: freed below */
	if (!it->subject || (name && !it->name) || (old && !it->old) ||
	    (new && !it->new))
		return -ENOMEM;
	return 0;
}

void bh_diff_free(struct bh_diff *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].subject);
		free(d->items[i].name);
		free(d->items[i].old);
		free(d->items[i].new);
	}
	free(d->items);
	d->items = NULL;
	d->n = 0;
}

/* ---- canonical text ------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_range(const void *a, const void *b)
{
	const struct bh_port_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

static char *target_text(const struct bh_policy *p, const struct bh_target *t)
{
	char buf[96], *s;

	switch (t->kind) {
	case BH_T_GROUP:
		return strdup(t->group < p->n_groups ? p->groups[t->group].name : "?");
	case BH_T_ANY:
		return strdup("any");
	case BH_T_GATEWAY:
		return strdup("gateway");
	case BH_T_INTERNET:
		return strdup("internet");
	case BH_T_MULTICAST:
		return strdup("multicast");
	case BH_T_CIDR:
		bh_format_addr(&t->cidr.addr, buf, sizeof(buf));
		if (asprintf(&s, "%s/%u", buf, t->cidr.plen) < 0)
			return NULL;
		return s;
	}
	return strdup("?");
}

/* @n targets as "a" or "[a,b]", sorted, duplicates once */
static int targets_text(FILE *f, const struct bh_policy *p,
			const struct bh_target *t, size_t n)
{
	char **v = calloc(n ? n : 1, sizeof(*v));
	size_t out = 0;
	int ret = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = target_text(p, &t[i]);
		if (!v[i]) {
			ret = -ENOMEM;
			goto out;
		}
	}
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		out += !i || strcmp(v[i], v[i - 1]);
	if (out > 1)
		fputc('[', f);
	for (size_t i = 0, k = 0; i < n; i++)
		if (!i || strcmp(v[i], v[i - 1]))	/* duplicates once */
			fprintf(f, "%s%s", k++ ? "," : "", v[i]);
	if (out > 1)
		fputc(']', f);
out:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return ret;
}

static const char *proto_name(__u8 proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "any";
	}
}

char *bh_rule_text(const struct bh_policy *p, const struct bh_rule_def *r)
{
	struct bh_port_range *pr = NULL;
	char *buf = NULL;
	size_t len = 0, n = 0;
	FILE *f;
	int ret;

	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "%s ", r->action == BH_ACT_DENY ? "deny" : "allow");
	ret = targets_text(f, p, r->from, r->n_from);
	fputs(" -> ", f);
	if (!ret)
		ret = targets_text(f, p, r->to, r->n_to);
	fprintf(f, " %s", proto_name(r->proto));
	if (!ret && r->n_ports) {
		/* sorted, overlapping and adjacent ranges merged */
		pr = malloc(r->n_ports * sizeof(*pr));
		if (!pr) {
			ret = -ENOMEM;
		} else {
			memcpy(pr, r->ports, r->n_ports * sizeof(*pr));
			qsort(pr, r->n_ports, sizeof(*pr), cmp_range);
			for (size_t i = 0; i < r->n_ports; i++) {
				if (n && (unsigned int)pr[n - 1].hi + 1 >= pr[i].lo) {
					if (pr[i].hi > pr[n - 1].hi)
						pr[n - 1].hi = pr[i].hi;
					continue;
				}
				pr[n++] = pr[i];
			}
			for (size_t i = 0; i < n; i++) {
				fprintf(f, "%c%u", i ? ',' : ' ', pr[i].lo);
				if (pr[i].hi != pr[i].lo)
					fprintf(f, "-%u", pr[i].hi);
			}
			free(pr);
		}
	}
	if (fclose(f) || ret) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- the comparisons ------------------------------------------------------ */

static const char *act_name(int act)
{
	return act == BH_ACT_ALLOW ? "allow" : act == BH_ACT_DENY ? "deny" : "inherit";
}

static void qallow_text(__u16 q, char *buf, size_t len)
{
	static const struct { __u16 bit; const char *name; } svc[] = {
		{ BH_SVC_DHCP, "dhcp" }, { BH_SVC_DNS, "dns" },
		{ BH_SVC_NTP, "ntp" }, { BH_SVC_ICMP, "icmp" },
	};
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(svc) / sizeof(svc[0]); i++)
		if (q & svc[i].bit)
			o += (size_t)snprintf(buf + o, o < len ? len - o : 0, "%s%s",
					      o ? "," : "", svc[i].name);
	if (!o)
		snprintf(buf, len, "none");
}

static bool has_iface(const struct bh_policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_ifaces; i++)
		if (!strcmp(p->ifaces[i], name))
			return true;
	return false;
}

static int diff_ifaces(struct bh_diff *d, const struct bh_policy *a,
		       const struct bh_policy *b)
{
	int ret = 0;

	for (size_t i = 0; i < a->n_ifaces && !ret; i++)
		if (!has_iface(b, a->ifaces[i]))
			ret = add_item(d, BH_DS_INTERFACES, BH_DO_REMOVE, a->ifaces[i],
				       NULL, NULL, NULL);
	for (size_t i = 0; i < b->n_ifaces && !ret; i++)
		if (!has_iface(a, b->ifaces[i]))
			ret = add_item(d, BH_DS_INTERFACES, BH_DO_ADD, b->ifaces[i],
				       NULL, NULL, NULL);
	return ret;
}

static int diff_defaults(struct bh_diff *d, const struct bh_policy *a,
			 const struct bh_policy *b)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "defaults.east_west", offsetof(struct bh_policy, east_west) },
		{ "defaults.internet", offsetof(struct bh_policy, internet) },
		{ "defaults.gateway", offsetof(struct bh_policy, gateway) },
	};
	const char *ua = a->groups[a->unknown_group].name;
	const char *ub = b->groups[b->unknown_group].name;
	int ret = 0;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && !ret; i++) {
		int va = *(const int *)((const char *)a + keys[i].off);
		int vb = *(const int *)((const char *)b + keys[i].off);

		if (va != vb)
			ret = add_item(d, BH_DS_DEFAULTS, BH_DO_CHANGE, keys[i].key, NULL,
				       act_name(va), act_name(vb));
	}
	if (!ret && strcmp(ua, ub))
		ret = add_item(d, BH_DS_DEFAULTS, BH_DO_CHANGE, "defaults.unknown", NULL,
			       ua, ub);
	if (!ret && a->audit != b->audit)
		ret = add_item(d, BH_DS_DEFAULTS, BH_DO_CHANGE, "defaults.mode", NULL,
			       a->audit ? "audit" : "enforce", b->audit ? "audit" : "enforce");
	return ret;
}

static int diff_groups(struct bh_diff *d, const struct bh_policy *a,
		       const struct bh_policy *b)
{
	char key[128];
	int ret = 0;

	for (size_t i = 0; i < a->n_groups && !ret; i++)
		if (bh_policy_group(b, a->groups[i].name) < 0)
			ret = add_item(d, BH_DS_GROUPS, BH_DO_REMOVE, a->groups[i].name,
				       NULL, NULL, NULL);
	for (size_t i = 0; i < b->n_groups && !ret; i++) {
		int g = bh_policy_group(a, b->groups[i].name);

		if (g < 0) {
			ret = add_item(d, BH_DS_GROUPS, BH_DO_ADD, b->groups[i].name,
				       NULL, NULL, NULL);
			continue;
		}
		if (a->groups[g].internet != b->groups[i].internet) {
			snprintf(key, sizeof(key), "groups.%s.internet", b->groups[i].name);
			ret = add_item(d, BH_DS_GROUPS, BH_DO_CHANGE, key, NULL,
				       act_name(a->groups[g].internet),
				       act_name(b->groups[i].internet));
		}
		if (!ret && a->groups[g].audit != b->groups[i].audit) {
			snprintf(key, sizeof(key), "groups.%s.audit", b->groups[i].name);
			ret = add_item(d, BH_DS_GROUPS, BH_DO_CHANGE, key, NULL,
				       a->groups[g].audit ? "true" : "false",
				       b->groups[i].audit ? "true" : "false");
		}
	}
	return ret;
}

/* flows: as given; 0 (not given) is the default, said as such */
static int diff_flows(struct bh_diff *d, const struct bh_policy *a,
		      const struct bh_policy *b)
{
	const struct bh_flows_def *fa = &a->flows, *fb = &b->flows;
	char va[32], vb[32];
	int ret = 0;

#define FLOWS_KEY(field, key, fmt, def)							\
	if (!ret && fa->field != fb->field) {						\
		snprintf(va, sizeof(va), fmt, (unsigned long long)(fa->field ?: (def)));	\
		snprintf(vb, sizeof(vb), fmt, (unsigned long long)(fb->field ?: (def)));	\
		ret = add_item(d, BH_DS_FLOWS, BH_DO_CHANGE, key, NULL, va, vb);	\
	}
	FLOWS_KEY(max, "flows.max", "%llu", BH_MAX_FLOWS)
	FLOWS_KEY(keep_days, "flows.keep", "%llud", BH_FLOWS_KEEP_DAYS)
	FLOWS_KEY(bytes, "flows.bytes", "%llu bytes", BH_FLOWS_MAX_BYTES)
#undef FLOWS_KEY
	return ret;
}

/* one signal's settings as text; "off" when neither level is set */
static void sigpol_text(const struct bh_det_sigpol *s, char *buf, size_t len)
{
	char dur[32] = "";

	if (!s->watch && !s->act) {
		snprintf(buf, len, "off");
		return;
	}
	if (s->action == BH_DACT_ISOLATE && s->duration)
		snprintf(dur, sizeof(dur), " for %llus", (unsigned long long)s->duration);
	snprintf(buf, len, "watch %u, act %u, window %llus, %s%s%s", s->watch, s->act,
		 (unsigned long long)s->window,
		 s->action == BH_DACT_ISOLATE ? "isolate" : "alert",
		 s->action == BH_DACT_ISOLATE && s->qlevel == BH_QLVL_LAN ? " (lan)" : "", dur);
}

/* the exemptions as text: group names (ids differ between policies), then MACs */
static void exempt_text(const struct bh_detect_policy *x, const struct bh_policy *p,
			char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < x->n_exempt_groups && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
				      p->groups[x->exempt_groups[i]].name);
	for (size_t i = 0; i < x->n_exempt_macs && n < len; i++) {
		const __u8 *m = x->exempt_macs[i];

		n += (size_t)snprintf(buf + n, len - n, "%s%02x:%02x:%02x:%02x:%02x:%02x",
				      n ? "," : "", m[0], m[1], m[2], m[3], m[4], m[5]);
	}
	if (!n)
		snprintf(buf, len, "(none)");
}

static void ports_text(const __u16 *ports, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < BH_DET_PORTS && ports[i] && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%u", n ? "," : "", ports[i]);
	if (!n)
		snprintf(buf, len, "(none)");
}

static int diff_detect(struct bh_diff *d, const struct bh_policy *a,
		       const struct bh_policy *b)
{
	struct bh_detect_policy off;
	const struct bh_detect_policy *x, *y;
	char key[64], va[128], vb[128];
	int ret = 0;

	bh_detect_defaults(&off);
	x = a->detect && a->detect->on ? a->detect : &off;
	y = b->detect && b->detect->on ? b->detect : &off;
	if (x == y)
		return 0;
	if (x->on != y->on)
		ret = add_item(d, BH_DS_DETECT, x->on ? BH_DO_REMOVE : BH_DO_ADD, "detect",
			       NULL, NULL, NULL);
	for (unsigned int k = 0; k < BH_DET_KINDS && !ret; k++) {
		sigpol_text(&x->sig[k], va, sizeof(va));
		sigpol_text(&y->sig[k], vb, sizeof(vb));
		if (!strcmp(va, vb))
			continue;
		snprintf(key, sizeof(key), "detect.%s", bh_det_kind_key(k));
		ret = add_item(d, BH_DS_DETECT, BH_DO_CHANGE, key, NULL, va, vb);
	}
	if (!ret && (!x->blocklist != !y->blocklist ||
		     (x->blocklist && strcmp(x->blocklist, y->blocklist))))
		ret = add_item(d, BH_DS_DETECT, BH_DO_CHANGE, "detect.blocklist.file", NULL,
			       x->blocklist ? x->blocklist : "(none)",
			       y->blocklist ? y->blocklist : "(none)");
	ports_text(x->telnet_ports, va, sizeof(va));
	ports_text(y->telnet_ports, vb, sizeof(vb));
	if (!ret && strcmp(va, vb))
		ret = add_item(d, BH_DS_DETECT, BH_DO_CHANGE, "detect.telnet.ports", NULL, va, vb);
	exempt_text(x, a, va, sizeof(va));
	exempt_text(y, b, vb, sizeof(vb));
	if (!ret && strcmp(va, vb))
		ret = add_item(d, BH_DS_DETECT, BH_DO_CHANGE, "detect.exempt", NULL, va, vb);
	bh_detect_policy_free(&off);
	return ret;
}

static const struct bh_member *find_mac(const struct bh_policy *p, const __u8 mac[6],
					size_t *group)
{
	for (size_t g = 0; g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++)
			if (!memcmp(p->groups[g].members[i].mac, mac, 6)) {
				*group = g;
				return &p->groups[g].members[i];
			}
	return NULL;
}

/* "name N, ip A,B[, port P]" of a member (what else a member has besides
 * its group) */
static void member_text(const struct bh_member *m, char *buf, size_t len)
{
	size_t o;

	o = (size_t)snprintf(buf, len, "name %s, ip ", m->name ? m->name : "-");
	for (size_t i = 0; i < m->n_ips && o < len; i++) {
		char a[64];

		bh_format_addr(&m->ips[i], a, sizeof(a));
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "", a);
	}
	if (!m->n_ips && o < len)
		o += (size_t)snprintf(buf + o, len - o, "-");
	if (m->port && o < len)
		snprintf(buf + o, len - o, ", port %s", m->port);
}

static int diff_members(struct bh_diff *d, const struct bh_policy *a,
			const struct bh_policy *b)
{
	char mac[18], ta[1024], tb[1024];
	int ret = 0;

	for (size_t g = 0; g < a->n_groups && !ret; g++)
		for (size_t i = 0; i < a->groups[g].n_members && !ret; i++) {
			const struct bh_member *m = &a->groups[g].members[i];
			size_t gb;

			if (find_mac(b, m->mac, &gb))
				continue;
			bh_format_mac(m->mac, mac);
			ret = add_item(d, BH_DS_MEMBERS, BH_DO_REMOVE, mac, m->name,
				       a->groups[g].name, NULL);
		}
	for (size_t g = 0; g < b->n_groups && !ret; g++)
		for (size_t i = 0; i < b->groups[g].n_members && !ret; i++) {
			const struct bh_member *m = &b->groups[g].members[i], *o;
			size_t ga;

			bh_format_mac(m->mac, mac);
			o = find_mac(a, m->mac, &ga);
			if (!o) {
				ret = add_item(d, BH_DS_MEMBERS, BH_DO_ADD, mac, m->name,
					       NULL, b->groups[g].name);
				continue;
			}
			if (strcmp(a->groups[ga].name, b->groups[g].name))
				ret = add_item(d, BH_DS_MEMBERS, BH_DO_MOVE, mac,
					       m->name ? m->name : o->name,
					       a->groups[ga].name, b->groups[g].name);
			member_text(o, ta, sizeof(ta));
			member_text(m, tb, sizeof(tb));
			if (!ret && strcmp(ta, tb))
				ret = add_item(d, BH_DS_MEMBERS, BH_DO_CHANGE, mac,
					       m->name ? m->name : o->name, ta, tb);
		}
	return ret;
}

struct rule_txt {
	char *text;
	const char *name;
	bool matched;
};

static int rule_texts(const struct bh_policy *p, struct rule_txt **out)
{
	struct rule_txt *v = calloc(p->n_rules ? p->n_rules : 1, sizeof(*v));

	*out = v;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_rules; i++) {
		v[i].text = bh_rule_text(p, &p->rules[i]);
		v[i].name = p->rules[i].comment;
		if (!v[i].text)
			return -ENOMEM;
	}
	return 0;
}

static void rule_texts_free(struct rule_txt *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].text);
	free(v);
}

static bool same_name(const char *x, const char *y)
{
	return x && y && !strcmp(x, y);
}

static int diff_rules(struct bh_diff *d, const struct bh_policy *a,
		      const struct bh_policy *b)
{
	struct rule_txt *ra = NULL, *rb = NULL;
	int ret;

	ret = rule_texts(a, &ra);
	if (!ret)
		ret = rule_texts(b, &rb);
	if (ret)
		goto out;
	/* 1. the same content (a rule given twice is matched twice) */
	for (size_t j = 0; j < b->n_rules; j++)
		for (size_t i = 0; i < a->n_rules; i++)
			if (!ra[i].matched && !strcmp(ra[i].text, rb[j].text)) {
				ra[i].matched = rb[j].matched = true;
				if (ra[i].name != rb[j].name &&
				    !same_name(ra[i].name, rb[j].name) &&
				    (ra[i].name || rb[j].name))
					ret = add_item(d, BH_DS_RULES, BH_DO_CHANGE, rb[j].text,
						       rb[j].name, ra[i].name ? ra[i].name : "-",
						       rb[j].name ? rb[j].name : "-");
				break;
			}
	/* 2. the same name, another content: changed */
	for (size_t j = 0; j < b->n_rules && !ret; j++) {
		if (rb[j].matched || !rb[j].name)
			continue;
		for (size_t i = 0; i < a->n_rules; i++)
			if (!ra[i].matched && same_name(ra[i].name, rb[j].name)) {
				ra[i].matched = rb[j].matched = true;
				ret = add_item(d, BH_DS_RULES, BH_DO_CHANGE, rb[j].name,
					       rb[j].name, ra[i].text, rb[j].text);
				break;
			}
	}
	for (size_t i = 0; i < a->n_rules && !ret; i++)
		if (!ra[i].matched)
			ret = add_item(d, BH_DS_RULES, BH_DO_REMOVE, ra[i].text, ra[i].name,
				       NULL, NULL);
	for (size_t j = 0; j < b->n_rules && !ret; j++)
		if (!rb[j].matched)
			ret = add_item(d, BH_DS_RULES, BH_DO_ADD, rb[j].text, rb[j].name,
				       NULL, NULL);
out:
	rule_texts_free(ra, a->n_rules);
	rule_texts_free(rb, b->n_rules);
	return ret;
}

static int section_rank(const struct bh_diff_item *it)
{
	return (int)it->section;
}

static int cmp_item(const void *x, const void *y)
{
	const struct bh_diff_item *a = x, *b = y;

	return section_rank(a) - section_rank(b);
}

int bh_policy_diff(const struct bh_policy *from, const struct bh_policy *to,
		   struct bh_diff *out)
{
	char qa[64], qb[64];
	int ret;

	memset(out, 0, sizeof(*out));
	ret = diff_ifaces(out, from, to);
	if (!ret)
		ret = diff_defaults(out, from, to);
	if (!ret)
		ret = diff_groups(out, from, to);
	if (!ret)
		ret = diff_members(out, from, to);
	if (!ret)
		ret = diff_rules(out, from, to);
	if (!ret && from->qallow != to->qallow) {
		qallow_text(from->qallow, qa, sizeof(qa));
		qallow_text(to->qallow, qb, sizeof(qb));
		ret = add_item(out, BH_DS_QUARANTINE, BH_DO_CHANGE, "quarantine.allow",
			       NULL, qa, qb);
	}
	/* the lease file apply binds and the daemon follows */
	if (!ret && (!from->dhcp_leases != !to->dhcp_leases ||
		     (from->dhcp_leases && strcmp(from->dhcp_leases, to->dhcp_leases))))
		ret = add_item(out, BH_DS_DHCP, BH_DO_CHANGE, "dhcp.leases", NULL,
			       from->dhcp_leases ? from->dhcp_leases : "(none)",
			       to->dhcp_leases ? to->dhcp_leases : "(none)");
	if (!ret)
		ret = diff_flows(out, from, to);
	if (!ret)
		ret = diff_detect(out, from, to);
	if (ret) {
		bh_diff_free(out);
		return ret;
	}
	/* sections in order; within one, as found (stable: merge by hand) */
	for (size_t i = 1; i < out->n; i++) {
		struct bh_diff_item it = out->items[i];
		size_t j = i;

		while (j > 0 && cmp_item(&out->items[j - 1], &it) > 0) {
			out->items[j] = out->items[j - 1];
			j--;
		}
		out->items[j] = it;
	}
	return 0;
}

/* ---- output ----------------------------------------------------------------- */

static void print_item(FILE *f, const struct bh_diff_item *it)
{
	static const char mark[] = { [BH_DO_ADD] = '+', [BH_DO_REMOVE] = '-',
				     [BH_DO_MOVE] = '>', [BH_DO_CHANGE] = '~' };

	fprintf(f, "  %c %s", mark[it->op], it->subject);
	switch (it->section) {
	case BH_DS_MEMBERS:
		if (it->name)
			fprintf(f, " (%s)", it->name);
		if (it->op == BH_DO_ADD)
			fprintf(f, " in %s", it->new);
		else if (it->op == BH_DO_REMOVE)
			fprintf(f, " from %s", it->old);
		else if (it->op == BH_DO_MOVE)
			fprintf(f, ": %s -> %s", it->old, it->new);
		else
			fprintf(f, ": %s -> %s", it->old, it->new);
		break;
	case BH_DS_RULES:
		if (it->op == BH_DO_CHANGE && it->name && !strcmp(it->subject, it->name))
			fprintf(f, ": %s -> %s", it->old, it->new);
		else if (it->op == BH_DO_CHANGE)
			fprintf(f, ": name %s -> %s", it->old, it->new);
		else if (it->name)
			fprintf(f, " (%s)", it->name);
		break;
	default:
		if (it->op == BH_DO_CHANGE && it->old && it->new)
			fprintf(f, ": %s -> %s", it->old, it->new);
		break;
	}
	fputc('\n', f);
}

void bh_diff_json_fields(struct bh_jw *w, const struct bh_diff *d)
{
	bh_jw_uint_field(w, "changes", d->n);
	bh_jw_key(w, "items");
	bh_jw_arr_start(w);
	for (size_t i = 0; i < d->n; i++) {
		const struct bh_diff_item *it = &d->items[i];

		bh_jw_obj_start(w);
		bh_jw_str_field(w, "section", bh_diff_section_name(it->section));
		bh_jw_str_field(w, "op", bh_diff_op_name(it->op));
		bh_jw_str_field(w, "subject", it->subject);
		bh_jw_str_field(w, "name", it->name);
		bh_jw_str_field(w, "old", it->old);
		bh_jw_str_field(w, "new", it->new);
		bh_jw_obj_end(w);
	}
	bh_jw_arr_end(w);
}

void bh_diff_print(FILE *f, const struct bh_diff *d, bool json)
{
	int last = -1;

	if (json) {
		struct bh_jw w;

		bh_jw_init(&w, f);
		bh_jw_obj_start(&w);
		bh_diff_json_fields(&w, d);
		bh_jw_obj_end(&w);
		bh_jw_nl(&w);
		return;
	}
	if (!d->n) {
		fputs("no changes\n", f);
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		if ((int)d->items[i].section != last) {
			last = (int)d->items[i].section;
			fprintf(f, "%s:\n", bh_diff_section_name(d->items[i].section));
		}
		print_item(f, &d->items[i]);
	}
}
