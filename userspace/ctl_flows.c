// SPDX-License-Identifier: GPL-2.0
/*
 * ctl_flows.c - the flow records' side of the controller (issue 17): the
 * pinned bh_flow map and its bh_flowstat counters opened read-only and read
 * whole, for the daemon's drain into the history (flowlog.c) and for
 * `flows` and `learn`, which add what no drain has written yet. See ctl.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ctl.h"
#include "ctl_int.h"

#define FLOW_MAP	"bh_flow"
#define FLOWSTAT_MAP	"bh_flowstat"

static int obj_get_ro(const char *pin_dir, const char *name)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/maps/%s", pin_dir, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get_opts(path, &o);
	return fd < 0 ? -errno : fd;
}

int bh_flow_map_open(const struct bh_ctx *ctx, struct bh_flow_map *fm)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int ret;

	fm->flow = fm->stat = -1;
	fm->max_entries = 0;
	ret = obj_get_ro(ctx->pin_dir, FLOW_MAP);
	if (ret < 0)
		return ret == -ENOENT || ret == -ENOTDIR ? 0 : ret;
	fm->flow = ret;
	if (!bpf_obj_get_info_by_fd(fm->flow, &info, &len)) {
		if (info.key_size != sizeof(struct bh_flow_key) ||
		    info.value_size != sizeof(struct bh_flow_val)) {
			bh_flow_map_close(fm);
			return -EPROTO;	/* another ABI's map */
		}
		fm->max_entries = info.max_entries;
	}
	ret = obj_get_ro(ctx->pin_dir, FLOWSTAT_MAP);
	fm->stat = ret < 0 ? -1 : ret;	/* the counters are a nicety */
	return 1;
}

void bh_flow_map_close(struct bh_flow_map *fm)
{
	if (fm->flow >= 0)
		close(fm->flow);
	if (fm->stat >= 0)
		close(fm->stat);
	fm->flow = fm->stat = -1;
}

/* bh_flowstat summed over the CPUs */
static int read_ctr(int fd, struct bh_flow_ctr *ctr)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bh_flow_ctr *v;
	__u32 zero = 0;
	int ret = 0;

	memset(ctr, 0, sizeof(*ctr));
	if (fd < 0 || ncpu <= 0)
		return -ENOENT;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, v))
		ret = -errno;
	for (int i = 0; !ret && i < ncpu; i++) {
		ctr->created += v[i].created;
		ctr->failed += v[i].failed;
	}
	free(v);
	return ret;
}

int bh_flow_map_read(const struct bh_flow_map *fm, struct bh_flow_entry **out, size_t *n,
		     struct bh_flow_ctr *ctr, bool *have_ctr)
{
	struct bh_flow_key cur, next;
	struct bh_flow_entry *v = NULL, *tmp;
	size_t cap = 0, cnt = 0;
	void *prev = NULL;
	int ret = 0;

	*out = NULL;
	*n = 0;
	/* the counters first: entries made after it are counted as present,
	 * so a race reads fewer evictions, never more */
	*have_ctr = !read_ctr(fm->stat, ctr);
	while (!bpf_map_get_next_key(fm->flow, prev, &next)) {
		if (cnt == cap) {
			cap = cap ? 2 * cap : 256;
			tmp = realloc(v, cap * sizeof(*v));
			if (!tmp) {
				ret = -ENOMEM;
				goto err;
			}
			v = tmp;
		}
		/* an entry evicted between the two calls is skipped */
		if (!bpf_map_lookup_elem(fm->flow, &next, &v[cnt].v)) {
			v[cnt].k = next;
			cnt++;
		}
		cur = next;
		prev = &cur;
		/* an LRU churned under the walk can restart it: bounded */
		if (fm->max_entries && cnt > 2 * (size_t)fm->max_entries)
			break;
	}
	*out = v;
	*n = cnt;
	return 0;
err:
	free(v);
	return ret;
}

int ctl_flows_drain(const struct bh_ctx *ctx, const struct bh_flowlog_cfg *cfg,
		    struct bh_flowlog_stats *st)
{
	struct bh_flow_entry *e = NULL;
	struct bh_flowlog *fl = NULL;
	struct bh_flowlog_cfg own = { 0 };
	struct bh_flow_map fm;
	struct bh_flow_ctr ctr;
	char boot[64];
	bool have_ctr;
	size_t n = 0;
	int ret;

	ret = bh_flow_map_open(ctx, &fm);
	if (ret <= 0)
		return ret;
	ret = bh_flow_map_read(&fm, &e, &n, &ctr, &have_ctr);
	bh_flow_map_close(&fm);
	if (ret)
		goto out;
	if (!cfg) {
		/* the bounds of the policy in force (flows.keep, flows.bytes) */
		struct bh_policy *p = bh_applied_file(ctx);

		if (p) {
			own.keep_days = p->flows.keep_days;
			own.max_bytes = p->flows.bytes;
		}
		bh_policy_free(p);
		cfg = &own;
	}
	/* opened for each drain: the cursor on disk is the one truth, whoever
	 * drained last (the daemon, or a down) */
	ret = bh_flowlog_open(ctx->state_dir, cfg,
			      bh_flowlog_boot_id(boot, sizeof(boot)) ? NULL : boot, &fl);
	if (ret)
		goto out;
	ret = bh_flowlog_drain(fl, e, n, have_ctr ? &ctr : NULL, bh_flowlog_clock_offset(),
			       (__u64)time(NULL));
	if (st)
		*st = *bh_flowlog_stats(fl);
	if (!ret)
		ret = 1;
out:
	bh_flowlog_close(fl);
	free(e);
	return ret;
}

int bh_flows_drain(const struct bh_ctx *ctx, const struct bh_flowlog_cfg *cfg,
		   struct bh_flowlog_stats *st)
{
	int lock, ret;

	lock = ctl_lock(ctx);
	if (lock < 0)
		return lock;
	ret = ctl_flows_drain(ctx, cfg, st);
	close(lock);
	return ret;
}

int bh_flows_collect(const struct bh_ctx *ctx, __u64 since, const __u8 *mac,
		     struct bh_flow_set *out, struct bh_diag *d, struct bh_flows_live *live)
{
	struct bh_flow_entry *e = NULL;
	struct bh_flow_map fm;
	char boot[64];
	size_t n = 0;
	int ret;

	memset(live, 0, sizeof(*live));
	ret = bh_flowlog_read(ctx->state_dir, since, mac, out, d);
	if (ret)
		return ret;
	ret = bh_flow_map_open(ctx, &fm);
	if (ret < 0)
		return ret;
	if (!ret)
		return 0;	/* no live map: the history alone */
	live->open = true;
	live->max_entries = fm.max_entries;
	ret = bh_flow_map_read(&fm, &e, &n, &live->ctr, &live->have_ctr);
	bh_flow_map_close(&fm);
	if (ret)
		return ret;
	live->entries = n;
	ret = bh_flowlog_pending(ctx->state_dir,
				 bh_flowlog_boot_id(boot, sizeof(boot)) ? NULL : boot,
				 e, n, bh_flowlog_clock_offset(), since, mac, out);
	free(e);
	return ret;
}
