/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctl.h - the controller: what changes Bulkhead's state (up, down, apply,
 * the ports, the DHCP leases, isolate, release) and what reads the state
 * dir's record of it. The CLI (cmd_*.c), the daemon and later the
 * dashboard call this layer and nothing above it.
 *
 * Every call returns 0 or a negative errno. It may print diagnostics on
 * stderr ("bulkhead: ...", a policy's "FILE:LINE:COL: what"), never normal
 * output: what happened comes back in a report the caller prints.
 *
 * Errors that mean wrong input or wrong state (bh_err_input() is true):
 *   -EINVAL    bad input: a policy that does not validate, a bad argument
 *              (a MAC that is no device, a reason too long, a pin dir that
 *              cannot be one)
 *   -ENOENT    a file named does not exist; release: the device is not
 *              isolated; explain: no applied policy
 *   -EISDIR    a policy path that is a directory
 *   -ENODEV    Bulkhead is not up (apply, diff), or an interface the policy
 *              names does not exist
 *   -EALREADY  another daemon runs on this state dir
 * Any other -errno is a system error: -EACCES, -EPERM (permission), -EBUSY
 * (another instance's programs on the ports), -EXDEV (a pin dir off
 * bpffs), -ENOMEM, -EIO (what failed was said on stderr)...
 */
#ifndef BH_CTL_H
#define BH_CTL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "brnf_probe.h"
#include "compile.h"
#include "dataplane.h"
#include "flowlog.h"
#include "leases.h"
#include "policy.h"
#include "state.h"

#define BH_POLICY_DEFAULT	"/etc/bulkhead/policy.yaml"

#define BH_STATE_UP		"up"		/* key=value: mode, policy, counts */
#define BH_STATE_POLICY		"policy.yaml"	/* copy of the applied policy */

struct bh_ctx {
	const char *pin_dir;
	const char *state_dir;
	const char *leases;	/* --leases: overrides dhcp.leases; "off": none */
	bool leases_once;	/* --leases of up or apply: bound once, not followed */
};

/* @err (a negative errno) is wrong input or state, not a system error */
static inline bool bh_err_input(int err)
{
	return err == -EINVAL || err == -ENOENT || err == -EISDIR || err == -ENODEV ||
	       err == -EALREADY;
}

/* "bulkhead: MSG" on stderr; unless a warning, also --json's error */
void bh_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* a policy's diagnostics on stderr; the first is also --json's error */
void bh_diag_report(const struct bh_diag *d);

/* ---- guards: what a command may claim (ctl.c) ---------------------------- */

/* The state dir can be read (or does not exist yet): 0 or -errno, said. */
int bh_ctl_state_dir_ok(const char *cmd, const struct bh_ctx *ctx);
/*
 * Open the pinned maps for @cmd: 1 when open, 0 when this pin dir holds
 * none and no other instance is up on the ports (Bulkhead is down), or
 * -errno after saying why: a pin dir off bpffs or out of reach, or another
 * instance's programs on the ports.
 */
int bh_ctl_maps_open(const char *cmd, const struct bh_ctx *ctx, struct bh_maps *m);

/* ---- the state dir's record (ctl.c) --------------------------------------- */

/* The mode 'up' was given, as saved in the state dir; @mode if none. */
enum bh_mode bh_applied_mode(const struct bh_ctx *ctx, enum bh_mode mode);
/* Bulkhead was brought up with --mode nft (the state dir says so). */
bool bh_nft_in_force(const struct bh_ctx *ctx);
/* The applied policy file, re-read from the state dir's copy; NULL: none. */
struct bh_policy *bh_applied_file(const struct bh_ctx *ctx);
/* The same with the DHCP leases bound with it: what is in force. */
struct bh_policy *bh_applied_policy(const struct bh_ctx *ctx);
/* Bind the leases saved with the applied policy into @p. 0 or -errno. */
int bh_bind_saved_leases(const struct bh_ctx *ctx, struct bh_policy *p);
/*
 * Load and compile @path; on failure say why. With @l, the policy's DHCP
 * leases (--leases or dhcp.leases) are bound into it first and kept in @l.
 * -EINVAL, -ENOENT, -EISDIR: the policy; other: system.
 */
int bh_policy_compile(const struct bh_ctx *ctx, const char *path, struct bh_policy **p,
		      struct bh_compiled *c, struct bh_leases *l);
/* The DHCP lease file of the policy in force (--leases or dhcp.leases), "": none. */
void bh_leases_file(const struct bh_ctx *ctx, char *buf, size_t len);

/* ---- up, down, apply, ports (ctl_up.c) ------------------------------------ */

/* What an up (or an apply that went the full way) did, for the caller to say. */
struct bh_up_report {
	int epoch;
	bool full;			/* apply: the ports changed, or nft: a whole up */
	enum bh_mode mode;		/* the mode asked for */
	size_t n_ports;
	struct bh_attached *ports;	/* @n_ports, malloc'd */
	struct bh_brnf_probe brnf;	/* nft: what this up's br_netfilter probe saw (.ran) */
	bool progs_reused;		/* the pinned programs judge on (not verified again) */
};
void bh_up_report_free(struct bh_up_report *r);

/*
 * `up -c @path --mode @mode`: load the programs, write the maps, attach.
 * Holds the controller lock (<state dir>/lock) while it runs. @r may be NULL.
 */
int bh_up(const struct bh_ctx *ctx, const char *path, enum bh_mode mode,
	  struct bh_up_report *r);

/* What a down found. */
enum bh_down_state {
	BH_DOWN_DONE,		/* everything detached and removed */
	BH_DOWN_NO_PIN_DIR,	/* the pin dir does not exist */
	BH_DOWN_NOTHING_PINNED,	/* the pin dir held no maps: removed, tables left */
};
struct bh_down_report {
	enum bh_down_state state;
	int orphans;		/* clsact filters no pin dir held, detached */
};
int bh_down(const struct bh_ctx *ctx, struct bh_down_report *r);

/*
 * `apply @path`: atomic; a policy that does not validate changes nothing.
 * -ENODEV when Bulkhead is not up. @r may be NULL; r->full: it went through
 * a whole up (the ports changed, or --mode nft).
 */
int bh_apply(const struct bh_ctx *ctx, const char *path, struct bh_up_report *r);
/*
 * The applied policy's ports as they are now: a port added to a bridge, or
 * deleted and re-created, gets the programs, a port gone loses its pins,
 * the gateway's MACs and addresses are read again. The policy in force is
 * not touched. Nothing is done while Bulkhead is down.
 */
int bh_sync_ports(const struct bh_ctx *ctx);
/* The protected ports: the pinned links, or in --mode nft the applied
 * policy's ports (mode BH_MODE_NFT). */
int bh_ports_in_force(const struct bh_ctx *ctx, struct bh_attached **out, size_t *n);
/*
 * The lease file in force read again: when its live leases bind other
 * addresses than those in force (a lease added, moved, removed or ended),
 * `apply @path`; when only host names or lease ends changed, the saved
 * leases are replaced and nothing is applied. *applied: which.
 */
int bh_leases_update(const struct bh_ctx *ctx, const char *path, bool *applied);

/* ---- quarantine (ctl_quarantine.c) ------------------------------------------ */

/*
 * A device as given by a user: a MAC, or a member's name in the applied
 * policy. 0, or -EINVAL after saying why (prefixed with @cmd).
 */
int bh_device_mac(const struct bh_ctx *ctx, const char *cmd, const char *s, __u8 mac[6]);

struct bh_isolate_report {
	bool up;		/* enforced now; else at the next up */
	int flushed;		/* tracked flows cut */
};
/*
 * `isolate`: quarantine @mac from @since (until @until, 0: until released;
 * seconds, CLOCK_REALTIME) with @reason (NULL: none) at @level
 * (BH_QLVL_FULL: as `bulkhead isolate`; BH_QLVL_LAN: cut off from the LAN,
 * its internet traffic judged by the policy as before): enforced first,
 * then saved in the state dir. Isolating an isolated device replaces its
 * quarantine (level, end, reason). -EINVAL: not a device's MAC (multicast,
 * zero, the gateway's), a reason too long, an unknown level. @r may be NULL.
 */
int bh_isolate(const struct bh_ctx *ctx, const __u8 mac[6], const char *reason,
	       __u64 since, __u64 until, __u8 level, struct bh_isolate_report *r);
/*
 * `release @mac`: 0, -ENOENT when not isolated, or -errno. With @ended_by
 * (seconds, CLOCK_REALTIME) only a timed quarantine that ended by then is
 * released, else -ENOENT: checked under the lock.
 */
int bh_release(const struct bh_ctx *ctx, const __u8 mac[6], __u64 ended_by);

/* ---- flow records (ctl_flows.c) ------------------------------------------------ */

/* The pinned bh_flow map and its bh_flowstat, opened read-only (-1: not open). */
struct bh_flow_map {
	int flow, stat;
	__u32 max_entries;
};
/*
 * Open them: 1 when open, 0 when nothing is pinned (Bulkhead down, or a
 * dataplane that keeps no flow map), -EPROTO for a map of another ABI, or
 * another -errno. Never writes.
 */
int bh_flow_map_open(const struct bh_ctx *ctx, struct bh_flow_map *fm);
void bh_flow_map_close(struct bh_flow_map *fm);
/*
 * Every entry of bh_flow now, in a malloc'd array, and the summed
 * bh_flowstat (*have_ctr false when it could not be read). 0 or -errno.
 */
int bh_flow_map_read(const struct bh_flow_map *fm, struct bh_flow_entry **out, size_t *n,
		     struct bh_flow_ctr *ctr, bool *have_ctr);
/*
 * The daemon's drain (and down's, before the map goes): under the
 * controller lock, read the map and hand it to bh_flowlog_drain() with
 * @cfg (NULL: the applied policy's flows.keep and flows.bytes). 1 after a drain, with the history's counters
 * in @st (may be NULL); 0 when no flow map is pinned; or -errno.
 */
int bh_flows_drain(const struct bh_ctx *ctx, const struct bh_flowlog_cfg *cfg,
		   struct bh_flowlog_stats *st);

/* What the live map held when bh_flows_collect() read it. */
struct bh_flows_live {
	bool open;		/* a map was pinned */
	bool have_ctr;
	__u32 max_entries;
	size_t entries;
	struct bh_flow_ctr ctr;	/* created - entries: evicted */
};
/*
 * For `flows` and `learn`: the history (bh_flowlog_read) and what the live
 * map counted since the last drain (bh_flowlog_pending), of last seen at or
 * after @since and of device @mac (NULL: all), added to @out. Writes
 * nothing; works with Bulkhead down (the history alone: live->open false).
 * Bad history lines are in @d and out->n_bad. 0 or -errno.
 */
int bh_flows_collect(const struct bh_ctx *ctx, __u64 since, const __u8 *mac,
		     struct bh_flow_set *out, struct bh_diag *d, struct bh_flows_live *live);

/* ---- detection (ctl_detect.c, docs/detect.md) -------------------------------- */

struct bh_grace;
/*
 * `release --for`: @mac's grace period ends at @until (CLOCK_REALTIME
 * seconds): until then detection does not quarantine it again. Saved in
 * the state dir (detect-grace, the ended ones pruned at @now); the
 * device's detection state in the dataplane is forgotten. 0 or -errno.
 */
int bh_grace_start(const struct bh_ctx *ctx, const __u8 mac[6], __u64 until, __u64 now);
/* The grace periods saved, those ended by @now left out (none: 0 of them). */
int bh_grace_read(const struct bh_ctx *ctx, __u64 now, struct bh_grace **g, size_t *n);
/* Rewrite the saved list without the ended ones; *left: how many stay. */
int bh_grace_prune_saved(const struct bh_ctx *ctx, __u64 now, size_t *left);
/*
 * The blocklist file @path read again into the dataplane (bh_block): the
 * new entries written before the stale ones go, then the cached verdicts
 * invalidated. A file that cannot be read leaves the entries in force.
 * *entries: how many are in force now. -ENODEV: Bulkhead is not up.
 */
int bh_blocklist_reload(const struct bh_ctx *ctx, const char *path, size_t *entries);

#endif /* BH_CTL_H */
