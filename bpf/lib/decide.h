/* SPDX-License-Identifier: GPL-2.0 */
/*
 * decide.h - judging a parsed frame with map lookups only: source device,
 * quarantine, anti-spoofing, destination class, policy, connection
 * tracking; ARP, ND/MLD and IP each in their own (out of line) decider.
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
	if (p->qsrc)
		return qsvc_allowed(p, cfg->qallow) ? PASS(p, BH_R_PASS_QSVC) :
						      DROP(p, BH_R_DROP_QUARANTINE);

	pv = policy_lookup(p);
	p->rule_id = BH_RULE_DEFAULT;
	if (pv) {
		p->rule_id = pv->rule_id;
		allow = pv->action == BH_ACT_ALLOW;
	} else {
		allow = default_allows(p, cfg);
	}
	if (allow) {
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
		return PASS(p, BH_R_PASS_REPLY);
	}
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
	p->qsrc = quarantined(p->smac);
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
