/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compile.h - a loaded policy turned into BPF map entries (bpf/bulkhead_abi.h).
 * Pure: no kernel access, so it is unit-tested as is. Every key's gen field
 * is 0; the map writer sets the generation it writes.
 */
#ifndef BH_COMPILE_H
#define BH_COMPILE_H

#include "policy.h"
#include "../bpf/bulkhead_abi.h"

struct bh_dev_ent  { struct bh_dev_key k;  struct bh_dev_val v; };
struct bh_ip_ent   { struct bh_ip_key k;   struct bh_ip_val v; };
struct bh_pol_ent  { struct bh_pol_key k;  struct bh_pol_val v; };
struct bh_inet_ent { struct bh_inet_key k; struct bh_inet_val v; };
struct bh_talk_ent { struct bh_talk_key k; __u8 v; };

/* What each rule id means, for counters, status and explain. */
struct bh_rule_info {
	int user_index;		/* index in policy rules, or -1 for built-in */
	const char *label;	/* "rule 3 (policy.yaml:41)" or "built-in: dns" */
	char buf[96];
	/*
	 * A key that stays when an edit moves the rule (metrics labels): its
	 * name ("#2" after a name used before), else "r-" and a hash of what
	 * it says (from, to, proto, ports, action by group name), "built-in:
	 * dns" for the built-ins.
	 */
	char key[56];
};

struct bh_compiled {
	struct bh_config cfg;		/* flags, unknown_group, qallow */
	struct bh_group *groups;	/* [n_groups], index = group id */
	size_t n_groups;
	struct bh_dev_ent *devs;
	size_t n_devs;
	struct bh_ip_ent *ips;
	size_t n_ips;
	struct bh_pol_ent *pols;
	size_t n_pols;
	struct bh_inet_ent *inets;
	size_t n_inets;
	struct bh_talk_ent *talks;
	size_t n_talks;
	struct bh_rule_info *rules;	/* [n_rules], index = rule id */
	size_t n_rules;
};

/*
 * Compile @p. 0 on success; -E2BIG with a diag line when the result would
 * not fit the maps (nothing is written then); -ENOMEM.
 */
int bh_compile(const struct bh_policy *p, struct bh_compiled *out,
	       struct bh_diag *d);
void bh_compiled_free(struct bh_compiled *c);

#endif /* BH_COMPILE_H */
