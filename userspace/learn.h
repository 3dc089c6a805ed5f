/* SPDX-License-Identifier: GPL-2.0 */
/*
 * learn.h - `bulkhead learn` (issue 17): a draft policy from recorded flows.
 * Pure: aggregated records (flowlog.h) and policies in, YAML out; every
 * draft is loaded back with the project's own loader and checked with the
 * reference evaluator (eval.h) before it is written. The rules are in
 * docs/flows.md.
 *
 * Wiring, for the command: bh_flowlog_read() (--since), the running
 * policy (bh_policy_load of the applied copy) and bh_leases_saved(), then
 * bh_learn_draft() to a file or stdout; the stats line; and what the draft
 * changes: bh_policy_load the draft, bh_policy_diff(running, draft),
 * bh_diff_print().
 */
#ifndef BH_LEARN_H
#define BH_LEARN_H

#include <stdio.h>
#include <stddef.h>
#include <linux/types.h>

#include "eval.h"
#include "flowlog.h"
#include "leases.h"
#include "policy.h"

/* a rule for every flow observed, also those the running policy allows */
#define BH_LEARN_EXPLICIT	(1u << 0)

#define BH_LEARN_MAX_RANGES	8	/* port ranges in a learned rule, at most */
#define BH_LEARN_MAX_CIDRS	32	/* internet classes in a rule; more: "internet" */

struct bh_learn_opts {
	const char *iface;	/* interfaces: when there is no running policy ("br-lan") */
	unsigned int flags;	/* BH_LEARN_* */
};

struct bh_learn_stats {
	size_t records;		/* aggregated records read */
	size_t new_groups;	/* devices the policy does not list: a group each */
	size_t rules;		/* rules learned */
	size_t learned;		/* records a learned rule allows */
	size_t covered;		/* records the running policy allows already */
	size_t denied;		/* records dropped under enforce: not learned */
	size_t skipped;		/* ARP, protocols or ports a rule cannot name */
	size_t unresolved;	/* learned records the draft still drops: a kept deny rule wins */
	size_t audit;		/* records of would_drop */
	size_t audit_running_drops;	/* ... that the running policy drops */
	size_t audit_draft_allows;	/* ... that the draft allows */
};

/*
 * Write a draft policy to @out: @running (NULL: a minimal policy on
 * @o->iface) with its groups, members, rules and settings kept, a group
 * for each device it does not list (named from its DHCP host name in
 * @leases, a live set or NULL, else from its MAC) that is named wherever
 * the policy names the unknown group, and an allow rule for each
 * (from group, destination, protocol) of the records in @s that passed or
 * would have been dropped and that the running policy does not allow
 * (every one with BH_LEARN_EXPLICIT). Records dropped under enforce are
 * not learned. @st (may be NULL) is filled. 0; -EINVAL when the draft
 * fails the loader (@d says why: a bug); -ENOMEM.
 */
int bh_learn_draft(const struct bh_flow_set *s, const struct bh_policy *running,
		   const struct bh_leases *leases, const struct bh_learn_opts *o,
		   FILE *out, struct bh_learn_stats *st, struct bh_diag *d);

/*
 * Judge one record against @p with the reference evaluator: a frame like
 * the one that opened the flow (a TCP SYN, a UDP datagram, an ICMP
 * message of the recorded type), from the source's bound address when it
 * has one. 0 and @res, or -EOPNOTSUPP for ARP records.
 */
int bh_learn_judge(const struct bh_policy *p, const struct bh_flow_rec *r,
		   struct bh_eval_result *res);

#endif /* BH_LEARN_H */
