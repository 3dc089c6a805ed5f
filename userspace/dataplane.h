/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dataplane.h - the controller's side of the BPF dataplane: load the
 * programs, attach them to ports as pinned bpf_links (re-adopting and
 * updating links already pinned, so there is never a moment with nothing
 * attached), and write compiled policies into the pinned maps with an
 * atomic generation flip.
 *
 * Pin layout under the pin dir (default /sys/fs/bpf/bulkhead):
 *   maps/<map name>              every map of bulkhead.bpf.c (bh_events: the
 *                                deny event ring buffer the daemon reads)
 *   links/<kind>:<ifname>        kind: xdp | tcx-in | tcx-eg | clsact-in | clsact-eg
 *                                (a "." or "%" in ifname is %-encoded)
 */
#ifndef BH_DATAPLANE_H
#define BH_DATAPLANE_H

#include "compile.h"
#include "nl.h"

#define BH_BPFFS		"/sys/fs/bpf"
#define BH_PIN_DIR_DEFAULT	BH_BPFFS "/bulkhead"

enum bh_mode {
	BH_MODE_AUTO,
	BH_MODE_XDP,
	BH_MODE_TC,
	BH_MODE_NFT,		/* no BPF program: the whole policy in nftables */
};

const char *bh_mode_name(enum bh_mode m);
int bh_mode_parse(const char *s, enum bh_mode *m);

/* File descriptors of the pinned maps (-1 when not open). */
struct bh_maps {
	int active, config, groups, devices, ips, policy, inet, talk;
	int gw_mac, gw_ip, lan, quarantine, ct, frag, stats, rulestats, devstats;
	int events, evlimit, evcpu, vepoch, vcache, devctr, clock, evslot;
	int port, macport, claim;
	int flow, flowstat;	/* flow records (issue 17) */
	int detect, detect_cfg, signals, block;	/* detection (lib/detect.h) */
	int pin, pinned;	/* MACs pinned to a port (lib/pin.h) */
};

/* What one port ended up with. */
struct bh_attached {
	int ifindex;
	char name[IF_NAMESIZE];
	enum bh_mode mode;	/* BH_MODE_XDP or BH_MODE_TC */
	bool adopted;		/* an existing pinned link was updated in place */
};

/*
 * Check that @pin_dir is (or can be created) on a bpffs. For the default
 * location under /sys/fs/bpf, mounts bpffs there when nothing is mounted.
 * 0, or -EINVAL with a message in @err.
 */
int bh_pin_dir_check(const char *pin_dir, char *err, size_t errlen);

/* Open the pinned maps. -ENOENT when Bulkhead is not up. */
int bh_maps_open(const char *pin_dir, struct bh_maps *m);
void bh_maps_close(struct bh_maps *m);

/*
 * The policy's flows.max for the next bh_dp_load() (0: BH_MAX_FLOWS). A
 * bh_flow map already pinned keeps its size (and its records) until down;
 * bh_dp_flows_size() reads the size in force. 0 or -errno.
 */
extern __u32 bh_dp_flows_max;
int bh_dp_flows_size(const struct bh_maps *m, __u32 *max);

/* Loaded programs, between bh_dp_load() and bh_dp_close(). */
struct bh_dp;

/*
 * The programs bh_dp_attach() needs in @mode, for bh_dp_load(): xdp the XDP
 * program, tc the tc ingress one, auto both (a port gets either), and every
 * BPF mode the tc egress one; nft none. Each costs its own verification.
 */
unsigned int bh_dp_progs_for(enum bh_mode mode);

/*
 * Open and load the object, reusing the maps pinned under @pin_dir (or
 * pinning new ones) and fill @m with their fds. The programs in @progs
 * (bh_dp_progs_for()) are loaded (verified) too and pinned in
 * <pin_dir>/progs for bh_dp_open_pinned(), and recorded in
 * <@state_dir>/progs; programs already pinned from this same object,
 * holding these same maps, are reused instead of verified again
 * (bh_dp_reused()). The others are not loaded (when @progs are verified
 * anew, their pins go); with no @progs (nftables judges), only the maps. Nothing is attached yet, so the
 * caller writes the policy, gateway and quarantine first. @state_dir may
 * be NULL: no reuse.
 */
int bh_dp_load(const char *pin_dir, const char *state_dir, unsigned int progs,
	       struct bh_dp **dp, struct bh_maps *m, char *err, size_t errlen);
/* true when bh_dp_load() reused the pinned programs */
bool bh_dp_reused(const struct bh_dp *dp);
/*
 * The programs the last bh_dp_load() pinned, for bh_dp_attach() on a new
 * port (no verification: milliseconds, not seconds). 0, -ENOENT when none
 * are pinned (a version before the pins, or nft mode), or -errno. Those of
 * another mode are not pinned: bh_dp_attach() says so if it needs one.
 */
int bh_dp_open_pinned(const char *pin_dir, struct bh_dp **dp);
/*
 * Attach to every port of @t in @mode: a pinned link already on the port is
 * updated in place (bpf_link_update: no gap), new ports get new pinned
 * links, and pinned links on ports no longer listed are detached last.
 * @att receives one entry per port (an array of t->n_ports).
 */
int bh_dp_attach(struct bh_dp *dp, enum bh_mode mode,
		 const struct bh_topology *t, struct bh_attached *att,
		 char *err, size_t errlen);
void bh_dp_close(struct bh_dp *dp);

/*
 * What the kernel knew before Bulkhead came up: the bridge's FDB gives the
 * port of each device heard in the last minutes (bh_port, bh_macport), so
 * a device that has been silent since gets its flooded copies. A MAC the
 * programs have placed already is left where they saw it. 0 or -errno.
 */
int bh_dp_seed(const struct bh_maps *m, const struct bh_topology *t);

/*
 * Per-port MAC pinning (bpf/lib/pin.h): bh_pin becomes exactly @n pairs of
 * a MAC and the ifindex of the one port its frames may come in by (0: a
 * port that does not exist now, so by none), and bh_pinned their number.
 * Entries no pair names are removed; the verdict cache is invalidated when
 * anything changed. 0 or -errno.
 */
struct bh_pin_pair {
	__u8 mac[6];
	__u32 ifindex;
};
int bh_dp_pins(const struct bh_maps *m, const struct bh_pin_pair *pairs, size_t n);

/* Detach every pinned link, keeping the maps (--mode nft). 0 or -errno. */
int bh_dp_detach_all(const char *pin_dir);

/*
 * clsact filters are not bpf_links: when their pins are gone (a removed
 * pin dir, a down cut short) they stay attached, judging with maps no
 * command can reach. Detach every Bulkhead clsact filter (our handle and
 * priority, a bulkhead_tc_* program) in this network namespace; the
 * number detached, or -errno.
 */
int bh_dp_clsact_sweep(void);

/* tcx attach types (Linux 6.6); libbpf 1.1 predates them */
#define BH_ATTACH_TCX_INGRESS	46
#define BH_ATTACH_TCX_EGRESS	47

/*
 * The program of Bulkhead's clsact filter slot (its handle and priority) on
 * @ifindex, whoever's it is: 0 and *@prog_id, -ENOENT when none, -errno.
 */
int bh_dp_clsact_prog(int ifindex, bool ingress, __u32 *prog_id);

/*
 * The same for the filters whose program no pin dir on BH_BPFFS marks as
 * its own (the pin dir was removed by hand): an instance that is up keeps
 * its filters. The number detached, or -errno.
 */
int bh_dp_clsact_orphans(void);

/* Detach every pinned link and remove the pin dir. */
int bh_dp_down(const char *pin_dir, char *err, size_t errlen);

/*
 * Write @c under the inactive generation, flip, wait for running programs,
 * delete the old generation. A failure before the flip leaves the old
 * policy in force (the partial new generation is removed next time).
 * Returns the new epoch (> 0) or -errno.
 */
int bh_dp_apply(const struct bh_maps *m, const struct bh_compiled *c,
		char *err, size_t errlen);

/*
 * true (the default): map writes, purges and key walks use
 * BPF_MAP_*_BATCH where the kernel has them. false: one entry per syscall,
 * the path of kernels and map types without them (tests set it to run
 * that path on this kernel too).
 */
extern bool bh_dp_batch;

/* A device's counter slot in bh_devctr (bulkhead_abi.h). */
struct bh_dev_slot {
	__u8 mac[6];
	__u32 slot;
};

/*
 * Generation @gen's devices that have a counter slot, sorted by MAC, in a
 * malloc'd array. 0 or -errno.
 */
int bh_dp_dev_slots(const struct bh_maps *m, __u8 gen, struct bh_dev_slot **out, size_t *n);

/* Replace the gateway MAC / address / prefix maps with @t's. */
int bh_dp_set_gateway(const struct bh_maps *m, const struct bh_topology *t);

/* Ports currently attached, from the link pins. */
int bh_dp_links(const char *pin_dir, struct bh_attached **out, size_t *n);

/*
 * Invalidate every cached flow verdict (bump bh_vepoch). The bh_dp_*
 * writers below call it after their writes; anything else that changes a
 * map a verdict depends on (other than through bh_dp_apply, whose flip
 * moves bh_active.epoch) must call it after its write. 0 or -errno.
 */
int bh_dp_invalidate(const struct bh_maps *m);

/* Quarantine: in force when these return (live flows: bh_dp_ct_flush_mac). */
int bh_dp_isolate(const struct bh_maps *m, const __u8 mac[6], __u64 since,
		  __u64 until, __u8 level);
int bh_dp_release(const struct bh_maps *m, const __u8 mac[6]);
/*
 * Delete every connection-tracking entry of @mac; returns how many. With
 * @addrs (an empty set: NULL, 0), the addresses @mac used in them are
 * collected there (the caller frees *@addrs).
 */
int bh_dp_ct_flush_mac(const struct bh_maps *m, const __u8 mac[6],
		       struct bh_addr **addrs, size_t *n_addrs);

/*
 * A set of addresses in a growing array: add the 16-byte address @a unless
 * it is in already. 0 or -ENOMEM.
 */
int bh_addr_set_add(struct bh_addr **set, size_t *n, size_t *cap, const __u8 *a);

/* Sum a per-CPU counter. */
int bh_dp_counter(int map_fd, __u32 key, struct bh_counter *out);

#endif /* BH_DATAPLANE_H */
