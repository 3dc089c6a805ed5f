/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flood.h - flooded frames (broadcast, multicast) from a device, judged
 * again on tc egress for the device(s) behind each port (port.h).
 */
#ifndef BH_LIB_FLOOD_H
#define BH_LIB_FLOOD_H

#include "common.h"
#include "pkt.h"
#include "parse.h"
#include "config.h"
#include "devices.h"
#include "gw.h"
#include "policy.h"
#include "port.h"
#include "account.h"

/* The policy between two groups for the frame's protocol and port. */
static __noinline int flood_policy(struct bh_pkt *p, struct bh_config *cfg,
				   __u16 sgroup, __u16 dgroup)
{
	struct bh_pol_val *pv;
	__u16 sg, dg;
	int allow;

	if (!p || !cfg)
		return 0;
	sg = p->sgroup;
	dg = p->dgroup;
	p->sgroup = sgroup;
	p->dgroup = dgroup;
	pv = policy_lookup(p);
	allow = pv ? pv->action == BH_ACT_ALLOW : default_allows(p, cfg);
	p->sgroup = sg;
	p->dgroup = dg;
	return allow;
}

/* May the device in group @pg have this flooded frame of p->sgroup's? */
static __noinline int flood_to(struct bh_pkt *p, struct bh_config *cfg, __u16 pg)
{
	if (!p || !cfg)
		return 0;
	if (p->eth_proto == ETH_P_ARP)
		return talk(p->gen, p->sgroup, pg);
	if ((p->eth_proto != ETH_P_IP && p->eth_proto != ETH_P_IPV6) || !p->has_l4)
		return 0;	/* EAPOL is the gateway's; later fragments go nowhere */
	if (p->l4proto == IPPROTO_ICMPV6 && !p->is_v4) {
		switch (p->icmp_type) {
		case ND_NS:
		case ND_NA:
			return talk(p->gen, p->sgroup, pg);
		case ND_RS:
		case ND_RA:
		case ND_REDIRECT:
		case MLD_QUERY:
		case 131: case 132: case 143:	/* MLD reports: the gateway's */
			return 0;
		}
	}
	/* the gateway's: its own address, a DHCP client's broadcast */
	if (is_gw_ip(p->daddr))
		return 0;
	if (p->l4proto == IPPROTO_UDP &&
	    ((p->is_v4 && p->dport == 67) || (!p->is_v4 && p->dport == 547)))
		return 0;
	/* as if sent to it, or both take part in the same multicast service */
	if (flood_policy(p, cfg, p->sgroup, pg))
		return 1;
	if (ip_owner(p->gen, p->daddr))
		return 0;	/* a device's unicast IP in a group frame */
	return flood_policy(p, cfg, pg, BH_GRP_MULTICAST);
}

/*
 * A flooded frame leaving by port p->ifindex: 1 when every device learned
 * behind the port may have it (a port shared by more devices than it holds
 * also counts as the unknown group). A port with nothing learned yet gets
 * ARP requests and neighbour solicitations of a sender that talks to some
 * group (so a device that has not spoken yet can be found), nothing else.
 * 2: the policy would withhold it, but the sender's group or the group of
 * a device it was withheld from is audited (policy_drop()): it goes out.
 * A quarantined sender or device is never audited.
 */
static __noinline int flood_judge(struct bh_pkt *p)
{
	struct bh_port_val *pv;
	struct bh_config *cfg;
	struct bh_dev_val *dv;
	struct bh_active *a;
	__u32 key = 0, i;
	int ok = 1;
	__u16 pg;

	if (!p)
		return 0;
	a = bpf_map_lookup_elem(&bh_active, &key);
	if (!a)
		return 0;
	p->gen = a->gen & 1;
	key = p->gen;
	cfg = bpf_map_lookup_elem(&bh_config, &key);
	if (!cfg || !(cfg->flags & BH_CFG_VALID) || quarantined(p->smac))
		return 0;
	dv = device(p->gen, p->smac);
	p->sgroup = dv ? dv->group : cfg->unknown_group;
	p->mcast = 1;
	key = p->ifindex;
	pv = bpf_map_lookup_elem(&bh_port, &key);
	if (!pv || !pv->n) {
		if ((p->eth_proto == ETH_P_ARP ||
		     (p->l4proto == IPPROTO_ICMPV6 && !p->is_v4 && p->has_l4 &&
		      p->icmp_type == ND_NS)) &&
		    talk(p->gen, p->sgroup, BH_GRP_SOME))
			return 1;
		return audited(p, cfg, BH_GRP_NONE) ? 2 : 0;
	}
	for (i = 0; i < BH_PORT_MACS; i++) {
		if (i >= pv->n)
			break;
		if (quarantined(pv->mac[i]))
			return 0;
		dv = device(p->gen, pv->mac[i]);
		pg = dv ? dv->group : cfg->unknown_group;
		if (!flood_to(p, cfg, pg)) {
			if (!audited(p, cfg, pg))
				return 0;
			ok = 2;
		}
	}
	if (pv->overflow && !flood_to(p, cfg, cfg->unknown_group)) {
		if (!audited(p, cfg, cfg->unknown_group))
			return 0;
		ok = 2;
	}
	return ok;
}

/*
 * Egress: a broadcast or multicast frame from a device, leaving by port
 * @ifindex. Ingress judged it once for every destination; here each copy
 * is judged for the device(s) behind its port. 1 to let it out; a copy
 * withheld is counted as drop_flood (no deny event: one frame, many ports),
 * one audit lets out as pass_audit.
 */
static __always_inline int bh_flood(struct bh_pkt *p, void *data, void *data_end,
				    __u32 len, __u32 ifindex)
{
	struct bh_counter *cnt;
	__u32 key = BH_R_DROP_FLOOD;
	int ok = 0;

	__builtin_memset(p, 0, sizeof(*p));
	p->ifindex = ifindex;
	if (!bh_parse(p, data, data_end, false, 0))
		ok = flood_judge(p);
	if (ok == 1)
		return 1;
	if (ok)
		key = BH_R_PASS_AUDIT;
	cnt = bpf_map_lookup_elem(&bh_stats, &key);
	if (cnt) {
		cnt->packets++;
		cnt->bytes += len;
	}
	return ok;
}

#endif /* BH_LIB_FLOOD_H */
