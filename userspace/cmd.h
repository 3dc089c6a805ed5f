/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmd.h - the subcommands of `bulkhead`. Each returns the process exit code:
 * 0 success, 1 bad input (policy, arguments), 2 system error.
 */
#ifndef BH_CMD_H
#define BH_CMD_H

#include <stdbool.h>

#define BH_EXIT_OK	0
#define BH_EXIT_INPUT	1
#define BH_EXIT_SYSTEM	2

#define BH_POLICY_DEFAULT	"/etc/bulkhead/policy.yaml"

struct bh_ctx {
	const char *pin_dir;
	const char *state_dir;
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

#endif /* BH_CMD_H */
