// SPDX-License-Identifier: GPL-2.0
/*
 * counters.c - the counters in force: the BPF maps' and, in --mode nft,
 * the nftables tables'. A mode keeps its counters in one place only (the
 * BPF maps stay pinned and idle in --mode nft), so the two are added. Per
 * device, the BPF side has two maps (bh_devctr by slot for the policy's
 * devices, bh_devstats by MAC for the others): added too.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "counters.h"

int bh_counts_verdicts(const struct bh_maps *m, bool nft, __u32 gen,
		       struct bh_counter *reasons, struct bh_counter *rules, size_t n_rules)
{
	__u64 npkts[BH_R_MAX] = {}, nbytes[BH_R_MAX] = {}, *rpkts = NULL, *rbytes = NULL;
	int ret = 0;

	if (n_rules > BH_MAX_RULES)
		n_rules = BH_MAX_RULES;
	if (nft) {
		rpkts = calloc(n_rules + 1, sizeof(*rpkts));
		rbytes = calloc(n_rules + 1, sizeof(*rbytes));
		if (!rpkts || !rbytes) {
			ret = -ENOMEM;
			goto out;
		}
		bh_nft_counters(npkts, nbytes, rpkts, rbytes, n_rules);
	}
	for (int r = 0; r < BH_R_MAX; r++) {
		bh_dp_counter(m->stats, (__u32)r, &reasons[r]);
		reasons[r].packets += npkts[r];
		reasons[r].bytes += nbytes[r];
	}
	for (size_t i = 0; rules && i < n_rules; i++) {
		bh_dp_counter(m->rulestats, gen * BH_MAX_RULES + (__u32)i, &rules[i]);
		if (rpkts) {
			rules[i].packets += rpkts[i];
			rules[i].bytes += rbytes[i];
		}
	}
out:
	free(rpkts);
	free(rbytes);
	return ret;
}

static int cmp_dev(const void *a, const void *b)
{
	return memcmp(((const struct bh_dev_count *)a)->mac,
		      ((const struct bh_dev_count *)b)->mac, 6);
}

/* append the BPF map's rows (per-CPU values summed) */
static int bpf_rows(int fd, struct bh_dev_count **rows, size_t *n)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bh_mac_key cur, next;
	struct bh_dev_stats *v;
	void *prev = NULL;
	int ret = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		struct bh_dev_count *tmp, *row;

		tmp = realloc(*rows, (*n + 1) * sizeof(*tmp));
		if (!tmp) {
			ret = -ENOMEM;
			break;
		}
		*rows = tmp;
		row = &tmp[(*n)++];
		memset(row, 0, sizeof(*row));
		memcpy(row->mac, next.mac, 6);
		if (!bpf_map_lookup_elem(fd, &next, v))
			for (int c = 0; c < ncpu; c++) {
				row->st.packets += v[c].packets;
				row->st.bytes += v[c].bytes;
				row->st.drops += v[c].drops;
			}
		cur = next;
		prev = &cur;
	}
	free(v);
	return ret;
}

/* append a row for each device of the active generation with a counter slot */
static int slot_rows(const struct bh_maps *m, struct bh_dev_count **rows, size_t *n)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bh_dev_slot *slots = NULL;
	struct bh_active act = {};
	struct bh_dev_stats *v;
	size_t ns = 0;
	__u32 zero = 0;
	int ret;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	if (bpf_map_lookup_elem(m->active, &zero, &act))
		return -errno;
	ret = bh_dp_dev_slots(m, act.gen & 1, &slots, &ns);
	if (ret)
		return ret;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < ns; i++) {
		struct bh_dev_count *tmp, *row;

		if (bpf_map_lookup_elem(m->devctr, &slots[i].slot, v))
			continue;
		tmp = realloc(*rows, (*n + 1) * sizeof(*tmp));
		if (!tmp) {
			ret = -ENOMEM;
			break;
		}
		*rows = tmp;
		row = &tmp[(*n)++];
		memset(row, 0, sizeof(*row));
		memcpy(row->mac, slots[i].mac, 6);
		for (int c = 0; c < ncpu; c++) {
			row->st.packets += v[c].packets;
			row->st.bytes += v[c].bytes;
			row->st.drops += v[c].drops;
		}
	}
	free(v);
	free(slots);
	return ret;
}

int bh_counts_devices(const struct bh_maps *m, bool nft,
		      struct bh_dev_count **out, size_t *n)
{
	struct bh_dev_count *rows = NULL, *nrows = NULL, *tmp;
	size_t nr = 0, nn = 0, w = 0;
	int ret;

	*out = NULL;
	*n = 0;
	ret = bpf_rows(m->devstats, &rows, &nr);
	if (!ret)
		ret = slot_rows(m, &rows, &nr);
	if (!ret && nft && !(ret = bh_nft_devstats(&nrows, &nn)) && nn) {
		tmp = realloc(rows, (nr + nn) * sizeof(*tmp));
		if (!tmp) {
			ret = -ENOMEM;
		} else {
			rows = tmp;
			memcpy(rows + nr, nrows, nn * sizeof(*nrows));
			nr += nn;
		}
	}
	free(nrows);
	if (ret) {
		free(rows);
		return ret;
	}
	/* one row per MAC */
	if (nr)
		qsort(rows, nr, sizeof(*rows), cmp_dev);
	for (size_t i = 0; i < nr; i++) {
		struct bh_dev_count *d = w ? &rows[w - 1] : NULL;

		if (d && !memcmp(d->mac, rows[i].mac, 6)) {
			d->st.packets += rows[i].st.packets;
			d->st.bytes += rows[i].st.bytes;
			d->st.drops += rows[i].st.drops;
		} else {
			rows[w++] = rows[i];
		}
	}
	*out = rows;
	*n = w;
	return 0;
}

const struct bh_dev_count *bh_counts_find(const struct bh_dev_count *rows, size_t n,
					  const __u8 mac[6])
{
	struct bh_dev_count k = {};

	memcpy(k.mac, mac, 6);
	return n ? bsearch(&k, rows, n, sizeof(*rows), cmp_dev) : NULL;
}
