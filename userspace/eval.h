/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eval.h - the reference evaluator: a plain C judge of one frame against a
 * loaded policy (struct bh_policy, not the compiled maps), written from the
 * policy semantics independently of the BPF code. `bulkhead explain` uses it
 * to say which rule decides; the differential tests compare it with the BPF
 * programs on random frames.
 */
#ifndef BH_EVAL_H
#define BH_EVAL_H

#include <stddef.h>
#include "nl.h"
#include "policy.h"

/* The gateway, as netlink shows it, and the quarantine in force. */
struct bh_env {
	const __u8 (*gw_macs)[6];
	size_t n_gw_macs;
	const struct bh_gw_addr *gw_addrs;
	size_t n_gw_addrs;
	const __u8 (*quarantined)[6];
	size_t n_quarantined;
	/* quarantined at level lan (BH_QLVL_LAN): no LAN, the internet kept */
	const __u8 (*quarantined_lan)[6];
	size_t n_quarantined_lan;
	/*
	 * The blocklist (detect.blocklist, bh_block in the dataplane): @a (16
	 * bytes, IPv4 v4-mapped) is listed; NULL: no blocklist. Internet
	 * destinations only, as bh_block_hit(). A callback so that the
	 * evaluator needs no blocklist code (explain passes blocklist.c's).
	 */
	bool (*blocked)(const void *arg, const __u8 a[16]);
	const void *blocked_arg;
};

/* Flows and fragments that passed: the evaluator's connection tracking. */
struct bh_eval_state;

struct bh_eval_state *bh_eval_state_new(void);
void bh_eval_state_free(struct bh_eval_state *s);

struct bh_eval_result {
	int pass;		/* 1 pass, 0 drop */
	int reason;		/* enum bh_reason */
	int rule;		/* rule id as compiled (user rules, then built-ins), -1: none */
	const char *why;	/* one line for humans */
};

/*
 * Judge a frame a device sent. @tag_oob: a tag the driver stripped (its
 * VID in @oob_vid). @st may be NULL (no tracked flows, nothing recorded).
 */
void bh_eval_frame(const struct bh_policy *p, const struct bh_env *env,
		   struct bh_eval_state *st, const void *frame, size_t len,
		   struct bh_eval_result *r);

/* frame field helpers, also for nflog.c: a big-endian 16-bit value; an
 * IPv4 address as v4-mapped IPv6 */
/*
 * @a (16 bytes, IPv4 v4-mapped) is in the prefix of one of the gateway's
 * @n addresses @gw (link-local IPv6 ones left out): on the bridge's LAN.
 */
bool bh_lan_addr(const struct bh_gw_addr *gw, size_t n, const __u8 a[16]);

__u16 bh_be16(const __u8 *p);
void bh_v4mapped(__u8 out[16], const __u8 *a);

#endif /* BH_EVAL_H */
