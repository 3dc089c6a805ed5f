/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devices.h - who a MAC or an address is: the policy's devices and their
 * bound addresses (per generation), and the quarantine.
 */
#ifndef BH_LIB_DEVICES_H
#define BH_LIB_DEVICES_H

#include "common.h"
#include "pkt.h"

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

/* quarantined MAC -> since/until/level. user (isolate/release) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BH_MAX_QUARANTINE);
	__type(key, struct bh_mac_key);
	__type(value, struct bh_quar_val);
} bh_quarantine SEC(".maps");

/* bh_pkt.qsrc of @mac: 0 (not quarantined), BH_QS_FULL or BH_QS_LAN */
static __always_inline __u8 quarantine_level(const __u8 *mac)
{
	struct bh_mac_key k = {};
	struct bh_quar_val *q;

	__builtin_memcpy(k.mac, mac, 6);
	q = bpf_map_lookup_elem(&bh_quarantine, &k);
	if (!q)
		return 0;
	return q->level == BH_QLVL_LAN ? BH_QS_LAN : BH_QS_FULL;
}

/* quarantined at any level: no device may reach it */
static __always_inline bool quarantined(const __u8 *mac)
{
	struct bh_mac_key k = {};

	__builtin_memcpy(k.mac, mac, 6);
	return bpf_map_lookup_elem(&bh_quarantine, &k) != NULL;
}

static __always_inline struct bh_dev_val *device(__u32 gen, const __u8 *mac)
{
	struct bh_dev_key k = { .gen = (__u8)gen };

	__builtin_memcpy(k.mac, mac, 6);
	return bpf_map_lookup_elem(&bh_devices, &k);
}

static __always_inline struct bh_ip_val *ip_owner(__u32 gen, const __u8 *addr)
{
	struct bh_ip_key k = { .gen = (__u8)gen };

	__builtin_memcpy(k.addr, addr, 16);
	return bpf_map_lookup_elem(&bh_ips, &k);
}

#endif /* BH_LIB_DEVICES_H */
