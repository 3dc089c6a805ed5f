// SPDX-License-Identifier: GPL-2.0
/*
 * blocklist.c - read a C&C blocklist file (blocklist.h) and write it into
 * the dataplane's LPM trie bh_block.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "blocklist.h"
#include "state.h"

static void bad(struct bh_diag *d, struct bh_blocklist *b, const char *name,
		unsigned int line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* a skipped line: counted, and reported while @d has room */
static void bad(struct bh_diag *d, struct bh_blocklist *b, const char *name,
		unsigned int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (b)
		b->n_bad++;
	if (!d || d->n >= BH_DIAG_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(d->msg[d->n], sizeof(d->msg[d->n]), "%s:%u: %s", name, line, msg);
	d->pos[d->n] = (struct bh_pos){ line, 0 };
	d->n++;
}

static void cidr_mask(struct bh_cidr *c)
{
	unsigned int full = c->addr.v4 ? 96u + c->plen : c->plen;

	for (unsigned int i = full; i < 128; i++)
		c->addr.a[i / 8] &= (__u8)~(0x80 >> (i % 8));
}

/* The entry of one line's word @w; 0, or -1 after a diagnostic. */
static int parse_word(const char *name, unsigned int line, const char *w,
		      struct bh_block_ent *e, struct bh_blocklist *b, struct bh_diag *d)
{
	char buf[64];
	int ret;

	ret = bh_parse_cidr(w, &e->cidr);
	if (ret == -ERANGE) {
		bad(d, b, name, line, "prefix length of '%s' is out of range", w);
		return -1;
	}
	if (ret && ret != -EEXIST) {
		bad(d, b, name, line, "'%s' is not an IPv4 or IPv6 address or CIDR", w);
		return -1;
	}
	if (e->cidr.plen < (e->cidr.addr.v4 ? BH_BLOCKLIST_MIN_V4 : BH_BLOCKLIST_MIN_V6)) {
		bad(d, b, name, line, "'%s' is wider than a blocklist takes (IPv4 /%d, IPv6 /%d at most)",
		    w, BH_BLOCKLIST_MIN_V4, BH_BLOCKLIST_MIN_V6);
		return -1;
	}
	if (ret == -EEXIST) {
		cidr_mask(&e->cidr);
		bh_format_addr(&e->cidr.addr, buf, sizeof(buf));
		/* a warning, not a bad line: the entry is used */
		bad(d, NULL, name, line, "'%s' has host bits set: read as %s/%u", w, buf,
		    e->cidr.plen);
	}
	e->line = line;
	return 0;
}

/* One line, its comment cut: the entry, or nothing (blank), or a bad line. */
static int parse_line(const char *name, unsigned int line, char *s,
		      struct bh_block_ent *e, struct bh_blocklist *b, struct bh_diag *d)
{
	char *w, *rest;

	s[strcspn(s, "#;")] = '\0';
	w = s + strspn(s, " \t\r");
	if (!*w)
		return 1;
	rest = w + strcspn(w, " \t\r");
	if (*rest) {
		*rest++ = '\0';
		rest += strspn(rest, " \t\r");
		if (*rest) {
			bad(d, b, name, line, "one address or CIDR a line: '%.64s' after '%.64s'",
			    rest, w);
			return -1;
		}
	}
	return parse_word(name, line, w, e, b, d);
}

static int cmp_ent(const void *x, const void *y)
{
	const struct bh_block_ent *a = x, *b = y;
	int c = memcmp(a->cidr.addr.a, b->cidr.addr.a, 16);

	if (c)
		return c;
	return (int)a->cidr.plen - (int)b->cidr.plen;
}

/* sorted, each (address, prefix) once: the first line's stays */
static void dedup(struct bh_blocklist *b)
{
	size_t i, o = 0;

	if (!b->n)
		return;
	qsort(b->v, b->n, sizeof(*b->v), cmp_ent);
	for (i = 0; i < b->n; i++) {
		if (o && !cmp_ent(&b->v[o - 1], &b->v[i])) {
			if (b->v[i].line < b->v[o - 1].line)
				b->v[o - 1].line = b->v[i].line;
			b->n_dup++;
			continue;
		}
		b->v[o++] = b->v[i];
	}
	b->n = o;
}

int bh_blocklist_parse(const char *name, const char *buf, size_t len,
		       struct bh_blocklist *out, struct bh_diag *d)
{
	char line[BH_BLOCKLIST_LINE_MAX + 1];
	unsigned int lineno = 0;
	size_t cap = 0, pos = 0;
	bool full = false;

	memset(out, 0, sizeof(*out));
	for (;;) {
		struct bh_block_ent e;
		int got = bh_next_line(buf, len, &pos, line, sizeof(line));

		if (!got)
			break;
		lineno++;
		if (got == -E2BIG) {
			bad(d, out, name, lineno, "line longer than %d bytes", BH_BLOCKLIST_LINE_MAX);
			continue;
		}
		if (got < 0) {
			bad(d, out, name, lineno, "a NUL byte in the line");
			continue;
		}
		if (parse_line(name, lineno, line, &e, out, d))
			continue;
		if (full)
			continue;
		if (out->n == BH_MAX_BLOCK) {
			bad(d, out, name, lineno, "more than %d entries: this one and the rest are ignored",
			    BH_MAX_BLOCK);
			full = true;
			continue;
		}
		if (bh_grow((void **)&out->v, &cap, out->n + 1, sizeof(*out->v), 256)) {
			bh_blocklist_free(out);
			return -ENOMEM;
		}
		out->v[out->n++] = e;
	}
	dedup(out);
	return 0;
}

int bh_blocklist_read(const char *path, struct bh_blocklist *out, struct bh_diag *d)
{
	size_t len;
	char *buf;
	int fd, ret;

	memset(out, 0, sizeof(*out));
	/* O_NONBLOCK: a FIFO put in its place cannot hang the reader */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		bh_diag_add(d, path, (struct bh_pos){ 0, 0 }, "%s", strerror(-ret));
		return ret;
	}
	ret = bh_read_fd(fd, BH_BLOCKLIST_FILE_MAX, &buf, &len);
	close(fd);
	if (ret) {
		bh_diag_add(d, path, (struct bh_pos){ 0, 0 }, "%s", strerror(-ret));
		return ret;
	}
	ret = bh_blocklist_parse(path, buf, len, out, d);
	free(buf);
	return ret;
}

void bh_blocklist_free(struct bh_blocklist *b)
{
	if (!b)
		return;
	free(b->v);
	memset(b, 0, sizeof(*b));
}

static bool in_prefix(const struct bh_cidr *c, const struct bh_addr *a)
{
	unsigned int full = c->addr.v4 ? 96u + c->plen : c->plen;
	unsigned int bytes = full / 8, rem = full % 8;

	if (memcmp(c->addr.a, a->a, bytes))
		return false;
	return !rem || !((c->addr.a[bytes] ^ a->a[bytes]) & (0xff << (8 - rem)));
}

const struct bh_block_ent *bh_blocklist_match(const struct bh_blocklist *b,
					      const struct bh_addr *a)
{
	const struct bh_block_ent *best = NULL;
	unsigned int best_len = 0;

	/* a linear scan: for tests and `explain`, not the dataplane's path */
	for (size_t i = 0; i < b->n; i++) {
		const struct bh_cidr *c = &b->v[i].cidr;
		unsigned int full = c->addr.v4 ? 96u + c->plen : c->plen;

		if (c->addr.v4 != a->v4 || !in_prefix(c, a))
			continue;
		if (!best || full > best_len) {
			best = &b->v[i];
			best_len = full;
		}
	}
	return best;
}

void bh_blocklist_key(const struct bh_block_ent *e, struct bh_block_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = e->cidr.addr.v4 ? 96u + e->cidr.plen : e->cidr.plen;
	memcpy(k->addr, e->cidr.addr.a, 16);
}

static bool has_ent(const struct bh_blocklist *b, const struct bh_block_ent *e)
{
	return b->n && bsearch(e, b->v, b->n, sizeof(*b->v), cmp_ent);
}

int bh_blocklist_sync(int fd, const struct bh_blocklist *b, const struct bh_blocklist *old)
{
	struct bh_block_key k;
	size_t i;

	for (i = 0; i < b->n; i++) {
		__u32 line = b->v[i].line;

		bh_blocklist_key(&b->v[i], &k);
		if (bpf_map_update_elem(fd, &k, &line, BPF_ANY))
			return -errno;
	}
	for (i = 0; old && i < old->n; i++) {
		if (has_ent(b, &old->v[i]))
			continue;
		bh_blocklist_key(&old->v[i], &k);
		if (bpf_map_delete_elem(fd, &k) && errno != ENOENT)
			return -errno;
	}
	return 0;
}
