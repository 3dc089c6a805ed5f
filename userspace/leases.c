// SPDX-License-Identifier: GPL-2.0
/*
 * leases.c - dnsmasq's lease file: parsed line by line with bounds on the
 * line length, the number of leases and the host name; every name made
 * printable ASCII before anything prints it. The live leases become bound
 * addresses of the policy's members (bh_leases_bind), so the compiler, the
 * nftables writer and the reference evaluator all see one policy.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "leases.h"
#include "state.h"
#include "bulkhead_abi.h"

#define MAX_FIELDS	6

void bh_leases_sanitize(const char *s, size_t n, char *out, size_t len)
{
	size_t o = 0;

	if (!len)
		return;
	for (size_t i = 0; i < n && o + 1 < len; i++) {
		unsigned char c = (unsigned char)s[i];

		out[o++] = c > 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[o] = '\0';
}

static void bad(struct bh_diag *d, struct bh_leases *l, const char *name,
		unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void bad(struct bh_diag *d, struct bh_leases *l, const char *name,
		unsigned int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	l->n_bad++;
	if (!d || d->n >= BH_DIAG_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(d->msg[d->n], sizeof(d->msg[d->n]), "%s:%u: %s", name, line, msg);
	d->pos[d->n] = (struct bh_pos){ line, 0 };
	d->n++;
}

static bool parse_expiry(const char *s, __u64 *out)
{
	__u64 v = 0;

	if (!*s || strlen(s) > 20)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (~0ULL - 9) / 10)
			return false;
		v = v * 10 + (__u64)(*s - '0');
	}
	*out = v;
	return true;
}

/* An address a device can hold: not 0/8, loopback, multicast, class E. */
static bool device_ip4(const __u8 ip[4])
{
	return ip[0] != 0 && ip[0] != 127 && ip[0] < 224;
}

/* One IPv4 line, split in @f[@nf]; 0 when it holds a lease. */
static int parse_line(struct bh_lease *e, char **f, int nf, const char *name,
		      unsigned int line, struct bh_leases *l, struct bh_diag *d)
{
	char shown[48];

	if (nf < 4 || nf > 5) {
		bad(d, l, name, line, "expected 'EXPIRY MAC IP HOSTNAME CLIENT-ID', found %d field%s",
		    nf, nf == 1 ? "" : "s");
		return -1;
	}
	memset(e, 0, sizeof(*e));
	e->line = line;
	if (!parse_expiry(f[0], &e->expiry)) {
		bh_leases_sanitize(f[0], strlen(f[0]), shown, sizeof(shown));
		bad(d, l, name, line, "expiry '%s' is not a number of seconds", shown);
		return -1;
	}
	bh_leases_sanitize(f[1], strlen(f[1]), shown, sizeof(shown));
	if (bh_parse_mac(f[1], e->mac)) {
		bad(d, l, name, line, "'%s' is not an Ethernet MAC address", shown);
		return -1;
	}
	if (e->mac[0] & 1) {
		bad(d, l, name, line, "%s is a multicast or broadcast address, not a device", shown);
		return -1;
	}
	if (!memcmp(e->mac, "\0\0\0\0\0\0", 6)) {
		bad(d, l, name, line, "%s is the all-zero address, not a device", shown);
		return -1;
	}
	bh_leases_sanitize(f[2], strlen(f[2]), shown, sizeof(shown));
	if (inet_pton(AF_INET, f[2], e->ip) != 1) {
		bad(d, l, name, line, "'%s' is not an IPv4 address%s", shown,
		    strchr(f[2], ':') ? " (an IPv6 lease before the 'duid' line)" : "");
		return -1;
	}
	if (!device_ip4(e->ip)) {
		bad(d, l, name, line, "%s is not a device's address", shown);
		return -1;
	}
	if (strcmp(f[3], "*"))
		bh_leases_sanitize(f[3], strlen(f[3]), e->host, sizeof(e->host));
	return 0;
}

int bh_leases_parse(const char *name, const char *buf, size_t len,
		    struct bh_leases *out, struct bh_diag *d)
{
	char line[BH_LEASE_LINE_MAX + 1], *f[MAX_FIELDS], *save;
	size_t cap = 0, pos = 0;
	unsigned int lineno = 0;
	bool v6 = false, full = false;

	memset(out, 0, sizeof(*out));
	for (;;) {
		int nf = 0, got = bh_next_line(buf, len, &pos, line, sizeof(line));

		if (!got)
			break;
		lineno++;
		if (got == -E2BIG) {
			bad(d, out, name, lineno, "line longer than %d bytes", BH_LEASE_LINE_MAX);
			continue;
		}
		if (got < 0) {
			bad(d, out, name, lineno, "a NUL byte in the line");
			continue;
		}
		for (char *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save))
			if (nf++ < MAX_FIELDS)
				f[nf - 1] = t;
		if (!nf)
			continue;
		if (!strcmp(f[0], "duid")) {
			v6 = true;	/* the DHCPv6 part: no MACs in it */
			continue;
		}
		if (v6) {
			out->n_v6++;
			continue;
		}
		if (full)
			continue;
		if (out->n == BH_LEASES_MAX) {
			bad(d, out, name, lineno, "more than %d leases: this one and the rest are ignored",
			    BH_LEASES_MAX);
			full = true;
			continue;
		}
		if (bh_grow((void **)&out->v, &cap, out->n + 1, sizeof(*out->v), 64)) {
			bh_leases_free(out);
			return -ENOMEM;
		}
		if (!parse_line(&out->v[out->n], f, nf, name, lineno, out, d))
			out->n++;
	}
	return 0;
}

int bh_leases_read(const char *path, struct bh_leases *out, struct bh_diag *d)
{
	size_t len;
	char *buf;
	int fd, ret;

	memset(out, 0, sizeof(*out));
	/* O_NONBLOCK: a FIFO put in its place cannot hang the reader */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	ret = bh_read_fd(fd, BH_LEASES_FILE_MAX, &buf, &len);
	close(fd);
	if (ret)
		return ret;
	if (len == BH_LEASES_FILE_MAX && d && d->n < BH_DIAG_MAX)
		snprintf(d->msg[d->n++], sizeof(d->msg[0]),
			 "%s: larger than %u bytes: only the first %u are read", path,
			 BH_LEASES_FILE_MAX, BH_LEASES_FILE_MAX);
	ret = bh_leases_parse(path, buf, len, out, d);
	free(buf);
	return ret;
}

int bh_leases_saved(const char *state_dir, struct bh_leases *l)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", state_dir, BH_LEASES_FILE);
	ret = bh_leases_read(path, l, NULL);
	if (ret == -ENOENT)
		ret = 0;
	bh_leases_live(l, 0);
	return ret;
}

void bh_leases_free(struct bh_leases *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int cmp_lease(const void *a, const void *b)
{
	const struct bh_lease *x = a, *y = b;
	int c = memcmp(x->mac, y->mac, 6);

	if (!c)
		c = memcmp(x->ip, y->ip, 4);
	if (!c)
		c = x->line < y->line ? -1 : x->line > y->line;
	return c;
}

/* a lasts longer than b (0: forever) */
static bool longer(__u64 a, __u64 b)
{
	return b && (!a || a > b);
}

void bh_leases_live(struct bh_leases *l, __u64 now)
{
	size_t o = 0;

	for (size_t i = 0; i < l->n; i++)
		if (!now || !l->v[i].expiry || l->v[i].expiry > now)
			l->v[o++] = l->v[i];
	l->n = o;
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), cmp_lease);
	o = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct bh_lease *prev = o ? &l->v[o - 1] : NULL;

		if (prev && !memcmp(prev->mac, l->v[i].mac, 6) &&
		    !memcmp(prev->ip, l->v[i].ip, 4)) {
			if (longer(l->v[i].expiry, prev->expiry))
				prev->expiry = l->v[i].expiry;
			if (!*prev->host)
				memcpy(prev->host, l->v[i].host, sizeof(prev->host));
			continue;
		}
		l->v[o++] = l->v[i];
	}
	l->n = o;
}

__u64 bh_leases_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec;
}

__u64 bh_leases_next_expiry(const struct bh_leases *l, __u64 now)
{
	__u64 next = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].expiry > now && (!next || l->v[i].expiry < next))
			next = l->v[i].expiry;
	return next;
}

bool bh_leases_same_bindings(const struct bh_leases *a, const struct bh_leases *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(a->v[i].mac, b->v[i].mac, 6) || memcmp(a->v[i].ip, b->v[i].ip, 4))
			return false;
	return true;
}

const char *bh_leases_host(const struct bh_leases *l, const __u8 mac[6])
{
	size_t lo = 0, hi = l ? l->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(l->v[mid].mac, mac, 6) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; l && lo < l->n && !memcmp(l->v[lo].mac, mac, 6); lo++)
		if (*l->v[lo].host)
			return l->v[lo].host;
	return NULL;
}

char *bh_leases_format(const struct bh_leases *l, size_t *len)
{
	size_t cap = l->n * (24 + 18 + 16 + BH_LEASE_HOST_MAX + 4) + 1, o = 0;
	char *buf = malloc(cap), mac[18];

	if (!buf)
		return NULL;
	for (size_t i = 0; i < l->n; i++) {
		const struct bh_lease *e = &l->v[i];

		bh_format_mac(e->mac, mac);
		o += (size_t)snprintf(buf + o, cap - o, "%llu %s %u.%u.%u.%u %s *\n",
				      (unsigned long long)e->expiry, mac, e->ip[0], e->ip[1],
				      e->ip[2], e->ip[3], *e->host ? e->host : "*");
	}
	buf[o] = '\0';
	*len = o;
	return buf;
}

/* ---- binding ---------------------------------------------------------------- */

struct mref {
	__u8 key[6];		/* a member's MAC, or a fixed IPv4 address */
	__u32 g, i;
};

static int cmp_mref(const void *a, const void *b)
{
	return memcmp(((const struct mref *)a)->key, ((const struct mref *)b)->key, 6);
}

static const struct mref *find_ref(const struct mref *v, size_t n, const __u8 *key, size_t klen)
{
	struct mref k = {};

	memcpy(k.key, key, klen);
	return n ? bsearch(&k, v, n, sizeof(*v), cmp_mref) : NULL;
}

static bool has_v4(const struct bh_member *m)
{
	for (size_t i = 0; i < m->n_ips; i++)
		if (m->ips[i].v4)
			return true;
	return false;
}

static int add_ip(struct bh_member *m, const __u8 ip[4])
{
	struct bh_addr *tmp = realloc(m->ips, (m->n_ips + 1) * sizeof(*tmp));

	if (!tmp)
		return -ENOMEM;
	m->ips = tmp;
	memset(&tmp[m->n_ips], 0, sizeof(tmp[m->n_ips]));
	tmp[m->n_ips].a[10] = tmp[m->n_ips].a[11] = 0xff;
	memcpy(tmp[m->n_ips].a + 12, ip, 4);
	tmp[m->n_ips].v4 = true;
	m->n_ips++;
	return 0;
}

/* A new member of the unknown group for @mac; NULL: out of memory. */
static struct bh_member *add_member(struct bh_policy *p, const __u8 mac[6])
{
	struct bh_group_def *g = &p->groups[p->unknown_group];
	struct bh_member *tmp = realloc(g->members, (g->n_members + 1) * sizeof(*tmp));

	if (!tmp)
		return NULL;
	g->members = tmp;
	memset(&tmp[g->n_members], 0, sizeof(tmp[g->n_members]));
	memcpy(tmp[g->n_members].mac, mac, 6);
	return &tmp[g->n_members++];
}

static void warn(struct bh_diag *d, const struct bh_lease *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn(struct bh_diag *d, const struct bh_lease *e, const char *fmt, ...)
{
	char mac[18], msg[256];
	va_list ap;

	if (!d || d->n >= BH_DIAG_MAX)
		return;
	bh_format_mac(e->mac, mac);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(d->msg[d->n], sizeof(d->msg[d->n]), "lease of %u.%u.%u.%u to %s: %s",
		 e->ip[0], e->ip[1], e->ip[2], e->ip[3], mac, msg);
	d->pos[d->n++] = (struct bh_pos){ e->line, 0 };
}

/* a lease that may bind, sorted by address, then by line */
struct cand {
	__u8 ip[4];
	unsigned int line;
	size_t k;
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c = memcmp(x->ip, y->ip, 4);

	return c ? c : x->line < y->line ? -1 : x->line > y->line;
}

/* The leases that may bind, in @take: MAC without a fixed IPv4 address,
 * address nobody holds fixed, and the first MAC in the file per address. */
static int choose(const struct bh_policy *p, const struct bh_leases *l,
		  const struct mref *macs, size_t nm, const struct mref *ips, size_t ni,
		  bool *take, struct bh_diag *d)
{
	struct cand *c = malloc(l->n * sizeof(*c));
	size_t nc = 0;
	char mac[18];

	if (!c)
		return -ENOMEM;
	for (size_t k = 0; k < l->n; k++) {
		const struct bh_lease *e = &l->v[k];
		const struct mref *r = find_ref(macs, nm, e->mac, 6);

		take[k] = false;
		if (r && has_v4(&p->groups[r->g].members[r->i]))
			continue;	/* a fixed IPv4 address: the policy decides */
		r = find_ref(ips, ni, e->ip, 4);
		if (r) {
			bh_format_mac(p->groups[r->g].members[r->i].mac, mac);
			warn(d, e, "the address is bound to %s in the policy; ignored", mac);
			continue;
		}
		take[k] = true;
		memcpy(c[nc].ip, e->ip, 4);
		c[nc].line = e->line;
		c[nc++].k = k;
	}
	/* one MAC per address: the lease first in the file keeps it */
	if (nc > 1)
		qsort(c, nc, sizeof(*c), cmp_cand);
	for (size_t a = 0, b; a < nc; a = b) {
		const struct bh_lease *first = &l->v[c[a].k];

		for (b = a + 1; b < nc && !memcmp(c[b].ip, c[a].ip, 4); b++) {
			if (!memcmp(l->v[c[b].k].mac, first->mac, 6))
				continue;
			bh_format_mac(first->mac, mac);
			warn(d, &l->v[c[b].k], "the address is leased to %s too; ignored", mac);
			take[c[b].k] = false;
		}
	}
	free(c);
	return 0;
}

int bh_leases_bind(struct bh_policy *p, const struct bh_leases *l, struct bh_diag *d)
{
	struct mref *macs = NULL, *ips = NULL;
	struct bh_member *last = NULL;
	size_t nm = 0, ni = 0, ndev = 0, nip = 0;
	bool *take = NULL, full = false;
	int bound = 0, ret = -ENOMEM;

	if (!l->n || !p->n_groups)
		return 0;
	for (size_t g = 0; g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++) {
			ndev++;
			nip += p->groups[g].members[i].n_ips;
		}
	macs = calloc(ndev ? ndev : 1, sizeof(*macs));
	ips = calloc(nip ? nip : 1, sizeof(*ips));
	take = calloc(l->n, sizeof(*take));
	if (!macs || !ips || !take)
		goto out;
	for (size_t g = 0; g < p->n_groups; g++)
		for (size_t i = 0; i < p->groups[g].n_members; i++) {
			const struct bh_member *m = &p->groups[g].members[i];

			macs[nm++] = (struct mref){ .g = (__u32)g, .i = (__u32)i };
			memcpy(macs[nm - 1].key, m->mac, 6);
			for (size_t a = 0; a < m->n_ips; a++) {
				if (!m->ips[a].v4)
					continue;
				ips[ni] = (struct mref){ .g = (__u32)g, .i = (__u32)i };
				memcpy(ips[ni++].key, m->ips[a].a + 12, 4);
			}
		}
	qsort(macs, nm, sizeof(*macs), cmp_mref);
	qsort(ips, ni, sizeof(*ips), cmp_mref);
	if (choose(p, l, macs, nm, ips, ni, take, d))
		goto out;
	for (size_t k = 0; k < l->n; k++) {
		const struct bh_lease *e = &l->v[k];
		const struct mref *r;
		bool fresh;

		if (!take[k])
			continue;
		fresh = !last || memcmp(last->mac, e->mac, 6);
		if (nip + 1 > BH_MAX_IPS || (fresh && ndev + 1 > BH_MAX_DEVICES)) {
			if (!full)
				warn(d, e, "the maps hold %d devices and %d addresses; this and later leases are not bound",
				     BH_MAX_DEVICES, BH_MAX_IPS);
			full = true;
			continue;
		}
		if (fresh) {
			/* @l is sorted by MAC: a MAC's leases come together */
			r = find_ref(macs, nm, e->mac, 6);
			last = r ? &p->groups[r->g].members[r->i] : add_member(p, e->mac);
			if (!last)
				goto out;
			ndev += !r;
		}
		if (add_ip(last, e->ip))
			goto out;
		nip++;
		bound++;
	}
	ret = bound;
out:
	free(macs);
	free(ips);
	free(take);
	return ret;
}
