/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cli.h - what every subcommand of `bulkhead` shares: its entry in the
 * command table, its options declared as a table (one parser reads argv
 * from it and writes the usage text from it), and the one mapping from
 * -errno to the exit status.
 */
#ifndef BH_CLI_H
#define BH_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl.h"

/* Exit status: 0 success, 1 bad input or wrong state, 2 system error */
#define BH_EXIT_OK	0
#define BH_EXIT_INPUT	1
#define BH_EXIT_SYSTEM	2

/* The exit status of a command that returned @err (0 or -errno, ctl.h). */
int bh_exit_code(int err);

struct bh_cmd {
	const char *name;
	/* 0 or -errno; argv[0] is the command's name */
	int (*run)(const struct bh_cmd *self, const struct bh_ctx *ctx, int argc, char **argv);
	const char *summary;	/* one line */
};

enum bh_opt_arg {
	BH_OPT_FLAG,		/* no argument: a bool set true */
	BH_OPT_VALUE,		/* one argument: a const char *, or @parse's */
};

struct bh_opt {
	const char *name;	/* --name */
	char short_name;	/* -x; 0: none */
	enum bh_opt_arg arg;
	const char *metavar;	/* the argument in the usage: POLICY */
	const char *help;	/* lines after the first indented; NULL: not listed */
	size_t off;		/* where it goes in the command's options struct */
	/* NULL: store; else parse @arg (NULL for a flag) into @dst, or say
	 * why not ("CMD: ...") and return -EINVAL */
	int (*parse)(const char *cmd, const char *arg, void *dst);
};

#define BH_OPT_BOOL(lname, sname, type, field, text) \
	{ .name = lname, .short_name = sname, .arg = BH_OPT_FLAG, \
	  .off = offsetof(type, field), .help = text }
#define BH_OPT_STR(lname, sname, meta, type, field, text) \
	{ .name = lname, .short_name = sname, .arg = BH_OPT_VALUE, .metavar = meta, \
	  .off = offsetof(type, field), .help = text }
#define BH_OPT_FN(lname, sname, meta, type, field, fn, text) \
	{ .name = lname, .short_name = sname, .arg = meta ? BH_OPT_VALUE : BH_OPT_FLAG, \
	  .metavar = meta, .off = offsetof(type, field), .parse = fn, .help = text }
#define BH_OPT_END	{ .name = NULL }

/* What a command takes, besides its name and summary. */
struct bh_cmd_spec {
	const char *synopsis;		/* after "bulkhead NAME " */
	const struct bh_opt *opts;	/* ends with BH_OPT_END; --help is implied */
	int min_args, max_args;		/* operands; max -1: any number */
	const char *help;		/* the text after the options */
};

/*
 * Parse @argv (argv[0]: the command) by @s into the struct at @dst. 0 with
 * @argc and @argv the operands; 1 after --help printed the usage (exit 0); or
 * -EINVAL after an error said, with the usage on stderr for a wrong
 * option or a wrong number of operands.
 */
int bh_cmd_parse(const struct bh_cmd *c, const struct bh_cmd_spec *s, void *dst,
		 int *argc, char ***argv);
/* "Usage: bulkhead NAME SYNOPSIS", the summary, the options, the help */
void bh_cmd_usage(const struct bh_cmd *c, const struct bh_cmd_spec *s, FILE *f);
/* The usage on stderr, for a wrong operand: -EINVAL */
int bh_cmd_usage_err(const struct bh_cmd *c, const struct bh_cmd_spec *s);

/* option parsers shared by several commands */
int bh_opt_json(const char *cmd, const char *arg, void *dst);	/* bool, and --json's errors */
struct bh_mode_arg {
	enum bh_mode mode;
	bool set;		/* --mode was given */
};
int bh_opt_mode(const char *cmd, const char *arg, void *dst);	/* struct bh_mode_arg */
int bh_opt_leases(const char *cmd, const char *arg, void *dst);	/* FILE made absolute, or off */

/*
 * ", bridged IPv4/IPv6 reach table inet (probe)": what the br_netfilter
 * probe's @families (bh_brnf_probe_families(), as the state dir keeps
 * them) say; nothing for "" or NULL (no probe ran).
 */
void bh_print_brnf(const char *families);
/* "bulkhead: up, policy PATH (epoch N), N ports: ..." and the kernel's line */
void bh_print_up(const char *path, const struct bh_up_report *r);

#endif /* BH_CLI_H */
