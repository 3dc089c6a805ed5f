/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctnl.h - the kernel's connection tracking (ctnetlink), as isolating a
 * device and leaving --mode nft need it.
 */
#ifndef BH_CTNL_H
#define BH_CTNL_H

#include <stddef.h>

#include "policy.h"

/*
 * Delete the kernel's connection-tracking entries (ctnetlink) whose
 * original source or destination is one of @addrs. Returns how many.
 */
int bh_ct_flush_addrs(const struct bh_addr *addrs, size_t n);

/*
 * Copy the kernel's tracked flows (ctnetlink) into the BPF connection
 * tracking map @ct_map_fd, so replies keep passing when the BPF programs
 * take over from --mode nft. Returns how many.
 */
int bh_ct_import(int ct_map_fd);

#endif /* BH_CTNL_H */
