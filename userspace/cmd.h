/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmd.h - the subcommands of `bulkhead`. Each returns the process exit code:
 * 0 success, 1 bad input or wrong state (policy, arguments, not up), 2
 * system error (also: permission denied, a pin dir off bpffs, another
 * instance on the ports).
 */
#ifndef BH_CMD_H
#define BH_CMD_H

#include <stdbool.h>
#include <linux/types.h>

#include "dataplane.h"

#define BH_EXIT_OK	0
#define BH_EXIT_INPUT	1
#define BH_EXIT_SYSTEM	2

#define BH_POLICY_DEFAULT	"/etc/bulkhead/policy.yaml"

struct bh_ctx {
	const char *pin_dir;
	const char *state_dir;
	const char *leases;	/* --leases: overrides dhcp.leases; "off": none */
	bool leases_once;	/* --leases of up or apply: bound once, not followed */
};

struct bh_cmd {
	const char *name;
	int (*run)(const struct bh_ctx *ctx, int argc, char **argv);
	const char *usage;	/* arguments, after the command name */
	const char *summary;	/* one line */
	const char *help;	/* the rest of --help */
};

extern const struct bh_cmd bh_cmds[];

void bh_cmd_usage(const struct bh_cmd *c, bool err);

/*
 * What the subcommands do, callable by the daemon. Each holds the
 * controller lock (<state dir>/lock) while it runs and releases it when it
 * returns, prints its errors on stderr, and with @quiet prints nothing else.
 */
/* `up -c @path --mode @mode`; returns an exit code. */
int bh_up(const struct bh_ctx *ctx, const char *path, enum bh_mode mode, bool quiet);
/* `apply @path`: atomic; a policy that does not validate changes nothing. */
int bh_apply(const struct bh_ctx *ctx, const char *path, bool quiet);
/*
 * The applied policy's ports as they are now: a port added to a bridge, or
 * deleted and re-created, gets the programs, a port gone loses its pins,
 * the gateway's MACs and addresses are read again. The policy in force is
 * not touched. Nothing is done while Bulkhead is down. Exit code.
 */
int bh_sync_ports(const struct bh_ctx *ctx);

/* The protected ports: the pinned links, or in --mode nft the applied
 * policy's ports (mode BH_MODE_NFT). 0 or -errno. */
int bh_ports_in_force(const struct bh_ctx *ctx, struct bh_attached **out, size_t *n);
/* The DHCP lease file of the policy in force (--leases or dhcp.leases), "": none. */
void bh_leases_file(const struct bh_ctx *ctx, char *buf, size_t len);
/*
 * The lease file in force read again: when its live leases bind other
 * addresses than those in force (a lease added, moved, removed or ended),
 * `apply @path`; when only host names or lease ends changed, the saved
 * leases are replaced and nothing is applied. Exit code; *applied: which.
 */
int bh_leases_update(const struct bh_ctx *ctx, const char *path, bool *applied);

/*
 * `release @mac`: 0, -ENOENT when not isolated, or -errno. With @ended_by
 * (seconds, CLOCK_REALTIME) only a timed quarantine that ended by then is
 * released, else -ENOENT: checked under the lock.
 */
int bh_release(const struct bh_ctx *ctx, const __u8 mac[6], __u64 ended_by);

/* Bulkhead was brought up with --mode nft (the state dir says so). */
bool bh_nft_in_force(const struct bh_ctx *ctx);

#endif /* BH_CMD_H */
