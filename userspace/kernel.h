/* SPDX-License-Identifier: GPL-2.0 */
/* kernel.h - what the running kernel offers Bulkhead (kernel.c). */
#ifndef BH_KERNEL_H
#define BH_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

struct bh_kernel {
	char release[65];	/* uname -r */
	bool tcx;		/* tcx links (Linux 6.6+); else clsact filters */
	bool br_netfilter;	/* bridged IP reaches the inet hooks */
};

void bh_kernel_facts(struct bh_kernel *k);

/* br_netfilter is loaded in this network namespace */
bool bh_kernel_br_netfilter(void);

/*
 * Make sure br_netfilter is loaded (with libkmod when it is a module that
 * is not). 0, or -errno with what to do in @err.
 */
int bh_kernel_load_br_netfilter(char *err, size_t errlen);

#endif /* BH_KERNEL_H */
