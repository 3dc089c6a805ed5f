/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pin.h - per-port MAC pinning: a device the policy pins to a bridge port
 * (member `port:`) is accepted only when its frames come in by that port,
 * so a device elsewhere on the bridge that takes its MAC is not it.
 */
#ifndef BH_LIB_PIN_H
#define BH_LIB_PIN_H

#include "common.h"
#include "pkt.h"

/* MAC -> the ifindex of the port it is pinned to (0: none exists). user */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BH_MAX_PINS);
	__type(key, struct bh_mac_key);
	__type(value, __u32);
} bh_pin SEC(".maps");

/* [0]: how many MACs bh_pin holds. user */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bh_pinned SEC(".maps");

/*
 * true when the frame's source MAC is pinned to another port than the one
 * it came in by. Before the verdict cache: a cached verdict is keyed by
 * the frame, not by its port. An array lookup when nothing is pinned.
 */
static __always_inline bool pin_wrong_port(const struct bh_pkt *p)
{
	struct bh_mac_key mk = {};
	__u32 zero = 0, *n, *at;

	n = bpf_map_lookup_elem(&bh_pinned, &zero);
	if (!n || !*n)
		return false;
	__builtin_memcpy(mk.mac, p->smac, 6);
	at = bpf_map_lookup_elem(&bh_pin, &mk);
	return at && *at != p->ifindex;
}

#endif /* BH_LIB_PIN_H */
