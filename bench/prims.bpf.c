// SPDX-License-Identifier: GPL-2.0
/*
 * prims.bpf.c - the building blocks of a verdict, one per XDP program,
 * for bench_prims: each does one thing Bulkhead's programs do many times
 * (a map lookup of the kinds bulkhead.bpf.c uses, a clock read, a call to
 * a subprogram) and returns XDP_PASS. Every lookup finds its entry.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bulkhead_abi.h"

/* (gen, MAC) -> device, as bh_devices. bench_prims writes key 0 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * BH_MAX_DEVICES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bh_dev_key);
	__type(value, struct bh_dev_val);
} pr_hash8 SEC(".maps");

/* flow -> last seen, as bh_ct. bench_prims writes key 0 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_MAX_CT);
	__type(key, struct bh_ct_key);
	__type(value, struct bh_ct_val);
} pr_lru40 SEC(".maps");

/* (gen, group, address) -> class, as bh_inet. bench_prims writes a /24 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2 * BH_MAX_INET);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct bh_inet_key);
	__type(value, struct bh_inet_val);
} pr_lpm SEC(".maps");

/* MAC -> counters, per CPU, as bh_devstats. bench_prims writes key 0 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, BH_MAX_DEVSTATS);
	__type(key, struct bh_mac_key);
	__type(value, struct bh_dev_stats);
} pr_pcpu SEC(".maps");

/* counters per CPU, as bh_stats (the verifier inlines this lookup) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BH_R_MAX);
	__type(key, __u32);
	__type(value, struct bh_counter);
} pr_array SEC(".maps");

SEC("xdp")
int prim_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int prim_ktime(struct xdp_md *ctx)
{
	return bpf_ktime_get_ns() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int prim_ktime_coarse(struct xdp_md *ctx)
{
	return bpf_ktime_get_coarse_ns() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int prim_jiffies(struct xdp_md *ctx)
{
	return bpf_jiffies64() ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int prim_array(struct xdp_md *ctx)
{
	__u32 k = 0;

	return bpf_map_lookup_elem(&pr_array, &k) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int prim_hash8(struct xdp_md *ctx)
{
	struct bh_dev_key k = {};

	return bpf_map_lookup_elem(&pr_hash8, &k) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int prim_lru40(struct xdp_md *ctx)
{
	struct bh_ct_key k = {};

	return bpf_map_lookup_elem(&pr_lru40, &k) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int prim_lpm(struct xdp_md *ctx)
{
	struct bh_inet_key k = { .prefixlen = BH_INET_KEY_HDR_BITS + 128 };

	return bpf_map_lookup_elem(&pr_lpm, &k) ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int prim_pcpu(struct xdp_md *ctx)
{
	struct bh_mac_key k = {};

	return bpf_map_lookup_elem(&pr_pcpu, &k) ? XDP_PASS : XDP_DROP;
}

static __noinline int sub(struct xdp_md *ctx)
{
	return ctx ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int prim_call(struct xdp_md *ctx)
{
	return sub(ctx);
}

char LICENSE[] SEC("license") = "GPL";
