/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dettab.h - detection state of --mode nft, in the daemon: per source MAC
 * a struct bh_det_state, at most a bounded number of devices (the least
 * recently noted one goes first, as the LRU map bh_detect of the BPF
 * modes), counted by the same code as the programs (bpf/lib/
 * detect_core.h). The attempts come from NFLOG (nflog.c); a count that
 * reaches a level gives the struct bh_det_signal the BPF ring carries.
 */
#ifndef BH_DETTAB_H
#define BH_DETTAB_H

#include <stddef.h>
#include <linux/types.h>

#include "../bpf/bulkhead_abi.h"

struct bh_dettab;

/* A table of at most @max devices (1 to 1 << 20). 0 or -errno. */
int bh_dettab_new(struct bh_dettab **out, size_t max);
void bh_dettab_free(struct bh_dettab *t);

/*
 * Note one attempt of the device @mac to @daddr (16 bytes, v4-mapped for
 * IPv4) at @now_ns (any clock that only goes forward): @what is
 * BH_DETN_WHAT(proto, dport, BH_DETN_*), as bh_detect_note() takes it.
 * Returns the level signalled (BH_DET_WATCH, BH_DET_ACT) with @sig
 * filled, or 0. Nothing is counted while @cfg lacks BH_DETC_ON.
 */
int bh_dettab_note(struct bh_dettab *t, const struct bh_det_cfg *cfg, const __u8 mac[6],
		   const __u8 daddr[16], __u32 what, __u64 now_ns, struct bh_det_signal *sig);
/* Forget @mac's state (release --for): its windows start afresh. */
void bh_dettab_forget(struct bh_dettab *t, const __u8 mac[6]);
/* Forget every device (the thresholds or the salt changed). */
void bh_dettab_clear(struct bh_dettab *t);
/* Devices with a state. */
size_t bh_dettab_count(const struct bh_dettab *t);

#endif /* BH_DETTAB_H */
