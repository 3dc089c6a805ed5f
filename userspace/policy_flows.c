// SPDX-License-Identifier: GPL-2.0
/*
 * policy_flows.c - the policy's flows: key, the bounds of the flow records
 * (docs/flows.md): max (bh_flow's entries, set at up), keep (whole days of
 * history) and bytes (the history's size cap).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "policy_yaml.h"

const char *const policy_flows_keys[] = { "max", "keep", "bytes", NULL };

#define BH_FLOWS_KEEP_MAX	3660	/* days: ten years */
#define BH_FLOWS_BYTES_MIN	(64ULL << 10)
#define BH_FLOWS_BYTES_MAX	(1ULL << 40)

/* A whole number followed by @units[i] (times @mult[i]); 0 or -EINVAL. */
static int parse_scaled(const char *s, const char *units, const __u64 *mult, __u64 *out)
{
	const char *u;
	char *end;
	__u64 v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (!*end) {
		*out = v;
		return mult[0] ? 0 : -EINVAL;	/* no unit: allowed when the first is 1 */
	}
	if (end[1] || !(u = strchr(units, *end)))
		return -EINVAL;
	if (v > ~0ULL / mult[u - units + 1])
		return -ERANGE;
	*out = v * mult[u - units + 1];
	return 0;
}

void policy_flows_key(struct ld *l, const char *key, struct ynode *k,
		      struct ynode *v, void *arg)
{
	static const __u64 size_mult[] = { 1, 1ULL << 10, 1ULL << 20, 1ULL << 30 };
	static const __u64 day_mult[] = { 0, 1 };
	struct bh_flows_def *f = &l->p->flows;
	const char *s = ydoc_scalar(v);
	char what[32];
	__u64 n;

	(void)k;
	(void)arg;
	snprintf(what, sizeof(what), "flows.%s", key);
	if (!ydoc_want(l, v, YAML_SCALAR_NODE, what))
		return;
	if (!strcmp(key, "max")) {
		if (parse_scaled(s, "", size_mult, &n) || n < BH_FLOWS_MIN || n > BH_FLOWS_MAX) {
			ERR(l, v, "flows.max must be a number of flows from %u to %u, not '%s'",
			    BH_FLOWS_MIN, BH_FLOWS_MAX, s);
			return;
		}
		f->max = (__u32)n;
		f->max_pos = ydoc_pos(v);
	} else if (!strcmp(key, "keep")) {
		if (parse_scaled(s, "d", day_mult, &n) || !n || n > BH_FLOWS_KEEP_MAX) {
			ERR(l, v, "flows.keep must be whole days from 1d to %ud, like 7d, not '%s'",
			    BH_FLOWS_KEEP_MAX, s);
			return;
		}
		f->keep_days = (__u32)n;
	} else {
		if (parse_scaled(s, "KMG", size_mult, &n) || n < BH_FLOWS_BYTES_MIN ||
		    n > BH_FLOWS_BYTES_MAX) {
			ERR(l, v, "flows.bytes must be a size from 64K to 1024G (a number with K, M or G), not '%s'",
			    s);
			return;
		}
		f->bytes = n;
	}
}
