/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dp_int.h - shared by dataplane.c and dp_attach.c only, not part of the
 * dataplane's interface (dataplane.h): the loaded object and a recursive
 * remove.
 */
#ifndef BH_DP_INT_H
#define BH_DP_INT_H

#include <limits.h>

struct bulkhead_bpf;

/* the object bh_dp_load() loaded, for bh_dp_attach() and bh_dp_close() */
struct bh_dp {
	struct bulkhead_bpf *skel;
	char pin_dir[PATH_MAX];
};

/* Remove @path and everything under it: 0 or -errno (rmdir's). */
int dp_rm_tree(const char *path);

#endif /* BH_DP_INT_H */
