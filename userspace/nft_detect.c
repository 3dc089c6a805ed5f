// SPDX-License-Identifier: GPL-2.0
/*
 * nft_detect.c - detection in table inet bulkhead (--mode nft, a policy
 * with detect:; docs/detect.md). nftables has no per-device distinct
 * counts, so the table only tells: new attempts the policy denies, tcp
 * attempts to the worm ports and blocklist hits go to NFLOG group
 * BH_NFLOG_DET_GROUP ("bulkhead detect <what>", nft_spec.h) behind one
 * global limit, and the daemon counts them with the code of the BPF
 * programs (dettab.c, bpf/lib/detect_core.h). The blocklist is two
 * interval sets, block4 and block6, looked up for internet destinations
 * (chain internet): a hit is drop_block.
 */
#include <net/if.h>	/* before the linux/ headers that pull linux/if.h */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>

#include "blocklist.h"
#include "detect.h"
#include "nft_policy.h"

bool nft_det_on(const struct bh_nft_spec *s)
{
	return s && s->p && s->p->detect && s->p->detect->on;
}

/* one element of an interval set: [@lo, @hi] as a start and an end after @hi */
static void interval(struct nftnl_set *set, const __u8 *lo, const __u8 *hi, __u32 len)
{
	struct nftnl_set_elem *e;
	__u8 end[16];
	int i;

	nft_elem(set, lo, len, NULL, 0);
	memcpy(end, hi, len);
	for (i = (int)len - 1; i >= 0 && ++end[i] == 0; i--)
		;
	if (i < 0)
		return;		/* up to the last address: no end element */
	e = nftnl_set_elem_alloc();
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, end, len);
	nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	nftnl_set_elem_add(set, e);
}

/* the last address of @c (@len bytes from @off of its 16) */
static void cidr_last(const struct bh_cidr *c, __u32 off, __u32 len, __u8 *hi)
{
	unsigned int plen = c->plen + off * 8;

	memcpy(hi, c->addr.a + off, len);
	for (unsigned int b = plen; b < (off + len) * 8; b++)
		hi[b / 8 - off] |= (__u8)(0x80 >> (b % 8));
}

/*
 * Set block4 or block6: the blocklist's prefixes as intervals, those that
 * overlap or touch merged (the kernel refuses overlapping intervals; the
 * list is sorted by address, then prefix length)
 */
static void block_set(struct nft_tbl *t, const struct bh_nft_spec *s, bool v4)
{
	__u32 off = v4 ? 12 : 0, len = v4 ? 4 : 16;
	struct nftnl_set *set = nft_set_new(t, v4 ? "block4" : "block6",
					    v4 ? NFT_T_IPADDR : NFT_T_IP6ADDR, len,
					    NFT_SET_INTERVAL, 0, 0);
	__u8 lo[16], hi[16], next[16], nhi[16];
	bool open = false;

	for (size_t i = 0; s->block && i < s->block->n; i++) {
		const struct bh_cidr *c = &s->block->v[i].cidr;
		int j;

		if (c->addr.v4 != v4)
			continue;
		memcpy(next, c->addr.a + off, len);
		cidr_last(c, off, len, nhi);
		if (open) {
			/* touching: the byte after hi is next's first */
			__u8 after[16];

			memcpy(after, hi, len);
			for (j = (int)len - 1; j >= 0 && ++after[j] == 0; j--)
				;
			if (memcmp(next, hi, len) <= 0 || (j >= 0 && !memcmp(next, after, len))) {
				if (memcmp(nhi, hi, len) > 0)
					memcpy(hi, nhi, len);
				continue;
			}
			interval(set, lo, hi, len);
		}
		memcpy(lo, next, len);
		memcpy(hi, nhi, len);
		open = true;
	}
	if (open)
		interval(set, lo, hi, len);
	nft_set_commit(t, set);
}

void nft_det_objects(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	const struct bh_detect_policy *dp = s->p->detect;
	struct nftnl_set *set;

	nft_limit_obj(t, BH_NFT_DET_CAP, BH_NFT_DET_RATE, BH_NFT_DET_BURST);
	set = nft_set_new(t, "det_ports", NFT_T_SERVICE, 2, 0, 0, 0);
	for (int i = 0; i < BH_DET_PORTS; i++) {
		__be16 p = htons(dp->telnet_ports[i]);

		if (dp->telnet_ports[i])
			nft_elem(set, &p, 2, NULL, 0);
	}
	nft_set_commit(t, set);
	block_set(t, s, true);
	block_set(t, s, false);
}

/* ... limit name det_cap log prefix "bulkhead detect <what>" group 25193: committed */
static void det_log_commit(struct nft_tbl *t, struct nftnl_rule *r, const char *what)
{
	char prefix[64];

	expr_objref(r, NFT_OBJECT_LIMIT, BH_NFT_DET_CAP);
	snprintf(prefix, sizeof(prefix), "%s %s", BH_NFLOG_DET_PREFIX, what);
	expr_log(r, prefix, BH_NFLOG_DET_GROUP);
	nft_rule_commit(t, r);
}

/* ct state new [tcp dport @det_ports] limit name det_cap log group ... prefix ... */
static void det_log(struct nft_tbl *t, const char *chain, const char *what, bool worm)
{
	struct nftnl_rule *r = nft_rule(t, chain);

	if (worm) {
		nft_match_l4proto(r, IPPROTO_TCP);
		expr_payload(r, TRANSPORT_HDR, 2, 2, REG32(8));
		expr_lookup(r, t, "det_ports", REG32(8), -1, false);
	}
	nft_match_ct(r, -1, NF_CT_STATE_BIT(IP_CT_NEW));
	det_log_commit(t, r, what);
}

void nft_det_worm_rule(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain)
{
	if (nft_det_on(s))
		det_log(t, chain, "new", true);
}

void nft_det_deny_rule(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain,
		       bool inet)
{
	if (nft_det_on(s))
		det_log(t, chain, inet ? "deny_inet" : "deny", false);
}

void nft_det_block_log(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain)
{
	if (nft_det_on(s))
		det_log(t, chain, "block", false);
}

/*
 * A refusal on its way to a device that opened an east-west flow: a TCP
 * RST, an ICMP (v6) destination unreachable about the flow. The daemon
 * counts it as a failed attempt of the opener (its destination MAC) to
 * the refuser, on the port it tried (nflog.c), as det_mark_refused() in
 * bpf/lib/decide.h. Replies to the gateway's MACs are not the LAN's.
 */
void nft_det_refused_rules(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain)
{
	static const struct {
		__u8 pf, proto, off, mask, val;
		__u32 state;
	} refusals[] = {
		{ 0, IPPROTO_TCP, 13, 0x04, 0x04, NF_CT_STATE_BIT(IP_CT_ESTABLISHED) },
		{ NFPROTO_IPV4, IPPROTO_ICMP, 0, 0xff, 3, NF_CT_STATE_BIT(IP_CT_RELATED) },
		{ NFPROTO_IPV6, IPPROTO_ICMPV6, 0, 0xff, 1, NF_CT_STATE_BIT(IP_CT_RELATED) },
	};
	if (!nft_det_on(s))
		return;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		struct nftnl_rule *r = nft_rule(t, chain);
		__u32 mask = refusals[i].mask, val = refusals[i].val;

		if (refusals[i].pf)
			nft_match_nfproto(r, refusals[i].pf);
		nft_match_l4proto(r, refusals[i].proto);
		expr_payload(r, TRANSPORT_HDR, refusals[i].off, 1, REG32(8));
		expr_mask(r, REG32(8), 1, &mask);
		expr_cmp(r, REG32(8), NFT_CMP_EQ, &val, 1);
		nft_match_ct(r, IP_CT_DIR_REPLY, refusals[i].state);
		nft_match_in_set(r, t, LINK_HDR, 0, 6, "gw_macs", true);
		det_log_commit(t, r, "refused");
	}
}

/*
 * An ARP frame resolving a device its sender may not talk to (table
 * bridge's arp_to_<group>, before its drop_default): an address scan by
 * ARP, as decide_arp() in bpf/lib/decide.h notes it. ARP has no conntrack:
 * every such frame is logged, behind the same global limit.
 */
void nft_det_arp_rule(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain)
{
	if (!nft_det_on(s))
		return;
	det_log_commit(t, nft_rule(t, chain), "arp");
}

/* table bridge's share: the limit of its ARP rules (an object of its own) */
void nft_det_objects_l2(struct nft_tbl *t, const struct bh_nft_spec *s)
{
	if (nft_det_on(s))
		nft_limit_obj(t, BH_NFT_DET_CAP, BH_NFT_DET_RATE, BH_NFT_DET_BURST);
}

/* chain internet: a blocklisted destination is drop_block */
void nft_det_block_rules(struct nft_tbl *t, const struct bh_nft_spec *s, const char *chain)
{
	if (!nft_det_on(s))
		return;
	for (int v4 = 1; v4 >= 0; v4--) {
		struct nftnl_rule *r = nft_rule(t, chain);

		nft_match_nfproto(r, v4 ? NFPROTO_IPV4 : NFPROTO_IPV6);
		nft_match_in_set(r, t, NET_HDR, v4 ? 16 : 24, v4 ? 4 : 16, v4 ? "block4" : "block6",
				 false);
		expr_verdict(r, NFT_GOTO, bh_reason_names[BH_R_DROP_BLOCK]);
		nft_rule_commit(t, r);
	}
}

/*
 * Does deny rule @id judge internet destinations only (a CIDR or the
 * internet)? Its denials then do not count as scans. A rule that denies
 * LAN and internet destinations both (to: any) counts as the LAN's.
 */
bool nft_det_rule_inet(const struct bh_nft_spec *s, __u32 id)
{
	bool any = false;

	for (size_t i = 0; i < s->c->n_pols; i++) {
		__u16 dg = s->c->pols[i].k.dgroup;

		if (s->c->pols[i].v.rule_id != id)
			continue;
		if (dg != BH_GRP_INTERNET && (dg < BH_GRP_CIDR_BASE || dg >= BH_GRP_GATEWAY))
			return false;
		any = true;
	}
	return any;
}
