// SPDX-License-Identifier: GPL-2.0
/*
 * flowlog.c - the flow history: records as text lines, the aggregating set,
 * and the store the daemon drains bh_flow into (day files, a cursor, the
 * bounds). The format and the crash behaviour are in docs/flows.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include "flowlog.h"
#include "state.h"

/* ---- names -------------------------------------------------------------- */

static const char *const kind_names[BH_FK_MAX] = {
	[BH_FK_DEVICE] = "device",
	[BH_FK_GATEWAY] = "gateway",
	[BH_FK_INTERNET] = "internet",
	[BH_FK_MULTICAST] = "multicast",
	[BH_FK_BROADCAST] = "broadcast",
	[BH_FK_LAN] = "lan",
};

static const char *const verdict_names[BH_FV_MAX] = {
	[BH_FV_PASS] = "pass",
	[BH_FV_DROP] = "drop",
	[BH_FV_WOULD_DROP] = "would_drop",
};

const char *bh_flow_kind_name(__u8 kind)
{
	return kind && kind < BH_FK_MAX ? kind_names[kind] : "?";
}

const char *bh_flow_verdict_name(__u8 verdict)
{
	return verdict < BH_FV_MAX ? verdict_names[verdict] : "?";
}

const char *bh_flow_proto_name(const struct bh_flow_key *k, char buf[8])
{
	if (k->flags & BH_FLOW_F_ARP)
		return "arp";
	switch (k->proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	}
	snprintf(buf, 8, "%u", k->proto);
	return buf;
}

void bh_flow_daddr_text(const struct bh_flow_key *k, char *buf, size_t len)
{
	struct bh_addr a = { .v4 = k->flags & BH_FLOW_F_V4 };
	char s[INET6_ADDRSTRLEN];

	memcpy(a.a, k->daddr, 16);
	bh_format_addr(&a, s, sizeof(s));
	if (k->kind == BH_FK_INTERNET)
		snprintf(buf, len, "%s/%u", s, k->plen);
	else
		snprintf(buf, len, "%s", s);
}

/* ---- lines ---------------------------------------------------------------- */

int bh_flow_line_format(const struct bh_flow_rec *r, char *buf, size_t len)
{
	const struct bh_flow_key *k = &r->key;
	char smac[18], dmac[18], daddr[64], pb[8];
	int n;

	bh_format_mac(k->smac, smac);
	if (k->kind == BH_FK_DEVICE)
		bh_format_mac(k->dmac, dmac);
	else
		strcpy(dmac, "-");
	bh_flow_daddr_text(k, daddr, sizeof(daddr));
	n = snprintf(buf, len, "%llu\t%llu\t%s\t%s\t%s\t%s\t%s\t%u\t%s\t%llu\t%llu",
		     (unsigned long long)r->first, (unsigned long long)r->last, smac,
		     bh_flow_kind_name(k->kind), dmac, daddr, bh_flow_proto_name(k, pb),
		     k->port, bh_flow_verdict_name(k->verdict),
		     (unsigned long long)r->packets, (unsigned long long)r->bytes);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

/* a decimal number of at most 20 digits, at most @max */
static int parse_u64(const char *s, __u64 max, __u64 *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9' || strlen(s) > 20)
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return i;
	return -1;
}

static int parse_proto(const char *s, struct bh_flow_key *k)
{
	static const struct { const char *name; __u8 proto; } p[] = {
		{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP },
		{ "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },
	};
	__u64 v;

	if (!strcmp(s, "arp")) {
		k->flags |= BH_FLOW_F_ARP;
		return 0;
	}
	for (size_t i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if (!strcmp(s, p[i].name)) {
			k->proto = p[i].proto;
			return 0;
		}
	/* a number, for the protocols without a name (not the named ones) */
	if (parse_u64(s, 255, &v) || v == IPPROTO_TCP || v == IPPROTO_UDP ||
	    v == IPPROTO_ICMP || v == IPPROTO_ICMPV6 || v == 0)
		return -EINVAL;
	k->proto = (__u8)v;
	return 0;
}

static int parse_daddr(const char *s, struct bh_flow_key *k, const char **why)
{
	struct bh_cidr c;
	struct bh_addr a;

	if (k->kind == BH_FK_INTERNET) {
		if (!strchr(s, '/') || bh_parse_cidr(s, &c)) {
			*why = "an internet destination must be a CIDR with its host bits zero";
			return -EINVAL;
		}
		a = c.addr;
		k->plen = c.plen;
	} else if (bh_parse_addr(s, &a)) {
		*why = "bad destination address";
		return -EINVAL;
	}
	memcpy(k->daddr, a.a, 16);
	if (a.v4)
		k->flags |= BH_FLOW_F_V4;
	return 0;
}

#define N_FIELDS	11

int bh_flow_line_parse(const char *line, size_t len, struct bh_flow_rec *r,
		       const char **why)
{
	char buf[BH_FLOWS_LINE_MAX + 1], *f[N_FIELDS], *p;
	struct bh_flow_key *k = &r->key;
	int n = 0, i;
	__u64 v;

	memset(r, 0, sizeof(*r));
	if (len > BH_FLOWS_LINE_MAX) {
		*why = "line too long";
		return -EINVAL;
	}
	if (memchr(line, '\0', len)) {
		*why = "a NUL byte in the line";
		return -EINVAL;
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	for (p = buf; n < N_FIELDS; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (!p)
			break;
		*p++ = '\0';
	}
	if (n != N_FIELDS - 1 || p) {
		*why = "expected 11 tab-separated fields";
		return -EINVAL;
	}
	if (parse_u64(f[0], ULLONG_MAX, &r->first) || parse_u64(f[1], ULLONG_MAX, &r->last) ||
	    r->first > r->last) {
		*why = "bad first or last seen time";
		return -EINVAL;
	}
	if (bh_parse_mac(f[2], k->smac) || (k->smac[0] & 1)) {
		*why = "bad source MAC";
		return -EINVAL;
	}
	i = name_index(kind_names, BH_FK_MAX, f[3]);
	if (i < 0) {
		*why = "unknown destination kind";
		return -EINVAL;
	}
	k->kind = (__u8)i;
	if (k->kind == BH_FK_DEVICE ? bh_parse_mac(f[4], k->dmac) || (k->dmac[0] & 1) :
				      strcmp(f[4], "-")) {
		*why = "bad destination MAC (a device's, else '-')";
		return -EINVAL;
	}
	if (parse_daddr(f[5], k, why))
		return -EINVAL;
	if (parse_proto(f[6], k)) {
		*why = "bad protocol";
		return -EINVAL;
	}
	if (parse_u64(f[7], 65535, &v) ||
	    ((k->flags & BH_FLOW_F_ARP) && v) ||
	    ((k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6) && v > 255)) {
		*why = "bad port or ICMP type";
		return -EINVAL;
	}
	k->port = (__u16)v;
	i = name_index(verdict_names, BH_FV_MAX, f[8]);
	if (i < 0) {
		*why = "unknown verdict";
		return -EINVAL;
	}
	k->verdict = (__u8)i;
	if (parse_u64(f[9], ULLONG_MAX, &r->packets) || parse_u64(f[10], ULLONG_MAX, &r->bytes)) {
		*why = "bad packet or byte count";
		return -EINVAL;
	}
	return 0;
}

/* ---- the set ---------------------------------------------------------------- */

static __u32 key_hash(const struct bh_flow_key *k)
{
	const __u8 *b = (const __u8 *)k;
	__u32 h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static __u32 *slot_of(const struct bh_flow_set *s, const struct bh_flow_key *k)
{
	size_t mask = s->n_idx - 1;

	for (size_t i = key_hash(k) & mask;; i = (i + 1) & mask) {
		__u32 x = s->idx[i];

		if (!x || !memcmp(&s->v[x - 1].key, k, sizeof(*k)))
			return &s->idx[i];
	}
}

static int reindex(struct bh_flow_set *s, size_t n_idx)
{
	__u32 *idx = calloc(n_idx, sizeof(*idx));

	if (!idx)
		return -ENOMEM;
	free(s->idx);
	s->idx = idx;
	s->n_idx = n_idx;
	for (size_t i = 0; i < s->n; i++)
		*slot_of(s, &s->v[i].key) = (__u32)(i + 1);
	return 0;
}

const struct bh_flow_rec *bh_flow_set_find(const struct bh_flow_set *s,
					   const struct bh_flow_key *k)
{
	__u32 x;

	if (!s->n_idx)
		return NULL;
	x = *slot_of(s, k);
	return x ? &s->v[x - 1] : NULL;
}

int bh_flow_set_add(struct bh_flow_set *s, const struct bh_flow_rec *r)
{
	struct bh_flow_rec *e;
	__u32 *slot;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;

		if (cap > UINT32_MAX / 4)
			return -ENOMEM;
		e = realloc(s->v, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		s->v = e;
		s->cap = cap;
		if (reindex(s, cap * 2))
			return -ENOMEM;
	}
	slot = slot_of(s, &r->key);
	if (!*slot) {
		s->v[s->n] = *r;
		*slot = (__u32)++s->n;
		return 0;
	}
	e = &s->v[*slot - 1];
	if (r->first < e->first)
		e->first = r->first;
	if (r->last > e->last)
		e->last = r->last;
	e->packets += r->packets;
	e->bytes += r->bytes;
	return 0;
}

static int cmp_rec(const void *a, const void *b)
{
	return memcmp(&((const struct bh_flow_rec *)a)->key,
		      &((const struct bh_flow_rec *)b)->key, sizeof(struct bh_flow_key));
}

void bh_flow_set_sort(struct bh_flow_set *s)
{
	if (!s->n)
		return;
	qsort(s->v, s->n, sizeof(*s->v), cmp_rec);
	memset(s->idx, 0, s->n_idx * sizeof(*s->idx));
	for (size_t i = 0; i < s->n; i++)
		*slot_of(s, &s->v[i].key) = (__u32)(i + 1);
}

void bh_flow_set_free(struct bh_flow_set *s)
{
	free(s->v);
	free(s->idx);
	memset(s, 0, sizeof(*s));
}

/* ---- day files ---------------------------------------------------------------- */

struct dayfile {
	char name[32];
	__u64 day;		/* days since 1970-01-01 */
	unsigned int part;	/* 0: YYYY-MM-DD, N: YYYY-MM-DD.N */
	__u64 size;
};

static void day_name(__u64 day, unsigned int part, char *buf, size_t len)
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;
	char d[16];

	gmtime_r(&t, &tm);
	strftime(d, sizeof(d), "%Y-%m-%d", &tm);
	if (part)
		snprintf(buf, len, "%s.%u", d, part);
	else
		snprintf(buf, len, "%s", d);
}

/* "YYYY-MM-DD" or "YYYY-MM-DD.N" as written by day_name, else -EINVAL */
static int day_parse(const char *s, struct dayfile *df)
{
	struct tm tm = { 0 };
	unsigned long part = 0;
	char *end, back[32];
	time_t t;

	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || (*end && *end != '.'))
		return -EINVAL;
	if (*end) {
		if (end[1] < '1' || end[1] > '9')
			return -EINVAL;
		errno = 0;
		part = strtoul(end + 1, &end, 10);
		if (*end || errno || part > 100000)
			return -EINVAL;
	}
	t = timegm(&tm);
	if (t < 0)
		return -EINVAL;
	df->day = (__u64)t / 86400;
	df->part = (unsigned int)part;
	day_name(df->day, df->part, back, sizeof(back));
	if (strcmp(back, s))		/* 2024-02-30, leading zeros missing */
		return -EINVAL;
	snprintf(df->name, sizeof(df->name), "%s", s);
	return 0;
}

static int cmp_day(const void *a, const void *b)
{
	const struct dayfile *x = a, *y = b;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	return (x->part > y->part) - (x->part < y->part);
}

/* the day files of @dir, oldest first; a missing @dir is none */
static int day_list(const char *dir, struct dayfile **out, size_t *n)
{
	struct dayfile *v = NULL, *tmp, df;
	size_t cap = 0;
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX];
	DIR *d;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (day_parse(de->d_name, &df))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		df.size = (__u64)st.st_size;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = realloc(v, cap * sizeof(*v));
			if (!tmp) {
				free(v);
				closedir(d);
				return -ENOMEM;
			}
			v = tmp;
		}
		v[(*n)++] = df;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_day);
	*out = v;
	return 0;
}

static void cfg_fill(struct bh_flowlog_cfg *c, const struct bh_flowlog_cfg *in)
{
	c->keep_days = in && in->keep_days ? in->keep_days : BH_FLOWS_KEEP_DAYS;
	c->max_bytes = in && in->max_bytes ? in->max_bytes : BH_FLOWS_MAX_BYTES;
}

/* a part holds an eighth of the cap, at least 4 KiB */
static __u64 part_max(const struct bh_flowlog_cfg *c)
{
	return c->max_bytes / 8 > 4096 ? c->max_bytes / 8 : 4096;
}

int bh_flowlog_prune(const char *flows_dir, const struct bh_flowlog_cfg *cfg,
		     __u64 now, struct bh_flowlog_stats *st)
{
	struct bh_flowlog_cfg c;
	struct dayfile *v;
	__u64 total = 0, today = now / 86400;
	char path[PATH_MAX];
	size_t n;
	int ret;

	cfg_fill(&c, cfg);
	ret = day_list(flows_dir, &v, &n);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++)
		total += v[i].size;
	for (size_t i = 0; i + 1 < n || (i < n && v[i].day != today); i++) {
		bool old = v[i].day + c.keep_days <= today;

		if (!old && total <= c.max_bytes)
			break;
		snprintf(path, sizeof(path), "%s/%s", flows_dir, v[i].name);
		if (unlink(path) && errno != ENOENT) {
			ret = -errno;
			break;
		}
		total -= v[i].size;
		if (st) {
			st->files_dropped++;
			st->bytes_dropped += v[i].size;
		}
	}
	free(v);
	return ret;
}

/* ---- the cursor: what the last drain read of each entry ------------------------ */

#define CURSOR_FILE	"cursor"
#define CURSOR_MAGIC	0x43464842u	/* "BHFC" */

struct cursor_hdr {
	__u32 magic;
	__u32 version;		/* 1 */
	char boot_id[40];
	__u64 n;
	struct bh_flowlog_stats st;
};

/* a cursor entry is a bh_flow_rec whose first/last are monotonic ns */

struct bh_flowlog {
	char dir[PATH_MAX];		/* <state>/flows */
	struct bh_flowlog_cfg cfg;
	char boot_id[40];
	struct bh_flow_set cur;
	struct bh_flowlog_stats st;
};

static int cursor_load(struct bh_flowlog *fl)
{
	struct cursor_hdr h;
	size_t len;
	char *buf;
	int ret;

	ret = bh_state_read(fl->dir, CURSOR_FILE, &buf, &len);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	if (len < sizeof(h))
		goto out;	/* not ours: start again, as after a reboot */
	memcpy(&h, buf, sizeof(h));
	if (h.magic != CURSOR_MAGIC || h.version != 1 || h.n > (len - sizeof(h)) / sizeof(struct bh_flow_rec) ||
	    len != sizeof(h) + h.n * sizeof(struct bh_flow_rec))
		goto out;
	fl->st = h.st;
	if (fl->boot_id[0] && strncmp(h.boot_id, fl->boot_id, sizeof(h.boot_id)))
		goto out;
	for (__u64 i = 0; i < h.n && !ret; i++) {
		struct bh_flow_rec r;

		memcpy(&r, buf + sizeof(h) + i * sizeof(r), sizeof(r));
		ret = bh_flow_set_add(&fl->cur, &r);
	}
out:
	free(buf);
	return ret;
}

static int cursor_save(struct bh_flowlog *fl)
{
	struct cursor_hdr h = { .magic = CURSOR_MAGIC, .version = 1, .n = fl->cur.n, .st = fl->st };
	size_t len = sizeof(h) + fl->cur.n * sizeof(struct bh_flow_rec);
	char *buf = malloc(len);
	int ret;

	if (!buf)
		return -ENOMEM;
	memcpy(h.boot_id, fl->boot_id, sizeof(h.boot_id));
	memcpy(buf, &h, sizeof(h));
	if (fl->cur.n)
		memcpy(buf + sizeof(h), fl->cur.v, fl->cur.n * sizeof(struct bh_flow_rec));
	ret = bh_state_write(fl->dir, CURSOR_FILE, buf, len);
	free(buf);
	return ret;
}

int bh_flowlog_open(const char *state_dir, const struct bh_flowlog_cfg *cfg,
		    const char *boot_id, struct bh_flowlog **out)
{
	struct bh_flowlog *fl = calloc(1, sizeof(*fl));
	int ret;

	if (!fl)
		return -ENOMEM;
	cfg_fill(&fl->cfg, cfg);
	if (boot_id)
		snprintf(fl->boot_id, sizeof(fl->boot_id), "%s", boot_id);
	if ((size_t)snprintf(fl->dir, sizeof(fl->dir), "%s/%s", state_dir, BH_FLOWS_DIR) >=
	    sizeof(fl->dir)) {
		ret = -ENAMETOOLONG;
		goto err;
	}
	ret = bh_state_init(fl->dir);
	if (!ret)
		ret = cursor_load(fl);
	if (ret)
		goto err;
	*out = fl;
	return 0;
err:
	bh_flowlog_close(fl);
	return ret;
}

void bh_flowlog_close(struct bh_flowlog *fl)
{
	if (!fl)
		return;
	bh_flow_set_free(&fl->cur);
	free(fl);
}

const struct bh_flowlog_stats *bh_flowlog_stats(const struct bh_flowlog *fl)
{
	return &fl->st;
}

__s64 bh_flowlog_clock_offset(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	return ((__s64)r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

int bh_flowlog_boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		ret = -EIO;
	else
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
	return ret;
}

static __u64 wall_secs(__u64 mono_ns, __s64 off)
{
	__s64 t = (__s64)mono_ns + off;

	return t > 0 ? (__u64)t / 1000000000ULL : 0;
}

/*
 * A crash in an append leaves a file whose last line has no newline: cut
 * that line off (it was part of the drain the crash lost). 0 or -errno.
 */
static int cut_torn_line(int fd, off_t end)
{
	char tail[BH_FLOWS_LINE_MAX + 2];
	size_t want = end < (off_t)sizeof(tail) ? (size_t)end : sizeof(tail);
	ssize_t got = pread(fd, tail, want, end - (off_t)want);

	if (got != (ssize_t)want)
		return got < 0 ? -errno : -EIO;
	if (!want || tail[want - 1] == '\n')
		return 0;
	for (size_t i = want; i > 0; i--)
		if (tail[i - 1] == '\n')
			return ftruncate(fd, end - (off_t)(want - i)) ? -errno : 0;
	/* no line end within a line's length: not our line, end it */
	return bh_write_all(fd, "\n", 1);
}

/*
 * Append @len bytes of lines to today's last part (a new part once it
 * holds part_max bytes): a new file gets the header line first, a torn
 * last line is cut first, then the file and, when new, the directory are
 * synced.
 */
static int day_append(struct bh_flowlog *fl, __u64 now, const char *buf, size_t len)
{
	struct dayfile *v;
	unsigned int part = 0;
	__u64 today = now / 86400;
	char path[PATH_MAX], name[32];
	bool created;
	size_t n;
	int fd, ret;
	off_t end;

	ret = day_list(fl->dir, &v, &n);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++)
		if (v[i].day == today)
			part = v[i].part + (v[i].size >= part_max(&fl->cfg));
	free(v);
	day_name(today, part, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", fl->dir, name);
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	end = lseek(fd, 0, SEEK_END);
	created = end == 0;
	if (end < 0)
		ret = -errno;
	else if (created)
		ret = bh_write_all(fd, BH_FLOWS_HEADER "\n", sizeof(BH_FLOWS_HEADER));
	else
		ret = cut_torn_line(fd, end);
	if (!ret)
		ret = bh_write_all(fd, buf, len);
	if (!ret && fsync(fd))
		ret = -errno;
	close(fd);
	if (!ret && created) {
		fd = open(fl->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	return ret;
}

/*
 * What entry @e counted since the cursor @prev read it: the cursor's own
 * record of it in @cur (monotonic ns), the delta as a record in @r (wall
 * clock seconds). true when @prev held an older life of the entry (evicted
 * and made again: all of its counts are new).
 */
static bool entry_delta(const struct bh_flow_set *prev, const struct bh_flow_entry *e,
			__s64 mono_to_wall_ns, struct bh_flow_rec *cur, struct bh_flow_rec *r)
{
	const struct bh_flow_rec *c = bh_flow_set_find(prev, &e->k);
	bool again = false;

	*cur = (struct bh_flow_rec){
		.key = e->k, .first = e->v.first_seen, .last = e->v.last_seen,
		.packets = e->v.packets, .bytes = e->v.bytes,
	};
	*r = (struct bh_flow_rec){ .key = e->k };
	cur->key.pad = 0;
	r->key.pad = 0;
	if (c && c->first == cur->first && cur->packets >= c->packets && cur->bytes >= c->bytes) {
		/* the same entry: what it counted since */
		r->packets = cur->packets - c->packets;
		r->bytes = cur->bytes - c->bytes;
		r->first = wall_secs(c->last, mono_to_wall_ns);
	} else {
		/* new, or evicted and made again: all of it is new */
		again = c != NULL;
		r->packets = cur->packets;
		r->bytes = cur->bytes;
		r->first = wall_secs(cur->first, mono_to_wall_ns);
	}
	r->last = wall_secs(cur->last, mono_to_wall_ns);
	if (r->first > r->last)
		r->first = r->last;
	return again;
}

int bh_flowlog_drain(struct bh_flowlog *fl, const struct bh_flow_entry *e, size_t n,
		     const struct bh_flow_ctr *ctr, __s64 mono_to_wall_ns, __u64 now)
{
	struct bh_flow_set next = { 0 };
	char *text = NULL;
	size_t tlen = 0, lines = 0;
	FILE *f;
	int ret = 0;

	f = open_memstream(&text, &tlen);
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < n && !ret; i++) {
		struct bh_flow_rec cur, r;
		char line[BH_FLOWS_LINE_MAX];

		if (entry_delta(&fl->cur, &e[i], mono_to_wall_ns, &cur, &r))
			fl->st.recreated++;
		ret = bh_flow_set_add(&next, &cur);
		if (ret || (!r.packets && !r.bytes))
			continue;
		if (bh_flow_line_format(&r, line, sizeof(line)) < 0)
			continue;
		fprintf(f, "%s\n", line);
		lines++;
	}
	if (fclose(f) && !ret)
		ret = -ENOMEM;
	if (ret)
		goto out;
	if (ctr) {
		fl->st.failed = ctr->failed;
		fl->st.evicted = ctr->created > n ? ctr->created - n : 0;
	}
	/* the cursor first: a crash before the append loses this drain, never doubles it */
	bh_flow_set_free(&fl->cur);
	fl->cur = next;
	memset(&next, 0, sizeof(next));
	if (lines) {
		fl->st.drains++;
		fl->st.records += lines;
	}
	ret = cursor_save(fl);
	if (!ret && lines)
		ret = day_append(fl, now, text, tlen);
	if (!ret)
		ret = bh_flowlog_prune(fl->dir, &fl->cfg, now, &fl->st);
out:
	bh_flow_set_free(&next);
	free(text);
	return ret;
}

/* ---- reading ------------------------------------------------------------------- */

static void bad_line(struct bh_diag *d, const char *file, unsigned int line, const char *why)
{
	if (!d || d->n >= BH_DIAG_MAX)
		return;
	snprintf(d->msg[d->n], sizeof(d->msg[d->n]), "%s:%u: %s", file, line, why);
	d->pos[d->n] = (struct bh_pos){ line, 0 };
	d->n++;
}

static bool wanted(const struct bh_flow_rec *r, __u64 since, const __u8 *mac)
{
	if (r->last < since)
		return false;
	return !mac || !memcmp(r->key.smac, mac, 6) ||
	       (r->key.kind == BH_FK_DEVICE && !memcmp(r->key.dmac, mac, 6));
}

static int read_file(const char *path, __u64 since, const __u8 *mac,
		     struct bh_flow_set *out, struct bh_diag *d)
{
	unsigned int ln = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int ret = 0;

	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && (len = getline(&line, &cap, f)) >= 0) {
		bool nl = len && line[len - 1] == '\n';
		struct bh_flow_rec r;
		const char *why = "truncated line (no newline)";

		ln++;
		if (nl)
			line[--len] = '\0';
		if (ln == 1) {
			if (len == (ssize_t)strlen(BH_FLOWS_HEADER) &&
			    !memcmp(line, BH_FLOWS_HEADER, (size_t)len))
				continue;
			out->n_bad++;
			bad_line(d, path, ln, "not a flow file of this version (expected '"
				 BH_FLOWS_HEADER "'), skipped");
			break;
		}
		if (nl && (!len || line[0] == '#'))
			continue;
		if (!nl || bh_flow_line_parse(line, (size_t)len, &r, &why)) {
			out->n_bad++;
			bad_line(d, path, ln, why);
			continue;
		}
		if (wanted(&r, since, mac))
			ret = bh_flow_set_add(out, &r);
	}
	free(line);
	fclose(f);
	return ret;
}

int bh_flowlog_read(const char *state_dir, __u64 since, const __u8 *mac,
		    struct bh_flow_set *out, struct bh_diag *d)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	struct dayfile *v;
	size_t n;
	int ret;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/%s", state_dir, BH_FLOWS_DIR) >= sizeof(dir))
		return -ENAMETOOLONG;
	ret = day_list(dir, &v, &n);
	for (size_t i = 0; !ret && i < n; i++) {
		/* a file holds what was drained that day: older days end before @since */
		if ((v[i].day + 1) * 86400 <= since)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, v[i].name);
		ret = read_file(path, since, mac, out, d);
	}
	free(v);
	return ret;
}

int bh_flowlog_pending(const char *state_dir, const char *boot_id,
		       const struct bh_flow_entry *e, size_t n, __s64 mono_to_wall_ns,
		       __u64 since, const __u8 *mac, struct bh_flow_set *out)
{
	struct bh_flowlog fl = { 0 };
	int ret = 0;

	if (boot_id)
		snprintf(fl.boot_id, sizeof(fl.boot_id), "%s", boot_id);
	if ((size_t)snprintf(fl.dir, sizeof(fl.dir), "%s/%s", state_dir, BH_FLOWS_DIR) >=
	    sizeof(fl.dir))
		return -ENAMETOOLONG;
	/* read only: a missing or foreign cursor is an empty one */
	ret = cursor_load(&fl);
	if (ret == -ENOENT || ret == -ENOTDIR) {
		bh_flow_set_free(&fl.cur);
		memset(&fl.cur, 0, sizeof(fl.cur));
		ret = 0;
	}
	for (size_t i = 0; i < n && !ret; i++) {
		struct bh_flow_rec cur, r;

		entry_delta(&fl.cur, &e[i], mono_to_wall_ns, &cur, &r);
		if ((r.packets || r.bytes) && wanted(&r, since, mac))
			ret = bh_flow_set_add(out, &r);
	}
	bh_flow_set_free(&fl.cur);
	return ret;
}
