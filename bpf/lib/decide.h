/* SPDX-License-Identifier: GPL-2.0 */
/*
 * decide.h - judging a parsed frame with map lookups only: source device,
 * quarantine, anti-spoofing, destination class, blocklist, policy,
 * connection tracking; ARP, ND/MLD and IP each in their own (out of line)
 * decider. What detection should note is recorded in p->det; bh_judge()
 * makes the one bh_detect_note() call (the stack: docs/detect.md).
 */
#ifndef BH_LIB_DECIDE_H
#define BH_LIB_DECIDE_H

#include "common.h"
#include "addr.h"
#include "pkt.h"
#include "parse.h"
#include "gw.h"
#include "devices.h"
#include "claim.h"
#include "policy.h"
#include "ct.h"
#include "frag.h"
#include "port.h"
#include "detect.h"

/* ---- detection: what bh_judge() notes (lib/detect.h) ------------------------ */

/* the internet: routed through the gateway, a CIDR class or the rest */
static __always_inline bool inet_group(__u16 g)
{
	return g == BH_GRP_INTERNET || (g >= BH_GRP_CIDR_BASE && g < BH_GRP_GATEWAY);
}

/* The first packet of a flow: a TCP SYN, a UDP datagram, an echo request. */
static __always_inline bool det_first(const struct bh_pkt *p)
{
	if (!p->has_l4)
		return false;
	if (p->l4proto == IPPROTO_TCP)
		return (p->tcp_flags & TCP_FLAG_SYN) && !(p->tcp_flags & TCP_FLAG_ACK);
	if (p->l4proto == IPPROTO_UDP)
		return true;
	return is_echo_request(p->l4proto, p->icmp_type);
}

/* The frame's own attempt, to its destination, with BH_DETN_* @flags. */
static __always_inline void det_mark(struct bh_pkt *p, __u32 flags)
{
	__u16 port = 0;

	if (p->l4proto == IPPROTO_TCP || p->l4proto == IPPROTO_UDP)
		port = p->dport;
	if (inet_group(p->dgroup))
		flags |= BH_DETN_INTERNET;
	if (p->is_v4)
		flags |= BH_DETN_V4;
	p->det = BH_DETN_WHAT(p->l4proto, port, flags);
}

/* A device refusing a flow to it: a TCP RST, an ICMP unreachable (quoting it). */
static __always_inline bool det_refusal(const struct bh_pkt *p)
{
	if (!p->has_l4 || p->mcast || p->dst_gw_mac)
		return false;
	if (p->l4proto == IPPROTO_TCP)
		return p->tcp_flags & TCP_FLAG_RST;
	if (p->l4proto == IPPROTO_ICMP)
		return p->icmp_type == ICMP_DEST_UNREACH && p->q_ok;
	if (p->l4proto == IPPROTO_ICMPV6)
		return p->icmp_type == ICMPV6_DEST_UNREACH && p->q_ok;
	return false;
}

/*
 * A refusal that is_reply() matched to a live flow: a failed attempt of
 * the flow's opener (p->dmac) to this frame's source, on the port it
 * tried (the RST's source port, the quoted destination port).
 */
static __always_inline void det_mark_refused(struct bh_pkt *p)
{
	__u8 proto = p->l4proto;
	__u16 port = p->sport;

	if (proto != IPPROTO_TCP) {
		proto = p->q_proto;
		port = p->q_dport;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		port = 0;
	p->det = BH_DETN_WHAT(proto, port, BH_DETN_NEW | BH_DETN_REFUSED |
			      (p->is_v4 ? BH_DETN_V4 : 0));
	p->det_opener = 1;
}

/* ---- ARP ---------------------------------------------------------------------- */

static __noinline int decide_arp(struct bh_pkt *p, struct bh_config *cfg)
{
	__u16 tgroup;

	if (addr_spoofed(p, p->saddr, true))
		return DROP(p, BH_R_DROP_SPOOF);
	/* anyone may resolve, and answer, the gateway */
	if (is_gw_ip(p->daddr) || p->dst_gw_mac)
		return PASS(p, BH_R_PASS_ARP);
	if (p->qsrc)
		return DROP(p, BH_R_DROP_QUARANTINE);
	/* an announcement of the sender's own (checked) address */
	if (!addr_v4_zero(p->saddr) && addr_eq(p->saddr, p->daddr))
		return PASS(p, BH_R_PASS_ARP);
	if (target_group(p, p->daddr, &tgroup, cfg->unknown_group))
		return DROP(p, BH_R_DROP_QUARANTINE);
	if (talk(p->gen, p->sgroup, tgroup))
		return PASS(p, BH_R_PASS_ARP);
	/* resolving a device it may not talk to: an address scan by ARP
	 * (denied by the policy, whether audit then passes it or not) */
	p->det = BH_DETN_WHAT(0, 0, BH_DETN_NEW | BH_DETN_DENIED | BH_DETN_V4);
	return policy_drop(p, cfg, tgroup, BH_R_DROP_DEFAULT, BH_RULE_DEFAULT);
}

/* ---- IPv6 neighbour discovery and MLD ----------------------------------------- */

/* 1 when the ICMPv6 message was ND/MLD/RA and is decided here. */
static __noinline int decide_nd(struct bh_pkt *p, struct bh_config *cfg)
{
	__u16 tgroup;

	switch (p->icmp_type) {
	case ND_RA:
	case ND_REDIRECT:
	case MLD_QUERY:
		DROP(p, BH_R_DROP_ROGUE);	/* router and querier are the gateway */
		return 1;
	case ND_RS:
		PASS(p, BH_R_PASS_ND);
		return 1;
	case 131: case 132: case 143:	/* MLD reports */
		if (p->qsrc)
			DROP(p, BH_R_DROP_QUARANTINE);
		else
			PASS(p, BH_R_PASS_ND);
		return 1;
	case ND_NS:
	case ND_NA:
		break;
	default:
		return 0;
	}
	if (!p->has_target) {
		DROP(p, BH_R_DROP_MALFORMED);
		return 1;
	}
	if (p->icmp_type == ND_NS) {
		if (addr_unspec(p->saddr) || is_gw_ip(p->target)) {
			PASS(p, BH_R_PASS_ND);	/* DAD, or asking for the gateway */
			return 1;
		}
	} else {
		if (addr_spoofed(p, p->target, false)) {
			DROP(p, BH_R_DROP_SPOOF);
			return 1;
		}
		if (p->dst_gw_mac || is_gw_ip(p->daddr)) {
			PASS(p, BH_R_PASS_ND);
			return 1;
		}
		if (!p->qsrc && p->mcast) {
			PASS(p, BH_R_PASS_ND);	/* unsolicited, for its own address */
			return 1;
		}
	}
	if (p->qsrc) {
		DROP(p, BH_R_DROP_QUARANTINE);
		return 1;
	}
	/* the peer: for a solicitation the address asked for, for an
	 * advertisement the one it answers (its target is the sender's own) */
	if (target_group(p, p->icmp_type == ND_NS ? p->target : p->daddr, &tgroup,
			 cfg->unknown_group))
		DROP(p, BH_R_DROP_QUARANTINE);
	else if (talk(p->gen, p->sgroup, tgroup))
		PASS(p, BH_R_PASS_ND);
	else
		policy_drop(p, cfg, tgroup, BH_R_DROP_DEFAULT, BH_RULE_DEFAULT);
	return 1;
}

/* ---- IP ------------------------------------------------------------------------- */

static __noinline int decide_ip(struct bh_pkt *p, struct bh_config *cfg)
{
	struct bh_pol_val *pv;
	struct bh_ct_key k;
	__u16 reason;
	bool allow;

	if (addr_spoofed(p, p->saddr, p->is_v4))
		return DROP(p, BH_R_DROP_SPOOF);

	if (p->frag_later)
		return frag_later(p);

	/* servers and routers among the devices are rogue */
	if (p->l4proto == IPPROTO_UDP &&
	    ((p->is_v4 && p->sport == 67 && p->dport == 68) ||
	     (!p->is_v4 && p->sport == 547 && p->dport == 546)))
		return DROP(p, BH_R_DROP_ROGUE);
	if (p->l4proto == IPPROTO_ICMPV6 && !p->is_v4 && decide_nd(p, cfg))
		return p->pass;

	if (ip_destination(p, cfg))
		return DROP(p, BH_R_DROP_QUARANTINE);
	/* quarantined: quarantine.allow only; at level lan the internet too */
	if (p->qsrc && !(p->qsrc == BH_QS_LAN && inet_group(p->dgroup)))
		return qsvc_allowed(p, cfg->qallow) ? PASS(p, BH_R_PASS_QSVC) :
						      DROP(p, BH_R_DROP_QUARANTINE);
	/* the blocklist: internet destinations only (no bogon touches the LAN) */
	if (inet_group(p->dgroup) && bh_block_hit(p->daddr)) {
		det_mark(p, det_first(p) ? BH_DETN_NEW | BH_DETN_BLOCK : BH_DETN_BLOCK);
		return DROP(p, BH_R_DROP_BLOCK);
	}

	pv = policy_lookup(p);
	p->rule_id = BH_RULE_DEFAULT;
	if (pv) {
		p->rule_id = pv->rule_id;
		allow = pv->action == BH_ACT_ALLOW;
	} else {
		allow = default_allows(p, cfg);
	}
	if (allow) {
		if (det_refusal(p)) {
			if (is_reply(p))
				det_mark_refused(p);
		} else if (p->l4proto == IPPROTO_TCP && det_first(p)) {
			det_mark(p, BH_DETN_NEW);	/* for the worm ports */
		}
		p->vc_kind = BH_VCK_ALLOW;
		reason = pv ? BH_R_PASS_RULE : BH_R_PASS_DEFAULT;
		goto track;
	}
	/* a cached denial checks for a reply on every hit: flows opened
	 * later (either end, or the gateway) make it one */
	p->vc_kind = BH_VCK_DENY;
	p->vc_reason = pv ? BH_R_DROP_RULE : BH_R_DROP_DEFAULT;
	p->vc_rule = p->rule_id;
	if (is_reply(p)) {
		if (p->frag_first)
			frag_record(p);
		if (det_refusal(p))
			det_mark_refused(p);
		return PASS(p, BH_R_PASS_REPLY);
	}
	/* denied by the policy: an attempt for detection, audited or not */
	if (det_first(p))
		det_mark(p, BH_DETN_NEW | BH_DETN_DENIED);
	if (!audited(p, cfg, p->dgroup))
		return verdict(p, 0, p->vc_reason, p->rule_id);
	/* audit: passed as if allowed, so its replies pass as replies (a
	 * frame that is its own reverse would answer itself: not tracked) */
	p->vc_kind = BH_VCK_AUDIT;
	reason = BH_R_PASS_AUDIT;
track:
	ct_key(&k, p->l4proto, p->saddr, p->daddr, p->sport, p->dport);
	if (reason != BH_R_PASS_AUDIT || !addr_eq(p->saddr, p->daddr) || p->sport != p->dport)
		ct_track(&k, p->smac, p->dmac, 0, p->now);
	if (p->frag_first)
		frag_record(p);
	return verdict(p, 1, reason, p->rule_id);
}

/* ---- the frame ------------------------------------------------------------------ */

/* inlined into bh_decide(): a frame less in every chain below it */
static __always_inline int decide_frame(struct bh_pkt *p, struct bh_config *cfg)
{
	struct bh_dev_val *dv;

	if (!p || !cfg)
		return 0;
	if (is_gw_mac(p->smac))
		return DROP(p, BH_R_DROP_SPOOF);	/* a device posing as the gateway */
	port_learn(p);

	dv = device(p->gen, p->smac);
	if (dv) {
		p->sgroup = dv->group;
		p->sflags = dv->flags;
		p->ctr_slot = dv->ctr_slot;
	} else {
		p->sgroup = cfg->unknown_group;
	}
	p->qsrc = quarantine_level(p->smac);
	p->mcast = p->dmac[0] & 1;
	if (!p->mcast) {
		p->dst_gw_mac = is_gw_mac(p->dmac);
		if (!p->dst_gw_mac && quarantined(p->dmac))
			return DROP(p, BH_R_DROP_QUARANTINE);
	}

	switch (p->eth_proto) {
	case ETH_P_ARP:
		return decide_arp(p, cfg);
	case ETH_P_IP:
	case ETH_P_IPV6:
		return decide_ip(p, cfg);
	case ETH_P_EAPOL_:
		/* 802.1X to the gateway's authenticator: its MAC or the PAE group */
		if (p->dst_gw_mac ||
		    (p->dmac[0] == 0x01 && p->dmac[1] == 0x80 && p->dmac[2] == 0xc2 &&
		     !p->dmac[3] && !p->dmac[4] && p->dmac[5] == 0x03))
			return PASS(p, BH_R_PASS_EAPOL);
		return DROP(p, BH_R_DROP_ETHERTYPE);
	default:
		return DROP(p, BH_R_DROP_ETHERTYPE);
	}
}

#endif /* BH_LIB_DECIDE_H */
