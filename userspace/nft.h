/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nft.h - Bulkhead's nftables tables, written with libnftnl + libmnl in one
 * batch transaction each time. Bulkhead owns "table bridge bulkhead" and
 * never touches any other table.
 *
 * The quarantine lock: the quarantined MACs as a named set, enforced on the
 * bridge's forward, input and output hooks, so an isolated device stays
 * isolated even with the BPF programs gone, and the gateway itself cannot
 * relay its traffic. Only the quarantine.allow services pass, to and from
 * the gateway.
 */
#ifndef BH_NFT_H
#define BH_NFT_H

#include <stddef.h>
#include <linux/types.h>

#define BH_NFT_TABLE	"bulkhead"

/*
 * Replace the table with one holding @n MACs (6 bytes each) and allowing
 * @qallow (BH_SVC_*) services. Atomic: one batch deletes and recreates it.
 * 0 or -errno.
 */
int bh_nft_sync(const __u8 (*macs)[6], size_t n, __u16 qallow);

/* Remove the table if it exists. 0 or -errno. */
int bh_nft_remove(void);

#endif /* BH_NFT_H */
