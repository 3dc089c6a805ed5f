// SPDX-License-Identifier: GPL-2.0
/*
 * guard.c - the checks that keep a command from claiming what it did not
 * see: a pin dir off bpffs (a typo, /sys remounted by 'ip netns exec', no
 * bpffs) or out of reach (not root) reads as "down" otherwise, and so does
 * a pin dir next to another instance's that is up on the same ports.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane.h"
#include "guard.h"


#define PROG_PREFIX		"bulkhead_"

void bh_guard_path_err(const char *path, int err, char *buf, size_t len)
{
	if (err < 0)
		err = -err;
	if (err == EACCES || err == EPERM)
		snprintf(buf, len, "permission denied: %s", path);
	else
		snprintf(buf, len, "%s: %s", path, strerror(err));
}

int bh_guard_pin_dir(const char *pin_dir, char *err, size_t errlen)
{
	char parent[PATH_MAX];
	const char *at = pin_dir;
	struct statfs st;
	char *slash;
	int ret;

	if (pin_dir[0] != '/') {
		snprintf(err, errlen, "pin dir %s: must be an absolute path", pin_dir);
		return -EINVAL;
	}
	if (statfs(pin_dir, &st)) {
		ret = -errno;
		if (ret != -ENOENT) {
			bh_guard_path_err(pin_dir, ret, err, errlen);
			return ret;
		}
		/* not there: its parent says whether it could be */
		snprintf(parent, sizeof(parent), "%s", pin_dir);
		for (size_t l = strlen(parent); l > 1 && parent[l - 1] == '/'; l--)
			parent[l - 1] = '\0';
		slash = strrchr(parent, '/');
		if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
		at = parent;
		if (statfs(parent, &st)) {
			ret = -errno;
			if (ret == -ENOENT)
				snprintf(err, errlen,
					 "pin dir %s: %s does not exist, so it is no bpf filesystem (a typo in --pin-dir or BULKHEAD_PIN_DIR?)",
					 pin_dir, parent);
			else
				bh_guard_path_err(parent, ret, err, errlen);
			return ret;
		}
	}
	if (st.f_type != BPF_FS_MAGIC) {
		snprintf(err, errlen,
			 "pin dir %s: %s is not on a bpf filesystem, so whether Bulkhead is up cannot be seen from here (/sys remounted, as 'ip netns exec' does? use 'nsenter --net=/run/netns/NAME'; no bpffs? 'mount -t bpf bpf /sys/fs/bpf')",
			 pin_dir, at);
		return -EINVAL;
	}
	if (at == pin_dir && access(pin_dir, R_OK | X_OK)) {
		ret = -errno;
		bh_guard_path_err(pin_dir, ret, err, errlen);
		return ret;
	}
	return 0;
}

/* The program ids the pins under @pin_dir/links run (a link's, or the
 * program a clsact pin holds). 0 or -errno; no links dir: none. */
static int owned_ids(const char *pin_dir, __u32 **ids, size_t *n)
{
	char path[PATH_MAX];
	struct dirent *de;
	__u32 *tmp, id;
	DIR *dir;
	int fd;

	*ids = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/links", pin_dir);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/links/%s", pin_dir, de->d_name);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		id = 0;
		if (!strncmp(de->d_name, "clsact-", 7)) {
			struct bpf_prog_info pi = {};
			__u32 len = sizeof(pi);

			if (!bpf_obj_get_info_by_fd(fd, &pi, &len))
				id = pi.id;
		} else {
			struct bpf_link_info li = {};
			__u32 len = sizeof(li);

			if (!bpf_obj_get_info_by_fd(fd, &li, &len))
				id = li.prog_id;
		}
		close(fd);
		if (!id)
			continue;
		tmp = realloc(*ids, (*n + 1) * sizeof(**ids));
		if (!tmp) {
			closedir(dir);
			free(*ids);
			*ids = NULL;
			return -ENOMEM;
		}
		*ids = tmp;
		(*ids)[(*n)++] = id;
	}
	closedir(dir);
	return 0;
}

/* 1 and @f when program @id on @ifindex is a Bulkhead program not in @own */
static int check_prog(__u32 id, const __u32 *own, size_t n_own, int ifindex,
		      const char *hook, struct bh_foreign *f)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd, ret;

	if (!id)
		return 0;
	for (size_t i = 0; i < n_own; i++)
		if (own[i] == id)
			return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;	/* gone meanwhile */
	ret = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	if (strncmp(info.name, PROG_PREFIX, strlen(PROG_PREFIX)))
		return 0;
	memset(f, 0, sizeof(*f));
	if (!if_indextoname((unsigned int)ifindex, f->ifname))
		snprintf(f->ifname, sizeof(f->ifname), "ifindex %d", ifindex);
	snprintf(f->prog, sizeof(f->prog), "%s", info.name);
	f->hook = hook;
	f->prog_id = id;
	return 1;
}

static int check_port(int ifindex, const __u32 *own, size_t n_own, struct bh_foreign *f)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, xo);
	static const struct { int type; const char *hook; } tcx[] = {
		{ BH_ATTACH_TCX_INGRESS, "tcx ingress" },
		{ BH_ATTACH_TCX_EGRESS, "tcx egress" },
	};
	int ret = 0;

	if (!bpf_xdp_query(ifindex, 0, &xo)) {
		__u32 ids[] = { xo.prog_id, xo.drv_prog_id, xo.skb_prog_id, xo.hw_prog_id };

		for (size_t i = 0; i < 4 && !ret; i++)
			ret = check_prog(ids[i], own, n_own, ifindex, "xdp", f);
	}
	for (size_t t = 0; t < 2 && !ret; t++) {
		LIBBPF_OPTS(bpf_prog_query_opts, qo);
		__u32 ids[64];

		qo.prog_ids = ids;
		qo.prog_cnt = 64;
		if (bpf_prog_query_opts(ifindex, (enum bpf_attach_type)tcx[t].type, &qo))
			continue;	/* no tcx on this kernel */
		for (__u32 i = 0; i < qo.prog_cnt && i < 64 && !ret; i++)
			ret = check_prog(ids[i], own, n_own, ifindex, tcx[t].hook, f);
	}
	/* clsact too where the kernel has tcx (BULKHEAD_FORCE_CLSACT) */
	for (int in = 1; in >= 0 && !ret; in--) {
		__u32 id;

		if (!bh_dp_clsact_prog(ifindex, in, &id))
			ret = check_prog(id, own, n_own, ifindex,
					 in ? "clsact ingress" : "clsact egress", f);
	}
	return ret;
}

int bh_guard_foreign(const char *pin_dir, const int *ifindex, size_t n,
		     struct bh_foreign *f)
{
	struct if_nameindex *all = NULL;
	__u32 *own = NULL;
	size_t n_own = 0;
	int ret;

	ret = owned_ids(pin_dir, &own, &n_own);
	if (ret)
		return ret;
	if (!ifindex) {
		all = if_nameindex();
		if (!all) {
			ret = -errno;
			goto out;
		}
		for (struct if_nameindex *i = all; i->if_index && !ret; i++)
			ret = check_port((int)i->if_index, own, n_own, f);
	} else {
		for (size_t i = 0; i < n && !ret; i++)
			ret = check_port(ifindex[i], own, n_own, f);
	}
out:
	if (all)
		if_freenameindex(all);
	free(own);
	return ret;
}

void bh_guard_foreign_msg(const struct bh_foreign *f, const char *pin_dir,
			  char *buf, size_t len)
{
	snprintf(buf, len,
		 "port %s carries Bulkhead's program %s (%s, id %u), which nothing pinned in %s runs: another Bulkhead instance (another --pin-dir or BULKHEAD_PIN_DIR) is up on it",
		 f->ifname, f->prog, f->hook, f->prog_id, pin_dir);
}
