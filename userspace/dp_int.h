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

/* the programs bh_dp_attach() attaches, by kind */
enum dp_prog {
	DP_PROG_XDP,
	DP_PROG_TC_IN,
	DP_PROG_TC_EG,
	DP_PROG_MAX,
};

#define DP_PROG_BIT(i)	(1u << (i))

/*
 * The programs for bh_dp_attach() and bh_dp_close(): the object
 * bh_dp_load() loaded (skel, the fds are its own), or the ones pinned in
 * <pin_dir>/progs that bh_dp_open_pinned() opened (skel NULL, the fds
 * ours), -1 where none.
 */
struct bh_dp {
	struct bulkhead_bpf *skel;
	int prog_fd[DP_PROG_MAX];
	bool progs_reused;	/* prog_fd are the pins' (ours to close) */
	char pin_dir[PATH_MAX];
};

/* Remove @path and everything under it: 0 or -errno (rmdir's). */
int dp_rm_tree(const char *path);

#endif /* BH_DP_INT_H */
