/* SPDX-License-Identifier: GPL-2.0 */
/*
 * policy.h - the policy: the group a frame goes to (a device, the gateway,
 * a CIDR class, the internet, multicast), who may resolve whom (bh_talk),
 * the rule between two groups for a protocol and port, and the defaults.
 */
#ifndef BH_LIB_POLICY_H
#define BH_LIB_POLICY_H

#include "common.h"
#include "addr.h"
#include "pkt.h"
#include "parse.h"
#include "gw.h"
#include "devices.h"

/* gen * BH_MAX_GROUPS + group -> struct bh_group. user */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * BH_MAX_GROUPS);
	__type(key, __u32);
	__type(value, struct bh_group);
} bh_groups SEC(".maps");

/* (gen, proto, port, src group, dst group) -> verdict and rule. user */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * BH_MAX_POLICY);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bh_pol_key);
	__type(value, struct bh_pol_val);
} bh_policy SEC(".maps");

/* LPM (gen, src group, internet address) -> CIDR class. user */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2 * BH_MAX_INET);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bh_inet_key);
	__type(value, struct bh_inet_val);
} bh_inet SEC(".maps");

/* (gen, group a, group b) -> 1: ARP/ND may pass. user */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * BH_MAX_TALK);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bh_talk_key);
	__type(value, __u8);
} bh_talk SEC(".maps");

static __always_inline bool talk(__u32 gen, __u16 a, __u16 b)
{
	struct bh_talk_key k = { .gen = (__u8)gen, .ga = a, .gb = b };

	return bpf_map_lookup_elem(&bh_talk, &k) != NULL;
}

/*
 * Group of the device an ARP/ND target address belongs to; -1:
 * quarantined. A group-addressed request for an address no device is bound
 * to (the device may simply have no ip:) goes to BH_GRP_SOME: it may pass
 * when the sender talks to some group, and each port's egress lets it out
 * only to the devices the sender talks to (bh_flood).
 */
static __noinline int target_group(struct bh_pkt *p, const __u8 *addr,
				   __u16 *group, __u32 unknown)
{
	struct bh_ip_val *own = ip_owner(p->gen, addr);
	struct bh_dev_val *dv;

	if (own) {
		if (quarantined(own->mac))
			return -1;
		*group = own->group;
		return 0;
	}
	if (!p->mcast) {
		dv = device(p->gen, p->dmac);
		*group = dv ? dv->group : (__u16)unknown;
		return 0;
	}
	*group = BH_GRP_SOME;
	return 0;
}

static __noinline struct bh_pol_val *policy_lookup(struct bh_pkt *p)
{
	struct bh_pol_key k = {
		.gen = (__u8)p->gen,
		.proto = p->l4proto,
		.sgroup = p->sgroup,
		.dgroup = p->dgroup,
	};
	struct bh_pol_val *pv;

	if ((p->l4proto == IPPROTO_TCP || p->l4proto == IPPROTO_UDP) && p->dport) {
		k.port = p->dport;
		pv = bpf_map_lookup_elem(&bh_policy, &k);
		if (pv)
			return pv;
		k.port = BH_PORT_ANY;
	}
	pv = bpf_map_lookup_elem(&bh_policy, &k);
	if (pv)
		return pv;
	k.proto = BH_PROTO_ANY;
	return bpf_map_lookup_elem(&bh_policy, &k);
}

static __always_inline bool default_allows(struct bh_pkt *p, struct bh_config *cfg)
{
	struct bh_group *g;
	__u32 idx;

	if (p->dgroup == BH_GRP_MULTICAST)
		return false;
	if (p->dgroup == BH_GRP_GATEWAY)
		return cfg->flags & BH_CFG_GW_ALLOW;
	if (p->dgroup == BH_GRP_INTERNET || p->dgroup >= BH_GRP_CIDR_BASE) {
		idx = p->gen * BH_MAX_GROUPS + (p->sgroup & (BH_MAX_GROUPS - 1));
		g = bpf_map_lookup_elem(&bh_groups, &idx);
		return g && g->valid && g->internet == BH_ACT_ALLOW;
	}
	return cfg->flags & BH_CFG_EW_ALLOW;
}

/* Is user group @g audited (audit: true) in generation @gen? */
static __always_inline bool group_audited(__u32 gen, __u16 g)
{
	struct bh_group *gr;
	__u32 idx;

	if (g >= BH_MAX_GROUPS)
		return false;		/* gateway, internet, multicast, a CIDR class */
	idx = (gen & 1) * BH_MAX_GROUPS + g;
	gr = bpf_map_lookup_elem(&bh_groups, &idx);
	return gr && gr->valid && gr->audit;
}

/*
 * Audit (staging): a frame from p->sgroup to @dg that the policy would
 * drop passes when either group is audited or the whole policy is
 * (defaults.mode: audit). Only the policy's drops are waived: the callers
 * are the drop_rule / drop_default / drop_flood sites, never an
 * integrity check (quarantine, spoofing, malformed, ...).
 */
static __always_inline bool audited(struct bh_pkt *p, struct bh_config *cfg, __u16 dg)
{
	return (cfg->flags & BH_CFG_AUDIT) || group_audited(p->gen, p->sgroup) ||
	       group_audited(p->gen, dg);
}

/* The policy drops @p (@reason, @rule): pass_audit instead when audited. */
static __always_inline int policy_drop(struct bh_pkt *p, struct bh_config *cfg, __u16 dg,
				       __u16 reason, __u32 rule)
{
	if (audited(p, cfg, dg)) {
		p->vc_reason = reason;	/* what the deny event reports */
		return verdict(p, 1, BH_R_PASS_AUDIT, rule);
	}
	return verdict(p, 0, reason, rule);
}

/* A quarantined device may use only the gateway services in qallow. */
static __always_inline bool qsvc_allowed(struct bh_pkt *p, __u16 qallow)
{
	if (p->dgroup != BH_GRP_GATEWAY || !p->has_l4)
		return false;
	if (p->l4proto == IPPROTO_UDP) {
		if ((p->dport == 67 || p->dport == 547) && (qallow & BH_SVC_DHCP))
			return true;
		if (p->dport == 123 && (qallow & BH_SVC_NTP))
			return true;
	}
	if ((p->l4proto == IPPROTO_UDP || p->l4proto == IPPROTO_TCP) &&
	    p->dport == 53 && (qallow & BH_SVC_DNS))
		return true;
	if ((is_echo_request(p->l4proto, p->icmp_type) ||
	     is_echo_reply(p->l4proto, p->icmp_type)) && (qallow & BH_SVC_ICMP))
		return true;
	return false;
}

/* Destination class of an IP packet (sets p->dgroup); -1: quarantined. */
static __noinline int ip_destination(struct bh_pkt *p, struct bh_config *cfg)
{
	struct bh_inet_key k = {
		.prefixlen = BH_INET_KEY_HDR_BITS + 128,
	};
	struct bh_inet_val *iv;
	struct bh_ip_val *own;
	struct bh_dev_val *dv;

	if (!p->mcast && !p->dst_gw_mac) {
		dv = device(p->gen, p->dmac);
		p->dgroup = dv ? dv->group : cfg->unknown_group;
		return 0;
	}
	/* by the unicast IP: routed through the gateway, or a group-addressed
	 * frame carrying it (judged as sent to it) */
	if (is_gw_ip(p->daddr)) {
		p->dgroup = BH_GRP_GATEWAY;
		return 0;
	}
	own = ip_owner(p->gen, p->daddr);
	if (own) {
		if (quarantined(own->mac))
			return -1;
		p->dgroup = own->group;
		return 0;
	}
	if (p->mcast) {
		/* a DHCP client's broadcast is for the gateway's server */
		if (p->has_l4 && p->l4proto == IPPROTO_UDP &&
		    ((p->is_v4 && p->dport == 67) || (!p->is_v4 && p->dport == 547)))
			p->dgroup = BH_GRP_GATEWAY;
		else
			p->dgroup = BH_GRP_MULTICAST;
		return 0;
	}
	if (is_lan_ip(p->daddr)) {
		p->dgroup = cfg->unknown_group;
		return 0;
	}
	k.gen = (__u8)p->gen;
	k.sgroup = p->sgroup;
	__builtin_memcpy(k.addr, p->daddr, 16);
	iv = bpf_map_lookup_elem(&bh_inet, &k);
	p->dgroup = iv ? iv->dgroup : BH_GRP_INTERNET;
	return 0;
}

#endif /* BH_LIB_POLICY_H */
