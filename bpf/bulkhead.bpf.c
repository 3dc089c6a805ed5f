// SPDX-License-Identifier: GPL-2.0
/*
 * bulkhead.bpf.c - Bulkhead's dataplane: the entry points around the
 * verdict core (verdict.h; the maps are defined beside their lookups in
 * the lib/ headers): native XDP and tc ingress judge every frame a device sends;
 * tc egress judges flooded frames per port (lib/flood.h) and records the
 * flows the gateway opens towards devices so that their replies pass.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "verdict.h"
#include "lib/flood.h"

/* ---- entry points ------------------------------------------------------------ */

SEC("xdp")
int bulkhead_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bh_pkt p;

	/* not "xdp.frags": the driver gives it the frame linear and whole */
	return bh_judge(&p, data, data_end, (__u32)(data_end - data), false, 0,
			ctx->ingress_ifindex) ? XDP_PASS : XDP_DROP;
}

/*
 * The parser reads the linear part of an skb only. Frames whose headers sit
 * in page fragments (a PACKET_MMAP ring on the device, some drivers) would
 * look truncated: pull the first BH_PULL_LEN bytes (or the whole frame) in.
 * Headers longer than that are judged malformed, fail closed.
 */
#define BH_PULL_LEN	512

static __always_inline void pull_headers(struct __sk_buff *skb)
{
	__u32 want = skb->len < BH_PULL_LEN ? skb->len : BH_PULL_LEN;

	if ((long)skb->data_end - (long)skb->data < (long)want)
		bpf_skb_pull_data(skb, want);
}

SEC("tc")
int bulkhead_tc_in(struct __sk_buff *skb)
{
	void *data, *data_end;
	struct bh_pkt p;

	pull_headers(skb);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;

	/* the stack strips a VLAN tag before tc: it arrives out of band;
	 * pass = TC_ACT_UNSPEC ("next"), so programs after ours still run */
	return bh_judge(&p, data, data_end, skb->len, skb->vlan_present, (__u16)skb->vlan_tci,
			skb->ifindex) ? TC_ACT_UNSPEC : TC_ACT_SHOT;
}

/*
 * Egress: frames leaving by a port. A flooded frame (broadcast or
 * multicast) from a device is judged again for the device(s) behind this
 * port (bh_flood: ingress judged it once for all destinations). Frames the
 * gateway sends to a device (its own, or routed from the internet) are
 * never dropped; a new flow among them is recorded so the device's replies
 * pass ingress.
 */
SEC("tc")
int bulkhead_tc_eg(struct __sk_buff *skb)
{
	void *data, *data_end;
	struct bh_pkt p;
	struct bh_ct_key k;
	struct ethhdr *eth;

	pull_headers(skb);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;

	/* most frames out of a port are bridged from another device: decide
	 * on the Ethernet header alone, before the clock and the parse */
	eth = data;
	if (skb->vlan_present || (void *)(eth + 1) > data_end)
		return TC_ACT_UNSPEC;
	if (eth->h_dest[0] & 1) {
		if (is_gw_mac(eth->h_source))
			return TC_ACT_UNSPEC;
		return bh_flood(&p, data, data_end, skb->len, skb->ifindex) ?
		       TC_ACT_UNSPEC : TC_ACT_SHOT;
	}
	if (!is_gw_mac(eth->h_source))
		return TC_ACT_UNSPEC;
	__builtin_memset(&p, 0, sizeof(p));
	p.now = bh_now();
	if (bh_parse(&p, data, data_end, false, 0) ||
	    !p.has_l4 || (p.eth_proto != ETH_P_IP && p.eth_proto != ETH_P_IPV6))
		return TC_ACT_UNSPEC;
	switch (p.l4proto) {
	case IPPROTO_TCP:
		/* only an opening SYN starts a flow; others refresh theirs */
		if (!(p.tcp_flags & TCP_FLAG_SYN) || (p.tcp_flags & TCP_FLAG_ACK))
			goto refresh;
		break;
	case IPPROTO_UDP:
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (!is_echo_request(p.l4proto, p.icmp_type))
			return TC_ACT_UNSPEC;
		break;
	default:
		return TC_ACT_UNSPEC;
	}
	ct_key(&k, p.l4proto, p.saddr, p.daddr, p.sport, p.dport);
	ct_track(&k, p.smac, p.dmac, BH_CT_FROM_GW, p.now);
	return TC_ACT_UNSPEC;
refresh:
	ct_key(&k, p.l4proto, p.saddr, p.daddr, p.sport, p.dport);
	ct_refresh(&k, p.now);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
