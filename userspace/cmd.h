/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cmd.h - the subcommands of `bulkhead`, one group a file, as main.c's
 * command table calls them: each returns 0 or -errno (ctl.h), which main
 * maps to the exit status (cli.h).
 */
#ifndef BH_CMD_H
#define BH_CMD_H

#include "cli.h"

/* cmd_up.c */
int do_up(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
int do_down(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
int do_daemon(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
/* cmd_policy.c */
int do_check(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
int do_apply(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
int do_diff(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
/* cmd_quarantine.c */
int do_isolate(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
int do_release(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
/* cmd_status.c */
int do_status(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
int do_devices(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
/* cmd_explain.c */
int do_explain(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
/* cmd_events.c */
int do_events(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
/* cmd_flows.c */
int do_flows(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
int do_learn(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);

#endif /* BH_CMD_H */
