// SPDX-License-Identifier: GPL-2.0
/*
 * state.c - the controller's persistent state directory.
 *
 * Files are replaced atomically: a temporary file is created next to the
 * target with O_CREAT|O_EXCL and mode 0600, written in full, fsync'ed and
 * renamed over the target; then the directory is fsync'ed so the rename
 * itself is durable. Text values (quarantine reasons, key=value values) are
 * percent-encoded so that any byte string round-trips through a line-based
 * file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "state.h"

#define TMP_TRIES	16

/* ---- small helpers ---------------------------------------------------- */

static bool name_ok(const char *name)
{
	if (!name || !*name || strchr(name, '/'))
		return false;
	return strcmp(name, ".") && strcmp(name, "..");
}

static int path_join(char *buf, size_t len, const char *dir, const char *name)
{
	int n;

	if (!dir || !*dir || !name_ok(name))
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int bh_write_all(int fd, const void *buf, size_t len)
{
	return write_all(fd, buf, len);
}

/* A growable text buffer for building files. */
struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

/*
 * Percent-encode @s: space, '%', control bytes (including newline and DEL)
 * and non-ASCII bytes become %XX, everything else is kept.
 */
static void sb_put_encoded(struct sbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;

	for (; *u; u++) {
		if (*u <= 0x20 || *u == '%' || *u >= 0x7f) {
			char e[3] = { '%', hex[*u >> 4], hex[*u & 0xf] };

			sb_putn(b, e, 3);
		} else {
			sb_putn(b, (const char *)u, 1);
		}
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode @n bytes of @s into @out (size @outlen, NUL-terminated). Rejects
 * bad escapes, raw bytes that the encoder would have escaped, an encoded
 * NUL and results that do not fit: -EINVAL.
 */
static int decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -EINVAL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (unsigned char)(hi << 4 | lo);
			if (!c)
				return -EINVAL;
			i += 2;
		} else if (c <= 0x20 || c >= 0x7f) {
			return -EINVAL;
		}
		if (o + 1 >= outlen)
			return -EINVAL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int parse_u64(const char *s, size_t n, __u64 *v)
{
	__u64 x = 0;
	size_t i;

	if (!n || n > 20)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned int)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -EINVAL;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* "aa:bb:cc:dd:ee:ff" (either case, exactly 17 characters). */
static int parse_mac(const char *s, size_t n, __u8 mac[6])
{
	int i;

	if (n != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -EINVAL;
		mac[i] = (__u8)(hi << 4 | lo);
	}
	return 0;
}

/* Split @line (no newline) at single spaces into at most @max fields. */
static int split(char *line, const char **f, size_t *fl, int max)
{
	int n = 0;
	char *p = line;

	for (;;) {
		char *sp = strchr(p, ' ');

		if (n == max)
			return -EINVAL;
		f[n] = p;
		fl[n] = sp ? (size_t)(sp - p) : strlen(p);
		if (!fl[n])
			return -EINVAL;
		n++;
		if (!sp)
			return n;
		p = sp + 1;
	}
}

/* ---- directory and files ---------------------------------------------- */

int bh_state_init(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;
	size_t len;
	char *p;
	int fd, ret = 0;

	if (!dir || !*dir)
		return -EINVAL;
	len = strlen(dir);
	if (len >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';

	/* Parents: create as needed (0755 like mkdir -p), must be directories. */
	for (p = path + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST) {
			ret = -errno;
			goto out;
		}
		if (stat(path, &st)) {
			ret = -errno;
			goto out;
		}
		if (!S_ISDIR(st.st_mode)) {
			ret = -ENOTDIR;
			goto out;
		}
		*p = '/';
		while (p[1] == '/')
			p++;
	}

	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	/* The state directory itself: a real directory, never a symlink. */
	if (lstat(path, &st))
		return -errno;
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? -ENOTDIR : -errno;
	if (fchmod(fd, 0700))
		ret = -errno;
	close(fd);
	return ret;
out:
	return ret;
}

int bh_state_write(const char *dir, const char *name, const void *buf, size_t len)
{
	char tmp[NAME_MAX + 1];
	int dfd, fd = -1, ret, i;
	bool created = false;

	if (!dir || !*dir || !name_ok(name) || (!buf && len))
		return -EINVAL;
	if (strlen(name) > NAME_MAX - 24)
		return -ENAMETOOLONG;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;

	for (i = 0; i < TMP_TRIES; i++) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		snprintf(tmp, sizeof(tmp), ".%s.tmp.%d.%lx", name, (int)getpid(),
			 (unsigned long)(ts.tv_nsec ^ (i * 2654435761u)));
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
			    O_NOFOLLOW, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	created = true;
	if (fchmod(fd, 0600)) {
		ret = -errno;
		goto out;
	}
	ret = write_all(fd, buf, len);
	if (ret)
		goto out;
	if (fsync(fd)) {
		ret = -errno;
		goto out;
	}
	ret = close(fd);
	fd = -1;
	if (ret) {
		ret = -errno;
		goto out;
	}
	if (renameat(dfd, tmp, dfd, name)) {
		ret = -errno;
		goto out;
	}
	created = false;
	if (fsync(dfd))
		ret = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlinkat(dfd, tmp, 0);
	close(dfd);
	return ret;
}

int bh_next_line(const char *buf, size_t len, size_t *pos, char *line, size_t max)
{
	const char *nl;
	size_t ll;

	if (*pos >= len)
		return 0;
	nl = memchr(buf + *pos, '\n', len - *pos);
	ll = (nl ? (size_t)(nl - buf) : len) - *pos;
	if (ll >= max) {
		*pos += ll + 1;
		return -E2BIG;
	}
	memcpy(line, buf + *pos, ll);
	line[ll] = '\0';
	*pos += ll + 1;
	return strlen(line) == ll ? 1 : -EINVAL;
}

int bh_grow(void **v, size_t *cap, size_t need, size_t size, size_t first)
{
	size_t ncap;
	void *nv;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : first;
	while (ncap < need)
		ncap *= 2;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

int bh_read_fd(int fd, size_t max, char **buf, size_t *len)
{
	size_t n = 0, cap = 4096;
	char *p = NULL, *np;
	int ret = 0;

	*buf = NULL;
	*len = 0;
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
	while (n < max) {
		ssize_t r;

		if (n + 1 >= cap) {
			cap *= 2;
			np = realloc(p, cap);
			if (!np) {
				ret = -ENOMEM;
				goto out;
			}
			p = np;
		}
		r = read(fd, p + n, (cap - n - 1 < max - n) ? cap - n - 1 : max - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	p = NULL;
out:
	free(p);
	return ret;
}

int bh_state_read(const char *dir, const char *name, char **buf, size_t *len)
{
	char path[PATH_MAX];
	size_t n;
	int fd, ret;

	if (buf)
		*buf = NULL;
	if (len)
		*len = 0;
	if (!buf)
		return -EINVAL;
	ret = path_join(path, sizeof(path), dir, name);
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = bh_read_fd(fd, SIZE_MAX, buf, &n);
	if (!ret && len)
		*len = n;
	close(fd);
	return ret;
}

int bh_state_remove(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int ret;

	ret = path_join(path, sizeof(path), dir, name);
	if (ret)
		return ret;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

/* ---- quarantine list ---------------------------------------------------- */

static int quar_parse_line(char *line, struct bh_quar_entry *e)
{
	const char *f[5];
	size_t fl[5];
	int n;

	memset(e, 0, sizeof(*e));
	n = split(line, f, fl, 5);
	if (n != 4 && n != 5)
		return -EINVAL;
	if (parse_mac(f[0], fl[0], e->mac) ||
	    parse_u64(f[1], fl[1], &e->since) ||
	    parse_u64(f[2], fl[2], &e->until))
		return -EINVAL;
	/* the level, since ABI 8: "lan"; a line without it is a full one */
	if (n == 5) {
		if (fl[4] != 3 || memcmp(f[4], "lan", 3))
			return -EINVAL;
		e->level = BH_QLVL_LAN;
	}
	if (fl[3] == 1 && f[3][0] == '-')
		return 0;	/* empty reason */
	return decode(f[3], fl[3], e->reason, sizeof(e->reason));
}

/* The next non-empty line of the text at *@cur (cut out in place), or NULL */
static char *next_line(char **cur)
{
	char *line, *nl;

	while (**cur) {
		line = *cur;
		nl = strchr(line, '\n');
		if (nl) {
			*nl = '\0';
			*cur = nl + 1;
		} else {
			*cur = line + strlen(line);
		}
		if (*line)
			return line;
	}
	return NULL;
}

int bh_quar_load(const char *dir, struct bh_quar_entry **out, size_t *n)
{
	struct bh_quar_entry *v = NULL;
	size_t cnt = 0, cap = 0, len;
	char *buf = NULL, *cur, *line;
	int ret;

	if (!out || !n)
		return -EINVAL;
	*out = NULL;
	*n = 0;
	ret = bh_state_read(dir, BH_QUAR_FILE, &buf, &len);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	if (strlen(buf) != len) {	/* embedded NUL */
		ret = -EINVAL;
		goto out;
	}
	for (cur = buf; (line = next_line(&cur));) {
		if (bh_grow((void **)&v, &cap, cnt + 1, sizeof(*v), 16)) {
			ret = -ENOMEM;
			goto out;
		}
		ret = quar_parse_line(line, &v[cnt]);
		if (ret)
			goto out;
		cnt++;
	}
	if (cnt) {
		*out = v;
		*n = cnt;
		v = NULL;
	}
out:
	free(v);
	free(buf);
	return ret;
}

int bh_quar_save(const char *dir, const struct bh_quar_entry *e, size_t n)
{
	struct sbuf b = {};
	char line[96];
	size_t i;
	int ret;

	if (n && !e)
		return -EINVAL;
	sb_puts(&b, "");
	for (i = 0; i < n; i++) {
		const __u8 *m = e[i].mac;
		char reason[sizeof(e[i].reason)];

		snprintf(line, sizeof(line),
			 "%02x:%02x:%02x:%02x:%02x:%02x %llu %llu ",
			 m[0], m[1], m[2], m[3], m[4], m[5],
			 (unsigned long long)e[i].since,
			 (unsigned long long)e[i].until);
		sb_puts(&b, line);
		/* reason may lack a NUL if the caller filled all 256 bytes */
		memcpy(reason, e[i].reason, sizeof(reason));
		reason[sizeof(reason) - 1] = '\0';
		if (!reason[0])
			sb_puts(&b, "-");
		else if (!strcmp(reason, "-"))
			sb_puts(&b, "%2D");
		else
			sb_put_encoded(&b, reason);
		if (e[i].level == BH_QLVL_LAN)
			sb_puts(&b, " lan");
		sb_puts(&b, "\n");
	}
	ret = b.err;
	if (!ret)
		ret = bh_state_write(dir, BH_QUAR_FILE, b.p, b.len);
	free(b.p);
	return ret;
}

/* ---- key=value files ---------------------------------------------------- */

static bool key_ok(const char *k)
{
	size_t n = strnlen(k, sizeof(((struct bh_kv *)0)->key));

	if (!n || n >= sizeof(((struct bh_kv *)0)->key))
		return false;
	for (; *k; k++) {
		unsigned char c = (unsigned char)*k;

		if (c <= 0x20 || c >= 0x7f || c == '=' || c == '%' || c == '#')
			return false;
	}
	return true;
}

int bh_kv_load(const char *dir, const char *name, struct bh_kv **out, size_t *n)
{
	struct bh_kv *v = NULL;
	size_t cnt = 0, cap = 0, len;
	char *buf = NULL, *cur, *line, *eq;
	int ret;

	if (!out || !n)
		return -EINVAL;
	*out = NULL;
	*n = 0;
	ret = bh_state_read(dir, name, &buf, &len);
	if (ret)
		return ret;
	if (strlen(buf) != len) {
		ret = -EINVAL;
		goto out;
	}
	for (cur = buf; (line = next_line(&cur));) {
		eq = strchr(line, '=');
		if (!eq) {
			ret = -EINVAL;
			goto out;
		}
		*eq = '\0';
		if (!key_ok(line)) {
			ret = -EINVAL;
			goto out;
		}
		if (bh_grow((void **)&v, &cap, cnt + 1, sizeof(*v), 16)) {
			ret = -ENOMEM;
			goto out;
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		strcpy(v[cnt].key, line);
		ret = decode(eq + 1, strlen(eq + 1), v[cnt].val, sizeof(v[cnt].val));
		if (ret)
			goto out;
		cnt++;
	}
	*out = v;
	*n = cnt;
	v = NULL;
out:
	free(v);
	free(buf);
	return ret;
}

int bh_kv_save(const char *dir, const char *name, const struct bh_kv *kv, size_t n)
{
	struct sbuf b = {};
	size_t i;
	int ret;

	if (n && !kv)
		return -EINVAL;
	sb_puts(&b, "");
	for (i = 0; i < n; i++) {
		char val[sizeof(kv[i].val)];

		if (!key_ok(kv[i].key)) {
			ret = -EINVAL;
			goto out;
		}
		memcpy(val, kv[i].val, sizeof(val));
		val[sizeof(val) - 1] = '\0';
		sb_puts(&b, kv[i].key);
		sb_puts(&b, "=");
		sb_put_encoded(&b, val);
		sb_puts(&b, "\n");
	}
	ret = b.err;
	if (!ret)
		ret = bh_state_write(dir, name, b.p, b.len);
out:
	free(b.p);
	return ret;
}

const char *bh_kv_get(const struct bh_kv *kv, size_t n, const char *key)
{
	size_t i;

	if (!kv || !key)
		return NULL;
	for (i = 0; i < n; i++)
		if (!strncmp(kv[i].key, key, sizeof(kv[i].key)))
			return kv[i].val;
	return NULL;
}

/* ---- durations -------------------------------------------------------- */

static const struct {
	char unit;
	__u64 secs;
} duration_units[] = {
	{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 },
};

int bh_duration_parse(const char *s, __u64 *secs)
{
	__u64 total = 0;
	size_t i;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		__u64 n = 0;
		const char *start = s;

		for (; *s >= '0' && *s <= '9'; s++) {
			if (n > BH_DURATION_MAX)
				return -ERANGE;
			n = n * 10 + (__u64)(*s - '0');
		}
		if (s == start)
			return -EINVAL;
		for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
			if (*s == duration_units[i].unit)
				break;
		if (i == sizeof(duration_units) / sizeof(duration_units[0]))
			return -EINVAL;
		if (n > BH_DURATION_MAX / duration_units[i].secs)
			return -ERANGE;
		total += n * duration_units[i].secs;
		if (total > BH_DURATION_MAX)
			return -ERANGE;
		s++;
	}
	if (!total)
		return -EINVAL;
	*secs = total;
	return 0;
}

void bh_duration_format(__u64 secs, char *buf, size_t len)
{
	size_t n = 0, parts = 0;

	if (!len)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		__u64 q = secs / duration_units[i].secs;

		if (parts == 2 || (!q && !parts))
			continue;
		if (!q && parts)
			break;	/* "1h" rather than "1h0m" */
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%llu%c",
				      (unsigned long long)q, duration_units[i].unit);
		secs -= q * duration_units[i].secs;
		parts++;
	}
	if (!parts)
		snprintf(buf, len, "0s");
}
