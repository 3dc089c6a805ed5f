// SPDX-License-Identifier: GPL-2.0
/*
 * dataplane.c - load and feed the BPF dataplane: the pin dir, the pinned
 * maps (a map whose definition changed set aside for the load), the
 * gateway's own addresses, what the kernel knew before Bulkhead came up,
 * the quarantine and the counters. Attaching to ports: dp_attach.c; the
 * generation flip that makes a policy change atomic: dp_apply.c.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <net/if.h>
#include <linux/neighbour.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <zlib.h>

#include "dataplane.h"
#include "state.h"
#include "bulkhead.skel.h"

#include "dp_int.h"

static const struct {
	const char *name;
	size_t off;
} map_table[] = {
#define M(n, f) { n, offsetof(struct bh_maps, f) }
	M("bh_active", active),		M("bh_config", config),
	M("bh_groups", groups),		M("bh_devices", devices),
	M("bh_ips", ips),		M("bh_policy", policy),
	M("bh_inet", inet),		M("bh_talk", talk),
	M("bh_gw_mac", gw_mac),		M("bh_gw_ip", gw_ip),
	M("bh_lan", lan),		M("bh_quarantine", quarantine),
	M("bh_ct", ct),			M("bh_frag", frag),
	M("bh_stats", stats),		M("bh_rulestats", rulestats),
	M("bh_devstats", devstats),	M("bh_devctr", devctr),
	M("bh_events", events),		M("bh_evlimit", evlimit),
	M("bh_evcpu", evcpu),
	M("bh_vepoch", vepoch),		M("bh_vcache", vcache),
	M("bh_clock", clock),		M("bh_evslot", evslot),
	M("bh_port", port),		M("bh_macport", macport),
	M("bh_claim", claim),
	M("bh_flow", flow),		M("bh_flowstat", flowstat),
	M("bh_detect", detect),		M("bh_detect_cfg", detect_cfg),
	M("bh_signals", signals),	M("bh_block", block),
	M("bh_pin", pin),		M("bh_pinned", pinned),
#undef M
};

#define MAP_FD(m, i)	(*(int *)((char *)(m) + map_table[i].off))
#define N_MAPS		(sizeof(map_table) / sizeof(map_table[0]))

const char *bh_mode_name(enum bh_mode m)
{
	switch (m) {
	case BH_MODE_XDP:
		return "xdp";
	case BH_MODE_TC:
		return "tc";
	case BH_MODE_NFT:
		return "nft";
	default:
		return "auto";
	}
}

int bh_mode_parse(const char *s, enum bh_mode *m)
{
	if (!strcmp(s, "auto"))
		*m = BH_MODE_AUTO;
	else if (!strcmp(s, "xdp"))
		*m = BH_MODE_XDP;
	else if (!strcmp(s, "tc"))
		*m = BH_MODE_TC;
	else if (!strcmp(s, "nft"))
		*m = BH_MODE_NFT;
	else
		return -EINVAL;
	return 0;
}

/* ---- pin dir ---------------------------------------------------------- */

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

int bh_pin_dir_check(const char *pin_dir, char *err, size_t errlen)
{
	char parent[PATH_MAX];
	char sub[PATH_MAX];
	int ret;

	if (pin_dir[0] != '/') {
		snprintf(err, errlen, "pin dir %s: must be an absolute path", pin_dir);
		return -EINVAL;
	}
	/* the nearest existing ancestor decides which filesystem we are on */
	snprintf(parent, sizeof(parent), "%s", pin_dir);
	while (access(parent, F_OK)) {
		char *slash = strrchr(parent, '/');

		if (!slash || slash == parent) {
			strcpy(parent, "/");
			break;
		}
		*slash = '\0';
	}
	if (!on_bpffs(parent)) {
		/* like tc and systemd: bring up bpffs at its usual place */
		if (!strncmp(pin_dir, "/sys/fs/bpf/", 12) &&
		    !on_bpffs("/sys/fs/bpf") && !access("/sys/fs/bpf", F_OK) &&
		    !mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") &&
		    on_bpffs("/sys/fs/bpf"))
			goto mkdirs;
		snprintf(err, errlen,
			 "pin dir %s: not on a bpf filesystem (mount one with 'mount -t bpf bpf DIR' or pick a dir under /sys/fs/bpf)",
			 pin_dir);
		return -EINVAL;
	}
mkdirs:
	ret = mkdir_p(pin_dir, 0700);
	if (!ret) {
		snprintf(sub, sizeof(sub), "%s/maps", pin_dir);
		ret = mkdir_p(sub, 0700);
	}
	if (!ret) {
		snprintf(sub, sizeof(sub), "%s/links", pin_dir);
		ret = mkdir_p(sub, 0700);
	}
	if (!ret && chmod(pin_dir, 0700))
		ret = -errno;
	if (ret)
		snprintf(err, errlen, "pin dir %s: %s", pin_dir, strerror(-ret));
	return ret;
}

/* ---- maps ------------------------------------------------------------- */

static void maps_reset(struct bh_maps *m)
{
	for (size_t i = 0; i < N_MAPS; i++)
		MAP_FD(m, i) = -1;
}

void bh_maps_close(struct bh_maps *m)
{
	for (size_t i = 0; i < N_MAPS; i++) {
		if (MAP_FD(m, i) >= 0)
			close(MAP_FD(m, i));
		MAP_FD(m, i) = -1;
	}
}

int bh_maps_open(const char *pin_dir, struct bh_maps *m)
{
	char path[PATH_MAX];
	int ret;

	maps_reset(m);
	for (size_t i = 0; i < N_MAPS; i++) {
		snprintf(path, sizeof(path), "%s/maps/%s", pin_dir, map_table[i].name);
		MAP_FD(m, i) = bpf_obj_get(path);
		if (MAP_FD(m, i) < 0) {
			ret = -errno;
			bh_maps_close(m);
			return ret;
		}
	}
	return 0;
}

/* ---- load ------------------------------------------------------------- */

int dp_rm_tree(const char *path)
{
	struct dirent *de;
	DIR *dir = opendir(path);

	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		char sub[PATH_MAX];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (!lstat(sub, &st) && S_ISDIR(st.st_mode))
			dp_rm_tree(sub);
		else
			unlink(sub);
	}
	closedir(dir);
	return rmdir(path) ? -errno : 0;
}


__u32 bh_dp_flows_max;

/* max_entries of the map pinned as @name, 0 when none is */
static __u32 pinned_max(const char *pin_dir, const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/maps/%s", pin_dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.max_entries = 0;
	close(fd);
	return info.max_entries;
}

int bh_dp_flows_size(const struct bh_maps *m, __u32 *max)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(m->flow, &info, &len))
		return -errno;
	*max = info.max_entries;
	return 0;
}

/*
 * Open the skeleton with every map pinned under <pin_dir>/maps, and load:
 * the programs too when @progs (nftables judges without them: the maps
 * alone load in milliseconds, where the verifier takes seconds).
 */
/* the skeleton's program of kind @i (enum dp_prog) */
static struct bpf_program *skel_prog(const struct bulkhead_bpf *skel, int i)
{
	switch (i) {
	case DP_PROG_XDP:
		return skel->progs.bulkhead_xdp;
	case DP_PROG_TC_IN:
		return skel->progs.bulkhead_tc_in;
	default:
		return skel->progs.bulkhead_tc_eg;
	}
}

static int open_load(struct bh_dp *dp, const char *pin_dir, unsigned int progs)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	__u32 flows;
	int ret;

	dp->skel = bulkhead_bpf__open();
	if (!dp->skel)
		return -errno;
	/* the flow records: the policy's size, but a running map keeps its own
	 * (and what it holds) until down */
	flows = pinned_max(pin_dir, "bh_flow");
	if (!flows)
		flows = bh_dp_flows_max ? bh_dp_flows_max : BH_MAX_FLOWS;
	ret = bpf_map__set_max_entries(dp->skel->maps.bh_flow, flows);
	if (ret)
		return ret;
	bpf_object__for_each_map(map, dp->skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/maps/%s", pin_dir, bpf_map__name(map));
		ret = bpf_map__set_pin_path(map, path);
		if (ret)
			return ret;
	}
	/* only the programs asked for go through the verifier */
	for (int i = 0; i < DP_PROG_MAX; i++)
		bpf_program__set_autoload(skel_prog(dp->skel, i), progs & DP_PROG_BIT(i));
	return bulkhead_bpf__load(dp->skel);
}

/* the programs bh_dp_attach() takes, and their pins under <pin_dir>/progs */
static const char *const prog_pin_name[DP_PROG_MAX] = {
	[DP_PROG_XDP] = "xdp",
	[DP_PROG_TC_IN] = "tc_in",
	[DP_PROG_TC_EG] = "tc_eg",
};

static void prog_pin_path(char *buf, size_t len, const char *pin_dir, int i, const char *suffix)
{
	snprintf(buf, len, "%s/progs/%s%s", pin_dir, prog_pin_name[i], suffix);
}

/*
 * Pin the loaded programs for a later bh_dp_open_pinned(): a port that
 * comes up gets the programs already judging, with the maps they were
 * loaded with, without a new verification. Each pin is replaced by a
 * rename, so a reader sees the old program or the new. 0 or -errno.
 */
static int progs_pin(struct bh_dp *dp)
{
	char path[PATH_MAX], tmp[PATH_MAX];

	snprintf(path, sizeof(path), "%s/progs", dp->pin_dir);
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	for (int i = 0; i < DP_PROG_MAX; i++) {
		prog_pin_path(path, sizeof(path), dp->pin_dir, i, "");
		if (dp->prog_fd[i] < 0) {
			/* another mode's: what is attached keeps its own */
			unlink(path);
			continue;
		}
		prog_pin_path(tmp, sizeof(tmp), dp->pin_dir, i, "-new");
		unlink(tmp);
		if (bpf_obj_pin(dp->prog_fd[i], tmp))
			return -errno;
		if (rename(tmp, path)) {
			int ret = -errno;

			unlink(tmp);
			return ret;
		}
	}
	return 0;
}

static void progs_unpin(const char *pin_dir)
{
	char path[PATH_MAX];

	for (int i = 0; i < DP_PROG_MAX; i++) {
		prog_pin_path(path, sizeof(path), pin_dir, i, "");
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/progs", pin_dir);
	rmdir(path);
}

/* fds a skeleton does not own: the pins' */
static void progs_close(struct bh_dp *dp)
{
	for (int i = 0; i < DP_PROG_MAX; i++) {
		if (dp->prog_fd[i] >= 0)
			close(dp->prog_fd[i]);
		dp->prog_fd[i] = -1;
	}
}

/*
 * What the pinned programs are, in <state dir>/progs: the object they were
 * loaded from (its size and CRC-32) and each program's id. An up finding
 * the same object already pinned, with the same maps, reuses those
 * programs instead of sending them through the verifier again (seconds of
 * CPU a program on a small gateway). Pins live in this boot's bpffs, so
 * the kernel that verified them is the running one.
 */
#define DP_STATE_PROGS	"progs"

static void object_id(char *buf, size_t len)
{
	size_t sz;
	const void *elf = bulkhead_bpf__elf_bytes(&sz);

	snprintf(buf, len, "%zu:%08lx", sz, crc32(crc32(0L, Z_NULL, 0), elf, sz));
}

static int prog_id(int fd, __u32 *id)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*id = info.id;
	return 0;
}

static void progs_record(const struct bh_dp *dp, const char *state_dir)
{
	struct bh_kv kv[1 + DP_PROG_MAX] = {};
	size_t n = 1;
	__u32 id = 0;
	int ret;

	snprintf(kv[0].key, sizeof(kv[0].key), "object");
	object_id(kv[0].val, sizeof(kv[0].val));
	for (int i = 0; i < DP_PROG_MAX; i++) {
		if (dp->prog_fd[i] < 0)
			continue;
		ret = prog_id(dp->prog_fd[i], &id);
		if (ret)
			goto fail;
		snprintf(kv[n].key, sizeof(kv[n].key), "%s", prog_pin_name[i]);
		snprintf(kv[n].val, sizeof(kv[n].val), "%u", id);
		n++;
	}
	ret = bh_kv_save(state_dir, DP_STATE_PROGS, kv, n);
	if (!ret)
		return;
fail:
	/* the next up verifies the programs again: slower, never wrong */
	bh_state_remove(state_dir, DP_STATE_PROGS);
}

/*
 * Open the programs of @progs pinned under <pin_dir>/progs when <state
 * dir>/progs says they are this object's and are still the ones pinned. 0
 * with the fds in @dp, or -ESTALE (load anew: one of them is missing, as
 * after an up in another mode).
 */
static int progs_reusable(struct bh_dp *dp, const char *state_dir, unsigned int progs)
{
	char path[PATH_MAX], want[64];
	struct bh_kv *kv = NULL;
	const char *v;
	size_t n = 0;
	int ret = -ESTALE;
	__u32 id = 0;

	if (!state_dir || bh_kv_load(state_dir, DP_STATE_PROGS, &kv, &n))
		return -ESTALE;
	object_id(want, sizeof(want));
	v = bh_kv_get(kv, n, "object");
	if (!v || strcmp(v, want))
		goto out;
	for (int i = 0; i < DP_PROG_MAX; i++) {
		if (!(progs & DP_PROG_BIT(i)))
			continue;
		v = bh_kv_get(kv, n, prog_pin_name[i]);
		if (!v)
			goto out;
		prog_pin_path(path, sizeof(path), dp->pin_dir, i, "");
		dp->prog_fd[i] = bpf_obj_get(path);
		if (dp->prog_fd[i] < 0 || prog_id(dp->prog_fd[i], &id))
			goto out;
		snprintf(want, sizeof(want), "%u", id);
		if (strcmp(v, want))	/* pinned since by someone else */
			goto out;
	}
	ret = 0;
out:
	if (ret)
		progs_close(dp);
	free(kv);
	return ret;
}

/*
 * The reused programs must judge with the maps pinned now: every map a
 * program holds that has a name of ours is the one this load opened (a
 * map set aside for another layout, or gone, makes it stale). The
 * programs' own .rodata and .bss are theirs. true when they do.
 */
static bool progs_use_pinned_maps(const struct bh_dp *dp)
{
	for (int i = 0; i < DP_PROG_MAX; i++) {
		__u32 ids[64], nr;
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (dp->prog_fd[i] < 0)
			continue;
		info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
		info.map_ids = (__u64)(unsigned long)ids;
		if (bpf_obj_get_info_by_fd(dp->prog_fd[i], &info, &len))
			return false;
		nr = info.nr_map_ids;
		if (nr > sizeof(ids) / sizeof(ids[0]))
			return false;
		for (__u32 j = 0; j < nr; j++) {
			struct bpf_map_info mi = {}, ours = {};
			__u32 mlen = sizeof(mi), olen = sizeof(ours);
			struct bpf_map *map;
			int fd = bpf_map_get_fd_by_id(ids[j]);
			bool same;

			if (fd < 0)
				return false;
			same = !bpf_obj_get_info_by_fd(fd, &mi, &mlen);
			close(fd);
			if (!same)
				return false;
			map = bpf_object__find_map_by_name(dp->skel->obj, mi.name);
			if (!map || bpf_map__is_internal(map))
				continue;
			if (bpf_obj_get_info_by_fd(bpf_map__fd(map), &ours, &olen) ||
			    ours.id != mi.id)
				return false;
		}
	}
	return true;
}

static struct bh_dp *dp_new(const char *pin_dir)
{
	struct bh_dp *dp = calloc(1, sizeof(*dp));

	if (!dp)
		return NULL;
	for (int i = 0; i < DP_PROG_MAX; i++)
		dp->prog_fd[i] = -1;
	snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", pin_dir);
	return dp;
}

int bh_dp_open_pinned(const char *pin_dir, struct bh_dp **out)
{
	char path[PATH_MAX];
	struct bh_dp *dp;
	int ret;

	*out = NULL;
	dp = dp_new(pin_dir);
	if (!dp)
		return -ENOMEM;
	ret = -ENOENT;
	for (int i = 0; i < DP_PROG_MAX; i++) {
		prog_pin_path(path, sizeof(path), pin_dir, i, "");
		dp->prog_fd[i] = bpf_obj_get(path);
		if (dp->prog_fd[i] >= 0) {
			ret = 0;
		} else if (errno != ENOENT) {
			ret = -errno;
			break;
		}
	}
	if (ret) {
		bh_dp_close(dp);
		return ret;
	}
	*out = dp;
	return 0;
}

/* the directory stale pins wait in while the new maps load (no dot: bpffs) */
static void stale_path(char *buf, size_t len, const char *pin_dir, const char *name)
{
	snprintf(buf, len, "%s/maps-stale%s%s", pin_dir, name ? "/" : "", name ? name : "");
}

/*
 * Move the pinned maps whose type, key, value, size or flags differ from
 * this version's definition to <pin_dir>/maps-stale. How many, or -errno.
 */
static int stale_maps_aside(struct bh_dp *dp, const char *pin_dir)
{
	char path[PATH_MAX], dst[PATH_MAX];
	struct bpf_map *map;
	int n = 0;

	stale_path(dst, sizeof(dst), pin_dir, NULL);
	dp_rm_tree(dst);
	if (mkdir(dst, 0700) && errno != EEXIST)
		return -errno;
	bpf_object__for_each_map(map, dp->skel->obj) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);
		int fd;

		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/maps/%s", pin_dir, bpf_map__name(map));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
		     info.value_size != bpf_map__value_size(map) ||
		     info.max_entries != bpf_map__max_entries(map) ||
		     info.map_flags != bpf_map__map_flags(map))) {
			stale_path(dst, sizeof(dst), pin_dir, bpf_map__name(map));
			if (!rename(path, dst))
				n++;
		}
		close(fd);
	}
	return n;
}

/* after the retry: drop the stale pins, or put them back if it failed */
static void stale_maps_done(const char *pin_dir, bool loaded)
{
	char dir[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
	struct dirent *de;
	DIR *d;

	stale_path(dir, sizeof(dir), pin_dir, NULL);
	if (!loaded && (d = opendir(dir))) {
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			stale_path(src, sizeof(src), pin_dir, de->d_name);
			snprintf(dst, sizeof(dst), "%s/maps/%s", pin_dir, de->d_name);
			unlink(dst);
			rename(src, dst);
		}
		closedir(d);
	}
	dp_rm_tree(dir);
}

unsigned int bh_dp_progs_for(enum bh_mode mode)
{
	const unsigned int eg = DP_PROG_BIT(DP_PROG_TC_EG);

	switch (mode) {
	case BH_MODE_XDP:
		return DP_PROG_BIT(DP_PROG_XDP) | eg;
	case BH_MODE_TC:
		return DP_PROG_BIT(DP_PROG_TC_IN) | eg;
	case BH_MODE_AUTO:
		return DP_PROG_BIT(DP_PROG_XDP) | DP_PROG_BIT(DP_PROG_TC_IN) | eg;
	default:
		return 0;
	}
}

int bh_dp_load(const char *pin_dir, const char *state_dir, unsigned int progs,
	       struct bh_dp **out, struct bh_maps *m, char *err, size_t errlen)
{
	struct bh_dp *dp;
	struct bpf_map *map;
	int ret;

	dp = dp_new(pin_dir);
	if (!dp)
		return -ENOMEM;
	if (progs && !progs_reusable(dp, state_dir, progs)) {
		/* the maps alone; the programs pinned stay if they use them */
		ret = open_load(dp, pin_dir, 0);
		if (!ret && progs_use_pinned_maps(dp)) {
			dp->progs_reused = true;
			goto maps;
		}
		progs_close(dp);
		bulkhead_bpf__destroy(dp->skel);
		dp->skel = NULL;
	}
	ret = open_load(dp, pin_dir, progs);
	if (ret == -EINVAL && dp->skel) {
		/*
		 * Maps pinned by a version with another layout: libbpf refuses
		 * to reuse them. Set those aside (only those: the others, the
		 * tracked flows among them, are kept) and load again; the
		 * caller writes gateway, policy and quarantine and updates the
		 * pinned links in place, so the old programs (which hold their
		 * own maps) judge until the new ones take over.
		 */
		int n = stale_maps_aside(dp, pin_dir);

		bulkhead_bpf__destroy(dp->skel);
		dp->skel = NULL;
		if (n > 0) {
			ret = open_load(dp, pin_dir, progs);
			stale_maps_done(pin_dir, ret == 0);
			if (!ret)
				fprintf(stderr, "bulkhead: %d map%s pinned in %s/maps had another layout: replaced (their contents start anew)\n",
					n, n == 1 ? "" : "s", pin_dir);
		}
	}
	if (ret) {
		snprintf(err, errlen, "cannot load the BPF programs: %s%s", strerror(-ret),
			 ret == -EINVAL ? " (the maps pinned there cannot be reused or replaced)" : "");
		goto err_open;
	}
maps:
	maps_reset(m);
	for (size_t i = 0; i < N_MAPS; i++) {
		map = bpf_object__find_map_by_name(dp->skel->obj, map_table[i].name);
		if (!map) {
			snprintf(err, errlen, "BPF object has no map %s", map_table[i].name);
			ret = -ENOENT;
			goto err_maps;
		}
		MAP_FD(m, i) = dup(bpf_map__fd(map));
		if (MAP_FD(m, i) < 0) {
			ret = -errno;
			goto err_maps;
		}
	}
	if (dp->progs_reused) {
		/* already pinned, already recorded */
	} else if (progs) {
		if (state_dir)
			bh_state_remove(state_dir, DP_STATE_PROGS);
		/* negative for those not loaded (another mode's) */
		for (int i = 0; i < DP_PROG_MAX; i++)
			dp->prog_fd[i] = bpf_program__fd(skel_prog(dp->skel, i));
		ret = progs_pin(dp);
		if (ret) {
			snprintf(err, errlen, "cannot pin the BPF programs in %s/progs: %s",
				 pin_dir, strerror(-ret));
			goto err_maps;
		}
		if (state_dir)
			progs_record(dp, state_dir);
	} else {
		/* nothing of ours judges: no programs wait for a new port */
		progs_unpin(pin_dir);
		if (state_dir)
			bh_state_remove(state_dir, DP_STATE_PROGS);
	}
	*out = dp;
	return 0;

err_maps:
	bh_maps_close(m);
err_open:
	bh_dp_close(dp);
	return ret;
}

bool bh_dp_reused(const struct bh_dp *dp)
{
	return dp && dp->progs_reused;
}

void bh_dp_close(struct bh_dp *dp)
{
	if (!dp)
		return;
	/* a skeleton's program fds are its own; opened pins are not */
	if (!dp->skel || dp->progs_reused)
		progs_close(dp);
	if (dp->skel)
		bulkhead_bpf__destroy(dp->skel);
	free(dp);
}

/* ---- gateway ------------------------------------------------------------- */

static void addr_to_lan(const struct bh_gw_addr *a, struct bh_lan_key *k)
{
	unsigned int plen = a->addr.v4 ? 96u + a->plen : a->plen;

	memset(k, 0, sizeof(*k));
	k->prefixlen = plen;
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits = plen > i * 8 ? plen - i * 8 : 0;

		k->addr[i] = bits >= 8 ? a->addr.a[i] :
			     (__u8)(a->addr.a[i] & (0xff00 >> bits));
	}
}

/* Remove keys of @fd for which @keep returns false. */
static int prune(int fd, size_t key_size,
		 bool (*keep)(const void *key, const struct bh_topology *t),
		 const struct bh_topology *t)
{
	char cur[64], next[64], dead[BH_MAX_GW][64];
	void *prev = NULL;
	size_t n = 0;

	while (!bpf_map_get_next_key(fd, prev, next)) {
		if (!keep(next, t) && n < BH_MAX_GW)
			memcpy(dead[n++], next, key_size);
		memcpy(cur, next, key_size);
		prev = cur;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, dead[i]);
	return 0;
}

static bool keep_mac(const void *key, const struct bh_topology *t)
{
	const struct bh_mac_key *k = key;

	for (size_t i = 0; i < t->n_macs; i++)
		if (!memcmp(k->mac, t->macs[i], 6))
			return true;
	return false;
}

static bool keep_ip(const void *key, const struct bh_topology *t)
{
	const struct bh_addr_key *k = key;

	for (size_t i = 0; i < t->n_addrs; i++)
		if (!memcmp(k->addr, t->addrs[i].addr.a, 16))
			return true;
	return false;
}

static bool keep_lan(const void *key, const struct bh_topology *t)
{
	const struct bh_lan_key *k = key;
	struct bh_lan_key want;

	for (size_t i = 0; i < t->n_addrs; i++) {
		addr_to_lan(&t->addrs[i], &want);
		if (!memcmp(k, &want, sizeof(want)))
			return true;
	}
	return false;
}

int bh_dp_invalidate(const struct bh_maps *m)
{
	__u32 zero = 0, v = 0;

	/* read-modify-write: writers hold the controller lock */
	if (bpf_map_lookup_elem(m->vepoch, &zero, &v))
		return -errno;
	v++;
	if (bpf_map_update_elem(m->vepoch, &zero, &v, BPF_ANY))
		return -errno;
	return 0;
}

static int gateway_write(const struct bh_maps *m, const struct bh_topology *t)
{
	__u32 one = 1;

	/* add first, prune after: a gateway address is never missing */
	for (size_t i = 0; i < t->n_macs; i++) {
		struct bh_mac_key k = {};

		memcpy(k.mac, t->macs[i], 6);
		if (bpf_map_update_elem(m->gw_mac, &k, &one, BPF_ANY))
			return -errno;
	}
	for (size_t i = 0; i < t->n_addrs; i++) {
		struct bh_addr_key k;
		struct bh_lan_key lk;
		__u32 ifx = (__u32)t->addrs[i].ifindex;

		memcpy(k.addr, t->addrs[i].addr.a, 16);
		if (bpf_map_update_elem(m->gw_ip, &k, &ifx, BPF_ANY))
			return -errno;
		/* link-local prefixes are on every LAN: not routed, skip */
		if (!t->addrs[i].addr.v4 && t->addrs[i].addr.a[0] == 0xfe &&
		    (t->addrs[i].addr.a[1] & 0xc0) == 0x80)
			continue;
		addr_to_lan(&t->addrs[i], &lk);
		if (bpf_map_update_elem(m->lan, &lk, &one, BPF_ANY))
			return -errno;
	}
	prune(m->gw_mac, sizeof(struct bh_mac_key), keep_mac, t);
	prune(m->gw_ip, sizeof(struct bh_addr_key), keep_ip, t);
	prune(m->lan, sizeof(struct bh_lan_key), keep_lan, t);
	return 0;
}

/* ---- what the kernel knew before Bulkhead came up -------------------------- */

static bool topo_port(const struct bh_topology *t, int ifindex)
{
	for (size_t i = 0; i < t->n_ports; i++)
		if (t->ports[i].ifindex == ifindex)
			return true;
	return false;
}

static bool topo_mac(const struct bh_topology *t, const __u8 mac[6])
{
	for (size_t i = 0; i < t->n_macs; i++)
		if (!memcmp(t->macs[i], mac, 6))
			return true;
	return false;
}

/* @mac behind port @ifindex, unless the programs placed it already */
static void seed_port(const struct bh_maps *m, int ifindex, const __u8 mac[6])
{
	struct bh_mac_key mk = {};
	struct bh_port_val v;
	__u32 k = (__u32)ifindex, at;

	memcpy(mk.mac, mac, 6);
	if (!bpf_map_lookup_elem(m->macport, &mk, &at))
		return;
	if (bpf_map_lookup_elem(m->port, &k, &v))
		memset(&v, 0, sizeof(v));
	for (unsigned int i = 0; i < v.n && i < BH_PORT_MACS; i++)
		if (!memcmp(v.mac[i], mac, 6))
			return;
	if (v.n < BH_PORT_MACS) {
		memcpy(v.mac[v.n++], mac, 6);
	} else {
		memcpy(v.mac[v.next++ & (BH_PORT_MACS - 1)], mac, 6);
		v.overflow = 1;
	}
	if (!bpf_map_update_elem(m->port, &k, &v, BPF_ANY))
		bpf_map_update_elem(m->macport, &mk, &k, BPF_ANY);
}

int bh_dp_seed(const struct bh_maps *m, const struct bh_topology *t)
{
	struct bh_neigh *nb = NULL;
	size_t n = 0;
	int ret;

	/* the bridge's FDB: which port each device was last heard on */
	ret = bh_nl_neighbours(AF_BRIDGE, &nb, &n);
	for (size_t i = 0; !ret && i < n; i++)
		if (topo_port(t, nb[i].ifindex) && !(nb[i].state & NUD_PERMANENT) &&
		    !(nb[i].mac[0] & 1) && !topo_mac(t, nb[i].mac))
			seed_port(m, nb[i].ifindex, nb[i].mac);
	free(nb);
	return ret;
}

int bh_dp_set_gateway(const struct bh_maps *m, const struct bh_topology *t)
{
	int ret = gateway_write(m, t), inv;

	/* also after a partial write: some of it is in force */
	inv = bh_dp_invalidate(m);
	return ret ? ret : inv;
}

/* ---- quarantine ---------------------------------------------------------- */

int bh_dp_isolate(const struct bh_maps *m, const __u8 mac[6], __u64 since,
		  __u64 until, __u8 level)
{
	struct bh_mac_key k = {};
	struct bh_quar_val v = { .since = since, .until = until, .level = level };

	memcpy(k.mac, mac, 6);
	if (bpf_map_update_elem(m->quarantine, &k, &v, BPF_ANY))
		return -errno;
	return bh_dp_invalidate(m);
}

int bh_dp_release(const struct bh_maps *m, const __u8 mac[6])
{
	struct bh_mac_key k = {};

	memcpy(k.mac, mac, 6);
	if (bpf_map_delete_elem(m->quarantine, &k))
		return -errno;
	return bh_dp_invalidate(m);
}

/* ---- port pinning -------------------------------------------------------------- */

static bool pin_wanted(const struct bh_mac_key *k, const struct bh_pin_pair *pairs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(k->mac, pairs[i].mac, 6))
			return true;
	return false;
}

/* Remove the pins no pair names: how many, or -errno. Collected first:
 * deleting while walking a hash would restart the walk. */
static int pins_prune(int fd, const struct bh_pin_pair *pairs, size_t n)
{
	struct bh_mac_key cur, next, *dead;
	void *prev = NULL;
	size_t nd = 0;
	int ret = 0;

	dead = calloc(BH_MAX_PINS, sizeof(*dead));
	if (!dead)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, prev, &next) && nd < BH_MAX_PINS) {
		if (!pin_wanted(&next, pairs, n))
			dead[nd++] = next;
		cur = next;
		prev = &cur;
	}
	for (size_t i = 0; i < nd; i++) {
		if (bpf_map_delete_elem(fd, &dead[i]) && errno != ENOENT) {
			ret = -errno;
			goto out;
		}
	}
	ret = nd;
out:
	free(dead);
	return ret;
}

int bh_dp_pins(const struct bh_maps *m, const struct bh_pin_pair *pairs, size_t n)
{
	struct bh_mac_key k = {};
	__u32 zero = 0, count = n, had = 0, at;
	bool changed = false;
	int ret;

	if (n > BH_MAX_PINS)
		return -E2BIG;
	bpf_map_lookup_elem(m->pinned, &zero, &had);
	/* the new pins first: a MAC is never unpinned on its way to a new port */
	for (size_t i = 0; i < n; i++) {
		memset(&k, 0, sizeof(k));
		memcpy(k.mac, pairs[i].mac, 6);
		if (!bpf_map_lookup_elem(m->pin, &k, &at) && at == pairs[i].ifindex)
			continue;
		if (bpf_map_update_elem(m->pin, &k, &pairs[i].ifindex, BPF_ANY))
			return -errno;
		changed = true;
	}
	/* then the MACs no longer pinned, then their number (only a gate:
	 * while it lags, a lookup finds what bh_pin holds) */
	ret = pins_prune(m->pin, pairs, n);
	if (ret < 0)
		return ret;
	if (ret > 0)
		changed = true;
	if (count != had) {
		if (bpf_map_update_elem(m->pinned, &zero, &count, BPF_ANY))
			return -errno;
		changed = true;
	}
	return changed ? bh_dp_invalidate(m) : 0;
}

int bh_addr_set_add(struct bh_addr **set, size_t *n, size_t *cap, const __u8 *a)
{
	for (size_t i = 0; i < *n; i++)
		if (!memcmp((*set)[i].a, a, 16))
			return 0;
	if (*n == *cap) {
		struct bh_addr *tmp;

		*cap = *cap ? *cap * 2 : 8;
		tmp = realloc(*set, *cap * sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
		*set = tmp;
	}
	memset(&(*set)[*n], 0, sizeof(**set));
	memcpy((*set)[*n].a, a, 16);
	(*set)[*n].v4 = !memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12);
	(*n)++;
	return 0;
}

int bh_dp_ct_flush_mac(const struct bh_maps *m, const __u8 mac[6],
		       struct bh_addr **addrs, size_t *n_addrs)
{
	struct bh_ct_key cur, next, *dead = NULL;
	size_t n = 0, cap = 0, acap = 0;
	void *prev = NULL;
	int ret = 0;

	while (!bpf_map_get_next_key(m->ct, prev, &next)) {
		struct bh_ct_val v;
		bool src, dst;

		if (bpf_map_lookup_elem(m->ct, &next, &v))
			goto next;
		src = !memcmp(v.smac, mac, 6);
		dst = !memcmp(v.dmac, mac, 6);
		if (!src && !dst)
			goto next;
		if (n == cap) {
			struct bh_ct_key *tmp;

			cap = cap ? cap * 2 : 64;
			tmp = realloc(dead, cap * sizeof(*dead));
			if (!tmp) {
				ret = -ENOMEM;
				goto out;
			}
			dead = tmp;
		}
		dead[n++] = next;
		/* the device's own end of the flow: the kernel may track it too */
		if (addrs && bh_addr_set_add(addrs, n_addrs, &acap,
					  src ? next.saddr : next.daddr)) {
			ret = -ENOMEM;
			goto out;
		}
next:
		cur = next;
		prev = &cur;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(m->ct, &dead[i]);
	/* a cached reply must not outlive its flow */
	ret = n ? bh_dp_invalidate(m) : 0;
	if (!ret)
		ret = (int)n;
out:
	free(dead);
	return ret;
}

int bh_dp_counter(int map_fd, __u32 key, struct bh_counter *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bh_counter *vals;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (ncpu < 0)
		return ncpu;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(map_fd, &key, vals)) {
		ret = -errno;
		goto out;
	}
	for (int i = 0; i < ncpu; i++) {
		out->packets += vals[i].packets;
		out->bytes += vals[i].bytes;
	}
out:
	free(vals);
	return ret;
}
