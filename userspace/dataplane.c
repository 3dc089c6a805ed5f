// SPDX-License-Identifier: GPL-2.0
/*
 * dataplane.c - load, attach and feed the BPF dataplane: pinned maps,
 * pinned bpf_links (native XDP, tcx, or clsact on kernels before 6.6), the
 * generation flip that makes a policy change atomic, and the quarantine.
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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/magic.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane.h"
#include "bulkhead.skel.h"

/* Not in Debian 12's 6.1 UAPI headers: tcx arrived in Linux 6.6. */
#define BH_LINK_TYPE_TCX	11

/* clsact fallback: our filter's handle and priority on each port */
#define BH_TC_HANDLE		0xb1
#define BH_TC_PRIO		0xb1

struct bh_dp {
	struct bulkhead_bpf *skel;
	char pin_dir[PATH_MAX];
};

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

static int rm_tree(const char *path);

/* Open the skeleton with every map pinned under <pin_dir>/maps, and load. */
static int open_load(struct bh_dp *dp, const char *pin_dir)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int ret;

	dp->skel = bulkhead_bpf__open();
	if (!dp->skel)
		return -errno;
	bpf_object__for_each_map(map, dp->skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/maps/%s", pin_dir, bpf_map__name(map));
		ret = bpf_map__set_pin_path(map, path);
		if (ret)
			return ret;
	}
	return bulkhead_bpf__load(dp->skel);
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
	rm_tree(dst);
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
	rm_tree(dir);
}

int bh_dp_load(const char *pin_dir, struct bh_dp **out, struct bh_maps *m,
	       char *err, size_t errlen)
{
	struct bh_dp *dp;
	struct bpf_map *map;
	int ret;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", pin_dir);
	ret = open_load(dp, pin_dir);
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
			ret = open_load(dp, pin_dir);
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
	*out = dp;
	return 0;

err_maps:
	bh_maps_close(m);
err_open:
	bulkhead_bpf__destroy(dp->skel);
	free(dp);
	return ret;
}

void bh_dp_close(struct bh_dp *dp)
{
	if (!dp)
		return;
	bulkhead_bpf__destroy(dp->skel);
	free(dp);
}

/* ---- links ------------------------------------------------------------ */

enum link_kind { LK_XDP, LK_TCX_IN, LK_TCX_EG, LK_CLSACT_IN, LK_CLSACT_EG, LK_MAX };
static const char *const link_suffix[LK_MAX] = {
	"xdp", "tcx-in", "tcx-eg", "clsact-in", "clsact-eg",
};

/*
 * Pin names: "<kind>:<ifname>". bpffs refuses names with a dot, which
 * interface names may have (eth0.100): '.' and '%' are %-encoded.
 */
static void pin_file(const char *ifname, enum link_kind k, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "%s:", link_suffix[k]);

	for (const char *s = ifname; *s && n + 4 < len; s++) {
		if (*s == '.' || *s == '%')
			n += (size_t)snprintf(buf + n, len - n, "%%%02x", (unsigned char)*s);
		else
			buf[n++] = *s;
	}
	buf[n < len ? n : len - 1] = '\0';
}

static int pin_parse(const char *file, enum link_kind *k, char ifname[IF_NAMESIZE])
{
	const char *colon = strchr(file, ':');
	size_t n = 0;
	int i;

	if (!colon)
		return -EINVAL;
	for (i = 0; i < LK_MAX; i++)
		if (strlen(link_suffix[i]) == (size_t)(colon - file) &&
		    !strncmp(file, link_suffix[i], (size_t)(colon - file)))
			break;
	if (i == LK_MAX)
		return -EINVAL;
	*k = (enum link_kind)i;
	for (const char *s = colon + 1; *s; s++) {
		unsigned int ch;

		if (n + 1 >= IF_NAMESIZE)
			return -EINVAL;
		if (*s == '%' && sscanf(s + 1, "%2x", &ch) == 1) {
			ifname[n++] = (char)ch;
			s += 2;
		} else {
			ifname[n++] = *s;
		}
	}
	ifname[n] = '\0';
	return n ? 0 : -EINVAL;
}

static void link_path(const char *pin_dir, const char *ifname,
		      enum link_kind k, char *buf, size_t len)
{
	char file[64];

	pin_file(ifname, k, file, sizeof(file));
	snprintf(buf, len, "%s/links/%s", pin_dir, file);
}

/* The ifindex a pinned link is attached to, 0 when defunct, -errno. */
static int link_ifindex(int fd)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	/* xdp.ifindex and tcx.ifindex are both the union's first field */
	if (info.type != BPF_LINK_TYPE_XDP && info.type != BH_LINK_TYPE_TCX)
		return -EINVAL;
	return (int)info.xdp.ifindex;
}

/* libbpf's messages for outcomes the caller expects (a qdisc already there) */
static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int bh_dp_clsact_prog(int ifindex, bool ingress, __u32 *prog_id)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BH_TC_HANDLE, .priority = BH_TC_PRIO);
	libbpf_print_fn_t old;
	int ret;

	/* a port without the clsact qdisc is no news */
	old = libbpf_set_print(quiet_print);
	ret = bpf_tc_query(&hook, &opts);
	libbpf_set_print(old);
	if (!ret && !opts.prog_id)
		ret = -ENOENT;
	if (!ret)
		*prog_id = opts.prog_id;
	return ret;
}

/*
 * Whether our clsact filter (BH_TC_HANDLE, BH_TC_PRIO) on @ifindex runs a
 * Bulkhead program (bulkhead_tc_*): 1 yes, 0 no filter or another's.
 */
static int clsact_ours(int ifindex, bool ingress, __u32 *prog_id)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), id;
	int ret, fd;

	if (bh_dp_clsact_prog(ifindex, ingress, &id))
		return 0;
	if (prog_id)
		*prog_id = id;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	ret = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	      !strncmp(info.name, "bulkhead_tc", strlen("bulkhead_tc"));
	close(fd);
	return ret;
}

/* Attach (@prog_fd >= 0, replacing ours in place; *@replaced) or detach. */
static int clsact_op(int ifindex, bool ingress, int prog_fd, bool *replaced)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = BH_TC_HANDLE,
		    .priority = BH_TC_PRIO);
	libbpf_print_fn_t old;
	int ret;

	if (prog_fd < 0)
		return bpf_tc_detach(&hook, &opts);
	/* the clsact qdisc is usually there already: its EEXIST (with the
	 * kernel's "Exclusivity flag on" message) is no news */
	old = libbpf_set_print(quiet_print);
	ret = bpf_tc_hook_create(&hook);
	libbpf_set_print(old);
	if (ret && ret != -EEXIST)
		return ret;
	if (replaced)
		*replaced = clsact_ours(ifindex, ingress, NULL);
	opts.prog_fd = prog_fd;
	opts.flags = BPF_TC_F_REPLACE;
	return bpf_tc_attach(&hook, &opts);
}

int bh_dp_clsact_sweep(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int n = 0;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++)
		for (int in = 0; in < 2; in++)
			if (clsact_ours((int)i->if_index, in, NULL) &&
			    !clsact_op((int)i->if_index, in, -1, NULL))
				n++;
	if_freenameindex(ifs);
	return n;
}

/* the program a pinned object is, its id; 0 when it is no program */
static __u32 pinned_prog_id(const char *path)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info), id = 0;
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		id = info.id;
	close(fd);
	return id;
}

/* is program @id the clsact marker in some <bpffs>/<pin dir>/links/ ? */
static bool clsact_pinned(__u32 id)
{
	char links[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de, *le;
	DIR *top, *dir;
	bool found = false;

	top = opendir(BH_BPFFS);
	if (!top)
		return true;	/* cannot tell: not an orphan */
	while (!found && (de = readdir(top))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(links, sizeof(links), "%s/%s/links", BH_BPFFS, de->d_name);
		dir = opendir(links);
		if (!dir)
			continue;
		while (!found && (le = readdir(dir))) {
			if (strncmp(le->d_name, "clsact-", 7))
				continue;
			snprintf(path, sizeof(path), "%s/%s", links, le->d_name);
			found = pinned_prog_id(path) == id;
		}
		closedir(dir);
	}
	closedir(top);
	return found;
}

int bh_dp_clsact_orphans(void)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	__u32 id;
	int n = 0;

	if (!ifs)
		return -errno;
	for (i = ifs; i->if_index; i++)
		for (int in = 0; in < 2; in++)
			if (clsact_ours((int)i->if_index, in, &id) && !clsact_pinned(id) &&
			    !clsact_op((int)i->if_index, in, -1, NULL))
				n++;
	if_freenameindex(ifs);
	return n;
}

/* Detach and unpin whatever a link pin holds (link or clsact marker). */
static void unpin_one(const char *pin_dir, const char *file)
{
	char path[PATH_MAX], ifname[IF_NAMESIZE];
	enum link_kind k;
	int fd;

	snprintf(path, sizeof(path), "%s/links/%s", pin_dir, file);
	if (access(path, F_OK))
		return;
	if (!pin_parse(file, &k, ifname) && (k == LK_CLSACT_IN || k == LK_CLSACT_EG)) {
		int ifindex = (int)if_nametoindex(ifname);

		if (ifindex)
			clsact_op(ifindex, k == LK_CLSACT_IN, -1, NULL);
	} else {
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
	}
	unlink(path);
}

static void unpin_kind(const char *pin_dir, const char *ifname, enum link_kind k)
{
	char file[64];

	pin_file(ifname, k, file, sizeof(file));
	unpin_one(pin_dir, file);
}

/*
 * Make @k on @port run @prog_fd: update the pinned link in place when there
 * is a live one on this ifindex, else create and pin a new link.
 * Returns 0 (and *adopted) or -errno.
 */
static int link_ensure(const char *pin_dir, const struct bh_port *port,
		       enum link_kind k, int prog_fd, bool *adopted)
{
	LIBBPF_OPTS(bpf_link_create_opts, xopts, .flags = XDP_FLAGS_DRV_MODE);
	char path[PATH_MAX];
	int fd, ret;

	link_path(pin_dir, port->name, k, path, sizeof(path));
	if (k == LK_CLSACT_IN || k == LK_CLSACT_EG) {
		/* replaced in place (BPF_TC_F_REPLACE): no gap, as a link update */
		ret = clsact_op(port->ifindex, k == LK_CLSACT_IN, prog_fd, adopted);
		if (ret)
			return ret;
		/* a pinned program marks the port as ours for 'down' */
		unlink(path);
		return bpf_obj_pin(prog_fd, path) ? -errno : 0;
	}

	*adopted = false;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		if (link_ifindex(fd) == port->ifindex &&
		    !bpf_link_update(fd, prog_fd, NULL)) {
			close(fd);
			*adopted = true;
			return 0;
		}
		/* defunct (port re-created) or foreign: replace it */
		bpf_link_detach(fd);
		close(fd);
		unlink(path);
	}
	switch (k) {
	case LK_XDP:
		fd = bpf_link_create(prog_fd, port->ifindex, BPF_XDP, &xopts);
		break;
	case LK_TCX_IN:
		fd = bpf_link_create(prog_fd, port->ifindex, BH_ATTACH_TCX_INGRESS, NULL);
		break;
	default:
		fd = bpf_link_create(prog_fd, port->ifindex, BH_ATTACH_TCX_EGRESS, NULL);
		break;
	}
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, path)) {
		ret = -errno;
		bpf_link_detach(fd);
		close(fd);
		return ret;
	}
	close(fd);
	return 0;
}

static bool tcx_unsupported(int ret)
{
	/* kernels before 6.6 reject the unknown attach type */
	return ret == -EINVAL || ret == -EOPNOTSUPP;
}

static bool want_clsact(void)
{
	const char *s = getenv("BULKHEAD_FORCE_CLSACT");

	return s && *s && strcmp(s, "0");
}

/* The tc programs on @port, ingress or egress: tcx, else clsact. */
static int attach_tc(const char *pin_dir, const struct bh_port *port,
		     bool ingress, int prog_fd, bool *adopted)
{
	enum link_kind tcx = ingress ? LK_TCX_IN : LK_TCX_EG;
	enum link_kind cls = ingress ? LK_CLSACT_IN : LK_CLSACT_EG;
	int ret = -EINVAL;

	if (!want_clsact()) {
		ret = link_ensure(pin_dir, port, tcx, prog_fd, adopted);
		if (!ret) {
			unpin_kind(pin_dir, port->name, cls);
			return 0;
		}
		if (!tcx_unsupported(ret))
			return ret;
	}
	ret = link_ensure(pin_dir, port, cls, prog_fd, adopted);
	if (!ret)
		unpin_kind(pin_dir, port->name, tcx);
	return ret;
}

/* the port's driver is veth (ETHTOOL_GDRVINFO) */
static bool port_is_veth(const char *ifname)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = {};
	bool veth = false;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (!ioctl(fd, SIOCETHTOOL, &ifr))
		veth = !strcmp(info.driver, "veth");
	close(fd);
	return veth;
}

static bool port_listed(const struct bh_topology *t, const char *ifname)
{
	for (size_t i = 0; i < t->n_ports; i++)
		if (!strcmp(t->ports[i].name, ifname))
			return true;
	return false;
}

int bh_dp_attach(struct bh_dp *dp, enum bh_mode mode,
		 const struct bh_topology *t, struct bh_attached *att,
		 char *err, size_t errlen)
{
	int xdp_fd = bpf_program__fd(dp->skel->progs.bulkhead_xdp);
	int tin_fd = bpf_program__fd(dp->skel->progs.bulkhead_tc_in);
	int teg_fd = bpf_program__fd(dp->skel->progs.bulkhead_tc_eg);
	char links[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int ret;

	for (size_t i = 0; i < t->n_ports; i++) {
		const struct bh_port *p = &t->ports[i];
		bool adopted = false, eg_adopted = false;

		att[i].ifindex = p->ifindex;
		snprintf(att[i].name, sizeof(att[i].name), "%s", p->name);

		/* egress first: replies to the gateway's flows must pass */
		ret = attach_tc(dp->pin_dir, p, false, teg_fd, &eg_adopted);
		if (ret) {
			snprintf(err, errlen, "%s: cannot attach the tc egress program: %s",
				 p->name, strerror(-ret));
			return ret;
		}

		ret = -EOPNOTSUPP;
		/* auto: a veth frame is an skb already, tc judges it cheaper */
		if (mode == BH_MODE_XDP || (mode != BH_MODE_TC && !port_is_veth(p->name))) {
			ret = link_ensure(dp->pin_dir, p, LK_XDP, xdp_fd, &adopted);
			if (ret && mode == BH_MODE_XDP) {
				snprintf(err, errlen,
					 "%s: cannot attach native XDP: %s (the driver may lack native XDP; use --mode tc or auto)",
					 p->name, strerror(-ret));
				return ret;
			}
		}
		if (!ret) {
			att[i].mode = BH_MODE_XDP;
			/* XDP is in place: a tc ingress from an earlier mode goes */
			unpin_kind(dp->pin_dir, p->name, LK_TCX_IN);
			unpin_kind(dp->pin_dir, p->name, LK_CLSACT_IN);
		} else {
			ret = attach_tc(dp->pin_dir, p, true, tin_fd, &adopted);
			if (ret) {
				snprintf(err, errlen, "%s: cannot attach the tc ingress program: %s",
					 p->name, strerror(-ret));
				return ret;
			}
			att[i].mode = BH_MODE_TC;
			unpin_kind(dp->pin_dir, p->name, LK_XDP);
		}
		att[i].adopted = adopted;
	}

	/* last: ports that are no longer listed */
	snprintf(links, sizeof(links), "%s/links", dp->pin_dir);
	dir = opendir(links);
	if (!dir)
		return 0;
	while ((de = readdir(dir))) {
		char ifname[IF_NAMESIZE];
		enum link_kind k;

		if (pin_parse(de->d_name, &k, ifname))
			continue;
		if (!port_listed(t, ifname))
			unpin_one(dp->pin_dir, de->d_name);
	}
	closedir(dir);
	return 0;
}

int bh_dp_links(const char *pin_dir, struct bh_attached **out, size_t *n)
{
	char links[PATH_MAX];
	struct bh_attached *att = NULL;
	struct dirent *de;
	size_t cnt = 0;
	DIR *dir;

	*out = NULL;
	*n = 0;
	snprintf(links, sizeof(links), "%s/links", pin_dir);
	dir = opendir(links);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char ifname[IF_NAMESIZE];
		enum bh_mode mode;
		struct bh_attached *tmp;
		enum link_kind k;

		if (pin_parse(de->d_name, &k, ifname))
			continue;
		if (k == LK_XDP)
			mode = BH_MODE_XDP;
		else if (k == LK_TCX_IN || k == LK_CLSACT_IN)
			mode = BH_MODE_TC;
		else
			continue;
		tmp = realloc(att, (cnt + 1) * sizeof(*att));
		if (!tmp) {
			free(att);
			closedir(dir);
			return -ENOMEM;
		}
		att = tmp;
		memset(&att[cnt], 0, sizeof(att[cnt]));
		snprintf(att[cnt].name, sizeof(att[cnt].name), "%s", ifname);
		att[cnt].ifindex = (int)if_nametoindex(att[cnt].name);
		att[cnt].mode = mode;
		if (k == LK_XDP || k == LK_TCX_IN) {
			char path[PATH_MAX];
			int fd;

			snprintf(path, sizeof(path), "%s/%s", links, de->d_name);
			fd = bpf_obj_get(path);
			if (fd >= 0) {
				int idx = link_ifindex(fd);

				/* 0: the port went away and the link is defunct */
				att[cnt].ifindex = idx > 0 ? idx : 0;
				close(fd);
			}
		}
		cnt++;
	}
	closedir(dir);
	*out = att;
	*n = cnt;
	return 0;
}

static int rm_tree(const char *path)
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
			rm_tree(sub);
		else
			unlink(sub);
	}
	closedir(dir);
	return rmdir(path) ? -errno : 0;
}

int bh_dp_detach_all(const char *pin_dir)
{
	char links[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(links, sizeof(links), "%s/links", pin_dir);
	dir = opendir(links);
	if (!dir) {
		int ret = errno == ENOENT ? 0 : -errno;

		bh_dp_clsact_sweep();
		return ret;
	}
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			unpin_one(pin_dir, de->d_name);
	closedir(dir);
	bh_dp_clsact_sweep();
	return 0;
}

int bh_dp_down(const char *pin_dir, char *err, size_t errlen)
{
	int ret;

	bh_dp_detach_all(pin_dir);
	ret = rm_tree(pin_dir);
	if (ret)
		snprintf(err, errlen, "cannot remove %s: %s", pin_dir, strerror(-ret));
	return ret;
}

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
		  __u64 until)
{
	struct bh_mac_key k = {};
	struct bh_quar_val v = { .since = since, .until = until };

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
