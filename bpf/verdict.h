/* SPDX-License-Identifier: GPL-2.0 */
/*
 * verdict.h - the one verdict core. The XDP and tc entry points in
 * bulkhead.bpf.c are thin wrappers around it. Two stages, one header a
 * concern under lib/ (each map defined beside its lookups):
 *
 *   bh_parse()   reads the frame (bounds-checked cursor) into struct bh_pkt:
 *                tags, Ethernet, ARP, IPv4/IPv6 with options, extension
 *                headers and fragments, L4 ports, ND targets, the tuple an
 *                ICMP error quotes. Frames it cannot judge are dropped here.
 *                lib/parse.h
 *   bh_decide()  judges a bh_pkt with map lookups only: generation, source
 *                device, quarantine, anti-spoofing, destination class,
 *                policy, connection tracking. A global function: the
 *                verifier checks it once, not once per parse path.
 *                lib/decide.h and what it includes
 *
 * bh_judge() puts them together with the flow verdict cache (lib/vcache.h),
 * the counters (lib/account.h), deny events (lib/events.h), the flow
 * records (lib/flow.h) and detection (lib/detect.h: the attempt
 * bh_decide() recorded in p->det, and drops).
 */
#ifndef BH_VERDICT_H
#define BH_VERDICT_H

#include "lib/common.h"
#include "lib/pkt.h"
#include "lib/clock.h"
#include "lib/parse.h"
#include "lib/config.h"
#include "lib/decide.h"
#include "lib/vcache.h"
#include "lib/account.h"
#include "lib/events.h"
#include "lib/flow.h"
#include "lib/detect.h"
#include "lib/pin.h"

/*
 * Judge a parsed frame that vc_probe() did not: sets p->pass, p->reason,
 * p->rule_id and returns p->pass, and fills the frame's cache slot. Global,
 * so the verifier checks it once.
 */
__noinline int bh_decide(struct bh_pkt *p)
{
	struct bh_vc_slot *slot;
	struct bh_config *cfg;
	__u32 key;

	if (!p)
		return 0;
	if (!p->vc_gen_ok)
		return DROP(p, BH_R_DROP_NOPOLICY);
	key = p->gen & 1;
	cfg = bpf_map_lookup_elem(&bh_config, &key);
	if (!cfg || !(cfg->flags & BH_CFG_VALID))
		return DROP(p, BH_R_DROP_NOPOLICY);

	if (p->smac[0] & 1)
		return DROP(p, BH_R_DROP_MALFORMED);	/* group address as source */

	decide_frame(p, cfg);
	/* a claim conflict is not cached: it ends when the claim lapses */
	if (p->vc_ok && p->reason != BH_R_DROP_SPOOF) {
		key = p->vc_idx;
		slot = bpf_map_lookup_elem(&bh_vcache, &key);
		if (slot)
			vc_store(p, slot, &p->vk, p->vc_epoch, p->vc_vepoch);
	}
	return p->pass;
}

/*
 * A first fragment too short to judge (nmap -f sends 8 bytes of TCP) is
 * dropped by the parse, before any decider could mark it: with its ports
 * it is a denied attempt, to a LAN host, or to the internet when it goes
 * to the gateway's MAC (there only the worm ports count).
 */
static __always_inline __u32 det_frag(const struct bh_pkt *p)
{
	__u32 flags = BH_DETN_NEW | BH_DETN_DENIED;

	if (p->dmac[0] & 1)
		return 0;
	if (is_gw_mac(p->dmac))
		flags |= BH_DETN_INTERNET;
	if (p->is_v4)
		flags |= BH_DETN_V4;
	return BH_DETN_WHAT(p->l4proto, p->dport, flags);
}

/*
 * Detection's one call per judged frame: the attempt the deciders recorded
 * (p->det: denied, refused for its opener, a worm port, the blocklist) and
 * every drop but a quarantine's (deny_rate); bh_judge() marks the ports
 * of a first fragment the parse dropped (det_frag). Called from bh_judge(), the
 * entry's frame, so that its chain adds to the shallowest stack
 * (bpf_stack.py; docs/detect.md). Global, so the verifier checks it, and
 * bh_detect_note() in it, once and not once per parse path. Nothing for a
 * fully quarantined source.
 */
__noinline int bh_judge_note(struct bh_pkt *p)
{
	const __u8 *mac, *addr;
	__u32 what;

	if (!p || p->qsrc == BH_QS_FULL || (p->smac[0] & 1))
		return 0;
	what = p->det;
	if (!p->pass && p->reason != BH_R_DROP_QUARANTINE)
		what |= BH_DETN_DROP;
	if (!what)
		return 0;
	mac = p->det_opener ? p->dmac : p->smac;
	addr = p->det_opener ? p->saddr : p->daddr;
	return bh_detect_note(mac, addr, what, p->now);
}

/*
 * The whole verdict for one frame: parse, decide, count. @len is the whole
 * frame's length (an skb's may exceed the linear data the parser reads: a
 * GSO/GRO super-packet). Returns 1 to pass, 0 to drop.
 */
static __always_inline int bh_judge(struct bh_pkt *p, void *data, void *data_end,
				    __u32 len, bool oob_tag, __u16 oob_tci, __u32 ifindex)
{
	bool foreign = false;
	int reason;

	__builtin_memset(p, 0, sizeof(*p));
	p->len = len;
	p->ifindex = ifindex;
	p->now = bh_now();
	reason = bh_parse(p, data, data_end, oob_tag, oob_tci);
	if (reason) {
		DROP(p, (__u16)reason);
		if (p->frag_ports)
			p->det = det_frag(p);
	} else if (pin_wrong_port(p)) {
		/* a pinned device's MAC on another port: not that device, and
		 * nothing it sends is the device's flow or detection's evidence
		 * against it (it would quarantine the real one) */
		foreign = true;
		verdict(p, 0, BH_R_DROP_SPOOF, BH_RULE_PIN);
	} else if (!vc_probe(p)) {
		bh_decide(p);
	}
	bh_account(p);
	if (!reason && !foreign && !bh_bench_no_flows)
		bh_flow_record(p);
	if (!p->pass || p->reason == BH_R_PASS_AUDIT)
		bh_event(p);
	if (!foreign)
		bh_judge_note(p);
	return p->pass;
}

#endif /* BH_VERDICT_H */
