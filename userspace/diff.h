/* SPDX-License-Identifier: GPL-2.0 */
/*
 * diff.h - what changes from one policy to another (`bulkhead diff`):
 * groups, members (by MAC), rules (by content, not by position), defaults
 * (audit mode among them), interfaces, quarantine.allow, dhcp.leases,
 * flows: and detect:. Pure: no kernel, no files.
 */
#ifndef BH_DIFF_H
#define BH_DIFF_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>

#include "policy.h"

enum bh_diff_section {
	BH_DS_INTERFACES,
	BH_DS_DEFAULTS,
	BH_DS_GROUPS,
	BH_DS_MEMBERS,
	BH_DS_RULES,
	BH_DS_QUARANTINE,
	BH_DS_DHCP,
	BH_DS_FLOWS,
	BH_DS_DETECT,
	BH_DS_MAX,
};

enum bh_diff_op {
	BH_DO_ADD,
	BH_DO_REMOVE,
	BH_DO_MOVE,		/* a member that changed group */
	BH_DO_CHANGE,
};

/*
 * One change. @subject: the interface, the key ("defaults.east_west",
 * "groups.cameras.internet", "quarantine.allow"), the group name, the MAC,
 * or the rule as text. @name: a member's or a rule's name, else NULL.
 * @old / @new: the group a member leaves / joins, or a value before / after;
 * NULL where there is none.
 */
struct bh_diff_item {
	enum bh_diff_section section;
	enum bh_diff_op op;
	char *subject;
	char *name;
	char *old;
	char *new;
};

struct bh_diff {
	struct bh_diff_item *items;
	size_t n;
};

/* Compare @from (running) with @to (candidate). 0 or -ENOMEM. */
int bh_policy_diff(const struct bh_policy *from, const struct bh_policy *to,
		   struct bh_diff *out);
void bh_diff_free(struct bh_diff *d);

/* A rule as canonical text: "allow nvr -> cameras tcp 554,8000-8010". */
char *bh_rule_text(const struct bh_policy *p, const struct bh_rule_def *r);

const char *bh_diff_section_name(enum bh_diff_section s);
const char *bh_diff_op_name(enum bh_diff_op op);

struct bh_jw;
/* "changes":N,"items":[{"section","op","subject","name","old","new"}], into
 * the object @w has open */
void bh_diff_json_fields(struct bh_jw *w, const struct bh_diff *d);
/* Print @d for people (one line per change, by section) or as JSON. */
void bh_diff_print(FILE *f, const struct bh_diff *d, bool json);

#endif /* BH_DIFF_H */
