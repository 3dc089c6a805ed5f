// SPDX-License-Identifier: GPL-2.0
/*
 * dp_attach.c - the programs on the ports, as pinned bpf_links: native XDP
 * and tcx (Linux 6.6+), or a clsact filter on older kernels; re-adopting
 * and updating links already pinned, so a port is never left with nothing
 * attached, and detaching everything at down.
 */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane.h"
#include "bulkhead.skel.h"
#include "dp_int.h"

/* Not in Debian 12's 6.1 UAPI headers: tcx arrived in Linux 6.6. */
#define BH_LINK_TYPE_TCX	11

/* clsact fallback: our filter's handle and priority on each port */
#define BH_TC_HANDLE		0xb1
#define BH_TC_PRIO		0xb1

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
	int xdp_fd = dp->prog_fd[DP_PROG_XDP];
	int tin_fd = dp->prog_fd[DP_PROG_TC_IN];
	int teg_fd = dp->prog_fd[DP_PROG_TC_EG];
	char links[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int ret;

	for (int i = 0; i < DP_PROG_MAX; i++) {
		if ((bh_dp_progs_for(mode) & DP_PROG_BIT(i)) && dp->prog_fd[i] < 0) {
			snprintf(err, errlen, "the BPF programs for --mode %s were not loaded (up again in that mode)",
				 bh_mode_name(mode));
			return -ENOENT;
		}
	}
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
	ret = dp_rm_tree(pin_dir);
	if (ret)
		snprintf(err, errlen, "cannot remove %s: %s", pin_dir, strerror(-ret));
	return ret;
}
