/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gw.h - the gateway itself: its MACs, its addresses, its LAN prefixes.
 */
#ifndef BH_LIB_GW_H
#define BH_LIB_GW_H

#include "common.h"

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

static __always_inline bool is_gw_mac(const __u8 *mac)
{
	struct bh_mac_key k = {};

	__builtin_memcpy(k.mac, mac, 6);
	return bpf_map_lookup_elem(&bh_gw_mac, &k) != NULL;
}

static __always_inline bool is_gw_ip(const __u8 *addr)
{
	struct bh_addr_key k;

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&bh_gw_ip, &k) != NULL;
}

static __always_inline bool is_lan_ip(const __u8 *addr)
{
	struct bh_lan_key k = { .prefixlen = 128 };

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&bh_lan, &k) != NULL;
}

#endif /* BH_LIB_GW_H */
