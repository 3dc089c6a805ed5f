/* SPDX-License-Identifier: GPL-2.0 */
/*
 * claim.h - anti-spoofing: an address a device uses as its own must be its
 * bound one, or claimed by it (bh_claim) when nothing binds it.
 */
#ifndef BH_LIB_CLAIM_H
#define BH_LIB_CLAIM_H

#include "common.h"
#include "addr.h"
#include "pkt.h"
#include "gw.h"
#include "devices.h"

/* learned address -> the MAC that claimed it. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_MAX_CLAIMS);
	__type(key, struct bh_addr_key);
	__type(value, struct bh_claim_val);
} bh_claim SEC(".maps");

/*
 * A learned claim (bh_claim) on an address no ip: or lease binds: false
 * when another MAC used @addr as its own within BH_CLAIM_TIMEOUT; else the
 * address is (now) this frame's source MAC's, refreshed at most once a
 * second. Only the gateway's LAN prefixes and IPv6 link-local addresses
 * are claimed: an address elsewhere is nobody's neighbour.
 */
/*
 * Inlined into addr_spoofed(), its one caller: kernels before 6.x add up
 * every frame of a call chain against 512 bytes (selftests/prog/bpf_stack.py),
 * and the key and value must be on the stack there (6.1 takes no key in
 * the memory bh_decide()'s argument points to).
 */
static __always_inline bool claim_use(struct bh_pkt *p, const __u8 *addr, bool v4)
{
	struct bh_claim_val *cv, nv = {};
	struct bh_addr_key k;

	if (v4 ? addr_v4_zero(addr) : addr_unspec(addr))
		return true;
	if (!(!v4 && addr_linklocal6(addr)) && !is_lan_ip(addr))
		return true;
	__builtin_memcpy(k.addr, addr, 16);
	cv = bpf_map_lookup_elem(&bh_claim, &k);
	if (cv) {
		if (mac_eq(cv->mac, p->smac)) {
			if ((__s64)(p->now - cv->last_seen) >= (__s64)BH_CLAIM_REFRESH)
				cv->last_seen = p->now;
			return true;
		}
		if ((__s64)(p->now - cv->last_seen) < (__s64)BH_CLAIM_TIMEOUT)
			return false;
	}
	__builtin_memcpy(nv.mac, p->smac, 6);
	nv.last_seen = p->now;
	bpf_map_update_elem(&bh_claim, &k, &nv, BPF_ANY);
	return true;
}

/*
 * A verdict cache hit keeps its source address's claim fresh: false when
 * another MAC holds it now (ours lapsed meanwhile), and the frame must be
 * judged in full. Makes no claim: only the full verdict does.
 */
static __noinline bool claim_keep(struct bh_pkt *p)
{
	struct bh_claim_val *cv;

	if (!p)
		return true;
	cv = bpf_map_lookup_elem(&bh_claim, p->saddr);
	if (!cv)
		return true;
	if (mac_eq(cv->mac, p->smac)) {
		cv->last_seen = p->now;
		return true;
	}
	return (__s64)(p->now - cv->last_seen) >= (__s64)BH_CLAIM_TIMEOUT;
}

/*
 * Anti-spoofing for an address a device uses as its own (IP source, ARP
 * sender, NA target): not the gateway's, not bound to another MAC, one
 * of its bound addresses when it has any of that family, and not claimed
 * by another MAC (claim_use) when nothing binds it.
 */
static __noinline bool addr_spoofed(struct bh_pkt *p, const __u8 *addr, bool v4)
{
	struct bh_ip_val *own;

	if (v4 ? addr_v4_zero(addr) : addr_unspec(addr))
		return false;
	if (is_gw_ip(addr))
		return true;
	own = ip_owner(p->gen, addr);
	if (own)
		return !mac_eq(own->mac, p->smac);
	if (v4 && (p->sflags & BH_DEV_HAS_V4))
		return true;
	if (!v4 && (p->sflags & BH_DEV_HAS_V6) && !addr_linklocal6(addr))
		return true;
	return !claim_use(p, addr, v4);
}

#endif /* BH_LIB_CLAIM_H */
