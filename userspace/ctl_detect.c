// SPDX-License-Identifier: GPL-2.0
/*
 * ctl_detect.c - the controller's part of detection (docs/detect.md): the
 * grace periods of `release --for` and the blocklist file read again into
 * the dataplane. See ctl.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "blocklist.h"
#include "ctl.h"
#include "ctl_int.h"
#include "detect.h"

/* The pinned map @name of the pin dir: an fd, or -errno. */
static int pinned_map(const struct bh_ctx *ctx, const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/maps/%s", ctx->pin_dir, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/* Forget @mac's detection state: its windows start afresh. */
static void detect_forget(const struct bh_ctx *ctx, const __u8 mac[6])
{
	struct bh_mac_key k = {};
	int fd = pinned_map(ctx, "bh_detect");

	if (fd < 0)
		return;
	memcpy(k.mac, mac, 6);
	bpf_map_delete_elem(fd, &k);
	close(fd);
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

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bh_block_key));
}

/* The map @fd holds exactly @b: @b written first, then the stale deleted. */
static int block_sync(int fd, const struct bh_blocklist *b)
{
	struct bh_block_key cur, next, *keys, *stale = NULL, *tmp;
	size_t n_stale = 0, cap = 0;
	void *prev = NULL;
	int ret;

	keys = calloc(b->n ? b->n : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < b->n; i++)
		bh_blocklist_key(&b->v[i], &keys[i]);
	qsort(keys, b->n, sizeof(*keys), key_cmp);
	ret = bh_blocklist_sync(fd, b, NULL);
	if (ret)
		goto out;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (!bsearch(&next, keys, b->n, sizeof(*keys), key_cmp)) {
			if (n_stale == cap) {
				cap = cap ? 2 * cap : 64;
				tmp = realloc(stale, cap * sizeof(*stale));
				if (!tmp) {
					ret = -ENOMEM;
					goto out;
				}
				stale = tmp;
			}
			stale[n_stale++] = next;
		}
		cur = next;
		prev = &cur;
	}
	/* deleted after the walk: a delete while walking restarts it */
	for (size_t i = 0; i < n_stale; i++)
		if (bpf_map_delete_elem(fd, &stale[i]) && errno != ENOENT && !ret)
			ret = -errno;
out:
	free(stale);
	free(keys);
	return ret;
}

int bh_blocklist_reload(const struct bh_ctx *ctx, const char *path, size_t *entries)
{
	struct bh_blocklist b = {};
	struct bh_diag d = {};
	struct bh_maps m;
	int fd = -1, lock, ret;

	*entries = 0;
	lock = ctl_lock(ctx);
	if (lock < 0)
		return lock;
	ret = bh_blocklist_read(path, &b, &d);
	ctl_print_warnings(&d);
	if (ret) {
		bh_err("blocklist %s: %s; the entries in force stay", path, strerror(-ret));
		goto out;
	}
	fd = pinned_map(ctx, "bh_block");
	if (fd < 0) {
		ret = fd == -ENOENT ? -ENODEV : fd;
		goto out;
	}
	ret = block_sync(fd, &b);
	if (ret) {
		bh_err("blocklist %s: cannot write the map: %s", path, strerror(-ret));
		ret = ctl_err_system(ret);
		goto out;
	}
	/* no cached allow of a now listed address outlives the load */
	if (!bh_maps_open(ctx->pin_dir, &m)) {
		ret = bh_dp_invalidate(&m);
		bh_maps_close(&m);
	}
	*entries = b.n;
out:
	if (fd >= 0)
		close(fd);
	bh_blocklist_free(&b);
	close(lock);
	return ret;
}
