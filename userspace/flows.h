/* SPDX-License-Identifier: GPL-2.0 */
/*
 * flows.h - the views of `bulkhead flows` (issue 17): who talks to whom, as
 * a table, a device x device matrix or JSON, with names from the policy and
 * the DHCP leases. Pure: prints aggregated records (flowlog.h), no kernel.
 *
 * Wiring, for the command: bh_flowlog_read(state, since, mac, &set, &diag)
 * (--since with bh_duration_parse(), --device through
 * bh_flows_find_device()), then bh_flows_print() with the running policy
 * and bh_leases_saved(); diag lines go to stderr, the exit status stays 0.
 */
#ifndef BH_FLOWS_H
#define BH_FLOWS_H

#include <stdio.h>
#include <linux/types.h>

#include "flowlog.h"
#include "leases.h"
#include "policy.h"

struct bh_flow_names {
	const struct bh_policy *policy;	/* member and group names; NULL: none */
	const struct bh_leases *leases;	/* a live set: host names; NULL: none */
	__u64 now;			/* CLOCK_REALTIME seconds, for "5m ago" */
};

enum bh_flows_view {
	BH_FLOWS_TABLE,		/* one line per record, sorted by names */
	BH_FLOWS_MATRIX,	/* sources x destinations (devices, then classes) */
	BH_FLOWS_JSON,		/* {"flows": [...], "bad_lines": N} */
};

/*
 * Print @s (not changed) on @f as @view. Denied records are marked
 * "DENIED" (table) / 'x' (matrix), would-drop ones "would-drop" / '!'.
 * 0 or -ENOMEM.
 */
int bh_flows_print(FILE *f, const struct bh_flow_set *s, const struct bh_flow_names *nm,
		   enum bh_flows_view view);

/* A device's name: the member's name:, else its DHCP host name, else the
 * MAC (in @buf); NULL-safe @nm. */
const char *bh_flows_dev_name(const struct bh_flow_names *nm, const __u8 mac[6], char buf[18]);
/* The policy's group of @mac (the unknown group for a MAC it does not
 * list); NULL without a policy. */
const char *bh_flows_dev_group(const struct bh_flow_names *nm, const __u8 mac[6]);

/*
 * --device: a MAC, a member's name or a DHCP host name (in that order) into
 * @mac. 0, -ENOENT (no such device), -EEXIST (two devices of that name).
 */
int bh_flows_find_device(const struct bh_flow_names *nm, const char *s, __u8 mac[6]);

#endif /* BH_FLOWS_H */
