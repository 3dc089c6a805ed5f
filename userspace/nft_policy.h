/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nft_policy.h - the whole compiled policy as nftables (--mode nft), built
 * into the tables nft.c writes: table inet, and the bridge table's chains.
 */
#ifndef BH_NFT_POLICY_H
#define BH_NFT_POLICY_H

#include "nft_msg.h"
#include "nft_snap.h"

void bh_nft_policy_inet(struct nft_tbl *t, const struct bh_nft_spec *s);
void bh_nft_policy_bridge(struct nft_tbl *t, const struct bh_nft_spec *s);

#endif /* BH_NFT_POLICY_H */
