// SPDX-License-Identifier: GPL-2.0
/*
 * ctl_detect.c - the policy's detect: into the dataplane at up and apply:
 * bh_detect_cfg (thresholds, windows, worm ports, the salt of this up) and
 * the blocklist file into bh_block; the grace periods of `release --for`
 * and the daemon's reload of the blocklist (docs/detect.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

/* ---- release --for, the daemon's reloads ------------------------------------ */

/* Forget @mac's detection state: its windows start afresh. */
static void detect_forget(const struct bh_ctx *ctx, const __u8 mac[6])
{
	struct bh_mac_key k = {};
	struct bh_maps m;

	if (bh_maps_open(ctx->pin_dir, &m))
		return;
	memcpy(k.mac, mac, 6);
	bpf_map_delete_elem(m.detect, &k);
	bh_maps_close(&m);
}

int bh_grace_start(const struct bh_ctx *ctx, const __u8 mac[6], __u64 until, __u64 now)
{
	struct bh_grace *g = NULL;
	size_t n = 0;
	int lock, ret;

	lock = ctl_lock(ctx);
	if (lock < 0)
		return lock;
	ret = bh_state_init(ctx->state_dir);
	if (!ret)
		ret = bh_grace_load(ctx->state_dir, &g, &n);
	if (ret == -EINVAL) {
		bh_err("warning: %s/%s has a bad line; it is written again without it",
		       ctx->state_dir, BH_GRACE_FILE);
		ret = 0;
	}
	if (ret)
		goto out;
	n = bh_grace_prune(g, n, now);
	ret = bh_grace_set(&g, &n, mac, until);
	if (ret)
		goto out;
	ret = bh_grace_save(ctx->state_dir, g, n);
	if (ret) {
		bh_err("release: cannot save the grace period in %s: %s", ctx->state_dir,
		       strerror(-ret));
		ret = ctl_err_system(ret);
		goto out;
	}
	detect_forget(ctx, mac);
out:
	free(g);
	close(lock);
	return ret;
}

int bh_grace_read(const struct bh_ctx *ctx, __u64 now, struct bh_grace **g, size_t *n)
{
	int ret;

	*g = NULL;
	*n = 0;
	ret = bh_grace_load(ctx->state_dir, g, n);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return ret;
	*n = bh_grace_prune(*g, *n, now);
	return 0;
}

int bh_grace_prune_saved(const struct bh_ctx *ctx, __u64 now, size_t *left)
{
	struct bh_grace *g = NULL;
	size_t n = 0, kept;
	int lock, ret;

	*left = 0;
	lock = ctl_lock(ctx);
	if (lock < 0)
		return lock;
	ret = bh_grace_load(ctx->state_dir, &g, &n);
	if (ret == -ENOENT || (!ret && !n)) {
		ret = 0;
		goto out;
	}
	if (ret && ret != -EINVAL)
		goto out;
	kept = bh_grace_prune(g, n, now);
	/* a bad line (-EINVAL) is dropped by writing the file again */
	if (kept != n || ret)
		ret = bh_grace_save(ctx->state_dir, g, kept);
	*left = kept;
out:
	free(g);
	close(lock);
	return ret;
}

int bh_blocklist_reload(const struct bh_ctx *ctx, const char *path, size_t *entries)
{
	struct bh_blocklist b = {};
	struct bh_diag *d;
	struct bh_maps m;
	int lock, ret;

	*entries = 0;
	d = calloc(1, sizeof(*d));	/* BH_DIAG_MAX messages: not on the stack */
	if (!d)
		return -ENOMEM;
	lock = ctl_lock(ctx);
	if (lock < 0) {
		free(d);
		return lock;
	}
	ret = bh_blocklist_read(path, &b, d);
	ctl_print_warnings(d);
	if (ret) {
		bh_err("blocklist %s: %s; the entries in force stay", path, strerror(-ret));
		goto out;
	}
	if (bh_maps_open(ctx->pin_dir, &m)) {
		ret = -ENODEV;
		goto out;
	}
	ret = block_load(m.block, &b);
	if (ret) {
		bh_err("blocklist %s: cannot write the map: %s", path, strerror(-ret));
		ret = ctl_err_system(ret);
	} else {
		/* no cached allow of a now listed address outlives the load */
		ret = bh_dp_invalidate(&m);
	}
	/* --mode nft: the tables' sets block4/block6, read from the file
	 * again, in one transaction (no address listed before and after is
	 * ever unlisted in between) */
	if (!ret && bh_applied_mode(ctx, BH_MODE_AUTO) == BH_MODE_NFT) {
		ret = ctl_nft_sync_applied(ctx, &m);
		if (ret) {
			bh_err("blocklist %s: cannot update the nftables tables: %s", path,
			       strerror(-ret));
			ret = ctl_err_system(ret);
		}
	}
	bh_maps_close(&m);
	*entries = b.n;
out:
	bh_blocklist_free(&b);
	free(d);
	close(lock);
	return ret;
}
