// SPDX-License-Identifier: GPL-2.0
/*
 * dp_apply.c - a compiled policy into the pinned maps: written into the
 * inactive generation in batches, then one flip of bh_active makes it
 * live at once; the old generation is purged once no program can still
 * be reading it. Also the devices' counter slots (bh_devctr).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane.h"

/* ---- policy generations ------------------------------------------------- */

/* Wait until every BPF program that may have read the old generation is
 * done: the kernel runs synchronize_rcu() on an update of a map-in-map. */
static int wait_for_programs(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);
	int inner, outer, ret = 0;
	__u32 key = 0;

	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, 1, NULL);
	if (inner < 0)
		return -errno;
	opts.inner_map_fd = inner;
	outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, NULL, 4, 4, 1, &opts);
	if (outer < 0) {
		ret = -errno;
		goto out;
	}
	if (bpf_map_update_elem(outer, &key, &inner, BPF_ANY))
		ret = -errno;
	close(outer);
out:
	close(inner);
	return ret;
}

/*
 * Map writes go in batches (BPF_MAP_*_BATCH, one syscall for many
 * entries); a map type without them (ENOTSUPP, or EINVAL from a kernel
 * without the commands) is written one entry at a time. A batch that fails
 * halfway reports the error like a single write: the entries written so far
 * stay in the inactive generation and the next apply purges them.
 */
#define BATCH_MAX	8192	/* entries per batch syscall */
#ifndef ENOTSUPP
#define ENOTSUPP	524	/* the kernel's "no batch ops for this map type" */
#endif

bool bh_dp_batch = true;

static bool batch_unsupported(int err)
{
	return err == -ENOTSUPP || err == -EOPNOTSUPP || err == -EINVAL;
}

/* what a batch call answers where the kernel has none: nothing done */
static int no_batch(__u32 *cnt)
{
	*cnt = 0;
	errno = EOPNOTSUPP;
	return -1;
}

/* Write @n keys (@ksz bytes each) with their values (@vsz bytes each). */
static int update_many(int fd, const char *keys, const char *vals, size_t n,
		       size_t ksz, size_t vsz)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	size_t i = 0;

	while (i < n) {
		__u32 cnt = (__u32)(n - i < BATCH_MAX ? n - i : BATCH_MAX);
		int err = bh_dp_batch ? bpf_map_update_batch(fd, keys + i * ksz, vals + i * vsz,
							     &cnt, &opts) : no_batch(&cnt);

		if (!err) {
			i += cnt;
			continue;
		}
		err = -errno;
		if (!batch_unsupported(err) || cnt)
			return err;
		for (; i < n; i++)	/* no batches for this map type */
			if (bpf_map_update_elem(fd, keys + i * ksz, vals + i * vsz, BPF_ANY))
				return -errno;
	}
	return 0;
}

/* Delete @n keys; a key already gone is no error. */
static int delete_many(int fd, const char *keys, size_t n, size_t ksz)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	size_t i = 0;

	while (i < n) {
		__u32 cnt = (__u32)(n - i < BATCH_MAX ? n - i : BATCH_MAX);
		int err = bh_dp_batch ? bpf_map_delete_batch(fd, keys + i * ksz, &cnt, &opts) :
					no_batch(&cnt);

		i += cnt;
		if (!err)
			continue;
		err = -errno;
		if (err == -ENOENT) {	/* keys[i] is gone already */
			i++;
			continue;
		}
		if (!batch_unsupported(err) || cnt)
			return err;
		for (; i < n; i++)
			if (bpf_map_delete_elem(fd, keys + i * ksz) && errno != ENOENT)
				return -errno;
	}
	return 0;
}

struct keybuf {
	char *keys;
	size_t n, cap, ksz;
};

static int keybuf_add(struct keybuf *kb, const void *key)
{
	if (kb->n == kb->cap) {
		size_t cap = kb->cap ? 2 * kb->cap : 1024;
		char *tmp = realloc(kb->keys, cap * kb->ksz);

		if (!tmp)
			return -ENOMEM;
		kb->keys = tmp;
		kb->cap = cap;
	}
	memcpy(kb->keys + kb->n * kb->ksz, key, kb->ksz);
	kb->n++;
	return 0;
}

/* Every key of @fd (walked one by one), into @kb when its gen byte is @gen. */
static int keys_of_gen_slow(int fd, struct keybuf *kb, size_t gen_off, __u8 gen)
{
	char cur[64], next[64];
	void *prev = NULL;
	int ret;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		if ((__u8)next[gen_off] == gen) {
			ret = keybuf_add(kb, next);
			if (ret)
				return ret;
		}
		memcpy(cur, next, kb->ksz);
		prev = cur;
	}
	return 0;
}

/* The same in batches of keys and values (BPF_MAP_LOOKUP_BATCH). */
static int keys_of_gen(int fd, struct keybuf *kb, size_t vsz, size_t gen_off, __u8 gen)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char *keys, *vals;
	__u64 token[8] = {};	/* the kernel's cursor: a bucket index, or a key */
	bool first = true, done = false;
	int ret = 0;

	if (!bh_dp_batch)
		return keys_of_gen_slow(fd, kb, gen_off, gen);

	/* zeroed: valgrind does not know what BPF_MAP_LOOKUP_BATCH writes */
	keys = calloc(BATCH_MAX, kb->ksz);
	vals = calloc(BATCH_MAX, vsz);
	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (!done) {
		__u32 cnt = BATCH_MAX;

		if (bpf_map_lookup_batch(fd, first ? NULL : token, token, keys, vals,
					 &cnt, &opts)) {
			ret = -errno;
			if (ret != -ENOENT) {
				if (first && batch_unsupported(ret))
					ret = keys_of_gen_slow(fd, kb, gen_off, gen);
				goto out;
			}
			ret = 0;
			done = true;	/* the last batch, maybe with keys */
		}
		first = false;
		for (__u32 i = 0; i < cnt; i++) {
			const char *k = keys + i * kb->ksz;

			if ((__u8)k[gen_off] != gen)
				continue;
			ret = keybuf_add(kb, k);
			if (ret)
				goto out;
		}
	}
out:
	free(keys);
	free(vals);
	return ret;
}

/* Delete every key of @fd whose generation byte (at @gen_off) is @gen. */
static int purge_gen(int fd, size_t key_size, size_t val_size, size_t gen_off, __u8 gen)
{
	struct keybuf kb = { .ksz = key_size };
	int ret;

	ret = keys_of_gen(fd, &kb, val_size, gen_off, gen);
	if (!ret)
		ret = delete_many(fd, kb.keys, kb.n, key_size);
	free(kb.keys);
	return ret;
}

/* Write @n {key, value} records of @stride bytes, setting the gen byte. */
static int write_entries(int fd, const void *ents, size_t n, size_t stride,
			 size_t key_size, size_t val_off, size_t val_size,
			 size_t gen_off, __u8 gen)
{
	char *keys = malloc((n ? n : 1) * key_size);
	char *vals = malloc((n ? n : 1) * val_size);
	int ret = -ENOMEM;

	if (!keys || !vals)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *e = (const char *)ents + i * stride;

		memcpy(keys + i * key_size, e, key_size);
		keys[i * key_size + gen_off] = (char)gen;
		memcpy(vals + i * val_size, e + val_off, val_size);
	}
	ret = update_many(fd, keys, vals, n, key_size, val_size);
out:
	free(keys);
	free(vals);
	return ret;
}

#define WRITE(fd, arr, n, type, gen_off, gen) \
	write_entries(fd, arr, n, sizeof(type), sizeof(((type *)0)->k), \
		      offsetof(type, v), sizeof(((type *)0)->v), gen_off, gen)
#define PURGE(fd, type, gen_off, gen) \
	purge_gen(fd, sizeof(((type *)0)->k), sizeof(((type *)0)->v), gen_off, gen)

/* Array keys gen * @per + [0, @n), all set to @val (@vsz bytes). */
static int fill_array(int fd, __u32 per, __u8 gen, size_t n, const void *val, size_t vsz)
{
	__u32 *keys = malloc(BATCH_MAX * sizeof(*keys));
	char *vals = malloc(BATCH_MAX * vsz);
	int ret = -ENOMEM;

	if (!keys || !vals)
		goto out;
	for (size_t i = 0; i < BATCH_MAX; i++)
		memcpy(vals + i * vsz, val, vsz);
	ret = 0;
	for (size_t i = 0; i < n && !ret; i += BATCH_MAX) {
		size_t cnt = n - i < BATCH_MAX ? n - i : BATCH_MAX;

		for (size_t j = 0; j < cnt; j++)
			keys[j] = gen * per + (__u32)(i + j);
		ret = update_many(fd, (char *)keys, vals, cnt, sizeof(*keys), vsz);
	}
out:
	free(keys);
	free(vals);
	return ret;
}

/* The compiled groups, keys gen * BH_MAX_GROUPS + id. */
static int write_groups(int fd, __u8 gen, const struct bh_group *groups, size_t n)
{
	__u32 *keys = malloc((n ? n : 1) * sizeof(*keys));
	int ret;

	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		keys[i] = gen * BH_MAX_GROUPS + (__u32)i;
	ret = update_many(fd, (const char *)keys, (const char *)groups, n,
			  sizeof(*keys), sizeof(*groups));
	free(keys);
	return ret;
}

/*
 * A generation purged to the last key says so in its bh_config entry: no
 * BH_CFG_VALID, and abi_version set (an entry zeroed by anything else has
 * 0). An apply into it skips the purge, a scan of every map; it clears the
 * mark before it writes a key, so a generation written partway (a failed or
 * killed apply) is never taken for a purged one.
 */
static const struct bh_config purged_cfg = { .abi_version = BH_ABI_VERSION };

static bool purged(const struct bh_maps *m, __u8 gen)
{
	struct bh_config cfg;
	__u32 key = gen;

	return !bpf_map_lookup_elem(m->config, &key, &cfg) &&
	       !memcmp(&cfg, &purged_cfg, sizeof(cfg));
}

static int purge_all(const struct bh_maps *m, __u8 gen)
{
	struct bh_group zero_grp = {};
	__u32 key = gen;
	int ret;

	ret = PURGE(m->devices, struct bh_dev_ent, 0, gen);
	if (!ret)
		ret = PURGE(m->ips, struct bh_ip_ent, 0, gen);
	if (!ret)
		ret = PURGE(m->policy, struct bh_pol_ent, 0, gen);
	if (!ret)
		ret = PURGE(m->talk, struct bh_talk_ent, 0, gen);
	if (!ret)
		ret = PURGE(m->inet, struct bh_inet_ent, offsetof(struct bh_inet_key, gen), gen);
	if (!ret)
		ret = fill_array(m->groups, BH_MAX_GROUPS, gen, BH_MAX_GROUPS,
				 &zero_grp, sizeof(zero_grp));
	if (ret)
		return ret;
	if (bpf_map_update_elem(m->config, &key, &purged_cfg, BPF_ANY))
		return -errno;
	return 0;
}

static int zero_rulestats(int fd, __u8 gen, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bh_counter *zero;
	int ret;

	if (ncpu < 0)
		return ncpu;
	zero = calloc((size_t)ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	ret = fill_array(fd, BH_MAX_RULES, gen, n < BH_MAX_RULES ? n : BH_MAX_RULES,
			 zero, (size_t)ncpu * sizeof(*zero));
	free(zero);
	return ret;
}

/* ---- device counter slots (bh_devctr, see bulkhead_abi.h) ------------------ */

static int cmp_slot_mac(const void *a, const void *b)
{
	return memcmp(((const struct bh_dev_slot *)a)->mac, ((const struct bh_dev_slot *)b)->mac, 6);
}

static const struct bh_dev_slot *slot_find(const struct bh_dev_slot *s, size_t n, const __u8 mac[6])
{
	struct bh_dev_slot k = {};

	memcpy(k.mac, mac, 6);
	return n ? bsearch(&k, s, n, sizeof(*s), cmp_slot_mac) : NULL;
}

int bh_dp_dev_slots(const struct bh_maps *m, __u8 gen, struct bh_dev_slot **out, size_t *n)
{
	struct keybuf kb = { .ksz = sizeof(struct bh_dev_key) };
	struct bh_dev_slot *s = NULL;
	int ret;

	*out = NULL;
	*n = 0;
	ret = keys_of_gen(m->devices, &kb, sizeof(struct bh_dev_val),
			  offsetof(struct bh_dev_key, gen), gen);
	if (!ret && kb.n && !(s = calloc(kb.n, sizeof(*s))))
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < kb.n; i++) {
		const struct bh_dev_key *k = (const void *)(kb.keys + i * kb.ksz);
		struct bh_dev_val v;

		if (bpf_map_lookup_elem(m->devices, k, &v) || !v.ctr_slot ||
		    v.ctr_slot >= BH_MAX_DEVCTR)
			continue;
		memcpy(s[*n].mac, k->mac, 6);
		s[(*n)++].slot = v.ctr_slot;
	}
	free(kb.keys);
	if (ret) {
		free(s);
		*n = 0;
		return ret;
	}
	if (*n)
		qsort(s, *n, sizeof(*s), cmp_slot_mac);
	*out = s;
	return 0;
}

/*
 * Give each of @devs its counter slot: the one it has in the active
 * generation (@old), else the lowest slot neither generation uses, its
 * counters and deny event bucket zeroed first; none (0: counted in
 * bh_devstats, its events limited in bh_evlimit) when every slot is taken.
 */
static int assign_slots(const struct bh_maps *m, struct bh_dev_ent *devs, size_t n,
			const struct bh_dev_slot *old, size_t n_old)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bh_evlimit zero_ev = {};
	struct bh_dev_stats *zero = NULL;
	__u8 *used = calloc(BH_MAX_DEVCTR, 1);
	__u32 next = 1;
	int ret = 0;

	if (ncpu <= 0)
		ret = ncpu ? ncpu : -EINVAL;
	else if (!used || !(zero = calloc((size_t)ncpu, sizeof(*zero))))
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < n_old; i++)
		used[old[i].slot] = 1;
	for (size_t i = 0; !ret && i < n; i++) {
		const struct bh_dev_slot *o = slot_find(old, n_old, devs[i].k.mac);

		devs[i].v.ctr_slot = o ? o->slot : 0;
	}
	for (size_t i = 0; !ret && i < n; i++) {
		if (devs[i].v.ctr_slot)
			continue;
		while (next < BH_MAX_DEVCTR && used[next])
			next++;
		if (next == BH_MAX_DEVCTR)
			break;		/* the rest are counted by MAC */
		if (bpf_map_update_elem(m->devctr, &next, zero, BPF_ANY) ||
		    bpf_map_update_elem(m->evslot, &next, &zero_ev, BPF_ANY)) {
			ret = -errno;
			break;
		}
		used[next] = 1;
		devs[i].v.ctr_slot = next;
	}
	free(used);
	free(zero);
	return ret;
}

/*
 * A device that leaves the policy: the drops its slot's bucket holds
 * without an event go to its bh_evlimit bucket (made with the slot's
 * tokens if it has none), so its next event still carries them.
 */
static int release_evslot(const struct bh_maps *m, __u32 slot, const struct bh_mac_key *mk)
{
	struct bh_evlimit sv, lv, zero = {};

	if (bpf_map_lookup_elem(m->evslot, &slot, &sv))
		return -errno;
	if (sv.suppressed) {
		if (bpf_map_lookup_elem(m->evlimit, mk, &lv))
			lv = sv;
		else
			lv.suppressed += sv.suppressed;
		if (bpf_map_update_elem(m->evlimit, mk, &lv, BPF_ANY))
			return -errno;
	}
	return bpf_map_update_elem(m->evslot, &slot, &zero, BPF_ANY) ? -errno : 0;
}

/*
 * After the old generation is gone: the counts of each device that left
 * (in @old, not in the new generation @cur) go to its bh_devstats entry,
 * its undelivered drops to its bh_evlimit bucket, and its slot is zeroed
 * for whoever gets it next.
 */
static int release_slots(const struct bh_maps *m, const struct bh_dev_slot *old, size_t n_old,
			 const struct bh_dev_slot *cur, size_t n_cur)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bh_dev_stats *v, *lru, *zero;
	int ret = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	lru = calloc((size_t)ncpu, sizeof(*lru));
	zero = calloc((size_t)ncpu, sizeof(*zero));
	if (!v || !lru || !zero)
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < n_old; i++) {
		struct bh_mac_key mk = {};

		if (slot_find(cur, n_cur, old[i].mac))
			continue;
		memcpy(mk.mac, old[i].mac, 6);
		if (bpf_map_lookup_elem(m->devctr, &old[i].slot, v)) {
			ret = -errno;
			break;
		}
		if (bpf_map_lookup_elem(m->devstats, &mk, lru))
			memset(lru, 0, (size_t)ncpu * sizeof(*lru));
		for (int c = 0; c < ncpu; c++) {
			lru[c].packets += v[c].packets;
			lru[c].bytes += v[c].bytes;
			lru[c].drops += v[c].drops;
			if (v[c].last_seen > lru[c].last_seen)
				lru[c].last_seen = v[c].last_seen;
		}
		if (bpf_map_update_elem(m->devstats, &mk, lru, BPF_ANY) ||
		    bpf_map_update_elem(m->devctr, &old[i].slot, zero, BPF_ANY))
			ret = -errno;
		else
			ret = release_evslot(m, old[i].slot, &mk);
	}
	free(v);
	free(lru);
	free(zero);
	return ret;
}

int bh_dp_apply(const struct bh_maps *m, const struct bh_compiled *c,
		char *err, size_t errlen)
{
	struct bh_active act = {}, next;
	struct bh_config cfg, zero_cfg = {};
	struct bh_dev_slot *old = NULL, *cur = NULL;
	struct bh_dev_ent *devs = NULL;
	size_t n_old = 0, n_cur = 0;
	__u32 zero = 0, key;
	const char *what;
	__u8 ng;
	int ret;

	if (bpf_map_lookup_elem(m->active, &zero, &act)) {
		ret = -errno;
		what = "read the active generation";
		goto fail;
	}
	ng = act.gen ? 0 : 1;

	/* the devices keep their counter slots: the active generation's */
	what = "read the devices' counter slots";
	ret = bh_dp_dev_slots(m, act.gen & 1, &old, &n_old);
	if (ret)
		goto fail;

	what = "clear the inactive generation";
	if (!purged(m, ng)) {
		ret = purge_all(m, ng);
		if (ret)
			goto fail;
	}
	key = ng;
	if (bpf_map_update_elem(m->config, &key, &zero_cfg, BPF_ANY)) {
		ret = -errno;
		goto fail;
	}

	what = "write the new policy";
	devs = malloc((c->n_devs ? c->n_devs : 1) * sizeof(*devs));
	if (!devs) {
		ret = -ENOMEM;
		goto fail;
	}
	memcpy(devs, c->devs, c->n_devs * sizeof(*devs));
	ret = assign_slots(m, devs, c->n_devs, old, n_old);
	if (!ret)
		ret = write_groups(m->groups, ng, c->groups, c->n_groups);
	if (!ret)
		ret = WRITE(m->devices, devs, c->n_devs, struct bh_dev_ent, 0, ng);
	if (!ret)
		ret = WRITE(m->ips, c->ips, c->n_ips, struct bh_ip_ent, 0, ng);
	if (!ret)
		ret = WRITE(m->policy, c->pols, c->n_pols, struct bh_pol_ent, 0, ng);
	if (!ret)
		ret = WRITE(m->talk, c->talks, c->n_talks, struct bh_talk_ent, 0, ng);
	if (!ret)
		ret = WRITE(m->inet, c->inets, c->n_inets, struct bh_inet_ent,
			    offsetof(struct bh_inet_key, gen), ng);
	if (!ret)
		ret = zero_rulestats(m->rulestats, ng, c->n_rules);
	if (ret)
		goto fail;

	next.gen = ng;
	next.epoch = act.epoch + 1;
	cfg = c->cfg;
	cfg.flags |= BH_CFG_VALID;
	cfg.epoch = next.epoch;
	cfg.abi_version = BH_ABI_VERSION;
	key = ng;
	if (bpf_map_update_elem(m->config, &key, &cfg, BPF_ANY)) {
		ret = -errno;
		goto fail;
	}

	/* the flip: one 8-byte array store */
	what = "switch to the new generation";
	if (bpf_map_update_elem(m->active, &zero, &next, BPF_ANY)) {
		ret = -errno;
		goto fail;
	}

	/* the new policy is in force; the old one goes once no packet uses it */
	what = "remove the old generation";
	ret = wait_for_programs();
	if (!ret)
		ret = purge_all(m, act.gen);
	/* no packet counts into the slots of devices that left any more */
	if (!ret) {
		what = "carry the counters of devices that left";
		ret = bh_dp_dev_slots(m, ng, &cur, &n_cur);
	}
	if (!ret)
		ret = release_slots(m, old, n_old, cur, n_cur);
	if (ret) {
		/* harmless: the next apply purges it; report, the policy is live */
		snprintf(err, errlen, "new policy active, but cannot %s: %s",
			 what, strerror(-ret));
	}
	free(old);
	free(cur);
	free(devs);
	return (int)next.epoch;

fail:
	snprintf(err, errlen, "cannot %s: %s (the previous policy stays in force)",
		 what, strerror(-ret));
	free(old);
	free(devs);
	return ret;
}
