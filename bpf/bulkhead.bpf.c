// SPDX-License-Identifier: GPL-2.0
/*
 * bulkhead.bpf.c - Bulkhead's dataplane: the maps, and the entry points
 * around the verdict core (verdict.h): native XDP and tc ingress judge every
 * frame a device sends; tc egress records the flows the gateway opens
 * towards devices so that their replies pass.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include "bulkhead_abi.h"

/* ---- maps (keys and values: bulkhead_abi.h) ------------------------------
 * "user" = written by the controller, "bpf" = written by these programs.
 */

/* key 0 -> struct bh_active: the generation packets use. user (the flip) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bh_active);
} bh_active SEC(".maps");

/* gen -> struct bh_config. user */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct bh_config);
} bh_config SEC(".maps");

/* gen * BH_MAX_GROUPS + group -> struct bh_group. user */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * BH_MAX_GROUPS);
	__type(key, __u32);
	__type(value, struct bh_group);
} bh_groups SEC(".maps");

/* (gen, MAC) -> device and group. user */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * BH_MAX_DEVICES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bh_dev_key);
	__type(value, struct bh_dev_val);
} bh_devices SEC(".maps");

/* (gen, bound address) -> owning MAC and group. user */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * BH_MAX_IPS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bh_ip_key);
	__type(value, struct bh_ip_val);
} bh_ips SEC(".maps");

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

/* the gateway's own MACs -> ifindex. user (from netlink at up/apply) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BH_MAX_GW);
	__type(key, struct bh_mac_key);
	__type(value, __u32);
} bh_gw_mac SEC(".maps");

/* the gateway's own LAN addresses -> ifindex. user */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BH_MAX_GW);
	__type(key, struct bh_addr_key);
	__type(value, __u32);
} bh_gw_ip SEC(".maps");

/* LPM: the gateway's LAN prefixes -> 1. user */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BH_MAX_GW);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bh_lan_key);
	__type(value, __u32);
} bh_lan SEC(".maps");

/* quarantined MAC -> since/until. user (isolate/release) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BH_MAX_QUARANTINE);
	__type(key, struct bh_mac_key);
	__type(value, struct bh_quar_val);
} bh_quarantine SEC(".maps");

/* flow (initiator's direction) -> last seen, MACs. bpf; user deletes */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_MAX_CT);
	__type(key, struct bh_ct_key);
	__type(value, struct bh_ct_val);
} bh_ct SEC(".maps");

/* datagram whose first fragment passed -> last seen. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_MAX_FRAG);
	__type(key, struct bh_frag_key);
	__type(value, struct bh_frag_val);
} bh_frag SEC(".maps");

/* enum bh_reason -> packets/bytes, per CPU. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BH_R_MAX);
	__type(key, __u32);
	__type(value, struct bh_counter);
} bh_stats SEC(".maps");

/* gen * BH_MAX_RULES + rule id -> packets/bytes, per CPU. bpf; user zeroes */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * BH_MAX_RULES);
	__type(key, __u32);
	__type(value, struct bh_counter);
} bh_rulestats SEC(".maps");

/* source MAC -> packets/bytes/drops, per CPU. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, BH_MAX_DEVSTATS);
	__type(key, struct bh_mac_key);
	__type(value, struct bh_dev_stats);
} bh_devstats SEC(".maps");

/* counter slot -> the policy's device's packets/bytes/drops, per CPU. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BH_MAX_DEVCTR);
	__type(key, __u32);
	__type(value, struct bh_dev_stats);
} bh_devctr SEC(".maps");

/* key 0 -> verdict cache epoch, bumped after verdict-changing writes. user */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bh_vepoch SEC(".maps");

/* hash of a flow -> cached verdict, per CPU. bpf (userspace invalidates via bh_vepoch) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BH_VCACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct bh_vc_slot);
} bh_vcache SEC(".maps");

/* deny events to the daemon (struct bh_event). bpf */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BH_EVENTS_RING);
} bh_events SEC(".maps");

/* source MAC -> deny event token bucket. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_MAX_EVLIMIT);
	__type(key, struct bh_mac_key);
	__type(value, struct bh_evlimit);
} bh_evlimit SEC(".maps");

/* counter slot -> the policy's device's deny event token bucket. bpf, user */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BH_MAX_DEVCTR);
	__type(key, __u32);
	__type(value, struct bh_evlimit);
} bh_evslot SEC(".maps");

/* key 0 -> this CPU's deny event token bucket (all MACs). bpf */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bh_evlimit);
} bh_evcpu SEC(".maps");

/* key 0 -> this CPU's coarse clock reading and its jiffies. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bh_clock);
} bh_clock SEC(".maps");

/* bridge port ifindex -> the source MACs seen on it. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BH_MAX_PORTS);
	__type(key, __u32);
	__type(value, struct bh_port_val);
} bh_port SEC(".maps");

/* MAC -> the port it was last seen on. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_MAX_MACPORT);
	__type(key, struct bh_mac_key);
	__type(value, __u32);
} bh_macport SEC(".maps");

/* learned address -> the MAC that claimed it. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_MAX_CLAIMS);
	__type(key, struct bh_addr_key);
	__type(value, struct bh_claim_val);
} bh_claim SEC(".maps");

#include "verdict.h"

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
