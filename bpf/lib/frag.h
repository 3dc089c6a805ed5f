/* SPDX-License-Identifier: GPL-2.0 */
/*
 * frag.h - IP fragments: a datagram's later fragments pass when its first
 * one did (bh_frag); they carry no ports to judge.
 */
#ifndef BH_LIB_FRAG_H
#define BH_LIB_FRAG_H

#include "common.h"
#include "pkt.h"

/* datagram whose first fragment passed -> last seen. bpf */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BH_MAX_FRAG);
	__type(key, struct bh_frag_key);
	__type(value, struct bh_frag_val);
} bh_frag SEC(".maps");

static __always_inline void frag_key(struct bh_pkt *p, struct bh_frag_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->saddr, p->saddr, 16);
	__builtin_memcpy(k->daddr, p->daddr, 16);
	k->id = p->frag_id;
	/* alike in every fragment: IPv4's protocol, the IPv6 fragment
	 * header's next header (the first header of the fragmentable part) */
	k->proto = p->is_v4 ? p->l4proto : p->frag_proto;
}

/*
 * A first fragment passed: its datagram's later fragments may follow.
 * Out of line, as frag_later() is: their keys stay off decide_ip()'s
 * frame, which every deep call chain holds (selftests/prog/bpf_stack.py).
 */
static __noinline void frag_record(struct bh_pkt *p)
{
	struct bh_frag_key fk;
	struct bh_frag_val fv;

	if (!p)
		return;
	fv.last_seen = p->now;
	frag_key(p, &fk);
	bpf_map_update_elem(&bh_frag, &fk, &fv, BPF_ANY);
}

/* A non-first fragment: 1 when it passes, its verdict set either way. */
static __noinline int frag_later(struct bh_pkt *p)
{
	struct bh_frag_key fk;
	struct bh_frag_val *fv;

	if (!p)
		return 0;
	/* a later fragment overlapping a TCP header: tiny-fragment attack */
	if (p->is_v4 && p->l4proto == IPPROTO_TCP && p->frag_off8 < 3)
		return DROP(p, BH_R_DROP_FRAG);
	if (p->qsrc == BH_QS_FULL)	/* BH_QS_LAN: its allowed first fragments are recorded */
		return DROP(p, BH_R_DROP_QUARANTINE);
	frag_key(p, &fk);
	fv = bpf_map_lookup_elem(&bh_frag, &fk);
	if (fv && (__s64)(p->now - fv->last_seen) < (__s64)BH_FRAG_TIMEOUT)
		return PASS(p, BH_R_PASS_FRAG);
	return DROP(p, BH_R_DROP_FRAG);
}

#endif /* BH_LIB_FRAG_H */
