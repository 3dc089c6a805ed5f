// SPDX-License-Identifier: GPL-2.0
/*
 * detect.c - the policy's detect: section, its dataplane form, the grace
 * periods of `release --for`, and what a signal leads to (detect.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <yaml.h>

#include "detect.h"
#include "state.h"

/* ---- signals: names and defaults ------------------------------------------- */

static const char *const kind_keys[BH_DET_KINDS] = {
	[BH_DET_ADDR_SCAN] = "address_scan",
	[BH_DET_PORT_SCAN] = "port_scan",
	[BH_DET_TELNET] = "telnet",
	[BH_DET_BLOCK] = "blocklist",
	[BH_DET_DENY_RATE] = "deny_rate",
};

static const char *const kind_names[BH_DET_KINDS] = {
	[BH_DET_ADDR_SCAN] = "address scan",
	[BH_DET_PORT_SCAN] = "port scan",
	[BH_DET_TELNET] = "telnet worm",
	[BH_DET_BLOCK] = "blocklisted address",
	[BH_DET_DENY_RATE] = "denied-frame rate",
};

const char *bh_det_kind_key(unsigned int kind)
{
	return kind < BH_DET_KINDS ? kind_keys[kind] : "?";
}

const char *bh_det_kind_name(unsigned int kind)
{
	return kind < BH_DET_KINDS ? kind_names[kind] : "?";
}

/* the largest count a level takes: a set's bits, or a counter's */
static __u32 count_max(unsigned int kind)
{
	return kind <= BH_DET_TELNET ? BH_DET_MAX_COUNT : 1000000;
}

/*
 * Zeek's scan thresholds as the act levels (25 hosts on one port, 15 ports
 * on one host, 5 minutes); address scans alert only (noisy on their own);
 * docs/detect.md gives the reasons for each.
 */
void bh_detect_defaults(struct bh_detect_policy *dp)
{
	static const struct bh_det_sigpol def[BH_DET_KINDS] = {
		[BH_DET_ADDR_SCAN] = { 12, 25, 300, BH_DACT_ALERT, 0, BH_QLVL_FULL },
		[BH_DET_PORT_SCAN] = { 8, 15, 300, BH_DACT_ISOLATE, 0, BH_QLVL_FULL },
		[BH_DET_TELNET] = { 3, 10, 60, BH_DACT_ISOLATE, 0, BH_QLVL_FULL },
		[BH_DET_BLOCK] = { 0, 1, 300, BH_DACT_ISOLATE, 0, BH_QLVL_FULL },
		[BH_DET_DENY_RATE] = { 1000, 0, 10, BH_DACT_ALERT, 0, BH_QLVL_FULL },
	};

	memset(dp, 0, sizeof(*dp));
	memcpy(dp->sig, def, sizeof(def));
	dp->telnet_ports[0] = 23;
	dp->telnet_ports[1] = 2323;
}

void bh_detect_policy_free(struct bh_detect_policy *dp)
{
	if (!dp)
		return;
	free(dp->blocklist);
	free(dp->exempt_groups);
	free(dp->exempt_macs);
	memset(dp, 0, sizeof(*dp));
}

/* ---- libyaml's document as a bh_yview ---------------------------------------- */

static int ly_type(void *ctx, const void *n)
{
	(void)ctx;
	return n ? (int)((const yaml_node_t *)n)->type : 0;
}

static size_t ly_len(void *ctx, const void *n)
{
	const yaml_node_t *y = n;

	(void)ctx;
	if (!y)
		return 0;
	if (y->type == YAML_SEQUENCE_NODE)
		return (size_t)(y->data.sequence.items.top - y->data.sequence.items.start);
	if (y->type == YAML_MAPPING_NODE)
		return (size_t)(y->data.mapping.pairs.top - y->data.mapping.pairs.start);
	return 0;
}

static const void *ly_item(void *ctx, const void *n, size_t i)
{
	const yaml_node_t *y = n;

	return yaml_document_get_node(ctx, y->data.sequence.items.start[i]);
}

static const void *ly_key(void *ctx, const void *n, size_t i)
{
	const yaml_node_t *y = n;

	return yaml_document_get_node(ctx, y->data.mapping.pairs.start[i].key);
}

static const void *ly_val(void *ctx, const void *n, size_t i)
{
	const yaml_node_t *y = n;

	return yaml_document_get_node(ctx, y->data.mapping.pairs.start[i].value);
}

static const char *ly_scalar(void *ctx, const void *n)
{
	const yaml_node_t *y = n;

	(void)ctx;
	return y && y->type == YAML_SCALAR_NODE ? (const char *)y->data.scalar.value : NULL;
}

static struct bh_pos ly_pos(void *ctx, const void *n)
{
	const yaml_node_t *y = n;

	(void)ctx;
	if (!y)
		return (struct bh_pos){ 0, 0 };
	return (struct bh_pos){ (unsigned int)y->start_mark.line + 1,
				(unsigned int)y->start_mark.column + 1 };
}

void bh_yview_libyaml(struct bh_yview *y, struct yaml_document_s *doc)
{
	y->ctx = doc;
	y->type = ly_type;
	y->len = ly_len;
	y->item = ly_item;
	y->key = ly_key;
	y->val = ly_val;
	y->scalar = ly_scalar;
	y->pos = ly_pos;
}

/* ---- parsing detect: --------------------------------------------------------------- */

struct dp_ld {
	const struct bh_yview *y;
	const char *file;
	const struct bh_policy *p;
	struct bh_detect_policy *dp;
	struct bh_diag *d;
	bool nomem;
};

#define ERR(l, node, ...) \
	bh_diag_add((l)->d, (l)->file, (l)->y->pos((l)->y->ctx, node), __VA_ARGS__)

static const char *scalar(struct dp_ld *l, const void *n)
{
	return n ? l->y->scalar(l->y->ctx, n) : NULL;
}

static const char *type_name(struct dp_ld *l, const void *n)
{
	switch (n ? l->y->type(l->y->ctx, n) : 0) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

static bool want(struct dp_ld *l, const void *n, int t, const char *what)
{
	const char *tn = t == YAML_SCALAR_NODE ? "a scalar" :
			 t == YAML_SEQUENCE_NODE ? "a list" : "a mapping";

	if (n && l->y->type(l->y->ctx, n) == t)
		return true;
	ERR(l, n, "%s must be %s, not %s", what, tn, type_name(l, n));
	return false;
}

typedef void (*key_fn)(struct dp_ld *l, const char *key, const void *k, const void *v,
		       void *arg);

/* Keys of mapping @m against @allowed: unknown and repeated ones are errors. */
static void walk_map(struct dp_ld *l, const void *m, const char *where,
		     const char *const *allowed, key_fn fn, void *arg)
{
	size_t n = l->y->len(l->y->ctx, m);

	for (size_t i = 0; i < n; i++) {
		const void *k = l->y->key(l->y->ctx, m, i), *v = l->y->val(l->y->ctx, m, i);
		const char *ks = scalar(l, k);
		const char *const *a;
		char list[256];
		size_t off = 0;

		if (!ks) {
			ERR(l, k, "keys in %s must be scalars", where);
			continue;
		}
		for (size_t j = 0; j < i && ks; j++) {
			const void *q = l->y->key(l->y->ctx, m, j);
			const char *qs = scalar(l, q);

			if (qs && !strcmp(qs, ks)) {
				ERR(l, k, "duplicate key '%s' in %s (first at line %u)", ks, where,
				    l->y->pos(l->y->ctx, q).line);
				ks = NULL;
			}
		}
		if (!ks)
			continue;
		for (a = allowed; *a && strcmp(*a, ks); a++)
			;
		if (*a) {
			fn(l, ks, k, v, arg);
			continue;
		}
		list[0] = '\0';
		for (a = allowed; *a; a++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
						a == allowed ? "" : ", ", *a);
		ERR(l, k, "unknown key '%s' in %s (expected: %s)", ks, where, list);
	}
}

/* A count 0..@max or "off" (0); -1 after an error. */
static long parse_count(struct dp_ld *l, const void *v, const char *what, __u32 max)
{
	const char *s = scalar(l, v);
	unsigned long n;
	char *end;

	if (!want(l, v, YAML_SCALAR_NODE, what))
		return -1;
	if (!strcmp(s, "off"))
		return 0;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end || errno || n > max) {
		ERR(l, v, "%s must be a count from 1 to %u or off, not '%s'", what, max, s);
		return -1;
	}
	return (long)n;
}

/* A duration from @lo to @hi seconds; false after an error. */
static bool parse_secs(struct dp_ld *l, const void *v, const char *what, __u64 lo, __u64 hi,
		       __u64 *out)
{
	const char *s = scalar(l, v);
	char a[32], b[32];
	__u64 secs;

	if (!want(l, v, YAML_SCALAR_NODE, what))
		return false;
	if (bh_duration_parse(s, &secs) || secs < lo || secs > hi) {
		bh_duration_format(lo, a, sizeof(a));
		bh_duration_format(hi, b, sizeof(b));
		ERR(l, v, "%s must be a duration from %s to %s (\"30s\", \"5m\", \"1h\"), not '%s'",
		    what, a, b, s);
		return false;
	}
	*out = secs;
	return true;
}

struct sig_arg {
	unsigned int kind;
	char where[48];
	const void *watch, *act;	/* to check watch < act */
};

static void telnet_ports(struct dp_ld *l, const void *v, const char *where)
{
	char what[64];
	size_t n;

	snprintf(what, sizeof(what), "%s.ports", where);
	if (!want(l, v, YAML_SEQUENCE_NODE, what))
		return;
	n = l->y->len(l->y->ctx, v);
	if (!n || n > BH_DET_PORTS) {
		ERR(l, v, "%s must list 1 to %d ports", what, BH_DET_PORTS);
		return;
	}
	memset(l->dp->telnet_ports, 0, sizeof(l->dp->telnet_ports));
	for (size_t i = 0; i < n; i++) {
		const void *e = l->y->item(l->y->ctx, v, i);
		long port = parse_count(l, e, "a telnet port", 65535);

		if (port < 0)
			continue;
		if (!port) {
			ERR(l, e, "a telnet port must be from 1 to 65535");
			continue;
		}
		l->dp->telnet_ports[i] = (__u16)port;
	}
}

static void blocklist_file(struct dp_ld *l, const void *k, const void *v, const char *where)
{
	const char *s = scalar(l, v);
	char what[64];

	snprintf(what, sizeof(what), "%s.file", where);
	if (!want(l, v, YAML_SCALAR_NODE, what))
		return;
	if (s[0] != '/' || strlen(s) >= PATH_MAX) {
		ERR(l, v, "%s must be an absolute path, not '%s'", what, s);
		return;
	}
	free(l->dp->blocklist);
	l->dp->blocklist = strdup(s);
	l->dp->blocklist_pos = l->y->pos(l->y->ctx, k);
	if (!l->dp->blocklist)
		l->nomem = true;
}

static void sig_key(struct dp_ld *l, const char *key, const void *k, const void *v, void *arg)
{
	struct sig_arg *sa = arg;
	struct bh_det_sigpol *sp = &l->dp->sig[sa->kind];
	char what[96];
	const char *s;
	long n;

	snprintf(what, sizeof(what), "%s.%s", sa->where, key);
	if (!strcmp(key, "watch") || !strcmp(key, "act")) {
		n = parse_count(l, v, what, count_max(sa->kind));
		if (n < 0)
			return;
		if (key[0] == 'w') {
			sp->watch = (__u32)n;
			sa->watch = v;
		} else {
			sp->act = (__u32)n;
			sa->act = v;
		}
	} else if (!strcmp(key, "window")) {
		parse_secs(l, v, what, 1, 86400, &sp->window);
	} else if (!strcmp(key, "duration")) {
		parse_secs(l, v, what, 60, BH_DURATION_MAX, &sp->duration);
	} else if (!strcmp(key, "action")) {
		s = scalar(l, v);
		if (!want(l, v, YAML_SCALAR_NODE, what))
			return;
		if (!strcmp(s, "isolate"))
			sp->action = BH_DACT_ISOLATE;
		else if (!strcmp(s, "alert"))
			sp->action = BH_DACT_ALERT;
		else
			ERR(l, v, "%s must be isolate or alert, not '%s'", what, s);
	} else if (!strcmp(key, "quarantine")) {
		s = scalar(l, v);
		if (!want(l, v, YAML_SCALAR_NODE, what))
			return;
		if (!strcmp(s, "full"))
			sp->qlevel = BH_QLVL_FULL;
		else if (!strcmp(s, "lan"))
			sp->qlevel = BH_QLVL_LAN;
		else
			ERR(l, v, "%s must be full or lan, not '%s'", what, s);
	} else if (!strcmp(key, "ports")) {
		telnet_ports(l, v, sa->where);
	} else {
		blocklist_file(l, k, v, sa->where);
	}
}

/* detect.KIND: a mapping, or "off" (both levels off) */
static void do_signal(struct dp_ld *l, unsigned int kind, const void *k, const void *v)
{
	static const char *const common[] = { "watch", "act", "window", "action", "duration",
		"quarantine", NULL };
	static const char *const telnet[] = { "watch", "act", "window", "action", "duration",
		"quarantine", "ports", NULL };
	static const char *const block[] = { "watch", "act", "window", "action", "duration",
		"quarantine", "file", NULL };
	struct bh_det_sigpol *sp = &l->dp->sig[kind];
	struct sig_arg sa = { .kind = kind };
	const char *s = scalar(l, v);

	snprintf(sa.where, sizeof(sa.where), "detect.%s", kind_keys[kind]);
	sp->pos = l->y->pos(l->y->ctx, k);
	if (s && !strcmp(s, "off")) {
		sp->watch = sp->act = 0;
		return;
	}
	if (!want(l, v, YAML_MAPPING_NODE, sa.where))
		return;
	walk_map(l, v, sa.where, kind == BH_DET_TELNET ? telnet : kind == BH_DET_BLOCK ? block :
			   common, sig_key, &sa);
	if (sp->watch && sp->act && sp->watch >= sp->act)
		ERR(l, sa.watch ? sa.watch : sa.act,
		    "%s.watch (%u) must be below %s.act (%u), or off", sa.where, sp->watch,
		    sa.where, sp->act);
	if (sp->duration && sp->action != BH_DACT_ISOLATE)
		ERR(l, v, "%s.duration needs action: isolate", sa.where);
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const __u16 *)a - (int)*(const __u16 *)b;
}

static int cmp_mac(const void *a, const void *b)
{
	return memcmp(a, b, 6);
}

static bool add_mac(struct dp_ld *l, const __u8 mac[6])
{
	__u8 (*m)[6] = realloc(l->dp->exempt_macs, (l->dp->n_exempt_macs + 1) * 6);

	if (!m) {
		l->nomem = true;
		return false;
	}
	memcpy(m[l->dp->n_exempt_macs++], mac, 6);
	l->dp->exempt_macs = m;
	return true;
}

/* detect.exempt: group names, MACs, member names */
static void do_exempt(struct dp_ld *l, const void *v)
{
	const struct bh_policy *p = l->p;
	size_t n;

	if (!want(l, v, YAML_SEQUENCE_NODE, "detect.exempt"))
		return;
	n = l->y->len(l->y->ctx, v);
	for (size_t i = 0; i < n; i++) {
		const void *e = l->y->item(l->y->ctx, v, i);
		const char *s = scalar(l, e);
		bool found = false;
		__u8 mac[6];
		int g;

		if (!want(l, e, YAML_SCALAR_NODE, "an exemption"))
			continue;
		if (!bh_parse_mac(s, mac)) {
			add_mac(l, mac);
			continue;
		}
		g = p ? bh_policy_group(p, s) : -1;
		if (g >= 0) {
			__u16 *t = realloc(l->dp->exempt_groups,
					   (l->dp->n_exempt_groups + 1) * sizeof(*t));

			if (!t) {
				l->nomem = true;
				return;
			}
			t[l->dp->n_exempt_groups++] = (__u16)g;
			l->dp->exempt_groups = t;
			continue;
		}
		for (size_t gi = 0; p && gi < p->n_groups; gi++)
			for (size_t mi = 0; mi < p->groups[gi].n_members; mi++) {
				const struct bh_member *m = &p->groups[gi].members[mi];

				if (m->name && !strcmp(m->name, s) && add_mac(l, m->mac))
					found = true;
			}
		if (!found)
			ERR(l, e, "detect.exempt: '%s' is no group, member name or MAC address", s);
	}
	if (l->dp->n_exempt_groups)
		qsort(l->dp->exempt_groups, l->dp->n_exempt_groups, sizeof(__u16), cmp_u16);
	if (l->dp->n_exempt_macs)
		qsort(l->dp->exempt_macs, l->dp->n_exempt_macs, 6, cmp_mac);
}

static void top_key(struct dp_ld *l, const char *key, const void *k, const void *v, void *arg)
{
	(void)arg;
	if (!strcmp(key, "exempt")) {
		do_exempt(l, v);
		return;
	}
	for (unsigned int kind = 0; kind < BH_DET_KINDS; kind++)
		if (!strcmp(key, kind_keys[kind]))
			do_signal(l, kind, k, v);
}

int bh_detect_parse(const struct bh_yview *y, const void *node, const char *file,
		    const struct bh_policy *p, struct bh_detect_policy *dp, struct bh_diag *d)
{
	static const char *const keys[] = { "address_scan", "port_scan", "telnet", "blocklist",
		"deny_rate", "exempt", NULL };
	struct dp_ld l = { .y = y, .file = file, .p = p, .dp = dp, .d = d };
	size_t before = d->n;

	bh_detect_defaults(dp);
	dp->on = true;
	if (!want(&l, node, YAML_MAPPING_NODE, "detect"))
		return -EINVAL;
	walk_map(&l, node, "detect", keys, top_key, NULL);
	if (l.nomem)
		return -ENOMEM;
	return d->n > before ? -EINVAL : 0;
}

void bh_detect_to_bpf(const struct bh_detect_policy *dp, __u32 salt, struct bh_det_cfg *out)
{
	memset(out, 0, sizeof(*out));
	if (!dp || !dp->on)
		return;
	out->flags = BH_DETC_ON;
	out->salt = salt;
	for (unsigned int k = 0; k < BH_DET_KINDS; k++) {
		out->thr[k].watch = dp->sig[k].watch;
		out->thr[k].act = dp->sig[k].act;
		out->thr[k].window_ms = (__u32)(dp->sig[k].window * 1000);
	}
	memcpy(out->telnet_ports, dp->telnet_ports, sizeof(out->telnet_ports));
}

/* ---- grace periods ---------------------------------------------------------------- */

int bh_grace_load(const char *dir, struct bh_grace **out, size_t *n)
{
	struct bh_grace *v = NULL, *t;
	char *buf = NULL, *line, *save;
	size_t cnt = 0, len;
	int ret;

	*out = NULL;
	*n = 0;
	ret = bh_state_read(dir, BH_GRACE_FILE, &buf, &len);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	if (strlen(buf) != len) {
		ret = -EINVAL;
		goto out;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long until;
		char mac[18], extra;

		if (sscanf(line, "%17s %llu %c", mac, &until, &extra) != 2 || cnt >= BH_GRACE_MAX) {
			ret = -EINVAL;
			goto out;
		}
		t = realloc(v, (cnt + 1) * sizeof(*v));
		if (!t) {
			ret = -ENOMEM;
			goto out;
		}
		v = t;
		if (bh_parse_mac(mac, v[cnt].mac)) {
			ret = -EINVAL;
			goto out;
		}
		v[cnt++].until = until;
	}
	*out = v;
	*n = cnt;
	v = NULL;
out:
	free(v);
	free(buf);
	return ret;
}

int bh_grace_save(const char *dir, const struct bh_grace *g, size_t n)
{
	char *buf, mac[18];
	size_t off = 0;
	int ret;

	if (n > BH_GRACE_MAX)
		return -E2BIG;
	buf = malloc(n * 40 + 1);
	if (!buf)
		return -ENOMEM;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		bh_format_mac(g[i].mac, mac);
		off += (size_t)snprintf(buf + off, 40, "%s %llu\n", mac,
					(unsigned long long)g[i].until);
	}
	ret = bh_state_write(dir, BH_GRACE_FILE, buf, off);
	free(buf);
	return ret;
}

int bh_grace_set(struct bh_grace **g, size_t *n, const __u8 mac[6], __u64 until)
{
	struct bh_grace *t;

	for (size_t i = 0; i < *n; i++) {
		if (!memcmp((*g)[i].mac, mac, 6)) {
			(*g)[i].until = until;
			return 0;
		}
	}
	if (*n >= BH_GRACE_MAX)
		return -ENOSPC;
	t = realloc(*g, (*n + 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	memcpy(t[*n].mac, mac, 6);
	t[*n].until = until;
	*g = t;
	(*n)++;
	return 0;
}

size_t bh_grace_prune(struct bh_grace *g, size_t n, __u64 now)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++)
		if (g[i].until > now)
			g[o++] = g[i];
	return o;
}

__u64 bh_grace_until(const struct bh_grace *g, size_t n, const __u8 mac[6], __u64 now)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(g[i].mac, mac, 6) && g[i].until > now)
			return g[i].until;
	return 0;
}

/* ---- decisions ------------------------------------------------------------------- */

static void fmt_secs(__u32 ms, char *buf, size_t len)
{
	if (ms < 10000)
		snprintf(buf, len, "%u.%u s", ms / 1000, ms % 1000 / 100);
	else if (ms < 120000)
		snprintf(buf, len, "%u s", (ms + 500) / 1000);
	else
		snprintf(buf, len, "%u min", (ms + 30000) / 60000);
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
	case 0:
		return "arp";
	default:
		return "ip";
	}
}

void bh_detect_reason(const struct bh_det_signal *s, char *buf, size_t len)
{
	struct bh_addr a = {};
	char addr[INET6_ADDRSTRLEN], t[24], svc[24];

	memcpy(a.a, s->addr, 16);
	a.v4 = s->flags & (BH_DETN_V4 >> 24);
	bh_format_addr(&a, addr, sizeof(addr));
	fmt_secs(s->window_ms, t, sizeof(t));
	if (s->port)
		snprintf(svc, sizeof(svc), "%s/%u", proto_name(s->proto), s->port);
	else
		snprintf(svc, sizeof(svc), "%s", proto_name(s->proto));
	switch (s->kind) {
	case BH_DET_PORT_SCAN:
		snprintf(buf, len, "auto: port scan of %s, %u ports in %s", addr, s->count, t);
		break;
	case BH_DET_ADDR_SCAN:
		snprintf(buf, len, "auto: address scan on %s, %u hosts in %s (last %s)", svc,
			 s->count, t, addr);
		break;
	case BH_DET_TELNET:
		snprintf(buf, len, "auto: telnet worm, %u hosts tried on %s in %s (last %s)",
			 s->count, svc, t, addr);
		break;
	case BH_DET_BLOCK:
		snprintf(buf, len, "auto: blocklisted address %s (%s), %u attempt%s in %s", addr,
			 svc, s->count, s->count == 1 ? "" : "s", t);
		break;
	case BH_DET_DENY_RATE:
		snprintf(buf, len, "auto: %u denied frames in %s (last to %s %s)", s->count, t,
			 addr, svc);
		break;
	default:
		snprintf(buf, len, "auto: signal %u", s->kind);
	}
}

/* the device's group: its member's, else the unknown group */
static int group_of(const struct bh_policy *p, const __u8 mac[6])
{
	if (!p)
		return -1;
	for (size_t g = 0; g < p->n_groups; g++)
		for (size_t m = 0; m < p->groups[g].n_members; m++)
			if (!memcmp(p->groups[g].members[m].mac, mac, 6))
				return (int)g;
	return p->unknown_group;
}

/* exempt: a note saying why, or false */
static bool exempt(const struct bh_det_env *env, const __u8 mac[6], char *note, size_t len)
{
	const struct bh_detect_policy *dp = env->dp;
	__u16 g;
	int gi;

	if (dp->n_exempt_macs && bsearch(mac, dp->exempt_macs, dp->n_exempt_macs, 6, cmp_mac)) {
		snprintf(note, len, "exempt: device");
		return true;
	}
	gi = group_of(env->policy, mac);
	if (gi < 0 || !dp->n_exempt_groups)
		return false;
	g = (__u16)gi;
	if (!bsearch(&g, dp->exempt_groups, dp->n_exempt_groups, sizeof(g), cmp_u16))
		return false;
	snprintf(note, len, "exempt: group %s",
		 (size_t)gi < env->policy->n_groups ? env->policy->groups[gi].name : "?");
	return true;
}

int bh_detect_decide(const struct bh_det_env *env, const struct bh_det_signal *s,
		     struct bh_det_decision *out)
{
	const struct bh_det_sigpol *sp;
	char until[32];
	__u64 g;

	memset(out, 0, sizeof(*out));
	if (!s || s->kind >= BH_DET_KINDS || (s->level != BH_DET_WATCH && s->level != BH_DET_ACT))
		return -EINVAL;
	if (!env || !env->dp || !env->dp->on) {
		snprintf(out->note, sizeof(out->note), "detection off");
		return 0;
	}
	sp = &env->dp->sig[s->kind];
	bh_detect_reason(s, out->reason, sizeof(out->reason));
	out->verdict = BH_DV_WATCH;
	if (s->level == BH_DET_WATCH)
		return 0;
	if (exempt(env, s->mac, out->note, sizeof(out->note)))
		return 0;
	if (env->quarantined) {
		snprintf(out->note, sizeof(out->note), "quarantined already");
		return 0;
	}
	if (sp->action == BH_DACT_ALERT) {
		out->verdict = BH_DV_ALERT;
		return 0;
	}
	g = bh_grace_until(env->grace, env->n_grace, s->mac, env->now);
	if (g) {
		bh_duration_format(g - env->now, until, sizeof(until));
		snprintf(out->note, sizeof(out->note), "grace period: %s left", until);
		out->verdict = BH_DV_ALERT;
		return 0;
	}
	out->verdict = BH_DV_ISOLATE;
	out->qlevel = sp->qlevel;
	out->until = sp->duration ? env->now + sp->duration : 0;
	return 0;
}
