/* SPDX-License-Identifier: GPL-2.0 */
/*
 * port.h - the devices behind each bridge port, learned on ingress, for
 * judging flooded frames per port on egress (flood.h).
 */
#ifndef BH_LIB_PORT_H
#define BH_LIB_PORT_H

#include "common.h"
#include "addr.h"
#include "pkt.h"

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

/* @mac was seen coming in by port @ifindex: into its list (bh_port). */
static __always_inline void port_add(__u32 ifindex, const __u8 *mac)
{
	struct bh_port_val *pv, nv = {};
	__u32 i, k = ifindex;

	pv = bpf_map_lookup_elem(&bh_port, &k);
	if (!pv) {
		__builtin_memcpy(nv.mac[0], mac, 6);
		nv.n = 1;
		bpf_map_update_elem(&bh_port, &k, &nv, BPF_NOEXIST);
		return;
	}
	for (i = 0; i < BH_PORT_MACS; i++)
		if (i < pv->n && mac_eq(pv->mac[i], mac))
			return;
	if (pv->n < BH_PORT_MACS) {
		i = pv->n & (BH_PORT_MACS - 1);
		__builtin_memcpy(pv->mac[i], mac, 6);
		pv->n = i + 1;
	} else {
		/* more devices than held: the oldest goes, the port is shared */
		i = pv->next & (BH_PORT_MACS - 1);
		__builtin_memcpy(pv->mac[i], mac, 6);
		pv->next = i + 1;
		pv->overflow = 1;
	}
}

/* @mac left port @ifindex (seen on another): out of its list. */
static __always_inline void port_del(__u32 ifindex, const __u8 *mac)
{
	struct bh_port_val *pv;
	__u32 i, last, k = ifindex;

	pv = bpf_map_lookup_elem(&bh_port, &k);
	if (!pv || !pv->n)
		return;
	last = (pv->n - 1) & (BH_PORT_MACS - 1);
	for (i = 0; i < BH_PORT_MACS; i++) {
		if (i < pv->n && mac_eq(pv->mac[i], mac)) {
			__builtin_memcpy(pv->mac[i], pv->mac[last], 6);
			pv->n = last;
			return;
		}
	}
}

/*
 * Learn which port the frame's source MAC is behind (ingress, on a verdict
 * cache miss: one lookup when nothing moved).
 */
static __noinline int port_learn(struct bh_pkt *p)
{
	struct bh_mac_key mk = {};
	__u32 *at, ifx;

	if (!p || !p->ifindex)
		return 0;
	__builtin_memcpy(mk.mac, p->smac, 6);
	at = bpf_map_lookup_elem(&bh_macport, &mk);
	if (at && *at == p->ifindex)
		return 0;
	if (at)
		port_del(*at, p->smac);
	port_add(p->ifindex, p->smac);
	ifx = p->ifindex;
	bpf_map_update_elem(&bh_macport, &mk, &ifx, BPF_ANY);
	return 0;
}

#endif /* BH_LIB_PORT_H */
