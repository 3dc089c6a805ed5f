// SPDX-License-Identifier: GPL-2.0
/*
 * ctl_detect.c - the policy's detect: into the dataplane at up and apply:
 * bh_detect_cfg (thresholds, windows, worm ports, the salt of this up) and
 * the blocklist file into bh_block (docs/detect.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <bpf/bpf.h>

#include "ctl.h"
#include "ctl_int.h"
#include "blocklist.h"
#include "detect.h"
#include "state.h"

/* the state dir's file of the salt drawn at up: one line, 8 hex digits */
#define DETECT_SALT_FILE	"detect-salt"

static int salt_draw(const struct bh_ctx *ctx, __u32 *salt)
{
	char line[16];
	int len;

	if (getrandom(salt, sizeof(*salt), 0) != sizeof(*salt))
		return -errno;
	len = snprintf(line, sizeof(line), "%08x\n", *salt);
	return bh_state_write(ctx->state_dir, DETECT_SALT_FILE, line, (size_t)len);
}

/* The salt kept since up; a new one when there is none (or it is not ours). */
static int salt_get(const struct bh_ctx *ctx, bool new_salt, __u32 *salt)
{
	char *buf = NULL, *end;
	unsigned long v;
	size_t len;

	if (!new_salt && !bh_state_read(ctx->state_dir, DETECT_SALT_FILE, &buf, &len)) {
		errno = 0;
		v = strtoul(buf, &end, 16);
		if (!errno && end == buf + 8 && v <= 0xffffffffUL) {
			free(buf);
			*salt = (__u32)v;
			return 0;
		}
		free(buf);
	}
	return salt_draw(ctx, salt);
}

/* Does @b hold exactly the prefix @k? */
static bool block_has(const struct bh_blocklist *b, const struct bh_block_key *k)
{
	const struct bh_block_ent *e;
	struct bh_block_key ek;
	struct bh_addr a = {};

	memcpy(a.a, k->addr, 16);
	a.v4 = k->prefixlen >= 96 && !memcmp(a.a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
	e = b ? bh_blocklist_match(b, &a) : NULL;
	if (!e)
		return false;
	bh_blocklist_key(e, &ek);
	return !memcmp(&ek, k, sizeof(ek));
}

/*
 * bh_block as @b: its entries written first (bh_blocklist_sync), then the
 * map's other prefixes (a previous file's) deleted. 0 or -errno.
 */
static int block_load(int fd, const struct bh_blocklist *b)
{
	struct bh_block_key cur, next, *dead = NULL, *tmp;
	size_t n = 0, cap = 0;
	void *prev = NULL;
	int ret = 0;

	if (b) {
		ret = bh_blocklist_sync(fd, b, NULL);
		if (ret)
			return ret;
	}
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!block_has(b, &next)) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				tmp = realloc(dead, cap * sizeof(*dead));
				if (!tmp) {
					ret = -ENOMEM;
					goto out;
				}
				dead = tmp;
			}
			dead[n++] = next;
		}
		cur = next;
		prev = &cur;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, &dead[i]) && errno != ENOENT) {
			ret = -errno;
			goto out;
		}
out:
	free(dead);
	return ret;
}

int ctl_detect_apply(const struct bh_ctx *ctx, const struct bh_maps *m,
		     const struct bh_policy *p, bool new_salt)
{
	const struct bh_detect_policy *dp = p ? p->detect : NULL;
	struct bh_blocklist bl = {}, *b = NULL;
	struct bh_diag *d;
	struct bh_det_cfg cfg;
	__u32 salt = 0, zero = 0;
	int ret;

	if (dp && dp->on) {
		ret = salt_get(ctx, new_salt, &salt);
		if (ret) {
			bh_err("detect: cannot keep the hash salt in %s: %s", ctx->state_dir,
			       strerror(-ret));
			return ret;
		}
	}
	if (dp && dp->on && dp->blocklist) {
		d = calloc(1, sizeof(*d));	/* BH_DIAG_MAX messages: not on the stack */
		if (!d)
			return -ENOMEM;
		ret = bh_blocklist_read(dp->blocklist, &bl, d);
		bh_diag_report(d);
		free(d);
		if (ret) {
			bh_err("detect: cannot read the blocklist %s: %s", dp->blocklist,
			       strerror(-ret));
			return ret;
		}
		b = &bl;
	}
	/* entries first, the thresholds after: no signal counts a stale list */
	ret = block_load(m->block, b);
	if (ret) {
		bh_err("detect: cannot load the blocklist into bh_block: %s", strerror(-ret));
		goto out;
	}
	bh_detect_to_bpf(dp, salt, &cfg);
	if (bpf_map_update_elem(m->detect_cfg, &zero, &cfg, BPF_ANY)) {
		ret = -errno;
		bh_err("detect: cannot write bh_detect_cfg: %s", strerror(-ret));
		goto out;
	}
	/* a cached allow to a now-listed address must not outlive the load */
	ret = bh_dp_invalidate(m);
	if (ret)
		bh_err("detect: cannot invalidate the verdict cache: %s", strerror(-ret));
out:
	bh_blocklist_free(&bl);
	return ret;
}
