// SPDX-License-Identifier: GPL-2.0
/*
 * empty.bpf.c - the floor for the verdict benchmarks: programs that do
 * nothing but return the action Bulkhead's would (pass or drop).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int empty_xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int empty_xdp_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("tc")
int empty_tc_pass(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

SEC("tc")
int empty_tc_drop(struct __sk_buff *skb)
{
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "GPL";
