/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkt.h - struct bh_pkt, what parsing learned about one frame and the
 * deciders' working state and result, and verdict(): how a decider sets
 * that result.
 */
#ifndef BH_LIB_PKT_H
#define BH_LIB_PKT_H

#include "common.h"

/* What parsing learned about one frame; all decide() reads. */
struct bh_pkt {
	/*
	 * The flow verdict cache's key, written in place by the parser: the
	 * fields a TCP/UDP verdict depends on are laid out as struct
	 * bh_vc_key, so a lookup copies nothing (vc_key() sets the flags).
	 */
	union {
		struct bh_vc_key vk;
		struct {
			__u8 smac[6];
			__u8 dmac[6];
			__u8 saddr[16];		/* IP source, or ARP sender */
			__u8 daddr[16];		/* IP destination, or ARP target */
			__u16 sport;		/* host order; the echo id for ICMP echo */
			__u16 dport;
			__u8 l4proto;
			__u8 vc_flags;		/* BH_VC_*, set by vc_key() */
			__u16 vc_keypad;
		};
	} __attribute__((aligned(8)));
	__u32 len;		/* frame length, for the byte counters */
	__u32 gen;		/* the active generation, read by vc_probe() */
	__u32 ifindex;		/* the port the frame came in by (ingress) or leaves by (egress) */
	__u32 det;		/* the attempt to note for detection: BH_DETN_WHAT(), 0: none */
	__u16 eth_proto;	/* after tags, host order */
	__u8 is_v4;
	__u8 frag_ports;	/* a first fragment too short to judge: its ports are set */
	__u8 target[16];	/* ND target address */
	__u8 tcp_flags;
	__u8 icmp_type;
	__u8 has_l4;		/* L4 header present (not a later fragment) */
	__u8 has_target;	/* ND NS/NA with its target */
	__u8 frag_first;	/* first fragment of a fragmented datagram */
	__u8 frag_later;	/* non-first fragment */
	__u16 frag_off8;	/* fragment offset in 8-byte units */
	__u32 frag_id;
	/* the packet an ICMP error quotes, as its sender sent it */
	__u8 q_ok;
	__u8 q_proto;
	__u16 q_sport;
	__u16 q_dport;
	__u8 frag_proto;	/* IPv6: the fragment header's next header */
	__u8 pad;
	__u8 q_saddr[16];
	__u8 q_daddr[16];
	/* decide()'s working state and result */
	__u16 sgroup;
	__u16 sflags;
	__u16 dgroup;
	__u8 qsrc;		/* source quarantined: BH_QS_FULL, BH_QS_LAN, 0 */
	__u8 dst_gw_mac;	/* destination MAC is the gateway's */
	__u8 mcast;		/* destination MAC is group/broadcast */
	__u8 pass;
	__u16 reason;		/* enum bh_reason */
	__u32 rule_id;
	__u64 now;		/* bh_now(): the coarse clock, once per frame */
	__u32 ctr_slot;		/* the source device's bh_devctr slot, 0: count in bh_devstats */
	/* the flow verdict cache: what a miss stores */
	__u8 vc_ok;		/* the frame may use the cache */
	__u8 vc_kind;		/* BH_VCK_*; 0: BH_VCK_FIXED */
	__u16 vc_reason;	/* DENY: the policy's drop reason */
	__u32 vc_rule;		/* DENY: the policy's rule */
	/* what vc_probe() read, for bh_decide() after a miss */
	__u32 vc_idx;		/* the frame's slot (vc_ok) */
	__u32 vc_epoch;		/* bh_active.epoch */
	__u32 vc_vepoch;	/* bh_vepoch */
	__u8 vc_gen_ok;		/* bh_active was read: gen and vc_epoch are set */
	__u8 det_opener;	/* det is a refusal: for the flow's opener (dmac), target saddr */
	__u8 vc_pad[2];
};

/* bh_pkt.qsrc: how far the source is quarantined (bh_quar_val.level) */
#define BH_QS_FULL	1	/* BH_QLVL_FULL: nothing but quarantine.allow */
#define BH_QS_LAN	2	/* BH_QLVL_LAN: no LAN, the internet kept */

#define PKT_AT(f, k)	(__builtin_offsetof(struct bh_pkt, f) == \
			 __builtin_offsetof(struct bh_vc_key, k))
_Static_assert(PKT_AT(smac, smac) && PKT_AT(dmac, dmac) && PKT_AT(saddr, saddr) &&
	       PKT_AT(daddr, daddr) && PKT_AT(sport, sport) && PKT_AT(dport, dport) &&
	       PKT_AT(l4proto, proto) && PKT_AT(vc_flags, flags),
	       "bh_pkt: the cache key's fields in place");

static __always_inline int verdict(struct bh_pkt *p, __u8 pass, __u16 reason, __u32 rule)
{
	p->pass = pass;
	p->reason = reason;
	p->rule_id = rule;
	return pass;
}
#define PASS(p, r)	verdict(p, 1, r, BH_RULE_DEFAULT)
#define DROP(p, r)	verdict(p, 0, r, BH_RULE_DEFAULT)

#endif /* BH_LIB_PKT_H */
