/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guard.h - what lets a command say what it saw: the pin dir is where
 * Bulkhead's pins can be (on a bpffs, readable), and no other Bulkhead
 * instance's programs sit on the ports when this pin dir looks down. A
 * command that cannot tell fails (exit 2); it never reads "down".
 */
#ifndef BH_GUARD_H
#define BH_GUARD_H

#include <stddef.h>
#include <net/if.h>

/*
 * @pin_dir, or its parent while it does not exist, is on a bpffs and can be
 * looked into. 0; -EACCES or -EPERM ("permission denied: PATH" in @err),
 * -EINVAL (not on a bpffs, or not absolute), -ENOENT (the parent is
 * missing too), or another -errno, each with a message in @err.
 */
int bh_guard_pin_dir(const char *pin_dir, char *err, size_t errlen);

/* "permission denied: PATH" for -EACCES and -EPERM, else "PATH: strerror" */
void bh_guard_path_err(const char *path, int err, char *buf, size_t len);

/* A Bulkhead program on a port that the pin dir does not own. */
struct bh_foreign {
	char ifname[IF_NAMESIZE];
	char prog[16];		/* bulkhead_xdp, bulkhead_tc_in, ... */
	const char *hook;	/* "xdp", "tcx ingress", ... */
	unsigned int prog_id;
};

/*
 * Look at the XDP, tcx and clsact hooks of the @n interfaces @ifindex (all
 * interfaces of this network namespace when @ifindex is NULL) for programs
 * named bulkhead_* that no link or program pinned under @pin_dir/links
 * runs. 1 with the first one in @f, 0 when there is none, or -errno.
 */
int bh_guard_foreign(const char *pin_dir, const int *ifindex, size_t n,
		     struct bh_foreign *f);

/* One line: "port P carries Bulkhead's program X (hook), not run by
 * PIN_DIR: another Bulkhead instance (another --pin-dir) is up there" */
void bh_guard_foreign_msg(const struct bh_foreign *f, const char *pin_dir,
			  char *buf, size_t len);

#endif /* BH_GUARD_H */
