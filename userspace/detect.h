/* SPDX-License-Identifier: GPL-2.0 */
/*
 * detect.h - the daemon's side of detection (docs/detect.md): the policy's
 * `detect:` section (parsed, defaulted, validated with file:line:col), its
 * form for the dataplane (struct bh_det_cfg, map bh_detect_cfg), the
 * grace periods of `release --for`, and the decision a signal from the
 * dataplane (struct bh_det_signal, ring bh_signals) leads to: ignore,
 * watch, alert or isolate. Pure: no kernel access, unit-tested as is.
 */
#ifndef BH_DETECT_H
#define BH_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "policy.h"
#include "../bpf/bulkhead_abi.h"

/* ---- the policy's detect: section ------------------------------------------ */

enum bh_det_action {
	BH_DACT_ALERT = 0,	/* an alert event, nothing else */
	BH_DACT_ISOLATE,	/* quarantine, as `bulkhead isolate` */
};

/* One signal's settings. */
struct bh_det_sigpol {
	__u32 watch;		/* count of the watch level; 0: off */
	__u32 act;		/* count of the act level; 0: off */
	__u64 window;		/* seconds */
	int action;		/* enum bh_det_action, at the act level */
	__u64 duration;		/* isolate for this many seconds; 0: until released */
	int qlevel;		/* BH_QLVL_FULL or BH_QLVL_LAN */
	struct bh_pos pos;	/* its key in the policy, 0: a default */
};

struct bh_detect_policy {
	bool on;		/* the policy has a detect: section */
	struct bh_det_sigpol sig[BH_DET_KINDS];
	__u16 telnet_ports[BH_DET_PORTS];	/* 0: unused */
	char *blocklist;	/* blocklist.file: an absolute path, NULL: none */
	struct bh_pos blocklist_pos;	/* its file: key in the policy */
	__u16 *exempt_groups;	/* group ids, sorted */
	size_t n_exempt_groups;
	__u8 (*exempt_macs)[6];	/* devices by MAC or member name, sorted */
	size_t n_exempt_macs;
};

/* Defaults (docs/detect.md), detection off: what a policy without detect: has. */
void bh_detect_defaults(struct bh_detect_policy *dp);
void bh_detect_policy_free(struct bh_detect_policy *dp);

/* The policy keys of the signals ("address_scan", ...) and their names in text. */
const char *bh_det_kind_key(unsigned int kind);
const char *bh_det_kind_name(unsigned int kind);

/*
 * A read-only view of the policy loader's YAML tree, so the detect:
 * section is parsed from whatever nodes the loader keeps (policy.c's own,
 * or libyaml's yaml_document_t through bh_yview_libyaml()). Nodes are
 * opaque pointers; a NULL node is "nothing".
 */
struct bh_yview {
	void *ctx;
	int (*type)(void *ctx, const void *n);		/* YAML_SCALAR_NODE, ... ; 0: none */
	size_t (*len)(void *ctx, const void *n);	/* items of a list, pairs of a mapping */
	const void *(*item)(void *ctx, const void *list, size_t i);
	const void *(*key)(void *ctx, const void *map, size_t i);
	const void *(*val)(void *ctx, const void *map, size_t i);
	const char *(*scalar)(void *ctx, const void *n);	/* NULL: not a scalar */
	struct bh_pos (*pos)(void *ctx, const void *n);	/* 1-based line and column */
};

struct yaml_document_s;
/* @y over a libyaml document: its nodes are yaml_node_t pointers. */
void bh_yview_libyaml(struct bh_yview *y, struct yaml_document_s *doc);

/*
 * Parse the value of the policy's detect: key (@node) into @dp, after the
 * loader has read the groups and their members of @p (exemptions name
 * them). Defaults for what is not given; detection on. Errors go to @d as
 * "@file:line:col: what"; returns 0, or -EINVAL when it added any (@dp
 * then holds what was valid; free it either way), or -ENOMEM.
 */
int bh_detect_parse(const struct bh_yview *y, const void *node, const char *file,
		    const struct bh_policy *p, struct bh_detect_policy *dp, struct bh_diag *d);

/* The dataplane's form of @dp, with @salt (random, chosen once at up). */
void bh_detect_to_bpf(const struct bh_detect_policy *dp, __u32 salt, struct bh_det_cfg *out);

/* ---- grace periods: `release --for` ------------------------------------------ */

/*
 * State dir file "detect-grace", one line per device: "MAC UNTIL" (UNTIL:
 * CLOCK_REALTIME seconds). While it lasts, a signal of the device does not
 * quarantine it again (an alert instead).
 */
#define BH_GRACE_FILE	"detect-grace"
#define BH_GRACE_MAX	4096

struct bh_grace {
	__u8 mac[6];
	__u64 until;
};

/* 0 (none: an empty list) or -errno; a bad line is -EINVAL. Free *out. */
int bh_grace_load(const char *dir, struct bh_grace **out, size_t *n);
int bh_grace_save(const char *dir, const struct bh_grace *g, size_t n);
/* Set @mac's grace to end at @until (replacing its own). 0, -ENOSPC or -ENOMEM. */
int bh_grace_set(struct bh_grace **g, size_t *n, const __u8 mac[6], __u64 until);
/* Drop the ended ones (until <= @now); returns how many are left. */
size_t bh_grace_prune(struct bh_grace *g, size_t n, __u64 now);
/* When @mac's grace ends, 0 when it has none at @now. */
__u64 bh_grace_until(const struct bh_grace *g, size_t n, const __u8 mac[6], __u64 now);

/* ---- decisions ------------------------------------------------------------------ */

enum bh_det_verdict {
	BH_DV_IGNORE = 0,	/* nothing (detection off, a signal of an unknown kind) */
	BH_DV_WATCH,		/* an event and a metric */
	BH_DV_ALERT,		/* an alert event: the act level with action alert */
	BH_DV_ISOLATE,		/* quarantine it: qlevel, until, reason */
};

/* What the daemon knows of the device besides its signal. */
struct bh_det_env {
	const struct bh_detect_policy *dp;
	const struct bh_policy *policy;	/* its groups and members: the device's group */
	const struct bh_grace *grace;
	size_t n_grace;
	__u64 now;			/* CLOCK_REALTIME seconds */
	bool quarantined;		/* the device is quarantined already */
};

struct bh_det_decision {
	int verdict;		/* enum bh_det_verdict */
	int qlevel;		/* BH_QLVL_*, for BH_DV_ISOLATE */
	__u64 until;		/* CLOCK_REALTIME seconds; 0: until released */
	char reason[160];	/* "auto: port scan of 192.168.1.20, 15 ports in 12 s" */
	char note[96];		/* why not more: "exempt: group laptops", "grace until ...", "" */
};

/*
 * Decide what signal @s leads to in @env. 0, or -EINVAL for a signal that
 * is not one (kind or level out of range): then BH_DV_IGNORE.
 */
int bh_detect_decide(const struct bh_det_env *env, const struct bh_det_signal *s,
		     struct bh_det_decision *out);

/* The reason text of @s alone ("auto: ..."). */
void bh_detect_reason(const struct bh_det_signal *s, char *buf, size_t len);

#endif /* BH_DETECT_H */
