/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nft_policy.h - the whole compiled policy as nftables (--mode nft): the
 * entry points nft.c calls for each table (nft_inet.c, nft_l2.c), and the
 * building blocks of nft_policy.c both use.
 */
#ifndef BH_NFT_POLICY_H
#define BH_NFT_POLICY_H

#include "nft_msg.h"
#include "nft_snap.h"

/* table inet bulkhead: the whole IP policy (nft_inet.c) */
void bh_nft_policy_inet(struct nft_tbl *t, const struct bh_nft_spec *s);
/* table bridge bulkhead: chain prerouting, learn and flood (nft_l2.c) */
void bh_nft_policy_bridge(struct nft_tbl *t, const struct bh_nft_spec *s);

/* where a payload load starts */
#define LINK_HDR	NFT_PAYLOAD_LL_HEADER
#define NET_HDR		NFT_PAYLOAD_NETWORK_HEADER
#define TRANSPORT_HDR	NFT_PAYLOAD_TRANSPORT_HEADER

/* concatenated set keys: address . MAC */
#define KEY_IP4_MAC	(NFT_T_IPADDR << NFT_T_BITS | NFT_T_ETHERADDR)
#define KEY_IP6_MAC	(NFT_T_IP6ADDR << NFT_T_BITS | NFT_T_ETHERADDR)

/* an IPv4-mapped address (::ffff:a.b.c.d): how IPv4 is kept */
bool nft_is_v4_mapped(const __u8 *a);

/*
 * Matches added to a rule. A payload load brings the dependency nft
 * itself would add, once per rule, so that the listing reads and parses
 * back ("ether saddr", "arp saddr ip").
 */
void nft_load_payload(struct nftnl_rule *r, struct nft_tbl *t, __u32 base, __u32 off,
		      __u32 len, __u32 dreg);
void nft_match_nfproto(struct nftnl_rule *r, __u8 pf);
/* ct state in @bits (NF_CT_STATE_BIT()s), of direction @dir (IP_CT_DIR_*; -1: either) */
void nft_match_ct(struct nftnl_rule *r, int dir, __u32 bits);
void nft_match_l4proto(struct nftnl_rule *r, __u8 proto);
void nft_match_group_addressed(struct nftnl_rule *r, bool yes);
void nft_match_in_set(struct nftnl_rule *r, struct nft_tbl *t, __u32 base, __u32 off,
		      __u32 len, const char *set, bool inv);
/* the verdict: a pass counts into @counter; a drop goes to its reason's chain */
void nft_counted_verdict(struct nftnl_rule *r, const char *counter, int verdict);
/* a rule of @chain: what @fn adds, then counter @counter and @verdict */
void nft_add_rule(struct nft_tbl *t, const char *chain, const char *counter, int verdict,
		  void (*fn)(struct nftnl_rule *, struct nft_tbl *, const void *),
		  const void *arg);

/*
 * The sets both tables have: ports, gw_macs, gw4, gw6, known_macs and
 * g_<group>, has4, has6 and bind4; then bind6 and bound4/6 as needed.
 */
void nft_common_sets(struct nft_tbl *t, const struct bh_nft_spec *s);
void nft_bind_set(struct nft_tbl *t, const struct bh_nft_spec *s, bool v4);
void nft_bound_set(struct nft_tbl *t, const struct bh_nft_spec *s, bool v4);

/* drops: per-source counters, deny events, the chain of each reason */
void nft_meter_sets(struct nft_tbl *t, const struct bh_nft_spec *s, bool bridge);
void nft_drop_tail(struct nft_tbl *t, const char *chain, unsigned int reason, __u32 rule);
/* a deny event of the frame's source MAC, within the limits; @would: a
 * drop audit waived */
void nft_event_rule(struct nft_tbl *t, const char *chain, unsigned int reason,
		    __u32 rule, bool would);
void nft_drop_chains(struct nft_tbl *t, const struct bh_nft_spec *s);

/*
 * Audit (staging, docs/policy.md): does the policy stage any drop; the
 * head of a policy drop's chain that passes the frames it stages
 * (@dst: an audited destination MAC too).
 */
bool nft_audit_any(const struct bh_nft_spec *s);
void nft_audit_head(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain,
		    unsigned int reason, __u32 rule, bool dst);
void nft_rule_chain_name(char *buf, size_t len, __u32 id);

/* source binding: an address used by a MAC that does not bind it */
__u32 nft_ip_addr_offset(bool v4, bool dst);
void nft_spoof_rules(struct nft_tbl *t, const char *chain, bool v4, __u32 base,
		     __u32 off);

/* groups: names as nftables takes them, member sets, maps to per-group chains */
void nft_group_name(const struct bh_nft_spec *s, __u32 g, char *buf, size_t len);
void nft_group_obj_name(const struct bh_nft_spec *s, const char *prefix, __u32 g,
			const char *suffix, char *buf, size_t len);
void nft_dispatch_map(struct nft_tbl *t, const struct bh_nft_spec *s,
		      const char *name, const char *prefix, int kind);
void nft_match_src_group(struct nftnl_rule *r, struct nft_tbl *t, const struct bh_nft_spec *s,
			 __u32 g, bool unknown);
int nft_src_variants(const struct bh_nft_spec *s, __u32 sg);
void nft_group_chains(struct nft_tbl *t, const struct bh_nft_spec *s,
		      const char *prefix);

/* the policy's entries from group @sg to group @dg */
bool nft_has_entries(const struct bh_nft_spec *s, __u32 sg, __u32 dg);
void nft_pair_rules(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain,
		    __u32 sg, __u32 dg, bool flood);

/* ARP / ND: who may resolve whom */
bool nft_group_talks_to(const struct bh_nft_spec *s, __u32 a, int b);
void nft_talk_chains(struct nft_tbl *t, const struct bh_nft_spec *s, const char *prefix,
		     const char *counter, bool arp);
void nft_peer_rules(struct nft_tbl *t, const char *chain, bool v4, __u32 base,
		    __u32 off, const char *ipmap, const char *macmap, const char *any);

/* nft_detect.c: detection's sets, limit and log rules (table inet) */
bool nft_det_on(const struct bh_nft_spec *s);
void nft_det_objects(struct nft_tbl *t, const struct bh_nft_spec *s);
void nft_det_worm_rule(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain);
void nft_det_deny_rule(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain,
		       bool inet);
void nft_det_block_log(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain);
void nft_det_refused_rules(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain);
void nft_det_arp_rule(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain);
void nft_det_objects_l2(struct nft_tbl *t, const struct bh_nft_spec *s);
void nft_det_block_rules(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain);
bool nft_det_rule_inet(const struct bh_nft_spec *s, __u32 id);

#endif /* BH_NFT_POLICY_H */
